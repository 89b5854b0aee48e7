package stack

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/pricetrend"
	"github.com/tradeloop/tradeloop/internal/reactivation"
	"github.com/tradeloop/tradeloop/internal/referral"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/workflows"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The schedule exists once however many workers start, and a run it starts
// recalculates the tiers in PostgreSQL.
func TestTierScheduleRunsTheRecalculation(t *testing.T) {
	pool := testenv.Postgres(t)
	tc := testenv.NewTemporal(t)
	ctx := context.Background()

	var org string
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO organizations (name) VALUES ('Slow Co') RETURNING id::text`).Scan(&org))
	_, err := pool.Exec(ctx, `INSERT INTO supplier_profiles (org_id, tier) VALUES ($1, 'platinum')`, org)
	require.NoError(t, err)

	w := worker.New(tc.Client, tc.TaskQueue, worker.Options{})
	workflows.Register(w)
	w.RegisterActivity(&activities.Activities{Tiers: marketplace.New(pool)})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	for range 2 {
		require.NoError(t, EnsureTierSchedule(ctx, tc.Client, tc.TaskQueue))
	}
	h := tc.Client.ScheduleClient().GetHandle(ctx, TierScheduleID(tc.TaskQueue))
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	desc, err := h.Describe(ctx)
	require.NoError(t, err)
	cal := desc.Schedule.Spec.Calendars
	require.Len(t, cal, 1)
	assert.Equal(t, 2, cal[0].Hour[0].Start)
	assert.Equal(t, 30, cal[0].Minute[0].Start)
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	assert.Equal(t, tc.TaskQueue, action.TaskQueue)

	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))
	var tier, reason string
	require.Eventually(t, func() bool {
		err := pool.QueryRow(ctx, `SELECT tier, tier_reason FROM supplier_profiles WHERE org_id = $1`, org).Scan(&tier, &reason)
		return err == nil && tier == "bronze"
	}, 30*time.Second, 100*time.Millisecond, "the triggered run never recalculated the tier")
	assert.Contains(t, reason, "no quotes yet")
	assert.Equal(t, "supplier-tiers-daily", TierScheduleID(workflows.TaskQueue))
}

// The escrow watchdog's schedule exists once however many workers start,
// every 15 minutes, on the workers' task queue.
func TestWatchdogScheduleIsCreatedOnce(t *testing.T) {
	tc := testenv.NewTemporal(t)
	ctx := context.Background()
	for range 2 {
		require.NoError(t, EnsureWatchdogSchedule(ctx, tc.Client, tc.TaskQueue))
	}
	h := tc.Client.ScheduleClient().GetHandle(ctx, WatchdogScheduleID(tc.TaskQueue))
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	desc, err := h.Describe(ctx)
	require.NoError(t, err)
	require.Len(t, desc.Schedule.Spec.Intervals, 1)
	assert.Equal(t, 15*time.Minute, desc.Schedule.Spec.Intervals[0].Every)
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	assert.Equal(t, tc.TaskQueue, action.TaskQueue)
	assert.Equal(t, workflows.EscrowWatchdogWorkflowName, action.Workflow)
	assert.Equal(t, "escrow-watchdog", WatchdogScheduleID(workflows.TaskQueue))
}

// The purge schedule exists once, hourly; a run it starts deletes the kept
// responses older than the worker's retention and keeps the fresh ones.
func TestPurgeScheduleDeletesOldKeptResponses(t *testing.T) {
	pool := testenv.Postgres(t)
	tc := testenv.NewTemporal(t)
	ctx := context.Background()

	var user string
	require.NoError(t, pool.QueryRow(ctx, `WITH o AS (INSERT INTO organizations (name) VALUES ('Keep Co') RETURNING id)
		INSERT INTO users (org_id, email, name, role) SELECT id, 'keep@example.com', 'Keep', 'buyer' FROM o RETURNING id::text`).Scan(&user))
	for key, age := range map[string]string{"old": "49 hours", "older": "30 days", "fresh": "47 hours", "new": "0 seconds"} {
		_, err := pool.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, status, response, created_at)
			VALUES ($1, $2, 'POST', '/v1/deals', '\x00', 201, '{}', now() - $3::interval)`, user, key, age)
		require.NoError(t, err)
	}

	w := worker.New(tc.Client, tc.TaskQueue, worker.Options{})
	workflows.RegisterRetention(w)
	w.RegisterActivity(&activities.Activities{
		Idempotency: func(ctx context.Context, olderThan time.Duration) (int64, error) {
			return store.New(pool).PurgeIdempotencyKeys(ctx, olderThan.Seconds())
		},
		IdempotencyRetention: 48 * time.Hour,
	})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	for range 2 {
		require.NoError(t, EnsurePurgeSchedule(ctx, tc.Client, tc.TaskQueue))
	}
	h := tc.Client.ScheduleClient().GetHandle(ctx, PurgeScheduleID(tc.TaskQueue))
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	desc, err := h.Describe(ctx)
	require.NoError(t, err)
	require.Len(t, desc.Schedule.Spec.Intervals, 1)
	assert.Equal(t, time.Hour, desc.Schedule.Spec.Intervals[0].Every)
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	assert.Equal(t, workflows.IdempotencyPurgeWorkflowName, action.Workflow)
	assert.Equal(t, "idempotency-purge", PurgeScheduleID(workflows.TaskQueue))

	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))
	var left []string
	require.Eventually(t, func() bool {
		rows, err := pool.Query(ctx, `SELECT key FROM idempotency_keys ORDER BY key`)
		if err != nil {
			return false
		}
		left, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err == nil && len(left) == 2
	}, 30*time.Second, 100*time.Millisecond, "the triggered run never purged")
	assert.Equal(t, []string{"fresh", "new"}, left)
}

