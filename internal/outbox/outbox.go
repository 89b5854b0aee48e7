// Package outbox delivers the deals' notifications that their rounds of
// bookkeeping wrote into the notification outbox (readmodel.WriteBooks):
// each into its users' in-app inboxes (internal/inbox), its organization's
// webhook deliveries (internal/webhooks) and to the notifier, marked
// delivered once the notifier succeeds, a failure tried again later with a
// growing gap, every attempt counted on its row.
// Dispatchers on several workers share the work: a row being delivered is
// locked, and the others skip it.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/drain"
	"github.com/tradeloop/tradeloop/internal/inbox"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/webhooks"
)

// Dispatcher delivers the outbox's notifications.
type Dispatcher struct {
	Pool     *pgxpool.Pool
	Notifier activities.Notifier
	Logger   *slog.Logger
	// Every is how often the outbox is looked at (default one second).
	Every time.Duration
	// Batch is how many notifications one transaction delivers (default 100).
	Batch int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Retry gaps: the first failure waits MinGap, each next one twice as
// long, never more than MaxGap.
const (
	MinGap = time.Second
	MaxGap = time.Hour
)

// gap is how long a notification that failed attempts times waits.
func gap(attempts int32) time.Duration {
	g := MinGap
	for i := int32(1); i < attempts && g < MaxGap; i++ {
		g *= 2
	}
	return min(g, MaxGap)
}

// Run delivers until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	drain.Every(ctx, d.Every, d.batch(), d.DeliverDue, func(err error) { d.logger().Error("deliver notifications", "error", err) })
}

func (d *Dispatcher) batch() int {
	if d.Batch <= 0 {
		return 100
	}
	return d.Batch
}

func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

func (d *Dispatcher) now() time.Time {
	if d.Now == nil {
		return time.Now()
	}
	return d.Now()
}

// DeliverDue delivers the notifications due now, one batch in one
// transaction, and returns how many it tried. A notification delivered is
// marked so in the transaction; if the transaction is lost after the
// notifier took it, it is delivered again (at least once, under its key).
func (d *Dispatcher) DeliverDue(ctx context.Context) (int, error) {
	tried := 0
	err := pgx.BeginFunc(ctx, d.Pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		now := d.now()
		rows, err := q.ClaimNotifications(ctx, store.ClaimNotificationsParams{Now: &now, MaxCount: int32(d.batch())})
		if err != nil {
			return fmt.Errorf("claim notifications: %w", err)
		}
		for _, r := range rows {
			tried++
			// A sign-in link's mail is its user's alone: no inbox, no
			// webhook (notice.Private).
			if !notice.Private(r.Kind) {
				// The in-app inbox is written in this transaction: a
				// notification is in its users' inboxes exactly when it
				// is marked delivered, whatever the channels below do.
				if err := inbox.Put(ctx, q, r.Key); err != nil {
					return err
				}
				// So are its webhook deliveries, which the webhook
				// dispatcher posts on its own schedule.
				if err := webhooks.Put(ctx, q, r.Key, now); err != nil {
					return err
				}
			}
			// Facts that do not decode (none this code writes) leave the
			// stored text to say it.
			facts, _ := notice.Decode(r.Facts)
			n := activities.Notification{Key: r.Key, DealID: r.DealID, OrgID: r.OrgID, Kind: r.Kind, Facts: facts, Text: r.Text}
			if err := d.Notifier.Notify(ctx, n); err != nil {
				d.logger().Warn("notification not delivered", "key", r.Key, "attempt", r.Attempts+1, "error", err)
				next := now.Add(gap(r.Attempts + 1))
				if err := q.MarkNotificationFailed(ctx, store.MarkNotificationFailedParams{
					Key: r.Key, LastError: err.Error(), NextAttemptAt: &next,
				}); err != nil {
					return fmt.Errorf("record the failed delivery of %s: %w", r.Key, err)
				}
				continue
			}
			at := d.now()
			if err := q.MarkNotificationDelivered(ctx, store.MarkNotificationDeliveredParams{Key: r.Key, At: &at}); err != nil {
				return fmt.Errorf("record the delivery of %s: %w", r.Key, err)
			}
			if err := chargeDelivered(ctx, tx, r.Key, at); err != nil {
				return err
			}
			if notice.Private(r.Kind) {
				// Mailed: the link is not kept where it was queued.
				if err := q.ForgetNotificationFacts(ctx, r.Key); err != nil {
					return fmt.Errorf("forget the link of %s: %w", r.Key, err)
				}
			}
		}
		return nil
	})
	return tried, err
}

// ChargeKind names the ledger postings of the charges notifications
// carry.
const ChargeKind = "notification_charge"

// chargeDelivered books the charge a delivered notification carries (a
// supplier's paid notice, internal/promotion) to the ledger, in the
// transaction that marks it delivered: once, however often it is
// delivered, and never for one that is not.
func chargeDelivered(ctx context.Context, tx pgx.Tx, key string, at time.Time) error {
	c, err := store.New(tx).ClaimNotificationCharge(ctx, store.ClaimNotificationChargeParams{Key: key, At: &at})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("the charge of %s: %w", key, err)
	}
	return ledger.PostIn(ctx, tx, activities.Posting{
		IdempotencyKey: "notification-charge/" + key, Kind: ChargeKind, Memo: c.Memo,
		Lines: []activities.Line{
			{Account: c.DebitAccount, Currency: c.Currency, Amount: -c.AmountMinor},
			{Account: c.CreditAccount, Currency: c.Currency, Amount: c.AmountMinor},
		},
	})
}
