package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The price index per category (internal/pricetrend) is taken once a day:
// PriceIndexSnapshot, on a schedule (internal/stack), takes the day that
// ended last; started with a day, it takes that day (the backfill of
// today when the schedule is first created).
const (
	PriceIndexWorkflowName = "PriceIndexSnapshot"
	PriceIndexScheduleID   = "price-index-daily"
)

// PriceIndexInput names the day to take (YYYY-MM-DD, UTC); empty: the
// day before the run's.
type PriceIndexInput struct {
	Day string `json:"day,omitempty"`
}

// RegisterPriceTrends adds the daily price index to a worker.
func RegisterPriceTrends(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(PriceIndexSnapshot, workflow.RegisterOptions{Name: PriceIndexWorkflowName})
}

// PriceIndexSnapshot takes a day of the price index and returns how many
// rows it wrote. The day is fixed before the activity runs, so a retry
// takes the same day, and a day taken again replaces its rows.
func PriceIndexSnapshot(ctx workflow.Context, in PriceIndexInput) (int64, error) {
	day := in.Day
	if day == "" {
		// A run at 00:05 UTC, or one caught up later that day, takes the
		// day just ended: its accepted quotes are all in.
		day = workflow.Now(ctx).UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return 0, temporal.NewNonRetryableApplicationError("the day is YYYY-MM-DD", "BadDay", err)
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute, MaximumAttempts: 10,
		},
	})
	var n int64
	err := workflow.ExecuteActivity(actx, acts.SnapshotPriceIndex, day).Get(ctx, &n)
	return n, err
}
