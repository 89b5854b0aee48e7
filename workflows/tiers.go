package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

// The daily supplier tier recalculation: a Temporal schedule starts the
// SupplierTiers workflow once a day; each run recomputes every supplier's
// tier from the read model as of the run's start.
const (
	SupplierTiersWorkflowName = "SupplierTiers"
	SupplierTiersScheduleID   = "supplier-tiers-daily"
)

// SupplierTiers recalculates the supplier tiers as of the workflow's start
// time, so a retried or replayed run computes the same thing.
func SupplierTiers(ctx workflow.Context) (activities.TierSummary, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 10 * time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute,
			MaximumAttempts: 20,
		},
	})
	asOf := workflow.Now(ctx)
	var sum activities.TierSummary
	if err := workflow.ExecuteActivity(ctx, acts.RecalculateSupplierTiers, asOf).Get(ctx, &sum); err != nil {
		return sum, err
	}
	for _, c := range sum.Changes {
		workflow.GetLogger(ctx).Info("supplier tier changed", "supplier", c.OrgID, "from", c.From, "to", c.To, "reason", c.Reason)
	}
	return sum, nil
}
