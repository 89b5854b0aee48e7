package marketplace_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/internal/tier"
)

// Volumes of the search benchmark: 100,000 products of 500 suppliers in 20
// categories.
const (
	benchProducts   = 100_000
	benchSuppliers  = 500
	benchCategories = 20
)

var (
	benchAdjectives = []string{"steel", "brass", "cotton", "organic", "waterproof", "industrial", "led", "solar", "stainless", "plastic", "ceramic", "bamboo"}
	benchNouns      = []string{"bolt", "valve", "shirt", "panel", "lamp", "pump", "cable", "hinge", "bottle", "bag", "gear", "filter", "tile", "cup"}
	benchCerts      = []string{"CE", "ISO 9001", "RoHS", "FDA", "UL", "FSC"}
	benchRegions    = []string{"CN-ZJ", "CN-GD", "CN-JS", "VN", "IN-GJ", "TR", "DE", "MX", "US-CA", "PL"}
)

// seedProducts fills the catalog with COPY.
func seedProducts(b *testing.B, pool *pgxpool.Pool) {
	b.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	var orgs, profiles, products [][]any
	sups := make([]uuid.UUID, benchSuppliers)
	joined := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range sups {
		sups[i] = uuid.New()
		orgs = append(orgs, []any{sups[i], fmt.Sprintf("Supplier %03d", i), joined})
		profiles = append(profiles, []any{sups[i], []string{}, []string{}, []string{}, string(tier.All[r.IntN(len(tier.All))]), int16(1 + r.IntN(5))})
	}
	for i := range benchProducts {
		adj, noun, adj2 := benchAdjectives[r.IntN(len(benchAdjectives))], benchNouns[r.IntN(len(benchNouns))], benchAdjectives[r.IntN(len(benchAdjectives))]
		moq := int64([]int{1, 10, 50, 100, 500, 1000}[r.IntN(6)])
		price := int64(100 + r.IntN(100_000))
		var certs []string
		for _, c := range benchCerts {
			if r.IntN(3) == 0 {
				certs = append(certs, c)
			}
		}
		slices.Sort(certs)
		if certs == nil {
			certs = []string{}
		}
		products = append(products, []any{
			sups[r.IntN(benchSuppliers)], fmt.Sprintf("SKU-%06d", i), fmt.Sprintf("%s %s %s", adj, noun, []string{"", "pro", "mini", "xl"}[r.IntN(4)]),
			fmt.Sprintf("A %s %s made to order, %s finish. Ships worldwide.", adj2, noun, adj),
			fmt.Sprintf("cat-%02d", r.IntN(benchCategories)), "piece", moq, "USD",
			[]int64{moq, moq * 10, moq * 100}, []int64{price, price * 9 / 10, price * 8 / 10}, price,
			int32(1 + r.IntN(90)), certs, r.IntN(2) == 0, benchRegions[r.IntN(len(benchRegions))], r.IntN(2) == 0, int64(r.IntN(5000)),
		})
	}
	copyRows(b, pool, "organizations", []string{"id", "name", "created_at"}, orgs)
	copyRows(b, pool, "supplier_profiles", []string{"org_id", "categories", "regions", "certifications", "tier", "response_rating"}, profiles)
	copyRows(b, pool, "products", []string{"supplier_org_id", "sku", "name", "description", "category", "unit", "moq", "currency",
		"tier_min_qty", "tier_unit_minor", "from_unit_minor", "lead_time_days", "certifications", "customizable", "origin_region",
		"sample_available", "sample_price_minor"}, products)
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}

func copyRows(b *testing.B, pool *pgxpool.Pool, table string, cols []string, rows [][]any) {
	b.Helper()
	if _, err := pool.CopyFrom(context.Background(), pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		b.Fatalf("copy %s: %v", table, err)
	}
}

// BenchmarkSearch100k times product searches with combined filters on
// 100,000 products and reports their latency percentiles:
//
//	go test -run '^$' -bench Search100k -benchtime 1000x ./internal/marketplace
func BenchmarkSearch100k(b *testing.B) {
	pool := testenv.Postgres(b)
	t0 := time.Now()
	seedProducts(b, pool)
	b.Logf("seeded %d products of %d suppliers in %s", benchProducts, benchSuppliers, time.Since(t0).Round(time.Millisecond))
	m := marketplace.New(pool)
	ctx := context.Background()
	word := func(i int, list []string) string { return list[i*7919%len(list)] }
	cat := func(i int) string { return fmt.Sprintf("cat-%02d", i*31%benchCategories) }
	yes := true

	for _, c := range []struct {
		name   string
		params func(i int) marketplace.SearchParams
	}{
		{"Keywords", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Query: word(i, benchAdjectives) + " " + word(i+1, benchNouns)}
		}},
		{"KeywordsCategoryCertLeadTime", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Query: word(i, benchNouns), Category: cat(i), Certifications: []string{word(i, benchCerts)}, MaxLeadTimeDays: 30}
		}},
		{"CategoryPriceAtQuantitySortedByPrice", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Category: cat(i), Quantity: 1000, MinPrice: 5_000, MaxPrice: 50_000, Currency: "USD", Sort: marketplace.SortPrice}
		}},
		{"KeywordsRegionTierRatingCustomizable", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Query: word(i, benchAdjectives), Regions: []string{"CN"}, Tiers: []string{"gold", "platinum"},
				MinResponseRating: 3, Customizable: &yes, MaxMOQ: 500}
		}},
		{"EveryFilterSortedByLeadTime", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Query: word(i, benchNouns), Category: cat(i), Quantity: 500, MaxPrice: 80_000, Currency: "USD",
				MaxMOQ: 500, MaxLeadTimeDays: 60, Certifications: []string{word(i, benchCerts)}, Regions: []string{word(i, benchRegions)[:2]},
				Tiers: []string{"silver", "gold", "platinum"}, Sort: marketplace.SortLeadTime}
		}},
		{"SecondPageOfKeywords", func(i int) marketplace.SearchParams {
			p := marketplace.SearchParams{Query: word(i, benchNouns)}
			first, err := m.Search(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			p.Cursor = first.NextCursor
			return p
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			found := 0
			i := 0
			for b.Loop() {
				p := c.params(i)
				t0 := time.Now()
				page, err := m.Search(ctx, p)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				found += len(page.Items)
				i++
			}
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) }
			b.ReportMetric(pct(0.50), "p50-µs")
			b.ReportMetric(pct(0.99), "p99-µs")
			b.ReportMetric(float64(found)/float64(len(lat)), "hits/op")
			if strings.Contains(c.name, "Keywords") && found == 0 {
				b.Fatal("no search found anything: the benchmark measures nothing")
			}
		})
	}
}
