package pricetrend_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/pricetrend"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// seeder writes catalog rows and accepted quotes straight into the tables
// the snapshot reads.
type seeder struct {
	t        *testing.T
	pool     *pgxpool.Pool
	supplier string
	n        int
}

func newSeeder(t *testing.T, pool *pgxpool.Pool) *seeder {
	s := &seeder{t: t, pool: pool}
	require.NoError(t, pool.QueryRow(context.Background(), `INSERT INTO organizations (name) VALUES ('Lamps Co') RETURNING id::text`).Scan(&s.supplier))
	return s
}

// product lists a product whose tiers start at minQty with prices units;
// its MOQ is moq.
func (s *seeder) product(category, currency string, moq int64, minQty, units []int64) string {
	s.t.Helper()
	s.n++
	var id string
	require.NoError(s.t, s.pool.QueryRow(context.Background(), `INSERT INTO products (supplier_org_id, sku, name, category, unit, moq, currency,
		tier_min_qty, tier_unit_minor, from_unit_minor, lead_time_days, origin_region)
		VALUES ($1, $2, $3, $4, 'piece', $5, $6, $7, $8, $9, 10, 'CN') RETURNING id::text`,
		s.supplier, fmt.Sprintf("SKU-%d", s.n), fmt.Sprintf("Product %d", s.n), category, moq, currency, minQty, units, units[0]).Scan(&id))
	return id
}

// at lists a product with one price.
func (s *seeder) at(category, currency string, unit int64) string {
	return s.product(category, currency, 1, []int64{1}, []int64{unit})
}

