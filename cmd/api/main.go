// Command api serves Tradeloop's REST API. It applies database migrations at
// start, then serves until SIGINT or SIGTERM, when it drains in-flight
// requests and exits.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	deps, closeDeps, err := stack.Connect(ctx, cfg, "api")
	if err != nil {
		return err
	}
	defer closeDeps()
	bucket, closeBucket, err := stack.OpenMedia(ctx, cfg.MediaBucketURL, deps.Logger)
	if err != nil {
		return err
	}
	defer closeBucket()
	deps.Media = bucket

	h := stack.NewAPI(deps)
	// Metrics have a listener of their own (METRICS_ADDR), never the
	// public one; if either listener fails, both stop.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	background := h.Start(ctx) // live notification streams
	metricsDone := make(chan error, 1)
	go func() {
		metricsDone <- stack.ServeMetrics(ctx, cfg.HTTP.MetricsAddr, h.Metrics, cfg.ShutdownTimeout, func(a net.Addr) {
			deps.Logger.Info("metrics listening", "addr", a.String())
		})
		cancel()
	}()
	err = stack.ServeHTTP(ctx, cfg.HTTP.Addr, h.API, cfg.ShutdownTimeout, func(a net.Addr) {
		deps.Logger.Info("api listening", "addr", a.String(), "payments", cfg.PaymentsProvider())
	})
	cancel()
	err = errors.Join(err, <-metricsDone)
	<-background
	deps.Logger.Info("api stopped")
	return err
}
