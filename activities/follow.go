package activities

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// DealUpdater sends an update to a deal's workflow (Temporal's client).
type DealUpdater interface {
	UpdateWorkflow(ctx context.Context, options client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error)
}

// Errors FollowShipment fails with.
const (
	// ErrStillFollowing: nothing for the tracker yet (no news, or news
	// already signalled to the deal). It is retried a poll interval
	// later, an attempt that leaves no trace in the tracker's history.
	ErrStillFollowing = "StillFollowing"
	// ErrDealClosed: the deal the news is for has ended, or refused the
	// report (the tracker was replaced); not retried.
	ErrDealClosed = "DealClosed"
)

// MaxSeenTrackEvents bounds the carrier events a tracker remembers as
// reported (FollowInput.Seen): a feed that sends ever more events cannot
// grow the tracker's input, which goes with each poll, without bound.
const MaxSeenTrackEvents = 256

// TrackReport is a tracker's news for its deal: a status it moved forward
// to and the carrier events not reported before. The deal takes it as a
// signal (workflows.ShipmentUpdate).
type TrackReport struct {
	Kind    string       `json:"kind"` // "sample" or "goods"
	Tracker int          `json:"tracker"`
	Status  string       `json:"status"`
	Events  []TrackEvent `json:"events"`
	At      time.Time    `json:"at"`
}

// FollowState is what a tracker has reported: the status last reported,
// when it changed, and the keys of the carrier events reported
// (TrackEventKey, the latest MaxSeenTrackEvents).
type FollowState struct {
	LastStatus string    `json:"last_status"`
	LastChange time.Time `json:"last_change"`
	Seen       []string  `json:"seen,omitempty"`
	// Waited is the sum of the poll intervals since the last change of
	// status; Stall of it is a stall. It is the time since when the worker
	// polled all along (retries come on time), and a worker down for a
	// while delays the stall rather than call one the carrier never had a
	// chance to prevent. The activity reads no clock for it, so a test
	// environment that skips time sees the same.
	Waited time.Duration `json:"waited,omitempty"`
	// Failed counts the reports in a row the deal did not take (it was
	// busy, its workflow tasks failing, the server unreachable): each
	// doubles the wait before the next attempt, up to MaxReportBackoff,
	// so trackers do not pile their retries on a deal that cannot answer.
	Failed int `json:"failed,omitempty"`
}

// Bounds on a tracker's report to its deal: how long one attempt waits for
// the deal's answer, and the longest wait between attempts after failures.
const (
	ReportWait       = 10 * time.Second
	MaxReportBackoff = 5 * time.Minute
)

// FollowInput asks FollowShipment to follow a shipment from State on. The
// news goes to the deal as the update named Report when DealWorkflowID is
// set and the worker can send updates (Activities.Deals).
type FollowInput struct {
	Track          TrackInput    `json:"track"`
	State          FollowState   `json:"state"`
	Poll           time.Duration `json:"poll"`
	PollNear       time.Duration `json:"poll_near"` // once out for delivery
	Stall          time.Duration `json:"stall"`     // no change of status for this long ends it
	DealWorkflowID string        `json:"deal_workflow_id,omitempty"`
	Report         string        `json:"report,omitempty"`
	Kind           string        `json:"kind"`
	Tracker        int           `json:"tracker"`
	// Wait: the first attempt asks the carrier nothing (it has just been
	// asked), so the first poll comes a poll interval later.
	Wait bool `json:"wait,omitempty"`
}

// FollowResult is where FollowShipment stopped: at a final status or a
// stall (Status "stalled") when it reports to the deal itself (Reported),
// else at the first news, for its tracker to report.
type FollowResult struct {
	Status   string       `json:"status"`
	Fresh    []TrackEvent `json:"fresh,omitempty"`
	State    FollowState  `json:"state"`
	Reported bool         `json:"reported"`
}

// trackRank orders the statuses a shipment moves forward through; a report
// of an earlier one (carriers re-send old scans) does not move it back.
var trackRank = map[string]int{
	TrackPending: 0, TrackInfoReceived: 1, TrackInTransit: 2,
	TrackAttemptFailed: 3, TrackOutForDelivery: 3, TrackAtPickup: 4, TrackDelivered: 5,
}

