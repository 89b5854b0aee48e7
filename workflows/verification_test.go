package workflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tradeloop/tradeloop/activities"
)

// trail records a verification's steps as the workflow writes them; the
// first write of each fails once, so every step is retried.
type trail struct {
	mu         sync.Mutex
	steps      []activities.VerificationStep
	tried      map[int]bool
	superseded bool
}

func (tr *trail) Record(_ context.Context, s activities.VerificationStep) (activities.VerificationRecorded, error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if !tr.tried[s.Seq] {
		tr.tried[s.Seq] = true
		return activities.VerificationRecorded{}, errors.New("the database went away")
	}
	if s.Action == activities.VerificationExpiryReminder && tr.superseded {
		return activities.VerificationRecorded{Superseded: true}, nil
	}
	tr.steps = append(tr.steps, s)
	return activities.VerificationRecorded{}, nil
}

// at is one step as the test expects it: what, and when.
type at struct {
	Action string
	When   time.Time
	Status string
}

func (tr *trail) seen() []at {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := make([]at, len(tr.steps))
	for i, s := range tr.steps {
		out[i] = at{s.Action, s.At.UTC(), s.Status}
	}
	return out
}

// verifying runs one verification submitted at start (a Thursday,
// 10:00 UTC, unless a test says otherwise) with its first document
// expiring at expires.
type verifying struct {
	t     *testing.T
	env   *testsuite.TestWorkflowEnvironment
	trail *trail
	start time.Time
	errs  map[string]error
	out   map[string]VerificationStatus
}

var thursday = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func newVerifying(t *testing.T) *verifying {
	var s testsuite.WorkflowTestSuite
	env := newTestEnv(&s)
	env.SetStartTime(thursday)
	RegisterVerification(env)
	tr := &trail{tried: map[int]bool{}}
	env.RegisterActivity(&activities.Activities{Verifications: tr})
	return &verifying{t: t, env: env, trail: tr, start: thursday, errs: map[string]error{}, out: map[string]VerificationStatus{}}
}

func (v *verifying) update(after time.Duration, label, name string, arg any) {
	v.env.RegisterDelayedCallback(func() {
		v.env.UpdateWorkflow(name, label, &testsuite.TestUpdateCallback{
			OnReject: func(err error) { v.errs[label] = err },
			OnAccept: func() {},
			OnComplete: func(r any, err error) {
				if err != nil {
					v.errs[label] = err
					return
				}
				v.out[label] = r.(VerificationStatus)
			},
		}, arg)
	}, after)
}

func (v *verifying) decide(after time.Duration, label, decision, note string) {
	v.update(after, label, UpdateDecideVerification, VerificationDecision{Actor: "u-staff", Decision: decision, Note: note})
}

func (v *verifying) run(expires time.Time) string {
	v.env.ExecuteWorkflow(VerificationWorkflowName, VerificationInput{ID: "v-1", OrgID: "sup-a", SubmittedBy: "u-a", ExpiresAt: expires})
	require.True(v.t, v.env.IsWorkflowCompleted())
	require.NoError(v.t, v.env.GetWorkflowError())
	var status string
	require.NoError(v.t, v.env.GetWorkflowResult(&status))
	return status
}

func dayAt(d int, hour int) time.Time {
	return thursday.AddDate(0, 0, d).Add(time.Duration(hour-10) * time.Hour)
}

