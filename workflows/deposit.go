package workflows

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/money"
)

// A supplier's security deposit runs as one SecurityDeposit workflow from
// its charge to its end. The deposit is charged through the same Charge
// activity a deal's payments use; once the provider says it succeeded
// (at once, or by PaymentStatus polls), its money is posted into the
// deposit's own ledger account and it is held. A held deposit ends in one
// of two ways: the supplier leaves in good standing and asks for it back
// (UpdateReturnDeposit: the provider refunds the original charge and the
// account is emptied back to the supplier), or mediators forfeit it, in
// part or whole, for proven frauds (UpdateForfeitDeposit: each a posting
// from the account to activities.ForfeitedDepositsAccount). What is left
// after forfeits is what a return refunds.
const (
	DepositWorkflowName  = "SecurityDeposit"
	UpdateDepositOutcome = "outcome"
	UpdateReturnDeposit  = "return"
	UpdateForfeitDeposit = "forfeit"
	QueryDeposit         = "deposit"

	// MaxForfeitReason bounds a forfeit's reason, in characters.
	MaxForfeitReason = 2000
	// MaxForfeits bounds the forfeits of one deposit.
	MaxForfeits = 20
	// MaxDepositMinor bounds a deposit, in minor units.
	MaxDepositMinor = 100_000_000_000
	// DepositConfirmWithin is how long a pending charge is polled before
	// the deposit is given up as failed.
	DepositConfirmWithin = 72 * time.Hour
	// depositOutcomeWait bounds how long UpdateDepositOutcome waits for
	// the charge's outcome.
	depositOutcomeWait = 20 * time.Second
)

// DepositWorkflowID is the workflow of deposit id.
func DepositWorkflowID(id string) string { return "deposit/" + id }

// RegisterDeposits adds suppliers' security deposits to a worker.
func RegisterDeposits(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(SecurityDeposit, workflow.RegisterOptions{Name: DepositWorkflowName})
}

