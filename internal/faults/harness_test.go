package faults

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/apikey"
	"github.com/tradeloop/tradeloop/internal/childproc"
	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/dealclient"
	"github.com/tradeloop/tradeloop/internal/historycodec"
	"github.com/tradeloop/tradeloop/internal/stack"
	"github.com/tradeloop/tradeloop/internal/stripefake"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/workflows"
)

const (
	stripeKey     = "sk_test_faults"
	webhookSecret = "whsec_faults"
)

var (
	binDir   string
	binMu    sync.Mutex
	binBuilt = map[string]string{}
)

func TestMain(m *testing.M) {
	code := 1
	stop, err := ownTemporal()
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
	} else {
		code = m.Run()
		stop(code != 0)
	}
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	testenv.Shutdown()
	os.Exit(code)
}

// ownTemporal starts the tests' Temporal server as a process of its own
// (tradeloop temporal), built without the race detector, and points the
// harness at it (TEMPORAL_ADDRESS). Embedded in this -race test binary,
// beside the in-process API and the three tests' clients, the server is
// several times slower and shares their scheduler and collector: on a
// machine busy with a second make test it fell behind until its task
// queues stopped draining and the deals stalled. Apart, it runs as the
// dev stack's does. A TEMPORAL_ADDRESS already set is used as it is.
func ownTemporal() (stop func(failed bool), err error) {
	if os.Getenv("TEMPORAL_ADDRESS") != "" {
		return func(bool) {}, nil
	}
	path, err := build("tradeloop")
	if err != nil {
		return nil, err
	}
	proc := &childproc.Process{Name: "temporal", Path: path, Args: []string{"temporal"}, Log: filepath.Join(binDir, "temporal.log")}
	if err := proc.Start(); err != nil {
		return nil, err
	}
	stop = func(failed bool) {
		if failed {
			fmt.Fprintf(os.Stderr, "temporal server log (tail):\n%s\n", proc.LogTail(3000))
		}
		_ = proc.Stop(10 * time.Second)
	}
	const ready = "temporal serving at "
	deadline := time.After(5 * time.Minute)
	for {
		log := proc.LogTail(1 << 20)
		if i := strings.Index(log, ready); i >= 0 {
			addr, _, _ := strings.Cut(log[i+len(ready):], " ")
			if err := os.Setenv("TEMPORAL_ADDRESS", addr); err != nil {
				stop(true)
				return nil, err
			}
			return stop, nil
		}
		select {
		case <-proc.Exited():
			return nil, fmt.Errorf("tradeloop temporal exited: %s", proc.LogTail(3000))
		case <-deadline:
			stop(true)
			return nil, fmt.Errorf("tradeloop temporal did not start within 5 minutes")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// binary builds one of the platform's commands once per test binary.
func binary(t *testing.T, name string) string {
	t.Helper()
	p, err := build(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// build builds one of the platform's commands (without -race) once per
// test binary, into a directory removed when the tests end.
func build(name string) (string, error) {
	binMu.Lock()
	defer binMu.Unlock()
	if p, ok := binBuilt[name]; ok {
		return p, nil
	}
	if binDir == "" {
		dir, err := os.MkdirTemp("", "tradeloop-faults-")
		if err != nil {
			return "", err
		}
		binDir = dir
	}
	p := filepath.Join(binDir, name)
	if out, err := exec.Command("go", "build", "-o", p, "../../cmd/"+name).CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/%s: %w\n%s", name, err, out)
	}
	binBuilt[name] = p
	return p, nil
}

// TestFaultsMidDeals runs the fault tests at once, each with its own
// database, task queue and processes: much of a run is waiting, for a
// restart, an activity's retry after a kill or a key's lease, and they
// wait together, so the package takes about as long as its slowest test
// rather than the three added up. (Parallel tests would run at most
// GOMAXPROCS at a time, two on a two-core machine.)
func TestFaultsMidDeals(t *testing.T) {
	var wg sync.WaitGroup
	for _, f := range []struct {
		name string
		test func(*testing.T)
	}{
		{"WorkerKilled", workerKilledMidDeals},
		{"PostgresRestarted", postgresRestartedMidDeals},
		{"APIRestarted", apiRestartedMidRequests},
	} {
		wg.Go(func() {
			t.Run(f.name, func(t *testing.T) {
				f.test(t)
			})
		})
	}
	wg.Wait()
}

// testContext builds the services' binaries (a cold build takes a while),
// then returns the test's context: it ends a minute before the test
// binary's deadline, so a stuck test fails with its own message. How long
// the deals may take is not bounded otherwise: a run ends early only when
// they stop making progress (stallWindow).
func testContext(t *testing.T) context.Context {
	t.Helper()
	binary(t, "worker")
	binary(t, "api")
	d := 30 * time.Minute
	if dl, ok := t.Deadline(); ok {
		d = time.Until(dl) - time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// stallWindow is how long the deals may go without any progress before a
// run is taken as stuck. Progress is any sign that some deal moved: a
// longer timeline seen by a client, a party's request answered, an object
// made at the payment provider. A slow machine makes progress slowly, not
// never; the longest quiet spell a healthy run has is a client waiting out
// the Idempotency-Key lease (90 s) of a request an API crash left claimed,
// or activities backing off (at most a minute) after a restart.
const stallWindow = 4 * time.Minute

// progress watches the deals' progress and ends the run when they stall.
type progress struct {
	mu     sync.Mutex
	last   time.Time
	events map[string]int // timeline events seen, per deal
	total  int
	stall  string // why the run was ended, if it was
}

// moved records that something happened.
func (g *progress) moved() {
	g.mu.Lock()
	g.last = time.Now()
	g.mu.Unlock()
}

// saw records a deal's timeline as its client saw it.
func (g *progress) saw(dealID string, events int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if events > g.events[dealID] {
		g.total += events - g.events[dealID]
		g.events[dealID] = events
		g.last = time.Now()
	}
}

// watch calls stop once nothing has moved for stallWindow, until ctx ends.
func (g *progress) watch(ctx context.Context, stop func()) {
	g.moved()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		g.mu.Lock()
		quiet := time.Since(g.last)
		if quiet >= stallWindow {
			g.stall = fmt.Sprintf("no deal made progress for %s (%d timeline events seen on %d deals)", quiet.Truncate(time.Second), g.total, len(g.events))
		}
		g.mu.Unlock()
		if quiet >= stallWindow {
			stop()
			return
		}
	}
}

func (g *progress) stalled() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stall
}

// schedule holds the faults a test plans, each due once the deals have
// made a given amount of progress (a count the test chooses: party
// requests answered, requests sent, objects made at the provider), not at
// a time: however fast or slow the machine, each fault happens while deals
// are still running. The caller that reaches a mark runs its faults before
// it goes on, so that deal cannot end before them.
type schedule struct {
	mu     sync.Mutex
	faults []fault // by mark
	next   int
	ran    atomic.Int32
}

type fault struct {
	at  int64
	run func()
}

func (s *schedule) add(at int64, run func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{at, run})
	sort.SliceStable(s.faults, func(i, j int) bool { return s.faults[i].at < s.faults[j].at })
}

// due takes the faults whose mark n has reached, in order; the caller runs them.
func (s *schedule) due(n int64) []func() {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []func()
	for s.next < len(s.faults) && s.faults[s.next].at <= n {
		run := s.faults[s.next].run
		out = append(out, func() { run(); s.ran.Add(1) })
		s.next++
	}
	return out
}

// reached runs the faults due at n, one after the other.
func (s *schedule) reached(n int64) {
	for _, run := range s.due(n) {
		run()
	}
}

// check fails the test unless every planned fault ran.
func (s *schedule) check(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	planned := len(s.faults)
	s.mu.Unlock()
	if n := int(s.ran.Load()); n != planned {
		t.Errorf("%d of the %d planned faults happened", n, planned)
	}
}

// platform is one test's stack: a database, a Temporal task queue, the
// fake Stripe (optional), the API in this process, and the worker as a
// child process that can be killed.
type platform struct {
	t        *testing.T
	ctx      context.Context
	dbURL    string
	pool     *pgxpool.Pool
	tc       testenv.Temporal
	stripe   *stripefake.Server // nil: the sandbox
	apiURL   string
	worker   *childproc.Process
	client   dealclient.Client
	mediator dealclient.Party
	answers  answers

	// run bounds the deals: it ends when they stall (progress), or when a
	// request the provider refuses shows that no deal can complete.
	run      context.Context
	stopRun  context.CancelFunc
	progress progress
	refusals []string
	refuseMu sync.Mutex

	// answered counts the party requests (POSTs) answered with success, as
	// the clients saw them, replays included; each answer is offered to
	// onAnswer, which a test uses to plan faults.
	answered atomic.Int64
	onAnswer func(n int64)
	// onCreated, if set, hears of each object the fake Stripe makes, before
	// its caller does.
	onCreated func(kind, key string)
}

// answers counts the API's answers by status, as the clients saw them.
type answers struct {
	mu       sync.Mutex
	byStatus map[int]int
	replayed int
	recover  map[bool]int
}

func (a *answers) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return fmt.Sprintf("answers by status %v (0: none), %d replayed for a repeated Idempotency-Key, %d keys left in progress (%d of them had taken effect)",
		a.byStatus, a.replayed, a.recover[true]+a.recover[false], a.recover[true])
}

type setup struct {
	dbURL     string // "" for a fresh database of the shared test cluster
	workerDB  string // the worker's DATABASE_URL, if not dbURL
	stripe    bool
	noWorker  bool // the test runs the worker itself
	noAPI     bool // the test runs the API itself
	transport http.RoundTripper
}

func newPlatform(t *testing.T, ctx context.Context, s setup) *platform {
	t.Helper()
	p := &platform{t: t, ctx: ctx, dbURL: s.dbURL, tc: testenv.NewTemporal(t)}
	p.run, p.stopRun = context.WithCancel(ctx)
	t.Cleanup(p.stopRun)
	p.progress.events = map[string]int{}
	if p.dbURL == "" {
		p.dbURL = testenv.PostgresURL(t)
	}
	pool, err := pgxpool.New(ctx, p.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	p.pool = pool
	if s.stripe {
		p.stripe = stripefake.New()
		t.Cleanup(p.stripe.Close)
		p.stripe.Created = func(kind, key string) {
			p.progress.moved()
			if p.onCreated != nil {
				p.onCreated(kind, key)
			}
		}
		// A payout the charge cannot cover is money moved twice: no deal
		// can complete after it, so there is no point waiting.
		p.stripe.Refused = func(kind, key, reason string) {
			p.refuseMu.Lock()
			p.refusals = append(p.refusals, kind+" "+key+": "+reason)
			p.refuseMu.Unlock()
			p.stopRun()
		}
	}
	if !s.noAPI {
		cfg := p.config()
		api := httptest.NewServer(stack.NewAPI(stack.Deps{Temporal: p.tc.Client, DB: pool, Logger: slog.New(slog.DiscardHandler), Config: cfg}).API)
		t.Cleanup(api.Close)
		p.apiURL = api.URL
	}
	if p.stripe != nil && p.apiURL != "" {
		p.stripe.SendWebhooksTo(p.apiURL+"/webhooks/stripe", webhookSecret)
	}
	if !s.noWorker {
		var extra []string
		if s.workerDB != "" {
			extra = append(extra, "DATABASE_URL="+s.workerDB)
		}
		p.worker = p.process("worker", extra...)
		if err := p.worker.Start(); err != nil {
			t.Fatal(err)
		}
	}
	// A request is retried for as long as the run lasts: the run ends when
	// the deals stall, not when one request has taken long.
	retry := 24 * time.Hour
	if dl, ok := ctx.Deadline(); ok {
		retry = time.Until(dl)
	}
	p.client = dealclient.Client{
		BaseURL: p.apiURL, HTTP: &http.Client{Transport: s.transport}, Retry: retry, Poll: 200 * time.Millisecond,
		Progressed: p.progress.saw,
	}
	if p.stripe != nil {
		p.client.Confirm = func(_ context.Context, pi string) error { return p.stripe.Confirm(pi) }
	}
	p.answers.byStatus, p.answers.recover = map[int]int{}, map[bool]int{}
	p.client.Observe = func(endpoint string, status int, _ time.Duration) {
		p.answers.mu.Lock()
		p.answers.byStatus[status]++
		p.answers.mu.Unlock()
		if status >= 200 && status < 300 && strings.HasPrefix(endpoint, "POST ") {
			p.progress.moved()
			n := p.answered.Add(1)
			if p.onAnswer != nil {
				p.onAnswer(n)
			}
		}
	}
	p.client.Replayed = func(string) {
		p.answers.mu.Lock()
		p.answers.replayed++
		p.answers.mu.Unlock()
	}
	p.client.Recovered = func(endpoint string, applied bool) {
		p.answers.mu.Lock()
		p.answers.recover[applied]++
		p.answers.mu.Unlock()
	}
	// A request whose Idempotency-Key an API crash (or a PostgreSQL
	// restart) left claimed is retried with the same key until the key's
	// lease runs out and the retry takes it over: that finds what the first
	// run did whatever the timing, where looking at the deal after a few
	// seconds (Recover) could miss an effect still on its way.
	p.client.Recover = 0
	t.Cleanup(func() { t.Logf("clients: %s", &p.answers) })
	return p
}

// env is the configuration of the services under test, as variables.
func (p *platform) env() map[string]string {
	e := map[string]string{
		"DATABASE_URL": p.dbURL, "TEMPORAL_ADDRESS": p.tc.Address, "TEMPORAL_NAMESPACE": p.tc.Namespace,
		"TEMPORAL_TASK_QUEUE": p.tc.TaskQueue, "TRACKING_SIM_STEP": "100ms", "TRACKING_POLL": "1s", "TRACKING_POLL_NEAR": "1s",
		"TRACKING_17TRACK_TOKEN": "", "STRIPE_SECRET_KEY": "", "STRIPE_WEBHOOK_SECRET": "", "STRIPE_API_BASE": "",
		"SANDBOX_CONFIRM_DELAY": "0s", "LOG_LEVEL": "info", "SHUTDOWN_TIMEOUT": "10s",
		// No metrics listener (parallel runs would share its port), and no
		// per-address limit: every client of the test is 127.0.0.1.
		"METRICS_ADDR": "off", "HTTP_CLIENT_RATE_LIMIT": "0",
		"HISTORY_KEYS": historycodec.DevKeys, // testenv's clients seal with it too
	}
	if os.Getenv("TRADELOOP_FAULTS_DIAG") != "" {
		e["LOG_LEVEL"] = "debug"
	}
	if p.stripe != nil {
		e["STRIPE_SECRET_KEY"], e["STRIPE_WEBHOOK_SECRET"], e["STRIPE_API_BASE"] = stripeKey, webhookSecret, p.stripe.URL
	}
	return e
}

func (p *platform) config() config.Config {
	cfg, err := config.Load(p.env())
	if err != nil {
		p.t.Fatal(err)
	}
	return cfg
}

// process is one of the platform's commands as a child process with this
// platform's configuration; it is killed when the test ends.
func (p *platform) process(name string, extra ...string) *childproc.Process {
	var env []string
	for k, v := range p.env() {
		env = append(env, k+"="+v)
	}
	proc := &childproc.Process{Name: name, Path: binary(p.t, name), Env: append(env, extra...), Log: filepath.Join(p.t.TempDir(), name+".log")}
	p.t.Cleanup(func() {
		_ = proc.Kill()
		if p.t.Failed() {
			p.t.Logf("%s log (%d starts):\n%s", name, proc.Starts(), proc.LogTail(3000))
		}
	})
	return proc
}

// parties makes a buyer and a supplier organization per deal, with users
// and API keys, and one mediator; suppliers are gold and have a Stripe
// connected account.
func (p *platform) parties(n int) []dealclient.Parties {
	p.t.Helper()
	q := store.New(p.pool)
	user := func(role, tier string) dealclient.Party {
		org, err := q.CreateOrganization(p.ctx, role+" org")
		if err != nil {
			p.t.Fatal(err)
		}
		u, err := q.CreateUser(p.ctx, store.CreateUserParams{OrgID: org.ID, Email: role + "-" + uuid.NewString() + "@faults.test", Name: role, Role: store.UserRole(role)})
		if err != nil {
			p.t.Fatal(err)
		}
		if tier != "" {
			if err := q.UpsertSupplierProfile(p.ctx, store.UpsertSupplierProfileParams{OrgID: org.ID, Categories: []string{}, Regions: []string{}, Tier: tier}); err != nil {
				p.t.Fatal(err)
			}
			acct := "acct_" + strings.ReplaceAll(org.ID.String(), "-", "")[:16]
			if err := q.SetSupplierStripeAccount(p.ctx, store.SetSupplierStripeAccountParams{OrgID: org.ID, StripeAccountID: &acct}); err != nil {
				p.t.Fatal(err)
			}
		}
		key, err := apikey.New()
		if err != nil {
			p.t.Fatal(err)
		}
		if _, err := q.CreateAPIKey(p.ctx, store.CreateAPIKeyParams{UserID: u.ID, Prefix: key.Prefix, SecretHash: key.Hash[:]}); err != nil {
			p.t.Fatal(err)
		}
		return dealclient.Party{Key: key.Plain, OrgID: org.ID.String()}
	}
	p.mediator = user("mediator", "")
	out := make([]dealclient.Parties, n)
	for i := range out {
		out[i] = dealclient.Parties{Buyer: user("buyer", ""), Supplier: user("supplier", "gold"), Mediator: p.mediator}
	}
	return out
}

// mix is n deals: three in five happy, one with a sample, one disputed.
func mix(n int) []dealclient.Kind {
	out := make([]dealclient.Kind, n)
	for i := range out {
		out[i] = []dealclient.Kind{dealclient.Happy, dealclient.Sample, dealclient.Happy, dealclient.Dispute, dealclient.Happy}[i%5]
	}
	return out
}

// runDeals drives the deals at once, one party set each, and returns
// their results in the same order; a deal that did not complete fails the
// test, and its result has no DealID.
func (p *platform) runDeals(kinds []dealclient.Kind, parties []dealclient.Parties) []dealclient.Result {
	p.t.Helper()
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		p.progress.watch(p.run, func() {
			p.diagnose()
			p.stopRun()
		})
	}()
	defer func() {
		p.stopRun()
		<-watching
	}()
	results := make([]dealclient.Result, len(kinds))
	errs := make([]error, len(kinds))
	var wg sync.WaitGroup
	for i, k := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = p.client.Run(p.run, k, parties[i])
		}()
	}
	wg.Wait()
	if why := p.progress.stalled(); why != "" {
		p.t.Errorf("the run was stopped: %s", why)
	}
	p.refuseMu.Lock()
	for _, r := range p.refusals {
		p.t.Errorf("the payment provider refused %s", r)
	}
	p.refuseMu.Unlock()
	for i, err := range errs {
		if err != nil {
			p.t.Errorf("deal %d (%s) did not complete: %v", i, kinds[i], err)
			results[i] = dealclient.Result{}
		}
	}
	return results
}