// deal makes a deal in category and currency with one quote of unit
// price unit and status status, accepted at accepted (when not zero).
func (s *seeder) deal(category, currency string, unit int64, status string, accepted time.Time) {
	s.t.Helper()
	s.n++
	ctx := context.Background()
	id := fmt.Sprintf("deal-%d", s.n)
	created := accepted.Add(-time.Hour)
	if accepted.IsZero() {
		created = time.Now()
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO deals (id, stage, buyer_org_id, product, quantity, currency, state, last_event_seq, created_at, updated_at)
		VALUES ($1, 'AWARDED', 'buyer', 'Lamp', 100, $2, jsonb_build_object('inquiry', jsonb_build_object('category', $3::text)), 2, $4, $4)`,
		id, currency, category, created)
	require.NoError(s.t, err)
	_, err = s.pool.Exec(ctx, `INSERT INTO quotes (deal_id, quote_id, supplier_id, revision, tiers, moq, lead_time_days, valid_till,
		sample_minor, unit_minor, total_minor, status, created_at) VALUES ($1, 'q1', $2, 1, '[]', 1, 10, $3, 0, $4::bigint, $4::bigint * 100, $5, $3)`,
		id, s.supplier, created, unit, status)
	require.NoError(s.t, err)
	_, err = s.pool.Exec(ctx, `INSERT INTO deal_events (deal_id, seq, at, type) VALUES ($1, 1, $2, 'quote_submitted')`, id, created)
	require.NoError(s.t, err)
	if !accepted.IsZero() {
		_, err = s.pool.Exec(ctx, `INSERT INTO deal_events (deal_id, seq, at, type) VALUES ($1, 2, $2, 'quote_accepted')`, id, accepted)
		require.NoError(s.t, err)
	}
}

// row is one stored day of the index.
type row struct {
	Category, Currency string
	Index              *int64
	Products           int
	QuoteMedian        *int64
	Quotes             int
}

func rows(t *testing.T, pool *pgxpool.Pool, day time.Time) []row {
	t.Helper()
	rs, err := pool.Query(context.Background(), `SELECT category, currency, index_minor, products, quote_median_minor, quotes
		FROM price_index WHERE day = $1::date ORDER BY category, currency`, day.Format("2006-01-02"))
	require.NoError(t, err)
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		require.NoError(t, rs.Scan(&r.Category, &r.Currency, &r.Index, &r.Products, &r.QuoteMedian, &r.Quotes))
		out = append(out, r)
	}
	require.NoError(t, rs.Err())
	return out
}

func ptr(v int64) *int64 { return &v }

// The index worked out by hand: the lower median of the prices at the
// MOQ, each currency apart, the day's accepted quotes beside it, a day
// without a snapshot a gap, and a day taken again replaced.
func TestSnapshotTakesTheLowerMedianPerCategoryAndCurrency(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	s := newSeeder(t, pool)
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

	// led-lighting in USD, at the MOQ: 100, 200, 300, 1000. The third's
	// MOQ is 50, which reaches its second tier (300), not its first (999).
	// Four prices: the lower median is 200 (never 250, an average).
	s.at("led-lighting", "USD", 1000)
	s.at("led-lighting", "USD", 100)
	s.product("led-lighting", "USD", 50, []int64{10, 50}, []int64{999, 300})
	s.at("led-lighting", "USD", 200)
	// The same category in EUR, apart: 150, 250, 900: 250.
	s.at("led-lighting", "EUR", 900)
	s.at("led-lighting", "EUR", 150)
	s.at("led-lighting", "EUR", 250)
	valve := s.at("valves", "USD", 70)

	// Accepted during the day in led-lighting USD: 180 and 120 (lower
	// median 120). Not counted: one accepted the day before, one quote
	// closed, one accepted just after midnight.
	s.deal("led-lighting", "USD", 180, "ACCEPTED", day.Add(9*time.Hour))
	s.deal("led-lighting", "USD", 120, "ACCEPTED", day.Add(23*time.Hour+59*time.Minute))
	s.deal("led-lighting", "USD", 10, "ACCEPTED", day.Add(-time.Minute))
	s.deal("led-lighting", "USD", 15, "CLOSED", time.Time{})
	s.deal("led-lighting", "USD", 20, "ACCEPTED", day.AddDate(0, 0, 1))
	// Quotes in a category nobody lists: a row without an index.
	s.deal("pumps", "EUR", 500, "ACCEPTED", day.Add(12*time.Hour))

	svc := pricetrend.New(pool)
	n, err := svc.Snapshot(ctx, day.Add(15*time.Hour), day.AddDate(0, 0, 1).Add(5*time.Minute))
	require.NoError(t, err)
	assert.EqualValues(t, 4, n)
	want := []row{
		{Category: "led-lighting", Currency: "EUR", Index: ptr(250), Products: 3},
		{Category: "led-lighting", Currency: "USD", Index: ptr(200), Products: 4, QuoteMedian: ptr(120), Quotes: 2},
		{Category: "pumps", Currency: "EUR", QuoteMedian: ptr(500), Quotes: 1},
		{Category: "valves", Currency: "USD", Index: ptr(70), Products: 1},
	}
	assert.Equal(t, want, rows(t, pool, day))

	// Taken again, unchanged: the same rows, no more.
	_, err = svc.Snapshot(ctx, day, day.AddDate(0, 0, 1).Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, want, rows(t, pool, day))

	// The catalog moved before a third take: the day's rows follow it, and
	// valves, gone, loses its row.
	_, err = pool.Exec(ctx, `UPDATE products SET tier_unit_minor = '{400}', from_unit_minor = 400 WHERE category = 'led-lighting' AND currency = 'USD' AND from_unit_minor = 100`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `DELETE FROM products WHERE id = $1`, valve)
	require.NoError(t, err)
	_, err = svc.Snapshot(ctx, day, day.AddDate(0, 0, 1).Add(2*time.Hour))
	require.NoError(t, err)
	got := rows(t, pool, day)
	require.Len(t, got, 3)
	// 200, 300, 400, 1000: 300.
	assert.Equal(t, row{Category: "led-lighting", Currency: "USD", Index: ptr(300), Products: 4, QuoteMedian: ptr(120), Quotes: 2}, got[1])
	var total int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM price_index`).Scan(&total))
	assert.Equal(t, 3, total)

	// Two days later (nothing taken the day between): the series has the
	// day and a gap, nothing carried forward.
	later := day.AddDate(0, 0, 2)
	_, err = svc.Snapshot(ctx, later, later.Add(time.Hour))
	require.NoError(t, err)
	tr, err := svc.Trend(ctx, pricetrend.Query{Category: "led-lighting", Currency: "USD", Days: "30"}, later.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "2026-10-24", tr.From)
	assert.Equal(t, "2026-11-22", tr.To)
	assert.Equal(t, []pricetrend.Point{
		{Day: "2026-11-20", Index: ptr(300), Products: 4, QuoteMedian: ptr(120), Quotes: 2},
		{Day: "2026-11-22", Index: ptr(300), Products: 4},
	}, tr.Series)
	assert.Equal(t, "2026-11-22", tr.Marks.Latest)
	assert.False(t, tr.Marks.HistoricLow, "two days are too few for a low")
	assert.Nil(t, tr.Marks.ChangeBP)
}

