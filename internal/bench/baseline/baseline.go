// Package baseline is the bench's yardstick: a workflow that makes the
// Temporal round trips of one deal without its logic (see Workflow).
package baseline

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/workflows"
)

// The baseline is the load generator's yardstick (`tradeloop bench`): a
// workflow that makes the same Temporal round trips as one deal, the same
// updates and signals, activities, timers and child workflow with its polls
// and reports, in the same order, but with no business logic: its
// activities do nothing and its state is a few counters. Its plan is read
// from the history of a deal the bench ran (internal/bench), so the bench
// can print what a deal costs as a ratio over what Temporal alone costs.
const (
	WorkflowName      = "Baseline"
	ChildWorkflowName = "BaselineChild"
	// UpdateStep and SignalStep stand for the deal's
	// updates and signals, in the plan's order.
	UpdateStep = "baseline-step"
	SignalStep = "baseline-signal"
	// SignalReport is the child's report, as a tracking child's.
	SignalReport = "baseline-report"
	// UpdateReport is the report of a child's activity, as a tracking
	// child's FollowShipment sends it.
	UpdateReport = "baseline-report-update"
)

// Plan lists the round trips of one deal: what the workflow does
// when it starts, then after each update or signal, and after each report
// from a child.
type Plan struct {
	Start   Segment   `json:"start"`
	Steps   []Segment `json:"steps"`
	Reports []Segment `json:"reports,omitempty"` // in the order they arrive, whichever child sends them
}

// Segment is the work that follows one update or signal (or the
// start): activities run inside the update handler before it returns, then
// activities the main loop runs, the timers it starts (each cancelled by the
// next step, as a deal's deadline timers are), and a child workflow.
type Segment struct {
	Name   string     `json:"name"` // the deal's update or signal it stands for
	Signal bool       `json:"signal,omitempty"`
	Inside int        `json:"inside,omitempty"`
	After  int        `json:"after,omitempty"`
	Timers int        `json:"timers,omitempty"`
	Child  *ChildPlan `json:"child,omitempty"`
}

// ChildPlan is a tracking child's work: polls (activities), sleeps
// between them (timers that fire) and reports to the parent (signals).
type ChildPlan struct {
	Polls   int           `json:"polls"`
	Sleeps  int           `json:"sleeps"`
	Sleep   time.Duration `json:"sleep"`
	Reports int           `json:"reports"`
	// PollReports are the polls that reported to the parent themselves,
	// as the deal's trackers' activities do (the first ones here), with
	// PollSignals signals in all (one activity may follow a shipment
	// through several reports).
	PollReports int `json:"poll_reports,omitempty"`
	PollSignals int `json:"poll_signals,omitempty"`
}

// Input starts a baseline workflow.
type Input struct {
	ID   string `json:"id"`
	Plan Plan   `json:"plan"`
}

// StepInput names the deal update or signal a step stands for; it
// must be the plan's next one.
type StepInput struct {
	Name string `json:"name"`
}

// State is what the baseline's state query returns.
type State struct {
	ID           string `json:"deal_id"`
	Steps        int    `json:"steps"`
	ChildrenDone int    `json:"children_done"`
	Done         bool   `json:"done"`
}

// ChildInput starts a baseline child.
type ChildInput struct {
	ParentID string    `json:"parent_id"`
	Plan     ChildPlan `json:"plan"`
}

// Report is the child's signal; Last ends the child's work.
type Report struct {
	Last bool `json:"last"`
}

// ActivityName is the baseline's no-op activity.
const ActivityName = "BaselineNoop"

// Noop does nothing: it is one activity round trip through Temporal, the
// unit the baseline counts in.
func Noop(context.Context, int) error { return nil }

// ReportActivityName is the baseline's activity that reports to a
// parent, as a poll that brought news.
const ReportActivityName = "BaselineReport"

// ReportInput is what the report activity sends to whom: Signals
// reports, the last of them Last.
type ReportInput struct {
	ParentID string `json:"parent_id"`
	Signals  int    `json:"signals"`
	Last     bool   `json:"last"`
}

// reporter reports to a baseline parent through Temporal's client, by
// update, as a tracker's activity does.
type reporter struct{ c client.Client }

