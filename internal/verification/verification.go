// Package verification keeps suppliers' verifications: the documents a
// supplier uploads (a business licence, certificates with their expiry,
// factory photos or video), its submissions, each step of their review as
// the SupplierVerification workflow records it (the audit trail), and the
// badge an approval gives until the first document expires. The workflow
// (workflows/verification.go) holds the deadlines and the decisions; this
// package holds the rows, the files' bytes (through internal/media) and who
// may see them.
package verification

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/media"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// Bounds on what a supplier uploads.
const (
	// MaxDrafts is how many documents a supplier may have uploaded and
	// not yet submitted.
	MaxDrafts = 20
	// MaxTitle is the longest certificate title ("ISO 9001"), in
	// characters.
	MaxTitle = 100
	// MaxValidity is how far ahead a document's expiry may be.
	MaxValidity = 20 * 365 * 24 * time.Hour
)

// The notices a verification sends: to the platform's staff
// (submitted, review due) and to the supplier (the rest).
const (
	NoticeSubmitted = "verification_submitted"
	NoticeReviewDue = "verification_review_due"
	NoticeRevision  = "verification_revision"
	NoticeReviseDue = "verification_revision_due"
	NoticeApproved  = "verification_approved"
	NoticeRejected  = "verification_rejected"
	NoticeLapsed    = "verification_lapsed"
	NoticeExpiring  = "verification_expiring"
	NoticeExpired   = "verification_expired"
)

// staffDesk is the outbox's address of the platform's finance and admin
// users.
const staffDesk = "platform"

var (
	// ErrNotFound is a verification or document that does not exist or is
	// not the caller's to see.
	ErrNotFound = errors.New("verification: not found")
	// ErrInReview is a submission while one is in review already.
	ErrInReview = errors.New("a verification of this supplier is in review: wait for its decision")
)

// Service keeps verifications in db, their documents' bytes in files.
type Service struct {
	db    *pgxpool.Pool
	files *media.Service
	now   func() time.Time
}

var _ activities.Verifications = (*Service)(nil)

// New keeps verifications in db and their documents' bytes through files
// (nil: a server without a media bucket, which keeps no documents).
func New(db *pgxpool.Pool, files *media.Service) *Service {
	return &Service{db: db, files: files, now: time.Now}
}

// ErrNoFiles is an upload to a server without a media bucket.
var ErrNoFiles = errors.New("documents are not stored on this server (MEDIA_BUCKET_URL is unset)")

// Document is one of a supplier's verification documents.
type Document struct {
	ID          uuid.UUID  `json:"id"`
	Kind        media.Kind `json:"kind"`
	Title       string     `json:"title,omitempty"`
	Name        string     `json:"name"`
	ContentType string     `json:"content_type"`
	Size        int64      `json:"size"`
	SHA256      string     `json:"sha256"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	// Round is the submission that took it; 0 while in the draft.
	Round     int       `json:"round,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	org       uuid.UUID
	thumbnail bool
}

func documentOf(r store.VerificationDocument) Document {
	d := Document{ID: r.ID, Kind: media.Kind(r.Kind), Title: r.Title, Name: r.Name, ContentType: r.ContentType, Size: r.SizeBytes,
		SHA256: r.Sha256, ExpiresAt: r.ExpiresAt, CreatedAt: r.CreatedAt, org: r.SupplierOrgID, thumbnail: r.HasThumbnail}
	if r.Round != nil {
		d.Round = int(*r.Round)
	}
	return d
}

// file is the document as internal/media serves it.
func (d Document) file() media.Item {
	return media.Item{ID: d.ID, SupplierID: d.org, Kind: d.Kind, Name: d.Name, ContentType: d.ContentType, Size: d.Size,
		SHA256: d.SHA256, HasThumbnail: d.thumbnail, CreatedAt: d.CreatedAt}
}

// Upload is a document a supplier sends for its verification.
type Upload struct {
	media.Upload
	// Title names a certificate ("ISO 9001"); required for one.
	Title string
	// ExpiresAt is when it stops being valid: required for a
	// certificate, optional for a business licence, none for photos and
	// videos.
	ExpiresAt *time.Time
}

