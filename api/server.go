// Package api is Tradeloop's HTTP front door: the Echo server, its
// middleware, and the handlers through which buyers, suppliers, mediators and
// finance act on deals.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// Pinger reports whether a dependency answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingerFunc adapts a function to Pinger.
type PingerFunc func(ctx context.Context) error

// Ping calls f.
func (f PingerFunc) Ping(ctx context.Context) error { return f(ctx) }

// Deps are what the handlers need.
type Deps struct {
	Logger *slog.Logger
	// Checks are the dependencies /readyz reports on, by name.
	Checks map[string]Pinger
}

// New builds the HTTP handler.
func New(d Deps) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.Use(middleware.Recover())
	e.Use(middleware.RequestID())
	e.Use(requestLogger(d.Logger))

	h := &health{checks: d.Checks, logger: d.Logger}
	e.GET("/healthz", h.live)
	e.GET("/readyz", h.ready)
	return e
}

type health struct {
	checks map[string]Pinger
	logger *slog.Logger
}

// live answers while the process serves HTTP at all.
func (h *health) live(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// ready answers 200 only when every dependency answers within 2 s, so a load
// balancer stops sending traffic to an instance that cannot do its work. The
// reason for a failure is logged, not returned: it may name internal hosts.
func (h *health) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(h.checks))
	for name, p := range h.checks {
		go func() { results <- result{name, p.Ping(ctx)} }()
	}
	status := http.StatusOK
	checks := make(map[string]string, len(h.checks))
	for range h.checks {
		r := <-results
		if r.err != nil {
			status = http.StatusServiceUnavailable
			checks[r.name] = "unavailable"
			h.logger.Warn("readiness check failed", "check", r.name, "error", r.err)
			continue
		}
		checks[r.name] = "ok"
	}
	word := "ready"
	if status != http.StatusOK {
		word = "not ready"
	}
	return c.JSON(status, map[string]any{"status": word, "checks": checks})
}

// requestLogger logs one line per request with its request ID.
func requestLogger(logger *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:    true,
		LogURI:       true,
		LogMethod:    true,
		LogRequestID: true,
		LogLatency:   true,
		LogError:     true,
		Skipper: func(c echo.Context) bool {
			p := c.Path()
			return p == "/healthz" || p == "/readyz"
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("method", v.Method),
				slog.String("uri", v.URI),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency),
				slog.String("request_id", v.RequestID),
			}
			if v.Error != nil {
				attrs = append(attrs, slog.String("error", v.Error.Error()))
			}
			logger.LogAttrs(c.Request().Context(), level, "http request", attrs...)
			return nil
		},
	})
}
