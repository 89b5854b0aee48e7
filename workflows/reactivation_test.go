package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/activities"
)

// The reactivation runs the activity, retrying a failure, and reports how
// many buyers it messaged.
func TestBuyerReactivationRunsTheActivity(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	RegisterGrowth(env)
	calls := 0
	env.RegisterActivity(&activities.Activities{
		Reactivate: func(context.Context, time.Time) (int, error) {
			calls++
			if calls == 1 {
				return 0, errors.New("the database went away")
			}
			return 4, nil
		},
	})
	env.ExecuteWorkflow(BuyerReactivationWorkflowName)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var n int
	require.NoError(t, env.GetWorkflowResult(&n))
	require.Equal(t, 4, n)
	require.Equal(t, 2, calls)
}