// final waits for each deal's workflow to end and returns its last state.
func (p *platform) final(results []dealclient.Result) map[string]workflows.DealState {
	p.t.Helper()
	out := map[string]workflows.DealState{}
	for _, r := range results {
		if r.DealID == "" {
			continue // did not complete
		}
		var st workflows.DealState
		if err := p.tc.Client.GetWorkflow(p.ctx, workflows.DealWorkflowID(r.DealID), "").Get(p.ctx, &st); err != nil {
			p.t.Fatalf("deal %s: %v", r.DealID, err)
		}
		want := workflows.StageCompleted
		if r.Kind == dealclient.Dispute {
			want = workflows.StageResolved
		}
		if st.Stage != want || st.Resolution == nil || !st.Resolution.Done || st.Escrow.Held != 0 {
			p.t.Errorf("deal %s (%s) ended %s, resolution %+v, escrow %+v", r.DealID, r.Kind, st.Stage, st.Resolution, st.Escrow)
		}
		out[r.DealID] = st
	}
	return out
}

// charges are a deal's charges, which must all have succeeded once.
func charges(t *testing.T, st workflows.DealState) []workflows.Payment {
	var out []workflows.Payment
	for _, pm := range st.Payments {
		if pm.Kind != workflows.PaymentCharge {
			continue
		}
		if pm.Status != workflows.PaymentSucceeded || pm.Excess || !pm.Settled {
			t.Errorf("deal %s: charge %s is %s (excess %v, settled %v)", st.DealID, pm.ID, pm.Status, pm.Excess, pm.Settled)
		}
		out = append(out, pm)
	}
	return out
}

