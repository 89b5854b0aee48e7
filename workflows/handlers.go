package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// onUpdate registers an update whose validator is check and whose handler
// checks again (the state may have moved between validation and execution),
// applies the change and returns the deal's stage. Inputs with a Validate
// method are held to the deal's limits first. The result stays small, so
// the history grows with the actions and not with the deal's state.
func onUpdate[T any](ctx workflow.Context, d *deal, name string, check func(workflow.Context, T) error, apply func(workflow.Context, T)) error {
	validate := bounded(check)
	return workflow.SetUpdateHandlerWithOptions(ctx, name,
		func(ctx workflow.Context, in T) (ActionResult, error) {
			if err := validate(ctx, in); err != nil {
				return ActionResult{}, err
			}
			d.updateAccepted(ctx)
			apply(ctx, in)
			d.change++
			d.cause = ctx.Value(TraceSpanKey)
			return d.answer(ctx)
		},
		workflow.UpdateHandlerOptions{Validator: validate})
}

// bounded puts the input's own limits (Validate) before check.
func bounded[T any](check func(workflow.Context, T) error) func(workflow.Context, T) error {
	return func(ctx workflow.Context, in T) error {
		if v, ok := any(in).(interface{ Validate() error }); ok {
			if err := invalidInput(v.Validate()); err != nil {
				return err
			}
		}
		return check(ctx, in)
	}
}

func (d *deal) result() ActionResult {
	return ActionResult{DealID: d.in.DealID, Stage: d.state.Stage}
}

// answer is an action's result with its round of bookkeeping for the
// caller to write (Books, versionHandOffBooks), or once the read model has
// the change (for deals that keep their books in one activity per round,
// localBooks): either way its caller reads the deal from the read model
// and reads its own write there afterwards. When the books are failing,
// or take longer than booksWait, the action answers without it.
func (d *deal) answer(ctx workflow.Context) (ActionResult, error) {
	res := d.result()
	if !d.localBooks {
		return res, nil
	}
	if d.handOff {
		b, err := d.handOffBooks(ctx)
		if err != nil || b != nil {
			res.Books = b
			return res, err
		}
		// The round goes through the bookkeeping activity: wait for it.
	}
	seq := len(d.state.Timeline)
	caughtUp := func() bool { return d.projected >= seq && !(d.touched && d.projectTouches) }
	if d.handOff {
		// A round made from now on covers this change.
		want := d.rounds + 1
		caughtUp = func() bool { return d.confirmed >= want }
		_, err := awaitWithin(ctx, booksWait, "wait for the read model", func() bool { return caughtUp() || d.booksBehind })
		res.Projected = caughtUp()
		return res, err
	}
	wait := workflow.AwaitOptions{Timeout: booksWait, TimerOptions: workflow.TimerOptions{Summary: "wait for the read model"}}
	if _, err := workflow.AwaitWithOptions(ctx, wait, func() bool { return caughtUp() || d.booksBehind }); err != nil {
		return res, err
	}
	res.Projected = caughtUp()
	return res, nil
}

// booksWait bounds how long an action waits for the read model to have it.
const booksWait = 5 * time.Second

