// Package stack wires Tradeloop's two services, the Temporal worker and the
// HTTP API, from configuration. cmd/worker, cmd/api and the dev stack all
// start them through here, so the three run the same code.
package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"gocloud.dev/blob"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/api"
	"github.com/tradeloop/tradeloop/db/migrations"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/deposits"
	"github.com/tradeloop/tradeloop/internal/finance"
	"github.com/tradeloop/tradeloop/internal/gold"
	"github.com/tradeloop/tradeloop/internal/historycodec"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/mail"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/media"
	"github.com/tradeloop/tradeloop/internal/outbox"
	"github.com/tradeloop/tradeloop/internal/payments"
	"github.com/tradeloop/tradeloop/internal/pricetrend"
	"github.com/tradeloop/tradeloop/internal/reactivation"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/internal/referral"
	"github.com/tradeloop/tradeloop/internal/tracing"
	"github.com/tradeloop/tradeloop/internal/tracking"
	"github.com/tradeloop/tradeloop/internal/verification"
	"github.com/tradeloop/tradeloop/internal/webhooks"
	"github.com/tradeloop/tradeloop/workflows"
)

// HistoryCodec is the payload codec HISTORY_KEYS configures.
func HistoryCodec(cfg config.Temporal) (*historycodec.Codec, error) {
	if strings.TrimSpace(cfg.HistoryKeys) == "" {
		return nil, errors.New("HISTORY_KEYS is required: the payloads of workflow histories are encrypted")
	}
	c, err := historycodec.Parse(cfg.HistoryKeys)
	if err != nil {
		return nil, fmt.Errorf("HISTORY_KEYS: %w", err)
	}
	return c, nil
}

// DialTemporal connects to the Temporal frontend and checks that it answers.
// Every client the platform makes comes from here, with the codec of
// HISTORY_KEYS in its data converter, so the worker and the API seal and
// open the same payloads, and, with tracing on, its interceptor, so a
// request's trace goes on into the workflow and its activities.
func DialTemporal(ctx context.Context, cfg config.Temporal, logger *slog.Logger, tr tracing.Tracing) (client.Client, error) {
	codec, err := HistoryCodec(cfg)
	if err != nil {
		return nil, err
	}
	opts := client.Options{
		HostPort:          cfg.Address,
		Namespace:         cfg.Namespace,
		Logger:            sdklog.NewStructuredLogger(logger.With("component", "temporal-sdk")),
		DataConverter:     codec.DataConverter(),
		ConnectionOptions: historycodec.ConnectionOptions(),
	}
	if i, err := tr.Interceptor(); err != nil {
		return nil, err
	} else if i != nil {
		opts.Interceptors = append(opts.Interceptors, i)
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to temporal at %s: %w", cfg.Address, err)
	}
	return c, nil
}

// OpenDB opens a connection pool and checks that the database answers.
func OpenDB(ctx context.Context, cfg config.Postgres) (*pgxpool.Pool, error) {
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, errors.New("DATABASE_URL is not a valid PostgreSQL URL or DSN")
	}
	pc.MaxConns = cfg.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s@%s/%s: %w", pc.ConnConfig.User, pc.ConnConfig.Host, pc.ConnConfig.Database, err)
	}
	return pool, nil
}

// Deps are the connections both services run on.
type Deps struct {
	Temporal client.Client
	DB       *pgxpool.Pool
	Logger   *slog.Logger
	Config   config.Config
	// Tracing is the service's (off unless an OTLP endpoint is set).
	Tracing tracing.Tracing
	// Media is the bucket of product media (the API's; OpenMedia), nil
	// when none is configured.
	Media *blob.Bucket
}

// Payments returns the configured provider: Stripe when a secret key is
// set, the sandbox otherwise.
func Payments(d Deps) activities.Payments {
	if d.Config.PaymentsProvider() == "stripe" {
		q := store.New(d.DB)
		return payments.NewStripe(d.Config.Stripe.SecretKey, d.Config.Stripe.APIBase, func(ctx context.Context, org string) (string, error) {
			id, err := uuid.Parse(org)
			if err != nil {
				return "", fmt.Errorf("supplier %q is not an organization ID", org)
			}
			acct, err := q.SupplierStripeAccount(ctx, id)
			if err != nil || acct == nil {
				return "", fmt.Errorf("supplier %s has no Stripe connected account", org)
			}
			return *acct, nil
		})
	}
	return payments.NewSandbox(d.Config.Stripe.SandboxDelay)
}

