package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

func trackingEnv(t *testing.T, mem *activities.Memory) (*testsuite.TestWorkflowEnvironment, *[]ShipmentUpdate) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := newTestEnv(&s)
	env.RegisterWorkflowWithOptions(TrackShipment, workflow.RegisterOptions{Name: TrackShipmentWorkflowName})
	env.RegisterActivity(mem.Activities())
	var reports []ShipmentUpdate
	env.OnSignalExternalWorkflow("default-test-namespace", "deal-x", "", SignalShipmentUpdate, mock.Anything).Return(
		func(_, _, _, _ string, arg any) error {
			reports = append(reports, arg.(ShipmentUpdate))
			return nil
		})
	return env, &reports
}

// trackerModes are the two ways a tracker polls: with an activity and a
// timer each time (trackers started before Follow), and through one
// activity's retries (Follow).
var trackerModes = []struct {
	name   string
	follow bool
}{{"polling", false}, {"following", true}}

func TestTrackingReportsEachChangeUntilDelivered(t *testing.T) {
	for _, mode := range trackerModes {
		t.Run(mode.name, func(t *testing.T) {
			mem := activities.NewMemory()
			mem.Script("T", activities.TrackInfoReceived, activities.TrackInfoReceived, activities.TrackInTransit, activities.TrackDelivered)
			env, reports := trackingEnv(t, mem)
			env.ExecuteWorkflow(TrackShipment, TrackingInput{DealWorkflowID: "deal-x", Kind: "goods", Carrier: "dhl", TrackingNumber: "T",
				Poll: time.Hour, Stall: 5 * day, PollsPerRun: 100, Follow: mode.follow})
			var final string
			if err := env.GetWorkflowResult(&final); err != nil || final != activities.TrackDelivered {
				t.Fatalf("result %q, %v", final, err)
			}
			var got []string
			for _, r := range *reports {
				got = append(got, r.Status)
			}
			if len(got) != 3 || got[0] != activities.TrackInfoReceived || got[2] != activities.TrackDelivered {
				t.Fatalf("reports %v, want info_received, in_transit, delivered (each once)", got)
			}
		})
	}
}

func TestTrackingReportsAStallAfterNoProgress(t *testing.T) {
	for _, mode := range trackerModes {
		t.Run(mode.name, func(t *testing.T) {
			mem := activities.NewMemory()
			mem.Script("T", activities.TrackInTransit)
			env, reports := trackingEnv(t, mem)
			start := env.Now()
			env.ExecuteWorkflow(TrackShipment, TrackingInput{DealWorkflowID: "deal-x", Kind: "goods", Carrier: "dhl", TrackingNumber: "T",
				Poll: time.Hour, Stall: 2 * day, PollsPerRun: 1000, Follow: mode.follow})
			var final string
			if err := env.GetWorkflowResult(&final); err != nil || final != "stalled" {
				t.Fatalf("result %q, %v", final, err)
			}
			if n := len(*reports); n != 2 || (*reports)[1].Status != "stalled" {
				t.Fatalf("reports %+v", *reports)
			}
			if got := env.Now().Sub(start); got < 2*day || got > 2*day+time.Hour {
				t.Fatalf("stall reported after %s, want 2 days", got)
			}
		})
	}
}

// A following tracker's polls without news are retries of one activity:
// 48 polls over two days, one activity.
func TestAFollowingTrackerPollsWithoutNewsInOneActivity(t *testing.T) {
	mem := activities.NewMemory()
	mem.Script("T", activities.TrackInTransit)
	env, _ := trackingEnv(t, mem)
	attempts, activitiesRun := 0, map[string]bool{}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		attempts++
		activitiesRun[info.ActivityID] = true
	})
	env.ExecuteWorkflow(TrackShipment, TrackingInput{DealWorkflowID: "deal-x", Kind: "goods", Carrier: "dhl", TrackingNumber: "T",
		Poll: time.Hour, Stall: 2 * day, PollsPerRun: 1000, Follow: true})
	var final string
	if err := env.GetWorkflowResult(&final); err != nil || final != "stalled" {
		t.Fatalf("result %q, %v", final, err)
	}
	// The first activity reports in transit; the second polls until the stall.
	if attempts < 48 || len(activitiesRun) != 2 {
		t.Fatalf("%d polls in %d activities, want 48 or more in 2", attempts, len(activitiesRun))
	}
}

