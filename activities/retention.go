package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
)

// IdempotencyPurger deletes the API's kept responses older than olderThan
// and reports how many it deleted.
type IdempotencyPurger func(ctx context.Context, olderThan time.Duration) (int64, error)

// PurgeIdempotencyKeys forgets kept API responses past the retention.
func (a *Activities) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	if a.Idempotency == nil || a.IdempotencyRetention <= 0 {
		return 0, errors.New("purge of kept responses: no store or retention configured")
	}
	n, err := a.Idempotency(ctx, a.IdempotencyRetention)
	if err != nil {
		return 0, fmt.Errorf("purge kept responses older than %s: %w", a.IdempotencyRetention, err)
	}
	a.logger().InfoContext(ctx, "purged kept API responses", "deleted", n, "older_than", a.IdempotencyRetention)
	return n, nil
}

// Reactivator messages, as of now, the buyers gone quiet that have not
// been messaged lately, and reports how many it messaged.
type Reactivator func(ctx context.Context, now time.Time) (int, error)

// ReactivateBuyers messages the buyers gone quiet (internal/reactivation):
// each at most once in its period, however often it runs.
func (a *Activities) ReactivateBuyers(ctx context.Context) (int, error) {
	if a.Reactivate == nil {
		return 0, errors.New("reactivation: not configured")
	}
	n, err := a.Reactivate(ctx, time.Now())
	if err != nil {
		return 0, fmt.Errorf("reactivate buyers: %w", err)
	}
	a.logger().InfoContext(ctx, "messaged quiet buyers", "messaged", n)
	return n, nil
}

// PriceIndexer takes day of the price index, the catalog read as of now,
// and reports how many rows it wrote.
type PriceIndexer func(ctx context.Context, day, now time.Time) (int64, error)

// SnapshotPriceIndex takes day (YYYY-MM-DD, UTC) of the price index per
// category (internal/pricetrend); taken again, the day is replaced.
func (a *Activities) SnapshotPriceIndex(ctx context.Context, day string) (int64, error) {
	if a.PriceIndex == nil {
		return 0, errors.New("price index: not configured")
	}
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return 0, temporal.NewNonRetryableApplicationError("the day is YYYY-MM-DD", "BadDay", err)
	}
	n, err := a.PriceIndex(ctx, d, time.Now())
	if err != nil {
		return 0, fmt.Errorf("take the price index of %s: %w", day, err)
	}
	a.logger().InfoContext(ctx, "took the price index", "day", day, "rows", n)
	return n, nil
}
