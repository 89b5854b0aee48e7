package activities

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

type fixedTracker struct{ res TrackResult }

func (f fixedTracker) Track(context.Context, TrackInput) (TrackResult, error) { return f.res, nil }

// recordingDeal takes reports as the deal's update does: once by update
// ID, with a round of bookkeeping to write.
type recordingDeal struct {
	reports []TrackReport
	ids     map[string]bool
	err     error // from the update call
	refuse  bool  // the deal's validator refuses
}

type doneUpdate struct {
	err   error
	books *Books
}

func (u doneUpdate) WorkflowID() string { return "deal-x" }
func (u doneUpdate) RunID() string      { return "" }
func (u doneUpdate) UpdateID() string   { return "" }
func (u doneUpdate) Get(_ context.Context, v any) error {
	if u.err != nil {
		return u.err
	}
	v.(*struct {
		Books *Books `json:"books"`
	}).Books = u.books
	return nil
}

func (r *recordingDeal) UpdateWorkflow(_ context.Context, o client.UpdateWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	if o.WorkflowID != "deal-x" || o.UpdateName != "report-tracking" || o.WaitForStage != client.WorkflowUpdateStageCompleted || o.UpdateID == "" {
		return nil, errors.New("the wrong workflow, update or stage")
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.refuse {
		return doneUpdate{err: temporal.NewApplicationError("no goods shipment is followed by tracker 2", "not_found")}, nil
	}
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	if !r.ids[o.UpdateID] {
		r.ids[o.UpdateID] = true
		r.reports = append(r.reports, o.Args[0].(TrackReport))
	}
	return doneUpdate{books: &Books{Notifications: []Notification{{DealID: "x", OrgID: "buyer", Kind: "k", Text: "t", Key: o.UpdateID}}}}, nil
}

// follow runs one attempt of FollowShipment, resumed from the heartbeat
// details resumed when not nil, and returns what it heartbeat.
func follow(t *testing.T, a *Activities, in FollowInput, resumed *FollowState) (FollowResult, *FollowState, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	if resumed != nil {
		env.SetHeartbeatDetails(*resumed)
	}
	var beat *FollowState
	env.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var st FollowState
		if err := details.Get(&st); err != nil {
			t.Fatal(err)
		}
		beat = &st
	})
	v, err := env.ExecuteActivity(a.FollowShipment, in)
	var out FollowResult
	if err == nil {
		if err := v.Get(&out); err != nil {
			t.Fatal(err)
		}
	}
	return out, beat, err
}

func stillFollowing(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == ErrStillFollowing && !appErr.NonRetryable()
}

func TestFollowShipmentSignalsEachNewsOnceAndFollowsOn(t *testing.T) {
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	seen := TrackEvent{At: at, Status: TrackInTransit, Location: "Leipzig"}
	fresh := TrackEvent{At: at.Add(time.Minute), Status: TrackInTransit, Location: "Hamburg"}
	in := FollowInput{Track: TrackInput{Carrier: "dhl", TrackingNumber: "T"},
		State: FollowState{LastStatus: TrackInTransit, LastChange: at, Seen: []string{TrackEventKey(seen)}},
		Poll:  time.Hour, PollNear: time.Minute, Stall: 48 * time.Hour,
		DealWorkflowID: "deal-x", Report: "report-tracking", Kind: "goods", Tracker: 2}

	// Nothing new, or a stale scan of an earlier status: no news, no signal.
	for _, res := range []TrackResult{
		{Status: TrackInTransit, Events: []TrackEvent{seen}},
		{Status: TrackInfoReceived, Events: []TrackEvent{seen}},
	} {
		sig := &recordingDeal{}
		_, _, err := follow(t, &Activities{Tracker: fixedTracker{res}, Deals: sig, Projection: NewMemory()}, in, nil)
		if !stillFollowing(err) || len(sig.reports) != 0 {
			t.Fatalf("%+v: %v, %d reports; want a retryable %s and no signal", res, err, len(sig.reports), ErrStillFollowing)
		}
	}

	// A new event: signalled to the deal, and the tracker's state moves on
	// in the heartbeat for the next attempt.
	sig := &recordingDeal{}
	mem := NewMemory()
	a := &Activities{Tracker: fixedTracker{TrackResult{Status: TrackOutForDelivery, Events: []TrackEvent{seen, fresh}}}, Deals: sig, Projection: mem}
	_, beat, err := follow(t, a, in, nil)
	if !stillFollowing(err) || len(sig.reports) != 1 {
		t.Fatalf("news: %v, %d reports", err, len(sig.reports))
	}
	if n := len(mem.Notifications("k")); n != 1 {
		t.Fatalf("the round the deal handed back: %d notifications written, want 1", n)
	}
	// Sent again (its outcome lost): the same update, taken once.
	if _, _, err := follow(t, a, in, nil); !stillFollowing(err) || len(sig.reports) != 1 {
		t.Fatalf("news sent again: %v, %d reports, want 1", err, len(sig.reports))
	}
	if r := sig.reports[0]; r.Tracker != 2 || r.Kind != "goods" || r.Status != TrackOutForDelivery || len(r.Events) != 1 || r.Events[0] != fresh {
		t.Fatalf("report %+v", r)
	}
	if beat == nil || beat.LastStatus != TrackOutForDelivery || len(beat.Seen) != 2 || !beat.LastChange.After(at) {
		t.Fatalf("heartbeat %+v", beat)
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr); appErr.NextRetryDelay() != time.Minute {
		t.Fatalf("next poll in %s, want PollNear once out for delivery", appErr.NextRetryDelay())
	}
	// The next attempt resumes from it: the same answer is no news.
	sig2 := &recordingDeal{}
	a.Deals = sig2
	if _, _, err := follow(t, a, in, beat); !stillFollowing(err) || len(sig2.reports) != 0 {
		t.Fatalf("resumed: %v, %d reports; want no news", err, len(sig2.reports))
	}
	// Delivered: signalled, and the activity ends with it.
	a.Tracker = fixedTracker{TrackResult{Status: TrackDelivered, Events: []TrackEvent{seen, fresh}}}
	out, _, err := follow(t, a, in, beat)
	if err != nil || out.Status != TrackDelivered || !out.Reported || len(sig2.reports) != 1 {
		t.Fatalf("delivered: %+v, %v, %d reports", out, err, len(sig2.reports))
	}

	// Without a signaler it returns the news, for its tracker to report.
	a.Deals = nil
	a.Tracker = fixedTracker{TrackResult{Status: TrackInTransit, Events: []TrackEvent{seen, fresh}}}
	if out, _, err := follow(t, a, in, nil); err != nil || out.Reported || len(out.Fresh) != 1 || out.State.Seen[1] != TrackEventKey(fresh) {
		t.Fatalf("without a signaler: %+v, %v", out, err)
	}

	// A deal that has ended takes no news: not retried.
	a.Deals = &recordingDeal{err: serviceerror.NewNotFound("workflow execution already completed")}
	_, _, err = follow(t, a, in, nil)
	if !errors.As(err, &appErr) || appErr.Type() != ErrDealClosed || !appErr.NonRetryable() {
		t.Fatalf("to an ended deal: %v, want a non-retryable %s", err, ErrDealClosed)
	}
	// A deal that refuses the report (its tracker was replaced) ends it.
	a.Deals = &recordingDeal{refuse: true}
	_, _, err = follow(t, a, in, nil)
	if !errors.As(err, &appErr) || appErr.Type() != ErrDealClosed || !appErr.NonRetryable() {
		t.Fatalf("refused: %v, want a non-retryable %s", err, ErrDealClosed)
	}
	// Any other failure to report is tried again with the news.
	a.Deals = &recordingDeal{err: errors.New("unavailable")}
	if _, beat, err := follow(t, a, in, nil); !stillFollowing(err) || beat == nil || len(beat.Seen) != 1 {
		t.Fatalf("a failing signal: %v, heartbeat %+v; want the state before the news", err, beat)
	}
}

