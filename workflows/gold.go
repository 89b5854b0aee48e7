package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/money"
)

// A supplier's Gold certification runs as one GoldCertification workflow,
// a run per paid year. The first year's fee is charged like any payment,
// confirmed by the supplier's client, and the provider keeps the card
// (SaveForLater). Each year after, the supplier is told RenewalNotice
// before the year ends; at its end the saved card is charged without the
// supplier (ChargeSaved), unless the supplier stopped the renewal (the
// certification ends) or is no longer verified (it lapses: Gold requires
// verification). A declined renewal makes the certification past due: the
// saved card is tried again every RetryEvery, the supplier may pay with
// another card (UpdateGoldPay), and after Grace unpaid it lapses. The
// badge shows only for paid time. Each step is written by RecordGoldStep,
// which posts the fee of the steps that took it.
const (
	GoldWorkflowName    = "GoldCertification"
	UpdateGoldOutcome   = "outcome"
	UpdateGoldAutoRenew = "auto_renew"
	UpdateGoldPay       = "pay"
	QueryGold           = "gold"

	// MaxGoldFeeMinor bounds the yearly fee, in minor units.
	MaxGoldFeeMinor = 100_000_000_000
	// goldOutcomeWait bounds how long UpdateGoldOutcome waits for the
	// first charge's outcome.
	goldOutcomeWait = 20 * time.Second
	// goldChargeAttempts bounds the tries of a charge the provider does
	// not answer; after them the charge counts as failed.
	goldChargeAttempts = 20
	// MaxGoldChangesPerYear bounds the renewal changes (off, on) and the
	// supplier's own payments of a paid year: each is a step in the
	// year's history, which must stay bounded however often a client
	// asks.
	MaxGoldChangesPerYear = 10
)

// GoldWorkflowID is the workflow of Gold certification id.
func GoldWorkflowID(id string) string { return "gold/" + id }

// RegisterGold adds suppliers' Gold certifications to a worker.
func RegisterGold(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(GoldCertification, workflow.RegisterOptions{Name: GoldWorkflowName})
}

// GoldPolicy is a certification's deadlines; zero fields take the
// defaults.
type GoldPolicy struct {
	// Period is one paid year (365 days).
	Period time.Duration `json:"period,omitempty"`
	// RenewalNotice is how long before a year ends the supplier is told
	// of its renewal or its end (30 days).
	RenewalNotice time.Duration `json:"renewal_notice,omitempty"`
	// Grace is how long a declined renewal may be paid before the
	// certification lapses (14 days); the saved card is tried again every
	// RetryEvery (3 days) meanwhile.
	Grace      time.Duration `json:"grace,omitempty"`
	RetryEvery time.Duration `json:"retry_every,omitempty"`
	// ConfirmWithin is how long a charge the supplier's client must
	// confirm may stay pending (72 hours); PollEvery how long it first
	// waits before the provider is asked how it stands (30 seconds),
	// doubling up to an hour.
	ConfirmWithin time.Duration `json:"confirm_within,omitempty"`
	PollEvery     time.Duration `json:"poll_every,omitempty"`
}

// DefaultGoldPolicy is the deadlines of a Gold certification.
var DefaultGoldPolicy = GoldPolicy{
	Period: 365 * 24 * time.Hour, RenewalNotice: 30 * 24 * time.Hour,
	Grace: 14 * 24 * time.Hour, RetryEvery: 3 * 24 * time.Hour,
	ConfirmWithin: 72 * time.Hour, PollEvery: 30 * time.Second,
}

// WithDefaults is p with its zero fields set to the defaults, and the
// notice and retries within the period and grace they belong to.
func (p GoldPolicy) WithDefaults() GoldPolicy {
	d := DefaultGoldPolicy
	set := func(dst *time.Duration, v time.Duration) {
		if v > 0 {
			*dst = v
		}
	}
	set(&d.Period, p.Period)
	set(&d.RenewalNotice, p.RenewalNotice)
	set(&d.Grace, p.Grace)
	set(&d.RetryEvery, p.RetryEvery)
	set(&d.ConfirmWithin, p.ConfirmWithin)
	set(&d.PollEvery, p.PollEvery)
	d.RenewalNotice = min(d.RenewalNotice, d.Period)
	d.RetryEvery = min(d.RetryEvery, d.Grace)
	return d
}