// The reactivation schedule exists once, daily at 09:00 UTC; a run it
// starts messages the quiet buyer through the outbox, and a second run
// does not message it again.
func TestReactivationScheduleMessagesQuietBuyers(t *testing.T) {
	pool := testenv.Postgres(t)
	tc := testenv.NewTemporal(t)
	ctx := context.Background()
	var user string
	require.NoError(t, pool.QueryRow(ctx, `WITH o AS (INSERT INTO organizations (name) VALUES ('Quiet Co') RETURNING id)
		INSERT INTO users (org_id, email, name, role, created_at) SELECT id, 'quiet@example.com', 'Quiet', 'buyer', now() - interval '60 days' FROM o
		RETURNING id::text`).Scan(&user))

	w := worker.New(tc.Client, tc.TaskQueue, worker.Options{})
	workflows.RegisterGrowth(w)
	w.RegisterActivity(&activities.Activities{Reactivate: reactivation.New(pool, "https://tradeloop.example").Run})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	for range 2 {
		require.NoError(t, EnsureReactivationSchedule(ctx, tc.Client, tc.TaskQueue))
	}
	h := tc.Client.ScheduleClient().GetHandle(ctx, ReactivationScheduleID(tc.TaskQueue))
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	desc, err := h.Describe(ctx)
	require.NoError(t, err)
	cal := desc.Schedule.Spec.Calendars
	require.Len(t, cal, 1)
	assert.Equal(t, 9, cal[0].Hour[0].Start)
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	assert.Equal(t, workflows.BuyerReactivationWorkflowName, action.Workflow)
	assert.Equal(t, "buyer-reactivation", ReactivationScheduleID(workflows.TaskQueue))

	count := func() (n int) {
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM notification_outbox WHERE kind = 'reactivation' AND user_id = $1`, user).Scan(&n)
		return n
	}
	runs := func() (n int) {
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM reactivation_messages`).Scan(&n)
		return n
	}
	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))
	require.Eventually(t, func() bool { return count() == 1 }, 30*time.Second, 100*time.Millisecond, "the triggered run never messaged the quiet buyer")
	// A second run, after the first completed, messages no one.
	require.Eventually(t, func() bool {
		d, err := h.Describe(ctx)
		return err == nil && len(d.Info.RecentActions) == 1 && len(d.Info.RunningWorkflows) == 0
	}, 30*time.Second, 100*time.Millisecond)
	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))
	require.Eventually(t, func() bool {
		d, err := h.Describe(ctx)
		return err == nil && len(d.Info.RecentActions) == 2 && len(d.Info.RunningWorkflows) == 0
	}, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, 1, count())
	assert.Equal(t, 1, runs())
}

