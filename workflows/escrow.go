package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
)

// amountDue is what the buyer owes for a payment step at the current stage.
func (d *deal) amountDue(step string) (int64, error) {
	switch step {
	case activities.StepSample:
		if err := d.needStage(StageSample); err != nil {
			return 0, err
		}
		s := d.state.Sample
		if s.Paid || s.Price == 0 {
			return 0, reject(RejectWrongStage, "the sample needs no payment")
		}
		return s.Price, nil
	case activities.StepDeposit:
		return d.state.Deposit - d.couponed(activities.StepDeposit), d.needStage(StageDeposit)
	case activities.StepBalance:
		return d.state.Balance, d.needStage(StageBalance)
	}
	return 0, reject(RejectInvalid, "unknown payment step %q", step)
}

// activeCharge is the latest charge of a step, or nil.
func (d *deal) activeCharge(step string) *Payment {
	for i := len(d.state.Payments) - 1; i >= 0; i-- {
		if p := &d.state.Payments[i]; p.Kind == PaymentCharge && p.Step == step {
			return p
		}
	}
	return nil
}

func (d *deal) checkPay(_ workflow.Context, in PayInput) error {
	if err := d.needBuyer(in.Actor); err != nil {
		return err
	}
	if _, err := d.amountDue(in.Step); err != nil {
		return err
	}
	if p := d.activeCharge(in.Step); p != nil {
		switch p.Status {
		case PaymentPending:
			return reject(RejectWrongStage, "the %s payment %s is waiting for confirmation", in.Step, p.ID)
		case PaymentSucceeded:
			return reject(RejectWrongStage, "the %s is already paid", in.Step)
		}
	}
	return nil
}

// pay starts the buyer's payment of one step at the provider. A charge whose
// outcome is unknown (the provider did not answer) keeps its idempotency key,
// so trying again can never charge twice; only a definite failure (declined,
// or failed by the provider) lets the next try use a new key.
func (d *deal) pay(ctx workflow.Context, in PayInput) (PayResult, error) {
	if err := d.payMu.Lock(ctx); err != nil {
		return PayResult{}, err
	}
	defer d.payMu.Unlock()
	if err := d.checkPay(ctx, in); err != nil { // another payment may have run while this one waited
		return PayResult{}, err
	}
	amount, _ := d.amountDue(in.Step)
	idx := -1
	if p := d.activeCharge(in.Step); p != nil && p.Status == PaymentInitiating {
		for i := range d.state.Payments {
			if &d.state.Payments[i] == p {
				idx = i
			}
		}
	} else {
		if in.Step == activities.StepDeposit {
			if amount = d.redeemCoupon(ctx, amount); amount == 0 {
				return d.paidByCoupon(ctx, in)
			}
		}
		attempt := 1
		for _, p := range d.state.Payments {
			if p.Kind == PaymentCharge && p.Step == in.Step {
				attempt++
			}
		}
		id := fmt.Sprintf("%s-%d", in.Step, attempt)
		d.state.Payments = append(d.state.Payments, Payment{
			ID: id, Kind: PaymentCharge, Step: in.Step, Amount: amount, Currency: d.state.Currency,
			Status: PaymentInitiating, IdempotencyKey: d.wf + "/" + id, CreatedAt: workflow.Now(ctx),
		})
		idx = len(d.state.Payments) - 1
	}
	key := d.state.Payments[idx].IdempotencyKey
	d.change++
	d.cause = ctx.Value(TraceSpanKey)

	var res activities.ChargeResult
	cctx := withSummary(workflow.WithActivityOptions(ctx, interactiveChargeOptions), "charge %s %s", in.Step, money.Format(amount, d.state.Currency))
	err := workflow.ExecuteActivity(cctx, acts.Charge, activities.ChargeInput{
		DealID: d.in.DealID, Step: in.Step, BuyerOrgID: d.in.Inquiry.BuyerOrgID,
		Amount: amount, Currency: d.state.Currency, IdempotencyKey: key,
	}).Get(ctx, &res)
	d.confirmEarly(ctx)
	p := &d.state.Payments[idx]
	d.change++
	var appErr *temporal.ApplicationError
	switch {
	case errors.As(err, &appErr) && appErr.Type() == activities.ErrPaymentDeclined:
		p.Status, p.Reason = PaymentDeclined, appErr.Message()
		d.event(ctx, EventPaymentDeclined, in.Actor.OrgID, fmt.Sprintf("%s %d %s: %s", in.Step, amount, d.state.Currency, p.Reason))
	case err != nil:
		p.Reason = "the payment provider did not answer; try again"
		d.event(ctx, EventPaymentUnconfirmed, in.Actor.OrgID, in.Step)
	default:
		p.Provider, p.ProviderID, p.Reason = res.Provider, res.PaymentID, ""
		p.Status = PaymentPending
		d.event(ctx, EventPaymentStarted, in.Actor.OrgID, fmt.Sprintf("%s %d %s via %s %s", in.Step, amount, d.state.Currency, res.Provider, res.PaymentID))
		if PaymentStatus(res.Status) == PaymentSucceeded {
			d.confirmCharge(ctx, p)
		}
	}
	if d.features >= dealRecordedRounds && p.Status == PaymentSucceeded {
		// Posted here rather than by the main loop afterwards, so the
		// round this payment hands off has it and no round follows.
		if err := d.postCharge(ctx, idx, true); err != nil {
			// The payment answers all the same; the main loop posts it,
			// retrying as long as it takes.
			workflow.GetLogger(ctx).Warn("post a charge from its payment", "deal_id", d.in.DealID, "payment", p.ID, "error", err)
			d.change++
		}
		p = &d.state.Payments[idx]
	}
	out := PayResult{ActionResult: d.result(), PaymentID: p.ID, Provider: p.Provider, ProviderPaymentID: p.ProviderID, Status: p.Status}
	if d.handOff {
		out.Books, err = d.handOffBooks(ctx)
	}
	return out, err
}