// GoldInput starts a certification, or carries it into its next year.
type GoldInput struct {
	ID          string     `json:"id"`
	OrgID       string     `json:"org_id"`
	RequestedBy string     `json:"requested_by"`
	Fee         int64      `json:"fee"`
	Currency    string     `json:"currency"`
	Policy      GoldPolicy `json:"policy,omitzero"`
	// Carry is the certification as the year before left it; nil for a
	// new one.
	Carry *GoldCarry `json:"carry,omitempty"`
}

// GoldCarry is what a paid year hands the next.
type GoldCarry struct {
	Seq       int       `json:"seq"`
	Years     int       `json:"years"`
	PaidUntil time.Time `json:"paid_until"`
	AutoRenew bool      `json:"auto_renew"`
	// Payer and SavedBy name the card the provider keeps: its customer
	// and the charge it was saved with.
	Payer   string `json:"payer"`
	SavedBy string `json:"saved_by"`
}

// GoldStatus is where a certification stands, as its query and updates
// answer it.
type GoldStatus struct {
	Status    string    `json:"status"`
	Years     int       `json:"years"`
	PaidUntil time.Time `json:"paid_until,omitzero"`
	PayBy     time.Time `json:"pay_by,omitzero"`
	AutoRenew bool      `json:"auto_renew"`
	Reason    string    `json:"reason,omitempty"`
	// Provider and PaymentID name the charge the supplier's client is to
	// confirm (the first year's, or a past-due year's); Awaiting says it
	// is still to be confirmed.
	Provider  string `json:"provider,omitempty"`
	PaymentID string `json:"payment_id,omitempty"`
	Awaiting  bool   `json:"awaiting,omitempty"`
}

// GoldAutoRenewRequest turns a certification's renewal off or on.
type GoldAutoRenewRequest struct {
	Actor     Actor `json:"actor"`
	AutoRenew bool  `json:"auto_renew"`
}

// GoldPayRequest is the supplier paying a past-due year with its client.
type GoldPayRequest struct {
	Actor Actor `json:"actor"`
}

// goldCertification is a GoldCertification's state.
type goldCertification struct {
	in     GoldInput
	policy GoldPolicy
	GoldStatus
	seq     int
	payer   string
	savedBy string
	// manual is the charge the supplier's client is confirming for a
	// past-due year, and pays how many such charges were made.
	manual activities.ChargeResult
	pays   int
	// changes counts this year's renewal changes.
	changes int
	// manualBy is when the supplier's payment has had its time to be
	// confirmed (ConfirmWithin after it was made).
	manualBy time.Time
	// nextPoll is when the provider is next asked how manual stands, and
	// poll the wait after that.
	nextPoll time.Time
	poll     time.Duration
	// started says the first charge's outcome is written (activated or
	// failed): UpdateGoldOutcome answers once what it answers is stored.
	started bool
	mu      workflow.Mutex
}

