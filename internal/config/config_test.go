package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	cfg, err := Load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Temporal.Address != "127.0.0.1:7233" || cfg.Temporal.Namespace != "default" {
		t.Errorf("temporal %+v", cfg.Temporal)
	}
	if cfg.HTTP.Addr != "127.0.0.1:8080" || cfg.ShutdownTimeout != 30*time.Second {
		t.Errorf("http %q shutdown %s", cfg.HTTP.Addr, cfg.ShutdownTimeout)
	}
	if cfg.Dev.UIPort != 8233 || cfg.Dev.DataDir != ".tradeloop" {
		t.Errorf("dev %+v", cfg.Dev)
	}
	if cfg.PDFFont != "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf" {
		t.Errorf("PDF font %q, want fonts-droid-fallback's", cfg.PDFFont)
	}
	if cfg.PaymentsProvider() != "sandbox" {
		t.Errorf("payments %q without a Stripe key, want sandbox", cfg.PaymentsProvider())
	}
	if cfg.Temporal.TaskQueue != "deals" || cfg.Deals.PolicyScale != 1 {
		t.Errorf("task queue %q, policy scale %v", cfg.Temporal.TaskQueue, cfg.Deals.PolicyScale)
	}
	if cfg.Tracing.On() {
		t.Errorf("tracing on without an OTLP endpoint: %+v", cfg.Tracing)
	}
	if err := cfg.RequireDatabase(); err == nil {
		t.Error("RequireDatabase passed with no DATABASE_URL")
	}
	if err := cfg.RequireHistoryKeys(); err == nil {
		t.Error("RequireHistoryKeys passed with no HISTORY_KEYS: production must not get a default key")
	}
}

