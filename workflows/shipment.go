package workflows

import (
	"fmt"
	"math"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/notice"
)

func (d *deal) checkAddShipment(_ workflow.Context, in ShipmentInput) error {
	if err := d.needStage(StageShipping); err != nil {
		return err
	}
	if err := d.needSupplier(in.Actor); err != nil {
		return err
	}
	if d.state.Shipment != nil {
		return reject(RejectWrongStage, "the goods are already shipped with %s %s", d.state.Shipment.Carrier, d.state.Shipment.TrackingNumber)
	}
	return checkShipment(in)
}

func (d *deal) addShipment(ctx workflow.Context, in ShipmentInput) {
	d.state.Shipment = &Shipment{Carrier: in.Carrier, TrackingNumber: in.TrackingNumber, Status: activities.TrackPending, ShippedAt: workflow.Now(ctx)}
	d.event(ctx, EventGoodsShipped, in.Actor.OrgID, in.Carrier+" "+in.TrackingNumber)
	d.notify(d.in.Inquiry.BuyerOrgID, "goods_shipped", notice.Facts{Carrier: in.Carrier, Tracking: in.TrackingNumber})
}

// startTrackers starts a tracking child for each shipment that has none.
func (d *deal) startTrackers(ctx workflow.Context) error {
	if s := d.state.Sample; d.state.Stage == StageSample && s != nil && s.Status == SampleShipped && s.Shipment.Tracker == 0 {
		n, err := d.startTracker(ctx, "sample", s.Shipment)
		if err != nil {
			return err
		}
		s.Shipment.Tracker = n
	}
	if sh := d.state.Shipment; d.state.Stage == StageShipping && sh != nil && sh.Tracker == 0 {
		n, err := d.startTracker(ctx, "goods", sh)
		if err != nil {
			return err
		}
		sh.Tracker = n
	}
	return nil
}

// followTrackers turns on trackers that follow (TrackingInput.Follow) for
// new deals. They were off while the fault tests stalled beside a second
// `make test`; the stall was the fault tests' Temporal server, embedded in
// their -race test binary, falling behind (with trackers that follow off
// too). With that server in a process of its own (tradeloop temporal),
// trackers that follow passed the fault tests beside a second make test
// in every run (2026-12-01: six of six in a loop, and the second run's
// own). The setting is read when a tracker starts: trackers started while
// it was off keep polling with a timer each time.
const followTrackers = true

func (d *deal) startTracker(ctx workflow.Context, kind string, sh *Shipment) (int, error) {
	d.trackers++
	if d.features >= dealRecordedRounds {
		// The shipment knows its tracker before the tracker runs: its
		// first report may come in the task that learns it started (a
		// retried one, where updates run first), and must be taken.
		sh.Tracker = d.trackers
	}
	cctx, cancel := workflow.WithCancel(ctx)
	opts := workflow.ChildWorkflowOptions{
		WorkflowID: d.trackerID(kind, d.trackers),
		// The deal ends the tracker when it ends: nobody needs the polling then.
	}
	if d.booksApart {
		// The tracker outlives a continue-as-new of the deal and reports to
		// whichever run is current; the deal stops it itself at its end.
		opts.ParentClosePolicy = enumspb.PARENT_CLOSE_POLICY_ABANDON
	}
	cctx = workflow.WithChildOptions(cctx, opts)
	fut := workflow.ExecuteChildWorkflow(cctx, TrackShipment, TrackingInput{
		DealWorkflowID: d.wf, Kind: kind, Tracker: d.trackers, Carrier: sh.Carrier, TrackingNumber: sh.TrackingNumber,
		Poll: d.in.Policy.TrackingPoll, PollNear: d.in.Policy.TrackingPollNear,
		Stall: d.in.Policy.TrackingStall, PollsPerRun: d.in.Policy.TrackingPollsPerRun,
		Follow: followTrackers && d.features >= dealRecordedRounds,
	})
	if err := fut.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		cancel()
		sh.Tracker = 0
		return 0, fmt.Errorf("start %s tracking: %w", kind, err)
	}
	// The tracker's start is a workflow task of its own: a safe one to
	// confirm the rounds the shipment's actions handed off, before its
	// reports hand off theirs.
	d.confirmEarly(ctx)
	d.stopTracking[kind] = cancel
	return d.trackers, nil
}

