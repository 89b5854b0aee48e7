package migrations_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/db/migrations"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestMigrationsApplyFromEmptyOnceAndConcurrently(t *testing.T) {
	ctx := context.Background()
	// An empty database: the harness's template already holds the schema.
	url := testenv.PostgresURL(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA public CASCADE; CREATE SCHEMA public"); err != nil {
		t.Fatal(err)
	}

	// Four services starting at once: each applies, none fails, all agree.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() { errs[i] = migrations.ApplyURL(ctx, url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("apply %d: %v", i, err)
		}
	}
	if err := migrations.ApplyURL(ctx, url); err != nil {
		t.Fatalf("re-apply on a current schema: %v", err)
	}
	want, _ := migrations.Latest()
	var v int32
	if err := conn.QueryRow(ctx, "SELECT version FROM "+migrations.VersionTable).Scan(&v); err != nil || v != want {
		t.Fatalf("schema version %d (%v), want %d", v, err, want)
	}
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name IN ('organizations', 'users', 'api_keys')`).Scan(&tables); err != nil || tables != 3 {
		t.Fatalf("%d of 3 identity tables (%v)", tables, err)
	}
}