// paidByCoupon answers a deposit the buyer's coupon paid in full.
func (d *deal) paidByCoupon(ctx workflow.Context, in PayInput) (PayResult, error) {
	d.cause = ctx.Value(TraceSpanKey)
	d.stepPaid(ctx, in.Step)
	c := d.coupon()
	out := PayResult{ActionResult: d.result(), PaymentID: c.ID, Provider: c.Provider, ProviderPaymentID: c.ProviderID, Status: c.Status}
	var err error
	if d.handOff {
		out.Books, err = d.handOffBooks(ctx)
	}
	return out, err
}

// confirmCharge records captured money in escrow and moves the deal on.
func (d *deal) confirmCharge(ctx workflow.Context, p *Payment) {
	p.Status = PaymentSucceeded
	d.state.Escrow.Held += p.Amount
	d.event(ctx, EventPaymentSucceeded, "", fmt.Sprintf("%s %d %s (%s)", p.Step, p.Amount, p.Currency, p.ProviderID))
	if !d.stepPaid(ctx, p.Step) {
		// A second payment of a step (an earlier attempt that succeeded
		// after all), or one after its stage passed: returned in full.
		p.Excess = true
		d.event(ctx, EventPaymentAfterStage, "", p.ID+" arrived at "+string(d.state.Stage)+"; it is refunded")
	}
}

// stepPaid moves the deal on from the stage that waited for step's
// payment, and reports whether the deal was at that stage.
func (d *deal) stepPaid(ctx workflow.Context, step string) bool {
	switch {
	case step == activities.StepSample && d.state.Stage == StageSample:
		d.state.Sample.Paid = true
		d.notify(d.state.SupplierID, "sample_paid", notice.Facts{})
	case step == activities.StepDeposit && d.state.Stage == StageDeposit:
		delete(d.state.Deadlines, DeadlineDepositDue)
		d.startProduction(ctx)
	case step == activities.StepBalance && d.state.Stage == StageBalance:
		delete(d.state.Deadlines, DeadlineBalanceDue)
		d.notify(d.state.SupplierID, "balance_paid", notice.Facts{})
		d.setStage(ctx, StageShipping)
	default:
		return false
	}
	return true
}

func (d *deal) chargeByProviderID(id string) *Payment {
	for i := range d.state.Payments {
		if p := &d.state.Payments[i]; p.Kind == PaymentCharge && p.ProviderID == id && id != "" {
			return p
		}
	}
	return nil
}

