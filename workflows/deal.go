package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
)

// The deal's stages, the file that handles each, and its exits. Every stage
// may also end by a party's cancel where cancel.go allows it (QUOTING,
// SAMPLE, CONTRACT, DEPOSIT, and PRODUCTION once it is late), into
// CANCELLED. Deadlines are in onDeadline below.
//
//	QUOTING     quote.go       a quote accepted → SAMPLE (sample asked) or CONTRACT;
//	                           inquiry_expires_at → EXPIRED; the quote SLA re-dispatches
//	SAMPLE      sample.go      paid, shipped, approved (or auto-approved) → CONTRACT;
//	                           rejected → another sample, or CANCELLED;
//	                           sample_ship_by → CANCELLED
//	CONTRACT    contract.go    signed by both → DEPOSIT (a sample asked first → SAMPLE);
//	                           contract_sign_by → CANCELLED
//	DEPOSIT     escrow.go      30 % paid and settled → PRODUCTION; deposit_due → CANCELLED
//	PRODUCTION  production.go  ready to ship → BALANCE; ship_by marks it late
//	BALANCE     escrow.go      70 % paid and settled → SHIPPING;
//	                           balance_due → MEDIATION (buyer default, dispute.go)
//	SHIPPING    shipment.go    delivered → INSPECTION; lost or returned → DISPUTE;
//	                           the buyer disputes → DISPUTE
//	INSPECTION  shipment.go    accepted, or inspection_ends_at → COMPLETED (escrow released);
//	                           disputed → DISPUTE
//	DISPUTE     dispute.go     a proposal accepted → RESOLVED; escalated, or
//	                           dispute_answer_due / dispute_settle_by → MEDIATION
//	MEDIATION   dispute.go     the mediator decides → RESOLVED
//
// COMPLETED, RESOLVED, CANCELLED and EXPIRED are final: finish records the
// resolution, then run's settle (escrow.go) releases to the supplier what
// the resolution says and refunds the rest, and the deal returns once its
// money and its books are done.

// Register adds every workflow of this package to a worker.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Deal, workflow.RegisterOptions{Name: DealWorkflowName})
	r.RegisterWorkflowWithOptions(TrackShipment, workflow.RegisterOptions{Name: TrackShipmentWorkflowName})
	r.RegisterWorkflowWithOptions(RefundOrphanPayment, workflow.RegisterOptions{Name: OrphanPaymentWorkflowName})
	r.RegisterWorkflowWithOptions(DeliverProviderEvent, workflow.RegisterOptions{Name: ProviderEventWorkflowName})
	r.RegisterWorkflowWithOptions(SupplierTiers, workflow.RegisterOptions{Name: SupplierTiersWorkflowName})
}

// acts is the typed nil the workflow names activities through.
var acts *activities.Activities

// Deadline names, as they appear in DealState.Deadlines (the views and
// the read model name them through these).
const (
	DeadlineInquiryExpires     = "inquiry_expires_at"
	DeadlineSampleShipBy       = "sample_ship_by"
	DeadlineSampleAutoApprove  = "sample_auto_approve_at"
	DeadlineContractSignBy     = "contract_sign_by"
	DeadlineDepositDue         = "deposit_due"
	DeadlineShipBy             = "ship_by"
	DeadlineBalanceDue         = "balance_due"
	DeadlineInspectionReminder = "inspection_reminder_at"
	DeadlineInspectionEnds     = "inspection_ends_at"
	DeadlineDisputeAnswerDue   = "dispute_answer_due"
	DeadlineDisputeSettleBy    = "dispute_settle_by"
)