// applyTracking adds a tracking report to a shipment: its status, and the
// events the tracker had not reported before.
// A carrier's text is cleaned and the events kept are capped, so a chatty
// or hostile carrier feed cannot grow the deal without bound.
func applyTracking(sh *Shipment, u ShipmentUpdate) {
	if u.Status != "" {
		sh.Status = bounds.Clean(u.Status, MaxCode)
	}
	for _, e := range u.Events {
		if len(sh.Events) >= MaxTrackEvents {
			break
		}
		sh.Events = append(sh.Events, cleanTrackEvent(e))
	}
}

// cleanTrackEvent is a carrier event as the deal keeps it: its texts
// cleaned and cut to their limits.
func cleanTrackEvent(e activities.TrackEvent) activities.TrackEvent {
	e.Status, e.Location, e.Description = bounds.Clean(e.Status, MaxCode), bounds.Clean(e.Location, MaxDestination), bounds.Clean(e.Description, MaxNote)
	return e
}

// trackingNews reports whether a tracking report tells the deal anything
// it does not hold: a status other than the shipment's, or a carrier event
// it has not kept. A tracker's activity may send the same report twice
// (its signal's outcome lost, the attempt retried); deals from
// dealRecordedRounds take it once.
func (d *deal) trackingNews(sh *Shipment, u ShipmentUpdate) bool {
	if d.features < dealRecordedRounds || u.Status != "" && bounds.Clean(u.Status, MaxCode) != sh.Status {
		return true
	}
	held := make(map[string]bool, len(sh.Events))
	for _, e := range sh.Events {
		held[activities.TrackEventKey(e)] = true
	}
	for _, e := range u.Events {
		if !held[activities.TrackEventKey(cleanTrackEvent(e))] && len(sh.Events) < MaxTrackEvents {
			return true
		}
	}
	return false
}

func (d *deal) shipmentUpdate(ctx workflow.Context, u ShipmentUpdate) {
	if u.Kind == "sample" {
		d.sampleShipment(ctx, u)
		return
	}
	sh := d.state.Shipment
	if d.state.Stage != StageShipping || sh == nil || (u.Tracker != 0 && u.Tracker != sh.Tracker) || !d.trackingNews(sh, u) {
		return // late news from a tracker that was replaced or a stage that passed, or news told before
	}
	applyTracking(sh, u)
	switch u.Status {
	case activities.TrackDelivered:
		now := workflow.Now(ctx)
		sh.DeliveredAt = u.At
		ends := now.Add(d.in.Policy.InspectionWindow)
		d.state.Deadlines[DeadlineInspectionEnds] = ends
		d.state.Deadlines[DeadlineInspectionReminder] = ends.Add(-d.in.Policy.InspectionReminder)
		d.event(ctx, EventGoodsDelivered, "", "inspection until "+ends.Format(time.RFC3339))
		d.notify(d.in.Inquiry.BuyerOrgID, "goods_delivered", notice.Facts{})
		d.setStage(ctx, StageInspection)
	case activities.TrackException, activities.TrackExpired, activities.TrackStalled:
		d.event(ctx, EventShipmentEnded(u.Status), "", sh.Carrier+" "+sh.TrackingNumber)
		d.startDispute(ctx, "system", "shipment_"+u.Status, "", nil)
	default:
		d.event(ctx, EventShipmentTracking, "", u.Status)
	}
}

// checkTrackingReport refuses a report from a tracker the deal does not
// have (replaced by a correction, or of a shipment that is no longer
// followed), which ends that tracker; news the deal already has, or
// that comes after its stage, is taken and changes nothing.
func (d *deal) checkTrackingReport(_ workflow.Context, u ShipmentUpdate) error {
	var sh *Shipment
	switch u.Kind {
	case "goods":
		sh = d.state.Shipment
	case "sample":
		if d.state.Sample != nil {
			sh = d.state.Sample.Shipment
		}
	default:
		return reject(RejectInvalid, "kind must be sample or goods")
	}
	if sh == nil || u.Tracker != sh.Tracker {
		return reject(RejectNotFound, "no %s shipment is followed by tracker %d", u.Kind, u.Tracker)
	}
	if len(u.Events) > activities.MaxSeenTrackEvents {
		return reject(RejectInvalid, "at most %d carrier events in a report", activities.MaxSeenTrackEvents)
	}
	return nil
}

