package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func posting(key string, lines ...activities.Line) activities.Posting {
	return activities.Posting{IdempotencyKey: key, DealID: "d1", Kind: "test", Lines: lines}
}

func line(account string, amount int64) activities.Line {
	return activities.Line{Account: account, Amount: amount, Currency: "USD"}
}

func balance(t *testing.T, l *Ledger, account string) int64 {
	t.Helper()
	b, err := l.Balance(context.Background(), account, "USD")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPostingsBalanceAndBalancesAreDerived(t *testing.T) {
	ctx := context.Background()
	l := New(testenv.Postgres(t))
	if err := l.Post(ctx, posting("k1", line("buyer:b", -1000), line("escrow:d1", 1000))); err != nil {
		t.Fatal(err)
	}
	if err := l.Post(ctx, posting("k2", line("escrow:d1", -1000), line("supplier:s", 980), line("platform:commission", 20))); err != nil {
		t.Fatal(err)
	}
	for acct, want := range map[string]int64{"buyer:b": -1000, "escrow:d1": 0, "supplier:s": 980, "platform:commission": 20} {
		if got := balance(t, l, acct); got != want {
			t.Errorf("%s = %d, want %d", acct, got, want)
		}
	}
}

func TestDatabaseRejectsUnbalancedPostings(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	l := New(pool)
	err := l.Post(ctx, posting("bad", line("buyer:b", -1000), line("escrow:d1", 999)))
	if !errors.Is(err, activities.ErrLedgerRejected) {
		t.Fatalf("unbalanced posting: %v", err)
	}
	// The database itself refuses, whatever code writes to it.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, "INSERT INTO ledger_postings (idempotency_key, kind) VALUES ('raw', 'test') RETURNING id").Scan(&id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO ledger_lines (posting_id, line_no, account, currency, amount) VALUES ($1, 1, 'buyer:b', 'USD', -5), ($1, 2, 'escrow:d1', 'USD', 4)", id)
		return err
	})
	if err == nil {
		t.Fatal("the database accepted an unbalanced posting")
	}
	var n int
	_ = pool.QueryRow(ctx, "SELECT count(*) FROM ledger_lines").Scan(&n)
	if n != 0 {
		t.Fatalf("%d lines written by refused postings", n)
	}
}

func TestEscrowNeverGoesNegative(t *testing.T) {
	ctx := context.Background()
	l := New(testenv.Postgres(t))
	err := l.Post(ctx, posting("over", line("escrow:d1", -1), line("supplier:s", 1)))
	if !errors.Is(err, activities.ErrLedgerRejected) {
		t.Fatalf("payout from an empty escrow: %v", err)
	}
	if got := balance(t, l, "supplier:s"); got != 0 {
		t.Fatalf("refused posting paid %d", got)
	}
	// Other accounts may go negative: a buyer's account is money paid in.
	if err := l.Post(ctx, posting("in", line("buyer:b", -10), line("escrow:d1", 10))); err != nil {
		t.Fatal(err)
	}
}

func TestRetriedPostingWritesOnce(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	l := New(pool)
	p := posting("deal-d1/deposit-1/escrow", line("buyer:b", -300), line("escrow:d1", 300))
	for range 3 {
		if err := l.Post(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if got := balance(t, l, "escrow:d1"); got != 300 {
		t.Fatalf("escrow %d after three tries, want 300", got)
	}
	var n int
	_ = pool.QueryRow(ctx, "SELECT count(*) FROM ledger_postings").Scan(&n)
	if n != 1 {
		t.Fatalf("%d postings", n)
	}
	other := posting("deal-d1/deposit-1/escrow", line("buyer:b", -400), line("escrow:d1", 400))
	if err := l.Post(ctx, other); !errors.Is(err, activities.ErrLedgerRejected) {
		t.Fatalf("key reused for other lines: %v", err)
	}
}

func TestConcurrentPayoutsFromOneEscrowNeverOverdraw(t *testing.T) {
	ctx := context.Background()
	l := New(testenv.Postgres(t))
	if err := l.Post(ctx, posting("fund", line("buyer:b", -1000), line("escrow:d1", 1000))); err != nil {
		t.Fatal(err)
	}
	const tries = 24 // each takes 100: only 10 fit
	var wg sync.WaitGroup
	results := make([]error, tries)
	for i := range tries {
		wg.Go(func() {
			results[i] = l.Post(ctx, posting(fmt.Sprintf("out-%d", i), line("escrow:d1", -100), line("supplier:s", 100)))
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, activities.ErrLedgerRejected):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if ok != 10 || balance(t, l, "escrow:d1") != 0 || balance(t, l, "supplier:s") != 1000 {
		t.Fatalf("%d payouts succeeded, escrow %d, supplier %d; want 10, 0, 1000", ok, balance(t, l, "escrow:d1"), balance(t, l, "supplier:s"))
	}
}

func TestLedgerIsAppendOnly(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	l := New(pool)
	if err := l.Post(ctx, posting("k", line("buyer:b", -5), line("escrow:d1", 5))); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"UPDATE ledger_lines SET amount = 6 WHERE amount = 5", "DELETE FROM ledger_lines", "DELETE FROM ledger_postings"} {
		if _, err := pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s was allowed", sql)
		}
	}
}

func TestExportByDateRange(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	l := New(pool)
	for i := range 3 {
		if err := l.Post(ctx, posting(fmt.Sprintf("k%d", i), line("buyer:b", -5), line("escrow:d1", 5))); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	rows, err := l.Export(ctx, now.Add(-time.Minute), now.Add(time.Minute))
	if err != nil || len(rows) != 6 {
		t.Fatalf("%d lines (%v), want 6", len(rows), err)
	}
	if rows[0].IdempotencyKey != "k0" || rows[0].LineNo != 1 {
		t.Fatalf("first row %+v", rows[0])
	}
	rows, _ = l.Export(ctx, now.Add(time.Minute), now.Add(time.Hour))
	if len(rows) != 0 {
		t.Fatalf("%d lines outside the range", len(rows))
	}
}
