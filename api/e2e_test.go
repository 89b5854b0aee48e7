package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/workflows"
)

// A deal with a sample, from inquiry to completion, over HTTP as the
// buyer's and the supplier's keys, then audited through finance's routes.
func TestDealWithSampleToCompletionOverHTTP(t *testing.T) {
	p := newPlatform(t)
	id := p.newDeal(true, "supplier")
	var st workflows.DealState
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
	if st.Quotes[0].Total != 780_000 {
		t.Fatalf("quote total %d", st.Quotes[0].Total)
	}
	p.must(200, p.do("buyer", "POST", p.path(id, "/quotes/"+st.Quotes[0].ID+"/accept"), nil))
	var pay struct {
		Deal    workflows.DealState
		Payment struct {
			ID      string
			Status  string
			Sandbox bool
		}
	}
	p.must(200, p.do("buyer", "POST", p.path(id, "/payments/sample"), nil)).json(t, &pay)
	if pay.Payment.Status != "succeeded" || !pay.Payment.Sandbox {
		t.Fatalf("sample payment %+v", pay.Payment)
	}
	p.mem.Script("SAMPLE-1", activities.TrackDelivered)
	p.must(200, p.do("supplier", "POST", p.path(id, "/sample/ship"), map[string]string{"carrier": "ups", "tracking_number": "SAMPLE-1"}))
	p.waitFor("buyer", id, func(s workflows.DealState) bool { return s.Sample.Status == workflows.SampleDelivered })
	p.must(200, p.do("buyer", "POST", p.path(id, "/sample/approve"), map[string]string{"note": "good"})).json(t, &st)
	hash := st.Contract.TermsSHA256
	p.must(200, p.do("buyer", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": hash}))
	p.must(200, p.do("supplier", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": hash}))
	p.must(200, p.do("buyer", "POST", p.path(id, "/payments/deposit"), nil))
	p.must(200, p.do("supplier", "POST", p.path(id, "/production"), map[string]any{"percent": 50}))
	p.must(200, p.do("supplier", "POST", p.path(id, "/ready"), nil))
	p.must(200, p.do("buyer", "POST", p.path(id, "/payments/balance"), nil))
	p.mem.Script("GOODS-1", activities.TrackDelivered)
	p.must(200, p.do("supplier", "POST", p.path(id, "/shipment"), map[string]string{"carrier": "dhl", "tracking_number": "GOODS-1"}))
	p.waitFor("buyer", id, func(s workflows.DealState) bool { return s.Stage == workflows.StageInspection })
	p.must(200, p.do("buyer", "POST", p.path(id, "/accept"), nil))

	final := p.waitFor("finance", id, func(s workflows.DealState) bool { return s.Resolution != nil && s.Resolution.Done })
	if final.Stage != workflows.StageCompleted {
		t.Fatalf("stage %s", final.Stage)
	}
	var pays struct {
		Escrow   workflows.Escrow
		Payments []workflows.Payment
	}
	p.must(200, p.do("finance", "GET", p.path(id, "/payments"), nil)).json(t, &pays)
	// 780,000 goods + 2,500 sample released; gold: 200 bp per charge.
	if want := (workflows.Escrow{Released: 782_500, Commission: 15_650}); pays.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", pays.Escrow, want)
	}
	if len(pays.Payments) != 6 {
		t.Fatalf("%d payments, want 3 charges and 3 transfers", len(pays.Payments))
	}
	p.balance("escrow:"+id, "USD", 0)
	p.balance("supplier:"+p.orgs["supplier"].String(), "USD", 782_500-15_650)
	p.balance("platform:commission", "USD", 15_650)

	from, to := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	r := p.must(200, p.do("finance", "GET", "/v1/ledger/export.csv?from="+from+"&to="+to, nil))
	rows, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil || len(rows) < 2 || rows[0][0] != "posting_id" {
		t.Fatalf("export: %v %q", err, r.body)
	}
	var sum int64
	for _, row := range rows[1:] {
		if row[3] == id {
			var n int64
			for _, ch := range strings.TrimPrefix(row[8], "-") {
				n = n*10 + int64(ch-'0')
			}
			if strings.HasPrefix(row[8], "-") {
				n = -n
			}
			sum += n
		}
	}
	if sum != 0 {
		t.Fatalf("the deal's exported lines sum to %d, not zero", sum)
	}
	var timeline struct{ Events []workflows.Event }
	p.must(200, p.do("buyer", "GET", p.path(id, "/timeline"), nil)).json(t, &timeline)
	if len(timeline.Events) != len(final.Timeline) {
		t.Fatalf("timeline %d events, deal has %d", len(timeline.Events), len(final.Timeline))
	}

	// The buyer rates the supplier once.
	p.must(201, p.do("buyer", "POST", p.path(id, "/rating"), map[string]any{"stars": 4, "comment": "on time"}))
	if r := p.do("buyer", "POST", p.path(id, "/rating"), map[string]any{"stars": 1}); r.status != 409 || r.errCode() != "already_rated" {
		t.Fatalf("second rating: %d %s", r.status, r.body)
	}
	// The funnel of today counts the deal, its GMV and the commission the
	// ledger booked on it (sample included).
	var f struct {
		Inquiries      int64
		CompletionRate struct{ Count, Of int64 } `json:"completion_rate"`
		Money          []struct {
			Currency   string
			GMV        int64 `json:"gmv"`
			Commission int64 `json:"commission_revenue"`
		}
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// The read model follows the workflow within moments.
		p.must(200, p.do("finance", "GET", "/v1/metrics/funnel?from="+from+"&to="+to, nil)).json(t, &f)
		if f.CompletionRate.Count == 1 {
			break
		}
	}
	if f.Inquiries != 1 || f.CompletionRate.Count != 1 || f.CompletionRate.Of != 1 || len(f.Money) != 1 ||
		f.Money[0].GMV != 780_000 || f.Money[0].Commission != 15_650 {
		t.Fatalf("funnel %+v", f)
	}
}

func (p *platform) balance(account, currency string, want int64) {
	p.t.Helper()
	var acct struct {
		Balances []struct {
			Currency string
			Amount   int64
		}
	}
	p.must(200, p.do("finance", "GET", "/v1/ledger/accounts/"+account, nil)).json(p.t, &acct)
	var got int64
	for _, b := range acct.Balances {
		if b.Currency == currency {
			got = b.Amount
		}
	}
	if got != want {
		p.t.Errorf("%s = %d %s, want %d", account, got, currency, want)
	}
}

// A disputed deal decided by the mediator with a split.
// delivered is a deal of the buyer's, quoted by the supplier (2,000 at
// USD 3.90: USD 7,800.00 held in escrow once paid) and invited with
// supplier2, taken through the API to its goods delivered under tracking
// number tracking, waiting for the buyer's inspection.
func (p *platform) delivered(tracking string) string {
	p.t.Helper()
	id := p.newDeal(false, "supplier", "supplier2")
	var st workflows.DealState
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(p.t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/quotes/"+st.Quotes[0].ID+"/accept"), nil)).json(p.t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	p.must(200, p.do("supplier", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	p.must(200, p.do("buyer", "POST", p.path(id, "/payments/deposit"), nil))
	p.must(200, p.do("supplier", "POST", p.path(id, "/ready"), nil))
	p.must(200, p.do("buyer", "POST", p.path(id, "/payments/balance"), nil))
	p.mem.Script(tracking, activities.TrackDelivered)
	p.must(200, p.do("supplier", "POST", p.path(id, "/shipment"), map[string]string{"carrier": "dhl", "tracking_number": tracking}))
	p.waitFor("buyer", id, func(s workflows.DealState) bool { return s.Stage == workflows.StageInspection })
	return id
}

func TestDisputeDecidedByMediatorOverHTTP(t *testing.T) {
	p := newPlatform(t)
	id := p.delivered("GOODS-2")
	var st workflows.DealState

	// Before the dispute the mediator cannot see the deal at all.
	p.must(404, p.do("mediator", "GET", p.path(id, ""), nil))
	p.must(200, p.do("buyer", "POST", p.path(id, "/dispute"), map[string]any{"reason": "wrong colour", "remedy": "half refund", "evidence": []string{"photo-1"}}))
	p.must(200, p.do("supplier", "POST", p.path(id, "/dispute/answer"), map[string]string{"message": "colour as sampled"}))
	// Nor while the parties still talk: a dispute reaches mediators once
	// it is escalated.
	p.must(404, p.do("mediator", "POST", p.path(id, "/dispute/decision"), map[string]any{"outcome": "refund"}))
	p.must(404, p.do("mediator", "GET", p.path(id, ""), nil))
	p.must(200, p.do("buyer", "POST", p.path(id, "/dispute/escalate"), nil))
	p.must(200, p.do("mediator", "GET", p.path(id, ""), nil))
	p.must(422, p.do("mediator", "POST", p.path(id, "/dispute/decision"), map[string]any{"outcome": "split", "release_amount": 780_000}))
	p.must(200, p.do("mediator", "POST", p.path(id, "/dispute/decision"), map[string]any{"outcome": "split", "release_amount": 500_000})).json(t, &st)
	if st.Stage != workflows.StageResolved || st.Dispute.Decision.ReleaseAmount != 500_000 {
		t.Fatalf("stage %s dispute %+v", st.Stage, st.Dispute)
	}
	// The mediator who decided still sees the case. Sending the decision
	// again (its answer lost) gets the same answer; another decision, 409.
	p.must(200, p.do("mediator", "GET", p.path(id, ""), nil))
	var again workflows.DealState
	p.must(200, p.do("mediator", "POST", p.path(id, "/dispute/decision"), map[string]any{"outcome": "split", "release_amount": 500_000})).json(t, &again)
	if again.Dispute == nil || again.Dispute.Decision == nil || again.Dispute.Decision.ReleaseAmount != 500_000 {
		t.Fatalf("the repeated decision answers %+v", again.Dispute)
	}
	p.must(409, p.do("mediator", "POST", p.path(id, "/dispute/decision"), map[string]any{"outcome": "refund"}))
	final := p.waitFor("finance", id, func(s workflows.DealState) bool { return s.Resolution != nil && s.Resolution.Done })
	if want := (workflows.Escrow{Released: 500_000, Commission: 10_000, Refunded: 280_000}); final.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", final.Escrow, want)
	}
	p.balance("escrow:"+id, "USD", 0)
	p.balance("supplier:"+p.orgs["supplier"].String(), "USD", 490_000)
	p.balance("buyer:"+p.orgs["buyer"].String(), "USD", -500_000)
	p.must(http.StatusConflict, p.do("buyer", "POST", p.path(id, "/cancel"), nil))
}

// A mediator's decision is a signal, whose change the deal's bookkeeping
// writes to the read model, not the API: the decision's answer still
// waits until the read model has it, so the mediator, and the page the
// console shows next, read the decision just made. The worker's writes are
// held until the workflow has decided, long enough for an answer that did
// not wait to come and show the old stage.
func TestAMediatorReadsTheDecisionJustMade(t *testing.T) {
	p := newPlatform(t)
	id := p.delivered("GOODS-4")
	p.must(200, p.do("buyer", "POST", p.path(id, "/dispute"), map[string]any{"reason": "wrong colour"}))
	p.must(200, p.do("buyer", "POST", p.path(id, "/dispute/escalate"), nil))
	release := p.projections.hold()
	defer release()
	type reads struct {
		status        int
		answer, after workflows.DealState
		errs          []error
	}
	done := make(chan reads, 1)
	go func() {
		var r reads
		res := p.do("mediator", "POST", p.path(id, "/dispute/decision"), map[string]any{"outcome": "refund"})
		r.status = res.status
		r.errs = append(r.errs, json.Unmarshal(res.body, &r.answer))
		r.errs = append(r.errs, json.Unmarshal(p.do("mediator", "GET", p.path(id, ""), nil).body, &r.after))
		done <- r
	}()
	wf := func() workflows.DealState {
		v, err := p.tc.Client.QueryWorkflow(context.Background(), workflows.DealWorkflowID(id), "", workflows.QueryState)
		if err != nil {
			t.Fatal(err)
		}
		var st workflows.DealState
		if err := v.Get(&st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	for wf().Stage != workflows.StageResolved {
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case <-p.projections.tried:
	case <-time.After(time.Minute):
		t.Fatal("the workflow wrote nothing of its decision to the read model")
	}
	// The wait gives an answer that does not wait for the read model the
	// time to come; a right answer waits up to 10 s, far longer.
	time.Sleep(300 * time.Millisecond)
	release()
	r := <-done
	if r.status != http.StatusOK || errors.Join(r.errs...) != nil {
		t.Fatalf("the decision: %d %v", r.status, errors.Join(r.errs...))
	}
	for name, st := range map[string]workflows.DealState{"its answer": r.answer, "the deal read next": r.after} {
		if st.Stage != workflows.StageResolved || st.Dispute == nil || st.Dispute.Decision == nil || st.Dispute.Decision.Outcome != workflows.OutcomeRefund {
			t.Errorf("%s: %s %+v", name, st.Stage, st.Dispute)
		}
	}
}
