// Package bench is `tradeloop bench`, the load generator: it drives whole
// deals concurrently through the real HTTP API, as their buyers, suppliers
// and mediators would, with the sandbox payments, a fast simulated carrier
// and every deadline shortened, and reports deals per second, each
// endpoint's latency percentiles and errors, and the worker's CPU time and
// memory. Then it runs the same load on the baseline workflow
// (baseline.Workflow), which makes the same Temporal round trips as the
// deals just run, read from their histories, with no business logic, so
// the report can say what a deal costs over Temporal alone, as a ratio.
//
// By default it starts its own dev stack in a temporary directory, with
// the worker as a child process; with -api it drives a running stack.
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tradeloop/tradeloop/internal/bench/baseline"
	"github.com/tradeloop/tradeloop/internal/childproc"
	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/dealclient"
	"github.com/tradeloop/tradeloop/internal/seed"
	"github.com/tradeloop/tradeloop/internal/stack"
	"github.com/tradeloop/tradeloop/internal/tier"
	"github.com/tradeloop/tradeloop/internal/tracing"
	"github.com/tradeloop/tradeloop/workflows"
)

// Options configure a run.
type Options struct {
	Deals        int           // per phase; 0: as many as Duration allows
	Duration     time.Duration // per phase: no deal starts after it; 0: until Deals have run
	Concurrency  int           // deals in flight at once
	Poll         time.Duration // how often a client reads a deal it waits for
	Warmup       int           // deals run before each phase, not measured
	Mix          Mix
	PolicyScale  float64       // DEAL_POLICY_SCALE of the stack the bench starts
	TrackingPoll time.Duration // how often shipments are polled
	SimStep      time.Duration // the simulated carrier's time per status
	Baseline     bool
	// Latency, when positive, makes the run a latency run instead (see
	// latency.go): this many requests of each kind at each level.
	Latency int
	Timeout time.Duration // the whole run
	Out     string        // JSON report file, "" for none

	// The stack the bench starts: its data directory ("" for a temporary
	// one) and the worker's command (default: this program's `worker`).
	DataDir       string
	WorkerCommand []string

	// A running stack instead: the API's URL, the demo keys file with an
	// admin and a mediator key, and the worker's process ID to measure (0:
	// not measured). The baseline then needs TEMPORAL_ADDRESS (and
	// TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE) of that stack.
	APIURL      string
	KeysFile    string
	WorkerPID   int
	PostgresPID int

	Progress io.Writer // progress lines while running
}

// DefaultOptions are `make bench`'s settings.
func DefaultOptions() Options {
	return Options{
		Duration: time.Minute, Concurrency: 20, Poll: 250 * time.Millisecond, Warmup: 10, Mix: DefaultMix, PolicyScale: 0.01,
		TrackingPoll: time.Second, SimStep: 50 * time.Millisecond, Baseline: true, Timeout: 10 * time.Minute,
	}
}

