package workflows

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

// A read model that fails for hours holds back neither the ledger nor the
// payouts: the deal completes with its money where it belongs, and the
// timeline reaches the read model once it answers again.
func TestFailingProjectionHoldsBackNoMoney(t *testing.T) {
	h := newHarness(t)
	down := true
	h.mem.FailProjections(func(activities.DealProjection) error {
		if down {
			return errors.New("read model unavailable")
		}
		return nil
	})
	h.toInspection()
	h.check(6*m, func(st DealState) {
		// Still down: the deal moves on all the same.
		if _, evs := h.mem.Projected("d1"); len(evs) != 0 {
			t.Errorf("%d events projected while the read model was down", len(evs))
		}
	})
	h.check(250*m, func(st DealState) {
		if got := h.mem.Balance(activities.EscrowAccount("d1"), "USD"); got != 1_000_000 {
			t.Errorf("escrow in the ledger at %s = %d while projections fail, want 1000000", st.Stage, got)
		}
	})
	h.update(7*m*60, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	h.check(8*m*60, func(DealState) { down = false })
	st := h.run(dealInput())
	h.ok("quote", "accept", "pay deposit", "pay balance", "ship", "accept goods")
	if st.Stage != StageCompleted {
		t.Fatalf("stage %s, want COMPLETED", st.Stage)
	}
	h.balances(0, 980_000, 20_000, -1_000_000, "sup-a")
	if _, evs := h.mem.Projected("d1"); len(evs) != len(st.Timeline) {
		t.Fatalf("%d events projected once the read model was back, timeline has %d", len(evs), len(st.Timeline))
	}
}

// A projection the read model refuses for good is reported and skipped:
// it neither blocks the deal nor keeps later entries out.
func TestProjectionRefusedForGoodIsSkipped(t *testing.T) {
	h := newHarness(t)
	refused := 0
	h.mem.FailProjections(func(p activities.DealProjection) error {
		for _, e := range p.Events {
			if e.Type == "production_progress" {
				refused++
				return fmt.Errorf("%w: invalid byte sequence", activities.ErrProjectionRefused)
			}
		}
		return nil
	})
	h.toInspection()
	h.update(7*m*60, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	st := h.run(dealInput())
	// Refused twice: the API's write of the round the report's action
	// handed off, then the bookkeeping activity's round that confirms it.
	if st.Stage != StageCompleted || refused != 2 {
		t.Fatalf("stage %s, refused %d times; want COMPLETED after two refusals", st.Stage, refused)
	}
	if alerts := h.mem.OpenAlerts(); len(alerts) != 1 || alerts[0].Kind != "projection_rejected" || alerts[0].DealID != "d1" {
		t.Fatalf("finance's alerts %+v, want one projection_rejected for d1", alerts)
	}
	h.balances(0, 980_000, 20_000, -1_000_000, "sup-a")
	proj, _ := h.mem.Projected("d1")
	if proj.Stage != string(StageCompleted) || proj.LastSeq != len(st.Timeline) {
		t.Fatalf("read model at %s seq %d, deal at %s with %d entries", proj.Stage, proj.LastSeq, st.Stage, len(st.Timeline))
	}
}

// A late production can be extended three times; the fourth is refused as
// past the cap, and the deal goes on.
func TestShipByExtensionsAreCapped(t *testing.T) {
	h := newHarness(t)
	h.toProduction()
	lateAt := time.Hour + 20*day // ready to ship 20 days after the deposit
	for i := range MaxShipByExtensions + 1 {
		// Each extension moves ship-by two days on; it passes before the next.
		at := lateAt + time.Duration(i)*2*day + time.Hour
		h.update(at, fmt.Sprintf("extend %d", i+1), UpdateExtendShipBy, ExtendInput{Actor: buyer, NewShipBy: h.start.Add(at + day)})
	}
	h.update(lateAt+9*day, "cancel", UpdateCancel, ActorInput{Actor: buyer, Note: "too late"})
	st := h.run(dealInput())
	h.ok("extend 1", "extend 2", "extend 3", "cancel")
	h.rejected(fmt.Sprintf("extend %d", MaxShipByExtensions+1), RejectLimit)
	if st.Production.Extensions != MaxShipByExtensions || st.Stage != StageCancelled {
		t.Fatalf("extensions %d, stage %s", st.Production.Extensions, st.Stage)
	}
}

// The workflow's validators hold every input to the limits themselves: a
// client that bypasses the API still cannot put a NUL into a deal.
func TestValidatorsRefuseControlCharactersWithoutTheAPI(t *testing.T) {
	h := newHarness(t)
	q := h.quote(supA)
	q.Note = "fine\x00"
	h.update(10*m, "quote with NUL", UpdateSubmitQuote, q)
	h.update(11*m, "decline with escape", UpdateDeclineQuote, DeclineInput{Actor: supA, Reason: "\x1b[2J"})
	long := q
	long.Note = strings.Repeat("x", MaxNote+1)
	h.update(12*m, "quote too long", UpdateSubmitQuote, long)
	h.update(20*m, "quote", UpdateSubmitQuote, h.quote(supA))
	h.update(30*m, "accept", UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q1"})
	h.update(40*m, "cancel", UpdateCancel, ActorInput{Actor: buyer})
	st := h.run(dealInput())
	h.rejected("quote with NUL", RejectInvalid)
	h.rejected("decline with escape", RejectInvalid)
	h.rejected("quote too long", RejectInvalid)
	h.ok("quote", "accept", "cancel")
	for _, e := range st.Timeline {
		if strings.ContainsAny(e.Detail, "\x00\x1b") {
			t.Fatalf("a control character reached the timeline: %q", e.Detail)
		}
	}
	if len(st.Quotes) != 1 {
		t.Fatalf("%d quotes recorded, want the one valid quote", len(st.Quotes))
	}
	// A deal cannot even start with one.
	in := dealInput()
	in.Inquiry.Specs = "spec\x00"
	h2 := newHarness(t)
	h2.env.ExecuteWorkflow(Deal, in)
	if err := h2.env.GetWorkflowError(); RejectionCode(err) != RejectInvalid {
		t.Fatalf("a deal with a NUL in its specs: %v", err)
	}
}

// A signal delivered in the workflow task in which the deal decides to
// continue as new is handled before the run ends, and the next run starts
// from the state with it: here the goods' delivery, reported as Temporal
// suggests a new run (seen lost in a live deal: the next run was still
// SHIPPING, and the buyer could not accept the goods).
func TestSignalArrivingAsTheDealContinuesAsNewIsKept(t *testing.T) {
	h := newHarness(t)
	h.toBalance()
	h.update(240*m, "pay balance", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.mem.Script("TRK1", activities.TrackInTransit) // the tracker never reports it delivered
	h.update(300*m, "ship", UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "TRK1"})
	delivered := h.start.Add(9 * time.Hour)
	h.check(10*time.Hour, func(st DealState) {
		if st.Stage != StageShipping {
			t.Errorf("stage %s before the delivery, want SHIPPING", st.Stage)
		}
	})
	// The delivery is delivered without a workflow task of its own, and the
	// next task finds the history full: as one task of a live deal that
	// brings a signal and Temporal's suggestion to continue as new.
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflowSkippingWorkflowTask(SignalShipmentUpdate, ShipmentUpdate{Kind: "goods", Status: activities.TrackDelivered, At: delivered})
	}, 10*time.Hour+30*m)
	h.env.RegisterDelayedCallback(func() { h.env.SetContinueAsNewSuggested(true) }, 10*time.Hour+31*m)
	h.env.ExecuteWorkflow(Deal, dealInput())
	h.ok("pay deposit", "pay balance", "ship")
	var can *workflow.ContinueAsNewError
	if err := h.env.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("the deal ended with %v, want it to continue as new", err)
	}
	var next DealInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	st := next.Resume.State
	if st.Stage != StageInspection || st.Shipment == nil || !st.Shipment.DeliveredAt.Equal(delivered) {
		t.Fatalf("the next run starts at %s with shipment %+v, want INSPECTION with the delivery at %s", st.Stage, st.Shipment, delivered)
	}
	if next.Resume.Projected != len(st.Timeline) {
		t.Errorf("the next run starts with %d of %d timeline entries projected", next.Resume.Projected, len(st.Timeline))
	}
}
