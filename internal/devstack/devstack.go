// Package devstack runs the whole platform in one process for a developer:
// an embedded Temporal server with its Web UI, a private PostgreSQL cluster
// (unless DATABASE_URL names one), the worker and the API. All state lives in
// one data directory, so deals survive a restart, and a lock in it keeps a
// second stack from using the same state at once.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tradeloop/tradeloop/db/migrations"
	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/freeport"
	"github.com/tradeloop/tradeloop/internal/historycodec"
	"github.com/tradeloop/tradeloop/internal/pgcluster"
	"github.com/tradeloop/tradeloop/internal/seed"
	"github.com/tradeloop/tradeloop/internal/stack"
	"github.com/tradeloop/tradeloop/internal/temporalserver"
	"github.com/tradeloop/tradeloop/internal/tracing"
	"github.com/tradeloop/tradeloop/workflows"
)

// DatabaseName is the database the dev stack creates in its own cluster.
const DatabaseName = "tradeloop"

// Info is what a user needs to reach the running stack.
type Info struct {
	APIURL string
	// MetricsURL is Prometheus' /metrics, on a listener of its own; empty
	// with METRICS_ADDR=off.
	MetricsURL      string
	UIURL           string
	TemporalAddress string
	DatabaseURL     string
	Namespace       string
	TaskQueue       string
	DemoUsers       []seed.Demo
	DataDir         string
	// HistoryKeys encrypt the stack's workflow histories (HISTORY_KEYS, or
	// the published dev key): a worker run beside the stack needs them.
	HistoryKeys string
	// CodecURL is the API's codec endpoint the Temporal UI decodes at.
	CodecURL string
	// MailURL shows the mail the stack sent to its mail sink; empty when
	// SMTP_HOST sends it to a real mail server.
	MailURL string
	// HooksURL shows the webhook deliveries the demo buyer's and
	// supplier's endpoints received.
	HooksURL string
}

// Options change what the stack runs.
type Options struct {
	// NoWorker leaves the worker out: another process runs it against
	// Info's Temporal and database (the load generator, which measures the
	// worker on its own).
	NoWorker bool
}

// Run starts the stack, calls started once everything answers, and runs until
// ctx is cancelled; then it stops the API, the worker, Temporal and
// PostgreSQL in that order and returns.
func Run(ctx context.Context, cfg config.Config, logger *slog.Logger, started func(Info)) error {
	return RunWith(ctx, cfg, logger, Options{}, started)
}

