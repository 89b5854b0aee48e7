package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/bounds"
)

// A supplier's verification runs as one SupplierVerification workflow from
// its submission to its end: staff's decision within three working days
// (reminded at one left, when due, then each working day overdue), the
// supplier's revisions, and, once approved, the badge until the first of
// its documents expires (reminded 30 days before). Every step is written
// to the verification's audit trail by RecordVerificationStep.
const (
	VerificationWorkflowName   = "SupplierVerification"
	UpdateDecideVerification   = "decide"
	UpdateResubmitVerification = "resubmit"

	// The decisions staff may take on a verification in review.
	DecisionApprove = "approve"
	DecisionRevise  = "revise"
	DecisionReject  = "reject"

	// MaxVerificationNote bounds a decision's note, in characters.
	MaxVerificationNote = 2000
	// MaxVerificationDocuments bounds the documents of one round.
	MaxVerificationDocuments = 20
)

// VerificationWorkflowID is the workflow of verification id.
func VerificationWorkflowID(id string) string { return "verification/" + id }

// RegisterVerification adds suppliers' verifications to a worker.
func RegisterVerification(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(SupplierVerification, workflow.RegisterOptions{Name: VerificationWorkflowName})
}

// VerificationPolicy is a verification's deadlines; zero fields take the
// defaults.
type VerificationPolicy struct {
	// ReviewWorkingDays is how long staff have to answer, in working days
	// (Monday to Friday, UTC): 3.
	ReviewWorkingDays int `json:"review_working_days,omitempty"`
	// MaxOverdueReminders bounds the reminders after the review is due,
	// one a working day: 5.
	MaxOverdueReminders int `json:"max_overdue_reminders,omitempty"`
	// RevisionWindow is how long the supplier has to answer a request for
	// a revision before the verification lapses (30 days), reminded
	// RevisionReminder before (7 days).
	RevisionWindow   time.Duration `json:"revision_window,omitempty"`
	RevisionReminder time.Duration `json:"revision_reminder,omitempty"`
	// ValidFor bounds a badge from its approval, even with documents
	// that expire later or never (365 days); ExpiryNotice is how long
	// before its end the supplier is reminded (30 days).
	ValidFor     time.Duration `json:"valid_for,omitempty"`
	ExpiryNotice time.Duration `json:"expiry_notice,omitempty"`
	// MaxRounds bounds the submissions of one verification: staff may
	// not ask for a revision of the last (5).
	MaxRounds int `json:"max_rounds,omitempty"`
}

// DefaultVerificationPolicy is the deadlines of a verification.
var DefaultVerificationPolicy = VerificationPolicy{
	ReviewWorkingDays: 3, MaxOverdueReminders: 5,
	RevisionWindow: 30 * 24 * time.Hour, RevisionReminder: 7 * 24 * time.Hour,
	ValidFor: 365 * 24 * time.Hour, ExpiryNotice: 30 * 24 * time.Hour,
	MaxRounds: 5,
}

// WithDefaults is p with its zero fields set to the defaults.
func (p VerificationPolicy) WithDefaults() VerificationPolicy {
	d := DefaultVerificationPolicy
	if p.ReviewWorkingDays > 0 {
		d.ReviewWorkingDays = p.ReviewWorkingDays
	}
	if p.MaxOverdueReminders > 0 {
		d.MaxOverdueReminders = p.MaxOverdueReminders
	}
	if p.RevisionWindow > 0 {
		d.RevisionWindow = p.RevisionWindow
	}
	if p.RevisionReminder > 0 {
		d.RevisionReminder = min(p.RevisionReminder, d.RevisionWindow)
	}
	if p.ValidFor > 0 {
		d.ValidFor = p.ValidFor
	}
	if p.ExpiryNotice > 0 {
		d.ExpiryNotice = p.ExpiryNotice
	}
	if p.MaxRounds > 0 {
		d.MaxRounds = min(p.MaxRounds, 20)
	}
	return d
}

