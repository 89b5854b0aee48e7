package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

// The baseline is the load generator's yardstick (`tradeloop bench`): a
// workflow that makes the same Temporal round trips as one deal, the same
// updates and signals, activities, timers and child workflow with its polls
// and reports, in the same order, but with no business logic: its
// activities do nothing and its state is a few counters. Its plan is read
// from the history of a deal the bench ran (internal/bench), so the bench
// can print what a deal costs as a ratio over what Temporal alone costs.
const (
	BaselineWorkflowName      = "Baseline"
	BaselineChildWorkflowName = "BaselineChild"
	// UpdateBaselineStep and SignalBaselineStep stand for the deal's
	// updates and signals, in the plan's order.
	UpdateBaselineStep = "baseline-step"
	SignalBaselineStep = "baseline-signal"
	// SignalBaselineReport is the child's report, as a tracking child's.
	SignalBaselineReport = "baseline-report"
)

// BaselinePlan lists the round trips of one deal: what the workflow does
// when it starts, then after each update or signal, and after each report
// from a child.
type BaselinePlan struct {
	Start   BaselineSegment   `json:"start"`
	Steps   []BaselineSegment `json:"steps"`
	Reports []BaselineSegment `json:"reports,omitempty"` // in the order they arrive, whichever child sends them
}

// BaselineSegment is the work that follows one update or signal (or the
// start): activities run inside the update handler before it returns, then
// activities the main loop runs, the timers it starts (each cancelled by the
// next step, as a deal's deadline timers are), and a child workflow.
type BaselineSegment struct {
	Name   string             `json:"name"` // the deal's update or signal it stands for
	Signal bool               `json:"signal,omitempty"`
	Inside int                `json:"inside,omitempty"`
	After  int                `json:"after,omitempty"`
	Timers int                `json:"timers,omitempty"`
	Child  *BaselineChildPlan `json:"child,omitempty"`
}

// BaselineChildPlan is a tracking child's work: polls (activities), sleeps
// between them (timers that fire) and reports to the parent (signals).
type BaselineChildPlan struct {
	Polls   int           `json:"polls"`
	Sleeps  int           `json:"sleeps"`
	Sleep   time.Duration `json:"sleep"`
	Reports int           `json:"reports"`
}

// BaselineInput starts a baseline workflow.
type BaselineInput struct {
	ID   string       `json:"id"`
	Plan BaselinePlan `json:"plan"`
}

// BaselineStepInput names the deal update or signal a step stands for; it
// must be the plan's next one.
type BaselineStepInput struct {
	Name string `json:"name"`
}

// BaselineState is what the baseline's state query returns.
type BaselineState struct {
	ID           string `json:"deal_id"`
	Steps        int    `json:"steps"`
	ChildrenDone int    `json:"children_done"`
	Done         bool   `json:"done"`
}

// BaselineChildInput starts a baseline child.
type BaselineChildInput struct {
	ParentID string            `json:"parent_id"`
	Plan     BaselineChildPlan `json:"plan"`
}

// BaselineReport is the child's signal; Last ends the child's work.
type BaselineReport struct {
	Last bool `json:"last"`
}

// RegisterBaseline adds the baseline workflows to a worker; stack.NewWorker
// registers them next to the deal's, with activities.BaselineNoop.
func RegisterBaseline(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Baseline, workflow.RegisterOptions{Name: BaselineWorkflowName})
	r.RegisterWorkflowWithOptions(BaselineChild, workflow.RegisterOptions{Name: BaselineChildWorkflowName})
}

var baselineOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 30 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
}

type baseline struct {
	plan     BaselinePlan
	state    BaselineState
	queue    []BaselineSegment // segments whose main-loop work is due
	change   int
	children int // started
	awaited  int // started children that report
	reports  int // reports received
	noop     int
}

// Baseline runs a plan: the round trips of one deal without its logic.
func Baseline(ctx workflow.Context, in BaselineInput) (BaselineState, error) {
	b := &baseline{plan: in.Plan, state: BaselineState{ID: in.ID}, queue: []BaselineSegment{in.Plan.Start}}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (BaselineState, error) { return b.state, nil }); err != nil {
		return b.state, err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateBaselineStep,
		func(ctx workflow.Context, in BaselineStepInput) (BaselineState, error) {
			if err := b.check(in, false); err != nil {
				return BaselineState{}, err
			}
			seg := b.take()
			for range seg.Inside {
				if err := b.activity(ctx); err != nil {
					return BaselineState{}, err
				}
			}
			b.due(seg)
			return b.state, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(_ workflow.Context, in BaselineStepInput) error { return b.check(in, false) }})
	if err != nil {
		return b.state, err
	}
	steps := workflow.GetSignalChannel(ctx, SignalBaselineStep)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var in BaselineStepInput
			steps.Receive(ctx, &in)
			if b.check(in, true) == nil {
				b.due(b.take())
			}
		}
	})
	reports := workflow.GetSignalChannel(ctx, SignalBaselineReport)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var r BaselineReport
			reports.Receive(ctx, &r)
			if r.Last {
				b.state.ChildrenDone++
			}
			if b.reports < len(b.plan.Reports) {
				b.queue = append(b.queue, b.plan.Reports[b.reports])
			}
			b.reports++
			b.change++
		}
	})

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
				if seg.Child.Reports > 0 {
					b.awaited++
				}
				cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
					WorkflowID: fmt.Sprintf("%s/child-%d", workflow.GetInfo(ctx).WorkflowExecution.ID, b.children),
				})
				fut := workflow.ExecuteChildWorkflow(cctx, BaselineChild, BaselineChildInput{
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

func (b *baseline) check(in BaselineStepInput, signal bool) error {
	if b.state.Steps >= len(b.plan.Steps) {
		return reject(RejectWrongStage, "the baseline has run all its %d steps", len(b.plan.Steps))
	}
	want := b.plan.Steps[b.state.Steps]
	if want.Name != in.Name || want.Signal != signal {
		return reject(RejectWrongStage, "step %d of the baseline is %q, not %q", b.state.Steps+1, want.Name, in.Name)
	}
	return nil
}

// take moves to the plan's next step.
func (b *baseline) take() BaselineSegment {
	seg := b.plan.Steps[b.state.Steps]
	b.state.Steps++
	return seg
}

// due hands a step's main-loop work to Baseline.
func (b *baseline) due(seg BaselineSegment) {
	b.queue = append(b.queue, seg)
	b.change++
}

func (b *baseline) activity(ctx workflow.Context) error {
	b.noop++
	actx := workflow.WithActivityOptions(ctx, baselineOptions)
	return workflow.ExecuteActivity(actx, activities.BaselineNoop, b.noop).Get(ctx, nil)
}

// BaselineChild polls, sleeps and reports as a tracking child does.
func BaselineChild(ctx workflow.Context, in BaselineChildInput) error {
	actx := workflow.WithActivityOptions(ctx, baselineOptions)
	p := in.Plan
	report := func(last bool) error {
		return workflow.SignalExternalWorkflow(ctx, in.ParentID, "", SignalBaselineReport, BaselineReport{Last: last}).Get(ctx, nil)
	}
	reported, slept := 0, 0
	for i := range p.Polls {
		if err := workflow.ExecuteActivity(actx, activities.BaselineNoop, i).Get(ctx, nil); err != nil {
			return err
		}
		last := i == p.Polls-1
		if reported < p.Reports && (last || reported < p.Reports-1) {
			reported++
			if err := report(reported == p.Reports); err != nil {
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
	for reported < p.Reports {
		reported++
		if err := report(reported == p.Reports); err != nil {
			return err
		}
	}
	return nil
}
