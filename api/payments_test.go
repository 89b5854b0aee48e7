package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/finance"
	"github.com/tradeloop/tradeloop/workflows"
)

// Finance lists the payments of every deal: a completed deal's charges
// and payout and a refunded one's refund, their totals by kind, status
// and currency matching the deals' own payments, filters that narrow
// them, pages that walk them once each; the parties may not, and a
// filter no payment could match is refused by name.
func TestFinanceListsPaymentsAcrossDeals(t *testing.T) {
	p := newPlatform(t)
	done := p.delivered("GOODS-P1")
	p.must(200, p.do("buyer", "POST", p.path(done, "/accept"), nil))
	completed := p.waitFor("finance", done, func(s workflows.DealState) bool { return s.Stage == workflows.StageCompleted && s.Escrow.Held == 0 })
	refunded := p.delivered("GOODS-P2")
	p.must(200, p.do("buyer", "POST", p.path(refunded, "/dispute"), map[string]any{"reason": "wrong colour"}))
	p.must(200, p.do("buyer", "POST", p.path(refunded, "/dispute/escalate"), nil))
	p.must(200, p.do("mediator", "POST", p.path(refunded, "/dispute/decision"), map[string]any{"outcome": "refund"}))
	resolved := p.waitFor("finance", refunded, func(s workflows.DealState) bool {
		for _, pay := range s.Payments {
			if pay.Kind == workflows.PaymentRefund && pay.Status == workflows.PaymentSucceeded {
				return s.Escrow.Held == 0
			}
		}
		return false
	})

	day := url.Values{"from": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}, "to": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}
	list := func(who string, q url.Values) (finance.PaymentPage, response) {
		t.Helper()
		var page finance.PaymentPage
		res := p.do(who, "GET", "/v1/payments?"+q.Encode(), nil)
		if res.status == http.StatusOK {
			res.json(t, &page)
		}
		return page, res
	}
	with := func(kv ...string) url.Values {
		q := url.Values{"from": day["from"], "to": day["to"]}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}

	all, res := list("finance", with())
	if res.status != http.StatusOK {
		t.Fatalf("finance's list: %d %s", res.status, res.body)
	}
	want := map[string]workflows.Payment{}
	for _, st := range []workflows.DealState{completed, resolved} {
		for _, pay := range st.Payments {
			want[st.DealID+"/"+pay.ID] = pay
		}
	}
	if len(all.Payments) != len(want) || all.Next != "" {
		t.Fatalf("listed %d payments (next %q), the deals made %d", len(all.Payments), all.Next, len(want))
	}
	sums := map[string]int64{}
	for i, got := range all.Payments {
		w, ok := want[got.DealID+"/"+got.ID]
		if !ok || got.Amount != w.Amount || got.Kind != string(w.Kind) || got.Status != string(w.Status) || got.Currency != w.Currency {
			t.Errorf("listed %+v, the deal has %+v", got, w)
		}
		if i > 0 && got.CreatedAt.After(all.Payments[i-1].CreatedAt) {
			t.Errorf("not newest first at %d", i)
		}
		sums[got.Kind+"/"+got.Status+"/"+got.Currency] += got.Amount
	}
	for _, tot := range all.Totals {
		if sums[tot.Kind+"/"+tot.Status+"/"+tot.Currency] != tot.Amount {
			t.Errorf("total %+v, the lines sum to %d", tot, sums[tot.Kind+"/"+tot.Status+"/"+tot.Currency])
		}
		delete(sums, tot.Kind+"/"+tot.Status+"/"+tot.Currency)
	}
	if len(sums) != 0 {
		t.Errorf("lines without a total: %v", sums)
	}

	// Filters: a deal's refunds, a deal's charges.
	refunds, _ := list("finance", with("kind", "refund"))
	var refundedSum int64
	for _, r := range refunds.Payments {
		if r.DealID != refunded {
			t.Errorf("a refund of another deal: %+v", r)
		}
		refundedSum += r.Amount
	}
	if len(refunds.Payments) != 2 || refundedSum != resolved.Total {
		t.Errorf("the refunds (deposit and balance): %+v, %d of the refunded deal's %d", refunds.Payments, refundedSum, resolved.Total)
	}
	charges, _ := list("finance", with("kind", "charge", "deal", done, "status", "succeeded"))
	var charged int64
	for _, c := range charges.Payments {
		charged += c.Amount
	}
	if len(charges.Payments) != 2 || charged != completed.Total {
		t.Errorf("the completed deal's charges: %+v, %d of %d", charges.Payments, charged, completed.Total)
	}

	// Pages of one walk every payment once, with the same totals.
	seen := map[string]bool{}
	for q, pages := with("limit", "1"), 0; ; pages++ {
		page, res := list("finance", q)
		if res.status != http.StatusOK || len(page.Payments) != 1 || pages > len(want) {
			t.Fatalf("page %d: %d %+v", pages, res.status, page)
		}
		key := page.Payments[0].DealID + "/" + page.Payments[0].ID
		if seen[key] {
			t.Fatalf("%s listed twice", key)
		}
		seen[key] = true
		if len(page.Totals) != len(all.Totals) {
			t.Fatalf("a page's totals %+v, the list's %+v", page.Totals, all.Totals)
		}
		if page.Next == "" {
			break
		}
		q.Set("cursor", page.Next)
	}
	if len(seen) != len(want) {
		t.Fatalf("the pages listed %d of %d", len(seen), len(want))
	}

	// Only finance and admins.
	for _, who := range []string{"buyer", "supplier", "mediator"} {
		if _, res := list(who, with()); res.status != http.StatusForbidden {
			t.Errorf("%s lists payments: %d", who, res.status)
		}
	}
	if _, res := list("admin", with()); res.status != http.StatusOK {
		t.Errorf("an admin's list: %d", res.status)
	}

	// Hostile filters, refused by name.
	for field, q := range map[string]url.Values{
		"from":     {"to": day["to"]},
		"to":       {"from": day["to"], "to": day["from"]},
		"kind":     with("kind", "bogus"),
		"status":   with("status", "succeeded\x00"),
		"step":     with("step", strings.Repeat("deposit", 1000)),
		"currency": with("currency", "XXX"),
		"deal":     with("deal", "deal-1' OR '1'='1"),
		"cursor":   with("cursor", strings.Repeat("A", 5000)),
		"limit":    with("limit", "100000"),
	} {
		_, res := list("finance", q)
		var e struct {
			Error struct {
				Details struct{ Field string } `json:"details"`
			} `json:"error"`
		}
		if res.status == http.StatusUnprocessableEntity {
			res.json(t, &e)
		}
		if res.status != http.StatusUnprocessableEntity || e.Error.Details.Field != field {
			t.Errorf("a bad %s: %d %s", field, res.status, res.body)
		}
	}
	year := url.Values{"from": {"2025-01-01T00:00:00Z"}, "to": {"2026-06-01T00:00:00Z"}}
	if _, res := list("finance", year); res.status != http.StatusUnprocessableEntity {
		t.Errorf("a range over a year: %d", res.status)
	}
}
