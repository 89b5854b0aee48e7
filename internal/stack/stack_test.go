package stack

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/tracing"
)

// No Temporal client is made without the keys that seal its payloads.
func TestDialTemporalRequiresHistoryKeys(t *testing.T) {
	cfg := config.Temporal{Address: "127.0.0.1:1", Namespace: "default"}
	if _, err := DialTemporal(context.Background(), cfg, slog.New(slog.DiscardHandler), tracing.Off); err == nil || !strings.Contains(err.Error(), "HISTORY_KEYS is required") {
		t.Fatalf("dial without keys: %v", err)
	}
	cfg.HistoryKeys = "k1:not-base64"
	if _, err := DialTemporal(context.Background(), cfg, slog.New(slog.DiscardHandler), tracing.Off); err == nil || !strings.Contains(err.Error(), "HISTORY_KEYS") {
		t.Fatalf("dial with a bad key: %v", err)
	}
}