// TrackRank is a status's place in that order; unknown statuses rank 0.
func TrackRank(status string) int { return trackRank[status] }

// FinalTrackStatus reports whether a status ends the tracking.
func FinalTrackStatus(s string) bool {
	return s == TrackDelivered || s == TrackException || s == TrackExpired
}

// TrackEventKey tells carrier events apart.
func TrackEventKey(e TrackEvent) string {
	return e.At.UTC().Format(time.RFC3339) + "|" + e.Status + "|" + e.Location + "|" + e.Description
}

// TrackNews is what a carrier's answer brings after the status last and
// the events seen: the status the shipment is at now (last, unless it
// moved forward or ended) and the events not seen before.
func TrackNews(last string, seen map[string]bool, res TrackResult) (string, []TrackEvent) {
	var fresh []TrackEvent
	for _, e := range res.Events {
		if k := TrackEventKey(e); !seen[k] {
			seen[k] = true
			fresh = append(fresh, e)
		}
	}
	status := last
	if r, known := trackRank[res.Status]; FinalTrackStatus(res.Status) || (known && r > trackRank[last]) {
		status = res.Status
	}
	return status, fresh
}

// FollowShipment follows a shipment, one poll per attempt: an attempt
// with nothing for the tracker fails with ErrStillFollowing, retried at
// the poll interval (PollNear once the shipment is near). When the worker
// can send deals updates, it reports each piece of news to the deal
// itself, as an update whose round of bookkeeping it writes (as the API
// does for an action), and keeps following, its state carried from
// attempt to attempt in its heartbeat details, until the shipment reaches
// a final status or stalls (no change of status for Stall of polling,
// FollowState.Waited): the tracker's history holds one activity for the
// whole shipment. Else it returns at the first news. An attempt retried
// after a report whose outcome was lost sends the same update (its ID is
// the report's content), and the deal takes a report once in any case.
func (a *Activities) FollowShipment(ctx context.Context, in FollowInput) (FollowResult, error) {
	st := in.State
	resumed := activity.HasHeartbeatDetails(ctx)
	if resumed {
		if err := activity.GetHeartbeatDetails(ctx, &st); err != nil {
			return FollowResult{}, temporal.NewNonRetryableApplicationError("read the tracker's state", "BadFollowState", err)
		}
	}
	following := func(why string, st FollowState) error {
		wait := in.backoff(st)
		st.Waited += wait
		activity.RecordHeartbeat(ctx, st)
		return temporal.NewApplicationErrorWithOptions(why, ErrStillFollowing, temporal.ApplicationErrorOptions{NextRetryDelay: wait})
	}
	// refused: the deal did not take the news; it goes again after a
	// longer wait each time.
	refused := func(err error, st FollowState) error {
		st.Failed++
		return following(err.Error(), st)
	}
	if in.Wait && !resumed && activity.GetInfo(ctx).Attempt == 1 {
		return FollowResult{}, following("the carrier was just asked", st)
	}
	if st.Waited >= in.Stall {
		out, err := a.report(ctx, in, FollowResult{Status: TrackStalled, State: st})
		if err != nil && !isDealClosed(err) {
			return out, refused(err, st)
		}
		return out, err
	}
	res, err := a.Tracker.Track(ctx, in.Track)
	if err != nil {
		return FollowResult{}, following(fmt.Sprintf("track %s %s: %v", in.Track.Carrier, in.Track.TrackingNumber, err), st)
	}
	seen := make(map[string]bool, len(st.Seen))
	for _, k := range st.Seen {
		seen[k] = true
	}
	status, fresh := TrackNews(st.LastStatus, seen, res)
	// A feed that sends ever more events sends them a bounded number at
	// a time: the rest are news at the next poll.
	fresh = fresh[:min(len(fresh), MaxSeenTrackEvents)]
	if status == st.LastStatus && len(fresh) == 0 {
		return FollowResult{}, following("no news from the carrier yet", st)
	}
	next := FollowState{LastStatus: status, LastChange: st.LastChange, Seen: slices.Clone(st.Seen), Waited: st.Waited} // Failed: 0, the news is taken
	if status != st.LastStatus {
		next.LastChange, next.Waited = time.Now().UTC(), 0
	}
	for _, e := range fresh {
		next.Seen = append(next.Seen, TrackEventKey(e))
	}
	if n := len(next.Seen) - MaxSeenTrackEvents; n > 0 {
		next.Seen = next.Seen[n:]
	}
	out, err := a.report(ctx, in, FollowResult{Status: status, Fresh: fresh, State: next})
	if err != nil && !isDealClosed(err) {
		return out, refused(err, st) // the news again, next time
	}
	if err != nil || !out.Reported || FinalTrackStatus(status) {
		return out, err
	}
	return FollowResult{}, following("reported "+status+" to the deal; following on", next)
}