// NewWorker makes the worker for the deals task queue with every workflow
// and activity registered. The caller starts and stops it.
//
// The ledger and the read model are PostgreSQL's, payments go to Stripe or
// the sandbox, shipments are followed at 17TRACK when a token is configured
// and at the simulated carrier otherwise; notifications go into the outbox
// (StartOutbox delivers them). Each of extra registers more on the same
// worker (the bench's worker adds its baseline).
func NewWorker(d Deps, extra ...func(worker.Registry, client.Client)) worker.Worker {
	// The SDK's default workflow-task pollers: its autoscaling pollers
	// (one to eight per queue) made a new deal's first task wait less under
	// the bench's load, but under two make tests at once the fault tests'
	// deals stalled with the normal queue's backlog undrained for minutes.
	w := worker.New(d.Temporal, TaskQueue(d.Config), worker.Options{})
	workflows.Register(w)
	workflows.RegisterFinance(w)
	workflows.RegisterRetention(w)
	workflows.RegisterGrowth(w)
	workflows.RegisterPriceTrends(w)
	workflows.RegisterVerification(w)
	workflows.RegisterDeposits(w)
	workflows.RegisterGold(w)
	for _, register := range extra {
		register(w, d.Temporal)
	}
	fin := finance.New(d.DB, d.Temporal)
	fin.Logger = d.Logger.With("component", "escrow-watchdog")
	w.RegisterActivity(&activities.Activities{
		Payments:     Payments(d),
		Ledger:       ledger.New(d.DB),
		Projection:   readmodel.New(d.DB),
		Tracker:      tracker(d.Config.Tracking),
		Deals:        d.Temporal,
		Notifier:     activities.LogNotifier{Logger: d.Logger.With("component", "notifications")},
		Tiers:        marketplace.New(d.DB),
		Alerts:       fin,
		Escrows:      fin,
		Logger:       d.Logger.With("component", "finance"),
		PaymentIndex: readmodel.New(d.DB),
		Mediators:    readmodel.New(d.DB),
		Idempotency: func(ctx context.Context, olderThan time.Duration) (int64, error) {
			return store.New(d.DB).PurgeIdempotencyKeys(ctx, olderThan.Seconds())
		},
		IdempotencyRetention: d.Config.Keys.IdempotencyRetention,
		Reactivate:           reactivation.New(d.DB, d.Config.HTTP.PublicURL).Run,
		PriceIndex:           pricetrend.New(d.DB).Snapshot,
		Coupons:              Referrals(d),
		CouponExpiry:         Referrals(d).Expire,
		Verifications:        verification.New(d.DB, nil),
		Deposits:             deposits.New(d.DB),
		Gold:                 Gold(d),
	})
	trackedBy := "simulated carrier, one status per " + d.Config.Tracking.SimStep.String()
	if d.Config.Tracking.SeventeenTrackToken != "" {
		trackedBy = "17TRACK"
	}
	d.Logger.Info("worker providers", "payments", d.Config.PaymentsProvider(), "tracking", trackedBy)
	return w
}

// Gold is the Gold certification service on d's database, new
// certifications at the configured fee.
func Gold(d Deps) *gold.Service {
	return gold.New(d.DB, d.Config.Deals.GoldTerms())
}

// Referrals is the referral service on d's database, its coupons worth
// and valid as configured.
func Referrals(d Deps) *referral.Service {
	return referral.New(d.DB, referral.Config{RewardBP: d.Config.Deals.ReferralRewardBP, ValidFor: d.Config.Deals.CouponValidFor})
}

