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

// versionDeal is the one version marker of deals started from now on: its
// version 1 stands for every change marked by a version of its own below
// (books-apart, project-touches, local-books, hand-off-books,
// history-bytes) and for deadline timers kept across the main loop's
// turns (run), which those deals make without a marker each: a marker is
// two history events (the marker and the search attribute it upserts).
// Histories recorded before replay with the marker of each change.
//
// Its version 2 (dealRecordedRounds) stands for the changes that save the
// deal's round trips through Temporal's server since: a round of
// bookkeeping made of what the history already holds is written by a
// local activity (keepBooksConfirmed); a payment posts its charge to the
// ledger within its own update, so the round it hands off has it (pay);
// a payout makes its transfers and refunds at once (payout); and a deal
// that has ended confirms its books as it ends, with no timer for a quiet
// deal (awaitBooksDue).
//
// Its version 3 (dealConfirmsAhead): the action that hands off the last
// round the bounds allow before a confirmation (nextRoundWaits) asks for
// the confirmation as it answers, so the bookkeeping activity runs beside
// the deal instead of inside the next action, which waited for it
// (handOffBooks); and its deals remind suppliers of their quotes
// (dealRemindsQuotes).
//
// Its version 4 (dealCarriesFacts): notifications carry their facts and no
// words (internal/texts words them for each reader), and a round's size
// counts the facts; earlier deals also carry the English text they carried
// then (legacyText), whose length steered their rounds.
//
// Its version 5 (dealResendsReturns): a round sends again every part of
// the deal that a round made since the last confirmed one sent changed
// (deal.resend), so a part that came back to its confirmed value (a stage
// CONTRACT → SAMPLE → CONTRACT, a contract away and back) is not left at
// the value the read model last had. Earlier deals left it there until a
// later change to that part.
//
// Its version 6 (dealAssignsMediators): a dispute that reaches mediation
// is assigned to a mediator (dispute.go), who alone sees and decides it.
// Earlier deals reach mediation unassigned: any mediator sees them and
// may take one.
//
// Its version 7 (dealRedeemsCoupons): the deposit uses the buyer's
// referral coupon, and a referred buyer's first completed deal issues its
// referrer's (coupon.go). Earlier deals do neither. A change to come takes
// version 8.
const versionDeal = "deal"

// dealRecordedRounds is versionDeal's version 2.
const dealRecordedRounds workflow.Version = 2

// dealConfirmsAhead and dealRemindsQuotes are versionDeal's version 3,
// whose deals also remind an invited supplier Policy.QuoteReminder before
// its quote is due and tell a buyer without a quote when its inquiry goes
// to the next suppliers (quote.go).
const (
	dealConfirmsAhead workflow.Version = 3
	dealRemindsQuotes workflow.Version = 3
)

// dealCarriesFacts is versionDeal's version 4.
const dealCarriesFacts workflow.Version = 4

// dealResendsReturns is versionDeal's version 5.
const dealResendsReturns workflow.Version = 5

// dealAssignsMediators is versionDeal's version 6.
const dealAssignsMediators workflow.Version = 6

// dealRedeemsCoupons is versionDeal's version 7.
const dealRedeemsCoupons workflow.Version = 7

// has reports whether the deal makes the change marked by the version
// named change: every deal with versionDeal does.
func (d *deal) has(ctx workflow.Context, change string) bool {
	return d.features >= 1 || workflow.GetVersion(ctx, change, workflow.DefaultVersion, 1) >= 1
}

// versionBooksApart marks deals whose notifications and projections run in
// their own coroutine and which continue as new; histories recorded before
// replay with the bookkeeping inline in the main loop.
const versionBooksApart = "books-apart"

// versionProjectTouches marks deals that project a change the timeline does
// not show (a charge posted to the ledger, a payment checked at the
// provider); earlier histories replay without those projections.
const versionProjectTouches = "project-touches"