func (d *deal) paymentConfirmed(ctx workflow.Context, s PaymentConfirmed) {
	p := d.chargeByProviderID(s.ProviderPaymentID)
	switch {
	case p == nil:
		// Money for this deal the deal never asked for: count it and give
		// it back, rather than leave it at the provider unaccounted.
		id := "unknown-" + s.ProviderPaymentID
		if d.paymentByID(id) != nil {
			return
		}
		d.state.Payments = append(d.state.Payments, Payment{
			ID: id, Kind: PaymentCharge, Step: "unknown", Amount: s.Amount, Currency: s.Currency, Status: PaymentSucceeded,
			ProviderID: s.ProviderPaymentID, IdempotencyKey: d.wf + "/" + id, CreatedAt: workflow.Now(ctx), Excess: true,
		})
		d.state.Escrow.Held += s.Amount
		d.event(ctx, EventPaymentUnknown, "", "unrequested payment "+s.ProviderPaymentID+" is refunded")
	case p.Status == PaymentSucceeded:
		// a repeated webhook: already counted
	case s.Amount != p.Amount || s.Currency != p.Currency:
		d.event(ctx, EventPaymentMismatch, "", fmt.Sprintf("%s confirmed %d %s, expected %d %s", p.ID, s.Amount, s.Currency, p.Amount, p.Currency))
		d.notify("platform", "payment_mismatch", notice.Facts{Ref: p.ProviderID})
	default:
		d.confirmCharge(ctx, p)
	}
}

func (d *deal) providerEvent(ctx workflow.Context, e ProviderEvent) {
	e.Type, e.ObjectID, e.Detail = bounds.Clean(e.Type, MaxCode*2), bounds.Clean(e.ObjectID, MaxCode*2), bounds.Clean(e.Detail, MaxNote)
	d.event(ctx, EventProvider(e.Type), "", e.ObjectID+" "+e.Detail)
	if e.Type == "charge.dispute.created" {
		d.notify("platform", "card_dispute", notice.Facts{Ref: e.ObjectID})
	}
}

func (d *deal) paymentFailed(ctx workflow.Context, s PaymentFailed) {
	p := d.chargeByProviderID(s.ProviderPaymentID)
	if p == nil || p.Status != PaymentPending {
		return
	}
	p.Status, p.Reason = PaymentDeclined, s.Reason
	d.event(ctx, EventPaymentFailed, "", fmt.Sprintf("%s: %s", p.ID, s.Reason))
	d.notify(d.in.Inquiry.BuyerOrgID, "payment_failed", notice.Facts{Step: p.Step, Reason: s.Reason})
}

// reconcile asks the provider about every charge whose confirmation is
// overdue, so a lost webhook never stalls a deal.
func (d *deal) reconcile(ctx workflow.Context) error {
	actx := workflow.WithActivityOptions(ctx, bookkeepingOptions)
	now := workflow.Now(ctx)
	for i := range d.state.Payments {
		p := d.state.Payments[i]
		if p.Kind != PaymentCharge || p.Status != PaymentPending {
			continue
		}
		if now.Before(p.nextCheck(d.in.Policy.PaymentReconcile)) {
			continue
		}
		var status string
		if err := workflow.ExecuteActivity(withSummary(actx, "ask the provider about %s payment %s", p.Step, p.ID), acts.PaymentStatus, activities.PaymentStatusInput{
			DealID: d.in.DealID, ProviderPaymentID: p.ProviderID,
		}).Get(ctx, &status); err != nil {
			return fmt.Errorf("reconcile %s: %w", p.ID, err)
		}
		cur := &d.state.Payments[i]
		if cur.Status != PaymentPending { // a signal settled it meanwhile
			continue
		}
		cur.CheckedAt = workflow.Now(ctx)
		d.touch()
		switch PaymentStatus(status) {
		case PaymentSucceeded:
			d.event(ctx, EventPaymentReconciled, "", cur.ID+" confirmed by asking the provider")
			d.confirmCharge(ctx, cur)
		case PaymentDeclined:
			d.paymentFailed(ctx, PaymentFailed{ProviderPaymentID: cur.ProviderID, Reason: "the provider reports it failed"})
		}
		d.change++
	}
	return nil
}

// postConfirmedCharges puts each captured charge into the deal's escrow
// account in the ledger, once.
func (d *deal) postConfirmedCharges(ctx workflow.Context) error {
	for i := range d.state.Payments {
		if err := d.postCharge(ctx, i, false); err != nil {
			return err
		}
	}
	return nil
}

