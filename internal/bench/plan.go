package bench

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/tradeloop/tradeloop/internal/bench/baseline"
	"github.com/tradeloop/tradeloop/workflows"
)

// RoundTrips counts what one workflow, with its child workflows, asked of
// Temporal, from its history.
type RoundTrips struct {
	Updates       int `json:"updates"`
	Signals       int `json:"signals"`        // from outside (the API)
	Activities    int `json:"activities"`     // the children's included
	Timers        int `json:"timers"`         // the children's included
	Children      int `json:"children"`       // child workflows
	ChildSignals  int `json:"child_signals"`  // children's reports to the parent
	WorkflowTasks int `json:"workflow_tasks"` // the children's included
	HistoryEvents int `json:"history_events"` // the children's included
	// LocalActivities ran in the worker and were recorded as markers: no
	// round trip, so not in Total.
	LocalActivities int `json:"local_activities"`
}

// Total is every round trip the workflow made: updates, signals,
// activities, timers, child starts and their signals.
func (r RoundTrips) Total() int {
	return r.Updates + r.Signals + r.Activities + r.Timers + r.Children + r.ChildSignals
}

func (r RoundTrips) String() string {
	return fmt.Sprintf("%d updates, %d signals, %d activities, %d timers, %d child workflows with %d signals back; %d workflow tasks, %d history events",
		r.Updates, r.Signals, r.Activities, r.Timers, r.Children, r.ChildSignals, r.WorkflowTasks, r.HistoryEvents)
}

// childReports are the signals and updates a parent gets from its own
// children (or their activities), which belong to the child's work, not
// to a new step.
var childReports = map[string]bool{
	workflows.SignalShipmentUpdate: true, baseline.SignalReport: true,
	workflows.UpdateReportTracking: true, baseline.UpdateReport: true, // from the children's activities
}

// followActivity is the deal's trackers' polling activity
// (activities.FollowShipment), which reports to the deal itself, as the
// baseline's report activity does.
const followActivity = "FollowShipment"

// localActivityMarker names the marker the Go SDK records for a local
// activity.
const localActivityMarker = "LocalActivity"

// PlanOf reads a finished workflow's history, and its children's, and
// returns the baseline plan that repeats its round trips, and their count.
//
// Each update the workflow accepted, and each signal from outside, starts
// a step; each report from a child starts a report step. An activity
// scheduled after an update was accepted and finished before the update
// completed ran inside its handler (the deal's payment calls the provider
// there); every other activity, timer and child workflow belongs to the
// latest step.
func PlanOf(ctx context.Context, c client.Client, workflowID string) (baseline.Plan, RoundTrips, error) {
	events, err := history(ctx, c, workflowID, "")
	if err != nil {
		return baseline.Plan{}, RoundTrips{}, err
	}
	finished := map[int64]int64{}      // activity scheduled event → its end
	updateEnds := map[int64]int64{}    // update accepted event → completed event
	childRuns := map[int64][2]string{} // child initiated event → workflow ID, run ID
	for _, e := range events {
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			finished[e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()] = e.GetEventId()
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED:
			finished[e.GetActivityTaskFailedEventAttributes().GetScheduledEventId()] = e.GetEventId()
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			finished[e.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId()] = e.GetEventId()
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
			a := e.GetWorkflowExecutionUpdateCompletedEventAttributes()
			updateEnds[a.GetAcceptedEventId()] = e.GetEventId()
		case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
			a := e.GetChildWorkflowExecutionStartedEventAttributes()
			childRuns[a.GetInitiatedEventId()] = [2]string{a.GetWorkflowExecution().GetWorkflowId(), a.GetWorkflowExecution().GetRunId()}
		}
	}

	var (
		plan   baseline.Plan
		rt     RoundTrips
		open   []int64 // accepted events of updates not yet completed, with their step
		stepOf = map[int64]int{}
	)
	current := &plan.Start
	for _, e := range events {
		rt.HistoryEvents++
		id := e.GetEventId()
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			rt.WorkflowTasks++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if e.GetMarkerRecordedEventAttributes().GetMarkerName() == localActivityMarker {
				rt.LocalActivities++
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			name := e.GetWorkflowExecutionUpdateAcceptedEventAttributes().GetAcceptedRequest().GetInput().GetName()
			if childReports[name] {
				plan.Reports = append(plan.Reports, baseline.Segment{Name: name})
				current = &plan.Reports[len(plan.Reports)-1]
				continue
			}
			rt.Updates++
			plan.Steps = append(plan.Steps, baseline.Segment{Name: name})
			current = &plan.Steps[len(plan.Steps)-1]
			open = append(open, id)
			stepOf[id] = len(plan.Steps) - 1
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			name := e.GetWorkflowExecutionSignaledEventAttributes().GetSignalName()
			if childReports[name] {
				plan.Reports = append(plan.Reports, baseline.Segment{Name: name})
				current = &plan.Reports[len(plan.Reports)-1]
				continue
			}
			rt.Signals++
			plan.Steps = append(plan.Steps, baseline.Segment{Name: name, Signal: true})
			current = &plan.Steps[len(plan.Steps)-1]
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			rt.Activities++
			inside := -1
			for _, acc := range open {
				end, done := updateEnds[acc]
				if fin, ok := finished[id]; acc < id && ok && (!done || fin < end) {
					inside = stepOf[acc]
				}
			}
			if inside >= 0 {
				plan.Steps[inside].Inside++
			} else {
				current.After++
			}
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			rt.Timers++
			current.Timers++
		case enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
			rt.Children++
			run, ok := childRuns[id]
			if !ok {
				return plan, rt, fmt.Errorf("%s: child workflow of event %d never started", workflowID, id)
			}
			child, crt, err := childPlanOf(ctx, c, run[0], run[1])
			if err != nil {
				return plan, rt, err
			}
			current.Child = &child
			rt.Activities += crt.Activities
			rt.Timers += crt.Timers
			rt.ChildSignals += crt.ChildSignals
			rt.WorkflowTasks += crt.WorkflowTasks
			rt.HistoryEvents += crt.HistoryEvents
		}
		// Updates that completed are no longer open.
		kept := open[:0]
		for _, acc := range open {
			if end, done := updateEnds[acc]; !done || end > id {
				kept = append(kept, acc)
			}
		}
		open = kept
	}
	attributeActivityReports(&plan, &rt)
	return plan, rt, nil
}