// A bad category, currency or window is refused by its field.
func TestTrendRefusesBadFields(t *testing.T) {
	svc := pricetrend.New(nil)
	for _, c := range []struct {
		q     pricetrend.Query
		field string
	}{
		{pricetrend.Query{Category: "LED Lighting", Currency: "USD"}, "category"},
		{pricetrend.Query{Category: "", Currency: "USD"}, "category"},
		{pricetrend.Query{Category: "led-lighting", Currency: "usd"}, "currency"},
		{pricetrend.Query{Category: "led-lighting", Currency: "XXX"}, "currency"},
		{pricetrend.Query{Category: "led-lighting"}, "currency"},
		{pricetrend.Query{Category: "led-lighting", Currency: "USD", Days: "7"}, "days"},
		{pricetrend.Query{Category: "led-lighting", Currency: "USD", Days: "thirty"}, "days"},
	} {
		_, err := svc.Trend(context.Background(), c.q, time.Now())
		var fe *pricetrend.FieldError
		if assert.True(t, errors.As(err, &fe), "%+v: %v", c.q, err) {
			assert.Equal(t, c.field, fe.Field, "%+v", c.q)
		}
	}
}

// series is a series ending at today: index[i] is the index of the day i
// days before today, 0 for a day without a row.
func series(today time.Time, index ...int64) []pricetrend.Point {
	var out []pricetrend.Point
	for back := len(index) - 1; back >= 0; back-- {
		if index[back] == 0 {
			continue
		}
		out = append(out, pricetrend.Point{Day: today.AddDate(0, 0, -back).Format("2006-01-02"), Index: ptr(index[back]), Products: 3})
	}
	return out
}

func repeat(v int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestMarks(t *testing.T) {
	today := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	noon := today.Add(12 * time.Hour)
	marks := func(s []pricetrend.Point) pricetrend.Marks {
		t.Helper()
		m, err := pricetrend.MarksOf(s, noon)
		require.NoError(t, err)
		return m
	}

	// A historic low: 990 today below seven earlier days of 1000 (one a gap).
	low := marks(series(today, append([]int64{990}, append(repeat(1000, 3), append([]int64{0}, repeat(1000, 4)...)...)...)...))
	assert.True(t, low.HistoricLow)
	assert.Equal(t, "2026-11-20", low.Latest)
	// Six earlier days are too few.
	assert.False(t, marks(series(today, append([]int64{990}, repeat(1000, 6)...)...)).HistoricLow)
	// Equal to an earlier low is no new low.
	assert.False(t, marks(series(today, append([]int64{990}, append(repeat(1000, 7), 990)...)...)).HistoricLow)
	// The latest day yesterday still counts; two days ago is stale.
	assert.True(t, marks(series(today, append([]int64{0, 990}, repeat(1000, 7)...)...)).HistoricLow)
	stale := marks(series(today, append([]int64{0, 0, 990}, repeat(1000, 20)...)...))
	assert.Equal(t, pricetrend.Marks{}, stale)

	// A rise: this week's mean 1020 against last week's 1000 (+2 %).
	rise := marks(series(today, append(repeat(1020, 7), repeat(1000, 7)...)...))
	assert.True(t, rise.Rising)
	assert.False(t, rise.Falling)
	assert.EqualValues(t, 200, *rise.ChangeBP)
	assert.False(t, rise.HistoricLow)
	// Just under 2 %: steady.
	steady := marks(series(today, append(repeat(1019, 7), repeat(1000, 7)...)...))
	assert.False(t, steady.Rising)
	assert.False(t, steady.Falling)
	assert.EqualValues(t, 190, *steady.ChangeBP)
	// A fall: 980 against 1000, with gaps but four days a week (not a
	// low: 980 was seen before).
	fall := marks(series(today, 980, 0, 980, 0, 980, 980, 0, 1000, 1000, 0, 1000, 0, 1000, 0))
	assert.True(t, fall.Falling)
	assert.False(t, fall.Rising)
	assert.False(t, fall.HistoricLow)
	assert.EqualValues(t, -200, *fall.ChangeBP)
	// Too little data: three days in the earlier week.
	few := marks(series(today, 980, 980, 980, 980, 980, 980, 980, 1000, 1000, 1000))
	assert.Nil(t, few.ChangeBP)
	assert.False(t, few.Falling)
	// Nothing at all.
	assert.Equal(t, pricetrend.Marks{}, marks(nil))
}
