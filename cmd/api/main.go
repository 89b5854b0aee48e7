// Command api serves Tradeloop's REST API. It applies database migrations at
// start, then serves until SIGINT or SIGTERM, when it drains in-flight
// requests and exits.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/tradeloop/tradeloop/db/migrations"
	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/stack"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	logger := cfg.Log.NewLogger().With("service", "api")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := migrations.ApplyURL(ctx, cfg.Postgres.URL); err != nil {
		return err
	}
	pool, err := stack.OpenDB(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	defer pool.Close()
	tc, err := stack.DialTemporal(ctx, cfg.Temporal, logger)
	if err != nil {
		return err
	}
	defer tc.Close()

	h := stack.NewAPI(stack.Deps{Temporal: tc, DB: pool, Logger: logger, Config: cfg})
	err = stack.ServeHTTP(ctx, cfg.HTTP.Addr, h, cfg.ShutdownTimeout, func(a net.Addr) {
		logger.Info("api listening", "addr", a.String(), "payments", cfg.PaymentsProvider())
	})
	logger.Info("api stopped")
	return err
}
