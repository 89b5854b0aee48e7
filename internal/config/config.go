// Package config reads Tradeloop's settings from environment variables, with
// defaults that suit one developer's machine, and rejects values that cannot
// work before any service starts. Every variable is listed in the README.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/internal/gold"
	"github.com/tradeloop/tradeloop/internal/historycodec"
)

// Config is the whole configuration of the api, the worker and the dev stack.
type Config struct {
	Temporal Temporal
	Postgres Postgres
	HTTP     HTTP
	Keys     Keys
	Stripe   Stripe
	Log      Log
	Tracking Tracking
	Deals    Deals
	Dev      Dev
	Tracing  Tracing
	Mail     Mail
	// WebhooksAllowLocal lets organizations register http endpoints and
	// endpoints at loopback and private addresses (the dev stack's
	// receiver, tests). Off in production: the platform would otherwise
	// post into its own network for anyone who asks.
	WebhooksAllowLocal bool `env:"WEBHOOKS_ALLOW_LOCAL" envDefault:"false"`
	// ShutdownTimeout bounds how long a service drains in-flight work on
	// SIGINT/SIGTERM before it exits anyway.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"30s"`
	// PDFFont is the TrueType font (.ttf with glyf outlines) PDFs print
	// Chinese and other text beyond Windows-1252 in; the default is where
	// Debian's fonts-droid-fallback installs its font. The API reads it
	// once at start; without it, PDFs print such text as "?" and the API
	// logs a warning.
	PDFFont string `env:"PDF_FONT" envDefault:"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"`
	// MediaBucketURL is where product media are stored (gocloud.dev/blob):
	// file:///dir in development, s3://bucket?region=…&endpoint=… in
	// production. The dev stack uses a directory of its data dir when it is
	// unset; the API then refuses media with 503.
	MediaBucketURL string `env:"MEDIA_BUCKET_URL"`
}

// Temporal says where the Temporal frontend is.
type Temporal struct {
	Address   string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233"`
	Namespace string `env:"TEMPORAL_NAMESPACE" envDefault:"default"`
	// TaskQueue is where deals and their activities run: the API starts
	// deals on it and the worker polls it.
	TaskQueue string `env:"TEMPORAL_TASK_QUEUE" envDefault:"deals"`
	// HistoryKeys encrypt the payloads in workflow histories:
	// "id1:base64key,id2:base64key", AES-256 keys; the first encrypts, all
	// decrypt (rotation). No default: the api and the worker refuse to start
	// without it; the dev stack and the tests use historycodec.DevKeys.
	HistoryKeys string `env:"HISTORY_KEYS"`
}

// Postgres says where the read model and ledger live.
type Postgres struct {
	// URL is a libpq-style URL or DSN. The dev stack fills it in when it runs
	// its own cluster; the api and the worker need it set.
	URL      string `env:"DATABASE_URL"`
	MaxConns int32  `env:"DATABASE_MAX_CONNS" envDefault:"20"`
}

// HTTP configures the API's listeners and what it allows.
type HTTP struct {
	Addr string `env:"HTTP_ADDR" envDefault:"127.0.0.1:8080"`
	// PublicURL is the address people reach the API and the console at
	// (scheme://host[:port], no path): the links the platform mails
	// (invitations, password resets) start with it, never with a request's
	// Host header, which anyone can write. The dev stack sets its own.
	PublicURL string `env:"PUBLIC_URL" envDefault:"http://127.0.0.1:8080"`
	// CodecOrigins are the Temporal UI origins (scheme://host:port) whose
	// browsers may call the codec endpoint (/codec/decode, /codec/encode).
	// The dev stack adds its own UI.
	CodecOrigins []string `env:"CODEC_CORS_ORIGINS" envSeparator:","`
	// MetricsAddr serves Prometheus' /metrics apart from the API, so the
	// public listener never shows it; "off" (empty after Load) serves no
	// metrics.
	MetricsAddr string `env:"METRICS_ADDR" envDefault:"127.0.0.1:9464"`
	// ClientRateLimit is each client address's sustained requests per
	// second before authentication (bursts of ClientRateBurst); 0 turns the
	// limit off (the load generator does). Each API key has its own limit
	// besides.
	ClientRateLimit float64 `env:"HTTP_CLIENT_RATE_LIMIT" envDefault:"100"`
	ClientRateBurst int     `env:"HTTP_CLIENT_RATE_BURST" envDefault:"200"`
	// TrustedProxies are the CIDRs of the reverse proxies in front of the
	// API. Only then is a client's address taken from X-Forwarded-For (its
	// rightmost untrusted entry); without them it is the connection's
	// address, since any client can write that header.
	TrustedProxies []string `env:"HTTP_TRUSTED_PROXIES" envSeparator:","`
}