// StartOutbox starts delivering the deals' notifications from the outbox
// until stop is called: into the users' in-app inboxes, to the log, by
// e-mail when SMTP_HOST is set, and to the organizations' webhook
// endpoints.
func StartOutbox(d Deps) (stop func(), err error) {
	notifier := activities.Notifiers{activities.LogNotifier{Logger: d.Logger.With("component", "notifications")}}
	if d.Config.Mail.On() {
		sender, err := mail.New(d.DB, d.Config.Mail, d.Logger.With("component", "mail"))
		if err != nil {
			return nil, err
		}
		notifier = append(notifier, sender)
		d.Logger.Info("notifications by e-mail", "smtp", net.JoinHostPort(d.Config.Mail.SMTPHost, strconv.Itoa(d.Config.Mail.SMTPPort)), "tls", d.Config.Mail.SMTPTLS)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	disp := &outbox.Dispatcher{Pool: d.DB, Logger: d.Logger.With("component", "outbox"), Notifier: notifier}
	hooks := &webhooks.Dispatcher{Pool: d.DB, Logger: d.Logger.With("component", "webhooks"), Client: webhooks.Client(d.Config.WebhooksAllowLocal)}
	wg.Go(func() { disp.Run(ctx) })
	wg.Go(func() { hooks.Run(ctx) })
	return func() {
		cancel()
		wg.Wait()
	}, nil
}

// TaskQueue is the configured task queue of deals (TEMPORAL_TASK_QUEUE).
func TaskQueue(cfg config.Config) string {
	if cfg.Temporal.TaskQueue == "" {
		return workflows.TaskQueue
	}
	return cfg.Temporal.TaskQueue
}

// Policy is the deadlines new deals start with: the defaults scaled by
// DEAL_POLICY_SCALE, with the configured tracking polls.
func Policy(cfg config.Config) workflows.Policy {
	var p workflows.Policy // zero fields: the workflow's defaults
	if s := cfg.Deals.PolicyScale; s > 0 && s != 1 {
		p = p.Scaled(s)
	}
	p.TrackingPoll, p.TrackingPollNear = cfg.Tracking.Poll, cfg.Tracking.PollNear
	return p
}

func tracker(cfg config.Tracking) activities.Tracker {
	if cfg.SeventeenTrackToken != "" {
		return tracking.NewSeventeenTrack(cfg.SeventeenTrackBase, cfg.SeventeenTrackToken)
	}
	return tracking.NewSimulated(cfg.SimStep)
}

// NewAPI makes the API's handlers: the API's own and the metrics'.
func NewAPI(d Deps) api.Handlers {
	var stripeClient *payments.Stripe
	if p, ok := Payments(d).(*payments.Stripe); ok {
		stripeClient = p
	}
	// The codec endpoint is served only with keys; without them (tests that
	// build the API on a client of their own) the route is absent.
	var codec converter.PayloadCodec
	if d.Config.Temporal.HistoryKeys != "" {
		if c, err := HistoryCodec(d.Config.Temporal); err != nil {
			d.Logger.Error("codec endpoint disabled", "error", err)
		} else {
			codec = c
		}
	}
	// Validated by config.Load.
	proxies, _ := d.Config.HTTP.TrustedNets()
	clientRate := d.Config.HTTP.ClientRateLimit
	if clientRate == 0 {
		clientRate = -1 // off
	}
	return api.NewHandlers(api.Deps{
		Codec:                codec,
		CodecOrigins:         d.Config.HTTP.CodecOrigins,
		PublicURL:            d.Config.HTTP.PublicURL,
		ReferralRewardBP:     d.Config.Deals.ReferralRewardBP,
		Gold:                 d.Config.Deals.GoldTerms(),
		CouponValidFor:       d.Config.Deals.CouponValidFor,
		ClientRateLimit:      clientRate,
		ClientRateBurst:      d.Config.HTTP.ClientRateBurst,
		TrustedProxies:       proxies,
		KeyRotationGrace:     d.Config.Keys.RotationGrace,
		Logger:               d.Logger,
		Tracing:              d.Tracing,
		Temporal:             d.Temporal,
		DB:                   d.DB,
		Stripe:               stripeClient,
		TaskQueue:            TaskQueue(d.Config),
		Policy:               Policy(d.Config),
		WebhookSecret:        d.Config.Stripe.WebhookSecret,
		StripePublishableKey: d.Config.Stripe.PublishableKey,
		WebhooksAllowLocal:   d.Config.WebhooksAllowLocal,
		PDFFont:              d.Config.PDFFont,
		Media:                d.Media,
		Checks: map[string]api.Pinger{
			"postgres": d.DB,
			"temporal": api.PingerFunc(func(ctx context.Context) error {
				_, err := d.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
				return err
			}),
		},
	})
}

// OpenMedia opens the media bucket at rawURL (config MEDIA_BUCKET_URL); an
// empty URL is no bucket, with a warning: the API then refuses media.
func OpenMedia(ctx context.Context, rawURL string, logger *slog.Logger) (bucket *blob.Bucket, closeBucket func(), err error) {
	if rawURL == "" {
		logger.Warn("product media are refused: set MEDIA_BUCKET_URL (file:///dir or s3://bucket?region=…)")
		return nil, func() {}, nil
	}
	b, err := media.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("MEDIA_BUCKET_URL: %w", err)
	}
	return b, func() {
		if err := b.Close(); err != nil {
			logger.Warn("closing the media bucket", "error", err)
		}
	}, nil
}

// ServeHTTP serves h on addr until ctx is cancelled, then stops accepting
// connections and lets in-flight requests finish within drain. ready, if not
// nil, is called with the bound address once the listener is open.
func ServeHTTP(ctx context.Context, addr string, h http.Handler, drain time.Duration, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve http: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("drain http: %w", err)
	}
	return nil
}

