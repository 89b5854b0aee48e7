package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/activities"
)

// The purge runs with the worker's retention and reports what it deleted.
func TestIdempotencyPurgeUsesTheWorkersRetention(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	RegisterRetention(env)
	var asked time.Duration
	env.RegisterActivity(&activities.Activities{
		Idempotency: func(_ context.Context, olderThan time.Duration) (int64, error) {
			asked = olderThan
			return 3, nil
		},
		IdempotencyRetention: 48 * time.Hour,
	})
	env.ExecuteWorkflow(IdempotencyPurgeWorkflowName)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var n int64
	require.NoError(t, env.GetWorkflowResult(&n))
	require.EqualValues(t, 3, n)
	require.Equal(t, 48*time.Hour, asked)
}