// Submitted on a Thursday, due three working days later (Tuesday): staff
// are reminded on Monday (one working day left), on Tuesday (due) and on
// Wednesday (overdue), approve on Wednesday afternoon; the badge lasts
// until the first document expires, the supplier reminded 30 days before,
// and it ends then. Each step was retried after a failed write and
// recorded once.
func TestAVerificationFromSubmissionToBadgeToExpiry(t *testing.T) {
	v := newVerifying(t)
	expires := dayAt(90, 0)
	approveAt := dayAt(6, 15).Sub(thursday) // Wednesday 15:00
	v.update(time.Hour, "early resubmission", UpdateResubmitVerification, VerificationResubmission{Actor: "u-a", Documents: []string{"d"}})
	v.decide(2*time.Hour, "no decision", "maybe", "")
	v.decide(3*time.Hour, "revise without a note", DecisionRevise, "  ")
	v.decide(4*time.Hour, "control character", DecisionReject, "no\x00")
	v.decide(approveAt, "approve", DecisionApprove, "")
	v.decide(approveAt+time.Hour, "approve again", DecisionApprove, "")

	require.Equal(t, activities.VerificationHasExpired, v.run(expires))
	require.Equal(t, []at{
		{activities.VerificationSubmitted, thursday, "in_review"},
		{activities.VerificationReviewReminder, dayAt(4, 10), "in_review"}, // Monday: one working day left
		{activities.VerificationReviewReminder, dayAt(5, 10), "in_review"}, // Tuesday: due
		{activities.VerificationReviewReminder, dayAt(6, 10), "in_review"}, // Wednesday: overdue
		{activities.VerificationApproved, dayAt(6, 15), "approved"},
		{activities.VerificationExpiryReminder, expires.AddDate(0, 0, -30), "approved"},
		{activities.VerificationExpired, expires, "expired"},
	}, v.trail.seen())
	require.Equal(t, dayAt(5, 10), v.trail.steps[0].ReviewDue)
	require.Equal(t, expires, v.out["approve"].VerifiedUntil)
	for label, code := range map[string]string{
		"early resubmission": RejectWrongStage, "no decision": RejectInvalid, "revise without a note": RejectInvalid,
		"control character": RejectInvalid, "approve again": RejectWrongStage,
	} {
		require.Equal(t, code, RejectionCode(v.errs[label]), label)
	}
}

// Staff ask for a revision; the supplier resubmits; staff approve. A badge
// whose documents never expire lasts a year from its approval. Revisions
// are bounded: the fifth round cannot be sent back.
func TestARevisionIsResubmittedAndApproved(t *testing.T) {
	v := newVerifying(t)
	v.decide(time.Hour, "revise", DecisionRevise, "The licence is cut off at the bottom.")
	v.update(2*time.Hour, "resubmit nothing", UpdateResubmitVerification, VerificationResubmission{Actor: "u-a"})
	v.update(3*time.Hour, "resubmit", UpdateResubmitVerification, VerificationResubmission{Actor: "u-a", Documents: []string{"d-2", "d-3"}})
	v.decide(4*time.Hour, "approve", DecisionApprove, "Thanks.")

	require.Equal(t, activities.VerificationHasExpired, v.run(time.Time{}))
	seen := v.trail.seen()
	require.Equal(t, []string{"submitted", "revision_requested", "resubmitted", "approved", "expiry_reminder", "expired"}, actions(seen))
	require.Equal(t, thursday.Add(time.Hour).AddDate(0, 0, 30), v.out["revise"].ReviseBy)
	require.Equal(t, 2, v.out["resubmit"].Round)
	require.Equal(t, []string{"d-2", "d-3"}, v.trail.steps[2].Documents)
	require.Equal(t, dayAt(5, 13), v.out["resubmit"].ReviewDue) // resubmitted Thursday 13:00: due Tuesday 13:00
	require.Equal(t, thursday.Add(4*time.Hour).AddDate(1, 0, 0), v.out["approve"].VerifiedUntil)
	require.Equal(t, RejectInvalid, RejectionCode(v.errs["resubmit nothing"]))
	require.Equal(t, "The licence is cut off at the bottom.", v.trail.steps[1].Note)

	bounded := newVerifying(t)
	for r := range 4 {
		base := time.Duration(r) * 10 * time.Hour
		bounded.decide(base+time.Hour, fmt.Sprint("revise ", r), DecisionRevise, "again")
		bounded.update(base+2*time.Hour, fmt.Sprint("resubmit ", r), UpdateResubmitVerification, VerificationResubmission{Actor: "u-a", Documents: []string{"d"}})
	}
	bounded.decide(41*time.Hour, "fifth revise", DecisionRevise, "again")
	bounded.decide(42*time.Hour, "reject", DecisionReject, "Documents do not match the company.")
	require.Equal(t, activities.VerificationIsRejected, bounded.run(time.Time{}))
	require.Len(t, bounded.errs, 1)
	require.Equal(t, RejectLimit, RejectionCode(bounded.errs["fifth revise"]))
	require.Equal(t, 5, bounded.out["reject"].Round)
}

