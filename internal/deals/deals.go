// Package deals is the typed client of the deal's workflows on Temporal:
// it starts a deal, sends a party's action as the workflow's update,
// queries a deal's state, signals a mediator's decision or a payment
// provider's event, and runs the escrow's operator workflows (the
// watchdog's check, an override). The API acts on deals only through it.
package deals

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tradeloop/tradeloop/workflows"
)

// Errors the client answers with, besides the workflows' own rejections
// (workflows.RejectionCode) and UnavailableError.
var (
	// ErrNotFound: no such deal workflow (never started, or its history
	// is gone), for a query or a signal.
	ErrNotFound = errors.New("no such deal workflow")
	// ErrClosed: the deal's workflow has ended and takes no more actions.
	ErrClosed = errors.New("the deal is closed and takes no more actions")
	// ErrAlreadyStarted: a workflow with this ID runs, or ended in a way
	// that forbids another (an override that settled its deal).
	ErrAlreadyStarted = errors.New("already started")
	// ErrStillRunning: the workflow did not finish in the time given; it
	// goes on.
	ErrStillRunning = errors.New("still running")
)

// UnavailableError is Temporal or the worker not answering in time:
// nothing is wrong with the request, and it may be sent again shortly.
type UnavailableError struct{ cause error }

func (e *UnavailableError) Error() string { return "deal service unavailable: " + e.cause.Error() }
func (e *UnavailableError) Unwrap() error { return e.cause }

// Unavailable wraps err as an UnavailableError.
func Unavailable(err error) error { return &UnavailableError{cause: err} }

// Workflow is the kind of workflow a Client drives, one per deal: its
// type's name and its ID for a deal's ID.
type Workflow struct {
	Name string
	ID   func(dealID string) string
}

// DealWorkflow is the deal's own workflow, which New drives.
func DealWorkflow() Workflow {
	return Workflow{Name: workflows.DealWorkflowName, ID: workflows.DealWorkflowID}
}

// Client talks to the deal workflows of one task queue.
type Client struct {
	temporal  client.Client
	taskQueue string
	wf        Workflow
	// timeout bounds a query; an action waits twice it.
	timeout time.Duration
	reads   *dealReads
}

// New is the client of the deals on taskQueue; timeout bounds how long a
// query waits for the workflow (an action waits twice it).
func New(c client.Client, taskQueue string, timeout time.Duration) *Client {
	return &Client{temporal: c, taskQueue: taskQueue, wf: DealWorkflow(), timeout: timeout, reads: &dealReads{}}
}

// For is the same client driving another kind of workflow with the
// deal's calls (the bench's baseline): the same starts, updates, signals
// and queries, with the same timeouts and errors.
func (c *Client) For(wf Workflow) *Client {
	return &Client{temporal: c.temporal, taskQueue: c.taskQueue, wf: wf, timeout: c.timeout, reads: &dealReads{}}
}

// Start starts a deal's workflow. A deal with the same ID that has
// started already is no error: repeat says so, and nothing new starts.
func (c *Client) Start(ctx context.Context, in workflows.DealInput) (repeat bool, err error) {
	return c.StartWith(ctx, in.DealID, in)
}

// StartWith is Start with the workflow's input as it is (For's workflows
// take their own).
func (c *Client) StartWith(ctx context.Context, dealID string, input any) (repeat bool, err error) {
	_, err = c.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: c.wf.ID(dealID), TaskQueue: c.taskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, c.wf.Name, input)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("start deal %s: %w", dealID, unavailable(ctx, err))
	}
	return false, nil
}

// State asks the deal's workflow for its state, giving Temporal and the
// worker the client's timeout to answer (UnavailableError otherwise);
// ErrNotFound without a workflow. Readers of one deal share its queries
// (dealReads); a query runs to its own timeout even if the reader that
// started it goes away.
func (c *Client) State(ctx context.Context, dealID string) (workflows.DealState, error) {
	return c.reads.get(ctx, dealID, func() (workflows.DealState, error) {
		qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		var st workflows.DealState
		err := c.query(qctx, dealID, &st)
		return st, err
	})
}

// Query asks the workflow for its state into result (State for the
// deal's own workflow, which shares its readers' queries), within the
// client's timeout.
func (c *Client) Query(ctx context.Context, dealID string, result any) error {
	qctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.query(qctx, dealID, result)
}

func (c *Client) query(ctx context.Context, dealID string, result any) error {
	v, err := c.temporal.QueryWorkflow(ctx, c.wf.ID(dealID), "", workflows.QueryState)
	if err == nil {
		if err = v.Get(result); err != nil {
			return fmt.Errorf("decode the state of deal %s: %w", dealID, err)
		}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("query deal %s: %w", dealID, ErrNotFound)
	}
	return unavailable(ctx, err)
}

