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

// TestFunnelLayersWorkedOutByHand seeds views, inquiries, quotes,
// shipments and old deals around March 2026 and checks each layer's figure
// against the arithmetic written next to it.
func TestFunnelLayersWorkedOutByHand(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	s := seeder{t, pool}
	m := marketplace.New(pool)
	at := func(month time.Month, d, h, min int) time.Time {
		return time.Date(2026, month, d, h, min, 0, 0, time.UTC)
	}
	old := at(1, 1, 0, 0).AddDate(-2, 0, 0)
	p := func(u uuid.UUID) *uuid.UUID { return &u }

	b1, b2, b3, b4 := s.org("B1", "buyer", old), s.org("B2", "buyer", old), s.org("B3", "buyer", old), s.org("B4", "buyer", old)
	q1, q2, q3, q4 := s.org("Quiet1", "buyer", old), s.org("Q2", "buyer", old), s.org("Q3", "buyer", old), s.org("Quiet4", "buyer", old)
	s1, s2 := s.supplier("S1", "gold", old, nil, nil, nil), s.supplier("S2", "silver", old, nil, nil, nil)
	s3 := s.supplier("S3", "bronze", at(3, 15, 0, 0), nil, nil, nil) // joined in March: counted
	s.supplier("S4", "bronze", at(4, 5, 0, 0), nil, nil, nil)        // joined after March: not
	s5 := s.supplier("S5", "bronze", old, nil, nil, nil)             // quoted in February only
	led := marketplace.Product{ID: uuid.New(), ProductInput: marketplace.ProductInput{Category: "led-lighting"}}
	valves := marketplace.Product{ID: uuid.New(), ProductInput: marketplace.ProductInput{Category: "valves"}}

	view := func(org uuid.UUID, pr marketplace.Product, ch marketplace.Channel, when time.Time) {
		t.Helper()
		require.NoError(t, m.RecordView(ctx, marketplace.View{Product: pr, ViewerOrg: org, ViewerUser: org, Channel: ch, At: when}))
	}
	// Views in March: 7.
	//   B1 led direct  5 Mar 10:00, 10:30 (same hour: the same view), 11:00, 9 Mar → 3
	//   B2 valves matching 6 Mar, led direct 20 Mar                            → 2
	//   B3 led reactivation 12 Mar                                             → 1
	//   B4 valves direct 7 Mar (and 28 Feb, 1 Apr 00:00: outside)              → 1
	view(b1, led, marketplace.ChannelDirect, at(3, 5, 10, 0))
	for range 1000 {
		view(b1, led, marketplace.ChannelDirect, at(3, 5, 10, 30))
	}
	view(b1, led, marketplace.ChannelDirect, at(3, 5, 11, 0))
	view(b1, led, marketplace.ChannelDirect, at(3, 9, 9, 0))
	view(b2, valves, marketplace.ChannelMatching, at(3, 6, 9, 0))
	view(b2, led, marketplace.ChannelDirect, at(3, 20, 9, 0))
	view(b3, led, marketplace.ChannelReactivation, at(3, 12, 9, 0))
	view(b4, valves, marketplace.ChannelDirect, at(3, 7, 9, 0))
	view(b4, valves, marketplace.ChannelDirect, at(2, 28, 9, 0))
	view(b4, valves, marketplace.ChannelDirect, at(4, 1, 0, 0))
	view(q2, valves, marketplace.ChannelDirect, at(2, 10, 9, 0)) // in the quiet period: Q2 is not quiet

	// Inquiries in March, all led-lighting:
	//   d1 B1 10 Mar COMPLETED (S1 quoted, awarded)  after B1's first led view: converted; origin direct (its 9 Mar view)
	//   d2 B2  8 Mar QUOTING   (S2 quoted)           before B2's first led view: not converted; no led view before: direct
	//   d3 B3 13 Mar CANCELLED                       after B3's view: converted; origin reactivation
	mar := []deal{
		{id: "d1", buyer: b1, stage: "COMPLETED", supplier: p(s1), total: 100_000, currency: "USD", category: "led-lighting", createdAt: at(3, 10, 9, 0)},
		{id: "d2", buyer: b2, stage: "QUOTING", currency: "USD", category: "led-lighting", createdAt: at(3, 8, 9, 0)},
		{id: "d3", buyer: b3, stage: "CANCELLED", currency: "USD", category: "led-lighting", createdAt: at(3, 13, 9, 0)},
	}
	want := map[string]marketplace.Channel{"d1": marketplace.ChannelDirect, "d2": marketplace.ChannelDirect, "d3": marketplace.ChannelReactivation}
	for _, d := range mar {
		s.deal(d)
		ch, err := m.RecordOrigin(ctx, marketplace.Origin{DealID: d.id, BuyerOrg: d.buyer, Category: d.category, At: d.createdAt})
		require.NoError(t, err)
		assert.Equal(t, want[d.id], ch, d.id)
	}
	// A repeat of d3's request keeps its first answer.
	ch, err := m.RecordOrigin(ctx, marketplace.Origin{DealID: "d3", BuyerOrg: b3, Category: "led-lighting", At: at(3, 30, 9, 0)})
	require.NoError(t, err)
	assert.Equal(t, marketplace.ChannelReactivation, ch)
	s.quote("d1", s1, at(3, 10, 9, 0), time.Hour, "ACCEPTED")
	s.quote("d2", s2, at(3, 8, 9, 0), time.Hour, "OPEN")

	// Before March: B1's December deal d0, whose goods S3 ships on 20 March
	// (S3 active); S5's quote in February (S5 not active in March).
	// Quiet1: 4 deals in late 2025, 3 completed (USD 100.00 + 200.00, EUR 50.00).
	// Q2: a completed deal in December, but a view on 10 February: not quiet.
	// Q3: a cancelled deal in November: quiet, no completed deal: not listed.
	// Quiet4: one completed deal on 15 December.
	prior := []deal{
		{id: "d0", buyer: b1, stage: "SHIPPING", supplier: p(s3), total: 5_000, currency: "USD", category: "led-lighting", createdAt: time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)},
		{id: "dq1a", buyer: q1, stage: "CANCELLED", currency: "USD", category: "valves", createdAt: time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)},
		{id: "dq1b", buyer: q1, stage: "COMPLETED", supplier: p(s1), total: 10_000, currency: "USD", category: "valves", createdAt: time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC)},
		{id: "dq1c", buyer: q1, stage: "COMPLETED", supplier: p(s1), total: 5_000, currency: "EUR", category: "valves", createdAt: time.Date(2025, 10, 2, 9, 0, 0, 0, time.UTC)},
		{id: "dq1d", buyer: q1, stage: "COMPLETED", supplier: p(s1), total: 20_000, currency: "USD", category: "valves", createdAt: time.Date(2025, 11, 1, 9, 0, 0, 0, time.UTC)},
		{id: "dq2", buyer: q2, stage: "COMPLETED", supplier: p(s1), total: 1_000, currency: "USD", category: "valves", createdAt: time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC)},
		{id: "dq3", buyer: q3, stage: "CANCELLED", currency: "USD", category: "valves", createdAt: time.Date(2025, 11, 1, 9, 0, 0, 0, time.UTC)},
		{id: "dq4", buyer: q4, stage: "COMPLETED", supplier: p(s2), total: 7_000, currency: "USD", category: "valves", createdAt: time.Date(2025, 12, 15, 9, 0, 0, 0, time.UTC)},
		{id: "dfeb", buyer: q3, stage: "QUOTING", currency: "USD", category: "valves", createdAt: time.Date(2025, 2, 1, 9, 0, 0, 0, time.UTC)},
	}
	for _, d := range prior {
		s.deal(d)
	}
	s.exec(`INSERT INTO shipments (deal_id, kind, carrier, tracking_number, status, shipped_at) VALUES ('d0', 'goods', 'ups', '1Z1', 'in_transit', $1)`, at(3, 20, 9, 0))
	s.quote("dfeb", s5, at(2, 10, 9, 0), time.Hour, "OPEN")

	// Reactivation messages: three sent in March (one followed), one in
	// February.
	for i, sent := range []time.Time{at(3, 2, 9, 0), at(3, 9, 9, 0), at(3, 30, 9, 0), at(2, 2, 9, 0)} {
		var clicked *time.Time
		if i == 1 {
			c := sent.Add(time.Hour)
			clicked = &c
		}
		s.exec(`INSERT INTO reactivation_messages (user_id, sent_at, quiet_since, clicked_at) SELECT id, $2::timestamptz, $2::timestamptz - interval '40 days', $3 FROM users WHERE org_id = $1`,
			q1, sent, clicked)
	}

	f, err := m.Funnel(ctx, at(3, 1, 0, 0), at(4, 1, 0, 0))
	require.NoError(t, err)
	assert.Equal(t, marketplace.Reactivation{Sent: 3, ReturnRate: marketplace.Rate{Count: 1, Of: 3, Rate: 0.3333}}, f.Reactivation)

	assert.Equal(t, int64(7), f.Views)
	assert.Equal(t, int64(4), f.Viewers)                                               // B1–B4
	assert.Equal(t, marketplace.Rate{Count: 2, Of: 4, Rate: 0.5}, f.InquiryConversion) // B1, B3
	assert.Equal(t, marketplace.Rate{Count: 2, Of: 3, Rate: 0.6667}, f.QuoteRate)      // d1, d2 of d1–d3
	assert.Equal(t, []marketplace.CategoryFunnel{
		{Category: "led-lighting", Views: 5, Viewers: 3, InquiryConversion: marketplace.Rate{Count: 2, Of: 3, Rate: 0.6667},
			Inquiries: 3, QuoteRate: marketplace.Rate{Count: 2, Of: 3, Rate: 0.6667}, AcceptanceRate: marketplace.Rate{Count: 1, Of: 2, Rate: 0.5},
			CompletionRate: marketplace.Rate{Count: 1, Of: 1, Rate: 1}},
		{Category: "valves", Views: 2, Viewers: 2, InquiryConversion: marketplace.Rate{Count: 0, Of: 2}},
	}, f.ByCategory)
	assert.Equal(t, []marketplace.ChannelFunnel{
		{Channel: marketplace.ChannelDirect, Views: 5, Viewers: 3, Inquiries: 2, CompletionRate: marketplace.Rate{Count: 1, Of: 1, Rate: 1}},
		{Channel: marketplace.ChannelMatching, Views: 1, Viewers: 1},
		{Channel: marketplace.ChannelReactivation, Views: 1, Viewers: 1, Inquiries: 1},
		{Channel: marketplace.ChannelReferral},
	}, f.ByChannel)
	assert.Equal(t, []marketplace.MonthFigures{{Month: "2026-03",
		SupplierActiveRate: marketplace.Rate{Count: 3, Of: 4, Rate: 0.75},   // S1, S2 quoted, S3 shipped; S5 idle; S4 not yet there
		BuyerRepeatRate:    marketplace.Rate{Count: 1, Of: 3, Rate: 0.3333}, // B1 had d0; B2, B3 new
	}}, f.Months)
	// At 1 April, quiet since 1 January: of 7 buyers with an inquiry
	// (B1–B3, Quiet1, Q2, Q3, Quiet4), Quiet1, Q3 and Quiet4 are quiet.
	assert.Equal(t, marketplace.Churn{QuietSince: at(1, 1, 0, 0), Rate: marketplace.Rate{Count: 3, Of: 7, Rate: 0.4286}}, f.Churn)
	require.Len(t, f.QuietBuyers, 2)
	assert.Equal(t, marketplace.QuietBuyer{OrgID: q1.String(), Name: "Quiet1", CompletedDeals: 3,
		GMV: []marketplace.Amount{{Currency: "EUR", Amount: 5_000}, {Currency: "USD", Amount: 30_000}}, LastInquiryAt: prior[4].createdAt,
		LastDeals: []marketplace.QuietBuyerDeal{
			{ID: "dq1d", Product: "widgets", Stage: "COMPLETED", Total: 20_000, Currency: "USD", CreatedAt: prior[4].createdAt},
			{ID: "dq1c", Product: "widgets", Stage: "COMPLETED", Total: 5_000, Currency: "EUR", CreatedAt: prior[3].createdAt},
			{ID: "dq1b", Product: "widgets", Stage: "COMPLETED", Total: 10_000, Currency: "USD", CreatedAt: prior[2].createdAt},
		}}, f.QuietBuyers[0])
	assert.Equal(t, q4.String(), f.QuietBuyers[1].OrgID)
	assert.Equal(t, "Quiet4", f.QuietBuyers[1].Name)
	assert.Len(t, f.QuietBuyers[1].LastDeals, 1)
}

// TestFunnelMonthsAreTheCalendarMonthsTheRangeTouches checks a range across
// a year's end lists each month once, in order, with no activity as 0 of 0.
func TestFunnelMonthsAreTheCalendarMonthsTheRangeTouches(t *testing.T) {
	pool := testenv.Postgres(t)
	m := marketplace.New(pool)
	f, err := m.Funnel(context.Background(), time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	var months []string
	for _, mo := range f.Months {
		months = append(months, mo.Month)
		assert.Equal(t, marketplace.Rate{}, mo.BuyerRepeatRate)
	}
	assert.Equal(t, []string{"2025-11", "2025-12", "2026-01"}, months)
	assert.Empty(t, f.QuietBuyers)
	assert.Len(t, f.ByChannel, 4)
}