// checkProvider checks what the fake Stripe was asked: per deal and
// payment step one PaymentIntent, of the amount the deal asked, confirmed;
// at most one transfer per charge and one refund per charge, summing to
// what the deal released and refunded; and every object made under its
// own idempotency key.
func (p *platform) checkProvider(deals map[string]workflows.DealState) {
	t := p.t
	t.Helper()
	intents := map[string][]stripefake.Intent{}
	keys := map[string]string{}
	seen := func(kind, id, key string) {
		if prev, dup := keys[key]; dup || key == "" {
			t.Errorf("idempotency key %q made %s and %s %s", key, prev, kind, id)
		}
		keys[key] = kind + " " + id
	}
	for _, pi := range p.stripe.Intents() {
		intents[pi.DealID] = append(intents[pi.DealID], pi)
		seen("payment intent", pi.ID, pi.IdempotencyKey)
	}
	transfers := map[string][]stripefake.Transfer{}
	for _, tr := range p.stripe.Transfers() {
		transfers[tr.DealID] = append(transfers[tr.DealID], tr)
		seen("transfer", tr.ID, tr.IdempotencyKey)
	}
	refunds := map[string][]stripefake.Refund{}
	for _, rf := range p.stripe.Refunds() {
		refunds[rf.DealID] = append(refunds[rf.DealID], rf)
		seen("refund", rf.ID, rf.IdempotencyKey)
	}
	// Whatever became of the deals: one PaymentIntent per payment step,
	// one transfer and one refund per charge.
	for id, pis := range intents {
		perStep := map[string][]string{}
		for _, pi := range pis {
			perStep[pi.Step] = append(perStep[pi.Step], pi.IdempotencyKey)
		}
		for step, keys := range perStep {
			if len(keys) != 1 {
				t.Errorf("deal %s: %d PaymentIntents for the %s payment, want 1 (keys %v)", id, len(keys), step, keys)
			}
		}
	}
	for id, trs := range transfers {
		from := map[string][]string{}
		for _, tr := range trs {
			from[tr.SourcePayment] = append(from[tr.SourcePayment], tr.IdempotencyKey)
		}
		for src, keys := range from {
			if len(keys) != 1 {
				t.Errorf("deal %s: %d transfers from %s, want 1 (keys %v)", id, len(keys), src, keys)
			}
		}
	}
	for id, rfs := range refunds {
		of := map[string][]string{}
		for _, rf := range rfs {
			of[rf.PaymentIntent] = append(of[rf.PaymentIntent], rf.IdempotencyKey)
		}
		for pi, keys := range of {
			if len(keys) != 1 {
				t.Errorf("deal %s: %d refunds of %s, want 1 (keys %v)", id, len(keys), pi, keys)
			}
		}
	}
	// And for the deals that completed, what they say they did.
	for id, st := range deals {
		chs := charges(t, st)
		if len(intents[id]) != len(chs) {
			t.Errorf("deal %s: %d PaymentIntents at the provider for %d charges", id, len(intents[id]), len(chs))
		}
		for _, ch := range chs {
			found := false
			for _, pi := range intents[id] {
				if pi.ID == ch.ProviderID {
					found = true
					if pi.Amount != ch.Amount || pi.Step != ch.Step || pi.Status != "succeeded" || pi.IdempotencyKey != ch.IdempotencyKey {
						t.Errorf("deal %s: charge %s of %d under key %s is at the provider %s of %d under key %s, %s",
							id, ch.ID, ch.Amount, ch.IdempotencyKey, pi.ID, pi.Amount, pi.IdempotencyKey, pi.Status)
					}
				}
			}
			if !found {
				t.Errorf("deal %s: charge %s (%s) is not at the provider", id, ch.ID, ch.ProviderID)
			}
		}
		var transferred, refunded int64
		for _, tr := range transfers[id] {
			transferred += tr.Amount
		}
		for _, rf := range refunds[id] {
			refunded += rf.Amount
		}
		if want := st.Escrow.Released - st.Escrow.Commission; transferred != want {
			t.Errorf("deal %s: %d transferred to the supplier, the deal released %d net", id, transferred, want)
		}
		if refunded != st.Escrow.Refunded {
			t.Errorf("deal %s: %d refunded at the provider, the deal refunded %d", id, refunded, st.Escrow.Refunded)
		}
	}
	t.Logf("provider: %d payment intents, %d transfers, %d refunds; %d requests answered from a saved response",
		len(p.stripe.Intents()), len(p.stripe.Transfers()), len(p.stripe.Refunds()), p.stripe.Replays())
}

