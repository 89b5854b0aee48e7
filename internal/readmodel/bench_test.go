package readmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/workflows"
)

// Volumes of the read-model benchmark: 100,000 deals of 1,000 buyers with
// 500 suppliers (3 invited per deal), 10 timeline events each.
const (
	benchDeals     = 100_000
	benchBuyers    = 1_000
	benchSuppliers = 500
	benchEvents    = 10
)

var benchStages = []string{"QUOTING", "CONTRACT", "PRODUCTION", "SHIPPING", "INSPECTION", "COMPLETED", "COMPLETED", "COMPLETED", "DISPUTE", "CANCELLED"}

// seedDeals fills the read model with COPY, as a year of history would.
func seedDeals(b *testing.B, pool *pgxpool.Pool) {
	b.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	state, _ := json.Marshal(workflows.DealState{Stage: workflows.StageCompleted, Currency: "USD",
		Inquiry: workflows.Inquiry{Product: "cotton t-shirts", Quantity: 2000, Unit: "pcs", Currency: "USD", Specs: strings.Repeat("x", 400)}})
	var deals, invites, events [][]any
	for i := range benchDeals {
		id := fmt.Sprintf("bench-%06d", i)
		created := start.Add(time.Duration(i) * 5 * time.Minute)
		supplier := fmt.Sprintf("sup-%03d", r.IntN(benchSuppliers))
		deals = append(deals, []any{id, benchStages[r.IntN(len(benchStages))], fmt.Sprintf("buyer-%04d", r.IntN(benchBuyers)),
			supplier, "cotton t-shirts", int64(2000), int64(780_000), "USD", state, int32(benchEvents), created, created})
		invites = append(invites, []any{id, supplier, "AWARDED", created, created.Add(2 * time.Hour), created})
		for range 2 {
			other := fmt.Sprintf("sup-%03d", r.IntN(benchSuppliers))
			if other != supplier {
				invites = append(invites, []any{id, other, "CLOSED", created, created.Add(2 * time.Hour), created})
			}
		}
		for e := range benchEvents {
			events = append(events, []any{id, int32(e + 1), created.Add(time.Duration(e) * time.Hour), "stage_changed", "", "detail of the event"})
		}
	}
	copyRows(b, pool, "deals", []string{"id", "stage", "buyer_org_id", "supplier_org_id", "product", "quantity", "total_minor", "currency", "state", "last_event_seq", "created_at", "updated_at"}, deals)
	copyRows(b, pool, "deal_invitations", []string{"deal_id", "supplier_id", "status", "invited_at", "due_at", "deal_created_at"}, dedupe(invites))
	copyRows(b, pool, "deal_events", []string{"deal_id", "seq", "at", "type", "actor", "detail"}, events)
	if _, err := pool.Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
}

func dedupe(rows [][]any) [][]any {
	seen := map[string]bool{}
	out := rows[:0]
	for _, r := range rows {
		k := r[0].(string) + "|" + r[1].(string)
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

func copyRows(b *testing.B, pool *pgxpool.Pool, table string, cols []string, rows [][]any) {
	b.Helper()
	if _, err := pool.CopyFrom(context.Background(), pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		b.Fatalf("copy %s: %v", table, err)
	}
}

// measure runs op in a b.Loop and reports its latency percentiles.
func measure(b *testing.B, op func(i int) error) {
	b.Helper()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		t0 := time.Now()
		if err := op(i); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		i++
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkReadModel measures the API's read queries on 100,000 deals:
//
//	go test -run '^$' -bench ReadModel -benchtime 2000x ./internal/readmodel
func BenchmarkReadModel(b *testing.B) {
	pool := testenv.Postgres(b)
	t0 := time.Now()
	seedDeals(b, pool)
	b.Logf("seeded %d deals, %d events in %s", benchDeals, benchDeals*benchEvents, time.Since(t0).Round(time.Millisecond))
	s := New(pool)
	ctx := context.Background()
	buyer := func(i int) string { return fmt.Sprintf("buyer-%04d", i*7919%benchBuyers) }

	b.Run("ListBuyerFirstPage", func(b *testing.B) {
		measure(b, func(i int) error {
			_, err := s.List(ctx, Viewer{Role: workflows.RoleBuyer, OrgID: buyer(i)}, Filter{Limit: 50})
			return err
		})
	})
	b.Run("ListBuyerFirstTwoPages", func(b *testing.B) {
		measure(b, func(i int) error {
			p, err := s.List(ctx, Viewer{Role: workflows.RoleBuyer, OrgID: buyer(i)}, Filter{Limit: 50})
			if err != nil || p.Next == "" {
				return err
			}
			_, err = s.List(ctx, Viewer{Role: workflows.RoleBuyer, OrgID: buyer(i)}, Filter{Limit: 50, Cursor: p.Next})
			return err
		})
	})
	b.Run("ListBuyerByStageAndSupplier", func(b *testing.B) {
		measure(b, func(i int) error {
			_, err := s.List(ctx, Viewer{Role: workflows.RoleBuyer, OrgID: buyer(i)}, Filter{Stage: "COMPLETED", Counterparty: fmt.Sprintf("sup-%03d", i%benchSuppliers), Limit: 50})
			return err
		})
	})
	b.Run("ListSupplierFirstPage", func(b *testing.B) {
		measure(b, func(i int) error {
			_, err := s.List(ctx, Viewer{Role: workflows.RoleSupplier, OrgID: fmt.Sprintf("sup-%03d", i%benchSuppliers)}, Filter{Limit: 50})
			return err
		})
	})
	b.Run("ListDisputes", func(b *testing.B) {
		measure(b, func(i int) error {
			_, err := s.List(ctx, Viewer{Role: workflows.RoleMediator}, Filter{Limit: 50})
			return err
		})
	})
	b.Run("OneDealWithTimeline", func(b *testing.B) {
		measure(b, func(i int) error {
			id := fmt.Sprintf("bench-%06d", i*104729%benchDeals)
			if _, err := s.Deal(ctx, id); err != nil {
				return err
			}
			_, err := s.Timeline(ctx, id)
			return err
		})
	})
	for _, q := range []string{
		"EXPLAIN SELECT id FROM deals WHERE buyer_org_id = 'buyer-0001' ORDER BY created_at DESC, id DESC LIMIT 51",
		"EXPLAIN SELECT d.id FROM deal_invitations i JOIN deals d ON d.id = i.deal_id WHERE i.supplier_id = 'sup-001' ORDER BY i.deal_created_at DESC, i.deal_id DESC LIMIT 51",
		"EXPLAIN SELECT id FROM deals WHERE stage IN ('DISPUTE', 'MEDIATION') ORDER BY created_at DESC, id DESC LIMIT 51",
	} {
		rows, err := pool.Query(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			_ = rows.Scan(&line)
			plan = append(plan, line)
		}
		rows.Close()
		b.Logf("%s\n  %s", q, strings.Join(plan, "\n  "))
	}
}
