package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/temporal"
)

// The steps of a supplier's verification (workflows.SupplierVerification),
// as its audit trail names them.
const (
	VerificationSubmitted         = "submitted"
	VerificationReviewReminder    = "review_reminder"
	VerificationRevisionRequested = "revision_requested"
	VerificationResubmitted       = "resubmitted"
	VerificationRevisionReminder  = "revision_reminder"
	VerificationApproved          = "approved"
	VerificationRejected          = "rejected"
	VerificationLapsed            = "lapsed"
	VerificationExpiryReminder    = "expiry_reminder"
	VerificationExpired           = "expired"
)

// The statuses of a verification.
const (
	VerificationInReview         = "in_review"
	VerificationRevisionRequired = "revision_requested"
	VerificationIsApproved       = "approved"
	VerificationIsRejected       = "rejected"
	VerificationHasLapsed        = "lapsed"
	VerificationHasExpired       = "expired"
	VerificationIsSuperseded     = "superseded"
)

// VerificationStep is one step of a verification, as its workflow
// records it: what happened, who did it, and the verification's status
// and deadlines after it. Seq numbers the steps: a retried step is
// written once.
type VerificationStep struct {
	VerificationID string `json:"verification_id"`
	OrgID          string `json:"org_id"`
	Seq            int    `json:"seq"`
	Action         string `json:"action"`
	// Actor is the user who acted; "" for the workflow's own deadlines.
	Actor  string `json:"actor,omitempty"`
	Note   string `json:"note,omitempty"`
	Status string `json:"status"`
	Round  int    `json:"round"`
	// ReviewDue is when staff must have answered (in review); ReviseBy
	// when a revision request lapses; VerifiedUntil when the badge ends.
	ReviewDue     time.Time `json:"review_due,omitzero"`
	ReviseBy      time.Time `json:"revise_by,omitzero"`
	VerifiedUntil time.Time `json:"verified_until,omitzero"`
	// Documents are the supplier's draft documents a resubmission takes
	// into its round.
	Documents []string  `json:"documents,omitempty"`
	At        time.Time `json:"at"`
}

// VerificationRecorded is what recording a step found: Superseded when a
// later verification of the supplier was approved since, so this one's
// badge is no longer its to remind of or take away.
type VerificationRecorded struct {
	Superseded bool `json:"superseded,omitempty"`
}

// Verifications keeps suppliers' verifications: each step, in one
// transaction with the verification's status, the supplier's badge and
// the notices the step sends.
type Verifications interface {
	Record(ctx context.Context, step VerificationStep) (VerificationRecorded, error)
}

// RecordVerificationStep writes a step of a supplier's verification.
func (a *Activities) RecordVerificationStep(ctx context.Context, step VerificationStep) (VerificationRecorded, error) {
	if a.Verifications == nil {
		return VerificationRecorded{}, temporal.NewNonRetryableApplicationError("this worker keeps no verifications", "NoVerifications", nil)
	}
	return a.Verifications.Record(ctx, step)
}