func (d *deal) checkCorrectTracking(_ workflow.Context, in CorrectTrackingInput) error {
	if err := d.needSupplier(in.Actor); err != nil {
		return err
	}
	switch in.Kind {
	case "goods":
		if d.state.Stage != StageShipping || d.state.Shipment == nil {
			return reject(RejectWrongStage, "no shipment of the goods is being tracked")
		}
	case "sample":
		if d.state.Stage != StageSample || d.state.Sample.Status != SampleShipped {
			return reject(RejectWrongStage, "no sample shipment is being tracked")
		}
	default:
		return reject(RejectInvalid, "kind must be sample or goods")
	}
	sh := d.state.Shipment
	if in.Kind == "sample" {
		sh = d.state.Sample.Shipment
	}
	if sh.Corrections >= MaxTrackingCorrections {
		return limitReached("a shipment's tracking number can be corrected at most %d times", MaxTrackingCorrections)
	}
	return checkShipment(ShipmentInput{Carrier: in.Carrier, TrackingNumber: in.TrackingNumber})
}

// correctTracking replaces a wrong tracking number: the old tracker stops
// and a new one starts from nothing.
func (d *deal) correctTracking(ctx workflow.Context, in CorrectTrackingInput) {
	sh := d.state.Shipment
	if in.Kind == "sample" {
		sh = d.state.Sample.Shipment
	}
	d.stopTracker(ctx, in.Kind, sh)
	old := sh.Carrier + " " + sh.TrackingNumber
	*sh = Shipment{Carrier: in.Carrier, TrackingNumber: in.TrackingNumber, Status: activities.TrackPending, ShippedAt: sh.ShippedAt,
		Corrections: sh.Corrections + 1}
	d.event(ctx, EventTrackingCorrected, in.Actor.OrgID, old+" → "+in.Carrier+" "+in.TrackingNumber)
}

func (d *deal) checkAcceptDelivery(_ workflow.Context, in ActorInput) error {
	if err := d.needStage(StageInspection); err != nil {
		return err
	}
	return d.needBuyer(in.Actor)
}

func (d *deal) acceptDelivery(ctx workflow.Context, in ActorInput) {
	delete(d.state.Deadlines, DeadlineInspectionEnds)
	delete(d.state.Deadlines, DeadlineInspectionReminder)
	d.event(ctx, EventGoodsAccepted, in.Actor.OrgID, in.Note)
	d.finish(ctx, StageCompleted, EventAccepted, "the buyer accepted the goods", d.goodsHeld())
}

// TrackingInput starts (or continues) a tracking child.
type TrackingInput struct {
	DealWorkflowID string        `json:"deal_workflow_id"`
	Kind           string        `json:"kind"`
	Tracker        int           `json:"tracker"`
	Carrier        string        `json:"carrier"`
	TrackingNumber string        `json:"tracking_number"`
	Poll           time.Duration `json:"poll"`
	PollNear       time.Duration `json:"poll_near"`
	Stall          time.Duration `json:"stall"`
	PollsPerRun    int           `json:"polls_per_run"`
	// Carried across continue-as-new:
	LastStatus string    `json:"last_status"`
	LastChange time.Time `json:"last_change,omitzero"`
	Seen       []string  `json:"seen"` // keys of the events already reported
	// Follow: the tracker polls through FollowShipment's retries
	// (followShipment), as the trackers of deals from dealRecordedRounds
	// do; trackers started before poll with a timer each time.
	Follow bool `json:"follow,omitempty"`
	// Waited: a following tracker's poll intervals since the last change
	// of status (activities.FollowState).
	Waited time.Duration `json:"waited,omitempty"`
}

// TrackShipment polls the carrier until the shipment is delivered, fails,
// or makes no progress for Stall. It reports to its deal each forward move
// of status and each carrier event once, polls more often once the shipment
// is near (out for delivery, at a pickup point), and continues as new every
// PollsPerRun polls (PollsPerRun reports for a tracker that follows),
// carrying what it has reported.
func TrackShipment(ctx workflow.Context, in TrackingInput) (string, error) {
	if in.LastChange.IsZero() {
		in.LastChange = workflow.Now(ctx)
	}
	if in.LastStatus == "" {
		in.LastStatus = activities.TrackPending
	}
	if in.PollNear <= 0 {
		in.PollNear = in.Poll
	}
	report := func(status string, events []activities.TrackEvent) error {
		u := ShipmentUpdate{Kind: in.Kind, Tracker: in.Tracker, Status: status, Events: events, At: workflow.Now(ctx)}
		return workflow.SignalExternalWorkflow(ctx, in.DealWorkflowID, "", SignalShipmentUpdate, u).Get(ctx, nil)
	}
	if in.Follow {
		return followShipment(ctx, in, report)
	}
	return pollShipment(ctx, in, report)
}

// pollInterval is how long a tracker waits between polls.
func (in TrackingInput) pollInterval() time.Duration {
	return activities.PollInterval(in.LastStatus, in.Poll, in.PollNear)
}