func TestTrackingContinuesAsNewWithItsState(t *testing.T) {
	mem := activities.NewMemory()
	mem.Script("T", activities.TrackInTransit)
	env, _ := trackingEnv(t, mem)
	env.ExecuteWorkflow(TrackShipment, TrackingInput{DealWorkflowID: "deal-x", Kind: "goods", Carrier: "dhl", TrackingNumber: "T",
		Poll: time.Hour, Stall: 5 * day, PollsPerRun: 3})
	err := env.GetWorkflowError()
	if !workflow.IsContinueAsNewError(err) {
		t.Fatalf("after 3 polls: %v, want continue-as-new", err)
	}
	// A following tracker continues as new after PollsPerRun reports.
	mem = activities.NewMemory()
	mem.Script("T", activities.TrackInfoReceived, activities.TrackInTransit)
	env, reports := trackingEnv(t, mem)
	env.ExecuteWorkflow(TrackShipment, TrackingInput{DealWorkflowID: "deal-x", Kind: "goods", Carrier: "dhl", TrackingNumber: "T",
		Poll: time.Hour, Stall: 5 * day, PollsPerRun: 2, Follow: true})
	var can *workflow.ContinueAsNewError
	if err := env.GetWorkflowError(); !errors.As(err, &can) || len(*reports) != 2 {
		t.Fatalf("after %d reports: %v, want continue-as-new after 2", len(*reports), err)
	}
	var next TrackingInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if !next.Follow || next.LastStatus != activities.TrackInTransit {
		t.Fatalf("carried %+v, want a following tracker in transit", next)
	}
}

// scriptedCarrier answers each poll with the next of its results, then the
// last again, as a carrier whose events accumulate.
type scriptedCarrier struct {
	results []activities.TrackResult
	polls   int
}

func (c *scriptedCarrier) Track(context.Context, activities.TrackInput) (activities.TrackResult, error) {
	r := c.results[min(c.polls, len(c.results)-1)]
	c.polls++
	return r, nil
}