// deal is the workflow's state and the code that changes it. Update and
// signal handlers only validate and change state; the main loop in Deal runs
// every side effect (ledger, payouts, projection, notifications, tracking)
// and every deadline, so a slow provider never blocks a party's action.
type deal struct {
	in     DealInput
	state  DealState
	wf     string // the deal's workflow ID, the root of every idempotency key
	change int    // bumped by every handler; the main loop wakes on it

	nextInvite int // index in in.Suppliers of the next supplier to invite
	quoteSeq   int
	proposals  int
	trackers   int
	projected  int // timeline entries already sent to the read model
	rounds     int // projections the read model has taken, the deal's earlier runs' included
	marks      projectionMarks
	// startBytes is the run's history size when it started (0: the deal
	// has no byte budget, recorded before it had one).
	startBytes int
	// touched: a change the read model has not seen that added nothing to
	// the timeline; projectTouches says this deal projects those.
	touched        bool
	projectTouches bool
	outbox         []activities.Notification
	sent           int
	notified       int // notifications sent by the deal's earlier runs
	payMu          workflow.Mutex
	// stopTracking cancels the running tracking child of each kind that
	// this run started.
	stopTracking map[string]workflow.CancelFunc

	// booksApart: notifications and projections run in their own
	// coroutine (books.go); false only when replaying older histories.
	booksApart bool
	booksBusy  bool
	// booksSetUp: setUpBooks ran.
	booksSetUp bool
	// localBooks: the notifications and projection of a change go in one
	// bookkeeping activity (books.go), ledger postings run as local
	// activities first (quick.go).
	localBooks bool
	// booksBehind: the last round of bookkeeping failed; actions answer
	// without waiting for the read model.
	booksBehind bool
	// handOff: actions hand their round of bookkeeping to their caller
	// (versionHandOffBooks). confirmed is the last round the deal saw
	// written, conf how far it went; confirmNow asks the bookkeeping
	// coroutine for a round that confirms the rounds handed off;
	// handoffs counts actions waiting to hand theirs off; handedBytes is
	// about how large the rounds handed off since the last confirmed are.
	handOff     bool
	confirmed   int
	conf        booksMark
	confirmNow  bool
	handoffs    int
	handedBytes int
	// resend names the parts of the deal (rows and sections, by their
	// marks' keys) that a round made since the last confirmed one sent
	// with a value other than the confirmed one: the rounds after it send
	// them again, even when they are back at the confirmed value, since
	// the read model may hold a round between (dealResendsReturns).
	resend map[string]bool
	// quickRunning counts the ledger postings running as local
	// activities (quick.go).
	quickRunning int
	// features is the deal's versionDeal (books.go).
	features workflow.Version
	// reminded holds the reminders sent (reminders.go), remindedOrder
	// the same in the order sent, for the next run.
	reminded      map[string]bool
	remindedOrder []string
	// stageNotice is a stage the parties are still to be told of, and
	// roundFrom how much of the outbox the last round had (notices.go).
	stageNotice Stage
	roundFrom   int
	// updateTask is the workflow task that accepted the deal's latest
	// update, endedTask the one that ended the deal (roundRecorded).
	updateTask, endedTask workflowTask
	// posting names the charges whose ledger posting is under way, so the
	// main loop and a payment's update never post one twice at once.
	posting map[string]bool
	// openedAsAsked: the deal opened at DealInput.OpenedAt, so its opening
	// state is Opening's and the API wrote its opening round.
	openedAsAsked bool
	// deadline is the main loop's timer for the deadline at deadlineAt,
	// kept across its turns while that deadline stays; stopDeadline
	// cancels it (deals with handOff).
	deadline     workflow.Future
	deadlineAt   time.Time
	stopDeadline workflow.CancelFunc
	// cause is the trace span of the last update not yet in a round of
	// bookkeeping (TraceSpanKey), nil when not traced.
	cause any
	// drains handle the signals already delivered but not yet received,
	// before the deal continues as new.
	drains []func(workflow.Context) bool
	// handlingSignals counts signals being handled by their listeners (a
	// handler may wait, for the payment mutex): the deal is not quiet then.
	handlingSignals int
}

