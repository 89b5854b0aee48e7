package bench

import (
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"
)

// Report is a run's result, as printed and as written to JSON.
type Report struct {
	Started    time.Time                 `json:"started"`
	Machine    Machine                   `json:"machine"`
	Settings   Settings                  `json:"settings"`
	RoundTrips map[string]KindRoundTrips `json:"round_trips,omitempty"`
	Deal       Phase                     `json:"deal"`
	Baseline   *Phase                    `json:"baseline,omitempty"`
	Ratio      *Ratio                    `json:"ratio,omitempty"`
	// Latency is a latency run's figures (-latency), by concurrency.
	Latency []LatencyLevel `json:"latency,omitempty"`
}

// Machine is where the run ran.
type Machine struct {
	CPUs       int     `json:"cpus"`
	CPU        string  `json:"cpu,omitempty"`
	MemoryGB   float64 `json:"memory_gb,omitempty"`
	GOOS       string  `json:"goos"`
	GOARCH     string  `json:"goarch"`
	Go         string  `json:"go"`
	PostgreSQL string  `json:"postgresql,omitempty"`
}

// Settings are the run's options.
type Settings struct {
	Stack        string  `json:"stack"`
	OwnStack     bool    `json:"own_stack"` // the bench's process runs the API and Temporal too
	Deals        int     `json:"deals,omitempty"`
	Duration     string  `json:"duration"`
	Concurrency  int     `json:"concurrency"`
	Poll         string  `json:"poll"`
	Warmup       int     `json:"warmup"`
	Mix          string  `json:"mix"`
	PolicyScale  float64 `json:"policy_scale"`
	TrackingPoll string  `json:"tracking_poll"`
	CarrierStep  string  `json:"carrier_step"`
	Latency      int     `json:"latency,omitempty"` // requests of each kind per level of a latency run
}

// KindRoundTrips are one kind's round trips: a deal's, read from its
// history, and the baseline's, read from its own.
type KindRoundTrips struct {
	Deal     RoundTrips `json:"deal"`
	Baseline RoundTrips `json:"baseline"`
}

// Phase is the measured part of the deals' or the baseline's run.
type Phase struct {
	Deals          int                `json:"deals"`
	Failed         int                `json:"failed"`
	Failures       []string           `json:"failures,omitempty"`
	Seconds        float64            `json:"seconds"`
	DealsPerSecond float64            `json:"deals_per_second"`
	DealSeconds    map[string]Latency `json:"deal_seconds"` // by kind, and "all"; in seconds despite the _ms names
	Endpoints      []EndpointStats    `json:"endpoints"`
	Worker         *Usage             `json:"worker,omitempty"`
	Postgres       *Usage             `json:"postgres,omitempty"` // the postmaster and its backends; CPU only
	Stack          *Usage             `json:"stack"`              // the bench's own process: API, Temporal server, load generator
}

// totalCPUPerDeal adds up the CPU each deal cost every process measured.
func (p Phase) totalCPUPerDeal() float64 {
	var t float64
	for _, u := range []*Usage{p.Worker, p.Postgres, p.Stack} {
		if u != nil {
			t += u.CPUPerDealMs
		}
	}
	return round(t, 1)
}

// Usage is a process's CPU time and memory over a phase.
type Usage struct {
	CPUSeconds   float64 `json:"cpu_seconds"`
	CPUCores     float64 `json:"cpu_cores"` // CPU time over wall time
	CPUPerDealMs float64 `json:"cpu_per_deal_ms"`
	RSSMB        float64 `json:"rss_mb,omitempty"`
	PeakRSSMB    float64 `json:"peak_rss_mb,omitempty"`
}

// Ratio is the deal's figures over the baseline's.
type Ratio struct {
	WorkerCPUPerDeal   float64            `json:"worker_cpu_per_deal"`
	PostgresCPUPerDeal float64            `json:"postgres_cpu_per_deal"`
	StackCPUPerDeal    float64            `json:"stack_cpu_per_deal"`
	TotalCPUPerDeal    float64            `json:"total_cpu_per_deal"`
	DealSecondsP50     float64            `json:"deal_seconds_p50"`
	Throughput         float64            `json:"throughput"`
	Endpoints          map[string]float64 `json:"endpoint_p50"`
}