// GoldCertification runs a supplier's Gold certification for a year (the
// first, or the one in.Carry leads to), continuing as new into the next
// once it is paid, and answers its final status.
func GoldCertification(ctx workflow.Context, in GoldInput) (string, error) {
	g := &goldCertification{in: in, policy: in.Policy.WithDefaults(), mu: workflow.NewMutex(ctx)}
	g.Status, g.AutoRenew = activities.GoldIsPending, true
	if c := in.Carry; c != nil {
		g.Status, g.seq, g.Years, g.PaidUntil, g.AutoRenew = activities.GoldIsActive, c.Seq, c.Years, c.PaidUntil, c.AutoRenew
		g.payer, g.savedBy = c.Payer, c.SavedBy
		g.started = true
	}
	if err := g.handle(ctx); err != nil {
		return "", err
	}
	if in.Carry == nil {
		if err := g.start(ctx); err != nil {
			return g.Status, err
		}
	}
	if g.Status == activities.GoldIsActive {
		if err := g.runYear(ctx); err != nil {
			return g.Status, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return g.Status, err
	}
	if g.Status == activities.GoldIsActive {
		next := in
		next.Carry = &GoldCarry{Seq: g.seq, Years: g.Years, PaidUntil: g.PaidUntil, AutoRenew: g.AutoRenew, Payer: g.payer, SavedBy: g.savedBy}
		return g.Status, workflow.NewContinueAsNewError(ctx, GoldWorkflowName, next)
	}
	return g.Status, nil
}

func (g *goldCertification) handle(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryGold, func() (GoldStatus, error) { return g.GoldStatus, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandler(ctx, UpdateGoldOutcome, func(ctx workflow.Context) (GoldStatus, error) {
		_, err := workflow.AwaitWithTimeout(ctx, goldOutcomeWait, func() bool { return g.started || g.Awaiting })
		return g.GoldStatus, err
	}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateGoldAutoRenew, g.setAutoRenew, workflow.UpdateHandlerOptions{
		Validator: func(_ workflow.Context, r GoldAutoRenewRequest) error { return g.canSetAutoRenew(r) },
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateGoldPay, g.pay, workflow.UpdateHandlerOptions{
		Validator: func(_ workflow.Context, r GoldPayRequest) error { return g.canPay(r) },
	})
}

func (g *goldCertification) isSupplier(a Actor) bool {
	return a.Role == RoleSupplier && a.OrgID == g.in.OrgID
}

func (g *goldCertification) canSetAutoRenew(r GoldAutoRenewRequest) error {
	if !g.isSupplier(r.Actor) {
		return reject(RejectNotAllowed, "only the certified supplier may change its renewal")
	}
	if g.Status != activities.GoldIsActive {
		return reject(RejectWrongStage, "the certification is %s: only an active one's renewal can change", g.Status)
	}
	if r.AutoRenew != g.AutoRenew && g.changes >= MaxGoldChangesPerYear {
		return reject(RejectLimit, "the renewal may change at most %d times a year", MaxGoldChangesPerYear)
	}
	return nil
}

// setAutoRenew stops or resumes the renewal: a stopped one ends when the
// paid time does, and nothing more is charged.
func (g *goldCertification) setAutoRenew(ctx workflow.Context, r GoldAutoRenewRequest) (GoldStatus, error) {
	if err := g.mu.Lock(ctx); err != nil {
		return g.GoldStatus, err
	}
	defer g.mu.Unlock()
	if err := g.canSetAutoRenew(r); err != nil || g.AutoRenew == r.AutoRenew {
		return g.GoldStatus, err
	}
	g.AutoRenew = r.AutoRenew
	g.changes++
	action := activities.GoldAutoRenewOff
	if r.AutoRenew {
		action = activities.GoldAutoRenewOn
	}
	return g.GoldStatus, g.recordLocked(ctx, action, r.Actor.UserID, activities.ChargeResult{})
}

func (g *goldCertification) canPay(r GoldPayRequest) error {
	if !g.isSupplier(r.Actor) {
		return reject(RejectNotAllowed, "only the certified supplier may pay its certification")
	}
	if g.Status != activities.GoldIsPastDue {
		return reject(RejectWrongStage, "the certification is %s: nothing is due", g.Status)
	}
	if g.manual.PaymentID == "" && g.pays >= MaxGoldChangesPerYear {
		return reject(RejectLimit, "at most %d payments may be made for a year", MaxGoldChangesPerYear)
	}
	return nil
}

// pay makes the charge the supplier's client confirms for a past-due year
// (saving the card it is confirmed with), or answers the one already
// made and still to confirm.
func (g *goldCertification) pay(ctx workflow.Context, r GoldPayRequest) (GoldStatus, error) {
	if err := g.mu.Lock(ctx); err != nil {
		return g.GoldStatus, err
	}
	defer g.mu.Unlock()
	if err := g.canPay(r); err != nil || g.manual.PaymentID != "" {
		return g.GoldStatus, err
	}
	g.pays++
	res, err := g.charge(ctx, fmt.Sprintf("year-%d/pay-%d", g.Years+1, g.pays))
	if reason, declined := declinedReason(err); declined {
		return g.GoldStatus, reject(RejectInvalid, "the payment was refused: %s", reason)
	}
	if err != nil {
		return g.GoldStatus, err
	}
	g.manual, g.poll = res, g.policy.PollEvery
	g.nextPoll = workflow.Now(ctx).Add(g.poll)
	g.manualBy = workflow.Now(ctx).Add(g.policy.ConfirmWithin)
	g.Provider, g.PaymentID, g.Awaiting = res.Provider, res.PaymentID, res.Status != string(PaymentSucceeded)
	return g.GoldStatus, nil
}

// goldMoneyOptions retry a charge a bounded number of times: a provider
// that does not answer fails the charge, it does not stall the year.
var goldMoneyOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		MaximumAttempts:        goldChargeAttempts,
		NonRetryableErrorTypes: []string{activities.ErrPaymentDeclined, "NotConfigured"},
	},
}

// goldRecordOptions retry a step's write until it is written; a step
// that cannot be written fails the workflow, which the Temporal UI shows.
var goldRecordOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 50,
		NonRetryableErrorTypes: []string{"NotConfigured"},
	},
}