// followShipment is TrackShipment for trackers that follow (Follow): one
// FollowShipment activity polls at each of its attempts, retried at the
// poll interval, and signals the deal its news itself, so a poll leaves
// nothing in the history and the tracker's history holds one activity
// for the whole shipment. A worker that cannot signal deals returns at
// each piece of news, which this reports, and is asked again.
func followShipment(ctx workflow.Context, in TrackingInput, report func(string, []activities.TrackEvent) error) (string, error) {
	// A tracker polls at once when it starts afresh, and a poll interval
	// after news.
	wait := in.LastStatus != activities.TrackPending || len(in.Seen) > 0
	for reports := 0; ; {
		poll := max(in.pollInterval(), 10*time.Millisecond)
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: 30 * time.Second,
			// The activity ends itself at a stall; each attempt says when
			// the next comes (sooner once the shipment is near).
			RetryPolicy: &temporal.RetryPolicy{
				InitialInterval: poll, BackoffCoefficient: 1, MaximumInterval: poll, MaximumAttempts: math.MaxInt32,
				NonRetryableErrorTypes: []string{activities.ErrDealClosed},
			},
		})
		var res activities.FollowResult
		err := workflow.ExecuteActivity(withSummary(actx, "follow %s shipment at %s", in.Kind, in.Carrier), acts.FollowShipment, activities.FollowInput{
			Track: activities.TrackInput{Carrier: in.Carrier, TrackingNumber: in.TrackingNumber},
			State: activities.FollowState{LastStatus: in.LastStatus, LastChange: in.LastChange, Seen: in.Seen, Waited: in.Waited},
			Poll:  in.Poll, PollNear: in.PollNear, Stall: in.Stall,
			DealWorkflowID: in.DealWorkflowID, Report: UpdateReportTracking, Kind: in.Kind, Tracker: in.Tracker, Wait: wait,
		}).Get(ctx, &res)
		if err != nil {
			return "", fmt.Errorf("follow the %s shipment: %w", in.Kind, err)
		}
		in.LastStatus, in.LastChange, in.Seen, in.Waited = res.State.LastStatus, res.State.LastChange, res.State.Seen, res.State.Waited
		if !res.Reported {
			if err := report(res.Status, res.Fresh); err != nil {
				return "", fmt.Errorf("report to deal: %w", err)
			}
		}
		if res.Status == activities.TrackStalled || activities.FinalTrackStatus(res.Status) {
			return res.Status, nil
		}
		wait = true
		if reports++; reports >= in.PollsPerRun {
			return "", workflow.NewContinueAsNewError(ctx, TrackShipment, in)
		}
	}
}

// pollShipment is TrackShipment for trackers started before Follow: an
// activity and a timer for each poll.
func pollShipment(ctx workflow.Context, in TrackingInput, report func(string, []activities.TrackEvent) error) (string, error) {
	seen := make(map[string]bool, len(in.Seen))
	for _, k := range in.Seen {
		seen[k] = true
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		// Provider errors and rate limits back off and try again; an outage
		// longer than that is not news: the next poll tries again, and a
		// long one ends as a stall.
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 5},
	})
	for polls := 0; ; polls++ {
		var res activities.TrackResult
		err := workflow.ExecuteActivity(withSummary(actx, "track %s shipment at %s", in.Kind, in.Carrier), acts.TrackShipment, activities.TrackInput{Carrier: in.Carrier, TrackingNumber: in.TrackingNumber}).Get(ctx, &res)
		now := workflow.Now(ctx)
		if err == nil {
			status, fresh := activities.TrackNews(in.LastStatus, seen, res)
			for _, e := range fresh {
				in.Seen = append(in.Seen, activities.TrackEventKey(e))
			}
			if status != in.LastStatus || len(fresh) > 0 {
				if status != in.LastStatus {
					in.LastStatus, in.LastChange = status, now
				}
				if err := report(status, fresh); err != nil {
					return "", fmt.Errorf("report to deal: %w", err)
				}
			}
			if activities.FinalTrackStatus(status) {
				return status, nil
			}
		}
		if now.Sub(in.LastChange) >= in.Stall {
			if err := report(activities.TrackStalled, nil); err != nil {
				return "", fmt.Errorf("report to deal: %w", err)
			}
			return activities.TrackStalled, nil
		}
		if polls+1 >= in.PollsPerRun {
			return "", workflow.NewContinueAsNewError(ctx, TrackShipment, in)
		}
		if err := sleep(ctx, in.pollInterval(), fmt.Sprintf("next tracking poll (%s, %s)", in.Kind, in.Carrier)); err != nil {
			return "", err
		}
	}
}
