package workflows

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/activities"
)

// countingPayments counts the provider calls by idempotency key, which the
// memory provider (idempotent by key) cannot tell apart.
type countingPayments struct {
	*activities.Memory
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingPayments) count(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[key]++
}

func (c *countingPayments) Refund(ctx context.Context, in activities.RefundInput) (activities.RefundResult, error) {
	c.count(in.IdempotencyKey)
	return c.Memory.Refund(ctx, in)
}

func (c *countingPayments) Transfer(ctx context.Context, in activities.TransferInput) (activities.TransferResult, error) {
	c.count(in.IdempotencyKey)
	return c.Memory.Transfer(ctx, in)
}

// overrideHarness runs SettleEscrow in the time-skipping environment with
// the memory ledger and provider, and the figures, audit and alert
// activities mocked.
type overrideHarness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	mem     *activities.Memory
	pay     *countingPayments
	state   DealState
	running bool
	audits  []activities.OverrideAudit
	alerts  []activities.Alert
	// posted counts the postings made before the override ran.
	posted int
}

var fin = Actor{UserID: "u-fin", OrgID: "finance-org", Role: RoleFinance}

func newOverrideHarness(t *testing.T) *overrideHarness {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	mem := activities.NewMemory()
	h := &overrideHarness{t: t, env: env, mem: mem, pay: &countingPayments{Memory: mem, calls: map[string]int{}}}
	RegisterFinance(env)
	a := mem.Activities()
	a.Payments = h.pay
	env.RegisterActivity(a)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: OverrideWorkflowID("d1")})
	// The SDK hashes the test binary at the first activity, inside the
	// workflow's goroutine: under -race on a busy machine that alone can
	// pass the default 1 s deadlock detector.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	env.OnActivity(acts.LoadEscrowFigures, mock.Anything, "d1").Return(
		func(context.Context, string) (activities.EscrowFigures, error) { return h.figures(), nil })
	env.OnActivity(acts.StartOverride, mock.Anything, mock.Anything).Return(
		func(_ context.Context, o activities.OverrideAudit) error { h.audits = append(h.audits, o); return nil })
	env.OnActivity(acts.FinishOverride, mock.Anything, mock.Anything).Return(
		func(_ context.Context, o activities.OverrideAudit) error { h.audits = append(h.audits, o); return nil })
	env.OnActivity(acts.RaiseAlert, mock.Anything, mock.Anything).Return(
		func(_ context.Context, a activities.Alert) error { h.alerts = append(h.alerts, a); return nil })
	h.state = paidDeal()
	return h
}

// paidDeal is a deal in shipping with its deposit and balance in escrow, as
// the read model last projected it: 1,000,000 USD at 200 bp.
func paidDeal() DealState {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	charge := func(id, step, pid string, amount int64) Payment {
		return Payment{ID: id, Kind: PaymentCharge, Step: step, Amount: amount, Currency: "USD", Status: PaymentSucceeded,
			Provider: "memory", ProviderID: pid, IdempotencyKey: "deal-d1/" + id, CreatedAt: t0, Posted: true}
	}
	return DealState{
		DealID: "d1", Stage: StageShipping, SupplierID: "sup-a", CommissionBP: 200, Currency: "USD",
		Inquiry: Inquiry{BuyerOrgID: "buyer-1", Product: "steel bolts M8", Quantity: 1000, Unit: "pcs", Currency: "USD"},
		Total:   1_000_000, Deposit: 300_000, Balance: 700_000,
		Payments: []Payment{
			charge("deposit-1", activities.StepDeposit, "pay_1", 300_000),
			charge("balance-1", activities.StepBalance, "pay_2", 700_000),
		},
		Escrow:    Escrow{Held: 1_000_000},
		Deadlines: map[string]time.Time{},
		Timeline: []Event{
			{At: t0, Type: "inquiry_created", Actor: "buyer-1"},
			{At: t0.Add(time.Hour), Type: "payment_succeeded"},
			{At: t0.Add(2 * time.Hour), Type: "stage_changed", Detail: string(StageShipping)},
		},
	}
}