// Keys configures the API's keys and what it keeps of responses.
type Keys struct {
	// RotationGrace is how long a rotated key keeps working beside its
	// replacement.
	RotationGrace time.Duration `env:"API_KEY_ROTATION_GRACE" envDefault:"24h"`
	// IdempotencyRetention is how long the response to a POST with an
	// Idempotency-Key is kept for repeats; a scheduled job deletes older
	// ones. At least 24h, as clients (Stripe's included) expect.
	IdempotencyRetention time.Duration `env:"IDEMPOTENCY_RETENTION" envDefault:"48h"`
}

// Stripe holds the payment provider's keys. With no secret key the platform
// uses its sandbox provider.
type Stripe struct {
	SecretKey     string `env:"STRIPE_SECRET_KEY"`
	WebhookSecret string `env:"STRIPE_WEBHOOK_SECRET"`
	// PublishableKey (pk_…) lets the console's buyers pay in Stripe's
	// own payment form (Stripe.js); without it they pay through an API
	// client.
	PublishableKey string `env:"STRIPE_PUBLISHABLE_KEY"`
	// APIBase points the client at another Stripe endpoint (stripe-mock in tests).
	APIBase string `env:"STRIPE_API_BASE"`
	// SandboxDelay makes sandbox payments confirm after a while instead of at
	// once (the deal then learns it by reconciliation).
	SandboxDelay time.Duration `env:"SANDBOX_CONFIRM_DELAY" envDefault:"0s"`
}

// Tracking configures how shipments are followed.
type Tracking struct {
	// Poll is how often a new deal's shipments are polled on their way,
	// PollNear once out for delivery or at a pickup point.
	Poll     time.Duration `env:"TRACKING_POLL" envDefault:"4h"`
	PollNear time.Duration `env:"TRACKING_POLL_NEAR" envDefault:"1h"`
	// SimStep is how long the simulated carrier (used when no tracking
	// aggregator is configured) takes per status.
	SimStep time.Duration `env:"TRACKING_SIM_STEP" envDefault:"1m"`
	// SeventeenTrackToken, when set, follows shipments at 17TRACK.
	SeventeenTrackToken string `env:"TRACKING_17TRACK_TOKEN"`
	SeventeenTrackBase  string `env:"TRACKING_17TRACK_BASE" envDefault:"https://api.17track.net/track/v2.2"`
}

// Deals configures the deadlines new deals start with.
type Deals struct {
	// PolicyScale multiplies every default deal deadline (quote SLA, inquiry
	// expiry, payment windows, inspection, dispute): 0.01 makes the 2-hour
	// quote SLA 72 s. For demos, tests and the load generator; tracking polls
	// keep TRACKING_POLL and TRACKING_POLL_NEAR.
	PolicyScale float64 `env:"DEAL_POLICY_SCALE" envDefault:"1"`
	// ReferralRewardBP is what a referral coupon is worth, in basis points
	// of the referred buyer's first completed deal (100: 1 %), and
	// CouponValidFor how long the referrer may use it.
	ReferralRewardBP int64         `env:"REFERRAL_REWARD_BP" envDefault:"100"`
	CouponValidFor   time.Duration `env:"COUPON_VALID_FOR" envDefault:"8760h"`
	// GoldFeeMinor is the yearly fee of a supplier's Gold certification,
	// in minor units of GoldCurrency (120000 USD: USD 1,200.00). New
	// certifications take it; a running one keeps the fee it began with.
	GoldFeeMinor int64  `env:"GOLD_FEE_MINOR" envDefault:"120000"`
	GoldCurrency string `env:"GOLD_CURRENCY" envDefault:"USD"`
}

