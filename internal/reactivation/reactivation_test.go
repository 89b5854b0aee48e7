package reactivation_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/reactivation"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type seed struct {
	t    *testing.T
	pool *pgxpool.Pool
}

func (s seed) exec(sql string, args ...any) {
	s.t.Helper()
	_, err := s.pool.Exec(context.Background(), sql, args...)
	require.NoError(s.t, err, sql)
}

// user makes an organization with one user of role, created at joined.
func (s seed) user(name, role string, joined time.Time) (org, user uuid.UUID) {
	s.t.Helper()
	ctx := context.Background()
	require.NoError(s.t, s.pool.QueryRow(ctx, `INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id`, name, joined).Scan(&org))
	require.NoError(s.t, s.pool.QueryRow(ctx, `INSERT INTO users (org_id, email, name, role, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		org, fmt.Sprintf("%s@%s.example", role, org), name, role, joined).Scan(&user))
	return org, user
}

// seen records a console session of user last seen at at.
func (s seed) seen(user uuid.UUID, at time.Time) {
	s.t.Helper()
	token := uuid.New()
	s.exec(`INSERT INTO console_sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at) VALUES (sha256($1), $2, 'x', $3::timestamptz, $3::timestamptz, $3::timestamptz + interval '1 day')`,
		token[:], user, at)
}

type message struct {
	User  uuid.UUID
	Facts notice.Facts
	Text  string
}

func messages(t *testing.T, pool *pgxpool.Pool) []message {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT user_id, facts, text FROM notification_outbox WHERE kind = 'reactivation' ORDER BY created_at, key`)
	require.NoError(t, err)
	defer rows.Close()
	var out []message
	for rows.Next() {
		var m message
		var raw []byte
		require.NoError(t, rows.Scan(&m.User, &raw, &m.Text))
		f, err := notice.Decode(raw)
		require.NoError(t, err)
		m.Facts = *f
		out = append(out, m)
	}
	return out
}