// RunWith is Run with options.
func RunWith(ctx context.Context, cfg config.Config, logger *slog.Logger, opts Options, started func(Info)) (err error) {
	dataDir, err := filepath.Abs(cfg.Dev.DataDir)
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir %s: %w", dataDir, err)
	}
	lk, err := acquireLock(filepath.Join(dataDir, "dev.lock"))
	if err != nil {
		return err
	}
	defer lk.release()

	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()

	// PostgreSQL first: it is the slowest to fail and the API needs it.
	if cfg.Postgres.URL == "" {
		pg, err := pgcluster.Start(ctx, pgcluster.Options{
			DataDir: filepath.Join(dataDir, "pg"),
			Port:    cfg.Dev.PGPort,
			BinDir:  cfg.Dev.PGBin,
			Logger:  logger,
		})
		if err != nil {
			return fmt.Errorf("start PostgreSQL: %w", err)
		}
		stops = append(stops, func() {
			if err := pg.Stop(); err != nil {
				logger.Error("stop PostgreSQL", "error", err)
			}
		})
		if err := pg.EnsureDatabase(ctx, DatabaseName); err != nil {
			return err
		}
		cfg.Postgres.URL = pg.URL(DatabaseName)
	}

	if cfg.Temporal.HistoryKeys == "" {
		cfg.Temporal.HistoryKeys = historycodec.DevKeys
		logger.Warn("HISTORY_KEYS is unset: workflow histories are encrypted with the published dev key")
	}
	// The UI must know the codec endpoint when it starts, before the API
	// listens: a port left to the system is chosen now.
	apiHost, apiPort, err := net.SplitHostPort(cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR %q: %w", cfg.HTTP.Addr, err)
	}
	if apiPort == "0" {
		p, err := freeport.Get()
		if err != nil {
			return err
		}
		apiPort = strconv.Itoa(p)
		cfg.HTTP.Addr = net.JoinHostPort(apiHost, apiPort)
	}
	if ip := net.ParseIP(apiHost); apiHost == "" || (ip != nil && ip.IsUnspecified()) {
		apiHost = "127.0.0.1"
	}
	codecURL := "http://" + net.JoinHostPort(apiHost, apiPort) + "/codec"
	// The links the dev stack mails open its own console.
	cfg.HTTP.PublicURL = "http://" + net.JoinHostPort(apiHost, apiPort)

	ts, err := temporalserver.Start(ctx, temporalserver.Options{
		DatabaseFile: filepath.Join(dataDir, "temporal.db"),
		FrontendPort: cfg.Dev.TemporalPort,
		UIPort:       cfg.Dev.UIPort,
		// The dev UI has no sign-in of its own: the browser signs in at the
		// codec (a cookie), so it sends credentials, not an access token.
		UICodec:          &temporalserver.UICodec{Endpoint: codecURL, IncludeCredentials: true, SignInURL: codecURL + "/login"},
		Namespace:        cfg.Temporal.Namespace,
		SearchAttributes: workflows.SearchAttributes(),
		Logger:           logger,
	})
	if err != nil {
		return fmt.Errorf("start Temporal: %w", err)
	}
	stops = append(stops, ts.Stop)
	cfg.Temporal.Address = ts.FrontendAddress()
	cfg.HTTP.CodecOrigins = append(cfg.HTTP.CodecOrigins, uiOrigins(ts.UIURL())...)
	cfg.Tracking.Poll, cfg.Tracking.PollNear = cfg.Dev.TrackingPoll, cfg.Dev.TrackingPoll
	mailURL := ""
	if !cfg.Mail.On() {
		// No mail server configured: mail goes to a sink of the stack's
		// own, shown on a page, and leaves no machine.
		var stopSink func()
		cfg.Mail, mailURL, stopSink, err = startMailSink(cfg.Mail, cfg.Dev.MailAddr)
		if err != nil {
			return err
		}
		stops = append(stops, stopSink)
	}

	if err := migrations.ApplyURL(ctx, cfg.Postgres.URL); err != nil {
		return err
	}
	pool, err := stack.OpenDB(ctx, cfg.Postgres)
	if err != nil {
		return err
	}
	stops = append(stops, pool.Close)
	demo, err := seed.DemoKeys(ctx, pool, filepath.Join(dataDir, "demo-keys.json"))
	if err != nil {
		return err
	}
	// The demo organizations' webhooks go to a receiver on this machine.
	cfg.WebhooksAllowLocal = true
	hooksURL, stopHooks, err := startHookSink(ctx, pool, demo, cfg.Dev.HooksAddr)
	if err != nil {
		return err
	}
	stops = append(stops, stopHooks)

	tr, err := tracing.Start(ctx, cfg.Tracing, "dev")
	if err != nil {
		return err
	}
	stops = append(stops, func() { stack.FlushTraces(tr, logger) })
	tc, err := stack.DialTemporal(ctx, cfg.Temporal, logger, tr)
	if err != nil {
		return err
	}
	stops = append(stops, tc.Close)
	deps := stack.Deps{Temporal: tc, DB: pool, Logger: logger, Config: cfg, Tracing: tr}
	mediaURL := cfg.MediaBucketURL
	if mediaURL == "" {
		// The dev stack keeps product media beside its other data.
		mediaURL = (&url.URL{Scheme: "file", Path: filepath.Join(dataDir, "media")}).String()
	}
	bucket, closeBucket, err := stack.OpenMedia(ctx, mediaURL, logger)
	if err != nil {
		return err
	}
	stops = append(stops, closeBucket)
	deps.Media = bucket
	if !opts.NoWorker {
		w := stack.NewWorker(deps)
		if err := w.Start(); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		stopOutbox, err := stack.StartOutbox(deps)
		if err != nil {
			w.Stop()
			return err
		}
		stops = append(stops, w.Stop, stopOutbox)
	}
	if err := stack.EnsureTierSchedule(ctx, tc, stack.TaskQueue(cfg)); err != nil {
		return err
	}
	if err := stack.EnsureWatchdogSchedule(ctx, tc, stack.TaskQueue(cfg)); err != nil {
		return err
	}
	if err := stack.EnsurePurgeSchedule(ctx, tc, stack.TaskQueue(cfg)); err != nil {
		return err
	}
	if err := stack.EnsureReactivationSchedule(ctx, tc, stack.TaskQueue(cfg)); err != nil {
		return err
	}
	if err := stack.EnsurePriceIndexSchedule(ctx, tc, stack.TaskQueue(cfg), time.Now()); err != nil {
		return err
	}
	if err := stack.EnsureCouponExpirySchedule(ctx, tc, stack.TaskQueue(cfg)); err != nil {
		return err
	}

	httpCtx, stopHTTP := context.WithCancel(context.Background())
	httpDone := make(chan error, 1)
	bound := make(chan net.Addr, 1)
	handlers := stack.NewAPI(deps)
	background := handlers.Start(httpCtx) // live notification streams
	go func() {
		httpDone <- stack.ServeHTTP(httpCtx, cfg.HTTP.Addr, handlers.API, cfg.ShutdownTimeout, func(a net.Addr) { bound <- a })
	}()
	metricsDone := make(chan error, 1)
	metricsBound := make(chan net.Addr, 1)
	go func() {
		metricsDone <- stack.ServeMetrics(httpCtx, cfg.HTTP.MetricsAddr, handlers.Metrics, cfg.ShutdownTimeout, func(a net.Addr) { metricsBound <- a })
	}()
	// The API stops first, so no request reaches a stopped worker or database.
	stops = append(stops, func() {
		stopHTTP()
		if err := <-httpDone; err != nil {
			logger.Error("stop API", "error", err)
		}
		<-background
		if err := <-metricsDone; err != nil {
			logger.Error("stop metrics", "error", err)
		}
	})
	var apiAddr net.Addr
	select {
	case apiAddr = <-bound:
	case err := <-httpDone:
		httpDone <- nil // the stop func reads it once more
		return fmt.Errorf("start API: %w", err)
	}
	metricsURL := ""
	if cfg.HTTP.MetricsAddr != "" {
		select {
		case a := <-metricsBound:
			metricsURL = "http://" + a.String() + "/metrics"
		case err := <-metricsDone:
			metricsDone <- nil // the stop func reads it once more
			return fmt.Errorf("start metrics: %w", err)
		}
	}

	if started != nil {
		started(Info{
			APIURL:          "http://" + apiAddr.String(),
			MetricsURL:      metricsURL,
			UIURL:           ts.UIURL(),
			TemporalAddress: ts.FrontendAddress(),
			DatabaseURL:     cfg.Postgres.URL,
			Namespace:       ts.Namespace(),
			TaskQueue:       stack.TaskQueue(cfg),
			DemoUsers:       demo,
			DataDir:         dataDir,
			HistoryKeys:     cfg.Temporal.HistoryKeys,
			CodecURL:        codecURL,
			MailURL:         mailURL,
			HooksURL:        hooksURL,
		})
	}
	select {
	case <-ctx.Done():
		logger.Info("shutting down the dev stack")
		return nil
	case err := <-httpDone:
		httpDone <- nil
		return fmt.Errorf("API stopped: %w", err)
	}
}

