package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/workflows"
)

// countingProvider counts the provider's refunds and transfers by
// idempotency key: the memory provider, idempotent by key, cannot tell a
// repeated call from one.
type countingProvider struct {
	*activities.Memory
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingProvider) count(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[key]++
}

func (c *countingProvider) Refund(ctx context.Context, in activities.RefundInput) (activities.RefundResult, error) {
	c.count(in.IdempotencyKey)
	return c.Memory.Refund(ctx, in)
}

func (c *countingProvider) Transfer(ctx context.Context, in activities.TransferInput) (activities.TransferResult, error) {
	c.count(in.IdempotencyKey)
	return c.Memory.Transfer(ctx, in)
}

func (c *countingProvider) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

type findings struct {
	Findings []struct {
		Kind         string
		DealID       string `json:"deal_id"`
		Currency     string
		LedgerAmount int64 `json:"ledger_amount"`
		DealAmount   int64 `json:"deal_amount"`
	}
	Resolved int
}

// A deal's workflow is terminated with its deposit in escrow: the watchdog
// lists it in one run, finance's override refunds it from the ledger's
// figures (one refund at the provider, the ledger balanced, the audit and
// timeline written), the next run resolves the finding, and a second
// override moves nothing.
func TestOverrideSettlesADealKilledWithMoneyInEscrow(t *testing.T) {
	p := newPlatform(t)
	ctx := context.Background()
	id := p.newDeal(false, "supplier")
	var st workflows.DealState
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/quotes/"+st.Quotes[0].ID+"/accept"), nil)).json(t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	p.must(200, p.do("supplier", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	p.must(200, p.do("buyer", "POST", p.path(id, "/payments/deposit"), nil))
	// The deposit (30 % of 780,000) is in escrow and the read model knows it.
	reads := readmodel.New(p.pool)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		rm, err := reads.Deal(ctx, id)
		if err == nil && rm.Stage == workflows.StageProduction && len(rm.Payments) == 1 && rm.Payments[0].Posted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the read model never showed the deposit in escrow: %+v %v", rm.Payments, err)
		}
	}
	p.balance("escrow:"+id, "USD", 234_000)

	// Nothing to find while the deal runs, and no override of a running deal.
	var f findings
	p.must(200, p.do("finance", "POST", "/v1/escrow/check", nil)).json(t, &f)
	if len(f.Findings) != 0 {
		t.Fatalf("findings on a running deal: %+v", f)
	}
	if r := p.do("finance", "POST", p.path(id, "/override"), map[string]any{"outcome": "refund", "reason": "test"}); r.status != 409 || r.errCode() != "wrong_stage" {
		t.Fatalf("override of a running deal: %d %s", r.status, r.body)
	}

	if err := p.tc.Client.TerminateWorkflow(ctx, workflows.DealWorkflowID(id), "", "test: the deal's workflow is lost"); err != nil {
		t.Fatal(err)
	}

	// One watchdog run lists it, as an open alert and a metric.
	p.must(200, p.do("finance", "POST", "/v1/escrow/check", nil)).json(t, &f)
	if len(f.Findings) != 1 || f.Findings[0].Kind != activities.AlertEscrowWithoutDeal || f.Findings[0].DealID != id ||
		f.Findings[0].Currency != "USD" || f.Findings[0].LedgerAmount != 234_000 || f.Findings[0].DealAmount != 234_000 {
		t.Fatalf("watchdog findings %+v", f)
	}
	var listed findings
	p.must(200, p.do("admin", "GET", "/v1/escrow/findings", nil)).json(t, &listed)
	if len(listed.Findings) != 1 || listed.Findings[0].DealID != id {
		t.Fatalf("GET findings %+v", listed)
	}
	var alerts struct {
		Alerts []struct {
			Kind, DealID string
			Open         bool
		}
	}
	p.must(200, p.do("finance", "GET", "/v1/alerts?status=open", nil)).json(t, &alerts)
	if len(alerts.Alerts) != 1 || !alerts.Alerts[0].Open || alerts.Alerts[0].Kind != activities.AlertEscrowWithoutDeal {
		t.Fatalf("open alerts %+v", alerts)
	}
	if m := p.metrics(); !strings.Contains(m, `tradeloop_finance_alerts_open{kind="escrow_without_deal"} 1`) {
		t.Fatalf("metrics without the open finding:\n%s", m)
	}

	// Only finance and admins; bad orders change nothing.
	for _, who := range []string{"buyer", "supplier", "mediator"} {
		p.must(403, p.do(who, "POST", p.path(id, "/override"), map[string]any{"outcome": "refund", "reason": "mine"}))
		p.must(403, p.do(who, "POST", "/v1/escrow/check", nil))
		p.must(403, p.do(who, "GET", "/v1/escrow/findings", nil))
		p.must(403, p.do(who, "GET", "/v1/alerts", nil))
	}
	for _, body := range []map[string]any{
		{"outcome": "refund"},
		{"outcome": "refund", "reason": "two\nlines"},
		{"outcome": "refund", "reason": strings.Repeat("x", workflows.MaxOverrideReason+1)},
		{"outcome": "refund", "release_amount": 5, "reason": "refund with an amount"},
		{"outcome": "split", "release_amount": 234_000, "reason": "all of it is no split"},
		{"outcome": "keep", "reason": "no such outcome"},
	} {
		if r := p.do("finance", "POST", p.path(id, "/override"), body); r.status != 422 {
			t.Errorf("override %v: %d %s, want 422", body, r.status, r.body)
		}
	}
	p.must(404, p.do("finance", "POST", p.path("no-such-deal", "/override"), map[string]any{"outcome": "refund", "reason": "x"}))
	if calls := p.provider.snapshot(); len(calls) != 0 {
		t.Fatalf("provider called before the override: %v", calls)
	}

	// The override refunds the deposit from the ledger's figures.
	var res struct {
		Status string
		Result workflows.OverrideResult
	}
	reason := "deal workflow lost in incident 42"
	p.must(200, p.do("finance", "POST", p.path(id, "/override"), map[string]any{"outcome": "refund", "reason": reason})).json(t, &res)
	if res.Status != "settled" || res.Result.Refunded != 234_000 || res.Result.Released != 0 || res.Result.Stage != workflows.StageCancelled {
		t.Fatalf("override %+v", res)
	}
	key := workflows.DealWorkflowID(id) + "/deposit-1"
	if calls := p.provider.snapshot(); len(calls) != 1 || calls[key+"/refund"] != 1 {
		t.Fatalf("provider calls %v, want one refund of %s", calls, key)
	}
	if r := p.mem.Refunds()[key+"/refund"]; r.Amount != 234_000 || r.PaymentID == "" {
		t.Fatalf("refund %+v", r)
	}
	p.balance("escrow:"+id, "USD", 0)
	p.balance("buyer:"+p.orgs["buyer"].String(), "USD", 0)
	p.balance("supplier:"+p.orgs["supplier"].String(), "USD", 0)
	p.balance("platform:commission", "USD", 0)
	var unbalanced int
	if err := p.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT posting_id, currency FROM ledger_lines
		GROUP BY posting_id, currency HAVING sum(amount) <> 0) u`).Scan(&unbalanced); err != nil || unbalanced != 0 {
		t.Fatalf("%d unbalanced postings (%v)", unbalanced, err)
	}
	var memo string
	if err := p.pool.QueryRow(ctx, `SELECT memo FROM ledger_postings WHERE idempotency_key = $1`, key+"/settle").Scan(&memo); err != nil ||
		!strings.Contains(memo, reason) || !strings.Contains(memo, "finance") {
		t.Fatalf("settlement memo %q (%v) names neither operator nor reason", memo, err)
	}

	// The audit trail, the timeline and the deal as finance sees it.
	var who, status, gotReason string
	var refunded int64
	if err := p.pool.QueryRow(ctx, `SELECT operator_user_id, status, reason, refunded FROM escrow_overrides WHERE deal_id = $1`, id).
		Scan(&who, &status, &gotReason, &refunded); err != nil || status != "settled" || gotReason != reason || refunded != 234_000 || who == "" {
		t.Fatalf("audit row %s %s %q %d (%v)", who, status, gotReason, refunded, err)
	}
	final := p.deal("finance", id)
	if final.Stage != workflows.StageCancelled || final.Resolution == nil || !final.Resolution.Done ||
		final.Escrow != (workflows.Escrow{Refunded: 234_000}) {
		t.Fatalf("deal after the override: %s %+v %+v", final.Stage, final.Resolution, final.Escrow)
	}
	var timeline struct{ Events []workflows.Event }
	p.must(200, p.do("buyer", "GET", p.path(id, "/timeline"), nil)).json(t, &timeline)
	var overridden bool
	for _, e := range timeline.Events {
		overridden = overridden || (e.Type == "operator_override" && strings.Contains(e.Detail, reason))
	}
	var seqs, maxSeq int
	if err := p.pool.QueryRow(ctx, `SELECT count(*), max(seq) FROM deal_events WHERE deal_id = $1`, id).Scan(&seqs, &maxSeq); err != nil ||
		!overridden || seqs != maxSeq || seqs != len(timeline.Events) {
		t.Fatalf("timeline: override event %v, %d events up to seq %d, %d shown (%v)", overridden, seqs, maxSeq, len(timeline.Events), err)
	}

	// The next run resolves the finding; a second override moves nothing.
	p.must(200, p.do("finance", "POST", "/v1/escrow/check", nil)).json(t, &f)
	if len(f.Findings) != 0 || f.Resolved != 1 {
		t.Fatalf("second watchdog run %+v", f)
	}
	p.must(200, p.do("finance", "GET", "/v1/escrow/findings", nil)).json(t, &listed)
	if len(listed.Findings) != 0 {
		t.Fatalf("findings after the override %+v", listed)
	}
	if m := p.metrics(); !strings.Contains(m, `tradeloop_finance_alerts_open{kind="escrow_without_deal"} 0`) {
		t.Fatalf("metrics still show an open finding")
	}
	if r := p.do("admin", "POST", p.path(id, "/override"), map[string]any{"outcome": "release", "reason": "again"}); r.status != 409 {
		t.Fatalf("second override: %d %s", r.status, r.body)
	}
	if calls := p.provider.snapshot(); len(calls) != 1 || calls[key+"/refund"] != 1 {
		t.Fatalf("provider calls after a second override %v", calls)
	}
}

func (p *platform) metrics() string {
	p.t.Helper()
	resp, err := http.Get(p.metricsURL + "/metrics")
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
