package matching_test

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
	"github.com/tradeloop/tradeloop/internal/matching"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func org(t *testing.T, pool *pgxpool.Pool, name, role string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	require.NoError(t, pool.QueryRow(context.Background(), `INSERT INTO organizations (name) VALUES ($1) RETURNING id`, name).Scan(&id))
	_, err := pool.Exec(context.Background(), `INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, $3, $4)`, id, fmt.Sprintf("%s@%s.example", role, id), name, role)
	require.NoError(t, err)
	return id
}

func product(sku, category string, moq, price int64, lead int, region, currency string) marketplace.ProductInput {
	return marketplace.ProductInput{SKU: sku, Name: "Item " + sku, Category: category, Unit: "piece", MOQ: moq, Currency: currency,
		PriceTiers: []marketplace.PriceTier{{MinQuantity: moq, UnitPrice: price}}, LeadTimeDays: lead, OriginRegion: region}
}

// TestABuyerGetsTheOffersThatFitItsProfileOnce: seven suppliers of valves
// and pumps; the profile (valves and pumps, USD 1,000.00 an order, 30 days,
// from CN) fits five of their products, each supplier's cheapest fitting
// one; they are sent once per profile, and again when it changes.
func TestABuyerGetsTheOffersThatFitItsProfileOnce(t *testing.T) {
	pool := testenv.Postgres(t)
	ctx := context.Background()
	m := marketplace.New(pool)
	buyer := org(t, pool, "Buyer", "buyer")
	list := func(name string, products ...marketplace.ProductInput) uuid.UUID {
		s := org(t, pool, name, "supplier")
		for _, p := range products {
			_, _, err := m.SaveProduct(ctx, s, p)
			require.NoError(t, err)
		}
		return s
	}
	list("Valves A", product("A1", "valves", 10, 5_000, 20, "CN-ZJ", "USD"), product("A2", "valves", 10, 4_000, 20, "CN", "USD")) // A2: cheapest fitting
	list("Valves B", product("B1", "valves", 100, 900, 25, "CN", "USD"))                                                          // 100 × 9.00 = 900.00: fits
	list("Valves C", product("C1", "valves", 100, 1_100, 10, "DE", "USD"))                                                        // 1,100.00: over budget
	list("Valves D", product("D1", "valves", 1, 100, 45, "CN", "USD"))                                                            // 45 days: too slow
	list("Valves E", product("E1", "valves", 1, 100, 5, "CN", "EUR"))                                                             // another currency
	list("Pumps F", product("F1", "pumps", 2, 30_000, 30, "VN", "USD"))                                                           // 600.00 in 30 days: fits
	list("Pumps G", product("G1", "pumps", 5, 10_000, 14, "CN", "USD"))                                                           // 500.00: fits
	list("Toys H", product("H1", "toys", 1, 100, 1, "CN", "USD"))                                                                 // not its category

	s := matching.New(pool, m, "https://tradeloop.example")
	p := matching.Profile{Categories: []string{"valves", "pumps", "valves"}, Budget: 100_000, Currency: "USD", MaxLeadTimeDays: 30, Regions: []string{"CN"}}
	saved, offers, err := s.Save(ctx, buyer, p)
	require.NoError(t, err)
	assert.Equal(t, []string{"pumps", "valves"}, saved.Categories, "once each, sorted")
	var products []string
	for _, o := range offers {
		products = append(products, o.Product)
		assert.NotEmpty(t, o.Why)
	}
	assert.ElementsMatch(t, []string{"Item A2", "Item B1", "Item F1", "Item G1"}, products)
	for _, o := range offers {
		if o.Product == "Item B1" {
			assert.Contains(t, o.Why, "its MOQ of 100 costs USD 900.00, within your USD 1,000.00 budget")
			assert.Contains(t, o.Why, "made in CN, a region you prefer")
		}
	}

	sent := func() (out []notice.Facts) {
		rows, err := pool.Query(ctx, `SELECT facts FROM notification_outbox WHERE kind = 'matched_offer' AND org_id = $1 ORDER BY key`, buyer.String())
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var raw []byte
			require.NoError(t, rows.Scan(&raw))
			f, err := notice.Decode(raw)
			require.NoError(t, err)
			out = append(out, *f)
		}
		return out
	}
	require.Len(t, sent(), 4)
	for _, f := range sent() {
		assert.True(t, strings.HasPrefix(f.Ref, "https://tradeloop.example/app/products/"), f.Ref)
		assert.True(t, strings.HasSuffix(f.Ref, "?via=matching"), f.Ref)
	}
	_, _, err = s.Save(ctx, buyer, p)
	require.NoError(t, err)
	assert.Len(t, sent(), 4, "the same profile again sends nothing new")
	p.MaxLeadTimeDays = 60 // now D1 fits too
	_, offers, err = s.Save(ctx, buyer, p)
	require.NoError(t, err)
	assert.Len(t, offers, matching.MaxOffers, "five suppliers fit; at most five are sent")
	assert.Len(t, sent(), 4+matching.MaxOffers, "a changed profile's offers are sent")
	got, now, err := s.Of(ctx, buyer)
	require.NoError(t, err)
	assert.Equal(t, 60, got.MaxLeadTimeDays)
	assert.Len(t, now, matching.MaxOffers)
}

// TestAProfileIsBounded refuses what a profile cannot be, by field.
func TestAProfileIsBounded(t *testing.T) {
	ok := func() matching.Profile { return matching.Profile{Categories: []string{"valves"}, Currency: "USD"} }
	many := make([]string, 11)
	for i := range many {
		many[i] = fmt.Sprintf("c%d", i)
	}
	for field, change := range map[string]func(*matching.Profile){
		"categories":         func(p *matching.Profile) { p.Categories = nil },
		"categories ":        func(p *matching.Profile) { p.Categories = many },
		"categories  ":       func(p *matching.Profile) { p.Categories = []string{"Valves\x00"} },
		"regions":            func(p *matching.Profile) { p.Regions = []string{"China"} },
		"currency":           func(p *matching.Profile) { p.Currency = "XXX" },
		"budget_per_order":   func(p *matching.Profile) { p.Budget = -1 },
		"max_lead_time_days": func(p *matching.Profile) { p.MaxLeadTimeDays = 366 },
	} {
		p := ok()
		change(&p)
		var fe *matching.FieldError
		err := p.Validate()
		if assert.True(t, errors.As(err, &fe), "%s: %v", field, err) {
			assert.Equal(t, strings.TrimSpace(field), fe.Field)
		}
	}
	p := ok()
	require.NoError(t, p.Validate())
	pool := testenv.Postgres(t)
	_, _, err := matching.New(pool, marketplace.New(pool), "").Of(context.Background(), uuid.New())
	assert.ErrorIs(t, err, matching.ErrNoProfile)
}