// uiOrigins are the origins a browser may show the UI at: 127.0.0.1 is
// also reached as localhost.
func uiOrigins(uiURL string) []string {
	if uiURL == "" {
		return nil
	}
	out := []string{uiURL}
	if rest, ok := strings.CutPrefix(uiURL, "http://127.0.0.1:"); ok {
		out = append(out, "http://localhost:"+rest)
	}
	return out
}

// PrintInfo writes the banner a developer sees once the stack is up.
func PrintInfo(w io.Writer, i Info, took time.Duration) {
	fmt.Fprintf(w, `
Tradeloop dev stack is up (%.1fs)

  Console      %s/app   (sign in below: e-mail and password)
  API          %s   (try: curl %s/readyz)
  Temporal UI  %s/namespaces/%s/workflows
               payloads are encrypted: to read them, sign in at %s/login
               with the finance or admin key below
  Temporal     %s (namespace %s)
  PostgreSQL   %s
  Data         %s

  API reference %s/docs
  Metrics      %s
  Mail         %s
  Webhooks     %s   (the demo buyer's and supplier's endpoints, signatures checked)

  Demo API keys (kept in %s/demo-keys.json):
`, took.Seconds(), i.APIURL, i.APIURL, i.APIURL, i.UIURL, i.Namespace, i.CodecURL, i.TemporalAddress, i.Namespace, i.DatabaseURL, i.DataDir, i.APIURL,
		orNone(i.MetricsURL), mailLine(i.MailURL), i.HooksURL, i.DataDir)
	for _, d := range i.DemoUsers {
		fmt.Fprintf(w, "    %-9s %s   (org %s)\n", d.Role, d.Key, d.OrgID)
	}
	fmt.Fprintf(w, "\n  Console sign-ins (password %s for each):\n", seed.DemoPassword)
	for _, d := range i.DemoUsers {
		fmt.Fprintf(w, "    %-9s %s\n", d.Role, d.Email)
	}
	fmt.Fprintf(w, `
  Try: curl -H "Authorization: Bearer <buyer key>" %s/v1/deals

Press Ctrl-C to stop everything.
`, i.APIURL)
}

func mailLine(url string) string {
	if url == "" {
		return "sent through SMTP_HOST"
	}
	return url + "   (every mail the stack sent: none leaves this machine)"
}

func orNone(url string) string {
	if url == "" {
		return "not served (METRICS_ADDR=off)"
	}
	return url + "   (this machine only unless METRICS_ADDR says otherwise)"
}

// IsAlreadyRunning reports whether err says another stack holds the data dir.
func IsAlreadyRunning(err error) bool { return errors.Is(err, ErrAlreadyRunning) }