// Act sends a party's action to the deal's workflow as the update name
// and waits for its outcome into result. An updateID (from the request's
// Idempotency-Key) makes a repeat get the first outcome. A refused action
// is the workflow's rejection; an ended deal is ErrClosed.
func (c *Client) Act(ctx context.Context, dealID, name, updateID string, arg, result any) error {
	ctx, cancel := context.WithTimeout(ctx, 2*c.timeout)
	defer cancel()
	h, err := c.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: c.wf.ID(dealID), UpdateName: name, Args: []any{arg},
		UpdateID: updateID, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, result)
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return ErrClosed
	}
	return unavailable(ctx, err)
}

// Signal sends the deal's workflow a signal it cannot refuse (a
// mediator's decision, a payment provider's event); ErrNotFound when the
// deal's workflow has ended.
func (c *Client) Signal(ctx context.Context, dealID, signal string, arg any) error {
	err := c.temporal.SignalWorkflow(ctx, c.wf.ID(dealID), "", signal, arg)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("signal %s to deal %s: %w", signal, dealID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("signal %s to deal %s: %w", signal, dealID, unavailable(ctx, err))
	}
	return nil
}

// DeliverProviderEvent starts the workflow that delivers a payment
// provider's event to its deal, once per event ID: ErrAlreadyStarted for
// an event delivered before.
func (c *Client) DeliverProviderEvent(ctx context.Context, ev workflows.PendingProviderEvent) error {
	_, err := c.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.ProviderEventWorkflowID(ev.EventID), TaskQueue: c.taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.ProviderEventWorkflowName, ev)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return ErrAlreadyStarted
	}
	if err != nil {
		return fmt.Errorf("deliver provider event %s: %w", ev.EventID, unavailable(ctx, err))
	}
	return nil
}

// RefundOrphan starts the workflow, one per provider payment, that
// refunds money paid to a deal that has closed.
func (c *Client) RefundOrphan(ctx context.Context, p workflows.OrphanPayment) error {
	_, err := c.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.OrphanPaymentWorkflowID(p.ProviderPaymentID), TaskQueue: c.taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.OrphanPaymentWorkflowName, p)
	if err != nil {
		return fmt.Errorf("refund orphan payment %s: %w", p.ProviderPaymentID, unavailable(ctx, err))
	}
	return nil
}

// CheckEscrow runs the escrow watchdog now and waits for its report until
// ctx ends (ErrStillRunning: its findings are kept when it finishes).
func (c *Client) CheckEscrow(ctx context.Context) (workflows.WatchdogReport, error) {
	run, err := c.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.EscrowWatchdogScheduleID + "/check-" + uuid.NewString(), TaskQueue: c.taskQueue,
	}, workflows.EscrowWatchdogWorkflowName, workflows.WatchdogInput{})
	if err != nil {
		return workflows.WatchdogReport{}, fmt.Errorf("start the escrow watchdog: %w", unavailable(ctx, err))
	}
	var rep workflows.WatchdogReport
	if err := run.Get(ctx, &rep); err != nil {
		if ctx.Err() != nil {
			return workflows.WatchdogReport{}, ErrStillRunning
		}
		return workflows.WatchdogReport{}, fmt.Errorf("run the escrow watchdog: %w", err)
	}
	return rep, nil
}

// OverrideFailedError is an override that could not settle its deal
// (finance has an alert).
type OverrideFailedError struct{ Message string }

func (e *OverrideFailedError) Error() string {
	return "the override could not settle the deal: " + e.Message
}

// Override starts the SettleEscrow workflow for a deal whose own workflow
// is gone, and waits for it until ctx ends: ErrStillRunning then (it goes
// on moving money), ErrAlreadyStarted when an override of the deal runs
// or has settled it (a failed one may be tried again), the workflow's
// rejection for an order it refuses, OverrideFailedError for one it could
// not carry out.
func (c *Client) Override(ctx context.Context, in workflows.OverrideInput) (workflows.OverrideResult, error) {
	run, err := c.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.OverrideWorkflowID(in.DealID), TaskQueue: c.taskQueue,
		// A settled deal is overridden once; a failed override may be tried again.
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
	}, workflows.SettleEscrowWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return workflows.OverrideResult{}, ErrAlreadyStarted
	}
	if err != nil {
		return workflows.OverrideResult{}, fmt.Errorf("start the override of %s: %w", in.DealID, unavailable(ctx, err))
	}
	var res workflows.OverrideResult
	err = run.Get(ctx, &res)
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() != nil:
		return workflows.OverrideResult{}, ErrStillRunning
	case errors.As(err, &appErr):
		if workflows.RejectionCode(err) != "" {
			return workflows.OverrideResult{}, err
		}
		return workflows.OverrideResult{}, &OverrideFailedError{Message: appErr.Message()}
	default:
		return workflows.OverrideResult{}, fmt.Errorf("override %s: %w", in.DealID, err)
	}
}

// unavailable marks err as Temporal or the worker not answering in time.
func unavailable(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var (
		unav *serviceerror.Unavailable
		dead *serviceerror.DeadlineExceeded
		busy *serviceerror.ResourceExhausted
	)
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &unav) || errors.As(err, &dead) || errors.As(err, &busy) {
		return Unavailable(err)
	}
	return err
}
