package faults

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/db/migrations"
	"github.com/tradeloop/tradeloop/internal/pgcluster"
)

// Twenty deals run at once while their PostgreSQL (a cluster of this
// test's own) is stopped and started again twice: the ledger, the read
// model, the idempotency keys and the API's keys are all in it. Between
// the worker and PostgreSQL, one COMMIT in ten has its answer lost: the
// transaction is durable and the activity that made it fails and runs
// again. Every deal must complete, each payment must have been made once
// at the provider, and the ledger must balance per deal.
func postgresRestartedMidDeals(t *testing.T) {
	ctx := testContext(t)
	dir, err := os.MkdirTemp("", "tradeloop-faults-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755) // PostgreSQL may run as another user
	opts := pgcluster.Options{DataDir: filepath.Join(dir, "data"), Ephemeral: true, Logger: slog.New(slog.DiscardHandler)}
	pg, err := pgcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	var pgMu sync.Mutex
	t.Cleanup(func() {
		pgMu.Lock()
		defer pgMu.Unlock()
		_ = pg.Stop()
	})
	opts.Port = pg.Port()
	if err := pg.EnsureDatabase(ctx, "tradeloop"); err != nil {
		t.Fatal(err)
	}
	url := pg.URL("tradeloop")
	if err := migrations.ApplyURL(ctx, url); err != nil {
		t.Fatal(err)
	}
	proxy := newPGProxy(t, fmt.Sprintf("127.0.0.1:%d", pg.Port()))
	workerURL := strings.Replace(url, fmt.Sprintf("127.0.0.1:%d", pg.Port()), proxy.addr(), 1)
	p := newPlatform(t, ctx, setup{dbURL: url, workerDB: workerURL, stripe: true})
	// Once the worker has migrated and started, lose the answer to one
	// COMMIT in ten.
	waitForLog(t, ctx, p.worker, "worker started")
	proxy.cutCommits(0.1)
	parties := p.parties(20)

	var restarts []string
	restart := func(down time.Duration) error {
		pgMu.Lock()
		defer pgMu.Unlock()
		began := time.Now()
		if err := pg.Stop(); err != nil {
			return err
		}
		time.Sleep(down)
		c, err := pgcluster.Start(context.Background(), opts)
		if err != nil {
			return err
		}
		pg = c
		restarts = append(restarts, fmt.Sprintf("PostgreSQL restarted, down %s", time.Since(began).Truncate(time.Millisecond)))
		return nil
	}
	// Two restarts at random moments of the deals: after a random number
	// of the parties' requests have been answered (the twenty deals make
	// 244). The client whose answer reaches the mark waits for the restart.
	var faults schedule
	at := int64(10 + rand.N(40))
	for _, mark := range []int64{at, at + 30 + rand.N(int64(60))} {
		faults.add(mark, func() {
			if err := restart(time.Second); err != nil {
				t.Errorf("restart PostgreSQL after %d answers: %v", mark, err)
				p.stopRun()
			}
		})
	}
	p.onAnswer = faults.reached

	began := time.Now()
	results := p.runDeals(mix(20), parties)
	faults.check(t)
	pgMu.Lock()
	for _, r := range restarts {
		t.Log(r)
	}
	t.Logf("20 deals ended in %s with %d PostgreSQL restarts and %d commits whose answer was lost", time.Since(began).Truncate(time.Second), len(restarts), proxy.cuts.Load())
	if len(restarts) != 2 || proxy.cuts.Load() == 0 {
		t.Errorf("PostgreSQL restarted %d times, %d commits lost their answer; want 2 and some", len(restarts), proxy.cuts.Load())
	}
	pgMu.Unlock()
	deals := p.final(results)
	p.checkProvider(deals)
	p.checkLedger(deals)
}