// checkLedger checks each deal's postings: they sum to zero, the escrow is
// empty, and the buyer, the supplier and the commission got what the deal
// says it charged, released and refunded.
func (p *platform) checkLedger(deals map[string]workflows.DealState) {
	t := p.t
	t.Helper()
	for id, st := range deals {
		rows, err := p.pool.Query(p.ctx, `
			SELECT l.account, sum(l.amount)::bigint FROM ledger_lines l JOIN ledger_postings p ON p.id = l.posting_id
			WHERE p.deal_id = $1 GROUP BY l.account`, id)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		var total int64
		for rows.Next() {
			var acct string
			var sum int64
			if err := rows.Scan(&acct, &sum); err != nil {
				t.Fatal(err)
			}
			got[acct] = sum
			total += sum
		}
		rows.Close()
		var charged int64
		for _, ch := range charges(t, st) {
			charged += ch.Amount
		}
		want := map[string]int64{
			activities.EscrowAccount(id):                   0,
			activities.BuyerAccount(st.Inquiry.BuyerOrgID): -charged + st.Escrow.Refunded,
			activities.SupplierAccount(st.SupplierID):      st.Escrow.Released - st.Escrow.Commission,
			activities.CommissionAccount:                   st.Escrow.Commission,
		}
		if total != 0 || charged == 0 {
			t.Errorf("deal %s: ledger lines sum to %d (charged %d)", id, total, charged)
		}
		for acct, w := range want {
			if got[acct] != w {
				t.Errorf("deal %s: %s = %d in the ledger, want %d (all: %v)", id, acct, got[acct], w, got)
			}
		}
	}
}