// versionHandOffBooks marks deals whose actions hand their round of
// bookkeeping to their caller: the update's result carries it
// (ActionResult.Books), the API writes it before it answers, and the
// action costs no bookkeeping activity of its own. Histories recorded
// before wait for the bookkeeping activity in every action.
//
// Only a recorded change is handed off: an update's result reaches its
// caller once the workflow task that made it is recorded, so the read
// model is never ahead of the deal, as a local activity's write could be.
// What the workflow cannot know is whether the caller wrote it (the API
// may crash in between), so every round, handed off or not, carries all
// that changed since the last round the deal saw written (confirmed): a
// round written makes good any earlier one lost. A bookkeeping activity
// confirms: the next change a signal, a timer or a payment brings, the
// eighth action in a row handed off (maxHandedOff), an action whose round
// would take the rounds handed off since the last confirmed past
// maxHandOffBytes (a deal at its caps grows by its rounds as it did
// before), and confirmBooksAfter after an action on a deal that is quiet;
// from dealConfirmsAhead on, the action before the one the bounds would
// stop asks for it as it answers.
// An action that does not hand its round off waits for the bookkeeping
// activity, as actions did before. The deal continues as new and ends
// only with its books confirmed.
//
// The API's write is lost only if it crashes between the update's outcome
// and the write: the client's retry (the same Idempotency-Key, so the same
// update ID, whose outcome Temporal keeps) writes it, and the deal's next
// round makes it good in any case.
const versionHandOffBooks = "hand-off-books"

// The bounds on the rounds handed off before one is confirmed.
const (
	maxHandedOff      = 8
	maxHandOffBytes   = 16 << 10
	confirmBooksAfter = time.Hour
)

// booksMark is how far a round of bookkeeping goes: the timeline entries
// and notifications it covers and the projection marks after it.
type booksMark struct {
	projected, sent int
	marks           projectionMarks
}

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
	if d.handOff {
		return d.keepBooksConfirmed(ctx)
	}
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

// bookRound is the next round of bookkeeping, made cumulative from the
// last round confirmed: the notifications and projection of every change
// since, and the mark it reaches. It takes the round's number, and what
// it covers is no longer pending.
func (d *deal) bookRound(ctx workflow.Context) (activities.Books, booksMark, error) {
	return d.bookRoundAt(workflow.Now(ctx))
}

// bookRoundAt is bookRound made at now.
func (d *deal) bookRoundAt(now time.Time) (activities.Books, booksMark, error) {
	d.noticeStageChange()
	var b activities.Books
	if d.conf.sent < len(d.outbox) {
		b.Notifications = slices.Clone(d.outbox[d.conf.sent:])
	}
	var again map[string]bool
	if d.features >= dealResendsReturns {
		again = d.resend
	}
	p, marks, err := d.projectionFrom(now, d.conf.projected, d.conf.marks, again)
	if err != nil {
		return b, booksMark{}, err
	}
	if d.features >= dealResendsReturns {
		d.resend = d.conf.marks.differing(marks, d.resend)
	}
	b.Projection = &p
	mark := booksMark{projected: p.LastSeq, sent: len(d.outbox), marks: marks}
	d.rounds = p.Round
	d.projected, d.sent, d.marks, d.touched = mark.projected, mark.sent, mark.marks, false
	return b, mark, nil
}

// keepBooksConfirmed writes a round of bookkeeping through the
// bookkeeping activity, which confirms it and every round before.
func (d *deal) keepBooksConfirmed(ctx workflow.Context) error {
	local := d.roundRecorded(ctx)
	b, mark, err := d.bookRound(ctx)
	if err != nil {
		return err
	}
	round := b.Projection.Round
	summary := fmt.Sprintf("send %d notifications, update the read model (%s)", len(b.Notifications), d.state.Stage)
	if local {
		running := 0
		err = quickly(ctx, true, &running, booksOptions, summary, acts.KeepBooks, b)
	} else {
		err = workflow.ExecuteActivity(withSummary(ctx, "%s", summary), acts.KeepBooks, b).Get(ctx, nil)
	}
	d.booksBehind = err != nil
	if err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == activities.ErrProjectionRejected {
			// Moving past it: the next round sends every section again,
			// not the entries and notifications of this one.
			mark.marks = mark.marks.clone()
			mark.marks.forgetSections()
			d.confirm(round, mark)
		} else {
			d.confirmNow = true // to be written again
		}
		return fmt.Errorf("keep the books: %w", err)
	}
	d.confirm(round, mark)
	return nil
}

// roundRecorded reports whether the round about to be made may be
// written by a local activity (deals from dealRecordedRounds), which
// writes before its workflow task is recorded. If the task is lost, its
// retry may hold an update that came meanwhile, and updates run first in
// a task: a deadline that fired, a signal or an activity's result may
// then come to a different end than the lost task wrote (a deal paid in
// time instead of expired). So a round is local only when nothing it
// covers can come out otherwise:
//   - no update was accepted in this task (an update is recorded only
//     when its task completes, so its change goes through a regular
//     activity, which runs only once the task is recorded), and
//   - nothing changed that no round covers yet (the round only confirms
//     rounds handed off, all made in recorded tasks), or the deal ended
//     in an earlier task: it takes no update any more, so what this task
//     adds (its payouts) comes out the same in any retry.
//
// A task is known by its history length and its time together: two tasks
// never share a history length on Temporal's server, and the test
// environment, whose history length stands still, moves its clock between
// tasks that wait for time. Two tasks that look alike count as one, which
// errs on the safe side (a regular activity).
func (d *deal) roundRecorded(ctx workflow.Context) bool {
	now := thisTask(ctx)
	if d.features < dealRecordedRounds || d.updateTask.same(now) {
		return false
	}
	return !d.booksPending() || d.state.Stage.Final() && !d.endedTask.same(now)
}

