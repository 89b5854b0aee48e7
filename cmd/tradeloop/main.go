// Command tradeloop is the platform's tool for people: `dev` runs the whole
// stack in one process, `migrate` applies the database schema, `bench`
// runs the load generator, `worker` runs a worker (as cmd/worker does),
// `temporal` runs only the embedded Temporal server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	temporalworker "go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/db/migrations"
	"github.com/tradeloop/tradeloop/internal/bench"
	"github.com/tradeloop/tradeloop/internal/bench/baseline"
	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/devstack"
	"github.com/tradeloop/tradeloop/internal/stack"
	"github.com/tradeloop/tradeloop/internal/temporalserver"
	"github.com/tradeloop/tradeloop/workflows"
)

const usage = `usage: tradeloop <command>

commands:
  dev       run the whole stack (Temporal + UI, PostgreSQL, worker, API) in one process
  migrate   apply database migrations to DATABASE_URL
  bench     drive whole deals through the API of a dev stack it starts, and
            the baseline workflow; report deals/s, latencies, worker CPU and
            memory, and the ratio (tradeloop bench -h for its options)
  worker    run a Temporal worker for the deals task queue
  bench-worker
            the worker with the bench's baseline workflow registered too
            (the worker tradeloop bench runs; not for production)
  temporal  run only the dev stack's embedded Temporal server, in memory,
            until interrupted (tradeloop temporal -h for its options; the
            fault tests run theirs this way, apart from the test binary)

Configuration comes from environment variables; see the README.`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "dev":
		err = dev()
	case "migrate":
		err = migrate()
	case "bench":
		err = runBench(os.Args[2:])
	case "worker":
		err = worker()
	case "bench-worker":
		err = worker(baseline.Register)
	case "temporal":
		err = temporalOnly(os.Args[2:])
	case "-h", "--help", "help":
		fmt.Println(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "tradeloop: unknown command %q\n\n%s\n", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tradeloop:", err)
		if devstack.IsAlreadyRunning(err) {
			os.Exit(3)
		}
		os.Exit(1)
	}
}

func dev() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	logger := cfg.Log.NewLogger()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	return devstack.Run(ctx, cfg, logger, func(i devstack.Info) {
		devstack.PrintInfo(os.Stdout, i, time.Since(began))
	})
}

func runBench(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := bench.Main(ctx, args, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func worker(extra ...func(temporalworker.Registry, client.Client)) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return stack.RunWorker(ctx, cfg, extra...)
}

// temporalOnly serves the embedded Temporal server alone, in memory, and
// says where on stdout once it answers.
func temporalOnly(args []string) error {
	fs := flag.NewFlagSet("tradeloop temporal", flag.ContinueOnError)
	port := fs.Int("port", 0, "the frontend's gRPC port on 127.0.0.1 (0 picks a free one)")
	namespace := fs.String("namespace", "default", "the namespace to register, with the deal's search attributes")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv, err := temporalserver.Start(ctx, temporalserver.Options{
		FrontendPort: *port, Namespace: *namespace,
		SearchAttributes: workflows.SearchAttributes(), Logger: logger,
	})
	if err != nil {
		return fmt.Errorf("start Temporal: %w", err)
	}
	defer srv.Stop()
	fmt.Printf("temporal serving at %s namespace %s\n", srv.FrontendAddress(), srv.Namespace())
	<-ctx.Done()
	return nil
}

func migrate() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if err := cfg.RequireDatabase(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := migrations.ApplyURL(ctx, cfg.Postgres.URL); err != nil {
		return err
	}
	v, err := migrations.Latest()
	if err != nil {
		return errors.Join(errors.New("migrations applied"), err)
	}
	fmt.Printf("database schema is at version %d\n", v)
	return nil
}
