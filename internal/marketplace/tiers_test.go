package marketplace_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/internal/tier"
)

func TestComputeTier(t *testing.T) {
	top := marketplace.SupplierStats{GMV: 100_000_000, Rating: 4.8, RatingsCount: 12, QuotesOnTime: 20,
		MedianResponse: 10 * time.Minute, HasResponse: true}
	for _, c := range []struct {
		name   string
		change func(*marketplace.SupplierStats)
		tier   string
		reason string
	}{
		{"everything", func(*marketplace.SupplierStats) {}, "platinum", "meets platinum"},
		{"one cent short of the GMV", func(s *marketplace.SupplierStats) { s.GMV-- }, "gold", "not platinum: GMV 999999.99 USD < 1000000.00 USD"},
		{"rated 4.4", func(s *marketplace.SupplierStats) { s.Rating = 4.4 }, "gold", "rating 4.40 < 4.5"},
		{"one SLA miss", func(s *marketplace.SupplierStats) { s.RecentMisses = 1 }, "gold", "1 SLA misses in 30 days > 0"},
		{"slow answers", func(s *marketplace.SupplierStats) { s.MedianResponse = 90 * time.Minute }, "silver", "not gold: median response over 1h0m0s"},
		{"late on 2 of 10", func(s *marketplace.SupplierStats) { s.QuotesOnTime, s.QuotesLate = 8, 2 }, "silver", "quoted in time 8/10 < 90%"},
		{"never quoted", func(s *marketplace.SupplierStats) { s.QuotesOnTime, s.HasResponse = 0, false }, "bronze", "no quotes yet"},
		{"no ratings", func(s *marketplace.SupplierStats) { s.RatingsCount = 0 }, "bronze", "0 ratings < 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := top
			c.change(&s)
			tier, reason := marketplace.ComputeTier(s)
			assert.Equal(t, c.tier, tier)
			assert.Contains(t, reason, c.reason)
		})
	}
}

func TestRecalculateTiersFromTheReadModelSetsCommission(t *testing.T) {
	pool := testenv.Postgres(t)
	s := seeder{t, pool}
	now := time.Now().UTC().Truncate(time.Second)
	old := now.AddDate(-2, 0, 0)
	buyer := s.org("Buyer", "buyer", old)
	// Riser was bronze: 5 completed USD deals of 52,000.00 (GMV 260,000.00),
	// an EUR deal that does not count, 5 ratings averaging 4.4, and 10
	// quotes each 20 minutes after the invitation: gold (not platinum: GMV
	// under 1,000,000.00, fewer than 10 ratings).
	riser := s.supplier("Riser", "bronze", old, nil, nil, nil)
	for i := range 10 {
		id := fmt.Sprintf("r%d", i)
		invited := now.AddDate(0, 0, -60+i)
		d := deal{id: id, buyer: buyer, stage: "QUOTING", category: "valves", currency: "USD", createdAt: invited}
		switch {
		case i < 5:
			d.stage, d.supplier, d.total, d.updatedAt = "COMPLETED", &riser, 5_200_000, now.AddDate(0, 0, -10)
		case i == 5:
			d.stage, d.supplier, d.total, d.currency, d.updatedAt = "COMPLETED", &riser, 90_000_000, "EUR", now.AddDate(0, 0, -10)
		}
		s.deal(d)
		s.invitation(id, riser, "QUOTED", invited)
		s.quote(id, riser, invited, 20*time.Minute, "OPEN")
		if i < 5 {
			s.exec(`INSERT INTO supplier_ratings (deal_id, supplier_org_id, buyer_org_id, stars) VALUES ($1, $2, $3, $4)`,
				id, riser, buyer, []int{5, 4, 4, 5, 4}[i])
		}
	}
	// Faller was silver with no activity but one recent missed quote: bronze.
	faller := s.supplier("Faller", "silver", old, nil, nil, nil)
	s.deal(deal{id: "f1", buyer: buyer, stage: "EXPIRED", category: "valves", currency: "USD", createdAt: now.AddDate(0, 0, -3)})
	s.invitation("f1", faller, "LATE", now.AddDate(0, 0, -3))

	m := marketplace.New(pool)
	sum, err := m.RecalculateTiers(context.Background(), now)
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Suppliers)
	changes := map[string]string{}
	for _, c := range sum.Changes {
		changes[c.OrgID] = c.From + "→" + c.To
		if c.OrgID == riser.String() {
			assert.Equal(t, int64(200), c.CommissionBP, "gold pays 2 % commission")
		}
	}
	assert.Equal(t, map[string]string{riser.String(): "bronze→gold", faller.String(): "silver→bronze"}, changes)

	q := store.New(pool)
	p, err := q.GetSupplierProfile(context.Background(), riser)
	require.NoError(t, err)
	assert.Equal(t, "gold", p.Tier)
	assert.Equal(t, int64(26_000_000), p.GmvMinor)
	assert.InDelta(t, 4.4, p.Rating, 1e-9)
	assert.Equal(t, int32(5), p.RatingsCount)
	assert.Equal(t, int32(10), p.QuotesOnTime)
	require.NotNil(t, p.MedianResponseSecs)
	assert.Equal(t, int32(1200), *p.MedianResponseSecs)
	require.NotNil(t, p.ResponseRating)
	assert.Equal(t, int16(4), *p.ResponseRating, "a 20-minute median answer rates 4 of 5")
	assert.Contains(t, p.TierReason, "not platinum: GMV 260000.00 USD < 1000000.00 USD, 5 ratings < 10")

	// The commission a new deal with each supplier is priced at.
	got, err := m.SupplierTier(context.Background(), riser)
	require.NoError(t, err)
	assert.Equal(t, int64(200), tier.Of(got).CommissionBasisPoints())
	got, err = m.SupplierTier(context.Background(), faller)
	require.NoError(t, err)
	assert.Equal(t, int64(500), tier.Of(got).CommissionBasisPoints())

	// Recalculating again changes nothing.
	sum, err = m.RecalculateTiers(context.Background(), now)
	require.NoError(t, err)
	assert.Empty(t, sum.Changes)
}

// The suppliers table's CHECK constraint and tier.All name the same tiers:
// every tier the platform knows can be stored, and nothing else.
func TestTheDatabaseStoresEveryTierAndNoOther(t *testing.T) {
	pool := testenv.Postgres(t)
	s := seeder{t, pool}
	old := time.Now().UTC().AddDate(-1, 0, 0)
	for _, tr := range tier.All {
		s.supplier("Supplier "+string(tr), string(tr), old, nil, nil, nil)
	}
	for _, bad := range []string{"diamond", "Gold", "", "gold "} {
		id := s.org("Supplier "+bad, "supplier", old)
		_, err := pool.Exec(context.Background(), `INSERT INTO supplier_profiles (org_id, tier) VALUES ($1, $2)`, id, bad)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23514" {
			t.Errorf("tier %q stored: %v", bad, err)
		}
	}
}
