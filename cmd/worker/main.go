// Command worker runs Tradeloop's Temporal worker: it applies database
// migrations, then executes deal workflows and their activities from the
// deals task queue until SIGINT or SIGTERM, when it lets running activities
// finish and exits.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/tradeloop/tradeloop/db/migrations"
	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/stack"
	"github.com/tradeloop/tradeloop/workflows"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
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
	logger := cfg.Log.NewLogger().With("service", "worker")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The worker's activities write the schema the api also migrates; either
	// may start first, and the migrations' advisory lock serialises them.
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

	w := stack.NewWorker(stack.Deps{Temporal: tc, DB: pool, Logger: logger, Config: cfg})
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	logger.Info("worker started", "task_queue", workflows.TaskQueue, "namespace", cfg.Temporal.Namespace)
	<-ctx.Done()
	logger.Info("worker stopping")
	w.Stop()
	return nil
}