// Deal carries one deal from inquiry to its end (the README's "Deals").
func Deal(ctx workflow.Context, in DealInput) (DealState, error) {
	if err := ValidateDealInput(in); err != nil {
		return DealState{}, err
	}
	in.Policy = in.Policy.withDefaults()
	if in.Resume != nil {
		return resumeDeal(ctx, in)
	}
	d := &deal{
		in: in,
		// Keys and child IDs come from the deal ID, not from the execution,
		// so a history replays anywhere (replayers run under another ID).
		wf:           DealWorkflowID(in.DealID),
		payMu:        workflow.NewMutex(ctx),
		stopTracking: map[string]workflow.CancelFunc{},
		posting:      map[string]bool{},
		features:     dealFeatures(ctx),
	}
	d.booksApart = d.has(ctx, versionBooksApart)
	at := openingTime(in.OpenedAt, workflow.Now(ctx))
	d.open(at)
	d.openedAsAsked = at.Equal(in.OpenedAt)
	d.upsertSearchAttributes(ctx)
	if d.booksApart && d.features >= dealRecordedRounds {
		d.setUpBooks(ctx)
	}
	// Handlers last: an update sent with the start is delivered as soon as
	// its handler exists, and must find the suppliers already invited.
	if err := d.registerHandlers(ctx); err != nil {
		return DealState{}, err
	}
	return d.run(ctx)
}

// awaitDeadline waits for woke or the deadline at `at`. Its timer is kept
// while the deadline stays, so an action that leaves the deadline as it
// was starts none, and cancelled when the deadline changes, so it never
// fires into a workflow task that has nothing to do (the SDK's
// AwaitWithOptions leaves its timer running).
func (d *deal) awaitDeadline(ctx workflow.Context, name string, at time.Time, wait time.Duration, woke func() bool) error {
	if d.deadline == nil || !d.deadlineAt.Equal(at) {
		d.cancelDeadline()
		tctx, cancel := workflow.WithCancel(ctx)
		d.deadline = workflow.NewTimerWithOptions(tctx, wait, workflow.TimerOptions{Summary: deadlineSummary(name)})
		d.deadlineAt, d.stopDeadline = at, cancel
	}
	timer := d.deadline
	if err := workflow.Await(ctx, func() bool { return woke() || timer.IsReady() }); err != nil {
		return err
	}
	if timer.IsReady() {
		d.deadline, d.stopDeadline = nil, nil
	}
	return nil
}

// cancelDeadline cancels the main loop's deadline timer, if one runs.
func (d *deal) cancelDeadline() {
	if d.stopDeadline != nil {
		d.stopDeadline()
	}
	d.deadline, d.stopDeadline = nil, nil
}

// OpeningSkew is how far the API's clock (DealInput.OpenedAt) may be from
// the workflow's for the deal to open at the API's time.
const OpeningSkew = time.Minute

// Opening is the state a deal starts in when it opens at `at`: the
// inquiry, the suppliers invited first, its deadlines. The deal's workflow
// holds it after its first task, and the API answers a create with it
// (Deal opens at in.OpenedAt when that is within OpeningSkew of its clock).
func Opening(in DealInput, at time.Time) DealState {
	in.Policy = in.Policy.withDefaults()
	d := &deal{in: in, wf: DealWorkflowID(in.DealID), features: dealCarriesFacts}
	d.open(at)
	return d.state
}

// OpeningBooks is the opening round of bookkeeping of a deal that opens
// at `at` (its notifications and projection), which the API writes as it
// starts the deal: the deal's workflow takes it as handed off when it
// opens at the same time, and writes its own otherwise.
func OpeningBooks(in DealInput, at time.Time) (activities.Books, error) {
	in.Policy = in.Policy.withDefaults()
	d := &deal{in: in, wf: DealWorkflowID(in.DealID), features: dealCarriesFacts}
	d.open(at)
	b, _, err := d.bookRoundAt(at)
	return b, err
}

// openingTime is when a deal whose workflow first runs at now opens.
func openingTime(openedAt, now time.Time) time.Time {
	if openedAt.IsZero() || openedAt.Before(now.Add(-OpeningSkew)) || openedAt.After(now.Add(OpeningSkew)) {
		return now
	}
	return openedAt
}

