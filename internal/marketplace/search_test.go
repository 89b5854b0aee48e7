package marketplace_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

type tiers = []marketplace.PriceTier

// searchCatalog lists five products of three suppliers:
//
//	P1 LED panel light       led-lighting MOQ 100  100:1200 1000:1000 USD  20 d  CE, ISO 9001  custom  CN-ZJ  Alpha (gold, response 5)
//	P2 LED panel light slim  led-lighting MOQ 500  500:1100           USD  30 d  CE            -       CN-GD  Beta (bronze, response 2)
//	P3 LED bulb              led-lighting MOQ 1000 1000:150 10000:120 USD  10 d  RoHS          -       VN     Gamma (platinum, response 4)
//	P4 Brass ball valve      valves       MOQ 50   50:900             USD  45 d  ISO 9001      custom  IN-GJ  Gamma
//	P5 LED panel light       led-lighting MOQ 10   10:1500 100:1300   EUR   7 d  CE            custom  DE     Beta
func searchCatalog(t *testing.T) (*marketplace.Market, map[string]string) {
	t.Helper()
	pool := testenv.Postgres(t)
	s := seeder{t, pool}
	old := time.Now().AddDate(-1, 0, 0)
	alpha := s.supplier("Alpha", "gold", old, nil, nil, nil)
	beta := s.supplier("Beta", "bronze", old, nil, nil, nil)
	gamma := s.supplier("Gamma", "platinum", old, nil, nil, nil)
	s.exec(`UPDATE supplier_profiles SET response_rating = CASE org_id WHEN $1 THEN 5 WHEN $2 THEN 2 ELSE 4 END`, alpha, beta)
	m := marketplace.New(pool)
	ids := map[string]string{} // product ID → SKU
	for _, p := range []struct {
		sup uuid.UUID
		in  marketplace.ProductInput
	}{
		{alpha, marketplace.ProductInput{SKU: "P1", Name: "LED panel light", Category: "led-lighting", Unit: "piece", MOQ: 100, Currency: "USD",
			PriceTiers: tiers{{100, 1200}, {1000, 1000}}, LeadTimeDays: 20, Certifications: []string{"CE", "ISO 9001"}, Customizable: true, OriginRegion: "CN-ZJ"}},
		{beta, marketplace.ProductInput{SKU: "P2", Name: "LED panel light slim", Category: "led-lighting", Unit: "piece", MOQ: 500, Currency: "USD",
			PriceTiers: tiers{{500, 1100}}, LeadTimeDays: 30, Certifications: []string{"CE"}, OriginRegion: "CN-GD"}},
		{gamma, marketplace.ProductInput{SKU: "P3", Name: "LED bulb", Category: "led-lighting", Unit: "piece", MOQ: 1000, Currency: "USD",
			PriceTiers: tiers{{1000, 150}, {10000, 120}}, LeadTimeDays: 10, Certifications: []string{"RoHS"}, OriginRegion: "VN"}},
		{gamma, marketplace.ProductInput{SKU: "P4", Name: "Brass ball valve", Category: "valves", Unit: "piece", MOQ: 50, Currency: "USD",
			PriceTiers: tiers{{50, 900}}, LeadTimeDays: 45, Certifications: []string{"ISO 9001"}, Customizable: true, OriginRegion: "IN-GJ"}},
		{beta, marketplace.ProductInput{SKU: "P5", Name: "LED panel light", Category: "led-lighting", Unit: "piece", MOQ: 10, Currency: "EUR",
			PriceTiers: tiers{{10, 1500}, {100, 1300}}, LeadTimeDays: 7, Certifications: []string{"CE"}, Customizable: true, OriginRegion: "DE"}},
	} {
		saved, created, err := m.SaveProduct(context.Background(), p.sup, p.in)
		require.NoError(t, err)
		require.True(t, created)
		ids[saved.ID.String()] = saved.SKU
	}
	return m, ids
}