// Main is `tradeloop bench` with its command-line arguments.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := DefaultOptions()
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&o.Duration, "duration", o.Duration, "how long each phase (the deals, then the baseline) starts deals; those in flight then finish")
	fs.IntVar(&o.Deals, "deals", o.Deals, "deals per phase, instead of -duration (0: no limit)")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "deals in flight at once")
	fs.DurationVar(&o.Poll, "poll", o.Poll, "how often a client reads a deal while it waits for a shipment or the settlement")
	fs.IntVar(&o.Warmup, "warmup", o.Warmup, "deals run before each phase and not measured")
	mix := fs.String("mix", o.Mix.String(), "kinds of deal and their weights: happy, sample (with a paid sample), dispute (decided by a mediator)")
	fs.Float64Var(&o.PolicyScale, "policy-scale", o.PolicyScale, "DEAL_POLICY_SCALE of the stack the bench starts: every deal deadline times this")
	fs.DurationVar(&o.TrackingPoll, "tracking-poll", o.TrackingPoll, "how often the stack the bench starts polls shipments")
	fs.DurationVar(&o.SimStep, "carrier-step", o.SimStep, "the simulated carrier's time per shipment status")
	noBaseline := fs.Bool("no-baseline", false, "skip the baseline")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "give up after this long")
	fs.StringVar(&o.Out, "out", "bench.json", "write the report as JSON to this file (\"\" for none)")
	fs.StringVar(&o.DataDir, "data-dir", "", "data directory of the stack the bench starts (default: a temporary one, removed after)")
	fs.StringVar(&o.APIURL, "api", "", "drive a running stack at this URL instead of starting one")
	fs.StringVar(&o.KeysFile, "keys", ".tradeloop/demo-keys.json", "with -api: the demo keys file (admin and mediator keys)")
	fs.IntVar(&o.WorkerPID, "worker-pid", 0, "with -api: the worker's process ID, to report its CPU and memory")
	fs.IntVar(&o.PostgresPID, "postgres-pid", 0, "with -api: PostgreSQL's postmaster process ID, to report its CPU")
	fs.IntVar(&o.Latency, "latency", 0, "instead of whole deals, measure single requests, one at a time per client, at 1 and 16 clients at once: this many of each (an action through the API, the raw SDK update, a read)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (the load, the API and Temporal of the stack it starts; not the worker) to this file, for `go tool pprof`")
	compare := fs.String("compare", "", "a git revision: run the deals with the program built from it, then with this one, and print both side by side (no baseline)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *compare != "" {
		// Both runs get the other options as given.
		var rest []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "compare" && f.Name != "out" && f.Name != "no-baseline" {
				rest = append(rest, "-"+f.Name+"="+f.Value.String())
			}
		})
		return Compare(ctx, *compare, rest, stdout, stderr)
	}
	m, err := ParseMix(*mix)
	if err != nil {
		return err
	}
	o.Mix, o.Baseline, o.Progress = m, !*noBaseline, stderr
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("create the CPU profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("start the CPU profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := Run(ctx, o)
	if rep != nil && len(rep.Deal.Endpoints) > 0 {
		rep.Print(stdout)
	}
	if rep != nil && len(rep.Latency) > 0 {
		PrintLatency(stdout, rep.Latency)
	}
	if err != nil {
		return err
	}
	if o.Out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(o.Out, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
		fmt.Fprintf(stdout, "\nreport written to %s\n", o.Out)
	}
	return nil
}

