package activities

import (
	"context"
	"errors"
	"log/slog"
)

// LogNotifier writes notifications to the log. It keeps nothing, so a
// long-running worker does not grow with them.
type LogNotifier struct {
	Logger *slog.Logger
}

// Notify implements Notifier.
func (n LogNotifier) Notify(ctx context.Context, msg Notification) error {
	n.Logger.InfoContext(ctx, "notification", "deal_id", msg.DealID, "org_id", msg.OrgID, "kind", msg.Kind, "text", msg.Text, "key", msg.Key)
	return nil
}

// Notifiers hands a notification to each of its notifiers in turn; it
// fails if any failed (after trying them all), so the notification is
// tried again: each notifier must take a repeat as a no-op.
type Notifiers []Notifier

// Notify implements Notifier.
func (ns Notifiers) Notify(ctx context.Context, msg Notification) error {
	var errs []error
	for _, n := range ns {
		if err := n.Notify(ctx, msg); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
