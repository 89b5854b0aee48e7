package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/notice"
)

// startSample asks the supplier for a sample of the accepted quote.
func (d *deal) startSample(ctx workflow.Context) {
	price := d.acceptedQuote().SamplePrice
	d.state.Sample = &SampleState{Status: SampleRequested, Price: price, Paid: price == 0, Rounds: 1}
	d.state.Deadlines[DeadlineSampleShipBy] = workflow.Now(ctx).Add(d.in.Policy.SampleShipping)
	d.event(ctx, EventSampleRequested, d.in.Inquiry.BuyerOrgID, fmt.Sprintf("sample price %d %s", price, d.state.Currency))
	d.notify(d.state.SupplierID, "sample_requested", notice.Facts{})
	d.setStage(ctx, StageSample)
}

func (d *deal) acceptedQuote() Quote {
	for _, q := range d.state.Quotes {
		if q.ID == d.state.AcceptedQuoteID {
			return q
		}
	}
	return Quote{}
}

// A buyer who did not ask for a sample in the inquiry may still ask for one
// before anyone signs the contract.
func (d *deal) checkRequestSample(_ workflow.Context, in ActorInput) error {
	if err := d.needStage(StageContract); err != nil {
		return err
	}
	if err := d.needBuyer(in.Actor); err != nil {
		return err
	}
	if d.state.Sample != nil {
		return reject(RejectWrongStage, "a sample was already requested on this deal")
	}
	if c := d.state.Contract; c != nil && (!c.BuyerSignedAt.IsZero() || !c.SupplierSignedAt.IsZero()) {
		return reject(RejectWrongStage, "the contract is already being signed")
	}
	return nil
}

func (d *deal) requestSample(ctx workflow.Context, _ ActorInput) {
	d.state.Contract = nil
	delete(d.state.Deadlines, DeadlineContractSignBy)
	d.startSample(ctx)
}

func (d *deal) checkShipSample(_ workflow.Context, in ShipmentInput) error {
	if err := d.needStage(StageSample); err != nil {
		return err
	}
	if err := d.needSupplier(in.Actor); err != nil {
		return err
	}
	if d.state.Sample.Status != SampleRequested {
		return reject(RejectWrongStage, "the sample is %s", d.state.Sample.Status)
	}
	if !d.state.Sample.Paid {
		return reject(RejectWrongStage, "the buyer has not paid for the sample yet")
	}
	return checkShipment(in)
}

func checkShipment(in ShipmentInput) error {
	if in.Carrier == "" || in.TrackingNumber == "" {
		return reject(RejectInvalid, "carrier and tracking number are required")
	}
	return nil
}

func (d *deal) shipSample(ctx workflow.Context, in ShipmentInput) {
	s := d.state.Sample
	s.Status = SampleShipped
	s.Shipment = &Shipment{Carrier: in.Carrier, TrackingNumber: in.TrackingNumber, Status: activities.TrackPending, ShippedAt: workflow.Now(ctx)}
	delete(d.state.Deadlines, DeadlineSampleShipBy)
	d.event(ctx, EventSampleShipped, in.Actor.OrgID, in.Carrier+" "+in.TrackingNumber)
	d.notify(d.in.Inquiry.BuyerOrgID, "sample_shipped", notice.Facts{Carrier: in.Carrier, Tracking: in.TrackingNumber})
}

// sampleShipment applies a tracking report about the sample.
func (d *deal) sampleShipment(ctx workflow.Context, u ShipmentUpdate) {
	s := d.state.Sample
	if d.state.Stage != StageSample || s == nil || s.Shipment == nil || s.Status != SampleShipped ||
		(u.Tracker != 0 && u.Tracker != s.Shipment.Tracker) || !d.trackingNews(s.Shipment, u) {
		return
	}
	applyTracking(s.Shipment, u)
	switch u.Status {
	case activities.TrackDelivered:
		s.Status = SampleDelivered
		s.Shipment.DeliveredAt = u.At
		d.state.Deadlines[DeadlineSampleAutoApprove] = workflow.Now(ctx).Add(d.in.Policy.SampleAutoApprove)
		d.event(ctx, EventSampleDelivered, "", "")
		d.notify(d.in.Inquiry.BuyerOrgID, "sample_delivered", notice.Facts{})
	case activities.TrackException, activities.TrackExpired, activities.TrackStalled:
		s.Status = SampleRequested
		d.state.Deadlines[DeadlineSampleShipBy] = workflow.Now(ctx).Add(d.in.Policy.SampleShipping)
		d.event(ctx, EventSampleShipmentFailed, "", u.Status)
		d.notify(d.state.SupplierID, "sample_shipment_failed", notice.Facts{Reason: u.Status})
	default:
		d.event(ctx, EventSampleTracking, "", u.Status)
	}
}

func (d *deal) checkJudgeSample(_ workflow.Context, in ActorInput) error {
	if err := d.needStage(StageSample); err != nil {
		return err
	}
	if err := d.needBuyer(in.Actor); err != nil {
		return err
	}
	if st := d.state.Sample.Status; st != SampleShipped && st != SampleDelivered {
		return reject(RejectWrongStage, "the sample is %s, not yet shipped", st)
	}
	return nil
}

func (d *deal) approveSampleUpdate(ctx workflow.Context, in ActorInput) {
	d.approveSample(ctx, in.Actor.OrgID, in.Note)
}

func (d *deal) approveSample(ctx workflow.Context, by, note string) {
	d.state.Sample.Status = SampleApproved
	d.state.Sample.Verdict = note
	delete(d.state.Deadlines, DeadlineSampleAutoApprove)
	d.event(ctx, EventSampleApproved, by, note)
	d.startContract(ctx)
}

func (d *deal) checkRejectSample(ctx workflow.Context, in RejectSampleInput) error {
	if err := d.checkJudgeSample(ctx, ActorInput{Actor: in.Actor}); err != nil {
		return err
	}
	if in.Resample && d.state.Sample.Rounds >= MaxSampleRounds {
		return limitReached("at most %d samples can be asked for on one deal: approve this one or end the deal", MaxSampleRounds)
	}
	return nil
}

func (d *deal) rejectSample(ctx workflow.Context, in RejectSampleInput) {
	s := d.state.Sample
	delete(d.state.Deadlines, DeadlineSampleAutoApprove)
	s.Verdict = in.Reason
	if in.Resample {
		s.Status = SampleRequested
		s.Rounds++
		d.state.Deadlines[DeadlineSampleShipBy] = workflow.Now(ctx).Add(d.in.Policy.SampleShipping)
		d.event(ctx, EventSampleRejected, in.Actor.OrgID, "another sample asked: "+in.Reason)
		d.notify(d.state.SupplierID, "resample_requested", notice.Facts{Reason: in.Reason})
		return
	}
	s.Status = SampleRejected
	d.event(ctx, EventSampleRejected, in.Actor.OrgID, in.Reason)
	d.finish(ctx, StageCancelled, EventSampleRejected, "the buyer rejected the sample and ended the deal", 0)
}

// sampleEarned reports whether the supplier has earned the sample payment:
// it shipped a sample that was then judged, or the deal ended after it
// shipped one.
func (d *deal) sampleEarned() bool {
	s := d.state.Sample
	return s != nil && s.Shipment != nil
}