func (g *goldCertification) key(step string) string { return GoldWorkflowID(g.in.ID) + "/" + step }

func (g *goldCertification) chargeInput(step string) activities.ChargeInput {
	return activities.ChargeInput{
		DealID: "gold-" + g.in.ID, Step: activities.GoldStep, BuyerOrgID: g.in.OrgID,
		Amount: g.in.Fee, Currency: g.in.Currency, IdempotencyKey: g.key(step), SaveForLater: true,
	}
}

// charge makes a charge the supplier's client confirms, saving its card.
func (g *goldCertification) charge(ctx workflow.Context, step string) (activities.ChargeResult, error) {
	var res activities.ChargeResult
	actx := withSummary(workflow.WithActivityOptions(ctx, goldMoneyOptions), "charge the Gold fee %s", money.Format(g.in.Fee, g.in.Currency))
	err := workflow.ExecuteActivity(actx, acts.Charge, g.chargeInput(step)).Get(ctx, &res)
	return res, err
}

// chargeSaved charges the saved card without the supplier.
func (g *goldCertification) chargeSaved(ctx workflow.Context, step string) (activities.ChargeResult, error) {
	var res activities.ChargeResult
	in := activities.SavedChargeInput{ChargeInput: g.chargeInput(step), Payer: g.payer, SavedBy: g.savedBy}
	in.SaveForLater = false
	actx := withSummary(workflow.WithActivityOptions(ctx, goldMoneyOptions), "renew: charge the saved card %s", money.Format(g.in.Fee, g.in.Currency))
	err := workflow.ExecuteActivity(actx, acts.ChargeSaved, in).Get(ctx, &res)
	return res, err
}

// declinedReason tells a charge refused for good (declined, or a provider
// that did not answer through every try) from a workflow error.
func declinedReason(err error) (string, bool) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == activities.ErrPaymentDeclined {
		return appErr.Message(), true
	}
	var actErr *temporal.ActivityError
	if errors.As(err, &actErr) && !temporal.IsCanceledError(err) {
		return "the payment provider did not answer", true
	}
	return "", false
}

// settle waits for a charge to be confirmed, asking the provider how it
// stands, and answers whether it succeeded and, if not, why.
func (g *goldCertification) settle(ctx workflow.Context, res activities.ChargeResult) (bool, string, error) {
	final, err := pollPayment(ctx, paymentPoll{
		What: "Gold fee's charge", Ref: "gold-" + g.in.ID, PaymentID: res.PaymentID, Status: res.Status,
		Within: g.policy.ConfirmWithin, Every: g.policy.PollEvery, Options: goldMoneyOptions,
	})
	switch {
	case err != nil:
		return false, "", err
	case final == string(PaymentSucceeded):
		return true, "", nil
	case final == paymentFailed:
		return false, "the payment provider failed the charge", nil
	}
	return false, fmt.Sprintf("the charge was not confirmed within %s", g.policy.ConfirmWithin), nil
}

// start charges the first year and activates the certification, or
// records that its charge failed.
func (g *goldCertification) start(ctx workflow.Context) error {
	res, err := g.charge(ctx, "year-1/pay-1")
	if reason, declined := declinedReason(err); declined {
		return g.fail(ctx, reason)
	}
	if err != nil {
		return err
	}
	g.Provider, g.PaymentID, g.Awaiting = res.Provider, res.PaymentID, res.Status != string(PaymentSucceeded)
	ok, reason, err := g.settle(ctx, res)
	if err != nil {
		return err
	}
	if !ok {
		return g.fail(ctx, reason)
	}
	g.payer, g.savedBy = res.Payer, res.PaymentID
	g.Status, g.Years, g.PaidUntil, g.Awaiting = activities.GoldIsActive, 1, workflow.Now(ctx).Add(g.policy.Period), false
	err = g.record(ctx, activities.GoldActivated, g.in.RequestedBy, res)
	g.started = err == nil
	return err
}

func (g *goldCertification) fail(ctx workflow.Context, reason string) error {
	g.Status, g.Reason, g.Awaiting = activities.GoldHasFailed, bounds.Clean(reason, 500), false
	err := g.record(ctx, activities.GoldFailed, "", activities.ChargeResult{})
	g.started = err == nil
	return err
}

