package marketplace_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/marketplace/catalogseed"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

// BenchmarkSearch100k times product searches with combined filters on
// 100,000 products and reports their latency percentiles:
//
//	go test -run '^$' -bench Search100k -benchtime 1000x ./internal/marketplace
func BenchmarkSearch100k(b *testing.B) {
	pool := testenv.Postgres(b)
	t0 := time.Now()
	catalogseed.Seed(b, pool)
	b.Logf("seeded %d products of %d suppliers in %s", catalogseed.Products, catalogseed.Suppliers, time.Since(t0).Round(time.Millisecond))
	m := marketplace.New(pool)
	ctx := context.Background()
	word := func(i int, list []string) string { return list[i*7919%len(list)] }
	cat := func(i int) string { return fmt.Sprintf("cat-%02d", i*31%catalogseed.Categories) }
	yes := true

	for _, c := range []struct {
		name   string
		params func(i int) marketplace.SearchParams
	}{
		{"Keywords", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Query: word(i, catalogseed.Adjectives) + " " + word(i+1, catalogseed.Nouns)}
		}},
		{"KeywordsCategoryCertLeadTime", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Query: word(i, catalogseed.Nouns), Category: cat(i), Certifications: []string{word(i, catalogseed.Certifications)}, MaxLeadTimeDays: 30}
		}},
		{"CategoryPriceAtQuantitySortedByPrice", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Category: cat(i), Quantity: 1000, MinPrice: 5_000, MaxPrice: 50_000, Currency: "USD", Sort: marketplace.SortPrice}
		}},
		{"KeywordsRegionTierRatingCustomizable", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Query: word(i, catalogseed.Adjectives), Regions: []string{"CN"}, Tiers: []string{"gold", "platinum"},
				MinResponseRating: 3, Customizable: &yes, MaxMOQ: 500}
		}},
		{"EveryFilterSortedByLeadTime", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Query: word(i, catalogseed.Nouns), Category: cat(i), Quantity: 500, MaxPrice: 80_000, Currency: "USD",
				MaxMOQ: 500, MaxLeadTimeDays: 60, Certifications: []string{word(i, catalogseed.Certifications)}, Regions: []string{word(i, catalogseed.Regions)[:2]},
				Tiers: []string{"silver", "gold", "platinum"}, Sort: marketplace.SortLeadTime}
		}},
		{"SecondPageOfKeywords", func(i int) marketplace.SearchParams {
			p := marketplace.SearchParams{Query: word(i, catalogseed.Nouns)}
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