// parseKind is s as a document kind, or a refusal.
func parseKind(s string) (media.Kind, error) {
	if k := media.Kind(s); slices.Contains(media.DocumentKinds, k) {
		return k, nil
	}
	names := make([]string, len(media.DocumentKinds))
	for i, k := range media.DocumentKinds {
		names[i] = string(k)
	}
	return "", &bounds.Error{Field: "kind", Problem: "is one of " + strings.Join(names, ", ")}
}

// check refuses what the upload says of itself that no document of its
// kind may say.
func (s *Service) check(kind media.Kind, in Upload) error {
	title := strings.TrimSpace(in.Title)
	switch kind {
	case media.KindCertificate:
		if err := bounds.Required("title", in.Title, MaxTitle, false); err != nil {
			return err
		}
		if in.ExpiresAt == nil {
			return &bounds.Error{Field: "expires_at", Problem: "is required for a certificate"}
		}
	case media.KindBusinessLicence:
		if title != "" {
			return &bounds.Error{Field: "title", Problem: "is for certificates only"}
		}
	default:
		if title != "" {
			return &bounds.Error{Field: "title", Problem: "is for certificates only"}
		}
		if in.ExpiresAt != nil {
			return &bounds.Error{Field: "expires_at", Problem: "is for licences and certificates only"}
		}
	}
	if in.ExpiresAt != nil {
		now := s.now()
		switch {
		case !in.ExpiresAt.After(now):
			return &bounds.Error{Field: "expires_at", Problem: "is past: upload a document that is still valid"}
		case in.ExpiresAt.After(now.Add(MaxValidity)):
			return &bounds.Error{Field: "expires_at", Problem: "is more than 20 years ahead"}
		}
	}
	return nil
}

// Upload stores a document in supplier org's draft: checked, its bytes
// stored, then its row, under the supplier's lock that keeps the draft
// within MaxDrafts. A refused upload (*bounds.Error, *media.Refusal)
// stores nothing.
func (s *Service) Upload(ctx context.Context, org uuid.UUID, in Upload) (Document, error) {
	if s.files == nil {
		return Document{}, ErrNoFiles
	}
	kind, err := parseKind(in.Kind)
	if err != nil {
		return Document{}, err
	}
	if err := s.check(kind, in); err != nil {
		return Document{}, err
	}
	if n, err := store.New(s.db).CountDraftDocuments(ctx, org); err != nil {
		return Document{}, fmt.Errorf("count the draft documents of %s: %w", org, err)
	} else if n >= MaxDrafts {
		return Document{}, tooMany()
	}
	item, err := s.files.StoreFile(ctx, kind, in.Upload)
	if err != nil {
		return Document{}, err
	}
	var doc Document
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.LockSupplierVerification(ctx, org.String()); err != nil {
			return fmt.Errorf("lock the verification of %s: %w", org, err)
		}
		if n, err := q.CountDraftDocuments(ctx, org); err != nil {
			return fmt.Errorf("count the draft documents of %s: %w", org, err)
		} else if n >= MaxDrafts {
			return tooMany()
		}
		row, err := q.InsertVerificationDocument(ctx, store.InsertVerificationDocumentParams{
			ID: item.ID, SupplierOrgID: org, Kind: string(kind), Title: strings.TrimSpace(in.Title), Name: item.Name,
			ContentType: item.ContentType, SizeBytes: item.Size, Sha256: item.SHA256, HasThumbnail: item.HasThumbnail, ExpiresAt: in.ExpiresAt,
		})
		if err != nil {
			return fmt.Errorf("insert document %s: %w", item.ID, err)
		}
		doc = documentOf(row)
		return nil
	})
	if err != nil {
		s.files.DeleteBlobs(context.WithoutCancel(ctx), []media.Item{item})
		return Document{}, err
	}
	return doc, nil
}

func tooMany() error {
	return &bounds.Error{Field: "file", Problem: fmt.Sprintf("would make more than %d documents waiting to be submitted: delete one first", MaxDrafts)}
}

// Drafts are the documents supplier org uploaded and has not submitted.
func (s *Service) Drafts(ctx context.Context, org uuid.UUID) ([]Document, error) {
	rows, err := store.New(s.db).DraftDocuments(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("draft documents of %s: %w", org, err)
	}
	return documentsOf(rows), nil
}

