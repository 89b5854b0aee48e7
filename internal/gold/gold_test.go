package gold_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/gold"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func supplier(t *testing.T, pool *pgxpool.Pool) (org, id uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO organizations (name) VALUES ('supplier org') RETURNING id`).Scan(&org))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, 'supplier', 'supplier') RETURNING id`,
		org, fmt.Sprintf("supplier@%s.example", org)).Scan(&id))
	return org, id
}

func verifiedUntil(t *testing.T, pool *pgxpool.Pool, org uuid.UUID, until time.Time) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `INSERT INTO supplier_profiles (org_id, verified_until) VALUES ($1, $2)
		ON CONFLICT (org_id) DO UPDATE SET verified_until = excluded.verified_until`, org, until)
	require.NoError(t, err)
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// A certification in the database: only a verified supplier starts one,
// one live at a time; each step is written once however often it is
// retried or raced, with the year's fee posted once and the badge set
// and taken away with it.
func TestGoldStepsAreWrittenOnceWithTheirFeeAndBadge(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	s := gold.New(pool, gold.Terms{Fee: 99_900, Currency: "EUR"})
	org, user := supplier(t, pool)

	_, err := s.Start(ctx, org, user)
	require.ErrorIs(t, err, gold.ErrNotVerified, "no profile")
	verifiedUntil(t, pool, org, time.Now().Add(-time.Minute))
	_, err = s.Start(ctx, org, user)
	require.ErrorIs(t, err, gold.ErrNotVerified, "a badge that ended")
	verifiedUntil(t, pool, org, time.Now().Add(time.Hour))

	in, err := s.Start(ctx, org, user)
	require.NoError(t, err)
	assert.Equal(t, int64(99_900), in.Fee)
	assert.Equal(t, "EUR", in.Currency)
	_, err = s.Start(ctx, org, user)
	require.ErrorIs(t, err, gold.ErrLive)

	now := time.Now().UTC().Truncate(time.Microsecond)
	year := now.Add(365 * 24 * time.Hour)
	activated := activities.GoldEvent{CertificationID: in.ID, OrgID: in.OrgID, Seq: 1, Action: activities.GoldActivated, Actor: user.String(),
		Status: activities.GoldIsActive, AutoRenew: true, Years: 1, PaidUntil: year, Fee: in.Fee, Currency: in.Currency,
		Provider: "memory", PaymentID: "pay_1", At: now}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = s.Record(ctx, activated) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, s.Record(ctx, activated), "a retry")

	l := ledger.New(pool)
	fees, err := l.Balance(ctx, activities.GoldFeesAccount, "EUR")
	require.NoError(t, err)
	assert.Equal(t, int64(99_900), fees, "the fee is posted once")
	paidBy, err := l.Balance(ctx, activities.SupplierAccount(in.OrgID), "EUR")
	require.NoError(t, err)
	assert.Equal(t, int64(-99_900), paidBy)
	assert.Equal(t, 1, count(t, pool, `SELECT count(*) FROM gold_events WHERE certification_id = $1`, in.ID))
	assert.Equal(t, 1, count(t, pool, `SELECT count(*) FROM notification_outbox WHERE kind = 'gold_activated' AND org_id = $1`, in.OrgID))

	c, err := s.Latest(ctx, org)
	require.NoError(t, err)
	assert.Equal(t, activities.GoldIsActive, c.Status)
	assert.True(t, c.Badge)
	require.NotNil(t, c.PaidUntil)
	assert.True(t, c.PaidUntil.Equal(year))
	require.Len(t, c.Events, 1)
	assert.Equal(t, fmt.Sprintf("supplier@%s.example", org), c.Events[0].Actor)
	assert.Equal(t, int64(99_900), c.Events[0].Amount)
	assert.Equal(t, "pay_1", c.Events[0].PaymentID)

	// A step naming another supplier is refused and writes nothing.
	rival, _ := supplier(t, pool)
	forged := activated
	forged.Seq, forged.OrgID = 2, rival.String()
	require.ErrorIs(t, s.Record(ctx, forged), activities.ErrLedgerRejected)
	assert.Equal(t, 1, count(t, pool, `SELECT count(*) FROM gold_events WHERE certification_id = $1`, in.ID))

	// The badge goes while verification does, whatever is paid.
	verifiedUntil(t, pool, org, time.Now().Add(-time.Second))
	c, err = s.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.False(t, c.Badge)
	verifiedUntil(t, pool, org, time.Now().Add(time.Hour))

	// A second year is a second posting; a long reason is cut on a
	// character.
	renewed := activated
	renewed.Seq, renewed.Action, renewed.Actor, renewed.Years, renewed.PaidUntil, renewed.PaymentID = 2, activities.GoldRenewed, "", 2, year.Add(365*24*time.Hour), "pay_2"
	require.NoError(t, s.Record(ctx, renewed))
	failed := renewed
	failed.Seq, failed.Action, failed.Status, failed.Reason = 3, activities.GoldPaymentFailed, activities.GoldIsPastDue, strings.Repeat("拒", 400)
	failed.PayBy = now.Add(14 * 24 * time.Hour)
	require.NoError(t, s.Record(ctx, failed))
	fees, err = l.Balance(ctx, activities.GoldFeesAccount, "EUR")
	require.NoError(t, err)
	assert.Equal(t, int64(2*99_900), fees, "a payment_failed step posts nothing")
	c, err = s.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.Equal(t, activities.GoldIsPastDue, c.Status)
	assert.True(t, utf8.ValidString(c.Reason))
	assert.LessOrEqual(t, utf8.RuneCountInString(c.Reason), 500)

	lapsed := failed
	lapsed.Seq, lapsed.Action, lapsed.Status, lapsed.Reason = 4, activities.GoldLapsed, activities.GoldHasLapsed, "unpaid"
	require.NoError(t, s.Record(ctx, lapsed))
	c, err = s.Get(ctx, c.ID)
	require.NoError(t, err)
	assert.False(t, c.Badge)
	assert.Equal(t, 0, count(t, pool, `SELECT count(*) FROM supplier_profiles WHERE org_id = $1 AND gold_until IS NOT NULL`, org), "the badge is taken away")
	var sum int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT coalesce(sum(amount), 0)::bigint FROM ledger_lines`).Scan(&sum))
	assert.Zero(t, sum)

	// It may ask again; a supplier whose first charges keep failing is
	// capped at gold.MaxStartsPerDay a day.
	for range gold.MaxStartsPerDay - 1 {
		next, err := s.Start(ctx, org, user)
		require.NoError(t, err)
		require.NoError(t, s.Withdraw(ctx, uuid.MustParse(next.ID), "the workflow did not start"))
	}
	_, err = s.Start(ctx, org, user)
	require.ErrorIs(t, err, gold.ErrTooMany)
	list, err := s.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, gold.MaxStartsPerDay)
	assert.Equal(t, activities.GoldHasFailed, list[0].Status)
}

func TestGoldTermsAreBounded(t *testing.T) {
	require.NoError(t, gold.DefaultTerms.Validate())
	for _, bad := range []gold.Terms{{Fee: 0, Currency: "USD"}, {Fee: -1, Currency: "USD"}, {Fee: 100_000_000_001, Currency: "USD"}, {Fee: 100, Currency: "usd"}, {Fee: 100}} {
		require.Error(t, bad.Validate(), "%+v", bad)
	}
}
