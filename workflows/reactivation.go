package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// Buyers with no sign-in and no API use for 30 days are messaged what
// changed for them, at most once in 30 days; BuyerReactivation does it,
// daily, on a schedule (internal/stack).
const (
	BuyerReactivationWorkflowName = "BuyerReactivation"
	BuyerReactivationScheduleID   = "buyer-reactivation"
)

// RegisterGrowth adds the buyers' reactivation and the referral coupons'
// expiry to a worker.
func RegisterGrowth(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(BuyerReactivation, workflow.RegisterOptions{Name: BuyerReactivationWorkflowName})
	r.RegisterWorkflowWithOptions(CouponExpiry, workflow.RegisterOptions{Name: CouponExpiryWorkflowName})
}

// BuyerReactivation messages the buyers gone quiet and returns how many it
// messaged. The activity decides who, as of its own time: a run retried or
// started twice messages no one twice in a period.
func BuyerReactivation(ctx workflow.Context) (int, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute, MaximumAttempts: 10,
		},
	})
	var n int
	err := workflow.ExecuteActivity(actx, acts.ReactivateBuyers).Get(ctx, &n)
	return n, err
}