// workflowTask tells workflow tasks apart (roundRecorded).
type workflowTask struct {
	historyLength int
	at            time.Time
}

func (t workflowTask) same(o workflowTask) bool {
	return t.historyLength == o.historyLength && t.at.Equal(o.at)
}

func thisTask(ctx workflow.Context) workflowTask {
	return workflowTask{historyLength: workflow.GetInfo(ctx).GetCurrentHistoryLength(), at: workflow.Now(ctx)}
}

// updateAccepted notes that an update was accepted in this workflow task
// (roundRecorded).
func (d *deal) updateAccepted(ctx workflow.Context) {
	d.updateTask = thisTask(ctx)
}

// confirmEarly confirms the rounds handed off so far, by a local
// activity, when they near maxHandOffBytes and that is safe now
// (roundRecorded): a payment calls it as its charge comes back, before it
// changes anything, and the deal as a tracker starts, so the rounds
// handed off next still fit and no bookkeeping activity follows them.
func (d *deal) confirmEarly(ctx workflow.Context) {
	if !d.handOff || d.features < dealRecordedRounds || !d.unconfirmed() || d.booksBusy ||
		d.handedBytes <= maxHandOffBytes/2 || !d.roundRecorded(ctx) {
		return
	}
	d.booksBusy = true
	err := d.keepBooksConfirmed(workflow.WithActivityOptions(ctx, booksOptions))
	d.booksBusy = false
	if err != nil {
		workflow.GetLogger(ctx).Warn("confirm the books early; the next round confirms them", "deal_id", d.in.DealID, "error", err)
	}
}

// confirm records that the read model has round and every round before.
func (d *deal) confirm(round int, mark booksMark) {
	if round <= d.confirmed {
		return
	}
	d.confirmed, d.conf = round, mark
	if d.confirmed >= d.rounds {
		d.confirmNow, d.handedBytes = false, 0
		// Every round made is confirmed: none between holds other values.
		d.resend = nil
	}
}

// unconfirmed reports whether a round was handed off and not yet
// confirmed.
func (d *deal) unconfirmed() bool { return d.handOff && d.rounds > d.confirmed }

// handOffBooks is the round of bookkeeping an action hands to its caller,
// nil when the round goes through the bookkeeping activity instead: the
// action then waits for it, as actions of deals recorded before did.
func (d *deal) handOffBooks(ctx workflow.Context) (*activities.Books, error) {
	if d.booksBusy && !d.booksBehind {
		// A round is being written: this one comes after it, so the
		// bookkeeping coroutine must not take this change meanwhile.
		d.handoffs++
		// The round's result may be in this very task, not yet taken
		// (updates run first): let the coroutine take it before starting
		// a timer, which would be cancelled in the same task.
		err := yield(ctx)
		if err == nil {
			_, err = awaitWithin(ctx, booksWait, "wait for the read model", func() bool { return !d.booksBusy })
		}
		d.handoffs--
		if err != nil {
			return nil, err
		}
	}
	if d.booksBusy || d.rounds-d.confirmed >= maxHandedOff {
		d.confirmNow = true
		return nil, nil
	}
	b, _, err := d.bookRound(ctx)
	if err != nil {
		return nil, err
	}
	if n := d.size(b); d.handedBytes+n <= maxHandOffBytes {
		d.handedBytes += n
		// Confirm now, while the deal waits for its next action; from
		// dealCarriesFacts not when it has ended, which confirms its
		// books as it ends.
		ended := d.features >= dealCarriesFacts && d.state.Stage.Final()
		if d.features >= dealConfirmsAhead && !ended && d.nextRoundWaits(n) {
			d.confirmNow = true
		}
	} else {
		// Too large to carry again with every action until confirmed.
		d.rounds--
		d.confirmNow = true
		d.projected, d.sent, d.marks = d.conf.projected, d.conf.sent, d.conf.marks
		d.touched = true // pending again, whatever it changed
		return nil, nil
	}
	return &b, nil
}