// postCharge puts the i-th payment into the deal's escrow account in the
// ledger if it is a captured charge not yet posted, nor being posted;
// localOnly makes only the local attempts (quickLocal).
func (d *deal) postCharge(ctx workflow.Context, i int, localOnly bool) error {
	p := d.state.Payments[i]
	if p.Kind != PaymentCharge || p.Status != PaymentSucceeded || p.Posted || d.posting[p.ID] {
		return nil
	}
	d.posting[p.ID] = true
	defer delete(d.posting, p.ID)
	summary := fmt.Sprintf("post %s %s into escrow", p.Step, money.Format(p.Amount, p.Currency))
	posting := activities.Posting{
		IdempotencyKey: p.IdempotencyKey + "/escrow", DealID: d.in.DealID, Kind: p.Step,
		Memo: fmt.Sprintf("%s payment %s into escrow", p.Step, p.ProviderID),
		Lines: []activities.Line{
			{Account: activities.BuyerAccount(d.in.Inquiry.BuyerOrgID), Amount: -p.Amount, Currency: p.Currency},
			{Account: activities.EscrowAccount(d.in.DealID), Amount: p.Amount, Currency: p.Currency},
		},
	}
	var err error
	if localOnly {
		err = quickLocal(ctx, &d.quickRunning, moneyOptions, summary, acts.PostLedger, posting)
	} else {
		err = quickly(ctx, d.localBooks, &d.quickRunning, moneyOptions, summary, acts.PostLedger, posting)
	}
	if err != nil {
		return fmt.Errorf("post %s to the ledger: %w", p.ID, err)
	}
	d.state.Payments[i].Posted = true
	d.touch()
	return nil
}