// attributeActivityReports gives the reports a child's activities sent
// the parent beyond one each (a tracker's activity follows a shipment
// through several reports, which its child's history does not show) to
// the last child whose activities report: the parent's history counts
// them all.
func attributeActivityReports(plan *baseline.Plan, rt *RoundTrips) {
	var children []*baseline.ChildPlan
	for _, segs := range [][]baseline.Segment{{plan.Start}, plan.Steps, plan.Reports} {
		for i := range segs {
			if segs[i].Child != nil {
				children = append(children, segs[i].Child)
			}
		}
	}
	sent, last := 0, (*baseline.ChildPlan)(nil)
	for _, c := range children {
		c.PollSignals = c.PollReports
		sent += c.Reports + c.PollSignals
		if c.PollReports > 0 {
			last = c
		}
	}
	if extra := len(plan.Reports) - sent; extra > 0 && last != nil {
		last.PollSignals += extra
		rt.ChildSignals += extra
	}
}

// childPlanOf counts a child's polls, sleeps and reports, across its
// continued runs.
func childPlanOf(ctx context.Context, c client.Client, workflowID, runID string) (baseline.ChildPlan, RoundTrips, error) {
	var p baseline.ChildPlan
	var rt RoundTrips
	for runID != "" {
		events, err := history(ctx, c, workflowID, runID)
		if err != nil {
			return p, rt, err
		}
		runID = ""
		follows := map[int64]bool{} // scheduled FollowShipment activities
		for _, e := range events {
			rt.HistoryEvents++
			switch e.GetEventType() {
			case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
				rt.WorkflowTasks++
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				// A tracker's FollowShipment completes only with news,
				// which it signalled to its deal itself (the baseline's
				// report activity likewise).
				if follows[e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()] {
					p.PollReports++
					rt.ChildSignals++
				}
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				p.Polls++
				rt.Activities++
				if name := e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName(); name == followActivity || name == baseline.ReportActivityName {
					follows[e.GetEventId()] = true
				}
			case enumspb.EVENT_TYPE_TIMER_STARTED:
				p.Sleeps++
				rt.Timers++
				if p.Sleep == 0 {
					p.Sleep = e.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration()
				}
			case enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
				p.Reports++
				rt.ChildSignals++
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
				runID = e.GetWorkflowExecutionContinuedAsNewEventAttributes().GetNewExecutionRunId()
			}
		}
	}
	if p.Sleep == 0 {
		p.Sleep = time.Second
	}
	return p, rt, nil
}

func history(ctx context.Context, c client.Client, workflowID, runID string) ([]*historypb.HistoryEvent, error) {
	it := c.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", workflowID, err)
		}
		events = append(events, e)
	}
	return events, nil
}