func TestFollowShipmentEndsAtAStall(t *testing.T) {
	sig := &recordingDeal{}
	a := &Activities{Tracker: fixedTracker{TrackResult{Status: TrackInTransit}}, Deals: sig, Projection: NewMemory()}
	in := FollowInput{Track: TrackInput{Carrier: "dhl", TrackingNumber: "T"},
		State: FollowState{LastStatus: TrackInTransit, LastChange: time.Now().Add(-49 * time.Hour), Waited: 48 * time.Hour},
		Poll:  time.Hour, Stall: 48 * time.Hour, DealWorkflowID: "deal-x", Report: "report-tracking", Kind: "goods", Tracker: 1}
	out, _, err := follow(t, a, in, nil)
	if err != nil || out.Status != "stalled" || !out.Reported || len(sig.reports) != 1 || sig.reports[0].Status != "stalled" {
		t.Fatalf("%+v, %v, reports %+v", out, err, sig.reports)
	}
}

// A deal that cannot take a report (busy, its tasks failing) is asked
// again after a longer wait each time, up to MaxReportBackoff, and the
// wait is back to the poll interval once it takes the news.
func TestFollowShipmentBacksOffFromADealThatDoesNotAnswer(t *testing.T) {
	busy := &recordingDeal{err: errors.New("workflow task in failed state")}
	a := &Activities{Tracker: fixedTracker{TrackResult{Status: TrackInTransit}}, Deals: busy, Projection: NewMemory()}
	in := FollowInput{Track: TrackInput{Carrier: "dhl", TrackingNumber: "T"}, State: FollowState{LastStatus: TrackPending},
		Poll: time.Second, Stall: 1000 * time.Hour, DealWorkflowID: "deal-x", Report: "report-tracking", Kind: "goods", Tracker: 1}
	var waits []time.Duration
	var st *FollowState
	for range 12 {
		_, beat, err := follow(t, a, in, st)
		var appErr *temporal.ApplicationError
		if !stillFollowing(err) || !errors.As(err, &appErr) || beat == nil {
			t.Fatalf("a report the deal did not take: %v, heartbeat %+v", err, beat)
		}
		if beat.LastStatus != TrackPending {
			t.Fatalf("the untaken news counts as reported: %+v", beat)
		}
		waits = append(waits, appErr.NextRetryDelay())
		st = beat
	}
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second, 64 * time.Second,
		128 * time.Second, 256 * time.Second, MaxReportBackoff, MaxReportBackoff, MaxReportBackoff, MaxReportBackoff}
	if !slices.Equal(waits, want) {
		t.Fatalf("waits between reports %v, want %v", waits, want)
	}
	busy.err = nil
	_, beat, err := follow(t, a, in, st)
	var appErr *temporal.ApplicationError
	if !stillFollowing(err) || !errors.As(err, &appErr) || appErr.NextRetryDelay() != time.Second || beat.Failed != 0 ||
		beat.LastStatus != TrackInTransit || len(busy.reports) != 1 {
		t.Fatalf("after the deal took the news: %v, heartbeat %+v, reports %+v", err, beat, busy.reports)
	}
}