// nextRoundWaits reports whether the next action would find the rounds
// handed off at their bounds, after one of n bytes (dealConfirmsAhead):
// the maxHandedOff-th in a row, or a round whose next, grown by as much as
// each round since the last confirmed has added on average (a round
// carries every change since), would not fit in maxHandOffBytes. Rounds
// larger than a third of it (a deal near its caps) are left to wait as
// before: each confirmed ahead would be in the history twice.
func (d *deal) nextRoundWaits(n int) bool {
	inARow := d.rounds - d.confirmed
	if inARow >= maxHandedOff {
		return true
	}
	return n <= maxHandOffBytes/3 && d.handedBytes+n+n/max(inARow, 1) > maxHandOffBytes
}

// size is about how many bytes a round of bookkeeping takes in history.
// A notification counts its text, and from dealCarriesFacts its facts.
func (d *deal) size(b activities.Books) int {
	n := 0
	for _, note := range b.Notifications {
		n += len(note.Text) + len(note.Key) + 64
		if d.features >= dealCarriesFacts && note.Facts != nil {
			n += note.Facts.Size()
		}
	}
	if p := b.Projection; p != nil {
		n += len(p.Details) + len(p.Sections)
		for _, e := range p.Events {
			n += len(e.Detail) + len(e.Type) + len(e.About) + len(e.Actor) + 64
		}
	}
	return n
}

// yield lets every other coroutine run until it blocks, then goes on.
func yield(ctx workflow.Context) error {
	again := false
	return workflow.Await(ctx, func() bool {
		done := again
		again = true
		return done
	})
}

// awaitWithin waits for cond at most wait, and reports whether cond came
// first. Its timer is cancelled when cond comes first: the SDK's
// AwaitWithOptions leaves it running, to fire later into a workflow task
// that has nothing to do.
func awaitWithin(ctx workflow.Context, wait time.Duration, summary string, cond func() bool) (bool, error) {
	if cond() {
		return true, nil
	}
	tctx, cancel := workflow.WithCancel(ctx)
	timer := workflow.NewTimerWithOptions(tctx, wait, workflow.TimerOptions{Summary: summary})
	err := workflow.Await(ctx, func() bool { return cond() || timer.IsReady() })
	if err != nil || cond() {
		cancel()
		return err == nil, err
	}
	return false, nil
}

// projection is the deal's projection now, and the marks to keep once the
// read model has it.
func (d *deal) projection(ctx workflow.Context) (activities.DealProjection, projectionMarks, error) {
	return d.projectionFrom(workflow.Now(ctx), d.projected, d.marks, nil)
}

// projectionFrom is the deal's projection of what changed since the
// timeline's first `projected` entries and the marks, and of the parts
// again names whatever their value.
func (d *deal) projectionFrom(now time.Time, projected int, marks projectionMarks, again map[string]bool) (activities.DealProjection, projectionMarks, error) {
	upto := len(d.state.Timeline)
	p := activities.DealProjection{
		DealID: d.in.DealID, Stage: string(d.state.Stage), BuyerOrgID: d.in.Inquiry.BuyerOrgID,
		SupplierOrgID: d.state.SupplierID, Product: d.in.Inquiry.Product, Quantity: d.in.Inquiry.Quantity,
		Total: d.state.Total, Currency: d.state.Currency, CreatedAt: d.state.Timeline[0].At, LastSeq: upto,
		Round: d.rounds + 1, At: now,
	}
	for i := projected; i < upto; i++ {
		e := d.state.Timeline[i]
		p.Events = append(p.Events, activities.ProjectedEvent{Seq: i + 1, At: e.At, Type: string(e.Type), Actor: e.Actor, About: e.About, Detail: e.Detail})
	}
	details, sections, marks := marks.changes(&d.state, again)
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
	if !d.booksSetUp {
		d.setUpBooks(ctx)
	}
	workflow.Go(ctx, d.booksLoop)
}

// setUpBooks starts the run's history budget and sets how the deal keeps
// its books. Deals from dealRecordedRounds do it before their handlers
// exist, so an update delivered with the run's first workflow task hands
// its round off as every later one does; earlier histories replay with it
// done in the main loop, after an update delivered that early.
func (d *deal) setUpBooks(ctx workflow.Context) {
	d.booksSetUp = true
	d.budgetHistoryBytes(ctx)
	d.projectTouches = d.has(ctx, versionProjectTouches)
	d.localBooks = d.has(ctx, versionLocalBooks)
	if d.localBooks && d.has(ctx, versionHandOffBooks) {
		d.handOff = true
		// Whatever an earlier run projected was confirmed before it
		// continued as new.
		d.confirmed, d.conf = d.rounds, booksMark{projected: d.projected, sent: d.sent, marks: d.marks}
		if d.features >= 1 && d.openedAsAsked {
			// The API wrote the opening round as it started the deal
			// (OpeningBooks): it is handed off.
			if _, _, err := d.bookRound(ctx); err != nil {
				workflow.GetLogger(ctx).Error("make the opening round", "deal_id", d.in.DealID, "error", err)
			}
		}
	}
}

