package stack

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tradeloop/tradeloop/workflows"
)

// TierScheduleID is the ID of the tier schedule of the workers of a task
// queue: supplier-tiers-daily for the platform's own, one per other task
// queue (a test's, a benchmark's) so they never start each other's work.
func TierScheduleID(taskQueue string) string {
	return scheduleID(workflows.SupplierTiersScheduleID, taskQueue)
}

// EnsureTierSchedule creates the daily supplier tier recalculation
// schedule unless it exists. Every worker calls it at start; the first one
// creates it, and a schedule already there (perhaps paused by an operator)
// is left as it is.
func EnsureTierSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	id := TierScheduleID(taskQueue)
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: id,
		// 02:30 UTC, after the day's deals have settled; a missed run (the
		// cluster down at that time) still runs within a day.
		Spec: client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			Hour: []client.ScheduleRange{{Start: 2}}, Minute: []client.ScheduleRange{{Start: 30}},
		}}},
		Action: &client.ScheduleWorkflowAction{
			ID: "supplier-tiers" + strings.TrimPrefix(id, workflows.SupplierTiersScheduleID), Workflow: workflows.SupplierTiersWorkflowName, TaskQueue: taskQueue,
		},
		CatchupWindow: 24 * time.Hour,
	})
	if err != nil && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", id, err)
	}
	return nil
}

// WatchdogEvery is how often the escrow watchdog runs.
const WatchdogEvery = 15 * time.Minute

// WatchdogScheduleID is the ID of the escrow watchdog's schedule of the
// workers of a task queue: escrow-watchdog for the platform's own, one per
// other task queue, as for the tiers.
func WatchdogScheduleID(taskQueue string) string {
	return scheduleID(workflows.EscrowWatchdogScheduleID, taskQueue)
}

// EnsureWatchdogSchedule creates the escrow watchdog's schedule unless it
// exists (then it is left as it is, paused or not). A run that would
// overlap the one before is skipped, and a missed run is not caught up:
// the next one sees the same escrow.
func EnsureWatchdogSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	return ensureEvery(ctx, c, WatchdogScheduleID(taskQueue), WatchdogEvery, workflows.EscrowWatchdogWorkflowName, taskQueue,
		workflows.WatchdogInput{})
}

// PurgeEvery is how often kept API responses past their retention are
// deleted.
const PurgeEvery = time.Hour

// PurgeScheduleID is the ID of the purge schedule of the workers of a task
// queue: idempotency-purge for the platform's own, one per other task
// queue, as for the tiers.
func PurgeScheduleID(taskQueue string) string {
	return scheduleID(workflows.IdempotencyPurgeScheduleID, taskQueue)
}

// EnsurePurgeSchedule creates the hourly purge of kept API responses
// unless it exists (then it is left as it is). The retention is the
// worker's IDEMPOTENCY_RETENTION, read by the activity at each run. Missed
// runs are not caught up: the next run deletes the same rows.
func EnsurePurgeSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	return ensureEvery(ctx, c, PurgeScheduleID(taskQueue), PurgeEvery, workflows.IdempotencyPurgeWorkflowName, taskQueue)
}

// CouponExpiryEvery is how often coupons past their date are expired.
const CouponExpiryEvery = time.Hour

// CouponExpiryScheduleID is the ID of the referral coupons' expiry
// schedule of the workers of a task queue: coupon-expiry for the
// platform's own, one per other task queue, as for the tiers.
func CouponExpiryScheduleID(taskQueue string) string {
	return scheduleID(workflows.CouponExpiryScheduleID, taskQueue)
}

// EnsureCouponExpirySchedule creates the hourly expiry of referral
// coupons unless it exists (then it is left as it is). Missed runs are not
// caught up: the next run expires the same coupons.
func EnsureCouponExpirySchedule(ctx context.Context, c client.Client, taskQueue string) error {
	return ensureEvery(ctx, c, CouponExpiryScheduleID(taskQueue), CouponExpiryEvery, workflows.CouponExpiryWorkflowName, taskQueue)
}

