package activities

import (
	"context"
	"errors"
	"fmt"
	"time"
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