// Print writes the report as tables.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "\nTradeloop bench — %d CPUs (%s), %s, %s/%s\n", r.Machine.CPUs, r.Machine.CPU, r.Machine.Go, r.Machine.GOOS, r.Machine.GOARCH)
	s := r.Settings
	per := s.Duration + " per phase"
	if s.Deals > 0 {
		per = fmt.Sprintf("%d deals per phase", s.Deals)
		if s.Duration != "0s" {
			per += " (at most " + s.Duration + ")"
		}
	}
	fmt.Fprintf(w, "%s; %s, %d deals at once, mix %s, clients read a deal they wait for every %s;\ndeadlines ×%g, shipments polled every %s, carrier step %s\n",
		s.Stack, per, s.Concurrency, s.Mix, s.Poll, s.PolicyScale, s.TrackingPoll, s.CarrierStep)
	if len(r.RoundTrips) > 0 {
		fmt.Fprintln(w, "\nRound trips per deal (from the workflows' histories):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "kind\t\tupdates\tsignals\tactivities\tlocal activities\ttimers\tchildren\tchild signals\tworkflow tasks\thistory events")
		for _, k := range sortedKeys(r.RoundTrips) {
			rows := []struct {
				name string
				rt   RoundTrips
			}{{"deal", r.RoundTrips[k].Deal}}
			if r.Baseline != nil {
				rows = append(rows, struct {
					name string
					rt   RoundTrips
				}{"baseline", r.RoundTrips[k].Baseline})
			}
			for _, row := range rows {
				t := row.rt
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", k, row.name, t.Updates, t.Signals, t.Activities, t.LocalActivities, t.Timers, t.Children, t.ChildSignals, t.WorkflowTasks, t.HistoryEvents)
			}
		}
		tw.Flush()
	}

	fmt.Fprintln(w, "\nLatency per endpoint, ms (every attempt; errors: no answer, or 4xx/5xx such as a retried 429):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "endpoint\trequests\terrors\tp50\tp95\tp99\t"
	if r.Baseline != nil {
		header += "base p50\tbase p95\tbase p99\tp50 ×\t"
	}
	fmt.Fprintln(tw, header)
	base := map[string]EndpointStats{}
	if r.Baseline != nil {
		for _, e := range r.Baseline.Endpoints {
			base[e.Endpoint] = e
		}
	}
	for _, e := range r.Deal.Endpoints {
		line := fmt.Sprintf("%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t", e.Endpoint, e.Requests, e.Errors, e.P50, e.P95, e.P99)
		if r.Baseline != nil {
			b := base[e.Endpoint]
			var x float64
			if r.Ratio != nil {
				x = r.Ratio.Endpoints[e.Endpoint]
			}
			line += fmt.Sprintf("%.1f\t%.1f\t%.1f\t%s\t", b.P50, b.P95, b.P99, times(x))
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()

	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	phases := []struct {
		name string
		p    *Phase
	}{{"deal", &r.Deal}}
	if r.Baseline != nil {
		phases = append(phases, struct {
			name string
			p    *Phase
		}{"baseline", r.Baseline})
	}
	head := "\t"
	for _, ph := range phases {
		head += ph.name + "\t"
	}
	if r.Ratio != nil {
		head += "deal ÷ baseline\t"
	}
	fmt.Fprintln(tw, head)
	row := func(label string, val func(p *Phase) string, ratio string) {
		line := label + "\t"
		for _, ph := range phases {
			line += val(ph.p) + "\t"
		}
		if r.Ratio != nil {
			line += ratio + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	ratio := func(f func(*Ratio) float64) string {
		if r.Ratio == nil {
			return ""
		}
		return times(f(r.Ratio))
	}
	row("deals completed (failed)", func(p *Phase) string { return fmt.Sprintf("%d (%d)", p.Deals, p.Failed) }, "")
	row("deals/s", func(p *Phase) string { return fmt.Sprintf("%.2f", p.DealsPerSecond) }, ratio(func(r *Ratio) float64 { return r.Throughput }))
	row("deal time p50 / p95, s", func(p *Phase) string {
		return fmt.Sprintf("%.2f / %.2f", p.DealSeconds["all"].P50, p.DealSeconds["all"].P95)
	}, ratio(func(r *Ratio) float64 { return r.DealSecondsP50 }))
	row("worker CPU per deal, ms", func(p *Phase) string {
		if p.Worker == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.1f", p.Worker.CPUPerDealMs)
	}, ratio(func(r *Ratio) float64 { return r.WorkerCPUPerDeal }))
	row("worker CPU, cores busy", func(p *Phase) string {
		if p.Worker == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.2f", p.Worker.CPUCores)
	}, "")
	row("worker RSS now / peak, MB", func(p *Phase) string {
		if p.Worker == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.0f / %.0f", p.Worker.RSSMB, p.Worker.PeakRSSMB)
	}, "")
	row("PostgreSQL CPU per deal, ms", func(p *Phase) string {
		if p.Postgres == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.1f", p.Postgres.CPUPerDealMs)
	}, ratio(func(r *Ratio) float64 { return r.PostgresCPUPerDeal }))
	process := "load generator"
	if r.Settings.OwnStack {
		process = "API + Temporal + load"
	}
	row(process+" CPU per deal, ms", func(p *Phase) string {
		if p.Stack == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.1f", p.Stack.CPUPerDealMs)
	}, ratio(func(r *Ratio) float64 { return r.StackCPUPerDeal }))
	if r.Settings.OwnStack {
		row("all CPU per deal, ms", func(p *Phase) string { return fmt.Sprintf("%.1f", p.totalCPUPerDeal()) },
			ratio(func(r *Ratio) float64 { return r.TotalCPUPerDeal }))
	}
	tw.Flush()
	for _, ph := range phases {
		for _, f := range ph.p.Failures {
			fmt.Fprintf(w, "%s failure: %s\n", ph.name, f)
		}
	}
	if r.Ratio != nil {
		cost := ""
		if r.Ratio.WorkerCPUPerDeal > 0 {
			cost = "costs " + times(r.Ratio.WorkerCPUPerDeal) + " the baseline's worker CPU, "
		}
		if r.Settings.OwnStack {
			cost += times(r.Ratio.TotalCPUPerDeal) + " its CPU in all processes, and "
		}
		fmt.Fprintf(w, "\nA deal %stakes %s the baseline's time (p50); throughput is %s the baseline's.\n",
			cost, times(r.Ratio.DealSecondsP50), times(r.Ratio.Throughput))
	}
}

func times(v float64) string {
	if v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return kindRank(a) - kindRank(b) })
	return keys
}

func kindRank(k string) int {
	if i := slices.Index([]string{"happy", "sample", "dispute"}, k); i >= 0 {
		return i
	}
	return 3
}
