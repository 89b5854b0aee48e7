package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// diagnose writes what Temporal knows of a stalled run: the task queue's
// pollers and backlog, and each open workflow's pending workflow task and
// activities; then it asks the worker for its goroutines (SIGQUIT: the Go
// runtime prints them and exits). Everything goes to the test's log, and
// with TRADELOOP_FAULTS_DIAG set, into that directory too.
func (p *platform) diagnose() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b strings.Builder
	svc := p.tc.Client.WorkflowService()
	for _, kind := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
		d, err := svc.DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
			Namespace: p.tc.Namespace, TaskQueue: &taskqueuepb.TaskQueue{Name: p.tc.TaskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
			TaskQueueType: kind, ReportStats: true,
		})
		if err != nil {
			fmt.Fprintf(&b, "describe %s queue: %v\n", kind, err)
			continue
		}
		fmt.Fprintf(&b, "%s queue: stats %v\n", kind, d.GetStats())
		for _, pl := range d.GetPollers() {
			fmt.Fprintf(&b, "  poller %s last %s\n", pl.GetIdentity(), pl.GetLastAccessTime().AsTime().Format(time.RFC3339Nano))
		}
	}
	list, err := svc.ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: p.tc.Namespace, PageSize: 100,
		Query: fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus = 'Running'", p.tc.TaskQueue),
	})
	if err != nil {
		fmt.Fprintf(&b, "list open workflows: %v\n", err)
	}
	for _, ex := range list.GetExecutions() {
		id := ex.GetExecution().GetWorkflowId()
		d, err := p.tc.Client.DescribeWorkflowExecution(ctx, id, "")
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", id, err)
			continue
		}
		info := d.GetWorkflowExecutionInfo()
		fmt.Fprintf(&b, "%s: history %d events, %d bytes\n", id, info.GetHistoryLength(), info.GetHistorySizeBytes())
		if wt := d.GetPendingWorkflowTask(); wt != nil {
			fmt.Fprintf(&b, "  workflow task %s attempt %d scheduled %s started %s\n", wt.GetState(), wt.GetAttempt(),
				wt.GetScheduledTime().AsTime().Format(time.RFC3339Nano), wt.GetStartedTime().AsTime().Format(time.RFC3339Nano))
		}
		for _, a := range d.GetPendingActivities() {
			fmt.Fprintf(&b, "  activity %s %s attempt %d scheduled %s started %s worker %s failure %v\n", a.GetActivityType().GetName(), a.GetState(),
				a.GetAttempt(), a.GetScheduledTime().AsTime().Format(time.RFC3339Nano), a.GetLastStartedTime().AsTime().Format(time.RFC3339Nano),
				a.GetLastWorkerIdentity(), a.GetLastFailure().GetMessage())
		}
	}
	p.t.Logf("stall diagnosis at %s:\n%s", time.Now().Format(time.RFC3339Nano), b.String())
	if p.worker != nil {
		if pid := p.worker.Pid(); pid != 0 {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
			select {
			case <-p.worker.Exited():
			case <-time.After(10 * time.Second):
			}
		}
	}
	if dir := os.Getenv("TRADELOOP_FAULTS_DIAG"); dir != "" {
		name := strings.NewReplacer("/", "-").Replace(p.t.Name())
		_ = os.MkdirAll(dir, 0o755)
		_ = os.WriteFile(filepath.Join(dir, name+"-temporal.txt"), []byte(b.String()), 0o644)
		if p.worker != nil {
			if log, err := os.ReadFile(p.worker.Log); err == nil {
				_ = os.WriteFile(filepath.Join(dir, name+"-worker.log"), log, 0o644)
			}
		}
	}
}
