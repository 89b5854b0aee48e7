package bench

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/dealclient"
)

// A short run of the whole benchmark: its own dev stack, the worker built
// and run as a child process, one deal of each kind, then the baseline
// with the round trips read from their histories.
func TestBenchOnItsOwnStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole stack")
	}
	rep := runOnOwnStack(t, func(o *Options) {
		o.Deals, o.Duration, o.Concurrency, o.Warmup = 3, 0, 3, 0
		o.Mix = Mix{dealclient.Happy: 1, dealclient.Sample: 1, dealclient.Dispute: 1}
	})
	if rep.Deal.Deals != 3 || rep.Baseline == nil || rep.Baseline.Deals != 3 || rep.Deal.Failed+rep.Baseline.Failed != 0 {
		t.Fatalf("deals %+v baseline %+v", rep.Deal, rep.Baseline)
	}
	if rep.Deal.Worker == nil || rep.Deal.Worker.CPUSeconds <= 0 || rep.Deal.Worker.RSSMB <= 0 || rep.Ratio == nil || rep.Ratio.WorkerCPUPerDeal <= 0 {
		t.Fatalf("worker %+v ratio %+v", rep.Deal.Worker, rep.Ratio)
	}
	if rep.Deal.Postgres == nil || rep.Deal.Postgres.CPUSeconds <= 0 || rep.Ratio.TotalCPUPerDeal <= 0 {
		t.Fatalf("postgres %+v ratio %+v", rep.Deal.Postgres, rep.Ratio)
	}
	// The baseline made the deal's round trips, kind by kind.
	for _, k := range dealclient.Kinds {
		rt, ok := rep.RoundTrips[string(k)]
		if !ok {
			t.Fatalf("no round trips of %s", k)
		}
		d, b := rt.Deal, rt.Baseline
		// Workflow tasks differ with timing; a timer started and cancelled
		// within one workflow task never reaches the server; how many
		// changes one round of bookkeeping takes (one activity) depends on
		// how the actions and the worker interleave, so the baseline,
		// which repeats the median deal of its kind, can make a few more
		// or fewer of those activities and of the timers an action starts
		// while it waits for the read model.
		near := func(x, y int) bool { return 4*x >= 3*y && 4*y >= 3*x }
		activities, timers := d.Activities, d.Timers
		d.WorkflowTasks, d.HistoryEvents, d.Timers, b.WorkflowTasks, b.HistoryEvents, b.Timers = 0, 0, 0, 0, 0, 0
		d.Activities, b.Activities = 0, 0
		// The deal's ledger postings run as local activities, which make
		// no round trip; the baseline makes none.
		local := d.LocalActivities
		d.LocalActivities = 0
		if d != b || !near(activities, rt.Baseline.Activities) || !near(timers, rt.Baseline.Timers) ||
			d.Updates == 0 || activities == 0 || d.Children == 0 || local == 0 {
			t.Errorf("%s: deal %+v, baseline %+v", k, rt.Deal, rt.Baseline)
		}
	}
	// A happy deal's activities are its money calls to the provider (two
	// charges, two transfers) and its tracking polls; a round of
	// bookkeeping runs as an activity only when an update shares its
	// workflow task, which timing decides. The bound is 12.
	if happy := rep.RoundTrips["happy"].Deal; happy.Activities > 12 {
		t.Errorf("a happy deal made %d activities, want 12 at most: %+v", happy.Activities, happy)
	}
	if rep.RoundTrips["dispute"].Deal.Signals != 1 || rep.RoundTrips["sample"].Deal.Children != 2 {
		t.Errorf("round trips %+v", rep.RoundTrips)
	}
	var out bytes.Buffer
	rep.Print(&out)
	for _, want := range []string{"GET /v1/deals/:id", "POST /v1/deals/:id/dispute/decision", "A deal costs"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())
}

// A short latency run on its own stack: each kind of request measured at
// every level, as many as asked, and the action compared with the raw
// update.
func TestLatencyRunOnItsOwnStack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole stack")
	}
	rep := runOnOwnStack(t, func(o *Options) { o.Latency, o.Concurrency, o.Baseline = 20, 1, false })
	if len(rep.Latency) != len(LatencyLevels) || rep.Deal.Deals != 0 {
		t.Fatalf("levels %+v, deals %+v: want one level each of %v and no whole deals", rep.Latency, rep.Deal, LatencyLevels)
	}
	for i, l := range rep.Latency {
		// 20 requests: 20 one after the other, or 2 for each of 16 clients.
		if l.Concurrency != LatencyLevels[i] || l.Samples < 20 || l.Samples%l.Concurrency != 0 {
			t.Errorf("level %d: %d at once, %d samples", i, l.Concurrency, l.Samples)
		}
		if l.Action.P50 <= 0 || l.RawUpdate.P50 <= 0 || l.Read.P50 <= 0 || l.ActionOverRaw <= 0 || l.Action.P99 < l.Action.P50 {
			t.Errorf("level %d: %+v", i, l)
		}
	}
	var out bytes.Buffer
	PrintLatency(&out, rep.Latency)
	for _, want := range []string{"quote revision via the API", "raw SDK update", "GET /v1/deals/:id", "÷"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("\n%s", out.String())
}

// runOnOwnStack runs the benchmark with the default options as configure
// changes them, on a dev stack of its own whose worker, `tradeloop
// bench-worker` built from ./cmd/tradeloop, runs as a child process, and
// fails the test with the run's progress lines if it fails.
func runOnOwnStack(t *testing.T, configure func(*Options)) *Report {
	t.Helper()
	exe := filepath.Join(t.TempDir(), "tradeloop")
	if out, err := exec.Command("go", "build", "-o", exe, "../../cmd/tradeloop").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tradeloop: %v\n%s", err, out)
	}
	o := DefaultOptions()
	configure(&o)
	o.WorkerCommand = []string{exe, "bench-worker"}
	// A quiet machine needs under a minute; one busy with a second test
	// run several. The run's own progress lines say where it stands.
	o.Timeout = 15 * time.Minute
	if dl, ok := t.Deadline(); ok {
		o.Timeout = min(o.Timeout, time.Until(dl)-10*time.Second)
	}
	var progress bytes.Buffer
	o.Progress = &progress
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("%v\nprogress:\n%s", err, progress.String())
	}
	return rep
}
