package workflows

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// versionLocalBooks marks deals whose bookkeeping (notifications,
// projections, ledger postings) runs first as local activities: in the
// worker, recorded in the deal's history as one marker, without a trip
// through Temporal's server and its task queue. Earlier histories replay
// with every one of them a regular activity and one activity per
// notification.
const versionLocalBooks = "local-books"

// quickTries bounds the local attempts of a bookkeeping activity: a few
// quick ones, a second or two in all, then it goes to Temporal as a
// regular activity with its full retry policy, so a database that is down
// for minutes never holds a workflow task open.
var quickTries = temporal.RetryPolicy{
	InitialInterval: 100 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Second, MaximumAttempts: 3,
}

// quickly runs a bookkeeping activity (idempotent, local to our own
// database) as a local activity, and, if the local attempts fail, as a
// regular activity under opts (fellBack, if set, hears of it first). An
// error the activity marks non-retryable, or whose type opts will not
// retry, ends it at once either way.
func quickly(ctx workflow.Context, local bool, opts workflow.ActivityOptions, summary string, activity any, arg any, fellBack func()) error {
	if local {
		tries := quickTries
		if opts.RetryPolicy != nil {
			tries.NonRetryableErrorTypes = opts.RetryPolicy.NonRetryableErrorTypes
		}
		lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: 10 * time.Second, ScheduleToCloseTimeout: 30 * time.Second,
			RetryPolicy: &tries, Summary: summary,
		})
		err := workflow.ExecuteLocalActivity(lctx, activity, arg).Get(ctx, nil)
		if err == nil || final(err, opts) || ctx.Err() != nil {
			return err
		}
		workflow.GetLogger(ctx).Warn("local bookkeeping failed; retrying it as a regular activity", "what", summary, "error", err)
		if fellBack != nil {
			fellBack()
		}
	}
	actx := workflow.WithActivityOptions(ctx, opts)
	return workflow.ExecuteActivity(withSummary(actx, "%s", summary), activity, arg).Get(ctx, nil)
}

// final reports whether retrying cannot cure err.
func final(err error, opts workflow.ActivityOptions) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return false
	}
	return appErr.NonRetryable() || (opts.RetryPolicy != nil && slices.Contains(opts.RetryPolicy.NonRetryableErrorTypes, appErr.Type()))
}
