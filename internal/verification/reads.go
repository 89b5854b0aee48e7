package verification

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/db/store"
)

// Verification is a verification as its supplier and staff see it: where
// it stands, its documents by round, and its audit trail.
type Verification struct {
	ID            uuid.UUID  `json:"id"`
	SupplierID    uuid.UUID  `json:"supplier_org_id"`
	SupplierName  string     `json:"supplier_name,omitempty"`
	Status        string     `json:"status"`
	Round         int        `json:"round"`
	SubmittedAt   time.Time  `json:"submitted_at"`
	ReviewDue     *time.Time `json:"review_due_at,omitempty"`
	ReviseBy      *time.Time `json:"revise_by,omitempty"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	VerifiedUntil *time.Time `json:"verified_until,omitempty"`
	Documents     []Document `json:"documents,omitempty"`
	Trail         []Step     `json:"trail,omitempty"`
}

// Page is a supplier's verification page: its badge, the documents it
// uploaded and has not submitted, its verifications (newest first) and the
// latest one with its documents and trail.
type Page struct {
	VerifiedUntil *time.Time     `json:"verified_until,omitempty"`
	Drafts        []Document     `json:"drafts"`
	Verifications []Verification `json:"verifications"`
	Current       *Verification  `json:"current,omitempty"`
}

// Page is supplier org's verification page; verifiedUntil is its badge's
// end (the marketplace's), nil without one.
func (s *Service) Page(ctx context.Context, org uuid.UUID, verifiedUntil *time.Time) (Page, error) {
	out := Page{VerifiedUntil: verifiedUntil}
	var err error
	if out.Drafts, err = s.Drafts(ctx, org); err != nil {
		return out, err
	}
	if out.Verifications, err = s.ForSupplier(ctx, org); err != nil {
		return out, err
	}
	if len(out.Verifications) > 0 {
		cur, err := s.Get(ctx, out.Verifications[0].ID)
		if err != nil {
			return out, err
		}
		out.Current = &cur
	}
	return out, nil
}

// Step is one step of the audit trail.
type Step struct {
	Seq    int       `json:"seq"`
	Action string    `json:"action"`
	By     string    `json:"by,omitempty"` // the user's e-mail; "" for the workflow's deadlines
	Note   string    `json:"note,omitempty"`
	At     time.Time `json:"at"`
}

func verificationOf(v store.Verification) Verification {
	return Verification{ID: v.ID, SupplierID: v.SupplierOrgID, Status: v.Status, Round: int(v.Round), SubmittedAt: v.SubmittedAt,
		ReviewDue: v.ReviewDueAt, ReviseBy: v.ReviseBy, DecidedAt: v.DecidedAt, VerifiedUntil: v.VerifiedUntil}
}

// Get is verification id with its documents and trail; ErrNotFound for
// none.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Verification, error) {
	q := store.New(s.db)
	row, err := q.GetVerification(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Verification{}, ErrNotFound
	}
	if err != nil {
		return Verification{}, fmt.Errorf("get verification %s: %w", id, err)
	}
	v := verificationOf(row)
	docs, err := q.VerificationDocuments(ctx, pgUUID(id))
	if err != nil {
		return Verification{}, fmt.Errorf("documents of verification %s: %w", id, err)
	}
	v.Documents = documentsOf(docs)
	events, err := q.VerificationEvents(ctx, id)
	if err != nil {
		return Verification{}, fmt.Errorf("trail of verification %s: %w", id, err)
	}
	v.Trail = make([]Step, len(events))
	for i, e := range events {
		v.Trail[i] = Step{Seq: int(e.Seq), Action: e.Action, By: e.ActorEmail, Note: e.Note, At: e.At}
	}
	return v, nil
}

// ForSupplier lists supplier org's verifications, newest first (their
// documents and trails in Get).
func (s *Service) ForSupplier(ctx context.Context, org uuid.UUID) ([]Verification, error) {
	rows, err := store.New(s.db).SupplierVerifications(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("verifications of %s: %w", org, err)
	}
	out := make([]Verification, len(rows))
	for i, r := range rows {
		out[i] = verificationOf(r)
	}
	return out, nil
}

// ToReview lists the verifications staff have to answer, the most
// urgent first.
func (s *Service) ToReview(ctx context.Context) ([]Verification, error) {
	rows, err := store.New(s.db).VerificationsToReview(ctx)
	if err != nil {
		return nil, fmt.Errorf("verifications to review: %w", err)
	}
	out := make([]Verification, len(rows))
	for i, r := range rows {
		out[i] = verificationOf(store.Verification{ID: r.ID, SupplierOrgID: r.SupplierOrgID, Status: r.Status, Round: r.Round,
			SubmittedAt: r.SubmittedAt, ReviewDueAt: r.ReviewDueAt, ReviseBy: r.ReviseBy, DecidedAt: r.DecidedAt, VerifiedUntil: r.VerifiedUntil})
		out[i].SupplierName = r.SupplierName
	}
	return out, nil
}
