package marketplace_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

// The funnel benchmark's platform: a year of business.
const (
	benchViews     = 1_000_000
	benchDeals     = 100_000
	benchBuyers    = 5_000
	benchSuppliers = 500
)

// seedYear writes a year (December 2025 to November 2026) of views, deals,
// quotes, shipments and deal origins, spread evenly, in a few statements.
// Each buyer buys in three categories of the fifty, as buyers do, and a
// tenth of them goes quiet after the first half.
func seedYear(b testing.TB, pool *pgxpool.Pool) {
	b.Helper()
	ctx := context.Background()
	for _, sql := range []string{
		`INSERT INTO organizations (id, name, created_at)
		 SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, 'Buyer ' || i, '2024-01-01'
		 FROM generate_series(1, ` + itoa(benchBuyers) + `) i`,
		`INSERT INTO organizations (id, name, created_at)
		 SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid, 'Supplier ' || i, '2024-01-01'
		 FROM generate_series(1, ` + itoa(benchSuppliers) + `) i`,
		`INSERT INTO supplier_profiles (org_id) SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(i), 12, '0'))::uuid
		 FROM generate_series(1, ` + itoa(benchSuppliers) + `) i`,
		// Deals: a buyer, one of its three categories, a stage by i, created
		// over the year; a tenth of the buyers stops halfway.
		`INSERT INTO deals (id, stage, buyer_org_id, supplier_org_id, product, quantity, total_minor, currency, state, last_event_seq, created_at, updated_at)
		 SELECT 'bd-' || i,
		        (ARRAY['COMPLETED','COMPLETED','PRODUCTION','QUOTING','EXPIRED','CANCELLED','SHIPPING','COMPLETED','DISPUTE','COMPLETED'])[1 + i % 10],
		        '00000000-0000-4000-8000-' || lpad(to_hex(b.n), 12, '0'),
		        CASE WHEN i % 10 IN (3, 4, 5) THEN NULL ELSE '00000000-0000-4000-9000-' || lpad(to_hex(1 + i % ` + itoa(benchSuppliers) + `), 12, '0') END,
		        'widgets', 100, 10000 + i % 5000, (ARRAY['USD','EUR'])[1 + i % 2],
		        jsonb_build_object('deal_id', 'bd-' || i, 'inquiry', jsonb_build_object('category', 'cat-' || lpad(((b.n * 7 + (i % 3) * 17) % 50)::text, 2, '0'))),
		        1, timestamptz '2025-12-01' + (i * interval '365 days' / ` + itoa(benchDeals) + `), timestamptz '2025-12-01' + (i * interval '365 days' / ` + itoa(benchDeals) + `)
		 FROM generate_series(1, ` + itoa(benchDeals) + `) i,
		      LATERAL (SELECT 1 + (i * 7919) % ` + itoa(benchBuyers) + ` AS n) r,
		      LATERAL (SELECT CASE WHEN r.n <= ` + itoa(benchBuyers/10) + ` AND i > ` + itoa(benchDeals/2) + ` THEN r.n + ` + itoa(benchBuyers/10) + ` ELSE r.n END AS n) b`,
		`INSERT INTO quotes (deal_id, quote_id, supplier_id, revision, tiers, moq, lead_time_days, valid_till, sample_minor, unit_minor, total_minor, status, created_at)
		 SELECT d.id, 'q1', coalesce(d.supplier_org_id, '00000000-0000-4000-9000-000000000001'), 1, '[]', 1, 10, d.created_at + interval '30 days', 0, 100, 10000, 'OPEN', d.created_at + interval '1 hour'
		 FROM deals d WHERE d.stage <> 'EXPIRED'`,
		`INSERT INTO shipments (deal_id, kind, carrier, tracking_number, status, shipped_at)
		 SELECT d.id, 'goods', 'ups', 'T' || d.id, 'delivered', d.created_at + interval '20 days'
		 FROM deals d WHERE d.stage IN ('COMPLETED', 'SHIPPING', 'DISPUTE')`,
		`INSERT INTO deal_origins (deal_id, buyer_org_id, category, channel, created_at)
		 SELECT d.id, d.buyer_org_id::uuid, d.category, (ARRAY['direct','direct','matching','reactivation','referral'])[1 + abs(hashtext(d.id) % 5)], d.created_at
		 FROM deals d`,
		// Views: a buyer, a product of 400 in one of its three categories,
		// a channel, over the year; the quiet tenth stops halfway.
		`INSERT INTO product_views (product_id, viewer_org_id, viewer_user_id, category, channel, hour, viewed_at)
		 SELECT ('00000000-0000-4000-a000-' || lpad(to_hex(c.cat + 50 * (abs(hashtext(i::text)) % 400)), 12, '0'))::uuid,
		        o.id, o.id, 'cat-' || lpad(c.cat::text, 2, '0'),
		        (ARRAY['direct','direct','matching','reactivation','referral'])[1 + i % 5], date_trunc('hour', t.at), t.at
		 FROM generate_series(1, ` + itoa(benchViews) + `) i,
		      LATERAL (SELECT 1 + (i * 31) % ` + itoa(benchBuyers) + ` AS n, timestamptz '2025-12-01' + (i * interval '365 days' / ` + itoa(benchViews) + `) AS at) t,
		      LATERAL (SELECT CASE WHEN t.n <= ` + itoa(benchBuyers/10) + ` AND i > ` + itoa(benchViews/2) + ` THEN t.n + ` + itoa(benchBuyers/10) + ` ELSE t.n END AS n) b,
		      LATERAL (SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(b.n), 12, '0'))::uuid AS id) o,
		      LATERAL (SELECT (b.n * 7 + (abs(hashtext('c' || i)) % 3) * 17) % 50 AS cat) c
		 ON CONFLICT DO NOTHING`,
		`VACUUM ANALYZE`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			b.Fatalf("seed: %v\n%s", err, sql)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// BenchmarkFunnel1M times the whole funnel (every figure, every layer) on a
// year of 1,000,000 product views and 100,000 deals, for the last 30 days,
// the last quarter and the whole year, and reports latency percentiles:
//
//	go test -run '^$' -bench Funnel1M -benchtime 100x ./internal/marketplace
func BenchmarkFunnel1M(b *testing.B) {
	pool := testenv.Postgres(b)
	t0 := time.Now()
	seedYear(b, pool)
	var views, deals int64
	if err := pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM product_views), (SELECT count(*) FROM deals)`).Scan(&views, &deals); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d views and %d deals in %s", views, deals, time.Since(t0).Round(time.Millisecond))
	m := marketplace.New(pool)
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		from time.Time
	}{{"Last30Days", end.AddDate(0, 0, -30)}, {"LastQuarter", end.AddDate(0, -3, 0)}, {"WholeYear", end.AddDate(-1, 0, 0)}} {
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			var f marketplace.Funnel
			for b.Loop() {
				t0 := time.Now()
				var err error
				if f, err = m.Funnel(context.Background(), c.from, end); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			if f.Views == 0 || f.Inquiries == 0 || f.InquiryConversion.Count == 0 || len(f.ByCategory) != 50 || len(f.QuietBuyers) == 0 || f.Churn.Count == 0 {
				b.Fatalf("the funnel measured nothing: %d views, %d inquiries, %d converted, %d categories, %d churned, %d quiet buyers listed",
					f.Views, f.Inquiries, f.InquiryConversion.Count, len(f.ByCategory), f.Churn.Count, len(f.QuietBuyers))
			}
			slices.Sort(lat)
			pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(f.Views), "views")
		})
	}
}