// runYear reminds the supplier before the paid year ends, then at its end
// renews it, ends it, or lets it lapse.
func (g *goldCertification) runYear(ctx workflow.Context) error {
	if err := sleepUntil(ctx, g.PaidUntil.Add(-g.policy.RenewalNotice), "until the renewal notice"); err != nil {
		return err
	}
	if err := g.record(ctx, activities.GoldRenewalReminder, "", activities.ChargeResult{}); err != nil {
		return err
	}
	if err := sleepUntil(ctx, g.PaidUntil, "until the paid year ends"); err != nil {
		return err
	}
	if err := g.mu.Lock(ctx); err != nil {
		return err
	}
	err := g.renew(ctx)
	g.mu.Unlock()
	if err != nil || g.Status != activities.GoldIsPastDue {
		return err
	}
	return g.awaitPayment(ctx)
}

// renew takes the end of a paid year, under the lock: the end of a
// certification the supplier stopped, the lapse of one whose supplier is
// no longer verified, or the saved card's charge, paid or past due.
func (g *goldCertification) renew(ctx workflow.Context) error {
	if !g.AutoRenew {
		g.Status = activities.GoldHasEnded
		return g.recordLocked(ctx, activities.GoldEnded, "", activities.ChargeResult{})
	}
	var verifiedUntil time.Time
	actx := withSummary(workflow.WithActivityOptions(ctx, goldRecordOptions), "is the supplier still verified")
	if err := workflow.ExecuteActivity(actx, acts.GoldVerifiedUntil, g.in.OrgID).Get(ctx, &verifiedUntil); err != nil {
		return err
	}
	if !verifiedUntil.After(workflow.Now(ctx)) {
		g.Status, g.Reason = activities.GoldHasLapsed, "the supplier is no longer verified: Gold requires verification"
		return g.recordLocked(ctx, activities.GoldLapsed, "", activities.ChargeResult{})
	}
	paid, err := g.trySavedCard(ctx, 1)
	if err != nil || paid {
		return err
	}
	g.Status, g.PayBy = activities.GoldIsPastDue, g.PaidUntil.Add(g.policy.Grace)
	return g.recordLocked(ctx, activities.GoldPaymentFailed, "", activities.ChargeResult{})
}

// trySavedCard charges the saved card for the next year: paid, the year
// is booked from the end of the last; declined, Reason says why.
func (g *goldCertification) trySavedCard(ctx workflow.Context, attempt int) (bool, error) {
	res, err := g.chargeSaved(ctx, fmt.Sprintf("year-%d/auto-%d", g.Years+1, attempt))
	if err == nil {
		ok, reason, serr := g.settle(ctx, res)
		if serr != nil {
			return false, serr
		}
		if ok {
			return true, g.renewed(ctx, res, g.PaidUntil)
		}
		err = temporal.NewNonRetryableApplicationError(reason, activities.ErrPaymentDeclined, nil)
	}
	reason, declined := declinedReason(err)
	if !declined {
		return false, err
	}
	g.Reason = bounds.Clean(reason, 500)
	return false, nil
}

// renewed books a paid year from its start.
func (g *goldCertification) renewed(ctx workflow.Context, res activities.ChargeResult, from time.Time) error {
	g.Status, g.Years, g.PaidUntil = activities.GoldIsActive, g.Years+1, from.Add(g.policy.Period)
	g.PayBy, g.Reason, g.Provider, g.PaymentID, g.Awaiting = time.Time{}, "", "", "", false
	return g.recordLocked(ctx, activities.GoldRenewed, "", res)
}

