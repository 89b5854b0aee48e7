package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/bounds"
)

// versionBooksApart marks deals whose notifications and projections run in
// their own coroutine and which continue as new; histories recorded before
// replay with the bookkeeping inline in the main loop.
const versionBooksApart = "books-apart"

// versionProjectTouches marks deals that project a change the timeline does
// not show (a charge posted to the ledger, a payment checked at the
// provider); earlier histories replay without those projections.
const versionProjectTouches = "project-touches"

// booksOptions: notifications and projections retry with backoff for up to
// an hour, then the failure is reported and tried again at the next change;
// a write the read model refuses for good is reported and skipped.
var booksOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: time.Hour,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		NonRetryableErrorTypes: []string{activities.ErrProjectionRejected},
	},
}

// keepBooks sends the notifications not yet sent and projects the timeline
// entries not yet projected. The projection carries the deal's summary, its
// new entries, and the rows (DealDetails) and sections of the state that
// changed: the read model holds the whole deal from them, never from the
// whole state sent at once.
func (d *deal) keepBooks(ctx workflow.Context) error {
	if d.localBooks {
		return d.keepBooksAtOnce(ctx)
	}
	for d.sent < len(d.outbox) {
		n := d.outbox[d.sent]
		if err := workflow.ExecuteActivity(withSummary(ctx, "notify %s", n.Kind), acts.Notify, n).Get(ctx, nil); err != nil {
			return fmt.Errorf("notify: %w", err)
		}
		d.sent++
	}
	touched := d.touched && d.projectTouches
	if d.projected >= len(d.state.Timeline) && !touched {
		return nil
	}
	p, marks, err := d.projection(ctx)
	if err != nil {
		return err
	}
	d.touched = false
	if err := workflow.ExecuteActivity(withSummary(ctx, "update the read model (%s)", d.state.Stage), acts.ProjectDeal, p).Get(ctx, nil); err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == activities.ErrProjectionRejected {
			// Moving past it: the next projection sends every section
			// again, as the read model may not have taken this one's.
			marks.forgetSections()
			d.marks, d.projected, d.rounds = marks, p.LastSeq, p.Round
		} else {
			d.touched = d.touched || touched
		}
		return fmt.Errorf("project deal: %w", err)
	}
	d.marks, d.projected, d.rounds = marks, p.LastSeq, p.Round
	return nil
}

// keepBooksAtOnce sends the notifications not yet sent and the projection
// in one bookkeeping activity. It is a regular activity, not a local one:
// a local activity writes before its workflow task is recorded, and if
// that task is lost (a worker killed, a task timed out under load) the
// read model would show a deal ahead of its workflow, a state the deal
// may never reach; a regular activity runs only for a recorded task.
func (d *deal) keepBooksAtOnce(ctx workflow.Context) error {
	var b activities.Books
	notes := len(d.outbox) - d.sent
	if notes > 0 {
		b.Notifications = slices.Clone(d.outbox[d.sent:])
	}
	touched := d.touched && d.projectTouches
	project := d.projected < len(d.state.Timeline) || touched
	var marks projectionMarks
	if project {
		p, m, err := d.projection(ctx)
		if err != nil {
			return err
		}
		b.Projection, marks = &p, m
		d.touched = false
	}
	if notes == 0 && !project {
		return nil
	}
	summary := fmt.Sprintf("send %d notifications", notes)
	if project {
		summary = fmt.Sprintf("send %d notifications, update the read model (%s)", notes, d.state.Stage)
	}
	err := workflow.ExecuteActivity(withSummary(ctx, "%s", summary), acts.KeepBooks, b).Get(ctx, nil)
	d.booksBehind = err != nil
	if err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == activities.ErrProjectionRejected {
			// The notifications went out before the projection was
			// refused; moving past it as keepBooks does.
			d.sent += notes
			marks.forgetSections()
			d.marks, d.projected, d.rounds = marks, b.Projection.LastSeq, b.Projection.Round
		} else {
			d.touched = d.touched || touched
		}
		return fmt.Errorf("keep the books: %w", err)
	}
	d.sent += notes
	if project {
		d.marks, d.projected, d.rounds = marks, b.Projection.LastSeq, b.Projection.Round
	}
	return nil
}

