package marketplace_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

// TestFunnelFiguresWorkedOutByHand seeds March 2026 and checks every figure
// against the arithmetic written next to it.
func TestFunnelFiguresWorkedOutByHand(t *testing.T) {
	pool := testenv.Postgres(t)
	s := seeder{t, pool}
	day := func(d int) time.Time { return time.Date(2026, 3, d, 10, 0, 0, 0, time.UTC) }
	old := day(1).AddDate(-1, 0, 0)
	buyer := s.org("Buyer", "buyer", old)
	s1 := s.supplier("S1", "gold", old, nil, nil, nil)
	s2 := s.supplier("S2", "silver", old, nil, nil, nil)
	s3 := s.supplier("S3", "bronze", old, nil, nil, nil)
	p := func(u uuid.UUID) *uuid.UUID { return &u }

	// In March: 8 inquiries.
	//   f1 COMPLETED USD 1000.00  led   quoted, accepted
	//   f2 COMPLETED USD  500.01  led   quoted, accepted
	//   f3 COMPLETED EUR  700.00  valves quoted, accepted
	//   f4 RESOLVED  USD  300.00  valves quoted, accepted, disputed
	//   f5 PRODUCTION USD 200.00  led   quoted, accepted
	//   f6 QUOTING               led   quoted
	//   f7 EXPIRED               valves
	//   f8 CANCELLED             led
	// Outside: f9 on 28 February and f10 at 00:00 on 1 April (the range's
	// end is exclusive).
	for _, d := range []deal{
		{id: "f1", stage: "COMPLETED", supplier: p(s1), total: 100_000, currency: "USD", category: "led-lighting", createdAt: day(2)},
		{id: "f2", stage: "COMPLETED", supplier: p(s1), total: 50_001, currency: "USD", category: "led-lighting", createdAt: day(3)},
		{id: "f3", stage: "COMPLETED", supplier: p(s1), total: 70_000, currency: "EUR", category: "valves", createdAt: day(4)},
		{id: "f4", stage: "RESOLVED", supplier: p(s2), total: 30_000, currency: "USD", category: "valves", createdAt: day(5)},
		{id: "f5", stage: "PRODUCTION", supplier: p(s2), total: 20_000, currency: "USD", category: "led-lighting", createdAt: day(6)},
		{id: "f6", stage: "QUOTING", currency: "USD", category: "led-lighting", createdAt: day(7)},
		{id: "f7", stage: "EXPIRED", currency: "USD", category: "valves", createdAt: day(8)},
		{id: "f8", stage: "CANCELLED", currency: "USD", category: "led-lighting", createdAt: day(31)},
		{id: "f9", stage: "COMPLETED", supplier: p(s1), total: 999_999, currency: "USD", category: "valves", createdAt: time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)},
		{id: "f10", stage: "QUOTING", currency: "USD", category: "valves", createdAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
	} {
		d.buyer = buyer
		s.deal(d)
	}
	for _, q := range []struct {
		deal string
		sup  uuid.UUID
	}{{"f1", s1}, {"f2", s1}, {"f3", s1}, {"f4", s2}, {"f5", s2}, {"f6", s2}, {"f9", s1}} {
		s.quote(q.deal, q.sup, day(1), time.Hour, "OPEN")
	}
	s.exec(`INSERT INTO disputes (deal_id, opened_by, reason, status, opened_at) VALUES ('f4', 'buyer', 'broken', 'DECIDED', $1)`, day(20))

	// Invitations sent in March: 8, of which 3 late.
	//   S1: f1 AWARDED, f2 QUOTED, f3 QUOTED        0 of 3 late
	//   S2: f1 LATE, f6 QUOTED, f8 DECLINED         1 of 3
	//   S3: f3 LATE, f7 LATE                        2 of 2
	// led-lighting: f1 ×2, f2, f6, f8 → 1 of 5 late; valves: f3 ×2, f7 → 2 of 3.
	for _, inv := range []struct {
		deal   string
		sup    uuid.UUID
		status string
		at     time.Time
	}{
		{"f1", s1, "AWARDED", day(2)}, {"f2", s1, "QUOTED", day(3)}, {"f3", s1, "QUOTED", day(4)},
		{"f1", s2, "LATE", day(2)}, {"f6", s2, "QUOTED", day(7)}, {"f8", s2, "DECLINED", day(31)},
		{"f3", s3, "LATE", day(4)}, {"f7", s3, "LATE", day(8)},
		{"f9", s3, "LATE", time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)},
	} {
		s.invitation(inv.deal, inv.sup, inv.status, inv.at)
	}

	// Commission booked in March: USD 30.00 + 10.00, EUR 14.00; February's
	// 99.99 does not count.
	for _, f := range []struct {
		deal, cur string
		amount    int64
	}{{"f1", "USD", 100_000}, {"f2", "USD", 50_001}, {"f3", "EUR", 70_000}, {"f9", "USD", 999_999}} {
		s.posting("fund-"+f.deal, f.deal, day(1).AddDate(0, -1, 0), "buyer:b", f.cur, -f.amount, "escrow:"+f.deal, f.cur, f.amount)
	}
	s.posting("c1", "f1", day(15), "escrow:f1", "USD", -100_000, "supplier:s1", "USD", 97_000, "platform:commission", "USD", 3_000)
	s.posting("c2", "f2", day(20), "escrow:f2", "USD", -50_001, "supplier:s1", "USD", 49_001, "platform:commission", "USD", 1_000)
	s.posting("c3", "f3", day(25), "escrow:f3", "EUR", -70_000, "supplier:s1", "EUR", 68_600, "platform:commission", "EUR", 1_400)
	s.posting("c9", "f9", time.Date(2026, 2, 28, 23, 30, 0, 0, time.UTC), "escrow:f9", "USD", -999_999, "supplier:s1", "USD", 990_000, "platform:commission", "USD", 9_999)

	m := marketplace.New(pool)
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	f, err := m.Funnel(context.Background(), from, to)
	require.NoError(t, err)

	assert.Equal(t, int64(8), f.Inquiries)
	assert.Equal(t, marketplace.Rate{Count: 6, Of: 8, Rate: 0.75}, f.QuoteRate)        // f1–f6 have quotes
	assert.Equal(t, marketplace.Rate{Count: 5, Of: 6, Rate: 0.8333}, f.AcceptanceRate) // f1–f5 awarded
	assert.Equal(t, marketplace.Rate{Count: 3, Of: 5, Rate: 0.6}, f.CompletionRate)    // f1–f3
	assert.Equal(t, marketplace.Rate{Count: 1, Of: 5, Rate: 0.2}, f.DisputeRate)       // f4
	assert.Equal(t, marketplace.Rate{Count: 3, Of: 8, Rate: 0.375}, f.SLAMissRate)     // 3 late of 8
	assert.Equal(t, []marketplace.CurrencyAmounts{
		// EUR: f3 alone. USD: f1 + f2 = 150,001; AOV 150,001 ÷ 2 = 75,000.5, rounded down.
		{Currency: "EUR", Completed: 1, GMV: 70_000, AOV: 70_000, Commission: 1_400},
		{Currency: "USD", Completed: 2, GMV: 150_001, AOV: 75_000, Commission: 4_000},
	}, f.Money)
	assert.Equal(t, []marketplace.SLAMisses{
		{Key: "led-lighting", Rate: marketplace.Rate{Count: 1, Of: 5, Rate: 0.2}},
		{Key: "valves", Rate: marketplace.Rate{Count: 2, Of: 3, Rate: 0.6667}},
	}, f.SLAMissByCategory)
	require.Len(t, f.SLAMissBySupplier, 3)
	assert.Equal(t, marketplace.SLAMisses{Key: s3.String(), Name: "S3", Rate: marketplace.Rate{Count: 2, Of: 2, Rate: 1}}, f.SLAMissBySupplier[0])
	assert.Equal(t, marketplace.SLAMisses{Key: s2.String(), Name: "S2", Rate: marketplace.Rate{Count: 1, Of: 3, Rate: 0.3333}}, f.SLAMissBySupplier[1])
	assert.Equal(t, marketplace.SLAMisses{Key: s1.String(), Name: "S1", Rate: marketplace.Rate{Count: 0, Of: 3, Rate: 0}}, f.SLAMissBySupplier[2])
}