// ReactivationScheduleID is the ID of the buyers' reactivation schedule
// of the workers of a task queue: buyer-reactivation for the platform's
// own, one per other task queue, as for the tiers.
func ReactivationScheduleID(taskQueue string) string {
	return scheduleID(workflows.BuyerReactivationScheduleID, taskQueue)
}

// EnsureReactivationSchedule creates the daily reactivation of quiet
// buyers unless it exists (then it is left as it is, paused or not): at
// 09:00 UTC, morning in Europe and afternoon in China; a missed run is
// caught up within the day, and a run messages no buyer twice in its
// period however often it runs.
func EnsureReactivationSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	id := ReactivationScheduleID(taskQueue)
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: id,
		Spec: client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			Hour: []client.ScheduleRange{{Start: 9}}, Minute: []client.ScheduleRange{{Start: 0}},
		}}},
		Action:        &client.ScheduleWorkflowAction{ID: id + "/run", Workflow: workflows.BuyerReactivationWorkflowName, TaskQueue: taskQueue},
		CatchupWindow: 24 * time.Hour,
	})
	if err != nil && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", id, err)
	}
	return nil
}

// PriceIndexScheduleID is the ID of the daily price index's schedule of
// the workers of a task queue: price-index-daily for the platform's own,
// one per other task queue, as for the tiers.
func PriceIndexScheduleID(taskQueue string) string {
	return scheduleID(workflows.PriceIndexScheduleID, taskQueue)
}

// EnsurePriceIndexSchedule creates the daily price index's schedule
// unless it exists (then it is left as it is, paused or not): at 00:05
// UTC each run takes the day just ended; a missed run is caught up within
// the day. When it creates the schedule, it first takes today as of now
// (the backfill), so a new platform has a first point; today's row is
// replaced by the complete day at the next run. now is the clock.
func EnsurePriceIndexSchedule(ctx context.Context, c client.Client, taskQueue string, now time.Time) error {
	id := PriceIndexScheduleID(taskQueue)
	var missing *serviceerror.NotFound
	if _, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx); err == nil {
		return nil
	} else if !errors.As(err, &missing) {
		return fmt.Errorf("describe schedule %s: %w", id, err)
	}
	today := now.UTC().Format(time.DateOnly)
	// One backfill per day, however many workers create the schedule at
	// once.
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id + "/backfill/" + today, TaskQueue: taskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.PriceIndexWorkflowName, workflows.PriceIndexInput{Day: today})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		return fmt.Errorf("start the backfill of %s: %w", today, err)
	}
	_, err = c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: id,
		Spec: client.ScheduleSpec{Calendars: []client.ScheduleCalendarSpec{{
			Hour: []client.ScheduleRange{{Start: 0}}, Minute: []client.ScheduleRange{{Start: 5}},
		}}},
		Action:        &client.ScheduleWorkflowAction{ID: id + "/run", Workflow: workflows.PriceIndexWorkflowName, TaskQueue: taskQueue, Args: []any{workflows.PriceIndexInput{}}},
		CatchupWindow: 24 * time.Hour,
	})
	if err != nil && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", id, err)
	}
	return nil
}

// scheduleID is a schedule's ID for the workers of a task queue: base for
// the platform's own, base@queue for any other.
func scheduleID(base, taskQueue string) string {
	if taskQueue == workflows.TaskQueue {
		return base
	}
	return base + "@" + taskQueue
}

// ensureEvery creates schedule id, running workflow with args every
// interval, unless it exists (then it is left as it is, paused or not). A
// missed run is not caught up.
func ensureEvery(ctx context.Context, c client.Client, id string, every time.Duration, workflow, taskQueue string, args ...any) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:   id,
		Spec: client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}},
		Action: &client.ScheduleWorkflowAction{
			ID: id + "/run", Workflow: workflow, TaskQueue: taskQueue, Args: args,
		},
		CatchupWindow: time.Minute,
	})
	if err != nil && !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return fmt.Errorf("create schedule %s: %w", id, err)
	}
	return nil
}
