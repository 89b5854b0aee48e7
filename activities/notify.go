package activities

import (
	"context"
	"log/slog"
)

// LogNotifier writes notifications to the log, until e-mail and webhooks to
// organizations exist. It keeps nothing, so a long-running worker does not
// grow with them.
type LogNotifier struct {
	Logger *slog.Logger
}

// Notify implements Notifier.
func (n LogNotifier) Notify(ctx context.Context, msg Notification) error {
	n.Logger.InfoContext(ctx, "notification", "deal_id", msg.DealID, "org_id", msg.OrgID, "kind", msg.Kind, "text", msg.Text, "key", msg.Key)
	return nil
}