// booksLoop makes the deal's rounds of bookkeeping as they fall due.
func (d *deal) booksLoop(ctx workflow.Context) {
	actx := workflow.WithActivityOptions(ctx, booksOptions)
	for {
		if err := d.awaitBooksDue(ctx); err != nil {
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

// awaitBooksDue waits until a round of bookkeeping is due: a change no
// round covers, or, for rounds handed off, a confirmation asked for or
// confirmBooksAfter without one (the round is then due anyway). An action
// about to hand its round off keeps the coroutine from taking it, and a
// ledger posting running as a local activity (a second or two at most)
// holds the round back until its result is in.
func (d *deal) awaitBooksDue(ctx workflow.Context) error {
	if !d.handOff {
		return workflow.Await(ctx, d.booksPending)
	}
	due := func() bool {
		return d.handoffs == 0 && d.quickRunning == 0 && (d.booksPending() || d.unconfirmed() && d.confirmNow)
	}
	for {
		if !d.unconfirmed() || d.features >= dealRecordedRounds && d.state.Stage.Final() {
			// An ended deal confirms as it ends (run): no timer for a
			// quiet deal.
			if err := workflow.Await(ctx, func() bool { return due() || d.unconfirmed() && !d.state.Stage.Final() }); err != nil {
				return err
			}
			if due() {
				return nil
			}
		}
		ok, err := awaitWithin(ctx, confirmBooksAfter, "confirm the read model", func() bool { return due() || !d.unconfirmed() })
		if err != nil {
			return err
		}
		if !ok && d.handoffs == 0 {
			return nil // quiet since a round handed off: confirm it
		}
		if due() {
			return nil
		}
	}
}

func (d *deal) booksPending() bool {
	return d.sent < len(d.outbox) || d.projected < len(d.state.Timeline) || (d.touched && d.projectTouches)
}

// touch marks a change the read model should see that adds nothing to the
// timeline.
func (d *deal) touch() { d.touched = true }

// booksDone reports whether every notification and projection is out.
// Rounds handed off count once confirmed.
func (d *deal) booksDone() bool { return !d.booksBusy && !d.booksPending() && !d.unconfirmed() }

// versionHistoryBytes marks deals that also continue as new when their
// run's history grew by Policy.HistoryBytes; earlier histories replay
// with the event budget alone.
const versionHistoryBytes = "history-bytes"

// budgetHistoryBytes starts the run's byte budget from the size its
// history has now, the state it carries included.
func (d *deal) budgetHistoryBytes(ctx workflow.Context) {
	if d.has(ctx, versionHistoryBytes) {
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
		Marks: d.marks.export(), Reminded: d.remindedOrder,
	}
	return in
}

// dealFeatures is the deal's versionDeal, asked before any other version.
func dealFeatures(ctx workflow.Context) workflow.Version {
	return workflow.GetVersion(ctx, versionDeal, workflow.DefaultVersion, dealRedeemsCoupons)
}

// resumeDeal takes a deal over from its previous run.
func resumeDeal(ctx workflow.Context, in DealInput) (DealState, error) {
	r := in.Resume
	in.Resume = nil
	d := &deal{
		in: in, wf: DealWorkflowID(in.DealID), state: r.State, features: dealFeatures(ctx),
		nextInvite: r.NextInvite, quoteSeq: r.QuoteSeq, proposals: r.Proposals, trackers: r.Trackers,
		projected: r.Projected, rounds: r.Rounds, notified: r.Notified, marks: r.Marks.marks(),
		payMu: workflow.NewMutex(ctx), stopTracking: map[string]workflow.CancelFunc{}, posting: map[string]bool{}, booksApart: true,
	}
	if d.state.Deadlines == nil {
		d.state.Deadlines = map[string]time.Time{}
	}
	d.remindedOrder = r.Reminded
	d.reminded = map[string]bool{}
	for _, k := range r.Reminded {
		d.reminded[k] = true
	}
	d.upsertSearchAttributes(ctx)
	if d.features >= dealRecordedRounds {
		d.setUpBooks(ctx)
	}
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