// projection is the deal's projection now, and the marks to keep once the
// read model has it.
func (d *deal) projection(ctx workflow.Context) (activities.DealProjection, projectionMarks, error) {
	upto := len(d.state.Timeline)
	p := activities.DealProjection{
		DealID: d.in.DealID, Stage: string(d.state.Stage), BuyerOrgID: d.in.Inquiry.BuyerOrgID,
		SupplierOrgID: d.state.SupplierID, Product: d.in.Inquiry.Product, Quantity: d.in.Inquiry.Quantity,
		Total: d.state.Total, Currency: d.state.Currency, CreatedAt: d.state.Timeline[0].At, LastSeq: upto,
		Round: d.rounds + 1, At: workflow.Now(ctx),
	}
	for i := d.projected; i < upto; i++ {
		e := d.state.Timeline[i]
		p.Events = append(p.Events, activities.ProjectedEvent{Seq: i + 1, At: e.At, Type: e.Type, Actor: e.Actor, About: e.About, Detail: e.Detail})
	}
	details, sections, marks := d.marks.changes(&d.state)
	if !details.Empty() {
		// encoding/json writes a struct the same way every time.
		raw, err := json.Marshal(details) //workflowcheck:ignore
		if err != nil {
			return p, marks, fmt.Errorf("encode deal details: %w", err)
		}
		p.Details = raw
	}
	if len(sections) > 0 {
		// and a map with its keys sorted.
		raw, err := json.Marshal(sections) //workflowcheck:ignore
		if err != nil {
			return p, marks, fmt.Errorf("encode deal sections: %w", err)
		}
		p.Sections = raw
	}
	return p, marks, nil
}

// keepBooksApart runs the bookkeeping in its own coroutine: the main loop
// posts to the ledger, pays out and refunds without waiting for it, and a
// failing projection or notification never blocks the deal.
func (d *deal) keepBooksApart(ctx workflow.Context) {
	d.projectTouches = workflow.GetVersion(ctx, versionProjectTouches, workflow.DefaultVersion, 1) >= 1
	d.localBooks = workflow.GetVersion(ctx, versionLocalBooks, workflow.DefaultVersion, 1) >= 1
	workflow.Go(ctx, func(ctx workflow.Context) {
		actx := workflow.WithActivityOptions(ctx, booksOptions)
		for {
			if err := workflow.Await(ctx, d.booksPending); err != nil {
				return
			}
			// The round runs under the span of the last update before it;
			// an update during the round leaves its span for the next.
			cause := d.cause
			d.cause = nil
			d.booksBusy = true
			err := d.keepBooks(tracedBy(actx, cause))
			d.booksBusy = false
			if err == nil {
				continue
			}
			var appErr *temporal.ApplicationError
			if errors.As(err, &appErr) && appErr.Type() == activities.ErrProjectionRejected {
				// Retrying cannot cure it: keepBooks moved past it, so later
				// entries still reach the read model; report it.
				d.reportBooks(ctx, "projection_rejected", err)
				continue
			}
			d.reportBooks(ctx, "bookkeeping_failing", err)
			seen := d.change
			retry := workflow.AwaitOptions{Timeout: time.Hour, TimerOptions: workflow.TimerOptions{Summary: "retry failing bookkeeping"}}
			_, _ = workflow.AwaitWithOptions(ctx, retry, func() bool { return d.change != seen })
		}
	})
}

// alertOptions: an alert is tried a few times; losing one must not stop
// the deal, and the log has it anyway.
var alertOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
}

// reportBooks tells operations that the deal's bookkeeping failed: the log,
// and finance's alerts (GET /v1/alerts, the alert metric).
func (d *deal) reportBooks(ctx workflow.Context, kind string, err error) {
	workflow.GetLogger(ctx).Error("deal bookkeeping failed", "deal_id", d.in.DealID, "kind", kind, "error", err)
	_ = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, alertOptions), acts.RaiseAlert, activities.Alert{
		Kind: kind, DealID: d.in.DealID, Subject: "bookkeeping", Detail: bounds.Clean(err.Error(), MaxNote),
	}).Get(ctx, nil)
}

func (d *deal) booksPending() bool {
	return d.sent < len(d.outbox) || d.projected < len(d.state.Timeline) || (d.touched && d.projectTouches)
}

// touch marks a change the read model should see that adds nothing to the
// timeline.
func (d *deal) touch() { d.touched = true }

// booksDone reports whether every notification and projection is out.
func (d *deal) booksDone() bool { return !d.booksBusy && !d.booksPending() }

