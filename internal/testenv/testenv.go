// Package testenv is the harness every integration test uses: one private
// PostgreSQL cluster and one embedded Temporal server per test binary,
// started on first use, and a fresh migrated database and a private task
// queue per test. Set TEST_DATABASE_URL (a role that may create databases)
// or TEMPORAL_ADDRESS to use servers that already run instead.
//
// Each test package calls Main from its TestMain so the shared servers stop
// when its tests end, failed or not. If the binary dies outright (a panic, a
// timeout), PostgreSQL still stops: it is told to when its parent dies.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"

	"github.com/tradeloop/tradeloop/db/migrations"
	"github.com/tradeloop/tradeloop/internal/historycodec"
	"github.com/tradeloop/tradeloop/internal/pgcluster"
	"github.com/tradeloop/tradeloop/internal/temporalserver"
	"github.com/tradeloop/tradeloop/workflows"
)

// The shared servers are per test binary by design: starting them once is
// what keeps a package's tests fast. They are reached only through the
// functions below, which start them on first use.
var (
	pgOnce     sync.Once
	pgShared   *sharedPostgres
	pgErr      error
	tempOnce   sync.Once
	tempShared *sharedTemporal
	tempErr    error
)

// Main runs the package's tests, then stops whatever the harness started,
// and exits with the tests' result.
func Main(m *testing.M) {
	code := m.Run()
	Shutdown()
	os.Exit(code)
}

// Shutdown stops the shared servers. Main calls it; tests do not.
func Shutdown() {
	if pgShared != nil {
		pgShared.stop()
	}
	if tempShared != nil {
		tempShared.stop()
	}
}

func logger() *slog.Logger {
	if os.Getenv("TESTENV_VERBOSE") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// ---- PostgreSQL ----

type sharedPostgres struct {
	cluster  *pgcluster.Cluster // nil when TEST_DATABASE_URL is used
	dataDir  string
	adminURL string
	template string
	mu       sync.Mutex // CREATE DATABASE … TEMPLATE takes one copy at a time
}

func postgres() (*sharedPostgres, error) {
	pgOnce.Do(func() { pgShared, pgErr = startPostgres() })
	return pgShared, pgErr
}

func startPostgres() (*sharedPostgres, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := &sharedPostgres{adminURL: os.Getenv("TEST_DATABASE_URL")}
	if s.adminURL == "" {
		dir, err := os.MkdirTemp("", "tradeloop-pg-")
		if err != nil {
			return nil, fmt.Errorf("temp dir for postgres: %w", err)
		}
		_ = os.Chmod(dir, 0o755) // the server may run as another user
		s.dataDir = dir
		c, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: dir + "/data", Ephemeral: true, Logger: logger()})
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.cluster = c
		s.adminURL = c.URL("postgres")
	}
	// A migrated template makes each test's fresh database a cheap file copy.
	s.template = "tradeloop_tpl_" + randomSuffix()
	if err := s.exec(ctx, "CREATE DATABASE "+s.template); err != nil {
		s.stop()
		return nil, err
	}
	if err := migrations.ApplyURL(ctx, s.urlFor(s.template)); err != nil {
		s.stop()
		return nil, fmt.Errorf("migrate template database: %w", err)
	}
	return s, nil
}

func (s *sharedPostgres) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.adminURL)
	if err != nil {
		return fmt.Errorf("connect to test postgres: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// urlFor is adminURL pointed at database name; it keeps every other
// setting of TEST_DATABASE_URL, in URL or keyword/value form.
func (s *sharedPostgres) urlFor(name string) string {
	if strings.HasPrefix(s.adminURL, "postgres://") || strings.HasPrefix(s.adminURL, "postgresql://") {
		u, err := url.Parse(s.adminURL)
		if err != nil {
			panic(fmt.Sprintf("TEST_DATABASE_URL does not parse: %v", err))
		}
		u.Path = "/" + name
		return u.String()
	}
	return s.adminURL + " dbname=" + name // the last dbname wins
}

func (s *sharedPostgres) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.cluster == nil && s.template != "" {
		_ = s.exec(ctx, "DROP DATABASE IF EXISTS "+s.template+" WITH (FORCE)")
	}
	if s.cluster != nil {
		_ = s.cluster.Stop()
	}
	if s.dataDir != "" {
		os.RemoveAll(s.dataDir)
	}
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// PostgresURL creates a fresh database with the whole schema applied for
// this test, and drops it when the test ends, passed or failed.
func PostgresURL(t testing.TB) string {
	t.Helper()
	s, err := postgres()
	if err != nil {
		t.Fatalf("test postgres: %v", err)
	}
	name := nonIdent.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 30 {
		name = name[:30]
	}
	name = "tradeloop_test_" + name + "_" + randomSuffix()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s.mu.Lock()
	err = s.exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, s.template))
	s.mu.Unlock()
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return s.urlFor(name)
}