// TestAQuietBuyerIsMessagedOncePerPeriod: of a quiet buyer (last seen 40
// days ago, with price drops and new suppliers since), a buyer seen
// yesterday, a buyer who only used its API key lately and a quiet
// supplier, the quiet buyer alone is messaged, what it missed counted; a
// second run the same day messages no one; each of the others is
// messaged once it has been quiet 30 days, and the quiet buyer again 30
// days after its message, never the supplier. Its click is recorded
// once, and not by another user.
func TestAQuietBuyerIsMessagedOncePerPeriod(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	s := seed{t, pool}
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	long := now.AddDate(-1, 0, 0)
	quietOrg, quiet := s.user("Quiet Buyer", "buyer", long)
	s.seen(quiet, now.AddDate(0, 0, -40))
	_, active := s.user("Active Buyer", "buyer", long)
	s.seen(active, now.AddDate(0, 0, -1))
	_, keyed := s.user("ERP Buyer", "buyer", long)
	s.exec(`INSERT INTO api_keys (user_id, prefix, secret_hash, last_used_at) VALUES ($1, 'tl_erp', sha256('erp'), $2)`, keyed, now.AddDate(0, 0, -3))
	supOrg, sup := s.user("Quiet Supplier", "supplier", long)
	s.seen(sup, now.AddDate(0, 0, -90))
	// What the quiet buyer missed: two price drops it was told of (one
	// product, one before it was last here), and a supplier new in a
	// category it follows, another in a category it inquired in, one new
	// in a category that is none of its.
	for i, at := range []time.Time{now.AddDate(0, 0, -20), now.AddDate(0, 0, -10), now.AddDate(0, 0, -50)} {
		s.exec(`INSERT INTO notification_outbox (key, deal_id, org_id, user_id, kind, text, facts) VALUES ($1, '', $2, $3, 'price_drop', 'x', $4)`,
			fmt.Sprintf("pd/%d", i), quietOrg.String(), quiet, fmt.Sprintf(`{"product": "LED panel", "ref": "p%d"}`, i))
		s.exec(`UPDATE notification_outbox SET created_at = $1 WHERE key = $2`, at, fmt.Sprintf("pd/%d", i))
	}
	s.exec(`INSERT INTO watches (user_id, org_id, category) VALUES ($1, $2, 'valves')`, quiet, quietOrg)
	s.exec(`INSERT INTO deals (id, stage, buyer_org_id, product, quantity, currency, state, last_event_seq, created_at, updated_at)
		VALUES ('d1', 'COMPLETED', $1, 'pumps', 10, 'USD', '{"inquiry": {"category": "pumps"}}', 1, $2, $2)`, quietOrg.String(), long)
	for _, c := range []string{"valves", "pumps", "toys"} {
		s.exec(`INSERT INTO category_suppliers (category, supplier_org_id, first_listed_at) VALUES ($1, $2, $3)`, c, supOrg, now.AddDate(0, 0, -5))
	}

	r := reactivation.New(pool, "https://tradeloop.example/")
	n, err := r.Run(ctx, now)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	got := messages(t, pool)
	require.Len(t, got, 1)
	m := got[0]
	assert.Equal(t, quiet, m.User)
	assert.Equal(t, 2, m.Facts.Drops, "the drops since it was last seen")
	assert.Equal(t, 2, m.Facts.Count, "valves (followed) and pumps (inquired in), not toys")
	assert.Equal(t, "LED panel, LED panel", m.Facts.Product)
	require.True(t, strings.HasPrefix(m.Facts.Ref, "https://tradeloop.example/app/r/"), m.Facts.Ref)
	assert.Contains(t, m.Text, "2 price drops on what you follow")
	assert.Contains(t, m.Text, "2 new suppliers in your categories")

	to := func(user uuid.UUID) (n int) {
		for _, m := range messages(t, pool) {
			if m.User == user {
				n++
			}
		}
		return n
	}
	for _, later := range []time.Time{now, now.Add(time.Hour)} {
		n, err := r.Run(ctx, later)
		require.NoError(t, err)
		assert.Zero(t, n, "%s", later)
	}
	// 29 days on, the ERP buyer (last seen 3 days before) has been quiet
	// 32 days: its turn; the quiet buyer was messaged 29 days ago: not yet.
	n, err = r.Run(ctx, now.AddDate(0, 0, 29))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 1, to(keyed))
	assert.Equal(t, 1, to(quiet))
	// 31 days on: the quiet buyer's new period, and the active buyer's
	// first (seen 32 days before).
	n, err = r.Run(ctx, now.AddDate(0, 0, 31))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, 2, to(quiet))
	assert.Equal(t, 1, to(active))
	assert.Zero(t, to(sup), "suppliers are not the buyers' reactivation")

	id := uuid.MustParse(strings.TrimPrefix(m.Facts.Ref, "https://tradeloop.example/app/r/"))
	assert.ErrorIs(t, r.Clicked(ctx, active, id, now), reactivation.ErrNotFound, "another user's message")
	require.NoError(t, r.Clicked(ctx, quiet, id, now.Add(time.Hour)))
	require.NoError(t, r.Clicked(ctx, quiet, id, now.Add(2*time.Hour)))
	var clicked time.Time
	require.NoError(t, pool.QueryRow(ctx, `SELECT clicked_at FROM reactivation_messages WHERE id = $1`, id).Scan(&clicked))
	assert.True(t, clicked.Equal(now.Add(time.Hour)), "the first click counts: %s", clicked)
}

// TestARunIsBounded: a run messages at most MaxPerRun buyers, those quiet
// longest first; the next run takes the rest.
func TestARunIsBounded(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	s := seed{t, pool}
	s.exec(`INSERT INTO organizations (id, name, created_at) VALUES ('00000000-0000-4000-8000-000000000001', 'Many', '2025-01-01')`)
	s.exec(`INSERT INTO users (org_id, email, name, role, created_at)
		SELECT '00000000-0000-4000-8000-000000000001', 'b' || i || '@many.example', 'B' || i, 'buyer', timestamptz '2025-01-01' + i * interval '1 minute'
		FROM generate_series(1, $1::int) i`, reactivation.MaxPerRun+5)
	r := reactivation.New(pool, "https://tradeloop.example")
	n, err := r.Run(ctx, now)
	require.NoError(t, err)
	assert.Equal(t, reactivation.MaxPerRun, n)
	n, err = r.Run(ctx, now.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	var last string
	require.NoError(t, pool.QueryRow(ctx, `SELECT u.email FROM reactivation_messages m JOIN users u ON u.id = m.user_id ORDER BY m.sent_at DESC, u.created_at DESC LIMIT 1`).Scan(&last))
	assert.Equal(t, fmt.Sprintf("b%d@many.example", reactivation.MaxPerRun+5), last, "those quiet longest went first")
}