// refundExcess returns every captured payment the deal did not ask for.
func (d *deal) refundExcess(ctx workflow.Context) error {
	for i := range d.state.Payments {
		p := d.state.Payments[i]
		if p.Kind == PaymentCharge && p.Status == PaymentSucceeded && p.Posted && p.Excess && !p.Settled {
			if err := d.payout(ctx, []string{p.ID}, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

// paySampleOut releases the sample payment once the buyer has judged it.
func (d *deal) paySampleOut(ctx workflow.Context) error {
	s := d.state.Sample
	if s == nil || (s.Status != SampleApproved && s.Status != SampleRejected) {
		return nil
	}
	p := d.activeCharge(activities.StepSample)
	if p == nil || p.Status != PaymentSucceeded || p.Settled || p.Excess {
		return nil
	}
	return d.payout(ctx, []string{p.ID}, p.Amount)
}

// goodsHeld is the deposit and balance still in escrow.
func (d *deal) goodsHeld() int64 { return d.state.GoodsHeld() }

// settle divides whatever the deal still holds as its resolution says: the
// sample payment goes to the supplier if a sample was shipped, else back;
// of the deposit and balance, Resolution.Release goes to the supplier (less
// commission) and the rest back to the buyer. It is the compensation of a
// cancelled or expired deal as much as the payout of a completed one.
func (d *deal) settle(ctx workflow.Context) error {
	r := d.state.Resolution
	if r == nil || r.Done {
		return nil
	}
	if err := d.postConfirmedCharges(ctx); err != nil {
		return err
	}
	if err := d.refundExcess(ctx); err != nil {
		return err
	}
	if p := d.activeCharge(activities.StepSample); p != nil && p.Status == PaymentSucceeded && !p.Settled && !p.Excess {
		release := int64(0)
		if d.sampleEarned() {
			release = p.Amount
		}
		if err := d.payout(ctx, []string{p.ID}, release); err != nil {
			return err
		}
	}
	var goods []string
	for _, p := range d.state.Payments {
		if p.Kind.HoldsEscrow() && p.Status == PaymentSucceeded && !p.Settled && !p.Excess && p.Step != activities.StepSample {
			goods = append(goods, p.ID)
		}
	}
	if len(goods) > 0 {
		if err := d.payout(ctx, goods, min(r.Release, d.goodsHeld())); err != nil {
			return err
		}
	}
	if err := d.rewardReferrer(ctx); err != nil {
		return err
	}
	r.Done = true
	d.event(ctx, EventEscrowSettled, "", fmt.Sprintf("released %d (commission %d), refunded %d %s",
		d.state.Escrow.Released, d.state.Escrow.Commission, d.state.Escrow.Refunded, d.state.Currency))
	return nil
}

func (d *deal) paymentByID(id string) *Payment {
	for i := range d.state.Payments {
		if d.state.Payments[i].ID == id {
			return &d.state.Payments[i]
		}
	}
	return nil
}

// payout settles the named charges: release goes to the supplier across
// them in order, less commission on each released part, and the rest of
// each charge is refunded to the buyer. Each transfer, refund and posting is
// keyed by the charge, so a retried or replayed payout moves money once.
// Deals from dealRecordedRounds start every charge's transfer and refund
// at once and post the settlements when they are done; earlier histories
// replay with one charge settled after the other.
func (d *deal) payout(ctx workflow.Context, chargeIDs []string, release int64) error {
	amounts, steps := make([]int64, len(chargeIDs)), make([]string, len(chargeIDs))
	for i, id := range chargeIDs {
		p := d.paymentByID(id)
		amounts[i], steps[i] = p.Amount, p.Step
	}
	// Commission is taken on each step's release as a whole, so a deposit
	// paid partly by coupon pays what it would have in one charge; a step
	// in one charge (every deal without a coupon) pays what Allocate takes.
	allocs, err := money.AllocateGrouped(amounts, steps, release, d.state.CommissionBP)
	if err != nil {
		return fmt.Errorf("allocate payout: %w", err)
	}
	if d.features < dealRecordedRounds {
		for i, id := range chargeIDs {
			m := moneyMoves{charge: *d.paymentByID(id), alloc: allocs[i]}
			m.transfer = d.startTransfer(ctx, m)
			if err := d.finishMoves(ctx, &m); err != nil {
				return err
			}
			m.transfer, m.refund = nil, d.startRefund(ctx, m)
			if err := d.finishMoves(ctx, &m); err != nil {
				return err
			}
			if err := d.postSettlement(ctx, m); err != nil {
				return err
			}
		}
		return nil
	}
	moves := make([]moneyMoves, len(chargeIDs))
	for i, id := range chargeIDs {
		moves[i] = d.startMoves(ctx, *d.paymentByID(id), allocs[i])
	}
	// Every move is waited for and recorded, even after one failed: the
	// money moved, and a payout tried again must not move it twice.
	var failed error
	for i := range moves {
		if err := d.finishMoves(ctx, &moves[i]); err != nil {
			failed = errors.Join(failed, err)
		}
	}
	for _, m := range moves {
		if m.err != nil {
			continue
		}
		if err := d.postSettlement(ctx, m); err != nil {
			return errors.Join(failed, err)
		}
	}
	return failed
}

// moneyMoves are the transfer to the supplier and the refund to the buyer
// that settle one charge, under way.
type moneyMoves struct {
	charge           Payment
	alloc            money.Allocation
	transfer, refund workflow.Future // nil when the allocation has none
	err              error           // set by finishMoves
}

// startMoves starts the transfer and the refund one charge's allocation
// asks for.
func (d *deal) startMoves(ctx workflow.Context, charge Payment, a money.Allocation) moneyMoves {
	m := moneyMoves{charge: charge, alloc: a}
	m.transfer, m.refund = d.startTransfer(ctx, m), d.startRefund(ctx, m)
	return m
}

// startTransfer starts the transfer to the supplier, nil if there is none.
func (d *deal) startTransfer(ctx workflow.Context, m moneyMoves) workflow.Future {
	if m.alloc.Net <= 0 {
		return nil
	}
	cur := d.state.Currency
	source := m.charge.ProviderID
	if m.charge.Kind == PaymentCoupon {
		source = "" // the platform's own money: from its balance
	}
	actx := workflow.WithActivityOptions(ctx, moneyOptions)
	return workflow.ExecuteActivity(withSummary(actx, "pay out %s to the supplier (%s)", money.Format(m.alloc.Net, cur), m.charge.ID), acts.Transfer, activities.TransferInput{
		DealID: d.in.DealID, SupplierOrgID: d.state.SupplierID, SourcePaymentID: source,
		Amount: m.alloc.Net, Currency: cur, IdempotencyKey: m.charge.IdempotencyKey + "/transfer",
	})
}

// startRefund starts the refund to the buyer, nil if there is none.
func (d *deal) startRefund(ctx workflow.Context, m moneyMoves) workflow.Future {
	if m.alloc.Refunded <= 0 || m.charge.Kind == PaymentCoupon { // a coupon's goes back to it in the settlement's posting
		return nil
	}
	cur := d.state.Currency
	actx := workflow.WithActivityOptions(ctx, moneyOptions)
	return workflow.ExecuteActivity(withSummary(actx, "refund %s to the buyer (%s)", money.Format(m.alloc.Refunded, cur), m.charge.ID), acts.Refund, activities.RefundInput{
		DealID: d.in.DealID, PaymentID: m.charge.ProviderID, Amount: m.alloc.Refunded, Currency: cur, IdempotencyKey: m.charge.IdempotencyKey + "/refund",
	})
}

// finishMoves waits for a charge's transfer and refund, records each that
// is done as a payment of the deal, and returns their failures.
func (d *deal) finishMoves(ctx workflow.Context, m *moneyMoves) error {
	cur, charge, a := d.state.Currency, m.charge, m.alloc
	if m.transfer != nil {
		var tr activities.TransferResult
		key := charge.IdempotencyKey + "/transfer"
		if err := m.transfer.Get(ctx, &tr); err != nil {
			m.err = fmt.Errorf("transfer %s: %w", key, err)
		} else {
			d.state.Payments = append(d.state.Payments, Payment{
				ID: charge.ID + "-transfer", Kind: PaymentTransfer, Step: charge.Step, Amount: a.Net, Currency: cur,
				Status: PaymentSucceeded, Provider: tr.Provider, ProviderID: tr.TransferID, IdempotencyKey: key,
				CreatedAt: workflow.Now(ctx), Posted: true, Settled: true,
			})
		}
	}
	if m.charge.Kind == PaymentCoupon && a.Refunded > 0 {
		d.state.Payments = append(d.state.Payments, Payment{
			ID: charge.ID + "-refund", Kind: PaymentRefund, Step: charge.Step, Amount: a.Refunded, Currency: cur,
			Status: PaymentSucceeded, Provider: charge.Provider, ProviderID: charge.ProviderID, IdempotencyKey: charge.IdempotencyKey + "/refund",
			CreatedAt: workflow.Now(ctx), Posted: true, Settled: true,
		})
	}
	if m.refund != nil {
		var rf activities.RefundResult
		key := charge.IdempotencyKey + "/refund"
		if err := m.refund.Get(ctx, &rf); err != nil {
			m.err = errors.Join(m.err, fmt.Errorf("refund %s: %w", key, err))
		} else {
			d.state.Payments = append(d.state.Payments, Payment{
				ID: charge.ID + "-refund", Kind: PaymentRefund, Step: charge.Step, Amount: a.Refunded, Currency: cur,
				Status: PaymentSucceeded, Provider: rf.Provider, ProviderID: rf.RefundID, IdempotencyKey: key,
				CreatedAt: workflow.Now(ctx), Posted: true, Settled: true,
			})
		}
	}
	return m.err
}

// postSettlement posts a charge's settlement to the ledger once its money
// moved, and counts it in the deal's escrow.
func (d *deal) postSettlement(ctx workflow.Context, m moneyMoves) error {
	cur, charge, a := d.state.Currency, m.charge, m.alloc
	lines := []activities.Line{{Account: activities.EscrowAccount(d.in.DealID), Amount: -a.Charge, Currency: cur}}
	refundTo := activities.BuyerAccount(d.in.Inquiry.BuyerOrgID)
	if charge.Kind == PaymentCoupon {
		refundTo = activities.CouponAccount(charge.ProviderID)
	}
	for _, l := range []activities.Line{
		{Account: activities.SupplierAccount(d.state.SupplierID), Amount: a.Net, Currency: cur},
		{Account: activities.CommissionAccount, Amount: a.Commission, Currency: cur},
		{Account: refundTo, Amount: a.Refunded, Currency: cur},
	} {
		if l.Amount != 0 {
			lines = append(lines, l)
		}
	}
	if err := quickly(ctx, d.localBooks, &d.quickRunning, moneyOptions, fmt.Sprintf("post settlement of %s: release %s", charge.ID, money.Format(a.Released, cur)), acts.PostLedger, activities.Posting{
		IdempotencyKey: charge.IdempotencyKey + "/settle", DealID: d.in.DealID, Kind: "settle",
		Memo:  fmt.Sprintf("%s: released %d (commission %d), refunded %d", charge.ID, a.Released, a.Commission, a.Refunded) + d.state.Resolution.memoNote(),
		Lines: lines,
	}); err != nil {
		return fmt.Errorf("post settlement of %s: %w", charge.ID, err)
	}
	d.paymentByID(charge.ID).Settled = true
	d.state.Escrow.Held -= a.Charge
	d.state.Escrow.Released += a.Released
	d.state.Escrow.Commission += a.Commission
	d.state.Escrow.Refunded += a.Refunded
	d.event(ctx, EventPayout, "", fmt.Sprintf("%s: %d to supplier, %d commission, %d refunded", charge.ID, a.Net, a.Commission, a.Refunded))
	return nil
}