// A revision nobody answers is reminded a week before it lapses, and
// lapses after 30 days.
func TestAnUnansweredRevisionLapses(t *testing.T) {
	v := newVerifying(t)
	v.decide(time.Hour, "revise", DecisionRevise, "Add a factory photo.")
	require.Equal(t, activities.VerificationHasLapsed, v.run(time.Time{}))
	asked := thursday.Add(time.Hour)
	require.Equal(t, []at{
		{activities.VerificationSubmitted, thursday, "in_review"},
		{activities.VerificationRevisionRequested, asked, "revision_requested"},
		{activities.VerificationRevisionReminder, asked.AddDate(0, 0, 23), "revision_requested"},
		{activities.VerificationLapsed, asked.AddDate(0, 0, 30), "lapsed"},
	}, v.trail.seen())
}

// A document that expired while in review cannot be approved; a badge
// within 30 days of its end is reminded of at once; a verification a later
// one superseded ends at its reminder without taking the badge away.
func TestExpiredDocumentsAndSupersededBadges(t *testing.T) {
	v := newVerifying(t)
	v.decide(48*time.Hour, "approve expired", DecisionApprove, "")
	v.decide(49*time.Hour, "reject", DecisionReject, "Expired licence.")
	require.Equal(t, activities.VerificationIsRejected, v.run(thursday.Add(24*time.Hour)))
	require.Equal(t, RejectInvalid, RejectionCode(v.errs["approve expired"]))

	soon := newVerifying(t)
	soon.decide(time.Hour, "approve", DecisionApprove, "")
	require.Equal(t, activities.VerificationHasExpired, soon.run(thursday.AddDate(0, 0, 10)))
	require.Equal(t, []at{
		{activities.VerificationSubmitted, thursday, "in_review"},
		{activities.VerificationApproved, thursday.Add(time.Hour), "approved"},
		// At once: after the approval's write, retried a second later.
		{activities.VerificationExpiryReminder, thursday.Add(time.Hour + time.Second), "approved"},
		{activities.VerificationExpired, thursday.AddDate(0, 0, 10), "expired"},
	}, soon.trail.seen())

	old := newVerifying(t)
	old.trail.superseded = true
	old.decide(time.Hour, "approve", DecisionApprove, "")
	require.Equal(t, activities.VerificationIsSuperseded, old.run(time.Time{}))
	require.Equal(t, []string{"submitted", "approved"}, actions(old.trail.seen()))
}

func actions(steps []at) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.Action
	}
	return out
}

func TestAddWorkingDays(t *testing.T) {
	fri := time.Date(2026, 12, 4, 16, 30, 0, 0, time.UTC)
	sat := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{thursday, 3, time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)}, // Thu → Tue
		{fri, 1, time.Date(2026, 12, 7, 16, 30, 0, 0, time.UTC)},     // Fri → Mon
		{sat, 3, time.Date(2026, 12, 10, 0, 0, 0, 0, time.UTC)},      // Sat counts from Mon 00:00 → Thu
		{sat, 0, time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)},
		{thursday, 0, thursday},
		{time.Date(2026, 12, 3, 18, 0, 0, 0, time.FixedZone("CST", 8*3600)), 1, time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)},
	} {
		require.Equal(t, c.want, addWorkingDays(c.from, c.n), "%s + %d", c.from, c.n)
	}
}

// A decision sent as the verification starts comes after its submission
// in the trail, and the status it leaves is the decision's.
func TestADecisionAtOnceFollowsTheSubmission(t *testing.T) {
	v := newVerifying(t)
	v.decide(0, "reject", DecisionReject, "Not a manufacturer.")
	require.Equal(t, activities.VerificationIsRejected, v.run(time.Time{}))
	require.Equal(t, []at{
		{activities.VerificationSubmitted, thursday, "in_review"},
		{activities.VerificationRejected, thursday, "rejected"},
	}, v.trail.seen())
}
