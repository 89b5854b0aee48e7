package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/db/migrations"
)

func TestMain(m *testing.M) { Main(m) }

func TestEachTestGetsAFreshMigratedDatabase(t *testing.T) {
	ctx := context.Background()
	a, b := Postgres(t), Postgres(t)
	want, err := migrations.Latest()
	if err != nil {
		t.Fatal(err)
	}
	for _, pool := range []interface {
		QueryRow(context.Context, string, ...any) pgx.Row
	}{a, b} {
		var v int32
		if err := pool.QueryRow(ctx, "SELECT version FROM "+migrations.VersionTable).Scan(&v); err != nil || v != want {
			t.Fatalf("schema version %d (%v), want %d", v, err, want)
		}
	}
	if _, err := a.Exec(ctx, "INSERT INTO organizations (name) VALUES ('only in a')"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow(ctx, "SELECT count(*) FROM organizations").Scan(&n); err != nil || n != 0 {
		t.Fatalf("database b sees %d organizations (%v): databases are shared", n, err)
	}
}

// The helper tests below run only in a child process started by the tests
// after them: each fails on purpose, after reporting what it set up.
func TestHelperFailsAfterCreatingDatabase(t *testing.T) {
	report := os.Getenv("TESTENV_HELPER_REPORT")
	if report == "" {
		t.Skip("helper for TestCleanupAfterFailingTest")
	}
	url := PostgresURL(t)
	cfg, _ := pgx.ParseConfig(url)
	line := fmt.Sprintf("%s %d %s", cfg.Database, cfg.Port, pgShared.dataDir)
	if err := os.WriteFile(report, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("TESTENV_HELPER_PANIC") != "" {
		panic("helper panics on purpose")
	}
	t.Fatal("helper fails on purpose")
}

func runFailingHelper(t *testing.T, env ...string) (dbName string, port string, dataDir string) {
	t.Helper()
	report := filepath.Join(t.TempDir(), "report")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFailsAfterCreatingDatabase$", "-test.count=1")
	cmd.Env = append(os.Environ(), append(env, "TESTENV_HELPER_REPORT="+report)...)
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		t.Fatalf("helper should fail, got %v:\n%s", err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("helper wrote no report: %v\n%s", err, out)
	}
	f := strings.Fields(string(b))
	for len(f) < 3 {
		f = append(f, "")
	}
	return f[0], f[1], f[2]
}

func TestCleanupAfterFailingTest(t *testing.T) {
	t.Run("database dropped on a shared server", func(t *testing.T) {
		admin := AdminURL(t)
		db, _, _ := runFailingHelper(t, "TEST_DATABASE_URL="+admin)
		conn, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var exists bool
		if err := conn.QueryRow(context.Background(),
			"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if db == "" || exists {
			t.Fatalf("database %q of the failed test still exists", db)
		}
	})
	t.Run("own cluster stopped and removed", func(t *testing.T) {
		_, port, dir := runFailingHelper(t, "TEST_DATABASE_URL=")
		if dir == "" {
			t.Fatal("helper reported no data dir")
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("data dir %s of the failed test's cluster is still there (%v)", dir, err)
		}
		assertNothingListens(t, port)
	})
	t.Run("own cluster stopped after a panic", func(t *testing.T) {
		_, port, dir := runFailingHelper(t, "TEST_DATABASE_URL=", "TESTENV_HELPER_PANIC=1")
		defer os.RemoveAll(dir) // a panic skips Main's cleanup of the files
		assertNothingListens(t, port)
	})
}

// assertNothingListens waits up to 10 s for the port to close.
func assertNothingListens(t *testing.T, port string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err != nil {
			return
		}
		conn.Close()
		if time.Now().After(deadline) {
			t.Fatalf("postgres still listens on port %s after its test binary ended", port)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func greet(ctx workflow.Context, name string) (string, error) {
	var out string
	if err := workflow.Sleep(ctx, time.Millisecond); err != nil {
		return "", err
	}
	out = "hello " + name
	return out, nil
}

func TestWorkflowRoundTripThroughEmbeddedServer(t *testing.T) {
	tc := NewTemporal(t)
	w := worker.New(tc.Client, tc.TaskQueue, worker.Options{})
	w.RegisterWorkflow(greet)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := tc.Client.ExecuteWorkflow(ctx, clientStartOptions(tc.TaskQueue), greet, "buyer")
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "hello buyer" {
		t.Fatalf("result %q, %v", got, err)
	}
}