// versionHistoryBytes marks deals that also continue as new when their
// run's history grew by Policy.HistoryBytes; earlier histories replay
// with the event budget alone.
const versionHistoryBytes = "history-bytes"

// budgetHistoryBytes starts the run's byte budget from the size its
// history has now, the state it carries included.
func (d *deal) budgetHistoryBytes(ctx workflow.Context) {
	if workflow.GetVersion(ctx, versionHistoryBytes, workflow.DefaultVersion, 1) >= 1 {
		d.startBytes = max(workflow.GetInfo(ctx).GetCurrentHistorySize(), 1)
	}
}

// historyFull reports whether the deal should continue as new: Temporal
// suggests it, or the history passed one of the deal's budgets.
func (d *deal) historyFull(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	if info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= d.in.Policy.HistoryEvents {
		return true
	}
	return d.startBytes > 0 && info.GetCurrentHistorySize()-d.startBytes >= d.in.Policy.HistoryBytes
}

// quiet reports whether nothing is under way that a new run could not take
// over: no update or signal being handled (a payment waiting on its
// provider) and the books up to date.
func (d *deal) quiet(ctx workflow.Context) bool {
	return workflow.AllHandlersFinished(ctx) && d.handlingSignals == 0 && d.booksDone()
}

// readyToContinueAsNew: the history is full and the deal is quiet.
func (d *deal) readyToContinueAsNew(ctx workflow.Context) bool {
	return d.booksApart && d.historyFull(ctx) && d.quiet(ctx)
}

// drainSignals handles the signals already delivered, so none is lost when
// the run ends; it reports whether there were any.
func (d *deal) drainSignals(ctx workflow.Context) bool {
	any := false
	for _, drain := range d.drains {
		for drain(ctx) {
			any = true
		}
	}
	return any
}

func (d *deal) resumeInput() DealInput {
	in := d.in
	in.Resume = &DealResume{
		State: d.state, NextInvite: d.nextInvite, QuoteSeq: d.quoteSeq, Proposals: d.proposals,
		Trackers: d.trackers, Projected: d.projected, Rounds: d.rounds, Notified: d.notified + len(d.outbox),
		Marks: d.marks.export(),
	}
	return in
}

// resumeDeal takes a deal over from its previous run.
func resumeDeal(ctx workflow.Context, in DealInput) (DealState, error) {
	r := in.Resume
	in.Resume = nil
	d := &deal{
		in: in, wf: DealWorkflowID(in.DealID), state: r.State,
		nextInvite: r.NextInvite, quoteSeq: r.QuoteSeq, proposals: r.Proposals, trackers: r.Trackers,
		projected: r.Projected, rounds: r.Rounds, notified: r.Notified, marks: r.Marks.marks(),
		payMu: workflow.NewMutex(ctx), stopTracking: map[string]workflow.CancelFunc{}, booksApart: true,
	}
	if d.state.Deadlines == nil {
		d.state.Deadlines = map[string]time.Time{}
	}
	d.upsertSearchAttributes(ctx)
	if err := d.registerHandlers(ctx); err != nil {
		return DealState{}, err
	}
	return d.run(ctx)
}

func (d *deal) trackerID(kind string, n int) string {
	return fmt.Sprintf("%s/track-%s-%d", d.wf, kind, n)
}

// stopTracker stops the tracking child of a shipment: through its context
// when this run started it, else by its workflow ID.
func (d *deal) stopTracker(ctx workflow.Context, kind string, sh *Shipment) {
	if stop := d.stopTracking[kind]; stop != nil {
		stop()
		delete(d.stopTracking, kind)
		return
	}
	if d.booksApart && sh != nil && sh.Tracker > 0 {
		// It may have ended already; then there is nothing to stop.
		_ = workflow.RequestCancelExternalWorkflow(ctx, d.trackerID(kind, sh.Tracker), "")
	}
}

// stopTrackers stops every tracker still running when the deal ends.
func (d *deal) stopTrackers(ctx workflow.Context) {
	if s := d.state.Sample; s != nil && s.Shipment != nil && s.Shipment.DeliveredAt.IsZero() {
		d.stopTracker(ctx, "sample", s.Shipment)
	}
	if sh := d.state.Shipment; sh != nil && sh.DeliveredAt.IsZero() {
		d.stopTracker(ctx, "goods", sh)
	}
}