// crasher kills a process and starts it again, one crash at a time.
type crasher struct {
	t     *testing.T
	mu    sync.Mutex
	proc  *childproc.Process
	kills atomic.Int32
	log   []string
}

func (c *crasher) crash(why string, down time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.proc.Running() {
		return
	}
	if err := c.proc.Kill(); err != nil {
		c.t.Errorf("kill %s: %v", c.proc.Name, err)
		return
	}
	c.kills.Add(1)
	c.log = append(c.log, fmt.Sprintf("killed the %s (%s), down %s", c.proc.Name, why, down.Truncate(time.Millisecond)))
	time.Sleep(down)
	if err := c.proc.Start(); err != nil {
		c.t.Errorf("restart %s: %v", c.proc.Name, err)
	}
}

func (c *crasher) report() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.log {
		c.t.Log(l)
	}
}

// waitForLog waits until the process's log says text.
func waitForLog(t *testing.T, ctx context.Context, proc *childproc.Process, text string) {
	t.Helper()
	for !strings.Contains(proc.LogTail(1<<20), text) {
		select {
		case <-ctx.Done():
			t.Fatalf("%s never logged %q: %s", proc.Name, text, proc.LogTail(2000))
		case <-proc.Exited():
			t.Fatalf("%s exited: %s", proc.Name, proc.LogTail(2000))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