func documentsOf(rows []store.VerificationDocument) []Document {
	docs := make([]Document, len(rows))
	for i, r := range rows {
		docs[i] = documentOf(r)
	}
	return docs
}

// DeleteDraft removes a document of org's draft, and its bytes; a
// submitted one, or another's, is ErrNotFound.
func (s *Service) DeleteDraft(ctx context.Context, org, id uuid.UUID) error {
	row, err := store.New(s.db).DeleteDraftDocument(ctx, store.DeleteDraftDocumentParams{ID: id, SupplierOrgID: org})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete document %s: %w", id, err)
	}
	if s.files != nil {
		s.files.DeleteBlobs(ctx, []media.Item{documentOf(row).file()})
	}
	return nil
}

// Document is document id with the supplier it belongs to, for the
// caller to decide who may see it; ErrNotFound for none.
func (s *Service) Document(ctx context.Context, id uuid.UUID) (Document, uuid.UUID, error) {
	row, err := store.New(s.db).GetVerificationDocument(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Document{}, uuid.Nil, ErrNotFound
	}
	if err != nil {
		return Document{}, uuid.Nil, fmt.Errorf("get document %s: %w", id, err)
	}
	return documentOf(row), row.SupplierOrgID, nil
}

// Serve writes document d's file (its thumbnail when thumb) as
// media.Service.ServeItem does; the caller decided that the reader may
// see it.
func (s *Service) Serve(w http.ResponseWriter, r *http.Request, d Document, thumb bool) error {
	if s.files == nil {
		return ErrNoFiles
	}
	if thumb && !d.thumbnail {
		return ErrNotFound
	}
	return s.files.ServeItem(w, r, d.file(), thumb)
}

// Submission is what a supplier's submission takes: a new verification,
// or the next round of the one whose revision was asked for.
type Submission struct {
	VerificationID uuid.UUID
	Resubmission   bool
	Documents      []string
	// ExpiresAt is when the first of the documents expires; zero for
	// none.
	ExpiresAt time.Time
}

// Submit takes supplier org's draft into a verification. A first
// submission (or one after an earlier verification ended) makes the
// verification, in review, with the draft as its first round; the caller
// starts its workflow, or Withdraws it if it cannot. After a request for
// a revision, the submission is the next round, which the workflow takes
// (workflows.VerificationResubmission). The draft must hold a business
// licence and a factory photo or video, none expired.
func (s *Service) Submit(ctx context.Context, org, user uuid.UUID) (Submission, error) {
	var sub Submission
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.LockSupplierVerification(ctx, org.String()); err != nil {
			return fmt.Errorf("lock the verification of %s: %w", org, err)
		}
		open, err := q.OpenVerification(ctx, org)
		switch {
		case err == nil && open.Status == activities.VerificationInReview:
			return ErrInReview
		case err != nil && !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("open verification of %s: %w", org, err)
		}
		rows, err := q.DraftDocuments(ctx, org)
		if err != nil {
			return fmt.Errorf("draft documents of %s: %w", org, err)
		}
		drafts := documentsOf(rows)
		if open.ID != uuid.Nil {
			// The next round: what changed, judged with the rounds
			// before it.
			if len(drafts) == 0 {
				return &bounds.Error{Field: "documents", Problem: "none uploaded: upload the revised documents first"}
			}
			earlier, err := q.VerificationDocuments(ctx, pgUUID(open.ID))
			if err != nil {
				return fmt.Errorf("documents of verification %s: %w", open.ID, err)
			}
			if sub, err = s.complete(append(documentsOf(earlier), drafts...)); err != nil {
				return err
			}
			sub.Documents = ids(drafts)
			sub.VerificationID, sub.Resubmission = open.ID, true
			return nil
		}
		if sub, err = s.complete(drafts); err != nil {
			return err
		}
		sub.VerificationID = uuid.New()
		if err := q.InsertVerification(ctx, store.InsertVerificationParams{ID: sub.VerificationID, SupplierOrgID: org, SubmittedBy: user}); err != nil {
			return fmt.Errorf("insert the verification of %s: %w", org, err)
		}
		_, err = q.AttachDocuments(ctx, store.AttachDocumentsParams{VerificationID: pgUUID(sub.VerificationID), Round: ptr(int32(1)), OrgID: org, Ids: uuids(sub.Documents)})
		if err != nil {
			return fmt.Errorf("attach the documents of %s: %w", org, err)
		}
		return nil
	})
	return sub, err
}

