package baseline

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/workflows"
)

// The baseline makes exactly the round trips its plan lists, and refuses a
// step the plan does not expect next.
func TestBaselineMakesThePlannedRoundTrips(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	Register(env, nil) // its plans report by signal only
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "baseline-1"})

	var mu sync.Mutex
	acts, timers := 0, 0
	env.SetOnActivityStartedListener(func(*activity.Info, context.Context, converter.EncodedValues) { mu.Lock(); acts++; mu.Unlock() })
	env.SetOnTimerScheduledListener(func(string, time.Duration) { mu.Lock(); timers++; mu.Unlock() })
	children := 0
	env.SetOnChildWorkflowStartedListener(func(*workflow.Info, workflow.Context, converter.EncodedValues) { children++ })

	plan := Plan{
		Start: Segment{After: 2, Timers: 1},
		Steps: []Segment{
			{Name: workflows.UpdateSubmitQuote, After: 1, Timers: 1},
			{Name: workflows.UpdatePay, Inside: 1, After: 1, Timers: 2},
			{Name: workflows.UpdateAddShipment, After: 1, Child: &ChildPlan{Polls: 2, Sleeps: 1, Sleep: time.Second, Reports: 2}},
			{Name: workflows.SignalMediatorDecision, Signal: true, After: 3},
		},
		Reports: []Segment{{Name: workflows.SignalShipmentUpdate, After: 1}, {Name: workflows.SignalShipmentUpdate, After: 2, Timers: 1}},
	}
	results := map[string]error{}
	update := func(at time.Duration, label, name string) {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(UpdateStep, label, &testsuite.TestUpdateCallback{
				OnReject:   func(err error) { results[label] = err },
				OnAccept:   func() {},
				OnComplete: func(_ any, err error) { results[label] = err },
			}, StepInput{Name: name})
		}, at)
	}
	update(time.Minute, "quote", workflows.UpdateSubmitQuote)
	update(2*time.Minute, "out of order", workflows.UpdateAddShipment)
	update(3*time.Minute, "pay", workflows.UpdatePay)
	update(4*time.Minute, "ship", workflows.UpdateAddShipment)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.QueryState)
		if err != nil {
			t.Fatal(err)
		}
		var st State
		_ = v.Get(&st)
		if st.Steps != 3 || st.ChildrenDone != 1 || st.Done {
			t.Errorf("state before the last step %+v", st)
		}
		env.SignalWorkflow(SignalStep, StepInput{Name: workflows.SignalMediatorDecision})
	}, 10*time.Minute)
	env.ExecuteWorkflow(Workflow, Input{ID: "b1", Plan: plan})

	if !env.IsWorkflowCompleted() || env.GetWorkflowError() != nil {
		t.Fatalf("completed %v, error %v", env.IsWorkflowCompleted(), env.GetWorkflowError())
	}
	var st State
	if err := env.GetWorkflowResult(&st); err != nil || !st.Done || st.Steps != 4 || st.ChildrenDone != 1 {
		t.Fatalf("result %+v, %v", st, err)
	}
	for _, l := range []string{"quote", "pay", "ship"} {
		if results[l] != nil {
			t.Errorf("%s: %v", l, results[l])
		}
	}
	if workflows.RejectionCode(results["out of order"]) != workflows.RejectWrongStage {
		t.Errorf("a step out of the plan's order: %v", results["out of order"])
	}
	// 2 + 1 + (1 + 1) + 1 + 3 in the parent, 1 + 2 after the child's
	// reports, 2 polls in the child; 1 + 1 + 2 + 1 deadline timers, 1 sleep
	// in the child.
	if acts != 14 || timers != 6 || children != 1 {
		t.Errorf("%d activities, %d timers, %d children; want 14, 6 and 1", acts, timers, children)
	}
}