func (d *deal) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (DealState, error) { return d.state, nil }); err != nil {
		return err
	}
	regs := []func() error{
		func() error { return onUpdate(ctx, d, UpdateSubmitQuote, d.checkQuote, d.submitQuote) },
		func() error { return onUpdate(ctx, d, UpdateDeclineQuote, d.checkDecline, d.declineQuote) },
		func() error { return onUpdate(ctx, d, UpdateCounterOffer, d.checkCounterOffer, d.counterOffer) },
		func() error { return onUpdate(ctx, d, UpdateAcceptQuote, d.checkAccept, d.acceptQuote) },
		func() error { return onUpdate(ctx, d, UpdateRequestSample, d.checkRequestSample, d.requestSample) },
		func() error { return onUpdate(ctx, d, UpdateShipSample, d.checkShipSample, d.shipSample) },
		func() error { return onUpdate(ctx, d, UpdateApproveSample, d.checkJudgeSample, d.approveSampleUpdate) },
		func() error { return onUpdate(ctx, d, UpdateRejectSample, d.checkRejectSample, d.rejectSample) },
		func() error { return onUpdate(ctx, d, UpdateSignContract, d.checkSign, d.sign) },
		func() error { return onUpdate(ctx, d, UpdateReportProgress, d.checkProgress, d.reportProgress) },
		func() error { return onUpdate(ctx, d, UpdateMarkReady, d.checkMarkReady, d.markReady) },
		func() error { return onUpdate(ctx, d, UpdateExtendShipBy, d.checkExtend, d.extendShipBy) },
		func() error { return onUpdate(ctx, d, UpdateAddShipment, d.checkAddShipment, d.addShipment) },
		func() error {
			return onUpdate(ctx, d, UpdateCorrectTracking, d.checkCorrectTracking, d.correctTracking)
		},
		func() error { return onUpdate(ctx, d, UpdateAcceptDelivery, d.checkAcceptDelivery, d.acceptDelivery) },
		func() error { return onUpdate(ctx, d, UpdateOpenDispute, d.checkOpenDispute, d.openDispute) },
		func() error { return onUpdate(ctx, d, UpdateAnswerDispute, d.checkAnswer, d.answerDispute) },
		func() error { return onUpdate(ctx, d, UpdateProposeSettlement, d.checkPropose, d.propose) },
		func() error { return onUpdate(ctx, d, UpdateAcceptSettlement, d.checkAcceptProposal, d.acceptProposal) },
		func() error { return onUpdate(ctx, d, UpdateEscalateDispute, d.checkEscalate, d.escalateUpdate) },
		func() error { return onUpdate(ctx, d, UpdateCancel, d.checkCancel, d.cancel) },
		func() error {
			return onUpdate(ctx, d, UpdateAssignMediator, d.checkAssignMediator, d.assignMediatorUpdate)
		},
		func() error {
			return onUpdate(ctx, d, UpdateReportTracking, d.checkTrackingReport, d.shipmentUpdate)
		},
		func() error {
			// Paying runs the provider call inside the update, so the buyer's
			// client gets what it needs to complete the payment.
			pay := func(ctx workflow.Context, in PayInput) (PayResult, error) {
				d.updateAccepted(ctx)
				return d.pay(ctx, in)
			}
			return workflow.SetUpdateHandlerWithOptions(ctx, UpdatePay, pay,
				workflow.UpdateHandlerOptions{Validator: d.checkPay})
		},
	}
	for _, reg := range regs {
		if err := reg(); err != nil {
			return err
		}
	}
	listen(ctx, d, SignalPaymentConfirmed, d.paymentConfirmed)
	listen(ctx, d, SignalPaymentFailed, d.paymentFailed)
	listen(ctx, d, SignalMediatorDecision, d.mediatorDecision)
	listen(ctx, d, SignalShipmentUpdate, d.shipmentUpdate)
	listen(ctx, d, SignalProviderEvent, d.providerEvent)
	return nil
}

// listen handles every signal of one name, in order, for the deal's life.
func listen[T any](ctx workflow.Context, d *deal, name string, handle func(workflow.Context, T)) {
	ch := workflow.GetSignalChannel(ctx, name)
	d.drains = append(d.drains, func(ctx workflow.Context) bool {
		var v T
		if !ch.ReceiveAsync(&v) {
			return false
		}
		handle(ctx, v)
		d.change++
		return true
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			// Waiting for a value rather than in Receive leaves a delivered
			// signal in the channel until this coroutine runs, so the main
			// loop's drainSignals still finds it when it decides, in the
			// same workflow task, to continue as new. A Receive would hand
			// the signal over at delivery, and the run could end with it
			// taken but not yet handled: lost to the next run.
			if workflow.Await(ctx, func() bool { return ch.Len() > 0 }) != nil {
				return
			}
			var v T
			if !ch.ReceiveAsync(&v) {
				continue
			}
			d.handlingSignals++
			handle(ctx, v)
			d.handlingSignals--
			d.change++
		}
	})
}

// The party checks every validator starts with.

func (d *deal) isBuyer(a Actor) bool {
	return a.Role == RoleBuyer && a.OrgID == d.in.Inquiry.BuyerOrgID
}

func (d *deal) isAwardedSupplier(a Actor) bool {
	return a.Role == RoleSupplier && d.state.SupplierID != "" && a.OrgID == d.state.SupplierID
}

func (d *deal) needStage(want ...Stage) error {
	for _, s := range want {
		if d.state.Stage == s {
			return nil
		}
	}
	return reject(RejectWrongStage, "the deal is %s", d.state.Stage)
}

func (d *deal) needBuyer(a Actor) error {
	if !d.isBuyer(a) {
		return reject(RejectNotAllowed, "only the deal's buyer may do this")
	}
	return nil
}

func (d *deal) needSupplier(a Actor) error {
	if !d.isAwardedSupplier(a) {
		return reject(RejectNotAllowed, "only the deal's supplier may do this")
	}
	return nil
}