func skus(page marketplace.Page) []string {
	out := []string{}
	for _, h := range page.Items {
		out = append(out, h.SKU)
	}
	return out
}

func TestSearchEveryFilter(t *testing.T) {
	m, _ := searchCatalog(t)
	yes, no := true, false
	for _, c := range []struct {
		name string
		p    marketplace.SearchParams
		want []string
	}{
		{"keywords rank the gold supplier's exact match first", marketplace.SearchParams{Query: "panel"}, []string{"P1", "P5", "P2"}},
		{"category", marketplace.SearchParams{Category: "valves"}, []string{"P4"}},
		{"price at a quantity", marketplace.SearchParams{Quantity: 1000, MaxPrice: 1000, Currency: "USD", Sort: "price"}, []string{"P3", "P4", "P1"}},
		{"price range at a quantity", marketplace.SearchParams{Quantity: 1000, MinPrice: 1000, MaxPrice: 1150, Currency: "USD", Sort: "price"}, []string{"P1", "P2"}},
		{"a quantity under the MOQ", marketplace.SearchParams{Quantity: 99, Sort: "price"}, []string{"P4", "P5"}},
		{"MOQ at most", marketplace.SearchParams{MaxMOQ: 100, Sort: "lead_time"}, []string{"P5", "P1", "P4"}},
		{"lead time at most", marketplace.SearchParams{MaxLeadTimeDays: 20, Sort: "lead_time"}, []string{"P5", "P3", "P1"}},
		{"every certification", marketplace.SearchParams{Certifications: []string{"CE", "ISO 9001"}}, []string{"P1"}},
		{"one certification", marketplace.SearchParams{Certifications: []string{"CE"}, Sort: "lead_time"}, []string{"P5", "P1", "P2"}},
		{"customizable", marketplace.SearchParams{Customizable: &yes, Sort: "lead_time"}, []string{"P5", "P1", "P4"}},
		{"not customizable", marketplace.SearchParams{Customizable: &no, Sort: "lead_time"}, []string{"P3", "P2"}},
		{"a country takes its regions", marketplace.SearchParams{Regions: []string{"CN"}, Sort: "lead_time"}, []string{"P1", "P2"}},
		{"regions", marketplace.SearchParams{Regions: []string{"CN-ZJ", "VN"}, Sort: "lead_time"}, []string{"P3", "P1"}},
		{"supplier tier", marketplace.SearchParams{Tiers: []string{"gold", "platinum"}, Sort: "lead_time"}, []string{"P3", "P1", "P4"}},
		{"response rating", marketplace.SearchParams{MinResponseRating: 4, Sort: "lead_time"}, []string{"P3", "P1", "P4"}},
		{"currency", marketplace.SearchParams{Currency: "EUR"}, []string{"P5"}},
		{"sort by price", marketplace.SearchParams{Currency: "USD", Sort: "price"}, []string{"P3", "P4", "P2", "P1"}},
		{"sort by lead time", marketplace.SearchParams{Sort: "lead_time"}, []string{"P5", "P3", "P1", "P2", "P4"}},
		{"no keyword match", marketplace.SearchParams{Query: "forklift"}, []string{}},
		{"combined", marketplace.SearchParams{Query: "led", Category: "led-lighting", MaxLeadTimeDays: 25, Certifications: []string{"CE"},
			Regions: []string{"CN"}, Quantity: 500, MaxPrice: 1200, Currency: "USD", Tiers: []string{"gold"}, MinResponseRating: 5, Customizable: &yes}, []string{"P1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			page, err := m.Search(context.Background(), c.p)
			require.NoError(t, err)
			assert.Equal(t, c.want, skus(page))
			assert.Empty(t, page.NextCursor)
		})
	}

	page, err := m.Search(context.Background(), marketplace.SearchParams{Quantity: 1000, Currency: "USD", Sort: "price"})
	require.NoError(t, err)
	for _, h := range page.Items {
		if h.SKU == "P1" {
			assert.Equal(t, int64(1000), h.UnitPrice, "P1 is priced at its 1000-piece tier")
			assert.Equal(t, "Alpha", h.SupplierName)
			assert.Equal(t, "gold", h.SupplierTier)
		}
	}
}

