package workflows

import (
	"errors"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// versionLocalBooks marks deals whose ledger postings run first as local
// activities (in the worker, recorded in the deal's history as one marker,
// without a trip through Temporal's server and its task queue), whose
// notifications and projection of a change go in one activity, and whose
// actions answer once the read model has them. Earlier histories replay
// with postings as regular activities, one activity per notification and
// one per projection.
//
// A local activity's write happens before its workflow task is recorded:
// a posting may reach the ledger before the deal records it, which is
// safe (the charge it books is a fact the history already holds, and its
// key makes the repeat a no-op). A projection is not local (keepBooksAtOnce).
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
// regular activity under opts. An error the activity marks non-retryable,
// or whose type opts will not retry, ends it at once either way.
//
// running counts the local activities under way: a deal's bookkeeping
// waits for them (awaitBooksDue), so the round it makes has their result,
// not a round before and another after.
func quickly(ctx workflow.Context, local bool, running *int, opts workflow.ActivityOptions, summary string, activity any, arg any) error {
	return quicklyInto(ctx, local, running, opts, summary, nil, activity, arg)
}

// quicklyInto is quickly for an activity with a result, which it decodes
// into result (nil: none).
func quicklyInto(ctx workflow.Context, local bool, running *int, opts workflow.ActivityOptions, summary string, result, activity, arg any) error {
	if local {
		err := quickLocalInto(ctx, running, opts, summary, result, activity, arg)
		if err == nil || final(err, opts) || ctx.Err() != nil {
			return err
		}
		workflow.GetLogger(ctx).Warn("local bookkeeping failed; retrying it as a regular activity", "what", summary, "error", err)
	}
	actx := workflow.WithActivityOptions(ctx, opts)
	return workflow.ExecuteActivity(withSummary(actx, "%s", summary), activity, arg).Get(ctx, result)
}

// quickLocal makes quickly's local attempts only, and returns the last
// one's error.
func quickLocal(ctx workflow.Context, running *int, opts workflow.ActivityOptions, summary string, activity any, arg any) error {
	return quickLocalInto(ctx, running, opts, summary, nil, activity, arg)
}

func quickLocalInto(ctx workflow.Context, running *int, opts workflow.ActivityOptions, summary string, result, activity, arg any) error {
	tries := quickTries
	if opts.RetryPolicy != nil {
		tries.NonRetryableErrorTypes = opts.RetryPolicy.NonRetryableErrorTypes
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second, ScheduleToCloseTimeout: 30 * time.Second,
		RetryPolicy: &tries, Summary: summary,
	})
	*running++
	defer func() { *running-- }()
	return workflow.ExecuteLocalActivity(lctx, activity, arg).Get(ctx, result)
}

// final reports whether retrying cannot cure err.
func final(err error, opts workflow.ActivityOptions) bool {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return false
	}
	return appErr.NonRetryable() || (opts.RetryPolicy != nil && slices.Contains(opts.RetryPolicy.NonRetryableErrorTypes, appErr.Type()))
}