// Run runs the benchmark and returns its report.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Deals < 0 || o.Duration < 0 || (o.Deals == 0 && o.Duration == 0) || o.Concurrency < 1 || o.Warmup < 0 || o.Latency < 0 {
		return nil, errors.New("bench: give -deals or -duration, a positive -concurrency, and a -warmup and -latency not negative")
	}
	if o.Latency > 0 {
		// Enough party sets for each key to send at most 30 requests of
		// a kind per level (see measureLatency).
		o.Concurrency = max(o.Concurrency, slices.Max(LatencyLevels), (o.Latency+29)/30)
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	began := time.Now()
	rep := &Report{Started: began.UTC(), Machine: machine(), Settings: Settings{
		Deals: o.Deals, Duration: o.Duration.String(), Concurrency: o.Concurrency, Poll: o.Poll.String(), Warmup: o.Warmup, Mix: o.Mix.String(), PolicyScale: o.PolicyScale,
		TrackingPoll: o.TrackingPoll.String(), CarrierStep: o.SimStep.String(), Latency: o.Latency,
	}}

	var (
		apiURL   string
		admin    dealclient.Party
		mediator dealclient.Party
		temporal config.Temporal
		own      *ownStack
		m        meters
	)
	if o.APIURL == "" {
		if len(o.WorkerCommand) == 0 {
			exe, err := os.Executable()
			if err != nil {
				return nil, err
			}
			// The production worker, unless the baseline runs: only
			// the bench's worker knows it.
			o.WorkerCommand = []string{exe, "worker"}
			if o.Baseline {
				o.WorkerCommand[1] = "bench-worker"
			}
		}
		fmt.Fprintf(o.Progress, "starting a dev stack (worker: %s)…\n", strings.Join(o.WorkerCommand, " "))
		var err error
		if own, err = startStack(ctx, o); err != nil {
			return nil, err
		}
		defer own.stop()
		apiURL = own.info.APIURL
		for _, d := range own.info.DemoUsers {
			switch d.Role {
			case "admin":
				admin = dealclient.Party{Key: d.Key, OrgID: d.OrgID.String()}
			case "mediator":
				mediator = dealclient.Party{Key: d.Key, OrgID: d.OrgID.String()}
			}
		}
		temporal = config.Temporal{Address: own.info.TemporalAddress, Namespace: own.info.Namespace, TaskQueue: own.info.TaskQueue, HistoryKeys: own.info.HistoryKeys}
		m.worker = func() (childproc.Usage, bool) {
			u, err := own.worker.Usage()
			return u, err == nil
		}
		m.postgres = func() (time.Duration, bool) { return postgresCPU(own.postmasterPID()) }
		rep.Settings.Stack, rep.Settings.OwnStack = "own dev stack, worker as a child process", true
	} else {
		cfg, err := config.FromEnv()
		if err != nil {
			return nil, err
		}
		apiURL, temporal = strings.TrimSuffix(o.APIURL, "/"), cfg.Temporal
		if admin, mediator, err = readKeys(o.KeysFile); err != nil {
			return nil, err
		}
		if o.WorkerPID > 0 {
			m.worker = func() (childproc.Usage, bool) {
				u, err := childproc.UsageOf(o.WorkerPID)
				return u, err == nil
			}
		}
		if o.PostgresPID > 0 {
			m.postgres = func() (time.Duration, bool) { return postgresCPU(o.PostgresPID) }
		}
		rep.Settings.Stack = "running stack at " + apiURL
	}

	httpClient := &http.Client{Transport: &http.Transport{
		MaxIdleConns: 4 * o.Concurrency, MaxIdleConnsPerHost: 4 * o.Concurrency, IdleConnTimeout: time.Minute,
	}}
	dc := dealclient.Client{BaseURL: apiURL, HTTP: httpClient, Retry: time.Minute, Poll: o.Poll}
	fmt.Fprintf(o.Progress, "creating %d buyers and %d suppliers…\n", o.Concurrency, o.Concurrency)
	parties, err := makeParties(ctx, dc, admin, mediator, o.Concurrency)
	if err != nil {
		return nil, err
	}

	tc, err := stack.DialTemporal(ctx, temporal, slog.New(slog.DiscardHandler), tracing.Off)
	if err != nil {
		return nil, err
	}
	defer tc.Close()

	if o.Latency > 0 {
		rep.Latency, err = measureLatency(ctx, dc, tc, parties, o.Latency, o.Progress)
		return rep, err
	}
	deal, results, err := runPhase(ctx, "deals", dc, parties, o, m)
	rep.Deal = deal
	if err != nil {
		return rep, err
	}

	// The baseline repeats the round trips of the deals just run: for each
	// kind, those of the median of up to five of its deals.
	fmt.Fprintf(o.Progress, "reading deal histories…\n")
	plans, trips, err := plansOf(ctx, tc, results)
	if err != nil {
		return rep, err
	}
	rep.RoundTrips = map[string]KindRoundTrips{}
	for k, rt := range trips {
		rep.RoundTrips[string(k)] = KindRoundTrips{Deal: rt}
	}
	if !o.Baseline {
		return rep, nil
	}
	if own != nil {
		if err := own.restartWorker(ctx); err != nil {
			return rep, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return rep, err
	}
	srv := &http.Server{Handler: newBaselineAPI(tc, stack.TaskQueue(config.Config{Temporal: temporal}), plans)}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	bc := dc
	bc.BaseURL = "http://" + ln.Addr().String()
	bc.Prefix = func(k dealclient.Kind) string { return "/" + string(k) }
	base, bresults, err := runPhase(ctx, "baseline", bc, parties, o, m)
	if err != nil {
		return rep, err
	}
	rep.Baseline = &base
	// The baseline's own histories, to show it made the deal's round trips.
	for k, ids := range byKind(bresults) {
		_, rt, err := PlanOf(ctx, tc, "baseline-"+ids[0])
		if err != nil {
			return rep, err
		}
		kt := rep.RoundTrips[string(k)]
		kt.Baseline = rt
		rep.RoundTrips[string(k)] = kt
	}
	rep.Ratio = ratio(rep.Deal, base)
	if !rep.Settings.OwnStack {
		rep.Ratio.TotalCPUPerDeal = 0 // the API, Temporal and PostgreSQL's own CPU are not all measured
	}
	return rep, nil
}

// meters read the CPU time and memory of the processes a phase measures.
type meters struct {
	worker   func() (childproc.Usage, bool)
	postgres func() (time.Duration, bool)
}

func (m meters) workerUsage() (childproc.Usage, bool) {
	if m.worker == nil {
		return childproc.Usage{}, false
	}
	return m.worker()
}

func (m meters) postgresCPU() (time.Duration, bool) {
	if m.postgres == nil {
		return 0, false
	}
	return m.postgres()
}

// postgresCPU is the CPU time of PostgreSQL's postmaster and its backends.
func postgresCPU(pid int) (time.Duration, bool) {
	if pid <= 0 {
		return 0, false
	}
	d, err := childproc.TreeCPUOf(pid)
	return d, err == nil
}

// runPhase runs warm-up deals, then the measured ones.
func runPhase(ctx context.Context, name string, dc dealclient.Client, parties []dealclient.Parties,
	o Options, m meters) (Phase, []dealclient.Result, error) {
	if o.Warmup > 0 {
		fmt.Fprintf(o.Progress, "%s: warming up with %d deals…\n", name, o.Warmup)
		wrec := newRecorder()
		if _, err := drive(ctx, name+" warm-up", dc, o.Mix, o.Warmup, 0, parties, wrec, o.Progress); err != nil {
			return Phase{}, nil, err
		}
		if wrec.failed > 0 {
			return Phase{}, nil, fmt.Errorf("%s: %d of %d warm-up deals failed; first: %s", name, wrec.failed, o.Warmup, wrec.failures[0])
		}
	}
	rec := newRecorder()
	dc.Observe = rec.observe
	w0, wok := m.workerUsage()
	pg0, pgok := m.postgresCPU()
	s0, _ := childproc.UsageOf(os.Getpid())
	began := time.Now()
	results, err := drive(ctx, name, dc, o.Mix, o.Deals, o.Duration, parties, rec, o.Progress)
	took := time.Since(began)
	w1, wok1 := m.workerUsage()
	pg1, pgok1 := m.postgresCPU()
	s1, _ := childproc.UsageOf(os.Getpid())

	p := Phase{Seconds: round(took.Seconds(), 2), Endpoints: rec.endpointStats(), DealSeconds: map[string]Latency{}}
	var all []time.Duration
	for k, d := range rec.deals {
		p.DealSeconds[k] = seconds(summarise(d))
		all = append(all, d...)
		p.Deals += len(d)
	}
	p.DealSeconds["all"] = seconds(summarise(all))
	p.Failed, p.Failures = rec.failed, rec.failures
	p.DealsPerSecond = round(float64(p.Deals)/took.Seconds(), 2)
	if wok && wok1 {
		p.Worker = usage(w0, w1, took, p.Deals)
	}
	p.Stack = usage(s0, s1, took, p.Deals)
	if pgok && pgok1 {
		u := usage(childproc.Usage{CPU: pg0}, childproc.Usage{CPU: pg1}, took, p.Deals)
		u.RSSMB, u.PeakRSSMB = 0, 0 // shared memory: a sum over its processes says nothing
		p.Postgres = u
	}
	if err == nil && p.Failed > 0 {
		err = fmt.Errorf("%s: %d of %d deals failed; first: %s", name, p.Failed, p.Failed+p.Deals, p.Failures[0])
	}
	return p, results, err
}

// drive runs deals of the mix, one goroutine per party set, until n have
// started (n > 0) or the duration has passed (d > 0), and waits for those
// in flight.
func drive(ctx context.Context, name string, dc dealclient.Client, mix Mix, n int, d time.Duration, parties []dealclient.Parties,
	rec *recorder, progress io.Writer) ([]dealclient.Result, error) {
	seq := mix.Sequence(1000)
	var (
		mu      sync.Mutex
		started int
		results []dealclient.Result
		wg      sync.WaitGroup
	)
	began := time.Now()
	next := func() (dealclient.Kind, bool) {
		mu.Lock()
		defer mu.Unlock()
		if (n > 0 && started >= n) || (d > 0 && time.Since(began) >= d) || ctx.Err() != nil {
			return "", false
		}
		k := seq[started%len(seq)]
		started++
		return k, true
	}
	stopProgress := showProgress(name, n, d, rec, progress)
	for _, p := range parties {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k, ok := next()
				if !ok {
					return
				}
				res, err := dc.Run(ctx, k, p)
				rec.deal(string(k), res.Took, err)
				if err == nil {
					mu.Lock()
					results = append(results, res)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	stopProgress()
	if ctx.Err() != nil {
		return results, fmt.Errorf("%s: %w (%d of %d deals done)", name, ctx.Err(), len(results), started)
	}
	return results, nil
}

// showProgress writes a progress line every second until stopped: in
// place on a terminal, every five seconds otherwise.
func showProgress(name string, total int, d time.Duration, rec *recorder, w io.Writer) func() {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	began := time.Now()
	line := func() string {
		done, failed := rec.progress()
		el := time.Since(began)
		of := ""
		switch {
		case total > 0:
			of = fmt.Sprintf("/%d", total)
		case el > d:
			of = " (finishing those in flight)"
		}
		return fmt.Sprintf("%s: %d%s deals done, %d failed, %.1f deals/s, %s", name, done, of, failed,
			float64(done)/max(el.Seconds(), 0.001), el.Truncate(time.Second))
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		every := 5 * time.Second
		if tty {
			every = time.Second
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				if tty {
					fmt.Fprintf(w, "\r%s\n", line())
				} else {
					fmt.Fprintln(w, line())
				}
				return
			case <-t.C:
				if tty {
					fmt.Fprintf(w, "\r%s", line())
				} else {
					fmt.Fprintln(w, line())
				}
			}
		}
	}()
	return func() { close(stop); <-stopped }
}

// makeParties creates a buyer and a supplier organization, with a user and
// an API key each, for every deal in flight: the API limits each key's
// request rate, as it would each real client's.
func makeParties(ctx context.Context, dc dealclient.Client, admin, mediator dealclient.Party, n int) ([]dealclient.Parties, error) {
	if admin.Key == "" || mediator.Key == "" {
		return nil, errors.New("bench: no admin or mediator key")
	}
	run := time.Now().UnixNano()
	user := func(i int, role, tier string) (dealclient.Party, error) {
		var org struct{ ID string }
		body, _ := json.Marshal(map[string]string{"name": fmt.Sprintf("bench %s %d", role, i)})
		if err := dc.Do(ctx, admin.Key, http.MethodPost, "admin", "/v1/organizations", "", body, http.StatusCreated, &org); err != nil {
			return dealclient.Party{}, err
		}
		var u struct {
			APIKey string `json:"api_key"`
		}
		body, _ = json.Marshal(map[string]string{"email": fmt.Sprintf("%s-%d-%d@bench.tradeloop.local", role, i, run), "name": role, "role": role, "tier": tier})
		if err := dc.Do(ctx, admin.Key, http.MethodPost, "admin", "/v1/organizations/"+org.ID+"/users", "", body, http.StatusCreated, &u); err != nil {
			return dealclient.Party{}, err
		}
		return dealclient.Party{Key: u.APIKey, OrgID: org.ID}, nil
	}
	out := make([]dealclient.Parties, n)
	for i := range out {
		b, err := user(i, "buyer", "")
		if err != nil {
			return nil, fmt.Errorf("create bench users: %w", err)
		}
		s, err := user(i, "supplier", string(tier.Gold))
		if err != nil {
			return nil, fmt.Errorf("create bench users: %w", err)
		}
		out[i] = dealclient.Parties{Buyer: b, Supplier: s, Mediator: mediator}
	}
	return out, nil
}

func readKeys(path string) (admin, mediator dealclient.Party, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return admin, mediator, fmt.Errorf("demo keys (-keys): %w", err)
	}
	var demo []seed.Demo
	if err := json.Unmarshal(b, &demo); err != nil {
		return admin, mediator, fmt.Errorf("demo keys %s: %w", path, err)
	}
	for _, d := range demo {
		switch d.Role {
		case "admin":
			admin = dealclient.Party{Key: d.Key, OrgID: d.OrgID.String()}
		case "mediator":
			mediator = dealclient.Party{Key: d.Key, OrgID: d.OrgID.String()}
		}
	}
	return admin, mediator, nil
}

func byKind(results []dealclient.Result) map[dealclient.Kind][]string {
	m := map[dealclient.Kind][]string{}
	for _, r := range results {
		m[r.Kind] = append(m[r.Kind], r.DealID)
	}
	return m
}

// plansOf reads up to five deals of each kind and keeps, per kind, the
// plan of the deal with the median number of round trips.
func plansOf(ctx context.Context, tc client.Client, results []dealclient.Result) (map[dealclient.Kind]baseline.Plan, map[dealclient.Kind]RoundTrips, error) {
	plans, trips := map[dealclient.Kind]baseline.Plan{}, map[dealclient.Kind]RoundTrips{}
	for kind, ids := range byKind(results) {
		type read struct {
			plan baseline.Plan
			rt   RoundTrips
		}
		var reads []read
		for _, id := range ids[:min(5, len(ids))] {
			wf := workflows.DealWorkflowID(id)
			// The client saw the escrow settled; the workflow ends just after.
			if err := tc.GetWorkflow(ctx, wf, "").Get(ctx, nil); err != nil {
				return nil, nil, fmt.Errorf("deal %s: %w", id, err)
			}
			plan, rt, err := PlanOf(ctx, tc, wf)
			if err != nil {
				return nil, nil, err
			}
			reads = append(reads, read{plan, rt})
		}
		sort.SliceStable(reads, func(i, j int) bool { return reads[i].rt.Total() < reads[j].rt.Total() })
		m := reads[len(reads)/2]
		plans[kind], trips[kind] = m.plan, m.rt
	}
	return plans, trips, nil
}

func usage(u0, u1 childproc.Usage, took time.Duration, deals int) *Usage {
	cpu := (u1.CPU - u0.CPU).Seconds()
	u := &Usage{CPUSeconds: round(cpu, 2), CPUCores: round(cpu/took.Seconds(), 2), RSSMB: mb(u1.RSS), PeakRSSMB: mb(u1.PeakRSS)}
	if deals > 0 {
		u.CPUPerDealMs = round(cpu*1000/float64(deals), 1)
	}
	return u
}

func ratio(deal, base Phase) *Ratio {
	r := &Ratio{Endpoints: map[string]float64{}}
	div := func(a, b float64) float64 {
		if b == 0 {
			return 0
		}
		return round(a/b, 2)
	}
	r.DealSecondsP50 = div(deal.DealSeconds["all"].P50, base.DealSeconds["all"].P50)
	r.Throughput = div(deal.DealsPerSecond, base.DealsPerSecond)
	if deal.Worker != nil && base.Worker != nil {
		r.WorkerCPUPerDeal = div(deal.Worker.CPUPerDealMs, base.Worker.CPUPerDealMs)
	}
	if deal.Stack != nil && base.Stack != nil {
		r.StackCPUPerDeal = div(deal.Stack.CPUPerDealMs, base.Stack.CPUPerDealMs)
	}
	if deal.Postgres != nil && base.Postgres != nil {
		r.PostgresCPUPerDeal = div(deal.Postgres.CPUPerDealMs, base.Postgres.CPUPerDealMs)
	}
	r.TotalCPUPerDeal = div(deal.totalCPUPerDeal(), base.totalCPUPerDeal())
	if deal.Worker == nil || deal.Stack == nil {
		r.TotalCPUPerDeal = 0 // not all of it was measured
	}
	bp := map[string]float64{}
	for _, e := range base.Endpoints {
		bp[e.Endpoint] = e.P50
	}
	for _, e := range deal.Endpoints {
		if b := bp[e.Endpoint]; b > 0 {
			r.Endpoints[e.Endpoint] = div(e.P50, b)
		}
	}
	return r
}

func seconds(l Latency) Latency {
	return Latency{P50: round(l.P50/1000, 2), P95: round(l.P95/1000, 2), P99: round(l.P99/1000, 2), Max: round(l.Max/1000, 2)}
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

func mb(b int64) float64 { return round(float64(b)/(1<<20), 1) }

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryGB = round(float64(kb)/(1<<20), 1)
		}
	}
	if pg, err := filepath.Glob("/usr/lib/postgresql/*"); err == nil && len(pg) > 0 {
		slices.Sort(pg)
		m.PostgreSQL = filepath.Base(pg[len(pg)-1])
	}
	return m
}