func (r reporter) report(ctx context.Context, in ReportInput) error {
	for i := range in.Signals {
		h, err := r.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: in.ParentID, UpdateName: UpdateReport, Args: []any{Report{Last: in.Last && i == in.Signals-1}},
			WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Register adds the baseline's workflows and activities to a worker; c is
// the client its report activity signals through. Only the bench's worker
// (`tradeloop bench-worker`) registers them, next to the deal's;
// production workers do not.
func Register(r worker.Registry, c client.Client) {
	r.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	r.RegisterWorkflowWithOptions(ChildWorkflow, workflow.RegisterOptions{Name: ChildWorkflowName})
	r.RegisterActivityWithOptions(Noop, activity.RegisterOptions{Name: ActivityName})
	r.RegisterActivityWithOptions(reporter{c}.report, activity.RegisterOptions{Name: ReportActivityName})
}

var baselineOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
}

type baseline struct {
	plan     Plan
	state    State
	queue    []Segment // segments whose main-loop work is due
	change   int
	children int // started
	awaited  int // started children that report
	reports  int // reports received
	noop     int
}

// Workflow runs a plan: the round trips of one deal without its logic.
func Workflow(ctx workflow.Context, in Input) (State, error) {
	b := &baseline{plan: in.Plan, state: State{ID: in.ID}, queue: []Segment{in.Plan.Start}}
	if err := workflow.SetQueryHandler(ctx, workflows.QueryState, func() (State, error) { return b.state, nil }); err != nil {
		return b.state, err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateStep,
		func(ctx workflow.Context, in StepInput) (State, error) {
			if err := b.check(in, false); err != nil {
				return State{}, err
			}
			seg := b.take()
			for range seg.Inside {
				if err := b.activity(ctx); err != nil {
					return State{}, err
				}
			}
			b.due(seg)
			return b.state, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in StepInput) error { return b.check(in, false) }})
	if err != nil {
		return b.state, err
	}
	steps := workflow.GetSignalChannel(ctx, SignalStep)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var in StepInput
			steps.Receive(ctx, &in)
			if b.check(in, true) == nil {
				b.due(b.take())
			}
		}
	})
	report := func(r Report) {
		if r.Last {
			b.state.ChildrenDone++
		}
		if b.reports < len(b.plan.Reports) {
			b.queue = append(b.queue, b.plan.Reports[b.reports])
		}
		b.reports++
		b.change++
	}
	reports := workflow.GetSignalChannel(ctx, SignalReport)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r Report
			reports.Receive(ctx, &r)
			report(r)
		}
	})
	if err := workflow.SetUpdateHandler(ctx, UpdateReport, func(_ workflow.Context, r Report) error {
		report(r)
		return nil
	}); err != nil {
		return b.state, err
	}

	stopTimers := func() {}
	defer func() { stopTimers() }()
	for {
		seen := b.change
		for len(b.queue) > 0 {
			seg := b.queue[0]
			b.queue = b.queue[1:]
			// The previous step's timers end as a deal's deadline timers
			// do when a party acts: cancelled, and new ones started.
			stopTimers()
			tctx, cancel := workflow.WithCancel(ctx)
			stopTimers = cancel
			for range seg.Timers {
				workflow.NewTimer(tctx, 24*time.Hour)
			}
			for range seg.After {
				if err := b.activity(ctx); err != nil {
					return b.state, err
				}
			}
			if seg.Child != nil {
				b.children++
				if seg.Child.Reports+seg.Child.PollReports > 0 {
					b.awaited++
				}
				cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
					WorkflowID: fmt.Sprintf("%s/child-%d", workflow.GetInfo(ctx).WorkflowExecution.ID, b.children),
				})
				fut := workflow.ExecuteChildWorkflow(cctx, ChildWorkflow, ChildInput{
					ParentID: workflow.GetInfo(ctx).WorkflowExecution.ID, Plan: *seg.Child,
				})
				if err := fut.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
					return b.state, fmt.Errorf("start baseline child: %w", err)
				}
			}
		}
		if b.state.Steps == len(b.plan.Steps) && b.state.ChildrenDone >= b.awaited {
			break
		}
		if err := workflow.Await(ctx, func() bool { return b.change != seen }); err != nil {
			return b.state, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return b.state, err
	}
	b.state.Done = true
	return b.state, nil
}

func (b *baseline) check(in StepInput, signal bool) error {
	if b.state.Steps >= len(b.plan.Steps) {
		return workflows.Reject(workflows.RejectWrongStage, "the baseline has run all its %d steps", len(b.plan.Steps))
	}
	want := b.plan.Steps[b.state.Steps]
	if want.Name != in.Name || want.Signal != signal {
		return workflows.Reject(workflows.RejectWrongStage, "step %d of the baseline is %q, not %q", b.state.Steps+1, want.Name, in.Name)
	}
	return nil
}

// take moves to the plan's next step.
func (b *baseline) take() Segment {
	seg := b.plan.Steps[b.state.Steps]
	b.state.Steps++
	return seg
}

// due hands a step's main-loop work to Workflow.
func (b *baseline) due(seg Segment) {
	b.queue = append(b.queue, seg)
	b.change++
}

func (b *baseline) activity(ctx workflow.Context) error {
	b.noop++
	actx := workflow.WithActivityOptions(ctx, baselineOptions)
	return workflow.ExecuteActivity(actx, Noop, b.noop).Get(ctx, nil)
}

// ChildWorkflow polls, sleeps and reports as a tracking child does.
func ChildWorkflow(ctx workflow.Context, in ChildInput) error {
	actx := workflow.WithActivityOptions(ctx, baselineOptions)
	p := in.Plan
	report := func(last bool) error {
		return workflow.SignalExternalWorkflow(ctx, in.ParentID, "", SignalReport, Report{Last: last}).Get(ctx, nil)
	}
	pollSignals := max(p.PollSignals, p.PollReports)
	total := p.Reports + pollSignals
	reported, signalled, slept := 0, 0, 0
	for i := range p.Polls {
		if i < p.PollReports {
			n := pollSignals / p.PollReports
			if i < pollSignals%p.PollReports {
				n++
			}
			reported += n
			if err := workflow.ExecuteActivity(actx, ReportActivityName, ReportInput{ParentID: in.ParentID, Signals: n, Last: reported == total}).Get(ctx, nil); err != nil {
				return err
			}
		} else if err := workflow.ExecuteActivity(actx, Noop, i).Get(ctx, nil); err != nil {
			return err
		}
		last := i == p.Polls-1
		if signalled < p.Reports && (last || signalled < p.Reports-1) {
			signalled++
			reported++
			if err := report(reported == total); err != nil {
				return err
			}
		}
		if !last && slept < p.Sleeps {
			slept++
			if err := workflow.Sleep(ctx, p.Sleep); err != nil {
				return err
			}
		}
	}
	for ; slept < p.Sleeps; slept++ {
		if err := workflow.Sleep(ctx, p.Sleep); err != nil {
			return err
		}
	}
	for signalled < p.Reports {
		signalled++
		reported++
		if err := report(reported == total); err != nil {
			return err
		}
	}
	return nil
}