// intoEscrow posts a charge into escrow in the memory ledger, as the deal did.
func (h *overrideHarness) intoEscrow(id, step, pid string, amount int64) {
	h.t.Helper()
	if err := h.mem.Post(context.Background(), activities.Posting{
		IdempotencyKey: "deal-d1/" + id + "/escrow", DealID: "d1", Kind: step, Memo: step + " payment " + pid + " into escrow",
		Lines: []activities.Line{
			{Account: activities.BuyerAccount("buyer-1"), Amount: -amount, Currency: "USD"},
			{Account: activities.EscrowAccount("d1"), Amount: amount, Currency: "USD"},
		},
	}); err != nil {
		h.t.Fatal(err)
	}
}

// figures are what LoadEscrowFigures would read: the memory ledger's
// postings through the deal's escrow, and the read model's state.
func (h *overrideHarness) figures() activities.EscrowFigures {
	raw, err := json.Marshal(h.state)
	if err != nil {
		h.t.Fatal(err)
	}
	f := activities.EscrowFigures{DealID: "d1", Running: h.running, State: raw, LastSeq: len(h.state.Timeline)}
	for _, p := range h.mem.Postings() {
		for _, l := range p.Lines {
			if l.Account == activities.EscrowAccount("d1") {
				f.Postings = append(f.Postings, activities.EscrowPosting{IdempotencyKey: p.IdempotencyKey, Kind: p.Kind, Memo: p.Memo, Lines: p.Lines})
				break
			}
		}
	}
	if b := h.mem.Balance(activities.EscrowAccount("d1"), "USD"); b != 0 {
		f.Balances = []activities.Amount{{Currency: "USD", Amount: b}}
	}
	return f
}

func (h *overrideHarness) run(in OverrideInput) (OverrideResult, error) {
	h.t.Helper()
	h.posted = len(h.mem.Postings())
	h.env.ExecuteWorkflow(SettleEscrow, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("override did not complete")
	}
	var res OverrideResult
	if err := h.env.GetWorkflowError(); err != nil {
		return res, err
	}
	if err := h.env.GetWorkflowResult(&res); err != nil {
		h.t.Fatal(err)
	}
	return res, nil
}

func order(outcome string, release int64) OverrideInput {
	return OverrideInput{DealID: "d1", Operator: fin, Outcome: outcome, ReleaseAmount: release, Reason: "workflow lost in the March incident"}
}

// checkLedger asserts escrow, supplier, commission and buyer balances, and
// that every posting balances (the memory ledger refuses any that does not).
func (h *overrideHarness) checkLedger(escrow, supplier, commission, buyer int64) {
	h.t.Helper()
	got := []int64{
		h.mem.Balance(activities.EscrowAccount("d1"), "USD"), h.mem.Balance(activities.SupplierAccount("sup-a"), "USD"),
		h.mem.Balance(activities.CommissionAccount, "USD"), h.mem.Balance(activities.BuyerAccount("buyer-1"), "USD"),
	}
	if want := []int64{escrow, supplier, commission, buyer}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		h.t.Errorf("escrow/supplier/commission/buyer = %v, want %v", got, want)
	}
}

// settled asserts the audit trail, the projection and the memos of a
// settled override.
func (h *overrideHarness) settled(stage Stage) {
	h.t.Helper()
	if len(h.audits) != 2 || h.audits[0].Status != "" || h.audits[1].Status != "settled" || h.audits[1].OperatorUserID != "u-fin" ||
		h.audits[1].Reason != "workflow lost in the March incident" {
		h.t.Errorf("audit trail %+v", h.audits)
	}
	if len(h.alerts) != 0 {
		h.t.Errorf("alerts on a settled override: %+v", h.alerts)
	}
	proj, events := h.mem.Projected("d1")
	if proj.Stage != string(stage) || proj.LastSeq != len(events)+3 || len(events) == 0 || events[0].Seq != 4 || events[0].Type != "operator_override" {
		h.t.Errorf("projection stage %s last %d, new events %+v", proj.Stage, proj.LastSeq, events)
	}
	// The sections the read model writes over its state, by the state's
	// own JSON names.
	var st DealState
	if err := json.Unmarshal(proj.Sections, &st); err != nil {
		h.t.Fatal(err)
	}
	if st.Resolution == nil || !st.Resolution.Done || st.Resolution.Reason != "operator_override" || st.Escrow.Held != 0 {
		h.t.Errorf("projected resolution %+v escrow %+v", st.Resolution, st.Escrow)
	}
	for _, p := range h.mem.Postings()[h.posted:] {
		if strings.HasSuffix(p.IdempotencyKey, "/settle") && (!strings.Contains(p.Memo, "u-fin") || !strings.Contains(p.Memo, "March incident")) {
			h.t.Errorf("settlement memo %q names neither operator nor reason", p.Memo)
		}
	}
}

