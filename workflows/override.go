package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

// The operator override: finance or an admin settles the escrow of a deal
// whose workflow is gone (terminated, failed, or lost with its history),
// from the ledger's figures, with the deal's own settlement code and
// idempotency keys, so a charge the deal had already settled is never paid
// out twice. The escrow watchdog (watchdog.go) is how finance learns of
// such deals.

// Workflow names and IDs of finance's workflows.
const (
	SettleEscrowWorkflowName   = "SettleEscrow"
	EscrowWatchdogWorkflowName = "EscrowWatchdog"
	EscrowWatchdogScheduleID   = "escrow-watchdog"
)

// OverrideWorkflowID is the ID of the override of a deal: one at a time,
// and, once one has settled the deal, no other.
func OverrideWorkflowID(dealID string) string { return DealWorkflowID(dealID) + "/override" }

// RegisterFinance adds the escrow watchdog and the operator override to a
// worker. (Kept apart from Register while deal.go is being reworked; the
// two may become one.)
func RegisterFinance(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(SettleEscrow, workflow.RegisterOptions{Name: SettleEscrowWorkflowName})
	r.RegisterWorkflowWithOptions(EscrowWatchdog, workflow.RegisterOptions{Name: EscrowWatchdogWorkflowName})
}

// ResolutionOperatorOverride is the reason of a resolution an operator
// override made.
const ResolutionOperatorOverride = "operator_override"

// MaxOverrideReason bounds an override's reason, in characters.
const MaxOverrideReason = 500

// OverrideInput is an operator's order to settle a deal's escrow: refund
// it all to the buyer, release it all to the supplier (less commission),
// or split it, releasing ReleaseAmount and refunding the rest. Like a
// mediator's decision, the outcome divides the deposit and balance; a
// sample payment follows the deal's rule (the supplier's if it shipped a
// sample) and money the deal never asked for is refunded.
type OverrideInput struct {
	DealID        string    `json:"deal_id"`
	Operator      Actor     `json:"operator"`
	Outcome       string    `json:"outcome"`
	ReleaseAmount int64     `json:"release_amount"`
	Reason        string    `json:"reason"`
	RequestedAt   time.Time `json:"requested_at"`
}

// Validate checks the order on its own, without the deal's figures: the API
// checks it before starting the override, and the workflow again.
func (in OverrideInput) Validate() error {
	switch {
	case in.DealID == "":
		return reject(RejectInvalid, "deal_id is required")
	case in.Operator.Role != RoleFinance && in.Operator.Role != RoleAdmin:
		return reject(RejectNotAllowed, "only finance or an admin may override a deal's settlement")
	case in.Operator.UserID == "":
		return reject(RejectInvalid, "the operator is not named")
	}
	switch in.Outcome {
	case OutcomeRefund, OutcomeRelease:
		if in.ReleaseAmount != 0 {
			return reject(RejectInvalid, "release_amount: only a split names an amount")
		}
	case OutcomeSplit:
		if in.ReleaseAmount <= 0 {
			return reject(RejectInvalid, "release_amount: a split releases a positive amount")
		}
	default:
		return reject(RejectInvalid, "outcome: must be refund, release or split")
	}
	return CheckOverrideReason(in.Reason)
}

// CheckOverrideReason accepts one line of 1 to MaxOverrideReason characters
// of valid UTF-8 without control characters: it goes into ledger memos,
// the audit trail and the deal's timeline.
func CheckOverrideReason(s string) error {
	n := utf8.RuneCountInString(s)
	switch {
	case strings.TrimSpace(s) == "":
		return reject(RejectInvalid, "reason: is required")
	case !utf8.ValidString(s):
		return reject(RejectInvalid, "reason: must be valid UTF-8")
	case n > MaxOverrideReason:
		return reject(RejectInvalid, "reason: at most %d characters, not %d", MaxOverrideReason, n)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return reject(RejectInvalid, "reason: one line, without control characters")
	}
	return nil
}