// The price index's schedule exists once, daily at 00:05 UTC; creating it
// takes today at once (the backfill), and a run it starts takes the day
// just ended; each day holds one row per category and currency.
func TestPriceIndexScheduleTakesTheDays(t *testing.T) {
	pool := testenv.Postgres(t)
	tc := testenv.NewTemporal(t)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `WITH o AS (INSERT INTO organizations (name) VALUES ('Lamps Co') RETURNING id)
		INSERT INTO products (supplier_org_id, sku, name, category, unit, moq, currency, tier_min_qty, tier_unit_minor, from_unit_minor, lead_time_days, origin_region)
		SELECT id, 'L-' || n, 'Lamp ' || n, 'led-lighting', 'piece', 1, 'USD', '{1}', ARRAY[n * 100], n * 100, 10, 'CN' FROM o, generate_series(1, 3) n`)
	require.NoError(t, err)

	w := worker.New(tc.Client, tc.TaskQueue, worker.Options{})
	workflows.RegisterPriceTrends(w)
	w.RegisterActivity(&activities.Activities{PriceIndex: pricetrend.New(pool).Snapshot})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	now := time.Now().UTC()
	for range 2 {
		require.NoError(t, EnsurePriceIndexSchedule(ctx, tc.Client, tc.TaskQueue, now))
	}
	h := tc.Client.ScheduleClient().GetHandle(ctx, PriceIndexScheduleID(tc.TaskQueue))
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	desc, err := h.Describe(ctx)
	require.NoError(t, err)
	cal := desc.Schedule.Spec.Calendars
	require.Len(t, cal, 1)
	assert.Equal(t, 0, cal[0].Hour[0].Start)
	assert.Equal(t, 5, cal[0].Minute[0].Start)
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	require.True(t, ok)
	assert.Equal(t, workflows.PriceIndexWorkflowName, action.Workflow)
	assert.Equal(t, "price-index-daily", PriceIndexScheduleID(workflows.TaskQueue))

	day := func(d time.Time) (index int64, products int) {
		_ = pool.QueryRow(ctx, `SELECT index_minor, products FROM price_index WHERE day = $1::date AND category = 'led-lighting' AND currency = 'USD'`,
			d.Format(time.DateOnly)).Scan(&index, &products)
		return index, products
	}
	// The backfill: today, the lower median of 100, 200, 300.
	require.Eventually(t, func() bool { i, _ := day(now); return i == 200 }, 30*time.Second, 100*time.Millisecond, "today was never taken")

	require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))
	require.Eventually(t, func() bool { _, n := day(now.AddDate(0, 0, -1)); return n == 3 }, 30*time.Second, 100*time.Millisecond,
		"the triggered run never took yesterday")
	var rows int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM price_index`).Scan(&rows))
	assert.Equal(t, 2, rows)
	// The backfill was the workflow of the day's ID, given today.
	var n int64
	require.NoError(t, tc.Client.GetWorkflow(ctx, PriceIndexScheduleID(tc.TaskQueue)+"/backfill/"+now.Format(time.DateOnly), "").Get(ctx, &n))
	assert.EqualValues(t, 1, n)
}

// The coupon expiry's schedule exists once, hourly; a run it starts
// empties a coupon past its date back to the platform, once.
func TestCouponExpiryScheduleExpiresCoupons(t *testing.T) {
	pool := testenv.Postgres(t)
	tc := testenv.NewTemporal(t)
	ctx := context.Background()
	var coupon string
	require.NoError(t, pool.QueryRow(ctx, `WITH a AS (INSERT INTO organizations (name) VALUES ('Referrer') RETURNING id),
		b AS (INSERT INTO organizations (name) VALUES ('Referred') RETURNING id),
		u AS (INSERT INTO users (org_id, email, name, role) SELECT id, 'referred@example.com', 'R', 'buyer' FROM b RETURNING id, org_id),
		r AS (INSERT INTO referrals (referred_org_id, referrer_org_id, claimed_by) SELECT u.org_id, a.id, u.id FROM a, u RETURNING referred_org_id, referrer_org_id)
		INSERT INTO coupons (id, org_id, referred_org_id, earned_deal_id, currency, value_minor, issued_at, expires_at)
		SELECT gen_random_uuid(), referrer_org_id, referred_org_id, 'd-earned', 'USD', 500, now() - interval '2 hours', now() - interval '1 hour' FROM r
		RETURNING id::text`).Scan(&coupon))
	l := ledger.New(pool)
	require.NoError(t, l.Post(ctx, activities.Posting{IdempotencyKey: "coupon/" + coupon + "/issue", Kind: "coupon_issued", Lines: []activities.Line{
		{Account: activities.ReferralRewardsAccount, Amount: -500, Currency: "USD"}, {Account: activities.CouponAccount(coupon), Amount: 500, Currency: "USD"},
	}}))

	w := worker.New(tc.Client, tc.TaskQueue, worker.Options{})
	workflows.RegisterGrowth(w)
	w.RegisterActivity(&activities.Activities{CouponExpiry: referral.New(pool, referral.Config{}).Expire})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	for range 2 {
		require.NoError(t, EnsureCouponExpirySchedule(ctx, tc.Client, tc.TaskQueue))
	}
	h := tc.Client.ScheduleClient().GetHandle(ctx, CouponExpiryScheduleID(tc.TaskQueue))
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	desc, err := h.Describe(ctx)
	require.NoError(t, err)
	require.Len(t, desc.Schedule.Spec.Intervals, 1)
	assert.Equal(t, time.Hour, desc.Schedule.Spec.Intervals[0].Every)
	assert.Equal(t, "coupon-expiry", CouponExpiryScheduleID(workflows.TaskQueue))

	for runs := 1; runs <= 2; runs++ {
		require.NoError(t, h.Trigger(ctx, client.ScheduleTriggerOptions{}))
		require.Eventually(t, func() bool {
			d, err := h.Describe(ctx)
			return err == nil && len(d.Info.RecentActions) == runs && len(d.Info.RunningWorkflows) == 0
		}, 30*time.Second, 100*time.Millisecond)
	}
	left, err := l.Balance(ctx, activities.CouponAccount(coupon), "USD")
	require.NoError(t, err)
	assert.Zero(t, left, "the expired coupon still holds money")
	spent, err := l.Balance(ctx, activities.ReferralRewardsAccount, "USD")
	require.NoError(t, err)
	assert.Zero(t, spent, "the expired coupon's money is back with the platform, once")
}
