package verification_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/media"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/internal/verification"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const pdf = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

func supplier(t *testing.T, pool *pgxpool.Pool, name string) (org, user uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO organizations (name) VALUES ($1) RETURNING id`, name).Scan(&org))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, $3, 'supplier') RETURNING id`,
		org, fmt.Sprintf("s@%s.example", org), name).Scan(&user))
	return org, user
}

func jpeg8() []byte {
	var b bytes.Buffer
	_ = jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
	return b.Bytes()
}

func upload(t *testing.T, s *verification.Service, org uuid.UUID, kind, name string, content []byte, expires *time.Time) {
	t.Helper()
	title := ""
	if kind == "certificate" {
		title = "ISO 9001"
	}
	_, err := s.Upload(context.Background(), org, verification.Upload{
		Upload:    media.Upload{Kind: kind, Name: name, Size: int64(len(content)), File: bytes.NewReader(content)},
		ExpiresAt: expires, Title: title,
	})
	require.NoError(t, err)
}

func step(id uuid.UUID, org uuid.UUID, seq int, action, status string, until time.Time) activities.VerificationStep {
	return activities.VerificationStep{VerificationID: id.String(), OrgID: org.String(), Seq: seq, Action: action, Status: status,
		Round: 1, VerifiedUntil: until, At: time.Now()}
}

// A submission whose workflow did not start is withdrawn, its documents
// back in the draft; steps are written once however often recorded; an
// approval gives the badge and supersedes the approval before it, whose
// expiry then takes nothing away, while the newer one's does.
func TestSubmissionsStepsAndBadges(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	bucket, err := media.OpenBucket(ctx, "file://"+t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = bucket.Close() })
	s := verification.New(pool, media.New(pool, bucket, nil))
	org, user := supplier(t, pool, "Works")
	later := time.Now().Add(90 * 24 * time.Hour).UTC().Truncate(time.Second)

	upload(t, s, org, "business_licence", "licence.pdf", []byte(pdf), nil)
	upload(t, s, org, "certificate", "iso.pdf", []byte(pdf), &later)
	_, err = s.Submit(ctx, org, user)
	require.ErrorContains(t, err, "factory photo or video")
	upload(t, s, org, "factory_photo", "f.jpg", jpeg8(), nil)
	first, err := s.Submit(ctx, org, user)
	require.NoError(t, err)
	require.False(t, first.Resubmission)
	require.Len(t, first.Documents, 3)
	require.True(t, first.ExpiresAt.Equal(later))
	_, err = s.Submit(ctx, org, user)
	require.ErrorIs(t, err, verification.ErrInReview)

	require.NoError(t, s.Withdraw(ctx, org, first.VerificationID))
	drafts, err := s.Drafts(ctx, org)
	require.NoError(t, err)
	require.Len(t, drafts, 3, "the withdrawn submission's documents are back in the draft")

	// Two verifications approved one after the other.
	badge := func() *time.Time {
		var until *time.Time
		require.NoError(t, pool.QueryRow(ctx, `SELECT verified_until FROM supplier_profiles WHERE org_id = $1`, org).Scan(&until))
		return until
	}
	old, err := s.Submit(ctx, org, user)
	require.NoError(t, err)
	for range 2 {
		_, err := s.Record(ctx, step(old.VerificationID, org, 1, activities.VerificationSubmitted, activities.VerificationInReview, time.Time{}))
		require.NoError(t, err)
	}
	_, err = s.Record(ctx, step(old.VerificationID, org, 2, activities.VerificationApproved, activities.VerificationIsApproved, later))
	require.NoError(t, err)
	require.True(t, badge().Equal(later))

	upload(t, s, org, "business_licence", "licence-2027.pdf", []byte(pdf), nil)
	upload(t, s, org, "factory_photo", "f2.jpg", jpeg8(), nil)
	renewal, err := s.Submit(ctx, org, user)
	require.NoError(t, err, "a new verification while a badge holds")
	newer := later.Add(300 * 24 * time.Hour)
	_, err = s.Record(ctx, step(renewal.VerificationID, org, 1, activities.VerificationSubmitted, activities.VerificationInReview, time.Time{}))
	require.NoError(t, err)
	_, err = s.Record(ctx, step(renewal.VerificationID, org, 2, activities.VerificationApproved, activities.VerificationIsApproved, newer))
	require.NoError(t, err)
	require.True(t, badge().Equal(newer))

	rec, err := s.Record(ctx, step(old.VerificationID, org, 3, activities.VerificationExpired, activities.VerificationHasExpired, later))
	require.NoError(t, err)
	require.True(t, rec.Superseded)
	require.True(t, badge().Equal(newer), "the old verification's end takes nothing away")
	v, err := s.Get(ctx, old.VerificationID)
	require.NoError(t, err)
	require.Equal(t, "superseded", v.Status)
	require.Equal(t, []string{"submitted", "approved", "superseded"}, []string{v.Trail[0].Action, v.Trail[1].Action, v.Trail[2].Action})

	rec, err = s.Record(ctx, step(renewal.VerificationID, org, 3, activities.VerificationExpired, activities.VerificationHasExpired, newer))
	require.NoError(t, err)
	require.False(t, rec.Superseded)
	require.Nil(t, badge())
	var notices int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM notification_outbox WHERE key LIKE 'verification/%'`).Scan(&notices))
	require.Equal(t, 5, notices, "submitted ×2 to staff, approved ×2, expired ×1: one each, repeats none")
}
