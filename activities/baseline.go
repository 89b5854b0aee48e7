package activities

import "context"

// BaselineActivityName is the no-op activity of the load generator's
// baseline workflow (workflows.Baseline).
const BaselineActivityName = "BaselineNoop"

// BaselineNoop does nothing: it is one activity round trip through
// Temporal, the unit the baseline workflow counts in.
func BaselineNoop(context.Context, int) error { return nil }