func TestTrackingAcrossContinueAsNewReportsEachEventOnceAndNeverGoesBack(t *testing.T) {
	for _, mode := range trackerModes {
		t.Run(mode.name, func(t *testing.T) {
			at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
			ev := func(h int, status string) activities.TrackEvent {
				return activities.TrackEvent{At: at.Add(time.Duration(h) * time.Hour), Status: status, Description: status}
			}
			e1, e2, e3, e4 := ev(0, "info_received"), ev(1, "in_transit"), ev(2, "out_for_delivery"), ev(3, "delivered")
			carrier := &scriptedCarrier{results: []activities.TrackResult{
				{Status: "info_received", Events: []activities.TrackEvent{e1}},
				{Status: "in_transit", Events: []activities.TrackEvent{e1, e2}},
				{Status: "in_transit", Events: []activities.TrackEvent{e1, e2}}, // nothing new
				{Status: "out_for_delivery", Events: []activities.TrackEvent{e1, e2, e3}},
				{Status: "in_transit", Events: []activities.TrackEvent{e1, e2, e3}}, // a stale scan: no step back
				{Status: "delivered", Events: []activities.TrackEvent{e1, e2, e3, e4}},
			}}
			var reports []ShipmentUpdate
			in := TrackingInput{DealWorkflowID: "deal-x", Kind: "goods", Tracker: 1, Carrier: "dhl", TrackingNumber: "T",
				Poll: 4 * time.Hour, PollNear: time.Hour, Stall: 5 * day, PollsPerRun: 2, Follow: mode.follow}
			if mode.follow {
				in.PollsPerRun = 1 // a following tracker counts its reports
			}
			runs := 0
			for {
				runs++
				var s testsuite.WorkflowTestSuite
				env := newTestEnv(&s)
				env.RegisterWorkflowWithOptions(TrackShipment, workflow.RegisterOptions{Name: TrackShipmentWorkflowName})
				env.RegisterActivity(&activities.Activities{Tracker: carrier})
				env.OnSignalExternalWorkflow("default-test-namespace", "deal-x", "", SignalShipmentUpdate, mock.Anything).Return(
					func(_, _, _, _ string, arg any) error {
						reports = append(reports, arg.(ShipmentUpdate))
						return nil
					})
				env.ExecuteWorkflow(TrackShipment, in)
				err := env.GetWorkflowError()
				var can *workflow.ContinueAsNewError
				if errors.As(err, &can) {
					if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				var final string
				if err := env.GetWorkflowResult(&final); err != nil || final != "delivered" {
					t.Fatalf("result %q %v", final, err)
				}
				break
			}
			if runs < 3 {
				t.Fatalf("%d runs: the test did not cross continue-as-new", runs)
			}
			var events, statuses []string
			for _, r := range reports {
				statuses = append(statuses, r.Status)
				for _, e := range r.Events {
					events = append(events, e.Status)
				}
			}
			if got := strings.Join(events, ","); got != "info_received,in_transit,out_for_delivery,delivered" {
				t.Fatalf("events reported %s: each exactly once, in order", got)
			}
			for _, s := range statuses {
				if s == "in_transit" && strings.Contains(strings.Join(statuses, ","), "out_for_delivery,in_transit") {
					t.Fatalf("status went back: %v", statuses)
				}
			}
		})
	}
}

// A report the deal already has (a tracker's activity retried after its
// signal went out) adds nothing: no second timeline entry, no event twice.
func TestADealTakesATrackingReportOnce(t *testing.T) {
	h := newHarness(t)
	h.toBalance()
	h.update(240*m, "pay balance", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.mem.Script("TRK1", activities.TrackInTransit, activities.TrackDelivered) // delivered at the next poll, at 6 h
	h.update(300*m, "ship", UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "TRK1"})
	scan := activities.TrackEvent{At: h.start.Add(5 * time.Hour), Status: activities.TrackInTransit, Location: "Leipzig"}
	report := ShipmentUpdate{Kind: "goods", Tracker: 1, Status: activities.TrackInTransit, Events: []activities.TrackEvent{scan}}
	h.signal(310*m, SignalShipmentUpdate, report)
	h.signal(311*m, SignalShipmentUpdate, report)
	h.check(312*m, func(st DealState) {
		entries := 0
		for _, e := range st.Timeline {
			if e.Type == "shipment_tracking" {
				entries++
			}
		}
		if entries != 2 || len(st.Shipment.Events) != 1 {
			t.Errorf("%d tracking entries and %d carrier events; want 2 (the tracker's in transit, the scan) and 1", entries, len(st.Shipment.Events))
		}
	})
	h.update(7*m*60, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	h.run(dealInput())
	h.ok("pay balance", "ship", "accept goods")
}

// A tracker's activity reports by update: the deal hands the round back
// for it to write, as for a party's action, and refuses a report from a
// tracker it does not have.
func TestATrackingReportByUpdateHandsItsRoundBack(t *testing.T) {
	h := newHarness(t)
	h.toBalance()
	h.update(240*m, "pay balance", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.mem.Script("TRK1", activities.TrackInfoReceived, activities.TrackDelivered) // delivered at the next poll, at 6 h
	h.update(300*m, "ship", UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "TRK1"})
	h.update(310*m, "report", UpdateReportTracking, ShipmentUpdate{Kind: "goods", Tracker: 1, Status: activities.TrackInTransit})
	h.update(311*m, "stranger", UpdateReportTracking, ShipmentUpdate{Kind: "goods", Tracker: 7, Status: activities.TrackDelivered})
	h.update(312*m, "sample", UpdateReportTracking, ShipmentUpdate{Kind: "sample", Tracker: 1, Status: activities.TrackDelivered})
	h.check(313*m, func(st DealState) {
		if st.Stage != StageShipping || st.Shipment.Status != activities.TrackInTransit || !h.projectedUpTo(st) {
			p, _ := h.mem.Projected("d1")
			t.Errorf("deal %s, shipment %s, read model at entry %d of %d", st.Stage, st.Shipment.Status, p.LastSeq, len(st.Timeline))
		}
	})
	h.update(7*m*60, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	h.run(dealInput())
	h.ok("pay balance", "ship", "report", "accept goods")
	h.rejected("stranger", RejectNotFound)
	h.rejected("sample", RejectNotFound)
}
