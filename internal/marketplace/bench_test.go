package marketplace_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/internal/ads"
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
	// 1,000 search ads on every 100th product, on its first two words
	// ("steel bolt") or its second ("bolt"), bidding 0.05 to 5.04 with
	// budgets that last the run: the "AdsOn" variants run the auction
	// after the search as the API does, for a buyer (whose searches count
	// impressions), and are to be compared with the same searches without.
	if _, err := pool.Exec(ctx, `INSERT INTO ads (id, supplier_org_id, product_id, keyword, terms, currency, max_cpc_minor, daily_budget_minor)
		SELECT gen_random_uuid(), p.supplier_org_id, p.id, k.keyword, tsvector_to_array(to_tsvector('english', k.keyword)), p.currency,
		       5 + (hashtext(p.sku) & 511) % 500, 10000000
		FROM products p, LATERAL (SELECT CASE WHEN substr(p.sku, 5)::int % 200 = 0
			THEN split_part(p.name, ' ', 1) || ' ' || split_part(p.name, ' ', 2) ELSE split_part(p.name, ' ', 2) END AS keyword) k
		WHERE substr(p.sku, 5)::int % 100 = 0`); err != nil {
		b.Fatal(err)
	}
	auctions := ads.New(pool, nil)
	buyer := ads.Viewer{User: uuid.New(), Org: uuid.New(), Buyer: true}
	word := func(i int, list []string) string { return list[i*7919%len(list)] }
	cat := func(i int) string { return fmt.Sprintf("cat-%02d", i*31%catalogseed.Categories) }
	yes := true

	keywords := func(i int) marketplace.SearchParams {
		return marketplace.SearchParams{Query: word(i, catalogseed.Adjectives) + " " + word(i+1, catalogseed.Nouns)}
	}
	keywordsFiltered := func(i int) marketplace.SearchParams {
		return marketplace.SearchParams{Query: word(i, catalogseed.Nouns), Category: cat(i), Certifications: []string{word(i, catalogseed.Certifications)}, MaxLeadTimeDays: 30}
	}
	for _, c := range []struct {
		name   string
		params func(i int) marketplace.SearchParams
		adsOn  bool
	}{
		{"Keywords", keywords, false},
		{"KeywordsAdsOn", keywords, true},
		{"KeywordsCategoryCertLeadTime", keywordsFiltered, false},
		{"KeywordsCategoryCertLeadTimeAdsOn", keywordsFiltered, true},
		{"CategoryPriceAtQuantitySortedByPrice", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Category: cat(i), Quantity: 1000, MinPrice: 5_000, MaxPrice: 50_000, Currency: "USD", Sort: marketplace.SortPrice}
		}, false},
		{"KeywordsRegionTierRatingCustomizable", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Query: word(i, catalogseed.Adjectives), Regions: []string{"CN"}, Tiers: []string{"gold", "platinum"},
				MinResponseRating: 3, Customizable: &yes, MaxMOQ: 500}
		}, false},
		{"EveryFilterSortedByLeadTime", func(i int) marketplace.SearchParams {
			return marketplace.SearchParams{Query: word(i, catalogseed.Nouns), Category: cat(i), Quantity: 500, MaxPrice: 80_000, Currency: "USD",
				MaxMOQ: 500, MaxLeadTimeDays: 60, Certifications: []string{word(i, catalogseed.Certifications)}, Regions: []string{word(i, catalogseed.Regions)[:2]},
				Tiers: []string{"silver", "gold", "platinum"}, Sort: marketplace.SortLeadTime}
		}, false},
		{"SecondPageOfKeywords", func(i int) marketplace.SearchParams {
			p := marketplace.SearchParams{Query: word(i, catalogseed.Nouns)}
			first, err := m.Search(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			p.Cursor = first.NextCursor
			return p
		}, false},
	} {
		b.Run(c.name, func(b *testing.B) {
			var lat, auction []time.Duration
			var searchOnly time.Duration
			found, sponsored := 0, 0
			i := 0
			for b.Loop() {
				p := c.params(i)
				t0 := time.Now()
				page, err := m.Search(ctx, p)
				if err != nil {
					b.Fatal(err)
				}
				if c.adsOn {
					t1 := time.Now()
					searchOnly += t1.Sub(t0)
					first := uuid.Nil
					if len(page.Items) > 0 {
						first = page.Items[0].ID
					}
					shown, err := auctions.Auction(ctx, p, first, buyer)
					if err != nil {
						b.Fatal(err)
					}
					sponsored += len(shown)
					auction = append(auction, time.Since(t1))
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
			if c.adsOn {
				b.ReportMetric(float64(sponsored)/float64(len(lat)), "ads/op")
				// The auction's own time, and the whole over the search
				// alone in the same iterations: the ads' overhead, apart
				// from how busy the machine was.
				var whole time.Duration
				for _, l := range lat {
					whole += l
				}
				b.ReportMetric(float64(whole)/float64(searchOnly), "with/without")
				slices.Sort(auction)
				b.ReportMetric(float64(auction[len(auction)/2].Microseconds()), "auction-p50-µs")
				if sponsored == 0 {
					b.Fatal("no search showed an ad: the benchmark measures no auction")
				}
			}
			if strings.Contains(c.name, "Keywords") && found == 0 {
				b.Fatal("no search found anything: the benchmark measures nothing")
			}
		})
	}
}
