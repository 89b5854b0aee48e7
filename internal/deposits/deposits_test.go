package deposits_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/deposits"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func user(t *testing.T, pool *pgxpool.Pool, role string) (org, id uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO organizations (name) VALUES ($1) RETURNING id`, role+" org").Scan(&org))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, $3, $4) RETURNING id`,
		org, fmt.Sprintf("%s@%s.example", role, org), role, role).Scan(&id))
	return org, id
}

// A deposit in the database: held once its charge is booked, forfeited
// by two mediators at once no further than it holds (the database refuses
// the second, whatever the service believed), retried forfeits and
// returns booked once, and returned to zero.
func TestADepositsAccountNeverGoesNegative(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	l := ledger.New(pool)
	s := deposits.New(pool)
	supplier, paidBy := user(t, pool, "supplier")
	_, admin := user(t, pool, "admin")
	_, mediator := user(t, pool, "mediator")

	_, err := s.SetCategory(ctx, "led-lighting", "USD", 50_000, admin)
	require.NoError(t, err)
	_, err = s.SetCategory(ctx, "cables", "USD", 20_000, admin)
	require.NoError(t, err)
	in, err := s.Start(ctx, supplier, paidBy, "USD")
	require.NoError(t, err)
	assert.Equal(t, int64(50_000), in.Amount, "the category asking the most in the currency")
	_, err = s.Start(ctx, supplier, paidBy, "USD")
	assert.ErrorIs(t, err, deposits.ErrLive)

	hold := activities.DepositHold{ID: in.ID, OrgID: in.OrgID, Amount: in.Amount, Currency: "USD", Provider: "memory", PaymentID: "pay_1"}
	require.NoError(t, s.Hold(ctx, hold))
	require.NoError(t, s.Hold(ctx, hold), "a retried hold books nothing twice")
	account := activities.DepositAccount(in.ID)
	b, err := l.Balance(ctx, account, "USD")
	require.NoError(t, err)
	require.Equal(t, int64(50_000), b)

	// The database itself refuses a posting that overdraws the account.
	err = l.Post(ctx, activities.Posting{IdempotencyKey: "overdraw", Kind: "test", Lines: []activities.Line{
		{Account: account, Amount: -50_001, Currency: "USD"}, {Account: activities.ForfeitedDepositsAccount, Amount: 50_001, Currency: "USD"},
	}})
	require.ErrorIs(t, err, activities.ErrLedgerRejected)

	// Two forfeits of 30,000 at once: one of them.
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, ferr := s.Forfeit(ctx, activities.DepositForfeit{ID: in.ID, OrgID: in.OrgID, Currency: "USD", Seq: i + 1, Amount: 30_000,
				Reason: "fraud", DealID: "d1", DecidedBy: mediator.String(), At: time.Now()})
			errs[i] = ferr
		})
	}
	wg.Wait()
	refused := 0
	for _, e := range errs {
		if e != nil {
			require.True(t, errors.Is(e, activities.ErrLedgerRejected), "%v", e)
			refused++
		}
	}
	require.Equal(t, 1, refused, "one forfeit is refused: %v", errs)
	b, err = l.Balance(ctx, account, "USD")
	require.NoError(t, err)
	require.Equal(t, int64(20_000), b)
	d, err := s.Get(ctx, uuid.MustParse(in.ID))
	require.NoError(t, err)
	require.Len(t, d.Forfeits, 1, "the refused forfeit left no audit record")
	require.Equal(t, mediator, d.Forfeits[0].DecidedBy)
	assert.Equal(t, activities.DepositHeld, d.Status)

	// The supplier leaves: 20,000 back, once.
	held, err := s.BeginReturn(ctx, in.ID)
	require.NoError(t, err)
	require.Equal(t, int64(20_000), held)
	again, err := s.BeginReturn(ctx, in.ID)
	require.NoError(t, err)
	require.Equal(t, held, again)
	_, err = s.Forfeit(ctx, activities.DepositForfeit{ID: in.ID, OrgID: in.OrgID, Currency: "USD", Seq: 3, Amount: 1,
		Reason: "late", DealID: "d1", DecidedBy: mediator.String(), At: time.Now()})
	require.ErrorIs(t, err, activities.ErrDepositNotHeld, "a deposit being returned is not forfeited")
	ret := activities.DepositReturn{ID: in.ID, OrgID: in.OrgID, Amount: held, Currency: "USD", RefundID: "re_1"}
	require.NoError(t, s.FinishReturn(ctx, ret))
	require.NoError(t, s.FinishReturn(ctx, ret))
	d, err = s.Get(ctx, uuid.MustParse(in.ID))
	require.NoError(t, err)
	assert.Equal(t, activities.DepositReturned, d.Status)
	assert.Equal(t, int64(0), d.Held)
	assert.Len(t, d.Postings, 3, "charge, forfeit, return")
	var sum int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT coalesce(sum(amount), 0)::bigint FROM ledger_lines").Scan(&sum))
	assert.Equal(t, int64(0), sum)

	// Returned, the supplier may pay again.
	_, err = s.Start(ctx, supplier, paidBy, "USD")
	assert.NoError(t, err)
}