func TestSearchRejectsBadFilters(t *testing.T) {
	m := marketplace.New(nil) // validation fails before the database is asked
	for _, p := range []marketplace.SearchParams{
		{MaxPrice: 100}, // no currency
		{MinPrice: 200, MaxPrice: 100, Currency: "USD"},
		{Regions: []string{"china"}},
		{Tiers: []string{"diamond"}},
		{Sort: "popularity"},
		{Limit: 1000},
		{Category: "LED Lighting"},
		{MinResponseRating: 6},
	} {
		_, err := m.Search(context.Background(), p)
		var fe marketplace.FieldError
		assert.ErrorAs(t, err, &fe, "%+v", p)
	}
}

func TestSearchPagesWithKeysetCursors(t *testing.T) {
	m, _ := searchCatalog(t)
	for _, p := range []marketplace.SearchParams{
		{},                               // relevance: tier boost, then newest ID first
		{Query: "led light"},             // relevance by text
		{Sort: "price", Currency: "USD"}, // price
		{Sort: "lead_time"},
		{Sort: "price", Quantity: 1000},
	} {
		t.Run(fmt.Sprintf("%+v", p), func(t *testing.T) {
			all, err := m.Search(context.Background(), p)
			require.NoError(t, err)
			var paged []string
			p.Limit = 2
			for range 10 {
				page, err := m.Search(context.Background(), p)
				require.NoError(t, err)
				paged = append(paged, skus(page)...)
				if page.NextCursor == "" {
					break
				}
				p.Cursor = page.NextCursor
			}
			assert.Equal(t, skus(all), paged, "pages of two give the same products in the same order")
		})
	}
	_, err := m.Search(context.Background(), marketplace.SearchParams{Cursor: "not-a-cursor"})
	assert.ErrorIs(t, err, marketplace.ErrBadCursor)
}

func TestRecentSearchesKeepTheLastTen(t *testing.T) {
	pool := testenv.Postgres(t)
	s := seeder{t, pool}
	org := s.org("Buyer", "buyer", time.Now())
	var user uuid.UUID
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT id FROM users WHERE org_id = $1`, org).Scan(&user))
	m := marketplace.New(pool)
	for i := 1; i <= 12; i++ {
		require.NoError(t, m.RecordSearch(context.Background(), user, marketplace.SearchParams{Query: fmt.Sprintf("s%d", i), MaxMOQ: int64(i)}))
	}
	recent, err := m.RecentSearches(context.Background(), user)
	require.NoError(t, err)
	require.Len(t, recent, 10)
	assert.Equal(t, "s12", recent[0].Params.Query)
	assert.Equal(t, int64(12), recent[0].Params.MaxMOQ)
	assert.Equal(t, "s3", recent[9].Params.Query)
	var stored int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM product_searches WHERE user_id = $1`, user).Scan(&stored))
	assert.Equal(t, 10, stored, "older searches are deleted, not just hidden")
}

func TestSimilarProductsShareCategoryAndWords(t *testing.T) {
	m, ids := searchCatalog(t)
	var p1 string
	for id, sku := range ids {
		if sku == "P1" {
			p1 = id
		}
	}
	hits, err := m.Similar(context.Background(), uuid.MustParse(p1), 10)
	require.NoError(t, err)
	var got []string
	for _, h := range hits {
		got = append(got, h.SKU)
	}
	require.Len(t, got, 3, "the other LED lighting products, not the valve, not itself")
	assert.ElementsMatch(t, []string{"P2", "P5"}, got[:2], "the panels share every word of the name")
	assert.Equal(t, "P3", got[2], "the bulb shares only 'LED'")
}
