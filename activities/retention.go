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
