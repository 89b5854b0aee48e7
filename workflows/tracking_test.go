package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

func trackingEnv(t *testing.T, mem *activities.Memory) (*testsuite.TestWorkflowEnvironment, *[]ShipmentUpdate) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
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

func TestTrackingReportsEachChangeUntilDelivered(t *testing.T) {
	mem := activities.NewMemory()
	mem.Script("T", activities.TrackInfoReceived, activities.TrackInfoReceived, activities.TrackInTransit, activities.TrackDelivered)
	env, reports := trackingEnv(t, mem)
	env.ExecuteWorkflow(TrackShipment, TrackingInput{DealWorkflowID: "deal-x", Kind: "goods", Carrier: "dhl", TrackingNumber: "T",
		Poll: time.Hour, Stall: 5 * day, PollsPerRun: 100})
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
}

func TestTrackingReportsAStallAfterNoProgress(t *testing.T) {
	mem := activities.NewMemory()
	mem.Script("T", activities.TrackInTransit)
	env, reports := trackingEnv(t, mem)
	start := env.Now()
	env.ExecuteWorkflow(TrackShipment, TrackingInput{DealWorkflowID: "deal-x", Kind: "goods", Carrier: "dhl", TrackingNumber: "T",
		Poll: time.Hour, Stall: 2 * day, PollsPerRun: 1000})
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
}
