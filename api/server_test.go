package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, checks map[string]Pinger, path string) (int, map[string]any, string) {
	t.Helper()
	e := New(Deps{Logger: slog.New(slog.DiscardHandler), Checks: checks})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: body %q is not JSON: %v", path, rec.Body.String(), err)
	}
	return rec.Code, body, rec.Body.String()
}

func TestReadyzNeedsEveryDependency(t *testing.T) {
	ok := PingerFunc(func(context.Context) error { return nil })
	down := PingerFunc(func(context.Context) error { return errors.New("dial tcp 10.0.0.7:5432: connection refused") })

	code, body, _ := serve(t, map[string]Pinger{"postgres": ok, "temporal": ok}, "/readyz")
	if code != http.StatusOK || body["status"] != "ready" {
		t.Fatalf("all up: %d %v", code, body)
	}

	code, body, raw := serve(t, map[string]Pinger{"postgres": down, "temporal": ok}, "/readyz")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("postgres down: status %d, want 503", code)
	}
	checks := body["checks"].(map[string]any)
	if checks["postgres"] != "unavailable" || checks["temporal"] != "ok" {
		t.Fatalf("checks %v", checks)
	}
	if strings.Contains(raw, "10.0.0.7") {
		t.Fatalf("readiness leaks the internal error: %s", raw)
	}
}

func TestHealthzAnswersWithoutDependencies(t *testing.T) {
	down := PingerFunc(func(context.Context) error { return errors.New("down") })
	code, body, _ := serve(t, map[string]Pinger{"postgres": down}, "/healthz")
	if code != http.StatusOK || body["status"] != "ok" {
		t.Fatalf("/healthz = %d %v", code, body)
	}
}