// ServeMetrics serves the metrics handler on addr like ServeHTTP, or,
// with no address, serves nothing and waits for ctx to end.
func ServeMetrics(ctx context.Context, addr string, h http.Handler, drain time.Duration, ready func(net.Addr)) error {
	if addr == "" {
		<-ctx.Done()
		return nil
	}
	if err := ServeHTTP(ctx, addr, h, drain, ready); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// RunWorker runs the worker of cmd/worker (and `tradeloop worker`) until ctx
// is cancelled, then lets running activities finish and returns. extra is
// NewWorker's.
func RunWorker(ctx context.Context, cfg config.Config, extra ...func(worker.Registry, client.Client)) error {
	deps, closeDeps, err := Connect(ctx, cfg, "worker")
	if err != nil {
		return err
	}
	defer closeDeps()
	w := NewWorker(deps, extra...)
	if err := w.Start(); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	deps.Logger.Info("worker started", "task_queue", TaskQueue(cfg), "namespace", cfg.Temporal.Namespace)
	stopOutbox, err := StartOutbox(deps)
	if err != nil {
		return err
	}
	defer stopOutbox()
	// The schedules must not keep a worker from running deals: a Temporal
	// server too busy to answer in time is asked again.
	go ensureSchedules(ctx, deps.Logger, "tier", func(ctx context.Context) error {
		return EnsureTierSchedule(ctx, deps.Temporal, TaskQueue(cfg))
	})
	go ensureSchedules(ctx, deps.Logger, "escrow watchdog", func(ctx context.Context) error {
		return EnsureWatchdogSchedule(ctx, deps.Temporal, TaskQueue(cfg))
	})
	go ensureSchedules(ctx, deps.Logger, "idempotency purge", func(ctx context.Context) error {
		return EnsurePurgeSchedule(ctx, deps.Temporal, TaskQueue(cfg))
	})
	go ensureSchedules(ctx, deps.Logger, "buyer reactivation", func(ctx context.Context) error {
		return EnsureReactivationSchedule(ctx, deps.Temporal, TaskQueue(cfg))
	})
	go ensureSchedules(ctx, deps.Logger, "coupon expiry", func(ctx context.Context) error {
		return EnsureCouponExpirySchedule(ctx, deps.Temporal, TaskQueue(cfg))
	})
	go ensureSchedules(ctx, deps.Logger, "price index", func(ctx context.Context) error {
		return EnsurePriceIndexSchedule(ctx, deps.Temporal, TaskQueue(cfg), time.Now())
	})
	<-ctx.Done()
	deps.Logger.Info("worker stopping")
	w.Stop()
	return nil
}

// Connect prepares a service's dependencies from configuration: it applies
// the database migrations (each service may start first), opens the pool and
// dials Temporal. close releases them.
func Connect(ctx context.Context, cfg config.Config, service string) (d Deps, closeFn func(), err error) {
	if err := cfg.RequireDatabase(); err != nil {
		return Deps{}, nil, err
	}
	if err := cfg.RequireHistoryKeys(); err != nil {
		return Deps{}, nil, err
	}
	logger := cfg.Log.NewLogger().With("service", service)
	if err := migrations.ApplyURL(ctx, cfg.Postgres.URL); err != nil {
		return Deps{}, nil, err
	}
	pool, err := OpenDB(ctx, cfg.Postgres)
	if err != nil {
		return Deps{}, nil, err
	}
	tr, err := tracing.Start(ctx, cfg.Tracing, service)
	if err != nil {
		pool.Close()
		return Deps{}, nil, err
	}
	tc, err := DialTemporal(ctx, cfg.Temporal, logger, tr)
	if err != nil {
		pool.Close()
		return Deps{}, nil, err
	}
	if tr.On() {
		logger.Info("tracing", "otlp_endpoint", cfg.Tracing.URL())
	}
	return Deps{Temporal: tc, DB: pool, Logger: logger, Config: cfg, Tracing: tr}, func() {
		tc.Close()
		pool.Close()
		FlushTraces(tr, logger)
	}, nil
}

// ensureSchedules calls ensure until it succeeds or ctx ends, backing off
// from a second to once a minute.
func ensureSchedules(ctx context.Context, log *slog.Logger, name string, ensure func(context.Context) error) {
	for wait := time.Second; ; wait = min(2*wait, time.Minute) {
		err := ensure(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		log.Warn("schedule not ensured; trying again", "schedule", name, "error", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// FlushTraces exports the spans tr still holds, giving the collector a few
// seconds.
func FlushTraces(tr tracing.Tracing, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		logger.Warn("traces not all exported", "error", err)
	}
}
