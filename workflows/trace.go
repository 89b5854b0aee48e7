package workflows

import "go.temporal.io/sdk/workflow"

// TraceSpanKey is where a workflow context holds the trace span of the call
// it serves, when the worker traces (internal/tracing has its Temporal
// interceptor keep spans there). A round of bookkeeping runs under the span
// of the update that caused it, so an action's trace shows the books its
// answer waits for. Spans never change what a workflow does: on replay they
// are not even made.
var TraceSpanKey any = traceSpanKey{}

type traceSpanKey struct{}

// tracedBy is ctx under span, the span of an earlier call (nil: ctx).
func tracedBy(ctx workflow.Context, span any) workflow.Context {
	if span == nil {
		return ctx
	}
	return workflow.WithValue(ctx, TraceSpanKey, span)
}
