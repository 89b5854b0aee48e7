package watchlist_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/internal/watchlist"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// user makes an organization with one user of the role.
func user(t *testing.T, pool *pgxpool.Pool, name, role string) watchlist.Follower {
	t.Helper()
	var f watchlist.Follower
	require.NoError(t, pool.QueryRow(context.Background(), `INSERT INTO organizations (name) VALUES ($1) RETURNING id`, name).Scan(&f.Org))
	require.NoError(t, pool.QueryRow(context.Background(), `INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, $3, $4) RETURNING id`,
		f.Org, fmt.Sprintf("%s@%s.example", role, f.Org), name, role).Scan(&f.User))
	return f
}

// alert is one queued watchlist notification.
type alert struct {
	Key, Kind string
	User      uuid.UUID
	Facts     notice.Facts
}

func alerts(t *testing.T, pool *pgxpool.Pool) []alert {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT key, kind, user_id, facts FROM notification_outbox
		WHERE kind IN ('price_drop', 'new_supplier_in_category') ORDER BY created_at, key`)
	require.NoError(t, err)
	defer rows.Close()
	var out []alert
	for rows.Next() {
		var a alert
		var raw []byte
		require.NoError(t, rows.Scan(&a.Key, &a.Kind, &a.User, &raw))
		f, err := notice.Decode(raw)
		require.NoError(t, err)
		a.Facts = *f
		out = append(out, a)
	}
	require.NoError(t, rows.Err())
	return out
}

func lamp(prices ...int64) marketplace.ProductInput {
	p := marketplace.ProductInput{SKU: "LAMP-1", Name: "Desk lamp", Category: "led-lighting", Unit: "piece", MOQ: 100, Currency: "USD",
		LeadTimeDays: 20, OriginRegion: "CN"}
	for i, price := range prices {
		p.PriceTiers = append(p.PriceTiers, marketplace.PriceTier{MinQuantity: []int64{100, 500, 1000}[i], UnitPrice: price})
	}
	return p
}

// TestAPriceDropIsAlertedOncePerDrop follows a lamp at 500 pieces with a
// 10 % threshold through a supplier's price changes, saved one by one and
// by import, and counts the alerts: one per drop, none for a repeat, a
// small cut or a rise, and a drop measured from the highest price since
// the last alert.
func TestAPriceDropIsAlertedOncePerDrop(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	m := marketplace.New(pool)
	w := watchlist.New(pool)
	sup := user(t, pool, "Lamp Works", "supplier")
	buyer, other := user(t, pool, "Buyer", "buyer"), user(t, pool, "Other buyer", "buyer")

	p, _, err := m.SaveProduct(ctx, sup.Org, lamp(1_000, 900, 800)) // at 500: USD 9.00
	require.NoError(t, err)
	watch, created, err := w.FollowProduct(ctx, buyer, p.ID, 500, 1_000)
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, int64(900), watch.UnitPrice)
	assert.Equal(t, int64(900), watch.Baseline)
	// The other buyer follows at the MOQ with the default 5 %.
	ow, _, err := w.FollowProduct(ctx, other, p.ID, 0, 0)
	require.NoError(t, err)
	assert.Equal(t, int64(100), ow.Quantity)
	assert.Equal(t, watchlist.DefaultDropBP, ow.DropBP)

	save := func(prices ...int64) {
		t.Helper()
		_, _, err := m.SaveProduct(ctx, sup.Org, lamp(prices...))
		require.NoError(t, err)
	}
	priceDrops := func() (n int) {
		for _, a := range alerts(t, pool) {
			if a.Kind == watchlist.KindPriceDrop && a.User == buyer.User {
				n++
			}
		}
		return n
	}
	save(1_000, 900, 800)
	assert.Zero(t, priceDrops(), "the same prices again")
	save(1_000, 850, 800) // 5.6 % below 9.00: under the buyer's 10 %
	assert.Zero(t, priceDrops())
	save(1_000, 810, 800) // 10 % below 9.00, the baseline: news
	require.Equal(t, 1, priceDrops())
	last := alerts(t, pool)
	var got notice.Facts
	for _, a := range last {
		if a.User == buyer.User {
			got = a.Facts
		}
	}
	assert.Equal(t, notice.Facts{Product: "Desk lamp", Quantity: 500, Unit: "piece", Amount: 810, Was: 900, Currency: "USD", Ref: p.ID.String()}, got)
	save(1_000, 810, 800)
	save(1_000, 810, 800)
	assert.Equal(t, 1, priceDrops(), "saving the dropped price again is no new drop")
	save(1_000, 950, 800) // a rise: the next drop is measured from 9.50
	save(1_000, 870, 800) // 8.4 % below 9.50
	assert.Equal(t, 1, priceDrops())
	// An import that cuts it to 8.55 (10 % below 9.50) is a drop too.
	csv := "sku,name,category,unit,moq,currency,price_tiers,lead_time_days,origin_region\nLAMP-1,Desk lamp,led-lighting,piece,100,USD,100:1000;500:855;1000:800,20,CN\n"
	tbl, err := sheet.Read(strings.NewReader(csv), sheet.CSV, marketplace.ImportLimits)
	require.NoError(t, err)
	rep, err := m.Import(ctx, sup.Org, tbl, marketplace.ImportAll)
	require.NoError(t, err)
	require.True(t, rep.Applied, "%+v", rep)
	assert.Equal(t, 2, priceDrops())

	// The other buyer reads at 100 pieces, whose price never moved.
	for _, a := range alerts(t, pool) {
		assert.NotEqual(t, other.User, a.User, "%+v", a)
	}
	list, err := w.List(ctx, buyer.User)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, int64(855), list[0].UnitPrice)
	assert.Equal(t, int64(855), list[0].Baseline)
	assert.Equal(t, 2, list[0].Alerts)
}

// TestANewSupplierInAFollowedCategoryIsAlertedOnce: each watcher of a
// category hears once of each supplier's first product in it.
func TestANewSupplierInAFollowedCategoryIsAlertedOnce(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	m := marketplace.New(pool)
	w := watchlist.New(pool)
	old := user(t, pool, "Old Lamps", "supplier")
	_, _, err := m.SaveProduct(ctx, old.Org, lamp(1_000))
	require.NoError(t, err)
	b1, b2 := user(t, pool, "B1", "buyer"), user(t, pool, "B2", "buyer")
	for _, b := range []watchlist.Follower{b1, b2} {
		_, _, err := w.FollowCategory(ctx, b, "led-lighting")
		require.NoError(t, err)
	}
	_, created, err := w.FollowCategory(ctx, b1, "led-lighting")
	require.NoError(t, err)
	assert.False(t, created, "following again is the same watch")

	fresh := user(t, pool, "Bright & <New>", "supplier")
	for _, sku := range []string{"A", "B", "C"} {
		p := lamp(700)
		p.SKU = sku
		_, _, err := m.SaveProduct(ctx, fresh.Org, p)
		require.NoError(t, err)
	}
	_, _, err = m.SaveProduct(ctx, old.Org, lamp(650)) // an old supplier's change: no news
	require.NoError(t, err)
	got := alerts(t, pool)
	require.Len(t, got, 2, "%+v", got)
	for i, b := range []watchlist.Follower{b1, b2} {
		var a *alert
		for j := range got {
			if got[j].User == b.User {
				a = &got[j]
			}
		}
		require.NotNil(t, a, "watcher %d", i)
		assert.Equal(t, watchlist.KindNewSupplier, a.Kind)
		assert.Equal(t, notice.Facts{Supplier: "Bright & <New>", Ref: "led-lighting"}, a.Facts)
	}
}

// TestFollowsAreBoundedAndChecked refuses what a watch cannot be.
func TestFollowsAreBoundedAndChecked(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	m := marketplace.New(pool)
	w := watchlist.New(pool)
	sup := user(t, pool, "S", "supplier")
	b := user(t, pool, "B", "buyer")
	p, _, err := m.SaveProduct(ctx, sup.Org, lamp(1_000, 900))
	require.NoError(t, err)
	var fe *watchlist.FieldError
	for name, c := range map[string]struct {
		product  uuid.UUID
		quantity int64
		drop     int
		field    string
	}{
		"unknown product":         {uuid.New(), 0, 0, "product_id"},
		"below the first tier":    {p.ID, 99, 0, "quantity"},
		"absurd quantity":         {p.ID, 1 << 40, 0, "quantity"},
		"negative quantity":       {p.ID, -5, 0, "quantity"},
		"no drop at all":          {p.ID, 100, -1, "drop_bp"},
		"a drop of more than 90%": {p.ID, 100, 9_001, "drop_bp"},
	} {
		_, _, err := w.FollowProduct(ctx, b, c.product, c.quantity, c.drop)
		if assert.True(t, errors.As(err, &fe), "%s: %v", name, err) {
			assert.Equal(t, c.field, fe.Field, name)
		}
	}
	for i := range watchlist.MaxWatches {
		_, _, err := w.FollowCategory(ctx, b, fmt.Sprintf("cat-%d", i))
		require.NoError(t, err)
	}
	_, _, err = w.FollowProduct(ctx, b, p.ID, 0, 0)
	assert.ErrorIs(t, err, watchlist.ErrTooMany)
	_, created, err := w.FollowCategory(ctx, b, "cat-7")
	assert.NoError(t, err, "following one it follows changes nothing")
	assert.False(t, created)
	list, err := w.List(ctx, b.User)
	require.NoError(t, err)
	assert.Len(t, list, watchlist.MaxWatches)
	assert.ErrorIs(t, w.Unfollow(ctx, user(t, pool, "X", "buyer").User, list[0].ID), watchlist.ErrNotFound, "another user's watch")
	require.NoError(t, w.Unfollow(ctx, b.User, list[0].ID))
	assert.ErrorIs(t, w.Unfollow(ctx, b.User, list[0].ID), watchlist.ErrNotFound)
}
