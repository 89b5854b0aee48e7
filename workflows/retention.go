package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The API keeps the response to each POST with an Idempotency-Key so a
// repeat gets it again; IdempotencyPurge forgets those older than the
// retention, on a schedule (internal/stack).
const (
	IdempotencyPurgeWorkflowName = "IdempotencyPurge"
	IdempotencyPurgeScheduleID   = "idempotency-purge"
)

// RegisterRetention adds the purge of kept API responses to a worker.
func RegisterRetention(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(IdempotencyPurge, workflow.RegisterOptions{Name: IdempotencyPurgeWorkflowName})
}

// IdempotencyPurge deletes the kept responses older than the worker's
// retention and returns how many it deleted. The retention is the
// worker's configuration, not an input, so a changed setting applies to
// the schedule's next run without recreating the schedule.
func IdempotencyPurge(ctx workflow.Context) (int64, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 5,
		},
	})
	var n int64
	err := workflow.ExecuteActivity(actx, acts.PurgeIdempotencyKeys).Get(ctx, &n)
	return n, err
}
