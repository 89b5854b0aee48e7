package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

func (d *deal) checkAddShipment(_ workflow.Context, in ShipmentInput) error {
	if err := d.needStage(StageShipping); err != nil {
		return err
	}
	if err := d.needSupplier(in.Actor); err != nil {
		return err
	}
	if d.state.Shipment != nil {
		return reject(RejectWrongStage, "the goods are already shipped with %s %s", d.state.Shipment.Carrier, d.state.Shipment.TrackingNumber)
	}
	return checkShipment(in)
}

func (d *deal) addShipment(ctx workflow.Context, in ShipmentInput) {
	d.state.Shipment = &Shipment{Carrier: in.Carrier, TrackingNumber: in.TrackingNumber, Status: activities.TrackPending, ShippedAt: workflow.Now(ctx)}
	d.event(ctx, "goods_shipped", in.Actor.OrgID, in.Carrier+" "+in.TrackingNumber)
	d.notify(d.in.Inquiry.BuyerOrgID, "goods_shipped", "Your goods are on their way: "+in.Carrier+" "+in.TrackingNumber)
}

// startTrackers starts a tracking child for each shipment that has none.
func (d *deal) startTrackers(ctx workflow.Context) error {
	if s := d.state.Sample; d.state.Stage == StageSample && s != nil && s.Status == SampleShipped && s.Shipment.Tracker == 0 {
		n, err := d.startTracker(ctx, "sample", s.Shipment)
		if err != nil {
			return err
		}
		s.Shipment.Tracker = n
	}
	if sh := d.state.Shipment; d.state.Stage == StageShipping && sh != nil && sh.Tracker == 0 {
		n, err := d.startTracker(ctx, "goods", sh)
		if err != nil {
			return err
		}
		sh.Tracker = n
	}
	return nil
}

func (d *deal) startTracker(ctx workflow.Context, kind string, sh *Shipment) (int, error) {
	d.trackers++
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: fmt.Sprintf("%s/track-%s-%d", d.wf, kind, d.trackers),
		// The deal ends the tracker when it ends: nobody needs the polling then.
	})
	fut := workflow.ExecuteChildWorkflow(cctx, TrackShipment, TrackingInput{
		DealWorkflowID: d.wf, Kind: kind, Carrier: sh.Carrier, TrackingNumber: sh.TrackingNumber,
		Poll: d.in.Policy.TrackingPoll, Stall: d.in.Policy.TrackingStall, PollsPerRun: d.in.Policy.TrackingPollsPerRun,
	})
	if err := fut.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		return 0, fmt.Errorf("start %s tracking: %w", kind, err)
	}
	return d.trackers, nil
}

func (d *deal) shipmentUpdate(ctx workflow.Context, u ShipmentUpdate) {
	if u.Kind == "sample" {
		d.sampleShipment(ctx, u)
		return
	}
	sh := d.state.Shipment
	if d.state.Stage != StageShipping || sh == nil {
		return
	}
	sh.Status, sh.Events = u.Status, u.Events
	switch u.Status {
	case activities.TrackDelivered:
		now := workflow.Now(ctx)
		sh.DeliveredAt = u.At
		ends := now.Add(d.in.Policy.InspectionWindow)
		d.state.Deadlines[dlInspectionEnds] = ends
		d.state.Deadlines[dlInspectionReminder] = ends.Add(-d.in.Policy.InspectionReminder)
		d.event(ctx, "goods_delivered", "", "inspection until "+ends.Format(time.RFC3339))
		d.notify(d.in.Inquiry.BuyerOrgID, "goods_delivered", "Your goods were delivered: inspect them, then accept or open a dispute.")
		d.setStage(ctx, StageInspection)
	case activities.TrackException, "stalled":
		d.event(ctx, "shipment_"+u.Status, "", sh.Carrier+" "+sh.TrackingNumber)
		d.startDispute(ctx, "system", "shipment_"+u.Status, "", nil)
	default:
		d.event(ctx, "shipment_tracking", "", u.Status)
	}
}

func (d *deal) checkAcceptDelivery(_ workflow.Context, in ActorInput) error {
	if err := d.needStage(StageInspection); err != nil {
		return err
	}
	return d.needBuyer(in.Actor)
}

func (d *deal) acceptDelivery(ctx workflow.Context, in ActorInput) {
	delete(d.state.Deadlines, dlInspectionEnds)
	delete(d.state.Deadlines, dlInspectionReminder)
	d.event(ctx, "goods_accepted", in.Actor.OrgID, in.Note)
	d.finish(ctx, StageCompleted, "accepted", "the buyer accepted the goods", d.goodsHeld())
}

// TrackingInput starts (or continues) a tracking child.
type TrackingInput struct {
	DealWorkflowID string        `json:"deal_workflow_id"`
	Kind           string        `json:"kind"`
	Carrier        string        `json:"carrier"`
	TrackingNumber string        `json:"tracking_number"`
	Poll           time.Duration `json:"poll"`
	Stall          time.Duration `json:"stall"`
	PollsPerRun    int           `json:"polls_per_run"`
	// Carried across continue-as-new:
	LastStatus string    `json:"last_status"`
	LastChange time.Time `json:"last_change,omitzero"`
}

// TrackShipment polls the carrier until the shipment is delivered, fails, or
// makes no progress for Stall, reporting each change of status to its deal.
// It continues as new every PollsPerRun polls to keep its history short.
func TrackShipment(ctx workflow.Context, in TrackingInput) (string, error) {
	if in.LastChange.IsZero() {
		in.LastChange = workflow.Now(ctx)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		// A tracker outage is not news: the next poll tries again, and a
		// long one ends as a stall.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3},
	})
	report := func(status string, events []activities.TrackEvent) error {
		u := ShipmentUpdate{Kind: in.Kind, Status: status, Events: events, At: workflow.Now(ctx)}
		return workflow.SignalExternalWorkflow(ctx, in.DealWorkflowID, "", SignalShipmentUpdate, u).Get(ctx, nil)
	}
	for polls := 0; ; polls++ {
		var res activities.TrackResult
		err := workflow.ExecuteActivity(actx, acts.TrackShipment, activities.TrackInput{Carrier: in.Carrier, TrackingNumber: in.TrackingNumber}).Get(ctx, &res)
		now := workflow.Now(ctx)
		if err == nil && res.Status != in.LastStatus {
			in.LastStatus, in.LastChange = res.Status, now
			if err := report(res.Status, res.Events); err != nil {
				return "", fmt.Errorf("report to deal: %w", err)
			}
			if res.Status == activities.TrackDelivered || res.Status == activities.TrackException {
				return res.Status, nil
			}
		}
		if now.Sub(in.LastChange) >= in.Stall {
			if err := report("stalled", nil); err != nil {
				return "", fmt.Errorf("report to deal: %w", err)
			}
			return "stalled", nil
		}
		if polls+1 >= in.PollsPerRun {
			return "", workflow.NewContinueAsNewError(ctx, TrackShipment, in)
		}
		if err := workflow.Sleep(ctx, in.Poll); err != nil {
			return "", err
		}
	}
}
