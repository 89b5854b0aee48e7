package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"text/tabwriter"
)

// Compare runs the deals' phase of the bench twice, one run after the
// other on this machine: first with the program built from a git
// revision, then with this program, and prints each figure of the two
// side by side with their ratio. The revision's tree is exported with
// `git archive` (the working tree is not touched) and built with the
// `go` on PATH. args are the bench's other options, passed to both runs;
// the baseline is skipped in both.
func Compare(ctx context.Context, rev string, args []string, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "tradeloop-compare-")
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	defer os.RemoveAll(dir)
	old, err := buildRevision(ctx, rev, dir, stderr)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("compare: find this program: %w", err)
	}
	runs := []struct{ name, bin string }{{rev, old}, {"this build", self}}
	reports := make([]*Report, len(runs))
	for i, r := range runs {
		out := filepath.Join(dir, fmt.Sprintf("report-%d.json", i))
		fmt.Fprintf(stderr, "bench of %s…\n", r.name)
		cmd := exec.CommandContext(ctx, r.bin, append([]string{"bench", "-no-baseline", "-out", out}, args...)...)
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("compare: bench of %s: %w", r.name, err)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			return fmt.Errorf("compare: report of %s: %w", r.name, err)
		}
		reports[i] = &Report{}
		if err := json.Unmarshal(raw, reports[i]); err != nil {
			return fmt.Errorf("compare: report of %s: %w", r.name, err)
		}
	}
	PrintComparison(stdout, rev, reports[0], reports[1])
	return nil
}

// buildRevision exports rev's tree into dir and builds its tradeloop
// command there.
func buildRevision(ctx context.Context, rev, dir string, stderr io.Writer) (string, error) {
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", fmt.Errorf("compare: %w", err)
	}
	archive := exec.CommandContext(ctx, "sh", "-c", `git archive --format=tar "$1" | tar -x -C "$2"`, "sh", rev, src)
	archive.Stderr = stderr
	if err := archive.Run(); err != nil {
		return "", fmt.Errorf("compare: export %s: %w", rev, err)
	}
	bin := filepath.Join(dir, "tradeloop-old")
	fmt.Fprintf(stderr, "building %s…\n", rev)
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/tradeloop")
	build.Dir, build.Stdout, build.Stderr = src, stderr, stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("compare: build %s: %w", rev, err)
	}
	return bin, nil
}

// PrintComparison writes two reports' figures side by side: before (of
// rev) and after, and after ÷ before.
func PrintComparison(w io.Writer, rev string, before, after *Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\tthis build\tafter ÷ before\t\n", rev)
	row := func(name string, b, a float64, format string) {
		ratio := "-"
		if b != 0 {
			ratio = fmt.Sprintf("%.2f×", a/b)
		}
		fmt.Fprintf(tw, "%s\t"+format+"\t"+format+"\t%s\t\n", name, b, a, ratio)
	}
	if len(after.Latency) > 0 {
		old := map[int]LatencyLevel{}
		for _, l := range before.Latency {
			old[l.Concurrency] = l
		}
		for _, a := range after.Latency {
			before := old[a.Concurrency].kinds()
			for i, r := range a.kinds() {
				row(fmt.Sprintf("%s at %d at once p50, ms", r.name, a.Concurrency), before[i].lat.P50, r.lat.P50, "%.1f")
				row(fmt.Sprintf("%s at %d at once p99, ms", r.name, a.Concurrency), before[i].lat.P99, r.lat.P99, "%.1f")
			}
		}
		tw.Flush()
		return
	}
	bd, ad := before.Deal, after.Deal
	row("deals completed", float64(bd.Deals), float64(ad.Deals), "%.0f")
	row("deals failed", float64(bd.Failed), float64(ad.Failed), "%.0f")
	row("deals/s", bd.DealsPerSecond, ad.DealsPerSecond, "%.2f")
	row("deal time p50, s", bd.DealSeconds["all"].P50, ad.DealSeconds["all"].P50, "%.2f")
	row("deal time p95, s", bd.DealSeconds["all"].P95, ad.DealSeconds["all"].P95, "%.2f")
	cpu := func(u *Usage) float64 {
		if u == nil {
			return 0
		}
		return u.CPUPerDealMs
	}
	row("worker CPU per deal, ms", cpu(bd.Worker), cpu(ad.Worker), "%.1f")
	row("PostgreSQL CPU per deal, ms", cpu(bd.Postgres), cpu(ad.Postgres), "%.1f")
	row("API + Temporal + load CPU per deal, ms", cpu(bd.Stack), cpu(ad.Stack), "%.1f")
	row("all CPU per deal, ms", bd.totalCPUPerDeal(), ad.totalCPUPerDeal(), "%.1f")
	for _, kind := range sortedKeys(after.RoundTrips) {
		b, a := before.RoundTrips[kind].Deal, after.RoundTrips[kind].Deal
		row(kind+": activities", float64(b.Activities), float64(a.Activities), "%.0f")
		row(kind+": local activities", float64(b.LocalActivities), float64(a.LocalActivities), "%.0f")
		row(kind+": workflow tasks", float64(b.WorkflowTasks), float64(a.WorkflowTasks), "%.0f")
		row(kind+": history events", float64(b.HistoryEvents), float64(a.HistoryEvents), "%.0f")
	}
	old := map[string]EndpointStats{}
	for _, e := range bd.Endpoints {
		old[e.Endpoint] = e
	}
	for _, e := range ad.Endpoints {
		b, ok := old[e.Endpoint]
		if !ok {
			continue
		}
		row(e.Endpoint+" p50, ms", b.P50, e.P50, "%.1f")
		row(e.Endpoint+" p99, ms", b.P99, e.P99, "%.1f")
	}
	tw.Flush()
}