// DepositInput starts a deposit: what to charge whom.
type DepositInput struct {
	ID       string `json:"id"`
	OrgID    string `json:"org_id"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	// PollEvery is how long a pending charge waits before the provider
	// is first asked how it stands (0: 30 seconds); each wait after
	// doubles, up to an hour.
	PollEvery time.Duration `json:"poll_every,omitempty"`
}

// DepositReturnRequest is the supplier's ask for its deposit back.
type DepositReturnRequest struct {
	Actor Actor `json:"actor"`
}

// DepositForfeitRequest is a mediator's decision to forfeit part or all of
// a deposit for the proven fraud of deal DealID.
type DepositForfeitRequest struct {
	Actor  Actor  `json:"actor"`
	Amount int64  `json:"amount"`
	Reason string `json:"reason"`
	DealID string `json:"deal_id"`
}

var dealIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Validate checks the decision's words, not the deposit's state.
func (r DepositForfeitRequest) Validate() error {
	if r.Amount <= 0 || r.Amount > MaxDepositMinor {
		return reject(RejectInvalid, "amount_minor: must be between 1 and %d", int64(MaxDepositMinor))
	}
	if err := invalidInput(bounds.Required("reason", r.Reason, MaxForfeitReason, true)); err != nil {
		return err
	}
	if !dealIDRE.MatchString(r.DealID) {
		return reject(RejectInvalid, "deal_id: names the deal of the proven fraud")
	}
	return nil
}

// DepositStatus is where a deposit stands, as its updates and query
// answer it.
type DepositStatus struct {
	Status string `json:"status"`
	// Held is what the deposit's account holds, as the workflow last
	// booked it.
	Held     int64  `json:"held"`
	Forfeits int    `json:"forfeits"`
	Reason   string `json:"reason,omitempty"`
	// Provider and PaymentID name the charge once the provider has
	// answered; Awaiting says it answered pending (the supplier's client
	// completes it, as at Stripe).
	Provider  string `json:"provider,omitempty"`
	PaymentID string `json:"payment_id,omitempty"`
	Awaiting  bool   `json:"awaiting,omitempty"`
}

// securityDeposit is a SecurityDeposit's state.
type securityDeposit struct {
	in DepositInput
	DepositStatus
	mu workflow.Mutex
}

// SecurityDeposit runs a supplier's deposit and answers its final status.
func SecurityDeposit(ctx workflow.Context, in DepositInput) (string, error) {
	d := &securityDeposit{in: in, DepositStatus: DepositStatus{Status: activities.DepositPending}, mu: workflow.NewMutex(ctx)}
	if err := d.handle(ctx); err != nil {
		return "", err
	}
	if err := d.charge(ctx); err != nil {
		return d.Status, err
	}
	if d.Status != activities.DepositHeld {
		return d.Status, workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	}
	if err := workflow.Await(ctx, func() bool { return d.Status != activities.DepositHeld }); err != nil {
		return d.Status, err
	}
	if d.Status == activities.DepositReturning {
		if err := d.refund(ctx); err != nil {
			return d.Status, err
		}
	}
	return d.Status, workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

func (d *securityDeposit) handle(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryDeposit, func() (DepositStatus, error) { return d.DepositStatus, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, UpdateDepositOutcome, func(ctx workflow.Context) (DepositStatus, error) {
		_, err := workflow.AwaitWithTimeout(ctx, depositOutcomeWait, func() bool { return d.Status != activities.DepositPending || d.Awaiting })
		return d.DepositStatus, err
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateReturnDeposit, d.giveBack, workflow.UpdateHandlerOptions{
		Validator: func(_ workflow.Context, r DepositReturnRequest) error { return d.canReturn(r) },
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateForfeitDeposit, d.forfeit, workflow.UpdateHandlerOptions{
		Validator: func(_ workflow.Context, r DepositForfeitRequest) error {
			if err := r.Validate(); err != nil {
				return err
			}
			return d.canForfeit(r)
		},
	})
}

// depositMoneyOptions retry a money or ledger activity until it answers;
// only business refusals stop them.
var depositMoneyOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		NonRetryableErrorTypes: []string{activities.ErrPaymentDeclined, "LedgerRejected", "NotConfigured",
			activities.ErrTypeNotInGoodStanding, activities.ErrTypeDepositNotHeld},
	},
}

func (d *securityDeposit) run(ctx workflow.Context, summary string, result, activity any, args ...any) error {
	actx := withSummary(workflow.WithActivityOptions(ctx, depositMoneyOptions), "%s", summary)
	return workflow.ExecuteActivity(actx, activity, args...).Get(ctx, result)
}

func (d *securityDeposit) key(step string) string { return DepositWorkflowID(d.in.ID) + "/" + step }

// charge charges the deposit and learns its outcome: held, or failed.
// The charge keeps its idempotency key through every retry, so a
// provider that did not answer is asked again without charging twice.
func (d *securityDeposit) charge(ctx workflow.Context) error {
	var res activities.ChargeResult
	err := d.run(ctx, fmt.Sprintf("charge the security deposit %s", money.Format(d.in.Amount, d.in.Currency)), &res, acts.Charge,
		activities.ChargeInput{
			DealID: "deposit-" + d.in.ID, Step: activities.DepositStep, BuyerOrgID: d.in.OrgID,
			Amount: d.in.Amount, Currency: d.in.Currency, IdempotencyKey: d.key("charge"),
		})
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrPaymentDeclined {
		return d.fail(ctx, appErr.Message())
	}
	if err != nil {
		return err
	}
	d.Provider, d.PaymentID = res.Provider, res.PaymentID
	d.Awaiting = res.Status != string(PaymentSucceeded)
	final, err := pollPayment(ctx, paymentPoll{
		What: "deposit's charge", Ref: "deposit-" + d.in.ID, PaymentID: res.PaymentID, Status: res.Status,
		Within: DepositConfirmWithin, Every: d.in.PollEvery, Options: depositMoneyOptions,
	})
	switch {
	case err != nil:
		return err
	case final == paymentFailed:
		return d.fail(ctx, "the payment provider failed the charge")
	case final == paymentExpired:
		return d.fail(ctx, "the payment provider did not confirm the charge within 72 hours")
	}
	if err := d.run(ctx, fmt.Sprintf("hold %s", money.Format(d.in.Amount, d.in.Currency)), nil, acts.HoldDeposit, activities.DepositHold{
		ID: d.in.ID, OrgID: d.in.OrgID, Amount: d.in.Amount, Currency: d.in.Currency, Provider: res.Provider, PaymentID: res.PaymentID,
	}); err != nil {
		return err
	}
	d.Status, d.Held, d.Awaiting = activities.DepositHeld, d.in.Amount, false
	return nil
}

func (d *securityDeposit) fail(ctx workflow.Context, reason string) error {
	reason = bounds.Clean(reason, 500)
	if err := d.run(ctx, "record the failed charge", nil, acts.FailDeposit, activities.DepositFailure{ID: d.in.ID, Reason: reason}); err != nil {
		return err
	}
	d.Status, d.Reason = activities.DepositFailed, reason
	return nil
}

func (d *securityDeposit) canReturn(r DepositReturnRequest) error {
	if r.Actor.Role != RoleSupplier || r.Actor.OrgID != d.in.OrgID {
		return reject(RejectNotAllowed, "only the deposit's supplier may ask for it back")
	}
	switch d.Status {
	case activities.DepositHeld:
		return nil
	case activities.DepositPending:
		return reject(RejectWrongStage, "the deposit is not paid yet")
	case activities.DepositReturning, activities.DepositReturned:
		return reject(RejectWrongStage, "the deposit is already %s", d.Status)
	}
	return reject(RejectWrongStage, "the deposit is %s: nothing to return", d.Status)
}

// giveBack starts the deposit's return: the supplier must be in good
// standing (the deposit service checks, in the transaction that marks the
// deposit returning). The refund and its posting follow in the main loop,
// so the supplier's answer never waits for the provider.
func (d *securityDeposit) giveBack(ctx workflow.Context, r DepositReturnRequest) (DepositStatus, error) {
	if err := d.mu.Lock(ctx); err != nil {
		return d.DepositStatus, err
	}
	defer d.mu.Unlock()
	if err := d.canReturn(r); err != nil {
		return d.DepositStatus, err
	}
	var held int64
	err := d.run(ctx, "check good standing and start the return", &held, acts.BeginDepositReturn, d.in.ID)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case activities.ErrTypeNotInGoodStanding:
			return d.DepositStatus, reject(RejectWrongStage, "%s", appErr.Message())
		case activities.ErrTypeDepositNotHeld:
			return d.DepositStatus, reject(RejectWrongStage, "%s", appErr.Message())
		}
	}
	if err != nil {
		return d.DepositStatus, err
	}
	d.Status, d.Held = activities.DepositReturning, held
	return d.DepositStatus, nil
}

// refund gives a deposit being returned back through the provider, on
// its original charge, then empties its account back to the supplier.
func (d *securityDeposit) refund(ctx workflow.Context) error {
	if err := d.mu.Lock(ctx); err != nil {
		return err
	}
	defer d.mu.Unlock()
	out := activities.DepositReturn{ID: d.in.ID, OrgID: d.in.OrgID, Amount: d.Held, Currency: d.in.Currency}
	if d.Held > 0 {
		var res activities.RefundResult
		if err := d.run(ctx, fmt.Sprintf("refund the deposit %s", money.Format(d.Held, d.in.Currency)), &res, acts.Refund, activities.RefundInput{
			DealID: "deposit-" + d.in.ID, PaymentID: d.PaymentID, Amount: d.Held, Currency: d.in.Currency, IdempotencyKey: d.key("return"),
		}); err != nil {
			return err
		}
		out.RefundID = res.RefundID
	}
	if err := d.run(ctx, "post the deposit's return", nil, acts.FinishDepositReturn, out); err != nil {
		return err
	}
	d.Status, d.Held = activities.DepositReturned, 0
	return nil
}

func (d *securityDeposit) canForfeit(r DepositForfeitRequest) error {
	if r.Actor.Role != RoleMediator {
		return reject(RejectNotAllowed, "only a mediator may forfeit a deposit")
	}
	if d.Status != activities.DepositHeld {
		return reject(RejectWrongStage, "the deposit is %s: nothing to forfeit", d.Status)
	}
	if d.Forfeits >= MaxForfeits {
		return limitReached("a deposit takes at most %d forfeits", MaxForfeits)
	}
	if r.Amount > d.Held {
		return reject(RejectWrongStage, "the deposit holds %s: it cannot forfeit %s", money.Format(d.Held, d.in.Currency), money.Format(r.Amount, d.in.Currency))
	}
	return nil
}

// forfeit posts a mediator's forfeit. Validators of updates that arrive
// together all run before their handlers, so the handler checks again
// under the lock; the ledger refuses a forfeit of more than the account
// holds whatever the workflow believes.
func (d *securityDeposit) forfeit(ctx workflow.Context, r DepositForfeitRequest) (DepositStatus, error) {
	if err := d.mu.Lock(ctx); err != nil {
		return d.DepositStatus, err
	}
	defer d.mu.Unlock()
	if err := d.canForfeit(r); err != nil {
		return d.DepositStatus, err
	}
	var held int64
	err := d.run(ctx, fmt.Sprintf("forfeit %s", money.Format(r.Amount, d.in.Currency)), &held, acts.ForfeitDeposit, activities.DepositForfeit{
		ID: d.in.ID, OrgID: d.in.OrgID, Currency: d.in.Currency, Seq: d.Forfeits + 1, Amount: r.Amount,
		Reason: r.Reason, DealID: r.DealID, DecidedBy: r.Actor.UserID, At: workflow.Now(ctx),
	})
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && (appErr.Type() == "LedgerRejected" || appErr.Type() == activities.ErrTypeDepositNotHeld) {
		return d.DepositStatus, reject(RejectWrongStage, "the deposit cannot give %s: %s", money.Format(r.Amount, d.in.Currency), appErr.Message())
	}
	if err != nil {
		return d.DepositStatus, err
	}
	d.Forfeits++
	d.Held = held
	if held == 0 {
		d.Status = activities.DepositForfeited
	}
	return d.DepositStatus, nil
}
