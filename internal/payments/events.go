package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
)

// Events remembers the payment provider's events the platform has
// handled, so each is handled once whatever the provider repeats, and
// finds the deal a provider's payment belongs to.
type Events struct {
	pool *pgxpool.Pool
}

// NewEvents keeps the events in pool.
func NewEvents(pool *pgxpool.Pool) *Events { return &Events{pool: pool} }

// Claim records the event id of type typ (for dealID, if known) and
// reports whether it is the first time: false for an event seen before.
func (e *Events) Claim(ctx context.Context, id, typ string, dealID *string) (first bool, err error) {
	_, err = store.New(e.pool).ClaimStripeEvent(ctx, store.ClaimStripeEventParams{ID: id, Type: typ, DealID: dealID})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record provider event %s: %w", id, err)
	}
	return true, nil
}

// Forget forgets an event whose handling failed, so the provider's retry
// is handled.
func (e *Events) Forget(ctx context.Context, id string) error {
	if err := store.New(e.pool).ForgetStripeEvent(ctx, id); err != nil {
		return fmt.Errorf("forget provider event %s: %w", id, err)
	}
	return nil
}

// DealOfPayment is the deal whose charge the provider's payment is, or ""
// when no deal has recorded it (yet).
func (e *Events) DealOfPayment(ctx context.Context, providerPaymentID string) (string, error) {
	d, err := store.New(e.pool).DealOfProviderPayment(ctx, providerPaymentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find the deal of payment %s: %w", providerPaymentID, err)
	}
	return d, nil
}