// open sets up the new deal's state at `at`: only what follows from its
// input, so that Opening and the workflow agree.
func (d *deal) open(at time.Time) {
	in := d.in
	d.state = DealState{
		DealID:    in.DealID,
		Stage:     StageQuoting,
		Inquiry:   in.Inquiry,
		Currency:  in.Inquiry.Currency,
		Deadlines: map[string]time.Time{},
	}
	if d.state.Inquiry.Incoterm == "" {
		d.state.Inquiry.Incoterm = "DAP"
	}
	d.eventAt(at, EventInquiryCreated, in.Inquiry.BuyerOrgID, fmt.Sprintf("%d %s of %s", in.Inquiry.Quantity, in.Inquiry.Unit, in.Inquiry.Product))
	if in.Dispatch != "" {
		d.eventAt(at, EventSuppliersRanked, "", in.Dispatch)
	}
	d.state.Deadlines[DeadlineInquiryExpires] = at.Add(in.Policy.InquiryExpiry)
	for range min(in.Policy.InitialInvites, len(in.Suppliers)) {
		d.inviteNextAt(at)
	}
}

// run is the deal's main loop: side effects, deadlines, and the end.
func (d *deal) run(ctx workflow.Context) (DealState, error) {
	if d.booksApart {
		d.keepBooksApart(ctx)
	}
	for {
		// Taken before flush: a handler that runs while flush waits on an
		// activity must still wake the loop afterwards.
		seen := d.change
		if err := d.flush(ctx); err != nil {
			return d.state, err
		}
		if d.state.Stage.Final() {
			break
		}
		if d.unconfirmed() && d.historyFull(ctx) {
			d.confirmNow = true // a run ends with its books confirmed
		}
		if d.readyToContinueAsNew(ctx) {
			if d.drainSignals(ctx) {
				continue // news to act on first
			}
			return DealState{}, workflow.NewContinueAsNewError(ctx, DealWorkflowName, d.resumeInput())
		}
		name, at := d.nextDeadline()
		workflow.SetCurrentDetails(ctx, d.currentDetails(name, at))
		// A full history waits for the deal to be quiet, which may come
		// with no change of state: a projection finishing.
		woke := func() bool { return d.change != seen || d.readyToContinueAsNew(ctx) }
		if name == "" {
			if d.handOff {
				d.cancelDeadline()
			}
			if err := workflow.Await(ctx, woke); err != nil {
				return d.state, err
			}
			continue
		}
		if wait := at.Sub(workflow.Now(ctx)); wait > 0 && d.handOff {
			if err := d.awaitDeadline(ctx, name, at, wait, woke); err != nil {
				return d.state, err
			}
			continue // a handler ran, or the deadline is due: look again
		}
		if wait := at.Sub(workflow.Now(ctx)); wait > 0 {
			// AwaitWithOptions makes the same timer as AwaitWithTimeout,
			// with the deadline's name as its summary instead of
			// "AwaitWithTimeout": metadata, not a new command.
			opts := workflow.AwaitOptions{Timeout: wait, TimerOptions: workflow.TimerOptions{Summary: deadlineSummary(name)}}
			if _, err := workflow.AwaitWithOptions(ctx, opts, woke); err != nil {
				return d.state, err
			}
			continue // a handler ran, or the deadline is due: look again
		}
		if d.handOff {
			d.cancelDeadline() // due now, and handled below
		}
		if name == "reconcile" {
			if err := d.reconcile(ctx); err != nil {
				return d.state, err
			}
			continue
		}
		d.onDeadline(ctx, name)
	}
	if err := d.settle(ctx); err != nil {
		return d.state, err
	}
	if d.booksApart {
		d.stopTrackers(ctx)
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return d.state, err
	}
	if err := d.flush(ctx); err != nil {
		return d.state, err
	}
	// The deal ends once its last notifications and projection are out,
	// and confirmed.
	d.confirmNow = true
	return d.state, workflow.Await(ctx, d.booksDone)
}