// Postgres is PostgresURL with a connection pool, closed when the test ends.
func Postgres(t testing.TB) *pgxpool.Pool {
	t.Helper()
	url := PostgresURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(pool.Close) // registered after the drop, so it runs before it
	return pool
}

// AdminURL is a URL to the test cluster's maintenance database, for tests
// that look at databases themselves.
func AdminURL(t testing.TB) string {
	t.Helper()
	s, err := postgres()
	if err != nil {
		t.Fatalf("test postgres: %v", err)
	}
	return s.adminURL
}

// ---- Temporal ----

type sharedTemporal struct {
	server    *temporalserver.Server // nil when TEMPORAL_ADDRESS is used
	address   string
	namespace string
}

func temporal() (*sharedTemporal, error) {
	tempOnce.Do(func() { tempShared, tempErr = startTemporal() })
	return tempShared, tempErr
}

func startTemporal() (*sharedTemporal, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := &sharedTemporal{address: os.Getenv("TEMPORAL_ADDRESS"), namespace: os.Getenv("TEMPORAL_NAMESPACE")}
	if s.namespace == "" {
		s.namespace = "default"
	}
	if s.address == "" {
		srv, err := temporalserver.Start(ctx, temporalserver.Options{
			Namespace:        s.namespace,
			SearchAttributes: workflows.SearchAttributes(),
			Logger:           logger(),
		})
		if err != nil {
			return nil, err
		}
		s.server, s.address = srv, srv.FrontendAddress()
		return s, nil
	}
	c, err := s.dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := temporalserver.EnsureSearchAttributes(ctx, c.OperatorService(), s.namespace, workflows.SearchAttributes()); err != nil {
		return nil, err
	}
	return s, nil
}

// DataConverter is the data converter of the harness's clients:
// production's, sealed with the published dev key (historycodec.DevKeys),
// so every integration test runs on encrypted histories. A replayer of
// their histories needs it too.
func DataConverter() converter.DataConverter {
	codec, err := historycodec.Parse(historycodec.DevKeys)
	if err != nil {
		panic(fmt.Sprintf("the dev history key does not parse: %v", err))
	}
	return codec.DataConverter()
}

func (s *sharedTemporal) dial() (client.Client, error) {
	c, err := client.Dial(client.Options{
		HostPort: s.address, Namespace: s.namespace,
		Logger:            sdklog.NewStructuredLogger(logger()),
		DataConverter:     DataConverter(),
		ConnectionOptions: historycodec.ConnectionOptions(),
	})
	if err != nil {
		return nil, fmt.Errorf("dial test temporal at %s: %w", s.address, err)
	}
	return c, nil
}

func (s *sharedTemporal) stop() {
	if s.server != nil {
		s.server.Stop()
	}
}

// Temporal is a test's view of the shared server.
type Temporal struct {
	Client    client.Client
	Address   string
	Namespace string
	// TaskQueue is unique to the test, so its workers see only its workflows.
	TaskQueue string
}

// NewTemporal returns a client of the shared Temporal server, closed when the
// test ends, and a task queue of the test's own.
func NewTemporal(t testing.TB) Temporal {
	t.Helper()
	s, err := temporal()
	if err != nil {
		t.Fatalf("test temporal: %v", err)
	}
	c, err := s.dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return Temporal{
		Client: c, Address: s.address, Namespace: s.namespace,
		TaskQueue: "test-" + nonIdent.ReplaceAllString(strings.ToLower(t.Name()), "-") + "-" + randomSuffix(),
	}
}
