// Package pgpipe sends the statements of a transaction that run for their
// effect together, in one round trip to PostgreSQL, instead of one round
// trip each: a Pipe queues every Exec and sends the queue with the next
// statement whose answer the caller reads (a QueryRow's rows come back
// with it), or at Flush. A transaction that writes many rows (a deal's
// round of bookkeeping) then waits for the network a few times, not once
// per row.
//
// An Exec's error (and its command tag) is not known when it returns: it
// comes from the statement that sends the queue, or from Flush, named by
// the failing statement's sqlc name. Use a Pipe only for statements whose
// command tag nobody reads.
package pgpipe

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Tx is what a Pipe sends through: a transaction.
type Tx interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Pipe queues a transaction's statements. It serves sqlc's generated
// queries (their DBTX). Not safe for concurrent use, as a transaction is
// not.
type Pipe struct {
	tx    Tx
	queue pgx.Batch
	names []string
}

// New pipes statements through tx. The caller flushes before it commits.
func New(tx Tx) *Pipe { return &Pipe{tx: tx} }

// Exec queues a statement run for its effect.
func (p *Pipe) Exec(_ context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	p.queue.Queue(sql, args...)
	p.names = append(p.names, name(sql))
	return pgconn.CommandTag{}, nil
}

// Query sends the queue, then the query.
func (p *Pipe) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if err := p.Flush(ctx); err != nil {
		return nil, err
	}
	return p.tx.Query(ctx, sql, args...)
}

// QueryRow sends the queue with the query at its end, when the row is
// scanned.
func (p *Pipe) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return &row{p: p, ctx: ctx, sql: sql, args: args}
}

// SendBatch sends the queue, then b.
func (p *Pipe) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if err := p.Flush(ctx); err != nil {
		return failedBatch{err: err}
	}
	return p.tx.SendBatch(ctx, b)
}

// Flush sends the queued statements and reports the first that failed.
func (p *Pipe) Flush(ctx context.Context) error {
	return p.send(ctx, nil)
}

// send sends the queue and, last, the query of last (nil: none), whose
// row it scans.
func (p *Pipe) send(ctx context.Context, last *row, dest ...any) error {
	n := p.queue.Len()
	if n == 0 && last == nil {
		return nil
	}
	var scanned error
	if last != nil {
		p.queue.Queue(last.sql, last.args...).QueryRow(func(r pgx.Row) error {
			if err := r.Scan(dest...); err != nil {
				// ErrNoRows is the caller's to judge, not the batch's.
				scanned = fmt.Errorf("%s: %w", name(last.sql), err)
			}
			return nil
		})
	}
	// pgx reads the batch as its results are read: send it as its own.
	queue, names := p.queue, p.names
	p.queue, p.names = pgx.Batch{}, nil
	results := p.tx.SendBatch(ctx, &queue)
	for i := range n {
		if _, err := results.Exec(); err != nil {
			_ = results.Close()
			return fmt.Errorf("%s: %w", names[i], err)
		}
	}
	if err := results.Close(); err != nil {
		if last != nil {
			return fmt.Errorf("%s: %w", name(last.sql), err)
		}
		return err
	}
	return scanned
}

// name is a statement's sqlc name ("-- name: InsertDealEvent :exec"), or
// its first words.
func name(sql string) string {
	if rest, ok := strings.CutPrefix(sql, "-- name: "); ok {
		if i := strings.IndexByte(rest, ' '); i > 0 {
			return rest[:i]
		}
	}
	first, _, _ := strings.Cut(strings.TrimSpace(sql), "\n")
	if len(first) > 40 {
		first = first[:40]
	}
	return first
}

// row is a QueryRow whose query goes out with the queue when scanned.
type row struct {
	p    *Pipe
	ctx  context.Context
	sql  string
	args []any
}

func (r *row) Scan(dest ...any) error { return r.p.send(r.ctx, r, dest...) }

// failedBatch is a batch never sent: every result is its error. (It has
// no transaction to give: BatchResults' other methods are left unset.)
type failedBatch struct {
	pgx.BatchResults
	err error
}

func (b failedBatch) Exec() (pgconn.CommandTag, error) { return pgconn.CommandTag{}, b.err }
func (b failedBatch) Query() (pgx.Rows, error)         { return nil, b.err }
func (b failedBatch) QueryRow() pgx.Row                { return errRow{b.err} }
func (b failedBatch) Close() error                     { return b.err }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