// Release is what the outcome releases to the supplier side of the goods
// held (deposit and balance in escrow), or a rejection if it does not fit.
func (in OverrideInput) Release(goodsHeld int64) (int64, error) {
	switch in.Outcome {
	case OutcomeRelease:
		return goodsHeld, nil
	case OutcomeSplit:
		if in.ReleaseAmount >= goodsHeld {
			return 0, reject(RejectInvalid, "release_amount: a split releases less than the %d held in escrow", goodsHeld)
		}
		return in.ReleaseAmount, nil
	}
	return 0, nil
}

// OverrideResult is what an override moved, and the deal's escrow after it.
type OverrideResult struct {
	DealID     string `json:"deal_id"`
	Outcome    string `json:"outcome"`
	Stage      Stage  `json:"stage"`
	Currency   string `json:"currency"`
	Released   int64  `json:"released"`
	Commission int64  `json:"commission"`
	Refunded   int64  `json:"refunded"`
	Escrow     Escrow `json:"escrow"`
}

// overrideBookkeeping reads and records for an override; a database that
// stays away fails the override (reported to finance, tried again by the
// operator) rather than holding it for ever.
var overrideBookkeeping = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second, MaximumAttempts: 10,
		NonRetryableErrorTypes: []string{"NoSuchDeal"},
	},
}

// SettleEscrow settles a deal whose workflow no longer runs: it loads the
// ledger's postings through the deal's escrow and the read model's last
// state of the deal, rebuilds the deal from them (SettlementState), and
// runs the deal's own settlement with the operator's resolution. Payouts
// and postings carry the deal's idempotency keys; the postings' memos name
// the operator and the reason. It then projects the settled deal into the
// read model and completes the audit row. A failure no retry cures is
// reported to finance (alert override_failed) and ends the override.
func SettleEscrow(ctx workflow.Context, in OverrideInput) (OverrideResult, error) {
	if err := in.Validate(); err != nil {
		return OverrideResult{}, err
	}
	info := workflow.GetInfo(ctx)
	audit := activities.OverrideAudit{
		DealID: in.DealID, WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		OperatorUserID: in.Operator.UserID, OperatorOrgID: in.Operator.OrgID, OperatorRole: string(in.Operator.Role),
		Outcome: in.Outcome, ReleaseRequested: in.ReleaseAmount, Reason: in.Reason, RequestedAt: in.RequestedAt,
	}
	if audit.RequestedAt.IsZero() {
		audit.RequestedAt = workflow.Now(ctx)
	}
	bctx := workflow.WithActivityOptions(ctx, overrideBookkeeping)
	audited := false
	fail := func(err error) (OverrideResult, error) {
		// Told to finance, then ended: what no retry cures needs a person.
		actx := workflow.WithActivityOptions(ctx, overrideBookkeeping)
		_ = workflow.ExecuteActivity(actx, acts.RaiseAlert, activities.Alert{
			Kind: activities.AlertOverrideFailed, DealID: in.DealID, Subject: info.WorkflowExecution.RunID,
			Detail: fmt.Sprintf("%s override by %s failed: %v", in.Outcome, in.Operator.UserID, err),
		}).Get(ctx, nil)
		if audited {
			done := audit
			done.Status, done.Error = "failed", err.Error()
			_ = workflow.ExecuteActivity(actx, acts.FinishOverride, done).Get(ctx, nil)
		}
		return OverrideResult{}, temporal.NewNonRetryableApplicationError(err.Error(), "OverrideFailed", nil)
	}

	var f activities.EscrowFigures
	if err := workflow.ExecuteActivity(bctx, acts.LoadEscrowFigures, in.DealID).Get(ctx, &f); err != nil {
		return fail(fmt.Errorf("load the deal's figures: %w", err))
	}
	// Audited before anything else, refused or not.
	if err := workflow.ExecuteActivity(bctx, acts.StartOverride, audit).Get(ctx, nil); err != nil {
		return fail(fmt.Errorf("record the override: %w", err))
	}
	audited = true
	if f.Running {
		return fail(errors.New("the deal's workflow is running: it settles its own escrow"))
	}
	st, err := SettlementState(f)
	if err != nil {
		return fail(err)
	}
	if st.Escrow.Held == 0 {
		return fail(errors.New("the deal holds nothing in escrow"))
	}
	release, err := in.Release(st.GoodsHeld())
	if err != nil {
		return fail(err)
	}

	d := &deal{in: DealInput{DealID: in.DealID, Inquiry: st.Inquiry}, state: st, wf: DealWorkflowID(in.DealID)}
	d.projected = len(d.state.Timeline)
	d.state.Deadlines = map[string]time.Time{} // the deal is over: no deadline runs
	before := d.state.Escrow
	d.state.Resolution = &Resolution{
		Reason: ResolutionOperatorOverride, Release: release,
		Note: fmt.Sprintf("operator override by %s %s of %s: %s", in.Operator.Role, in.Operator.UserID, in.Operator.OrgID, in.Reason),
	}
	d.event(ctx, EventOperatorOverride, in.Operator.OrgID, fmt.Sprintf("%s by %s %s: release %d of the %d %s held; %s",
		in.Outcome, in.Operator.Role, in.Operator.UserID, release, d.goodsHeld(), d.state.Currency, in.Reason))
	if !d.state.Stage.Final() {
		d.state.Stage = StageResolved
		if in.Outcome == OutcomeRefund {
			d.state.Stage = StageCancelled
		}
		d.event(ctx, EventStageChanged, "", string(d.state.Stage))
	}
	if err := d.settle(ctx); err != nil {
		return fail(fmt.Errorf("settle: %w", err))
	}
	if err := d.projectOverride(bctx); err != nil {
		return fail(err)
	}
	res := OverrideResult{
		DealID: in.DealID, Outcome: in.Outcome, Stage: d.state.Stage, Currency: d.state.Currency,
		Released: d.state.Escrow.Released - before.Released, Commission: d.state.Escrow.Commission - before.Commission,
		Refunded: d.state.Escrow.Refunded - before.Refunded, Escrow: d.state.Escrow,
	}
	done := audit
	done.Status, done.Currency, done.Released, done.Commission, done.Refunded = "settled", res.Currency, res.Released, res.Commission, res.Refunded
	if err := workflow.ExecuteActivity(bctx, acts.FinishOverride, done).Get(ctx, nil); err != nil {
		return fail(fmt.Errorf("record the override's end: %w", err))
	}
	return res, nil
}