func (h *overrideHarness) calls(want map[string]int) {
	h.t.Helper()
	if len(h.pay.calls) != len(want) {
		h.t.Errorf("provider calls %v, want %v", h.pay.calls, want)
	}
	for k, n := range want {
		if h.pay.calls[k] != n {
			h.t.Errorf("provider calls %v, want %v", h.pay.calls, want)
		}
	}
}

func TestOverrideRefundsWhatTheLedgerHolds(t *testing.T) {
	h := newOverrideHarness(t)
	h.intoEscrow("deposit-1", "deposit", "pay_1", 300_000)
	h.intoEscrow("balance-1", "balance", "pay_2", 700_000)
	res, err := h.run(order(OutcomeRefund, 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Refunded != 1_000_000 || res.Released != 0 || res.Stage != StageCancelled || res.Escrow != (Escrow{Refunded: 1_000_000}) {
		t.Fatalf("result %+v", res)
	}
	h.calls(map[string]int{"deal-d1/deposit-1/refund": 1, "deal-d1/balance-1/refund": 1})
	if r := h.mem.Refunds(); r["deal-d1/deposit-1/refund"].PaymentID != "pay_1" || r["deal-d1/balance-1/refund"].Amount != 700_000 {
		t.Fatalf("refunds %+v", r)
	}
	h.checkLedger(0, 0, 0, 0)
	h.settled(StageCancelled)
}

func TestOverrideReleasesLessCommission(t *testing.T) {
	h := newOverrideHarness(t)
	h.intoEscrow("deposit-1", "deposit", "pay_1", 300_000)
	h.intoEscrow("balance-1", "balance", "pay_2", 700_000)
	res, err := h.run(order(OutcomeRelease, 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Released != 1_000_000 || res.Commission != 20_000 || res.Refunded != 0 || res.Stage != StageResolved {
		t.Fatalf("result %+v", res)
	}
	h.calls(map[string]int{"deal-d1/deposit-1/transfer": 1, "deal-d1/balance-1/transfer": 1})
	if tr := h.mem.Transfers(); tr["deal-d1/deposit-1/transfer"].Amount != 294_000 || tr["deal-d1/balance-1/transfer"].SourcePaymentID != "pay_2" {
		t.Fatalf("transfers %+v", tr)
	}
	h.checkLedger(0, 980_000, 20_000, -1_000_000)
	h.settled(StageResolved)
}

func TestOverrideSplitsAcrossTheCharges(t *testing.T) {
	h := newOverrideHarness(t)
	h.intoEscrow("deposit-1", "deposit", "pay_1", 300_000)
	h.intoEscrow("balance-1", "balance", "pay_2", 700_000)
	res, err := h.run(order(OutcomeSplit, 400_000))
	if err != nil {
		t.Fatal(err)
	}
	if res.Released != 400_000 || res.Commission != 8_000 || res.Refunded != 600_000 {
		t.Fatalf("result %+v", res)
	}
	h.calls(map[string]int{"deal-d1/deposit-1/transfer": 1, "deal-d1/balance-1/transfer": 1, "deal-d1/balance-1/refund": 1})
	h.checkLedger(0, 392_000, 8_000, -400_000)
	h.settled(StageResolved)
}

// The deal had settled its deposit (transfer and posting done) before it
// stopped, and the read model never saw it: the override pays out the
// balance only, and counts the deposit's settlement from the ledger.
func TestOverrideNeverRepeatsAnEarlierSettlement(t *testing.T) {
	h := newOverrideHarness(t)
	h.intoEscrow("deposit-1", "deposit", "pay_1", 300_000)
	h.intoEscrow("balance-1", "balance", "pay_2", 700_000)
	if err := h.mem.Post(context.Background(), activities.Posting{
		IdempotencyKey: "deal-d1/deposit-1/settle", DealID: "d1", Kind: "settle", Memo: "deposit-1: released 300000 (commission 6000), refunded 0",
		Lines: []activities.Line{
			{Account: activities.EscrowAccount("d1"), Amount: -300_000, Currency: "USD"},
			{Account: activities.SupplierAccount("sup-a"), Amount: 294_000, Currency: "USD"},
			{Account: activities.CommissionAccount, Amount: 6_000, Currency: "USD"},
		},
	}); err != nil {
		t.Fatal(err)
	}
	res, err := h.run(order(OutcomeRefund, 0))
	if err != nil {
		t.Fatal(err)
	}
	h.calls(map[string]int{"deal-d1/balance-1/refund": 1})
	if res.Refunded != 700_000 || res.Escrow != (Escrow{Released: 300_000, Commission: 6_000, Refunded: 700_000}) {
		t.Fatalf("result %+v", res)
	}
	h.checkLedger(0, 294_000, 6_000, -300_000)
	h.settled(StageCancelled)
}

// The deal posted its balance into escrow and stopped before projecting
// it: the override finds the charge in the ledger and refunds it too.
func TestOverrideSettlesAChargeOnlyTheLedgerKnows(t *testing.T) {
	h := newOverrideHarness(t)
	h.state.Payments = h.state.Payments[:1]
	h.state.Escrow.Held = 300_000
	h.intoEscrow("deposit-1", "deposit", "pay_1", 300_000)
	h.intoEscrow("balance-1", "balance", "pay_2", 700_000)
	res, err := h.run(order(OutcomeRefund, 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Refunded != 1_000_000 {
		t.Fatalf("result %+v", res)
	}
	h.calls(map[string]int{"deal-d1/deposit-1/refund": 1, "deal-d1/balance-1/refund": 1})
	if r := h.mem.Refunds()["deal-d1/balance-1/refund"]; r.PaymentID != "pay_2" || r.Amount != 700_000 {
		t.Fatalf("balance refund %+v", r)
	}
	h.checkLedger(0, 0, 0, 0)
}

// What the override refuses: a running deal, a split of all or more than is
// held, a deal with nothing in escrow, figures that do not add up. Each is
// reported to finance and moves nothing.
func TestOverrideRefusesAndAlerts(t *testing.T) {
	for name, tc := range map[string]struct {
		prepare func(h *overrideHarness)
		in      OverrideInput
		want    string
	}{
		"deal running":  {prepare: func(h *overrideHarness) { h.running = true }, in: order(OutcomeRefund, 0), want: "running"},
		"split too big": {in: order(OutcomeSplit, 1_000_000), want: "less than the 1000000 held"},
		"nothing held": {prepare: func(h *overrideHarness) {
			h.state.Payments = nil
			h.state.Escrow = Escrow{}
		}, in: order(OutcomeRefund, 0), want: "nothing in escrow"},
		"paid out, not settled in the ledger": {prepare: func(h *overrideHarness) {
			h.state.Payments = append(h.state.Payments, Payment{ID: "deposit-1-transfer", Kind: PaymentTransfer, Step: "deposit",
				Amount: 294_000, Currency: "USD", Status: PaymentSucceeded, IdempotencyKey: "deal-d1/deposit-1/transfer"})
		}, in: order(OutcomeRefund, 0), want: "reconcile it by hand"},
		"unexplained posting": {prepare: func(h *overrideHarness) {
			_ = h.mem.Post(context.Background(), activities.Posting{IdempotencyKey: "manual/1", DealID: "d1", Kind: "manual",
				Lines: []activities.Line{{Account: "platform:suspense", Amount: -5, Currency: "USD"}, {Account: activities.EscrowAccount("d1"), Amount: 5, Currency: "USD"}}})
		}, in: order(OutcomeRefund, 0), want: "no charge's"},
	} {
		t.Run(name, func(t *testing.T) {
			h := newOverrideHarness(t)
			if name != "nothing held" {
				h.intoEscrow("deposit-1", "deposit", "pay_1", 300_000)
				h.intoEscrow("balance-1", "balance", "pay_2", 700_000)
			}
			if tc.prepare != nil {
				tc.prepare(h)
			}
			_, err := h.run(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
			h.calls(map[string]int{})
			if len(h.alerts) != 1 || h.alerts[0].Kind != activities.AlertOverrideFailed || h.alerts[0].DealID != "d1" {
				t.Fatalf("alerts %+v", h.alerts)
			}
			if n := len(h.audits); n != 2 || h.audits[1].Status != "failed" {
				t.Fatalf("audit trail %+v", h.audits)
			}
		})
	}
}

func TestOverrideOrderIsValidatedBeforeAnything(t *testing.T) {
	for _, in := range []OverrideInput{
		{DealID: "d1", Operator: fin, Outcome: "keep", Reason: "x"},
		{DealID: "d1", Operator: fin, Outcome: OutcomeRefund, ReleaseAmount: 5, Reason: "x"},
		{DealID: "d1", Operator: fin, Outcome: OutcomeSplit, Reason: "x"},
		{DealID: "d1", Operator: fin, Outcome: OutcomeRefund, Reason: "  "},
		{DealID: "d1", Operator: fin, Outcome: OutcomeRefund, Reason: "two\nlines"},
		{DealID: "d1", Operator: fin, Outcome: OutcomeRefund, Reason: strings.Repeat("é", MaxOverrideReason+1)},
		{DealID: "d1", Operator: fin, Outcome: OutcomeRefund, Reason: "bad \xff byte"},
		{DealID: "d1", Operator: buyer, Outcome: OutcomeRefund, Reason: "x"},
	} {
		if err := in.Validate(); RejectionCode(err) == "" {
			t.Errorf("%+v: %v, want a rejection", in, err)
		}
	}
	ok := OverrideInput{DealID: "d1", Operator: fin, Outcome: OutcomeSplit, ReleaseAmount: 1, Reason: strings.Repeat("é", MaxOverrideReason)}
	if err := ok.Validate(); err != nil {
		t.Errorf("a valid order refused: %v", err)
	}
	h := newOverrideHarness(t)
	if _, err := h.run(OverrideInput{DealID: "d1", Operator: fin, Outcome: "keep", Reason: "x"}); RejectionCode(err) != RejectInvalid {
		t.Fatalf("workflow took a bad order: %v", err)
	}
	h.calls(map[string]int{})
}

// The deal used a coupon for part of its deposit and stopped before
// projecting it: the override finds the coupon in the ledger, gives its
// part back to the coupon (not to the card) and refunds the card the rest.
func TestOverrideGivesACouponOnlyTheLedgerKnowsBack(t *testing.T) {
	h := newOverrideHarness(t)
	h.state.Payments[0].Amount = 290_000
	h.state.Escrow.Held = 990_000
	h.intoEscrow("deposit-1", "deposit", "pay_1", 290_000)
	h.intoEscrow("balance-1", "balance", "pay_2", 700_000)
	if err := h.mem.Post(context.Background(), activities.Posting{
		IdempotencyKey: "coupon/c1/issue", Kind: "coupon_issued",
		Lines: []activities.Line{{Account: activities.ReferralRewardsAccount, Amount: -10_000, Currency: "USD"}, {Account: activities.CouponAccount("c1"), Amount: 10_000, Currency: "USD"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := h.mem.Post(context.Background(), activities.Posting{
		IdempotencyKey: "deal-d1/coupon/escrow", DealID: "d1", Kind: "coupon", Memo: "coupon payment c1 into escrow",
		Lines: []activities.Line{{Account: activities.CouponAccount("c1"), Amount: -10_000, Currency: "USD"}, {Account: activities.EscrowAccount("d1"), Amount: 10_000, Currency: "USD"}},
	}); err != nil {
		t.Fatal(err)
	}
	res, err := h.run(order(OutcomeRefund, 0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Refunded != 1_000_000 {
		t.Fatalf("result %+v", res)
	}
	h.calls(map[string]int{"deal-d1/deposit-1/refund": 1, "deal-d1/balance-1/refund": 1})
	if got := h.mem.Balance(activities.CouponAccount("c1"), "USD"); got != 10_000 {
		t.Fatalf("coupon holds %d, want its 10,000 back", got)
	}
	h.checkLedger(0, 0, 0, 0)
}