// GoldTerms are what a new Gold certification costs.
func (d Deals) GoldTerms() gold.Terms {
	return gold.Terms{Fee: d.GoldFeeMinor, Currency: d.GoldCurrency}
}

// Tracing says where OpenTelemetry traces go: nowhere unless an OTLP
// endpoint is set. The exporter reads the other standard OTEL_EXPORTER_OTLP_*
// variables (headers, certificates, timeout) itself.
type Tracing struct {
	// Endpoint is the OTLP/gRPC collector's URL (http://host:4317 without
	// TLS, https:// with it); TracesEndpoint, when set, overrides it for
	// traces, as the OpenTelemetry specification says.
	Endpoint       string `env:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	TracesEndpoint string `env:"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"`
	// ServiceName names the service in traces; empty: tradeloop-api,
	// tradeloop-worker or tradeloop-dev.
	ServiceName string `env:"OTEL_SERVICE_NAME"`
}

// On says whether traces are exported.
func (t Tracing) On() bool { return t.URL() != "" }

// URL is the collector's endpoint for traces.
func (t Tracing) URL() string {
	if t.TracesEndpoint != "" {
		return t.TracesEndpoint
	}
	return t.Endpoint
}

// Log configures log/slog output.
type Log struct {
	Level  string `env:"LOG_LEVEL" envDefault:"info"`
	Format string `env:"LOG_FORMAT" envDefault:"text"`
}

// Dev configures `tradeloop dev`, the whole stack in one process.
type Dev struct {
	// DataDir holds the Temporal SQLite file, the PostgreSQL cluster and the
	// lock that keeps a second dev stack from using them at the same time.
	DataDir string `env:"TRADELOOP_DATA_DIR" envDefault:".tradeloop"`
	// TemporalPort is the embedded Temporal frontend's gRPC port.
	TemporalPort int `env:"TEMPORAL_PORT" envDefault:"7233"`
	// UIPort serves the Temporal Web UI.
	UIPort int `env:"TEMPORAL_UI_PORT" envDefault:"8233"`
	// PGPort is the private PostgreSQL cluster's port on 127.0.0.1.
	PGPort int `env:"TRADELOOP_PG_PORT" envDefault:"54329"`
	// PGBin is where initdb and postgres are; empty searches the usual places.
	PGBin string `env:"TRADELOOP_PG_BIN"`
	// TrackingPoll replaces TRACKING_POLL in the dev stack, so a demo
	// shipment shows its progress within seconds.
	TrackingPoll time.Duration `env:"TRADELOOP_DEV_TRACKING_POLL" envDefault:"10s"`
	// MailAddr serves the page of the dev stack's mail sink (used when
	// SMTP_HOST is not set).
	MailAddr string `env:"TRADELOOP_DEV_MAIL_ADDR" envDefault:"127.0.0.1:8025"`
	// HooksAddr serves the dev stack's webhook receiver, where the demo
	// organizations' endpoints point, and its page.
	HooksAddr string `env:"TRADELOOP_DEV_HOOKS_ADDR" envDefault:"127.0.0.1:8026"`
}

// Mail is the e-mail channel of notifications: off without SMTP_HOST
// (notifications then reach the in-app inbox and the log only).
type Mail struct {
	SMTPHost string `env:"SMTP_HOST"`
	SMTPPort int    `env:"SMTP_PORT" envDefault:"587"`
	// SMTPTLS is mandatory (STARTTLS or fail), opportunistic (STARTTLS
	// when offered), tls (TLS from the first byte, port 465 style), or none
	// (only for a mail sink on this machine).
	SMTPTLS      string `env:"SMTP_TLS" envDefault:"mandatory"`
	SMTPUsername string `env:"SMTP_USERNAME"`
	SMTPPassword string `env:"SMTP_PASSWORD"`
	// From is the sender, "Name <address>" or an address.
	From string `env:"MAIL_FROM" envDefault:"Tradeloop <notifications@tradeloop.example>"`
}

// On reports whether notifications go out by e-mail.
func (m Mail) On() bool { return m.SMTPHost != "" }

// FromEnv reads the process environment.
func FromEnv() (Config, error) {
	return Load(environ())
}

// Load reads the given environment (name → value) and validates it.
func Load(environment map[string]string) (Config, error) {
	cfg, err := env.ParseAsWithOptions[Config](env.Options{Environment: environment})
	if err != nil {
		return Config{}, nameVariables(err)
	}
	if cfg.HTTP.MetricsAddr == "off" {
		cfg.HTTP.MetricsAddr = ""
	}
	if err := cfg.validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func (c Config) validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(c.Temporal.Address); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("TEMPORAL_ADDRESS %q: want host:port", c.Temporal.Address))
	}
	if strings.TrimSpace(c.Temporal.Namespace) == "" {
		errs = append(errs, errors.New("TEMPORAL_NAMESPACE must not be empty"))
	}
	if strings.TrimSpace(c.Temporal.TaskQueue) == "" {
		errs = append(errs, errors.New("TEMPORAL_TASK_QUEUE must not be empty"))
	}
	if c.Temporal.HistoryKeys != "" {
		if _, err := historycodec.ParseKeys(c.Temporal.HistoryKeys); err != nil {
			errs = append(errs, fmt.Errorf("HISTORY_KEYS: %w", err))
		}
	}
	if c.MediaBucketURL != "" {
		if u, err := url.Parse(c.MediaBucketURL); err != nil || (u.Scheme != "file" && u.Scheme != "s3") || (u.Scheme == "file" && u.Path == "") || (u.Scheme == "s3" && u.Host == "") {
			errs = append(errs, fmt.Errorf("MEDIA_BUCKET_URL %q: want file:///dir or s3://bucket?region=…", c.MediaBucketURL))
		}
	}
	for _, o := range c.HTTP.CodecOrigins {
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			errs = append(errs, fmt.Errorf("CODEC_CORS_ORIGINS %q: want scheme://host[:port]", o))
		}
	}
	for _, e := range [][2]string{{"OTEL_EXPORTER_OTLP_ENDPOINT", c.Tracing.Endpoint}, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", c.Tracing.TracesEndpoint}} {
		if u, err := url.Parse(e[1]); e[1] != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			errs = append(errs, fmt.Errorf("%s %q: want an OTLP/gRPC collector's URL, http://host:port or https://host:port", e[0], e[1]))
		}
	}
	if !(c.Deals.PolicyScale > 0 && c.Deals.PolicyScale <= 1) {
		errs = append(errs, fmt.Errorf("DEAL_POLICY_SCALE %v: want a factor above 0 and at most 1", c.Deals.PolicyScale))
	}
	if c.Deals.ReferralRewardBP < 1 || c.Deals.ReferralRewardBP > 10000 {
		errs = append(errs, fmt.Errorf("REFERRAL_REWARD_BP %d: want basis points from 1 to 10000", c.Deals.ReferralRewardBP))
	}
	if err := c.Deals.GoldTerms().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("GOLD_FEE_MINOR, GOLD_CURRENCY: %w", err))
	}
	if c.Deals.CouponValidFor < time.Hour {
		errs = append(errs, fmt.Errorf("COUPON_VALID_FOR %s: want at least an hour", c.Deals.CouponValidFor))
	}
	if c.Postgres.URL != "" {
		if _, err := pgxpool.ParseConfig(c.Postgres.URL); err != nil {
			// pgx's message may quote the URL, password included: keep it out.
			errs = append(errs, errors.New("DATABASE_URL is not a valid PostgreSQL URL or DSN"))
		}
	}
	if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("PUBLIC_URL %q: want scheme://host[:port], http or https, without a path", c.HTTP.PublicURL))
	}
	if c.Postgres.MaxConns < 1 {
		errs = append(errs, fmt.Errorf("DATABASE_MAX_CONNS %d: want at least 1", c.Postgres.MaxConns))
	}
	if _, _, err := net.SplitHostPort(c.HTTP.Addr); err != nil {
		errs = append(errs, fmt.Errorf("HTTP_ADDR %q: want host:port", c.HTTP.Addr))
	}
	if a := c.HTTP.MetricsAddr; a != "" {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("METRICS_ADDR %q: want host:port, or off for no metrics", a))
		}
	}
	if c.HTTP.ClientRateLimit < 0 || (c.HTTP.ClientRateLimit > 0 && c.HTTP.ClientRateBurst < 1) {
		errs = append(errs, errors.New("HTTP_CLIENT_RATE_LIMIT must be 0 (off) or positive, with HTTP_CLIENT_RATE_BURST at least 1"))
	}
	if _, err := c.HTTP.TrustedNets(); err != nil {
		errs = append(errs, err)
	}
	if c.Keys.RotationGrace < 0 {
		errs = append(errs, fmt.Errorf("API_KEY_ROTATION_GRACE %s: must not be negative", c.Keys.RotationGrace))
	}
	if c.Keys.IdempotencyRetention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("IDEMPOTENCY_RETENTION %s: want at least 24h, so a client's retry within a day is recognised", c.Keys.IdempotencyRetention))
	}
	if k := c.Stripe.SecretKey; k != "" && !strings.HasPrefix(k, "sk_") && !strings.HasPrefix(k, "rk_") {
		errs = append(errs, errors.New("STRIPE_SECRET_KEY must be a secret (sk_…) or restricted (rk_…) key"))
	}
	if k := c.Stripe.PublishableKey; k != "" && !strings.HasPrefix(k, "pk_") {
		errs = append(errs, errors.New("STRIPE_PUBLISHABLE_KEY must be a publishable key (pk_…)"))
	}
	if w := c.Stripe.WebhookSecret; w != "" && !strings.HasPrefix(w, "whsec_") {
		errs = append(errs, errors.New("STRIPE_WEBHOOK_SECRET must start with whsec_"))
	}
	if c.Stripe.SecretKey != "" && c.Stripe.WebhookSecret == "" {
		errs = append(errs, errors.New("STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY: payment confirmations arrive by webhook"))
	}
	if _, err := c.Log.SlogLevel(); err != nil {
		errs = append(errs, err)
	}
	switch c.Mail.SMTPTLS {
	case "mandatory", "opportunistic", "tls", "none":
	default:
		errs = append(errs, fmt.Errorf("SMTP_TLS %q: want mandatory, opportunistic, tls or none", c.Mail.SMTPTLS))
	}
	if c.Mail.On() {
		if c.Mail.SMTPPort < 1 || c.Mail.SMTPPort > 65535 {
			errs = append(errs, fmt.Errorf("SMTP_PORT %d: want a port", c.Mail.SMTPPort))
		}
		if _, err := netmail.ParseAddress(c.Mail.From); err != nil {
			errs = append(errs, fmt.Errorf("MAIL_FROM %q: want an address or Name <address>", c.Mail.From))
		}
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT %q: want text or json", c.Log.Format))
	}
	if c.Tracking.Poll < time.Second || c.Tracking.PollNear < time.Second || c.Tracking.SimStep <= 0 || c.Dev.TrackingPoll < time.Second {
		errs = append(errs, errors.New("TRACKING_POLL, TRACKING_POLL_NEAR and TRADELOOP_DEV_TRACKING_POLL must be at least 1s, TRACKING_SIM_STEP positive"))
	}
	if c.Stripe.SandboxDelay < 0 {
		errs = append(errs, fmt.Errorf("SANDBOX_CONFIRM_DELAY %s: must not be negative", c.Stripe.SandboxDelay))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("SHUTDOWN_TIMEOUT %s: want a positive duration", c.ShutdownTimeout))
	}
	for name, port := range map[string]int{
		"TEMPORAL_PORT": c.Dev.TemporalPort, "TEMPORAL_UI_PORT": c.Dev.UIPort, "TRADELOOP_PG_PORT": c.Dev.PGPort,
	} {
		if port < 1 || port > 65535 {
			errs = append(errs, fmt.Errorf("%s %d: want a port between 1 and 65535", name, port))
		}
	}
	if strings.TrimSpace(c.Dev.DataDir) == "" {
		errs = append(errs, errors.New("TRADELOOP_DATA_DIR must not be empty"))
	}
	return errors.Join(errs...)
}

// TrustedNets parses HTTP_TRUSTED_PROXIES.
func (h HTTP) TrustedNets() ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, c := range h.TrustedProxies {
		_, n, err := net.ParseCIDR(strings.TrimSpace(c))
		if err != nil {
			return nil, fmt.Errorf("HTTP_TRUSTED_PROXIES %q: want CIDRs such as 10.0.0.0/8, comma-separated", c)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// RequireDatabase fails when DATABASE_URL is unset, for services that cannot
// run without it.
func (c Config) RequireDatabase() error {
	if c.Postgres.URL == "" {
		return errors.New("DATABASE_URL is required (for example postgres://user:pass@localhost:5432/tradeloop)")
	}
	return nil
}

// RequireHistoryKeys fails when HISTORY_KEYS is unset, for services that
// write or read workflow histories: their payloads are encrypted.
func (c Config) RequireHistoryKeys() error {
	if strings.TrimSpace(c.Temporal.HistoryKeys) == "" {
		return errors.New("HISTORY_KEYS is required: id:base64key[,id:base64key…], AES-256 keys that encrypt workflow histories (see the README)")
	}
	return nil
}

// PaymentsProvider names the provider the configuration selects.
func (c Config) PaymentsProvider() string {
	if c.Stripe.SecretKey != "" {
		return "stripe"
	}
	return "sandbox"
}

// SlogLevel parses LOG_LEVEL.
func (l Log) SlogLevel() (slog.Level, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.Level)); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", l.Level)
	}
	return lvl, nil
}

// NewLogger builds the process's logger from LOG_LEVEL and LOG_FORMAT.
func (l Log) NewLogger() *slog.Logger {
	lvl, _ := l.SlogLevel() // validated by Load
	opts := &slog.HandlerOptions{Level: lvl}
	if l.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// nameVariables rewrites the env library's parse errors, which name Go struct
// fields, to name the environment variables a user actually sets.
func nameVariables(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("read configuration: %w", err)
	}
	errs := make([]error, 0, len(agg.Errors))
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			errs = append(errs, fmt.Errorf("%s: %w", variableOf(reflect.TypeFor[Config](), pe.Name), pe.Err))
			continue
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// variableOf finds the env tag of the field called name in t or its nested
// structs; field names are unique across Config.
func variableOf(t reflect.Type, name string) string {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == name {
			if key := f.Tag.Get("env"); key != "" {
				return key
			}
		}
		if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == t.PkgPath() {
			if key := variableOf(f.Type, name); key != name {
				return key
			}
		}
	}
	return name
}

func environ() map[string]string {
	m := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// DevTemporalAddress is where the dev stack's embedded server listens.
func (c Config) DevTemporalAddress() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Dev.TemporalPort))
}