func (p Policy) withDefaults() Policy {
	def := DefaultPolicy()
	pick := func(v *time.Duration, dv time.Duration) {
		if *v <= 0 {
			*v = dv
		}
	}
	pick(&p.QuoteSLA, def.QuoteSLA)
	pick(&p.QuoteReminder, def.QuoteReminder)
	if p.Reminders == nil {
		p.Reminders = def.Reminders
	}
	pick(&p.InquiryExpiry, def.InquiryExpiry)
	pick(&p.SampleShipping, def.SampleShipping)
	pick(&p.SampleAutoApprove, def.SampleAutoApprove)
	pick(&p.ContractSigning, def.ContractSigning)
	pick(&p.DepositDue, def.DepositDue)
	pick(&p.BalanceDue, def.BalanceDue)
	pick(&p.PaymentGrace, def.PaymentGrace)
	pick(&p.PaymentReconcile, def.PaymentReconcile)
	pick(&p.InspectionWindow, def.InspectionWindow)
	pick(&p.InspectionReminder, def.InspectionReminder)
	pick(&p.DisputeAnswer, def.DisputeAnswer)
	pick(&p.DisputeSettlement, def.DisputeSettlement)
	pick(&p.TrackingPoll, def.TrackingPoll)
	pick(&p.TrackingPollNear, def.TrackingPollNear)
	pick(&p.TrackingStall, def.TrackingStall)
	if p.InitialInvites <= 0 {
		p.InitialInvites = def.InitialInvites
	}
	if p.HistoryBytes <= 0 {
		p.HistoryBytes = def.HistoryBytes
	}
	if p.HistoryEvents <= 0 {
		p.HistoryEvents = def.HistoryEvents
	}
	if p.TrackingPollsPerRun <= 0 {
		p.TrackingPollsPerRun = def.TrackingPollsPerRun
	}
	return p
}

// nextDeadline is the earliest deadline that applies at the current stage.
func (d *deal) nextDeadline() (string, time.Time) {
	var names []string
	switch d.state.Stage {
	case StageQuoting:
		names = []string{DeadlineInquiryExpires}
	case StageSample:
		names = []string{DeadlineSampleShipBy, DeadlineSampleAutoApprove}
	case StageContract:
		names = []string{DeadlineContractSignBy}
	case StageDeposit:
		names = []string{DeadlineDepositDue}
	case StageProduction:
		names = []string{DeadlineShipBy}
	case StageBalance:
		names = []string{DeadlineBalanceDue}
	case StageInspection:
		names = []string{DeadlineInspectionReminder, DeadlineInspectionEnds}
	case StageDispute:
		names = []string{DeadlineDisputeAnswerDue, DeadlineDisputeSettleBy}
	}
	best, bestAt := "", time.Time{}
	for _, n := range names {
		if at, ok := d.state.Deadlines[n]; ok && (best == "" || at.Before(bestAt)) {
			best, bestAt = n, at
		}
	}
	if d.state.Stage == StageQuoting {
		for _, inv := range d.state.Invitations {
			if inv.Status == InvitationPending && inv.DueAt.Before(bestAt) {
				best, bestAt = "quote_sla", inv.DueAt
			}
			if at, ok := d.reminderAt(inv); ok && at.Before(bestAt) {
				best, bestAt = deadlineQuoteReminder, at
			}
		}
	}
	for _, r := range d.reminders() {
		if best == "" || r.at.Before(bestAt) {
			best, bestAt = reminderPrefix+r.key, r.at
		}
	}
	for _, p := range d.state.Payments {
		if p.Kind != PaymentCharge || p.Status != PaymentPending {
			continue
		}
		if at := p.nextCheck(d.in.Policy.PaymentReconcile); best == "" || at.Before(bestAt) {
			best, bestAt = "reconcile", at
		}
	}
	return best, bestAt
}

