package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// Who may cancel, by stage: the buyer while quotes come in; either party
// until the deposit is paid; the buyer when production is late (full
// refund). After that, a disagreement is a dispute, not a cancellation.
func (d *deal) checkCancel(_ workflow.Context, in ActorInput) error {
	switch d.state.Stage {
	case StageQuoting:
		return d.needBuyer(in.Actor)
	case StageSample, StageContract, StageDeposit:
		if !d.isParty(in.Actor) {
			return reject(RejectNotAllowed, "only the buyer and the supplier may cancel")
		}
		for _, p := range d.state.Payments {
			if p.Kind == PaymentCharge && (p.Status == PaymentPending || p.Status == PaymentInitiating) {
				return reject(RejectWrongStage, "payment %s is being confirmed; cancel once it settles", p.ID)
			}
		}
		return nil
	case StageProduction:
		if err := d.needBuyer(in.Actor); err != nil {
			return err
		}
		if !d.state.Production.Late {
			return reject(RejectWrongStage, "production is on time; the deal can be cancelled once it is late")
		}
		return nil
	}
	return reject(RejectWrongStage, "a %s deal cannot be cancelled; open a dispute instead", d.state.Stage)
}

func (d *deal) cancel(ctx workflow.Context, in ActorInput) {
	if d.state.Stage == StageQuoting {
		d.closeOpenQuotes(ctx, "")
	}
	d.event(ctx, EventCancelRequested, in.Actor.OrgID, in.Note)
	d.finish(ctx, StageCancelled, EventCancelled, "cancelled by "+string(in.Actor.Role)+": "+in.Note, 0)
}