func isDealClosed(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == ErrDealClosed
}

// interval is how long the tracker waits before its next poll.
func (in FollowInput) interval(st FollowState) time.Duration {
	return PollInterval(st.LastStatus, in.Poll, in.PollNear)
}

// backoff is how long the tracker waits before its next attempt: the poll
// interval, doubled for each report in a row the deal did not take, up to
// MaxReportBackoff (or the poll interval, if that is longer).
func (in FollowInput) backoff(st FollowState) time.Duration {
	wait := in.interval(st)
	for range min(st.Failed, 20) {
		if wait >= MaxReportBackoff {
			return max(MaxReportBackoff, in.interval(st))
		}
		wait *= 2
	}
	return min(wait, max(MaxReportBackoff, in.interval(st)))
}

// PollInterval is how often a shipment at status is polled: near (when
// set) once it is out for delivery or at a pickup point, else poll.
func PollInterval(status string, poll, near time.Duration) time.Duration {
	if near > 0 && TrackRank(status) >= TrackRank(TrackOutForDelivery) {
		return near
	}
	return poll
}

// report sends the news in out to the deal, when the worker can, and
// writes the round of bookkeeping the deal hands back.
func (a *Activities) report(ctx context.Context, in FollowInput, out FollowResult) (FollowResult, error) {
	if a.Deals == nil || in.DealWorkflowID == "" {
		return out, nil
	}
	r := TrackReport{Kind: in.Kind, Tracker: in.Tracker, Status: out.Status, Events: out.Fresh, At: time.Now().UTC()}
	// A deal that does not answer in ReportWait is asked again later: the
	// same update, taken once.
	ctx, cancel := context.WithTimeout(ctx, ReportWait)
	defer cancel()
	h, err := a.Deals.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: in.DealWorkflowID, UpdateID: reportID(in, r), UpdateName: in.Report, Args: []any{r},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res struct {
		Books *Books `json:"books"`
	}
	if err == nil {
		err = h.Get(ctx, &res)
	}
	if err != nil {
		var gone *serviceerror.NotFound
		var refused *temporal.ApplicationError
		if errors.As(err, &gone) || errors.As(err, &refused) {
			return FollowResult{}, temporal.NewNonRetryableApplicationError("the deal takes no more reports", ErrDealClosed, err)
		}
		return FollowResult{}, fmt.Errorf("report to %s: %w", in.DealWorkflowID, err)
	}
	if res.Books != nil {
		if err := a.Projection.WriteBooks(ctx, *res.Books); err != nil {
			return FollowResult{}, fmt.Errorf("write the round of %s's report: %w", in.DealWorkflowID, err)
		}
	}
	out.Reported = true
	return out, nil
}

// reportID names a report by its content, so the same news sent again is
// the same update.
func reportID(in FollowInput, r TrackReport) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d|%s", r.Kind, r.Tracker, r.Status)
	for _, e := range r.Events {
		fmt.Fprintf(h, "|%s", TrackEventKey(e))
	}
	return fmt.Sprintf("%s/track-%s-%d/%x", in.DealWorkflowID, r.Kind, r.Tracker, h.Sum(nil)[:12])
}
