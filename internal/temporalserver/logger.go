package temporalserver

import (
	"context"
	"log/slog"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// slogAdapter lets the embedded server log through the process's slog logger,
// so the dev stack prints one stream in one format. The server is chatty at
// info level; minLevel filters it independently of the application's level.
type slogAdapter struct {
	logger   *slog.Logger
	minLevel *slog.LevelVar
}

var _ log.Logger = slogAdapter{}

func (a slogAdapter) log(level slog.Level, msg string, tags []tag.Tag) {
	if level < a.minLevel.Level() || !a.logger.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, len(tags)+1)
	attrs = append(attrs, slog.String("component", "temporal-server"))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	a.logger.LogAttrs(context.Background(), level, msg, attrs...)
}

func (a slogAdapter) Debug(msg string, tags ...tag.Tag)  { a.log(slog.LevelDebug, msg, tags) }
func (a slogAdapter) Info(msg string, tags ...tag.Tag)   { a.log(slog.LevelInfo, msg, tags) }
func (a slogAdapter) Warn(msg string, tags ...tag.Tag)   { a.log(slog.LevelWarn, msg, tags) }
func (a slogAdapter) Error(msg string, tags ...tag.Tag)  { a.log(slog.LevelError, msg, tags) }
func (a slogAdapter) DPanic(msg string, tags ...tag.Tag) { a.log(slog.LevelError, msg, tags) }
func (a slogAdapter) Panic(msg string, tags ...tag.Tag) {
	a.log(slog.LevelError, msg, tags)
	panic(msg)
}
func (a slogAdapter) Fatal(msg string, tags ...tag.Tag) {
	a.log(slog.LevelError, msg, tags)
	panic(msg)
}