// projectOverride writes the settled deal, its details and its new
// timeline events to the read model, as the deal's own projection does.
func (d *deal) projectOverride(ctx workflow.Context) error {
	p, marks, err := d.projection(ctx)
	if err != nil {
		return err
	}
	if err := workflow.ExecuteActivity(ctx, acts.ProjectDeal, p).Get(ctx, nil); err != nil {
		return fmt.Errorf("project the settled deal: %w", err)
	}
	d.marks, d.projected, d.rounds = marks, p.LastSeq, p.Round
	return nil
}

// SettlementState rebuilds a deal for its settlement from the ledger and
// the read model. The ledger decides what is in escrow: a charge is posted
// if the ledger holds its "<key>/escrow" posting and settled if it holds
// its "<key>/settle" posting, whatever the last projection said; a charge
// the ledger holds and the read model never saw (the deal stopped between
// posting and projecting) is rebuilt from its posting. The escrow totals
// are recomputed from the settlement postings. Figures that do not add up
// (a charge paid out at the provider but not settled in the ledger, a
// posting of another kind, a balance the charges do not explain) are an
// error: an operator cannot settle what the ledger cannot account for.
func SettlementState(f activities.EscrowFigures) (DealState, error) {
	var st DealState
	if len(f.State) == 0 {
		return st, fmt.Errorf("the read model holds no state of deal %s", f.DealID)
	}
	// encoding/json reads into a struct the same way every time.
	err := json.Unmarshal(f.State, &st) //workflowcheck:ignore
	if err != nil {
		return st, fmt.Errorf("decode the state of deal %s: %w", f.DealID, err)
	}
	if st.DealID != f.DealID || len(st.Timeline) == 0 {
		return st, fmt.Errorf("the read model's state is not of deal %s", f.DealID)
	}
	escrowAcct := activities.EscrowAccount(f.DealID)
	type entry struct {
		posting activities.EscrowPosting
		amount  int64 // on the escrow account
	}
	byKey := map[string]entry{}
	for _, p := range f.Postings {
		e := entry{posting: p}
		for _, l := range p.Lines {
			if l.Account != escrowAcct {
				continue
			}
			if l.Currency != st.Currency {
				return st, fmt.Errorf("posting %s moves %s through the escrow of a %s deal", p.IdempotencyKey, l.Currency, st.Currency)
			}
			e.amount += l.Amount
		}
		byKey[p.IdempotencyKey] = e
	}

	known := map[string]bool{}
	for i := range st.Payments {
		p := &st.Payments[i]
		if !p.Kind.HoldsEscrow() {
			continue
		}
		known[p.IdempotencyKey] = true
		in, posted := byKey[p.IdempotencyKey+"/escrow"]
		_, settled := byKey[p.IdempotencyKey+"/settle"]
		switch {
		case posted && in.amount != p.Amount:
			return st, fmt.Errorf("charge %s is %d in the deal and %d in the ledger", p.ID, p.Amount, in.amount)
		case settled && !posted:
			return st, fmt.Errorf("charge %s is settled in the ledger but was never put into escrow", p.ID)
		case !settled && (p.Settled || st.hasPayout(p.ID)):
			return st, fmt.Errorf("charge %s was paid out at the provider but its settlement is not in the ledger: reconcile it by hand", p.ID)
		}
		if posted {
			p.Status = PaymentSucceeded // the ledger holds it: it was captured
		}
		p.Posted, p.Settled = posted, settled
	}

	wf := DealWorkflowID(f.DealID)
	var orphans int64
	for _, p := range f.Postings {
		key, e := p.IdempotencyKey, byKey[p.IdempotencyKey]
		switch {
		case strings.HasPrefix(key, "orphan/"):
			// A late payment its own workflow refunds (RefundOrphanPayment).
			orphans += e.amount
		case strings.HasSuffix(key, "/escrow"):
			chargeKey := strings.TrimSuffix(key, "/escrow")
			if known[chargeKey] {
				continue
			}
			c, err := chargeFromPosting(wf, chargeKey, p, e.amount, st.Currency)
			if err != nil {
				return st, err
			}
			_, c.Settled = byKey[chargeKey+"/settle"]
			st.Payments = append(st.Payments, c)
			known[chargeKey] = true
		case strings.HasSuffix(key, "/settle"):
			if !known[strings.TrimSuffix(key, "/settle")] {
				return st, fmt.Errorf("posting %s settles a charge the ledger never put into escrow", key)
			}
		default:
			return st, fmt.Errorf("posting %s moved the escrow and is no charge's: reconcile it by hand", key)
		}
	}

	// The escrow, as the deal counts it, from the ledger's figures.
	st.Escrow = Escrow{}
	var inLedger int64
	for _, p := range st.Payments {
		if !p.Kind.HoldsEscrow() || p.Status != PaymentSucceeded {
			continue
		}
		refundTo := activities.BuyerAccount(st.Inquiry.BuyerOrgID)
		if p.Kind == PaymentCoupon {
			refundTo = activities.CouponAccount(p.ProviderID)
		}
		if !p.Settled {
			st.Escrow.Held += p.Amount
			if p.Posted {
				inLedger += p.Amount
			}
			continue
		}
		s := byKey[p.IdempotencyKey+"/settle"]
		for _, l := range s.posting.Lines {
			switch l.Account {
			case activities.CommissionAccount:
				st.Escrow.Commission += l.Amount
			case refundTo:
				st.Escrow.Refunded += l.Amount
			}
		}
	}
	for _, p := range st.Payments {
		if p.Kind.HoldsEscrow() && p.Settled {
			st.Escrow.Released += p.Amount
		}
	}
	st.Escrow.Released -= st.Escrow.Refunded

	var balance int64
	for _, b := range f.Balances {
		if b.Amount != 0 && b.Currency != st.Currency {
			return st, fmt.Errorf("the escrow holds %d %s, not the deal's currency %s", b.Amount, b.Currency, st.Currency)
		}
		if b.Currency == st.Currency {
			balance = b.Amount
		}
	}
	if balance != inLedger+orphans {
		return st, fmt.Errorf("the ledger's escrow holds %d %s, its charges account for %d: reconcile it by hand",
			balance, st.Currency, inLedger+orphans)
	}
	return st, nil
}

