package pgpipe_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tradeloop/tradeloop/internal/pgpipe"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// trips counts what the connection sends: each query outside a batch and
// each batch is one round trip.
type trips struct{ n atomic.Int32 }

func (t *trips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.n.Add(1)
	return ctx
}
func (t *trips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (t *trips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.n.Add(1)
	return ctx
}
func (t *trips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (t *trips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func connect(t *testing.T) (*pgx.Conn, *trips) {
	t.Helper()
	cfg, err := pgx.ParseConfig(testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	tr := &trips{}
	cfg.Tracer = tr
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, `CREATE TABLE pipe_rows (id int PRIMARY KEY, note text NOT NULL CHECK (note <> 'refused'))`); err != nil {
		t.Fatal(err)
	}
	tr.n.Store(0)
	return conn, tr
}

const insert = "-- name: InsertRow :exec\nINSERT INTO pipe_rows (id, note) VALUES ($1, $2)"

// A hundred rows and the query that reads them back go out in one round
// trip, inside the caller's transaction.
func TestStatementsGoOutTogetherWithTheNextQuery(t *testing.T) {
	conn, tr := connect(t)
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		p := pgpipe.New(tx)
		before := tr.n.Load()
		for i := range 100 {
			if _, err := p.Exec(ctx, insert, i, "row"); err != nil {
				return err
			}
		}
		if got := tr.n.Load() - before; got != 0 {
			t.Errorf("%d round trips while queueing, want none", got)
		}
		var n int
		if err := p.QueryRow(ctx, "SELECT count(*) FROM pipe_rows").Scan(&n); err != nil {
			return err
		}
		if n != 100 {
			t.Errorf("the query saw %d rows, want the 100 queued before it", n)
		}
		if got := tr.n.Load() - before; got != 1 {
			t.Errorf("%d round trips for 100 inserts and a query, want 1", got)
		}
		if _, err := p.Exec(ctx, insert, 100, "last"); err != nil {
			return err
		}
		return p.Flush(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pipe_rows").Scan(&n); err != nil || n != 101 {
		t.Fatalf("%d rows committed (%v), want 101", n, err)
	}
}

// A queued statement that fails is reported by the statement that sends
// the queue, named, with PostgreSQL's error inside; nothing of the
// transaction is kept.
func TestAFailedStatementIsReportedByName(t *testing.T) {
	conn, _ := connect(t)
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		p := pgpipe.New(tx)
		for i, note := range []string{"fine", "refused", "never"} {
			if _, err := p.Exec(ctx, insert, i, note); err != nil {
				t.Fatalf("queueing failed: %v", err)
			}
		}
		return p.Flush(ctx)
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23514" || !strings.HasPrefix(err.Error(), "InsertRow: ") {
		t.Fatalf("flush error %v, want InsertRow's check violation", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pipe_rows").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows kept (%v), want none", n, err)
	}

	// Through QueryRow: the queued statement's error, not the query's.
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		p := pgpipe.New(tx)
		_, _ = p.Exec(ctx, insert, 1, "refused")
		var id int
		return p.QueryRow(ctx, "SELECT id FROM pipe_rows").Scan(&id)
	})
	if !errors.As(err, &pgErr) || pgErr.Code != "23514" {
		t.Fatalf("query row error %v, want the queued insert's check violation", err)
	}
}

// A query that finds no row says so as pgx does (callers test for
// pgx.ErrNoRows); an empty flush sends nothing.
func TestNoRowsAndAnEmptyFlush(t *testing.T) {
	conn, tr := connect(t)
	ctx := context.Background()
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		p := pgpipe.New(tx)
		before := tr.n.Load()
		if err := p.Flush(ctx); err != nil {
			return err
		}
		if got := tr.n.Load() - before; got != 0 {
			t.Errorf("an empty flush made %d round trips", got)
		}
		_, _ = p.Exec(ctx, insert, 7, "seven")
		var note string
		if err := p.QueryRow(ctx, "SELECT note FROM pipe_rows WHERE id = 8").Scan(&note); !errors.Is(err, pgx.ErrNoRows) {
			t.Errorf("no row: %v, want pgx.ErrNoRows", err)
		}
		rows, err := p.Query(ctx, "SELECT note FROM pipe_rows ORDER BY id")
		if err != nil {
			return err
		}
		notes, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(notes) != 1 || notes[0] != "seven" {
			t.Errorf("query read %v (%v), want [seven]", notes, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
