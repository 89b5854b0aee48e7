// Package reactivation brings quiet buyers back: a buyer user with no
// console sign-in and no use of an API key for QuietFor gets, at most once
// in Every, a message (through the outbox) with what changed for it since
// it was last seen: the price drops it was told of on what it follows, and
// the suppliers new in the categories it follows or inquired in. The
// message's console link records its click, so the funnel shows the
// return rate. A schedule runs it daily (workflows.BuyerReactivation).
package reactivation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
)

const (
	// QuietFor is how long a buyer has not been seen before it is
	// messaged.
	QuietFor = 30 * 24 * time.Hour
	// Every is the least time between two messages to one buyer.
	Every = 30 * 24 * time.Hour
	// MaxPerRun bounds the messages of one run; the next run takes the
	// rest (those quiet longest go first).
	MaxPerRun = 1000
	// Kind is the notification's kind.
	Kind = "reactivation"
	// LinkPath is the console path a message links to, its ID after it.
	LinkPath = "/app/r/"
)

// ErrNotFound is a message that is not the user's.
var ErrNotFound = errors.New("no such message")

// Service messages quiet buyers.
type Service struct {
	db *pgxpool.Pool
	// publicURL is the platform's address (config PUBLIC_URL).
	publicURL string
}

// New messages quiet buyers of db, linking to publicURL's console.
func New(db *pgxpool.Pool, publicURL string) *Service {
	return &Service{db: db, publicURL: strings.TrimRight(publicURL, "/")}
}

// Run messages, as of now, each buyer user quiet for QuietFor and not
// messaged in the last Every, and answers how many it messaged. The
// messages and their notifications are written in one transaction.
func (s *Service) Run(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC()
	var n int
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		rows, err := q.QueueReactivations(ctx, store.QueueReactivationsParams{
			Now: now, QuietBefore: now.Add(-QuietFor), MessagedBefore: now.Add(-Every), MaxUsers: MaxPerRun,
		})
		if err != nil {
			return fmt.Errorf("find quiet buyers: %w", err)
		}
		for _, r := range rows {
			dropped, err := q.DroppedSince(ctx, store.DroppedSinceParams{UserID: r.UserID, Since: r.QuietSince})
			if err != nil {
				return fmt.Errorf("what %s missed: %w", r.UserID, err)
			}
			names := make([]string, len(dropped))
			for i, d := range dropped {
				names[i] = d.Product
			}
			facts := notice.Facts{Drops: int(r.Drops), Count: int(r.Suppliers), Product: strings.Join(names, ", "),
				Since: r.QuietSince.UTC(), Ref: s.publicURL + LinkPath + r.ID.String()}
			raw, err := notice.Encode(&facts)
			if err != nil {
				return err
			}
			if err := q.QueueNotice(ctx, store.QueueNoticeParams{
				Key: Kind + "/" + r.ID.String(), OrgID: r.OrgID.String(), UserID: pgtype.UUID{Bytes: r.UserID, Valid: true}, Kind: Kind, Text: texts.Text(texts.Default, Kind, facts, ""), Facts: raw,
			}); err != nil {
				return fmt.Errorf("queue the message to %s: %w", r.UserID, err)
			}
		}
		n = len(rows)
		return nil
	})
	return n, err
}

// Clicked records that user followed its message's link at at (the first
// time counts); another user's message, or none, is ErrNotFound.
func (s *Service) Clicked(ctx context.Context, user, message uuid.UUID, at time.Time) error {
	n, err := store.New(s.db).ClickReactivation(ctx, store.ClickReactivationParams{ID: message, UserID: user, At: &at})
	if err != nil {
		return fmt.Errorf("record the click of %s: %w", message, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
