package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/activities"
)

// A suspect is a finding only if the recheck, a few seconds later, still
// sees it; what the run no longer sees is resolved by the record activity.
func TestWatchdogReportsOnlyWhatTheRecheckConfirms(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute}) // see newOverrideHarness
	RegisterFinance(env)
	env.RegisterActivity(activities.NewMemory().Activities())
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	gone := activities.EscrowFinding{Kind: activities.AlertEscrowWithoutDeal, DealID: "gone", Currency: "USD", LedgerAmount: 300_000, DealAmount: 300_000, Detail: "x"}
	inFlight := activities.EscrowFinding{Kind: activities.AlertEscrowMismatch, DealID: "busy", Currency: "USD", LedgerAmount: 700_000, Detail: "y"}
	var checks []activities.EscrowCheckInput
	var checkedAt []time.Time
	env.OnActivity(acts.CheckEscrows, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.EscrowCheckInput) (activities.EscrowScan, error) {
			checks = append(checks, in)
			checkedAt = append(checkedAt, env.Now())
			if len(in.DealIDs) == 0 {
				return activities.EscrowScan{At: at, Checked: 5, Suspects: []activities.EscrowFinding{gone, inFlight}}, nil
			}
			return activities.EscrowScan{At: at.Add(5 * time.Second), Checked: 2, Suspects: []activities.EscrowFinding{gone}}, nil
		})
	var recorded activities.EscrowFindings
	env.OnActivity(acts.RecordEscrowFindings, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.EscrowFindings) (int, error) { recorded = in; return 1, nil })

	env.ExecuteWorkflow(EscrowWatchdog, WatchdogInput{})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var rep WatchdogReport
	if err := env.GetWorkflowResult(&rep); err != nil {
		t.Fatal(err)
	}
	if len(checks) != 2 || len(checks[1].DealIDs) != 2 || checks[1].DealIDs[0] != "gone" || checks[1].DealIDs[1] != "busy" {
		t.Fatalf("checks %+v", checks)
	}
	if d := checkedAt[1].Sub(checkedAt[0]); d < DefaultWatchdogRecheck {
		t.Fatalf("recheck after %s, want %s", d, DefaultWatchdogRecheck)
	}
	if !recorded.Since.Equal(at) || len(recorded.Findings) != 1 || recorded.Findings[0] != gone {
		t.Fatalf("recorded %+v", recorded)
	}
	if rep.Checked != 5 || rep.Suspects != 2 || len(rep.Findings) != 1 || rep.Resolved != 1 {
		t.Fatalf("report %+v", rep)
	}
}

// With nothing suspect there is no recheck; the run still resolves what
// earlier runs found.
func TestWatchdogWithNothingWrongResolvesEarlierFindings(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute}) // see newOverrideHarness
	RegisterFinance(env)
	env.RegisterActivity(activities.NewMemory().Activities())
	calls := 0
	env.OnActivity(acts.CheckEscrows, mock.Anything, mock.Anything).Return(
		func(context.Context, activities.EscrowCheckInput) (activities.EscrowScan, error) {
			calls++
			return activities.EscrowScan{Checked: 3}, nil
		})
	var recorded activities.EscrowFindings
	env.OnActivity(acts.RecordEscrowFindings, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.EscrowFindings) (int, error) { recorded = in; return 2, nil })
	env.ExecuteWorkflow(EscrowWatchdog, WatchdogInput{})
	var rep WatchdogReport
	if err := env.GetWorkflowResult(&rep); err != nil {
		t.Fatal(err)
	}
	if calls != 1 || recorded.Findings == nil || len(recorded.Findings) != 0 || rep.Resolved != 2 || rep.Findings == nil {
		t.Fatalf("calls %d, recorded %+v, report %+v", calls, recorded, rep)
	}
}
