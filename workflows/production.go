package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/internal/notice"
)

// startProduction begins manufacturing once the deposit is in escrow; the
// goods must be ready by the inquiry's ship-by date, or within the quote's
// lead time of the deposit when the inquiry named none.
func (d *deal) startProduction(ctx workflow.Context) {
	shipBy := d.in.Inquiry.ShipBy
	if shipBy.IsZero() {
		shipBy = workflow.Now(ctx).Add(time.Duration(d.acceptedQuote().LeadTimeDays) * 24 * time.Hour)
	}
	d.state.Production = &Production{ShipBy: shipBy}
	d.state.Deadlines[DeadlineShipBy] = shipBy
	d.notify(d.state.SupplierID, "deposit_secured", notice.Facts{Due: shipBy})
	d.setStage(ctx, StageProduction)
}

func (d *deal) checkProgress(_ workflow.Context, in ProgressInput) error {
	if err := d.needStage(StageProduction); err != nil {
		return err
	}
	if err := d.needSupplier(in.Actor); err != nil {
		return err
	}
	if in.Percent < 0 || in.Percent > 100 {
		return reject(RejectInvalid, "percent must be between 0 and 100")
	}
	if len(d.state.Production.Progress) >= MaxProgressReports {
		return limitReached("a deal takes at most %d progress reports", MaxProgressReports)
	}
	if n := len(d.state.Production.Progress); n > 0 && in.Percent < d.state.Production.Progress[n-1].Percent {
		return reject(RejectInvalid, "progress cannot go back from %d%%", d.state.Production.Progress[n-1].Percent)
	}
	return nil
}

func (d *deal) reportProgress(ctx workflow.Context, in ProgressInput) {
	d.state.Production.Progress = append(d.state.Production.Progress, ProgressReport{Percent: in.Percent, Note: in.Note, At: workflow.Now(ctx)})
	d.event(ctx, EventProductionProgress, in.Actor.OrgID, fmt.Sprintf("%d%% %s", in.Percent, in.Note))
}

func (d *deal) checkMarkReady(_ workflow.Context, in ActorInput) error {
	if err := d.needStage(StageProduction); err != nil {
		return err
	}
	return d.needSupplier(in.Actor)
}

func (d *deal) markReady(ctx workflow.Context, in ActorInput) {
	now := workflow.Now(ctx)
	d.state.Production.ReadyAt = now
	delete(d.state.Deadlines, DeadlineShipBy)
	d.state.Deadlines[DeadlineBalanceDue] = now.Add(d.in.Policy.BalanceDue)
	d.event(ctx, EventReadyToShip, in.Actor.OrgID, in.Note)
	d.notify(d.in.Inquiry.BuyerOrgID, "balance_due", d.money(d.state.Balance, notice.Facts{Within: d.in.Policy.BalanceDue}))
	d.setStage(ctx, StageBalance)
}

func (d *deal) checkExtend(ctx workflow.Context, in ExtendInput) error {
	if err := d.needStage(StageProduction); err != nil {
		return err
	}
	if err := d.needBuyer(in.Actor); err != nil {
		return err
	}
	if !d.state.Production.Late {
		return reject(RejectWrongStage, "production is not late")
	}
	if d.state.Production.Extensions >= MaxShipByExtensions {
		return limitReached("the ship-by date can be extended at most %d times", MaxShipByExtensions)
	}
	if !in.NewShipBy.After(workflow.Now(ctx)) {
		return reject(RejectInvalid, "the new ship-by date must be in the future")
	}
	return nil
}

func (d *deal) extendShipBy(ctx workflow.Context, in ExtendInput) {
	p := d.state.Production
	p.ShipBy, p.Late = in.NewShipBy, false
	p.Extensions++
	d.state.Deadlines[DeadlineShipBy] = in.NewShipBy
	d.event(ctx, EventShipByExtended, in.Actor.OrgID, in.NewShipBy.Format(time.RFC3339))
	d.notify(d.state.SupplierID, "ship_by_extended", notice.Facts{Due: in.NewShipBy})
}