func (d *deal) onDeadline(ctx workflow.Context, name string) {
	if key, ok := strings.CutPrefix(name, reminderPrefix); ok {
		d.remind(ctx, key)
		return
	}
	if name != "quote_sla" && name != deadlineQuoteReminder {
		delete(d.state.Deadlines, name)
	}
	switch name {
	case "quote_sla":
		d.quoteSLAPassed(ctx)
	case deadlineQuoteReminder:
		d.remindSuppliers(ctx)
	case DeadlineInquiryExpires:
		d.closeOpenQuotes(ctx, "")
		d.finish(ctx, StageExpired, EventInquiryExpired, "no quote was accepted before the inquiry expired", 0)
	case DeadlineSampleShipBy:
		d.finish(ctx, StageCancelled, EventSampleNotShipped, "the supplier did not ship the sample in time", 0)
	case DeadlineSampleAutoApprove:
		d.approveSample(ctx, "system", "auto-approved: no verdict within the sample window")
	case DeadlineContractSignBy:
		d.finish(ctx, StageCancelled, EventContractExpired, "the contract was not signed by both parties in time", 0)
	case DeadlineDepositDue:
		d.paymentDue(ctx, activities.StepDeposit, DeadlineDepositDue, func() {
			d.finish(ctx, StageCancelled, EventDepositNotPaid, "the deposit was not paid in time", 0)
		})
	case DeadlineShipBy:
		d.state.Production.Late = true
		d.event(ctx, EventProductionLate, "", "not ready to ship by "+d.state.Production.ShipBy.Format(time.RFC3339))
		d.notify(d.in.Inquiry.BuyerOrgID, "production_late", notice.Facts{})
	case DeadlineBalanceDue:
		d.paymentDue(ctx, activities.StepBalance, DeadlineBalanceDue, func() { d.buyerDefault(ctx) })
	case DeadlineInspectionReminder:
		d.event(ctx, EventInspectionReminder, "", "auto-accept in "+d.in.Policy.InspectionReminder.String())
		d.notify(d.in.Inquiry.BuyerOrgID, "inspection_reminder", notice.Facts{})
	case DeadlineInspectionEnds:
		d.event(ctx, EventAutoAccepted, "", "no dispute within the inspection window")
		d.finish(ctx, StageCompleted, EventAutoAccepted, "accepted by silence after inspection", d.state.Escrow.Held)
	case DeadlineDisputeAnswerDue, DeadlineDisputeSettleBy:
		d.escalate(ctx, "system", name)
	}
}

// paymentDue ends a payment window: a payment still being confirmed gets one
// grace period, so a slow confirmation does not cancel a paid deal.
func (d *deal) paymentDue(ctx workflow.Context, step, deadline string, lapse func()) {
	if p := d.activeCharge(step); p != nil && p.Status != PaymentDeclined {
		d.state.Deadlines[deadline] = workflow.Now(ctx).Add(d.in.Policy.PaymentGrace)
		d.event(ctx, EventPaymentGrace, "", step+" payment still being confirmed")
		return
	}
	lapse()
}

// finish ends the deal at a final stage and says how the escrow is divided:
// release goes to the supplier (before commission), the rest back to the buyer.
func (d *deal) finish(ctx workflow.Context, stage Stage, reason EventType, detail string, release int64) {
	d.state.Resolution = &Resolution{Reason: string(reason), Release: release}
	d.event(ctx, reason, "", detail)
	d.setStage(ctx, stage)
}

func (d *deal) setStage(ctx workflow.Context, s Stage) {
	d.stageChanged(s)
	d.state.Stage = s
	if s.Final() {
		d.endedTask = thisTask(ctx)
	}
	d.event(ctx, EventStageChanged, "", string(s))
	d.upsertSearchAttributes(ctx)
	d.change++
}