// complete checks that docs make a submission and says when the first of
// them expires.
func (s *Service) complete(docs []Document) (Submission, error) {
	var sub Submission
	has := map[media.Kind]bool{}
	now := s.now()
	sub.Documents = ids(docs)
	for _, d := range docs {
		has[d.Kind] = true
		if d.ExpiresAt == nil {
			continue
		}
		if !d.ExpiresAt.After(now) {
			return Submission{}, &bounds.Error{Field: "documents", Problem: fmt.Sprintf("%q expired: delete it and upload a valid one", d.Name)}
		}
		if sub.ExpiresAt.IsZero() || d.ExpiresAt.Before(sub.ExpiresAt) {
			sub.ExpiresAt = *d.ExpiresAt
		}
	}
	switch {
	case len(docs) == 0:
		return Submission{}, &bounds.Error{Field: "documents", Problem: "none uploaded: upload a business licence and factory photos or a video first"}
	case !has[media.KindBusinessLicence]:
		return Submission{}, &bounds.Error{Field: "documents", Problem: "need a business licence"}
	case !has[media.KindFactoryPhoto] && !has[media.KindFactoryVideo]:
		return Submission{}, &bounds.Error{Field: "documents", Problem: "need a factory photo or video"}
	}
	return sub, nil
}

// Withdraw undoes a first submission whose workflow did not start: the
// verification goes, its documents back to the draft.
func (s *Service) Withdraw(ctx context.Context, org, id uuid.UUID) error {
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.DetachDocuments(ctx, store.DetachDocumentsParams{VerificationID: pgUUID(id), SupplierOrgID: org}); err != nil {
			return err
		}
		return q.DeleteVerification(ctx, store.DeleteVerificationParams{ID: id, SupplierOrgID: org})
	})
	if err != nil {
		return fmt.Errorf("withdraw verification %s: %w", id, err)
	}
	return nil
}

// Record implements activities.Verifications: the step in the audit
// trail, the verification's status after it, the supplier's badge, and
// the step's notice, in one transaction; a repeat of a step is a no-op.
// A reminder or an expiry of a verification a later one superseded is
// recorded as superseded, and nothing else happens.
func (s *Service) Record(ctx context.Context, step activities.VerificationStep) (activities.VerificationRecorded, error) {
	id, err := uuid.Parse(step.VerificationID)
	if err != nil {
		return activities.VerificationRecorded{}, fmt.Errorf("verification %q: %w", step.VerificationID, err)
	}
	org, err := uuid.Parse(step.OrgID)
	if err != nil {
		return activities.VerificationRecorded{}, fmt.Errorf("supplier %q: %w", step.OrgID, err)
	}
	var out activities.VerificationRecorded
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		v, err := q.LockVerification(ctx, id)
		if err != nil {
			return fmt.Errorf("lock verification %s: %w", id, err)
		}
		if step.Action == activities.VerificationExpiryReminder || step.Action == activities.VerificationExpired {
			badge, err := q.BadgeVerification(ctx, org)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("badge of %s: %w", org, err)
			}
			if v.Status == activities.VerificationIsSuperseded || badge != pgUUID(id) {
				out.Superseded = true
				step.Action, step.Status = "superseded", activities.VerificationIsSuperseded
			}
		}
		n, err := q.InsertVerificationEvent(ctx, store.InsertVerificationEventParams{
			VerificationID: id, Seq: int32(step.Seq), Action: step.Action, ActorUserID: store.OptionalUUID(step.Actor),
			Note: step.Note, At: step.At,
		})
		if err != nil {
			return fmt.Errorf("record step %d of verification %s: %w", step.Seq, id, err)
		}
		if n == 0 {
			return nil // recorded before
		}
		return s.apply(ctx, q, org, step)
	})
	return out, err
}