// hasPayout reports whether the deal recorded a transfer or refund of a
// charge.
func (s DealState) hasPayout(chargeID string) bool {
	return slices.ContainsFunc(s.Payments, func(p Payment) bool {
		return (p.Kind == PaymentTransfer || p.Kind == PaymentRefund) && strings.HasPrefix(p.ID, chargeID+"-")
	})
}

// chargeFromPosting rebuilds a captured charge from its escrow posting
// (postConfirmedCharges writes its key, its kind as the step, and its memo
// "<step> payment <provider ID> into escrow").
func chargeFromPosting(wf, chargeKey string, p activities.EscrowPosting, amount int64, currency string) (Payment, error) {
	id, ok := strings.CutPrefix(chargeKey, wf+"/")
	rest, ok2 := strings.CutPrefix(p.Memo, p.Kind+" payment ")
	providerID, ok3 := strings.CutSuffix(rest, " into escrow")
	if !ok || !ok2 || !ok3 || id == "" || strings.Contains(id, "/") || providerID == "" || amount <= 0 {
		return Payment{}, fmt.Errorf("posting %s puts money into escrow for a charge the read model does not know, and does not say which: reconcile it by hand", p.IdempotencyKey)
	}
	if p.Kind == string(PaymentCoupon) {
		// The buyer's coupon (redeemCoupon), which only a deposit uses.
		return Payment{
			ID: id, Kind: PaymentCoupon, Step: activities.StepDeposit, Amount: amount, Currency: currency, Status: PaymentSucceeded,
			Provider: "coupon", ProviderID: providerID, IdempotencyKey: chargeKey, Posted: true,
		}, nil
	}
	return Payment{
		ID: id, Kind: PaymentCharge, Step: p.Kind, Amount: amount, Currency: currency, Status: PaymentSucceeded,
		ProviderID: providerID, IdempotencyKey: chargeKey, Posted: true,
		// A charge of no step the deal asked for is refunded in full.
		Excess: p.Kind != activities.StepSample && p.Kind != activities.StepDeposit && p.Kind != activities.StepBalance,
	}, nil
}

// EscrowInLedger is what a deal says it holds in the ledger: its charges
// captured, posted into escrow and not yet settled, by currency.
func (s DealState) EscrowInLedger() []activities.Amount {
	var out []activities.Amount
	for _, p := range s.Payments {
		if !p.Kind.HoldsEscrow() || p.Status != PaymentSucceeded || !p.Posted || p.Settled {
			continue
		}
		i := slices.IndexFunc(out, func(a activities.Amount) bool { return a.Currency == p.Currency })
		if i < 0 {
			out = append(out, activities.Amount{Currency: p.Currency})
			i = len(out) - 1
		}
		out[i].Amount += p.Amount
	}
	slices.SortFunc(out, func(a, b activities.Amount) int { return strings.Compare(a.Currency, b.Currency) })
	return out
}

// memoNote is what a resolution adds to settlement memos.
func (r *Resolution) memoNote() string {
	if r == nil || r.Note == "" {
		return ""
	}
	return "; " + r.Note
}