func (d *deal) upsertSearchAttributes(ctx workflow.Context) {
	updates := []temporal.SearchAttributeUpdate{
		SearchAttrDealStage.ValueSet(string(d.state.Stage)),
		SearchAttrBuyerID.ValueSet(d.in.Inquiry.BuyerOrgID),
		SearchAttrDealCurrency.ValueSet(d.state.Currency),
	}
	if d.state.SupplierID != "" {
		updates = append(updates, SearchAttrSupplierID.ValueSet(d.state.SupplierID), SearchAttrDealAmount.ValueSet(d.state.Total))
	}
	// Upserting can only fail for undeclared attributes, a deployment error
	// the Temporal UI shows; it must not stop the deal.
	_ = workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

func (d *deal) event(ctx workflow.Context, typ EventType, actor, detail string) {
	d.eventAt(workflow.Now(ctx), typ, actor, detail)
}

func (d *deal) eventAt(at time.Time, typ EventType, actor, detail string) {
	d.state.Timeline = append(d.state.Timeline, Event{At: at, Type: typ, Actor: actor, Detail: detail})
}

// eventAbout records an entry that concerns one supplier, made by another
// party.
func (d *deal) eventAbout(ctx workflow.Context, typ EventType, actor, about, detail string) {
	d.state.Timeline = append(d.state.Timeline, Event{At: workflow.Now(ctx), Type: typ, Actor: actor, About: about, Detail: detail})
}

// notify queues a notification of kind to org, stating facts; the deal's
// ID is among the facts of every notification.
func (d *deal) notify(org, kind string, facts notice.Facts) {
	facts.Deal = d.in.DealID
	text := ""
	if d.features < dealCarriesFacts {
		text = legacyText(kind, facts)
	}
	d.outbox = append(d.outbox, activities.Notification{
		DealID: d.in.DealID, OrgID: org, Kind: kind, Facts: &facts, Text: text,
		Key: fmt.Sprintf("%s/notify/%d", d.wf, d.notified+len(d.outbox)+1),
	})
}

// flush runs the money side effects the state asks for (ledger postings
// for confirmed charges, refunds of excess money, the sample's payout) and
// starts tracking children. Notifications and the read-model projection
// run beside the main loop (books.go), so they never hold money back; in
// histories recorded before that change they run here, as they did then.
func (d *deal) flush(ctx workflow.Context) error {
	if err := d.postConfirmedCharges(ctx); err != nil {
		return err
	}
	if err := d.refundExcess(ctx); err != nil {
		return err
	}
	if err := d.paySampleOut(ctx); err != nil {
		return err
	}
	if err := d.startTrackers(ctx); err != nil {
		return err
	}
	if !d.booksApart {
		return d.keepBooks(workflow.WithActivityOptions(ctx, bookkeepingOptions))
	}
	return nil
}

// Activity options. Money and bookkeeping activities retry until they
// succeed (their idempotency keys make that safe), backing off to once a
// minute; only typed business errors stop them.
var (
	moneyOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrPaymentDeclined, "LedgerRejected"},
		},
	}
	bookkeepingOptions = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	}
	// A payment the buyer is waiting for at the API gets a bounded time.
	interactiveChargeOptions = workflow.ActivityOptions{
		StartToCloseTimeout:    15 * time.Second,
		ScheduleToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second,
			NonRetryableErrorTypes: []string{activities.ErrPaymentDeclined},
		},
	}
)

// ValidateDealInput refuses a deal that cannot start; the API checks it
// before starting one, as it answers the create without the workflow.
func ValidateDealInput(in DealInput) error {
	if err := invalidInput(in.Validate()); err != nil {
		return err
	}
	switch {
	case in.DealID == "":
		return reject(RejectInvalid, "deal ID is required")
	case in.Inquiry.BuyerOrgID == "":
		return reject(RejectInvalid, "buyer is required")
	case in.Inquiry.Quantity < 1:
		return reject(RejectInvalid, "quantity must be positive")
	case in.Inquiry.TargetUnitPrice < 0:
		return reject(RejectInvalid, "target unit price must not be negative")
	case !money.KnownCurrency(in.Inquiry.Currency):
		return reject(RejectInvalid, "currency %q is not a supported ISO-4217 currency", in.Inquiry.Currency)
	case len(in.Suppliers) == 0:
		return reject(RejectInvalid, "at least one supplier must be invited")
	}
	seen := map[string]bool{}
	for _, s := range in.Suppliers {
		if s.OrgID == "" || seen[s.OrgID] {
			return reject(RejectInvalid, "suppliers must be named once each")
		}
		seen[s.OrgID] = true
	}
	return nil
}
