package marketplace_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// seeder writes rows the way the rest of the platform would have: users and
// profiles as the admin API does, deals as the workflow's projection does.
type seeder struct {
	t    *testing.T
	pool *pgxpool.Pool
}

func (s seeder) exec(sql string, args ...any) {
	s.t.Helper()
	if _, err := s.pool.Exec(context.Background(), sql, args...); err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
}

// org creates an organization with one user of the role, created at joined.
func (s seeder) org(name, role string, joined time.Time) uuid.UUID {
	s.t.Helper()
	var id uuid.UUID
	if err := s.pool.QueryRow(context.Background(),
		`INSERT INTO organizations (name, created_at) VALUES ($1, $2) RETURNING id`, name, joined).Scan(&id); err != nil {
		s.t.Fatal(err)
	}
	s.exec(`INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, $3, $4)`, id, fmt.Sprintf("%s@%s.example", role, id), name, role)
	return id
}

// supplier creates a supplier organization with a profile.
func (s seeder) supplier(name, tier string, joined time.Time, categories, regions, certs []string) uuid.UUID {
	s.t.Helper()
	id := s.org(name, "supplier", joined)
	for _, l := range []*[]string{&categories, &regions, &certs} {
		if *l == nil {
			*l = []string{}
		}
	}
	s.exec(`INSERT INTO supplier_profiles (org_id, categories, regions, certifications, tier) VALUES ($1, $2, $3, $4, $5)`,
		id, categories, regions, certs, tier)
	return id
}

// deal is one deal of the read model.
type deal struct {
	id        string
	buyer     uuid.UUID
	supplier  *uuid.UUID // the awarded supplier
	stage     string
	category  string
	total     int64
	currency  string
	createdAt time.Time
	updatedAt time.Time
}

func (s seeder) deal(d deal) {
	s.t.Helper()
	state, _ := json.Marshal(map[string]any{"deal_id": d.id, "inquiry": map[string]any{"category": d.category}})
	var sup *string
	if d.supplier != nil {
		v := d.supplier.String()
		sup = &v
	}
	if d.updatedAt.IsZero() {
		d.updatedAt = d.createdAt
	}
	s.exec(`INSERT INTO deals (id, stage, buyer_org_id, supplier_org_id, product, quantity, total_minor, currency, state, last_event_seq, created_at, updated_at)
		VALUES ($1, $2, $3, $4, 'widgets', 100, $5, $6, $7, 1, $8, $9)`,
		d.id, d.stage, d.buyer.String(), sup, d.total, d.currency, state, d.createdAt, d.updatedAt)
}

// invitation records a supplier invited to quote on a deal.
func (s seeder) invitation(dealID string, supplier uuid.UUID, status string, invited time.Time) {
	s.t.Helper()
	var created time.Time
	if err := s.pool.QueryRow(context.Background(), `SELECT created_at FROM deals WHERE id = $1`, dealID).Scan(&created); err != nil {
		s.t.Fatal(err)
	}
	s.exec(`INSERT INTO deal_invitations (deal_id, supplier_id, status, invited_at, due_at, deal_created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		dealID, supplier.String(), status, invited, invited.Add(2*time.Hour), created)
}

// quote records a supplier's first quote, made after responded.
func (s seeder) quote(dealID string, supplier uuid.UUID, invited time.Time, responded time.Duration, status string) {
	s.t.Helper()
	s.exec(`INSERT INTO quotes (deal_id, quote_id, supplier_id, revision, tiers, moq, lead_time_days, valid_till, sample_minor, unit_minor, total_minor, status, created_at)
		VALUES ($1, $2, $3, 1, '[]', 1, 10, $4, 0, 100, 10000, $5, $6)`,
		dealID, "q-"+supplier.String()[:8], supplier.String(), invited.Add(30*24*time.Hour), status, invited.Add(responded))
}

// posting books a balanced ledger posting at a time.
func (s seeder) posting(key, dealID string, at time.Time, lines ...any) {
	s.t.Helper()
	var id int64
	if err := s.pool.QueryRow(context.Background(),
		`INSERT INTO ledger_postings (idempotency_key, deal_id, kind, posted_at) VALUES ($1, $2, 'settle', $3) RETURNING id`, key, dealID, at).Scan(&id); err != nil {
		s.t.Fatal(err)
	}
	tx, err := s.pool.Begin(context.Background())
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+2 < len(lines)+1; i += 3 {
		if _, err := tx.Exec(context.Background(), `INSERT INTO ledger_lines (posting_id, line_no, account, currency, amount) VALUES ($1, $2, $3, $4, $5)`,
			id, i/3+1, lines[i], lines[i+1], lines[i+2]); err != nil {
			s.t.Fatal(err)
		}
	}
	if err := tx.Commit(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}