// awaitPayment keeps a past-due certification until it is paid, by the
// saved card tried again every RetryEvery or by the supplier's own
// payment (UpdateGoldPay), or lapses it at PayBy. The saved card is not
// tried while the supplier's payment waits to be confirmed: the year is
// charged once. A year paid late runs from its payment.
func (g *goldCertification) awaitPayment(ctx workflow.Context) error {
	retry, attempt := g.PaidUntil.Add(g.policy.RetryEvery), 1
	for g.Status == activities.GoldIsPastDue {
		wake := g.lapseAt()
		if g.manual.PaymentID == "" {
			wake = minTime(wake, retry)
		} else {
			wake = minTime(wake, g.nextPoll)
		}
		seen := g.manual.PaymentID
		if d := wake.Sub(workflow.Now(ctx)); d > 0 {
			if _, err := workflow.AwaitWithTimeout(ctx, d, func() bool { return g.manual.PaymentID != seen }); err != nil {
				return err
			}
		}
		if err := g.mu.Lock(ctx); err != nil {
			return err
		}
		err := g.pastDue(ctx, &retry, &attempt)
		g.mu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// lapseAt is when a past-due certification lapses: at PayBy, or, when
// the supplier's payment still waits to be confirmed then, once it has
// had its time: a year being paid does not lapse under the payment.
func (g *goldCertification) lapseAt() time.Time {
	if g.manual.PaymentID != "" && g.manualBy.After(g.PayBy) {
		return g.manualBy
	}
	return g.PayBy
}

// pastDue takes whichever of a past-due certification's events is due,
// under the lock: the supplier's payment confirmed or failed, the lapse,
// or the saved card's next try.
func (g *goldCertification) pastDue(ctx workflow.Context, retry *time.Time, attempt *int) error {
	now := workflow.Now(ctx)
	if m := g.manual; m.PaymentID != "" && (m.Status == string(PaymentSucceeded) || !now.Before(g.nextPoll) || !now.Before(g.lapseAt())) {
		status := m.Status
		if status != string(PaymentSucceeded) {
			actx := withSummary(workflow.WithActivityOptions(ctx, goldMoneyOptions), "ask how the supplier's payment stands")
			err := workflow.ExecuteActivity(actx, acts.PaymentStatus, activities.PaymentStatusInput{
				DealID: "gold-" + g.in.ID, ProviderPaymentID: m.PaymentID}).Get(ctx, &status)
			if temporal.IsCanceledError(err) {
				return err
			}
			if err != nil {
				status = "pending"
			}
		}
		g.poll = min(2*g.poll, time.Hour)
		g.nextPoll = now.Add(g.poll)
		switch status {
		case string(PaymentSucceeded):
			// The card the supplier paid with is the one kept.
			g.manual, g.payer, g.savedBy = activities.ChargeResult{}, m.Payer, m.PaymentID
			return g.renewed(ctx, m, now)
		case paymentFailed:
			g.manual, g.Provider, g.PaymentID, g.Awaiting = activities.ChargeResult{}, "", "", false
			g.Reason = "the supplier's payment failed"
		}
	}
	if !now.Before(g.lapseAt()) {
		g.Status, g.Reason = activities.GoldHasLapsed, "the year was not paid within the grace period"
		g.Provider, g.PaymentID, g.Awaiting = "", "", false
		return g.recordLocked(ctx, activities.GoldLapsed, "", activities.ChargeResult{})
	}
	if g.manual.PaymentID != "" || now.Before(*retry) {
		return nil
	}
	*attempt++
	*retry = retry.Add(g.policy.RetryEvery)
	paid, err := g.trySavedCard(ctx, *attempt)
	if err != nil || paid {
		return err
	}
	return g.recordLocked(ctx, activities.GoldPaymentFailed, "", activities.ChargeResult{})
}

// record writes a step under the lock.
func (g *goldCertification) record(ctx workflow.Context, action, actor string, res activities.ChargeResult) error {
	if err := g.mu.Lock(ctx); err != nil {
		return err
	}
	defer g.mu.Unlock()
	return g.recordLocked(ctx, action, actor, res)
}

// recordLocked writes the next step and the status after it; the lock
// keeps the steps in the order they are numbered.
func (g *goldCertification) recordLocked(ctx workflow.Context, action, actor string, res activities.ChargeResult) error {
	g.seq++
	e := activities.GoldEvent{
		CertificationID: g.in.ID, OrgID: g.in.OrgID, Seq: g.seq, Action: action, Actor: actor,
		Status: g.Status, AutoRenew: g.AutoRenew, Years: g.Years, PaidUntil: g.PaidUntil, PayBy: g.PayBy,
		Fee: g.in.Fee, Currency: g.in.Currency, Reason: g.Reason, At: workflow.Now(ctx),
	}
	if e.Paid() {
		e.Provider, e.PaymentID = res.Provider, res.PaymentID
	}
	actx := withSummary(workflow.WithActivityOptions(ctx, goldRecordOptions), "record %s", action)
	return workflow.ExecuteActivity(actx, acts.RecordGoldStep, e).Get(ctx, nil)
}

// sleepUntil sleeps until at, if it is ahead.
func sleepUntil(ctx workflow.Context, at time.Time, summary string) error {
	if d := at.Sub(workflow.Now(ctx)); d > 0 {
		return sleep(ctx, d, summary)
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