func TestOverrides(t *testing.T) {
	cfg, err := Load(map[string]string{
		"TEMPORAL_ADDRESS":                   "temporal:7233",
		"TEMPORAL_NAMESPACE":                 "tradeloop",
		"DATABASE_URL":                       "postgres://app:secret@db:5432/tradeloop",
		"HTTP_ADDR":                          ":9000",
		"STRIPE_SECRET_KEY":                  "sk_test_123",
		"STRIPE_WEBHOOK_SECRET":              "whsec_abc",
		"LOG_LEVEL":                          "debug",
		"LOG_FORMAT":                         "json",
		"SHUTDOWN_TIMEOUT":                   "5s",
		"TEMPORAL_UI_PORT":                   "18233",
		"TEMPORAL_TASK_QUEUE":                "deals-bench",
		"DEAL_POLICY_SCALE":                  "0.01",
		"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://collector:4317",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example:4317",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Temporal.Address != "temporal:7233" || cfg.Temporal.Namespace != "tradeloop" ||
		cfg.HTTP.Addr != ":9000" || cfg.ShutdownTimeout != 5*time.Second || cfg.Dev.UIPort != 18233 {
		t.Errorf("overrides not applied: %+v", cfg)
	}
	if cfg.PaymentsProvider() != "stripe" {
		t.Errorf("payments %q with a Stripe key", cfg.PaymentsProvider())
	}
	if cfg.Temporal.TaskQueue != "deals-bench" || cfg.Deals.PolicyScale != 0.01 {
		t.Errorf("task queue %q, policy scale %v", cfg.Temporal.TaskQueue, cfg.Deals.PolicyScale)
	}
	if !cfg.Tracing.On() || cfg.Tracing.URL() != "https://traces.example:4317" {
		t.Errorf("tracing %+v: want on, to the traces endpoint", cfg.Tracing)
	}
	if err := cfg.RequireDatabase(); err != nil {
		t.Error(err)
	}
}

func TestInvalidValuesAreRejectedWithTheVariableNamed(t *testing.T) {
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"temporal without port":  {map[string]string{"TEMPORAL_ADDRESS": "temporal"}, "TEMPORAL_ADDRESS"},
		"bad duration":           {map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, "SHUTDOWN_TIMEOUT"},
		"negative duration":      {map[string]string{"SHUTDOWN_TIMEOUT": "-1s"}, "SHUTDOWN_TIMEOUT"},
		"bad database url":       {map[string]string{"DATABASE_URL": "postgres://u:p@host:notaport/db"}, "DATABASE_URL"},
		"bad log level":          {map[string]string{"LOG_LEVEL": "loud"}, "LOG_LEVEL"},
		"bad log format":         {map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		"publishable key":        {map[string]string{"STRIPE_SECRET_KEY": "pk_test_1", "STRIPE_WEBHOOK_SECRET": "whsec_1"}, "STRIPE_SECRET_KEY"},
		"key without webhook":    {map[string]string{"STRIPE_SECRET_KEY": "sk_test_1"}, "STRIPE_WEBHOOK_SECRET"},
		"bad webhook secret":     {map[string]string{"STRIPE_WEBHOOK_SECRET": "secret"}, "STRIPE_WEBHOOK_SECRET"},
		"port out of range":      {map[string]string{"TEMPORAL_UI_PORT": "70000"}, "TEMPORAL_UI_PORT"},
		"port not a number":      {map[string]string{"TRADELOOP_PG_PORT": "pg"}, "TRADELOOP_PG_PORT"},
		"zero pool":              {map[string]string{"DATABASE_MAX_CONNS": "0"}, "DATABASE_MAX_CONNS"},
		"empty namespace":        {map[string]string{"TEMPORAL_NAMESPACE": " "}, "TEMPORAL_NAMESPACE"},
		"negative sandbox delay": {map[string]string{"SANDBOX_CONFIRM_DELAY": "-1s"}, "SANDBOX_CONFIRM_DELAY"},
		"empty task queue":       {map[string]string{"TEMPORAL_TASK_QUEUE": " "}, "TEMPORAL_TASK_QUEUE"},
		"zero policy scale":      {map[string]string{"DEAL_POLICY_SCALE": "0"}, "DEAL_POLICY_SCALE"},
		"policy scale above 1":   {map[string]string{"DEAL_POLICY_SCALE": "2"}, "DEAL_POLICY_SCALE"},
		"policy scale not a num": {map[string]string{"DEAL_POLICY_SCALE": "fast"}, "DEAL_POLICY_SCALE"},
		"otlp without scheme":    {map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		"otlp traces not a url":  {map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "grpc://"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		"unknown smtp tls":       {map[string]string{"SMTP_TLS": "starttls"}, "SMTP_TLS"},
		"gold fee zero":          {map[string]string{"GOLD_FEE_MINOR": "0"}, "GOLD_FEE_MINOR, GOLD_CURRENCY: the Gold fee 0"},
		"gold fee too high":      {map[string]string{"GOLD_FEE_MINOR": "100000000001"}, "the Gold fee 100000000001"},
		"gold currency":          {map[string]string{"GOLD_CURRENCY": "usd"}, `GOLD_FEE_MINOR, GOLD_CURRENCY: the Gold currency "usd"`},
		"smtp port out of range": {map[string]string{"SMTP_HOST": "mail.example", "SMTP_PORT": "0"}, "SMTP_PORT"},
		"sender not an address":  {map[string]string{"SMTP_HOST": "mail.example", "MAIL_FROM": "Tradeloop"}, "MAIL_FROM"},
		"sender with a newline":  {map[string]string{"SMTP_HOST": "mail.example", "MAIL_FROM": "a@b.example\r\nBcc: x@y.example"}, "MAIL_FROM"},
		"media bucket gs":        {map[string]string{"MEDIA_BUCKET_URL": "gs://media"}, "MEDIA_BUCKET_URL"},
		"media bucket no dir":    {map[string]string{"MEDIA_BUCKET_URL": "file://"}, "MEDIA_BUCKET_URL"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(c.env)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not name %s", err, c.want)
			}
		})
	}
}

func TestDatabaseURLErrorDoesNotLeakThePassword(t *testing.T) {
	_, err := Load(map[string]string{"DATABASE_URL": "postgres://u:hunter2@host:bad/db"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v", err)
	}
}

func TestSeveralErrorsAreReportedTogether(t *testing.T) {
	_, err := Load(map[string]string{"LOG_LEVEL": "loud", "HTTP_ADDR": "nowhere"})
	if err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") || !strings.Contains(err.Error(), "HTTP_ADDR") {
		t.Fatalf("error %v should name both variables", err)
	}
}

func TestKeysLimitsAndMetricsSettings(t *testing.T) {
	cfg, err := Load(map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.MetricsAddr != "127.0.0.1:9464" || cfg.HTTP.ClientRateLimit != 100 || cfg.HTTP.ClientRateBurst != 200 ||
		cfg.Keys.RotationGrace != 24*time.Hour || cfg.Keys.IdempotencyRetention != 48*time.Hour || len(cfg.HTTP.TrustedProxies) != 0 {
		t.Errorf("defaults %+v %+v", cfg.HTTP, cfg.Keys)
	}
	cfg, err = Load(map[string]string{"METRICS_ADDR": "off", "HTTP_CLIENT_RATE_LIMIT": "0", "HTTP_TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	if nets, err := cfg.HTTP.TrustedNets(); err != nil || len(nets) != 2 || cfg.HTTP.MetricsAddr != "" {
		t.Errorf("nets %v %v, metrics %q", nets, err, cfg.HTTP.MetricsAddr)
	}
	for name, value := range map[string]string{
		"METRICS_ADDR": "nowhere", "HTTP_CLIENT_RATE_LIMIT": "-1", "HTTP_TRUSTED_PROXIES": "10.0.0.1",
		"IDEMPOTENCY_RETENTION": "1h", "API_KEY_ROTATION_GRACE": "-1s",
	} {
		if _, err := Load(map[string]string{name: value}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: error %v should name it", name, value, err)
		}
	}
}

func TestHistoryKeys(t *testing.T) {
	good := "k2:" + strings.Repeat("QUFB", 10) + "QUE=" + ",k1:" + strings.Repeat("QkJC", 10) + "QkI="
	cfg, err := Load(map[string]string{"HISTORY_KEYS": good, "CODEC_CORS_ORIGINS": "http://127.0.0.1:8233,https://temporal.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.RequireHistoryKeys(); err != nil || len(cfg.HTTP.CodecOrigins) != 2 {
		t.Fatalf("require %v, origins %q", err, cfg.HTTP.CodecOrigins)
	}
	secret := "c2hvcnQtc2VjcmV0LWtleQ=="
	_, err = Load(map[string]string{"HISTORY_KEYS": "k1:" + secret, "CODEC_CORS_ORIGINS": "127.0.0.1:8233"})
	if err == nil || !strings.Contains(err.Error(), "HISTORY_KEYS") || !strings.Contains(err.Error(), "CODEC_CORS_ORIGINS") {
		t.Fatalf("error %v should name both variables", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error %v quotes the key", err)
	}
}