// VerificationInput starts a verification: its first round, submitted.
type VerificationInput struct {
	ID          string `json:"id"`
	OrgID       string `json:"org_id"`
	SubmittedBy string `json:"submitted_by"`
	// ExpiresAt is when the first of the round's documents expires; zero
	// when none does.
	ExpiresAt time.Time          `json:"expires_at,omitzero"`
	Policy    VerificationPolicy `json:"policy,omitzero"`
}

// VerificationDecision is staff's answer to a verification in review.
type VerificationDecision struct {
	Actor    string `json:"actor"`
	Decision string `json:"decision"`
	// Note says why: required to ask for a revision or to reject, shown
	// to the supplier.
	Note string `json:"note,omitempty"`
}

// Validate checks the decision's words, not the verification's state.
func (d VerificationDecision) Validate() error {
	switch d.Decision {
	case DecisionApprove:
		return invalidInput(bounds.Text("note", d.Note, MaxVerificationNote))
	case DecisionRevise, DecisionReject:
		return invalidInput(bounds.Required("note", d.Note, MaxVerificationNote, true))
	}
	return reject(RejectInvalid, "decision is one of approve, revise or reject")
}

// VerificationResubmission is the supplier's next round after staff asked
// for a revision: its draft documents, and when the first of them expires.
type VerificationResubmission struct {
	Actor     string    `json:"actor"`
	Documents []string  `json:"documents"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// VerificationStatus is where a verification stands, as its updates
// answer it.
type VerificationStatus struct {
	Status        string    `json:"status"`
	Round         int       `json:"round"`
	ReviewDue     time.Time `json:"review_due,omitzero"`
	ReviseBy      time.Time `json:"revise_by,omitzero"`
	VerifiedUntil time.Time `json:"verified_until,omitzero"`
}

// verification is a SupplierVerification's state.
type verification struct {
	in     VerificationInput
	policy VerificationPolicy
	VerificationStatus
	// expiresAt is when the current round's first document expires.
	expiresAt time.Time
	// reviewFrom is when the current round was submitted.
	reviewFrom time.Time
	// seq numbers the steps taken, written the steps written: steps are
	// written one at a time, in order, so the trail and the status it
	// leaves follow the order they were taken in.
	seq, written int
}

// allWritten reports whether every step taken is written.
func (v *verification) allWritten() bool { return v.written == v.seq }

// SupplierVerification runs a supplier's verification from its submission
// to its end, and answers its final status.
func SupplierVerification(ctx workflow.Context, in VerificationInput) (string, error) {
	v := &verification{in: in, policy: in.Policy.WithDefaults(), expiresAt: in.ExpiresAt}
	v.Status, v.Round, v.reviewFrom = activities.VerificationInReview, 1, workflow.Now(ctx)
	v.ReviewDue = addWorkingDays(v.reviewFrom, v.policy.ReviewWorkingDays)
	// The submission is the first step, taken before any decision can
	// be (a decision sent at once may be handled as the handlers are set).
	submitted := v.take(ctx, activities.VerificationSubmitted, in.SubmittedBy, "", nil)
	if err := v.handleUpdates(ctx); err != nil {
		return "", err
	}
	if _, err := v.write(ctx, submitted); err != nil {
		return "", err
	}
	for {
		var err error
		switch v.Status {
		case activities.VerificationInReview:
			err = v.awaitReview(ctx)
		case activities.VerificationRevisionRequired:
			err = v.awaitRevision(ctx)
		case activities.VerificationIsApproved:
			err = v.holdBadge(ctx)
		default:
			err = workflow.Await(ctx, v.allWritten)
			return v.Status, err
		}
		if err != nil {
			return v.Status, err
		}
	}
}

func (v *verification) handleUpdates(ctx workflow.Context) error {
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecideVerification, v.decide, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, d VerificationDecision) error {
			if err := d.Validate(); err != nil {
				return err
			}
			return v.canDecide(ctx, d)
		},
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateResubmitVerification, v.resubmit, workflow.UpdateHandlerOptions{
		Validator: func(_ workflow.Context, r VerificationResubmission) error {
			if err := invalidInput(bounds.List("documents", len(r.Documents), MaxVerificationDocuments)); err != nil {
				return err
			}
			if len(r.Documents) == 0 {
				return reject(RejectInvalid, "documents: upload the revised documents before submitting again")
			}
			return v.canResubmit()
		},
	})
}

// canDecide refuses a decision the verification cannot take now.
func (v *verification) canDecide(ctx workflow.Context, d VerificationDecision) error {
	if v.Status != activities.VerificationInReview {
		return reject(RejectWrongStage, "the verification is %s, not in review", v.Status)
	}
	switch {
	case d.Decision == DecisionRevise && v.Round >= v.policy.MaxRounds:
		return limitReached("this is round %d of at most %d: approve or reject it", v.Round, v.policy.MaxRounds)
	case d.Decision == DecisionApprove && !v.expiresAt.IsZero() && !v.expiresAt.After(workflow.Now(ctx)):
		return reject(RejectInvalid, "a document expired on %s: ask for a revision instead", v.expiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func (v *verification) canResubmit() error {
	if v.Status != activities.VerificationRevisionRequired {
		return reject(RejectWrongStage, "the verification is %s: only one whose revision was asked for takes new documents", v.Status)
	}
	return nil
}

// decide takes staff's decision. Validators of updates that arrive
// together all run before their handlers, so the handler checks again.
func (v *verification) decide(ctx workflow.Context, d VerificationDecision) (VerificationStatus, error) {
	if err := v.canDecide(ctx, d); err != nil {
		return v.VerificationStatus, err
	}
	now := workflow.Now(ctx)
	action := ""
	v.ReviewDue = time.Time{}
	switch d.Decision {
	case DecisionApprove:
		action, v.Status = activities.VerificationApproved, activities.VerificationIsApproved
		v.VerifiedUntil = now.Add(v.policy.ValidFor)
		if !v.expiresAt.IsZero() && v.expiresAt.Before(v.VerifiedUntil) {
			v.VerifiedUntil = v.expiresAt
		}
	case DecisionRevise:
		action, v.Status = activities.VerificationRevisionRequested, activities.VerificationRevisionRequired
		v.ReviseBy = now.Add(v.policy.RevisionWindow)
	default:
		action, v.Status = activities.VerificationRejected, activities.VerificationIsRejected
	}
	_, err := v.record(ctx, action, d.Actor, d.Note, nil)
	return v.VerificationStatus, err
}

// resubmit takes the supplier's next round into review.
func (v *verification) resubmit(ctx workflow.Context, r VerificationResubmission) (VerificationStatus, error) {
	if err := v.canResubmit(); err != nil {
		return v.VerificationStatus, err
	}
	v.Status, v.Round, v.ReviseBy, v.expiresAt = activities.VerificationInReview, v.Round+1, time.Time{}, r.ExpiresAt
	v.reviewFrom = workflow.Now(ctx)
	v.ReviewDue = addWorkingDays(v.reviewFrom, v.policy.ReviewWorkingDays)
	_, err := v.record(ctx, activities.VerificationResubmitted, r.Actor, "", r.Documents)
	return v.VerificationStatus, err
}

// awaitReview waits for staff's decision on the round in review,
// reminding them a working day before it is due, when it is due, and each
// working day it is overdue, up to MaxOverdueReminders.
func (v *verification) awaitReview(ctx workflow.Context) error {
	round := v.Round
	decided := func() bool { return v.Status != activities.VerificationInReview || v.Round != round }
	reminders := []time.Time{addWorkingDays(v.reviewFrom, v.policy.ReviewWorkingDays-1), v.ReviewDue}
	for k := 1; k <= v.policy.MaxOverdueReminders; k++ {
		reminders = append(reminders, addWorkingDays(v.ReviewDue, k))
	}
	for _, at := range reminders {
		wait := at.Sub(workflow.Now(ctx))
		if wait <= 0 {
			continue
		}
		if ok, err := workflow.AwaitWithTimeout(ctx, wait, decided); err != nil || ok {
			return err
		}
		if _, err := v.record(ctx, activities.VerificationReviewReminder, "", "", nil); err != nil {
			return err
		}
	}
	return workflow.Await(ctx, decided)
}

// awaitRevision waits for the supplier's next round, reminding it
// RevisionReminder before the request lapses.
func (v *verification) awaitRevision(ctx workflow.Context) error {
	resubmitted := func() bool { return v.Status != activities.VerificationRevisionRequired }
	for i, at := range []time.Time{v.ReviseBy.Add(-v.policy.RevisionReminder), v.ReviseBy} {
		wait := at.Sub(workflow.Now(ctx))
		if wait > 0 {
			if ok, err := workflow.AwaitWithTimeout(ctx, wait, resubmitted); err != nil || ok {
				return err
			}
		}
		if i == 0 {
			if _, err := v.record(ctx, activities.VerificationRevisionReminder, "", "", nil); err != nil {
				return err
			}
			continue
		}
		v.Status, v.ReviseBy = activities.VerificationHasLapsed, time.Time{}
		_, err := v.record(ctx, activities.VerificationLapsed, "", "", nil)
		return err
	}
	return nil
}

// holdBadge keeps the approved verification until its badge ends:
// the supplier is reminded ExpiryNotice before, then the badge is taken
// away. A later verification approved meanwhile supersedes it, and it
// ends without either.
func (v *verification) holdBadge(ctx workflow.Context) error {
	if err := workflow.Await(ctx, v.allWritten); err != nil {
		return err
	}
	remind := v.VerifiedUntil.Add(-v.policy.ExpiryNotice)
	if wait := remind.Sub(workflow.Now(ctx)); wait > 0 {
		if err := sleep(ctx, wait, "until the expiry reminder"); err != nil {
			return err
		}
	}
	rec, err := v.record(ctx, activities.VerificationExpiryReminder, "", "", nil)
	if err != nil {
		return err
	}
	if rec.Superseded {
		v.Status = activities.VerificationIsSuperseded
		return nil
	}
	if wait := v.VerifiedUntil.Sub(workflow.Now(ctx)); wait > 0 {
		if err := sleep(ctx, wait, "until the badge ends"); err != nil {
			return err
		}
	}
	v.Status = activities.VerificationHasExpired
	rec, err = v.record(ctx, activities.VerificationExpired, "", "", nil)
	if err == nil && rec.Superseded {
		v.Status = activities.VerificationIsSuperseded
	}
	return err
}

// record writes a step and the status after it to the audit trail. A step
// that retrying cannot write fails the workflow, which Temporal's UI
// shows; a verification never goes on without its trail.
func (v *verification) record(ctx workflow.Context, action, actor, note string, docs []string) (activities.VerificationRecorded, error) {
	return v.write(ctx, v.take(ctx, action, actor, note, docs))
}

// take is the next step, with the status after it.
func (v *verification) take(ctx workflow.Context, action, actor, note string, docs []string) activities.VerificationStep {
	v.seq++
	return activities.VerificationStep{
		VerificationID: v.in.ID, OrgID: v.in.OrgID, Seq: v.seq, Action: action, Actor: actor, Note: note,
		Status: v.Status, Round: v.Round, ReviewDue: v.ReviewDue, ReviseBy: v.ReviseBy, VerifiedUntil: v.VerifiedUntil,
		Documents: docs, At: workflow.Now(ctx),
	}
}

// write writes step once the steps before it are written.
func (v *verification) write(ctx workflow.Context, step activities.VerificationStep) (activities.VerificationRecorded, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 50,
		},
	})
	var out activities.VerificationRecorded
	if err := workflow.Await(ctx, func() bool { return v.written == step.Seq-1 }); err != nil {
		return out, err
	}
	err := workflow.ExecuteActivity(withSummary(actx, "record %s", step.Action), acts.RecordVerificationStep, step).Get(ctx, &out)
	if err == nil {
		v.written = step.Seq
	}
	return out, err
}

// addWorkingDays is t moved on by n working days (Monday to Friday, UTC),
// at the same time of day; a t in a weekend counts from the Monday after,
// at midnight. Public holidays count as working days.
func addWorkingDays(t time.Time, n int) time.Time {
	t = t.UTC()
	for isWeekend(t) {
		t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
	}
	for n > 0 {
		t = t.AddDate(0, 0, 1)
		if !isWeekend(t) {
			n--
		}
	}
	return t
}

func isWeekend(t time.Time) bool { return t.Weekday() == time.Saturday || t.Weekday() == time.Sunday }
