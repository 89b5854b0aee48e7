// Package catalogseed fills a test database with a large catalog for
// benchmarks: the product search's and the console's pages.
package catalogseed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/internal/tier"
)

// The catalog's volumes: 100,000 products of 500 suppliers in 20
// categories.
const (
	Products   = 100_000
	Suppliers  = 500
	Categories = 20
)

// The words products are named from, and their certifications and
// regions.
var (
	Adjectives     = []string{"steel", "brass", "cotton", "organic", "waterproof", "industrial", "led", "solar", "stainless", "plastic", "ceramic", "bamboo"}
	Nouns          = []string{"bolt", "valve", "shirt", "panel", "lamp", "pump", "cable", "hinge", "bottle", "bag", "gear", "filter", "tile", "cup"}
	Certifications = []string{"CE", "ISO 9001", "RoHS", "FDA", "UL", "FSC"}
	Regions        = []string{"CN-ZJ", "CN-GD", "CN-JS", "VN", "IN-GJ", "TR", "DE", "MX", "US-CA", "PL"}
)

// Seed fills the catalog with COPY: Products products of Suppliers
// suppliers (organizations and supplier profiles), then ANALYZE.
func Seed(b testing.TB, pool *pgxpool.Pool) {
	b.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	var orgs, profiles, products [][]any
	sups := make([]uuid.UUID, Suppliers)
	joined := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range sups {
		sups[i] = uuid.New()
		orgs = append(orgs, []any{sups[i], fmt.Sprintf("Supplier %03d", i), joined})
		profiles = append(profiles, []any{sups[i], []string{}, []string{}, []string{}, string(tier.All[r.IntN(len(tier.All))]), int16(1 + r.IntN(5))})
	}
	for i := range Products {
		adj, noun, adj2 := Adjectives[r.IntN(len(Adjectives))], Nouns[r.IntN(len(Nouns))], Adjectives[r.IntN(len(Adjectives))]
		moq := int64([]int{1, 10, 50, 100, 500, 1000}[r.IntN(6)])
		price := int64(100 + r.IntN(100_000))
		var certs []string
		for _, c := range Certifications {
			if r.IntN(3) == 0 {
				certs = append(certs, c)
			}
		}
		slices.Sort(certs)
		if certs == nil {
			certs = []string{}
		}
		products = append(products, []any{
			sups[r.IntN(Suppliers)], fmt.Sprintf("SKU-%06d", i), fmt.Sprintf("%s %s %s", adj, noun, []string{"", "pro", "mini", "xl"}[r.IntN(4)]),
			fmt.Sprintf("A %s %s made to order, %s finish. Ships worldwide.", adj2, noun, adj),
			fmt.Sprintf("cat-%02d", r.IntN(Categories)), "piece", moq, "USD",
			[]int64{moq, moq * 10, moq * 100}, []int64{price, price * 9 / 10, price * 8 / 10}, price,
			int32(1 + r.IntN(90)), certs, r.IntN(2) == 0, Regions[r.IntN(len(Regions))], r.IntN(2) == 0, int64(r.IntN(5000)),
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

func copyRows(b testing.TB, pool *pgxpool.Pool, table string, cols []string, rows [][]any) {
	b.Helper()
	if _, err := pool.CopyFrom(context.Background(), pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		b.Fatalf("copy %s: %v", table, err)
	}
}
