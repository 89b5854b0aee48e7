// Package ledger is Tradeloop's double-entry money ledger in PostgreSQL.
// Every movement is a posting whose lines sum to zero per currency; an
// escrow account never goes negative; a posting's idempotency key makes a
// retried write a no-op. The database enforces all three (see migration
// 002), so no code path can skip them. Balances are always derived from the
// lines, never stored.
package ledger

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
)

// Ledger writes and reads postings.
type Ledger struct {
	pool *pgxpool.Pool
}

// New returns a ledger on pool.
func New(pool *pgxpool.Pool) *Ledger { return &Ledger{pool: pool} }

var _ activities.Ledger = (*Ledger)(nil)

// Post records p once. A second call with the same idempotency key and the
// same lines does nothing; with other lines it is refused, because a key
// names one movement of money.
func (l *Ledger) Post(ctx context.Context, p activities.Posting) error {
	err := pgx.BeginTxFunc(ctx, l.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		return PostIn(ctx, tx, p)
	})
	return Refused(err)
}

// PostIn records p once within the caller's transaction, as Post does. The
// database checks the posting's balance and its accounts at the
// transaction's commit, whose error Refused tells apart.
func PostIn(ctx context.Context, tx pgx.Tx, p activities.Posting) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: %v", activities.ErrLedgerRejected, err)
	}
	var dealID *string
	if p.DealID != "" {
		dealID = &p.DealID
	}
	q := store.New(tx)
	id, err := q.InsertPosting(ctx, store.InsertPostingParams{IdempotencyKey: p.IdempotencyKey, DealID: dealID, Kind: p.Kind, Memo: p.Memo})
	if errors.Is(err, pgx.ErrNoRows) {
		return samePosting(ctx, q, p)
	}
	if err != nil {
		return fmt.Errorf("insert posting %s: %w", p.IdempotencyKey, err)
	}
	for i, line := range p.Lines {
		if err := q.InsertLine(ctx, store.InsertLineParams{
			PostingID: id, LineNo: int16(i + 1), Account: line.Account, Currency: line.Currency, Amount: line.Amount,
		}); err != nil {
			return fmt.Errorf("insert line %d of %s: %w", i+1, p.IdempotencyKey, err)
		}
	}
	return nil
}

// Refused marks err as activities.ErrLedgerRejected when the database
// refused a posting for good: unbalanced, an account that may not go
// negative going negative, or a change to what is written.
func Refused(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "23514" || pgErr.Code == "23001") { // check or restrict violation
		return fmt.Errorf("%w: %s", activities.ErrLedgerRejected, pgErr.Message)
	}
	return err
}

// samePosting checks that a repeated key carries the lines already posted.
func samePosting(ctx context.Context, q *store.Queries, p activities.Posting) error {
	rows, err := q.PostingLinesByKey(ctx, p.IdempotencyKey)
	if err != nil {
		return fmt.Errorf("read posting %s: %w", p.IdempotencyKey, err)
	}
	same := len(rows) == len(p.Lines)
	for i := 0; same && i < len(rows); i++ {
		same = rows[i].Account == p.Lines[i].Account && rows[i].Currency == p.Lines[i].Currency && rows[i].Amount == p.Lines[i].Amount
	}
	if !same {
		return fmt.Errorf("%w: idempotency key %s was already used for other lines", activities.ErrLedgerRejected, p.IdempotencyKey)
	}
	return nil
}

// Balance is an account's balance in one currency.
type Balance struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
	Lines    int64  `json:"lines"`
}

// Balances returns an account's balance in each currency it holds.
func (l *Ledger) Balances(ctx context.Context, account string) ([]Balance, error) {
	rows, err := store.New(l.pool).AccountBalances(ctx, account)
	if err != nil {
		return nil, fmt.Errorf("balances of %s: %w", account, err)
	}
	out := make([]Balance, len(rows))
	for i, r := range rows {
		out[i] = Balance{Currency: r.Currency, Amount: r.Balance, Lines: r.Lines}
	}
	return out, nil
}

// Balance returns an account's balance in one currency (0 if it has none).
func (l *Ledger) Balance(ctx context.Context, account, currency string) (int64, error) {
	bs, err := l.Balances(ctx, account)
	if err != nil {
		return 0, err
	}
	if i := slices.IndexFunc(bs, func(b Balance) bool { return b.Currency == currency }); i >= 0 {
		return bs[i].Amount, nil
	}
	return 0, nil
}

// Export returns every line posted in [from, to), oldest first.
func (l *Ledger) Export(ctx context.Context, from, to time.Time) ([]store.ExportPostingsRow, error) {
	rows, err := store.New(l.pool).ExportPostings(ctx, store.ExportPostingsParams{FromTime: from, ToTime: to})
	if err != nil {
		return nil, fmt.Errorf("export postings: %w", err)
	}
	return rows, nil
}

// CSVHeader is the ledger export's header line.
var CSVHeader = []string{"posting_id", "posted_at", "idempotency_key", "deal_id", "kind", "line_no", "account", "currency", "amount_minor", "memo"}

// WriteCSV writes rows (Export's) as CSV with CSVHeader: finance's export,
// one line per ledger line, amounts in minor units.
func WriteCSV(w io.Writer, rows []store.ExportPostingsRow) error {
	cw := csv.NewWriter(w)
	_ = cw.Write(CSVHeader)
	for _, r := range rows {
		deal := ""
		if r.DealID != nil {
			deal = *r.DealID
		}
		_ = cw.Write([]string{
			strconv.FormatInt(r.PostingID, 10), r.PostedAt.UTC().Format(time.RFC3339Nano), r.IdempotencyKey, deal, r.Kind,
			strconv.Itoa(int(r.LineNo)), r.Account, r.Currency, strconv.FormatInt(r.Amount, 10), r.Memo,
		})
	}
	cw.Flush()
	return cw.Error()
}