// apply makes a newly recorded step's changes.
func (s *Service) apply(ctx context.Context, q *store.Queries, org uuid.UUID, step activities.VerificationStep) error {
	id := uuid.MustParse(step.VerificationID)
	var decided *time.Time
	switch step.Action {
	case activities.VerificationApproved, activities.VerificationRejected, activities.VerificationRevisionRequested:
		decided = &step.At
	}
	if err := q.UpdateVerification(ctx, store.UpdateVerificationParams{
		ID: id, Status: step.Status, Round: int32(step.Round), ReviewDueAt: store.OptionalTime(step.ReviewDue), ReviseBy: store.OptionalTime(step.ReviseBy),
		DecidedAt: decided, VerifiedUntil: store.OptionalTime(step.VerifiedUntil), At: step.At,
	}); err != nil {
		return fmt.Errorf("update verification %s: %w", id, err)
	}
	switch step.Action {
	case activities.VerificationResubmitted:
		ids, err := parseIDs(step.Documents)
		if err != nil {
			return err
		}
		if _, err := q.AttachDocuments(ctx, store.AttachDocumentsParams{VerificationID: pgUUID(id), Round: ptr(int32(step.Round)), OrgID: org, Ids: ids}); err != nil {
			return fmt.Errorf("attach round %d of verification %s: %w", step.Round, id, err)
		}
	case activities.VerificationApproved:
		if err := q.GrantBadge(ctx, store.GrantBadgeParams{OrgID: org, VerifiedUntil: &step.VerifiedUntil, VerificationID: id, At: step.At}); err != nil {
			return fmt.Errorf("badge of %s: %w", org, err)
		}
	case activities.VerificationExpired:
		if err := q.RevokeBadge(ctx, store.RevokeBadgeParams{OrgID: org, VerificationID: pgUUID(id)}); err != nil {
			return fmt.Errorf("take the badge of %s away: %w", org, err)
		}
	}
	return s.notify(ctx, q, org, step)
}

// notify queues the step's notice, if it has one.
func (s *Service) notify(ctx context.Context, q *store.Queries, org uuid.UUID, step activities.VerificationStep) error {
	to, kind := org.String(), ""
	facts := notice.Facts{Ref: step.VerificationID}
	switch step.Action {
	case activities.VerificationSubmitted, activities.VerificationResubmitted:
		to, kind, facts.Due, facts.Count = staffDesk, NoticeSubmitted, step.ReviewDue, step.Round
	case activities.VerificationReviewReminder:
		to, kind, facts.Due = staffDesk, NoticeReviewDue, step.ReviewDue
	case activities.VerificationRevisionRequested:
		kind, facts.Reason, facts.Due = NoticeRevision, step.Note, step.ReviseBy
	case activities.VerificationRevisionReminder:
		kind, facts.Due = NoticeReviseDue, step.ReviseBy
	case activities.VerificationApproved:
		kind, facts.Due = NoticeApproved, step.VerifiedUntil
	case activities.VerificationRejected:
		kind, facts.Reason = NoticeRejected, step.Note
	case activities.VerificationLapsed:
		kind = NoticeLapsed
	case activities.VerificationExpiryReminder:
		kind, facts.Due = NoticeExpiring, step.VerifiedUntil
	case activities.VerificationExpired:
		kind = NoticeExpired
	default:
		return nil
	}
	if to == staffDesk {
		o, err := q.GetOrganization(ctx, org)
		if err != nil {
			return fmt.Errorf("supplier %s: %w", org, err)
		}
		facts.Supplier = o.Name
	}
	raw, err := json.Marshal(facts)
	if err != nil {
		return fmt.Errorf("encode a notice: %w", err)
	}
	if err := q.QueueNotice(ctx, store.QueueNoticeParams{
		Key: fmt.Sprintf("verification/%s/%d", step.VerificationID, step.Seq), OrgID: to, Kind: kind,
		Text: texts.Text(texts.Default, kind, facts, ""), Facts: raw,
	}); err != nil {
		return fmt.Errorf("queue the %s notice: %w", kind, err)
	}
	return nil
}

func ids(docs []Document) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID.String()
	}
	return out
}

func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

func ptr[T any](v T) *T { return &v }

func uuids(ss []string) []uuid.UUID {
	ids, _ := parseIDs(ss)
	return ids
}

func parseIDs(ss []string) ([]uuid.UUID, error) {
	ids := make([]uuid.UUID, 0, len(ss))
	for _, s := range ss {
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("document %q: %w", s, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}
