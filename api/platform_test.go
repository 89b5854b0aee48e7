package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/worker"
	"gocloud.dev/blob"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/apikey"
	"github.com/tradeloop/tradeloop/internal/deposits"
	"github.com/tradeloop/tradeloop/internal/finance"
	"github.com/tradeloop/tradeloop/internal/gold"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/media"
	"github.com/tradeloop/tradeloop/internal/pricetrend"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/internal/referral"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/internal/verification"
	"github.com/tradeloop/tradeloop/workflows"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// platform is the whole stack for API tests: embedded Temporal, a worker,
// a fresh PostgreSQL database and the API on a real HTTP listener, with a
// user of every role. Every response it sees is checked against
// /openapi.json.
type platform struct {
	t   testing.TB
	url string
	// metricsURL is the metrics listener's, apart from the API's.
	metricsURL string
	pool       *pgxpool.Pool
	tc         testenv.Temporal
	mem        *activities.Memory
	worker     worker.Worker
	router     routers.Router
	keys       map[string]string    // who → API key
	orgs       map[string]uuid.UUID // who → organization
	users      map[string]uuid.UUID // who → user

	// provider is mem as the worker's payment provider, counting its calls.
	provider *countingProvider
	// projections is the worker's read model, which a test may hold.
	projections *heldProjection
	// mediators chooses the mediator of a dispute; a test may have it
	// choose none.
	mediators *choosableMediators
	// stopBackground stops the API's background work (Handlers.Start),
	// which ends the live notification streams.
	stopBackground func()
	// media is the API's media bucket: files in a temporary directory.
	media *blob.Bucket
}

func newPlatform(t testing.TB, opts ...func(*Deps)) *platform {
	t.Helper()
	pool := testenv.Postgres(t)
	tc := testenv.NewTemporal(t)
	mem := activities.NewMemory()
	provider := &countingProvider{Memory: mem, calls: map[string]int{}}
	d := Deps{Logger: slog.New(slog.DiscardHandler), Temporal: tc.Client, DB: pool, TaskQueue: tc.TaskQueue, RateLimit: 10_000, RateBurst: 10_000,
		ClientRateLimit: 10_000, ClientRateBurst: 10_000}
	bucket, err := media.OpenBucket(context.Background(), "file://"+t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bucket.Close() })
	d.Media = bucket
	for _, o := range opts {
		o(&d)
	}
	if d.Tracing.On() {
		// As stack.DialTemporal does: the API's and the worker's client
		// carry tracing's interceptor.
		i, err := d.Tracing.Interceptor()
		if err != nil {
			t.Fatal(err)
		}
		traced, err := client.NewClientFromExisting(tc.Client, client.Options{
			Namespace: tc.Namespace, DataConverter: testenv.DataConverter(), Interceptors: []interceptor.ClientInterceptor{i},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(traced.Close)
		d.Temporal = traced
	}
	fin := finance.New(pool, d.Temporal)
	w := worker.New(d.Temporal, tc.TaskQueue, worker.Options{})
	workflows.Register(w)
	workflows.RegisterFinance(w)
	workflows.RegisterPriceTrends(w)
	workflows.RegisterVerification(w)
	workflows.RegisterDeposits(w)
	workflows.RegisterGold(w)
	rm := readmodel.New(pool)
	projections := &heldProjection{Projection: rm}
	mediators := &choosableMediators{Mediators: rm}
	w.RegisterActivity(&activities.Activities{Payments: provider, Ledger: ledger.New(pool), Projection: projections, Tracker: mem, Notifier: mem,
		Alerts: fin, Escrows: fin, Logger: slog.New(slog.DiscardHandler), PaymentIndex: rm, Mediators: mediators,
		PriceIndex: pricetrend.New(pool).Snapshot, Coupons: referral.New(pool, referral.Config{}), Verifications: verification.New(pool, nil),
		Deposits: deposits.New(pool), Gold: gold.New(pool, gold.Terms{})})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	h := NewHandlers(d)
	srv := httptest.NewServer(h.API)
	t.Cleanup(srv.Close)
	metricsSrv := httptest.NewServer(h.Metrics)
	t.Cleanup(metricsSrv.Close)
	// The API's background work, stopped before the server closes (which
	// waits for open notification streams).
	bg, stopBG := context.WithCancel(context.Background())
	bgDone := h.Start(bg)
	stopBackground := func() {
		stopBG()
		<-bgDone
	}
	t.Cleanup(stopBackground)

	p := &platform{t: t, url: srv.URL, metricsURL: metricsSrv.URL, pool: pool, tc: tc, mem: mem, provider: provider, projections: projections, mediators: mediators, worker: w, keys: map[string]string{}, orgs: map[string]uuid.UUID{}, users: map[string]uuid.UUID{},
		stopBackground: stopBackground, media: bucket}
	for _, u := range []struct{ who, role, tier string }{
		{"buyer", "buyer", ""}, {"buyer2", "buyer", ""}, {"supplier", "supplier", "gold"}, {"supplier2", "supplier", ""}, {"supplier3", "supplier", ""},
		{"mediator", "mediator", ""}, {"finance", "finance", ""}, {"admin", "admin", ""},
	} {
		p.addUser(u.who, u.role, u.tier)
	}

	resp, err := http.Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load /openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("/openapi.json is not a valid OpenAPI document: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: srv.URL}}
	if p.router, err = legacy.NewRouter(doc); err != nil {
		t.Fatal(err)
	}
	return p
}

// addUser makes who (its e-mail who@example.com) a user with role in an
// organization of its own (a supplier of tier, when tier is given), with
// an API key.
func (p *platform) addUser(who, role, tier string) {
	p.t.Helper()
	ctx := context.Background()
	q := store.New(p.pool)
	org, err := q.CreateOrganization(ctx, who+" org")
	if err != nil {
		p.t.Fatal(err)
	}
	user, err := q.CreateUser(ctx, store.CreateUserParams{OrgID: org.ID, Email: who + "@example.com", Name: who, Role: store.UserRole(role)})
	if err != nil {
		p.t.Fatal(err)
	}
	if tier != "" {
		if err := q.UpsertSupplierProfile(ctx, store.UpsertSupplierProfileParams{OrgID: org.ID, Categories: []string{}, Regions: []string{}, Tier: tier}); err != nil {
			p.t.Fatal(err)
		}
	}
	key, _ := apikey.New()
	if _, err := q.CreateAPIKey(ctx, store.CreateAPIKeyParams{UserID: user.ID, Prefix: key.Prefix, SecretHash: key.Hash[:]}); err != nil {
		p.t.Fatal(err)
	}
	p.keys[who], p.orgs[who], p.users[who] = key.Plain, org.ID, user.ID
}

type response struct {
	status int
	body   []byte
	header http.Header
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) errCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Code
}

func (r response) errMessage() string {
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Message
}

// do sends a request as who ("" for no key) and validates the response.
func (p *platform) do(who, method, path string, body any, headers ...string) response {
	p.t.Helper()
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if who != "" {
		req.Header.Set("Authorization", "Bearer "+p.keys[who])
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out []byte
	if resp.Header.Get("Content-Type") == "text/event-stream" {
		// A live stream does not end: its first event is its body here.
		out, _ = bufio.NewReader(resp.Body).ReadBytes('\n')
	} else {
		out, _ = io.ReadAll(resp.Body)
	}
	r := response{status: resp.StatusCode, body: out, header: resp.Header}
	p.validate(req, r)
	return r
}

// validate checks a response against the OpenAPI document: its status,
// content type and body schema, and the error shape for every error.
func (p *platform) validate(req *http.Request, r response) {
	p.t.Helper()
	if r.status >= 400 && r.errCode() == "" {
		p.t.Errorf("%s %s: %d without the error shape: %s", req.Method, req.URL.Path, r.status, r.body)
	}
	route, params, err := p.router.FindRoute(req)
	if err != nil {
		if r.status != http.StatusNotFound {
			p.t.Errorf("%s %s is not in /openapi.json: %v", req.Method, req.URL.Path, err)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: r.status, Header: r.header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(r.body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		p.t.Errorf("%s %s → %d does not match /openapi.json: %v\n%.300s", req.Method, req.URL.Path, r.status, err, r.body)
	}
}

func (p *platform) must(status int, r response) response {
	p.t.Helper()
	if r.status != status {
		p.t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (p *platform) deal(who, id string) workflows.DealState {
	p.t.Helper()
	var st workflows.DealState
	p.must(http.StatusOK, p.do(who, "GET", "/v1/deals/"+id, nil)).json(p.t, &st)
	return st
}

func (p *platform) waitFor(who, id string, ok func(workflows.DealState) bool) workflows.DealState {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := p.deal(who, id)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("deal %s never got there; stage %s", id, st.Stage)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// newDeal sends an inquiry as the buyer to the given suppliers, and waits
// for the deal's first projection: reads from then on come from the read
// model (a create answers from its input, with times finer than
// PostgreSQL keeps them).
func (p *platform) newDeal(sample bool, suppliers ...string) string {
	p.t.Helper()
	var ids []string
	for _, s := range suppliers {
		ids = append(ids, p.orgs[s].String())
	}
	var st workflows.DealState
	p.must(http.StatusCreated, p.do("buyer", "POST", "/v1/deals", map[string]any{
		"product": "cotton t-shirts", "quantity": 2000, "unit": "pcs", "currency": "USD", "destination": "Hamburg",
		"wants_sample": sample, "suppliers": ids,
	})).json(p.t, &st)
	p.projected(st.DealID)
	return st.DealID
}

func quoteBody() map[string]any {
	return map[string]any{
		"tiers":          []map[string]any{{"min_quantity": 100, "unit_price": 450}, {"min_quantity": 1000, "unit_price": 390}},
		"moq":            100,
		"lead_time_days": 21, "valid_till": time.Now().Add(48 * time.Hour).Format(time.RFC3339), "sample_price": 2500,
	}
}

// projected waits until the deal's first projection is in the read model
// (a create answers before it).
func (p *platform) projected(id string) {
	p.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := p.pool.QueryRow(context.Background(), "SELECT count(*) FROM deals WHERE id = $1", id).Scan(&n); err != nil {
			p.t.Fatal(err)
		}
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("deal %s never reached the read model", id)
		}
	}
}

func (p *platform) path(id, rest string) string { return fmt.Sprintf("/v1/deals/%s%s", id, rest) }

// heldProjection is the worker's read model, whose writes a test can hold
// (hold) to see what the API answers while the workflow's bookkeeping has
// not reached the read model.
type heldProjection struct {
	activities.Projection
	mu   sync.Mutex
	gate chan struct{} // closed to let held writes through; nil: not held
	// tried has a value for every write that found the gate shut.
	tried chan struct{}
}

// hold shuts the gate until release is called (once or more).
func (h *heldProjection) hold() (release func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	gate := make(chan struct{})
	h.gate, h.tried = gate, make(chan struct{}, 100)
	return sync.OnceFunc(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		close(gate)
		h.gate = nil
	})
}

func (h *heldProjection) wait(ctx context.Context) error {
	h.mu.Lock()
	gate, tried := h.gate, h.tried
	h.mu.Unlock()
	if gate == nil {
		return nil
	}
	select {
	case tried <- struct{}{}:
	default:
	}
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *heldProjection) Project(ctx context.Context, dp activities.DealProjection) error {
	if err := h.wait(ctx); err != nil {
		return err
	}
	return h.Projection.Project(ctx, dp)
}

func (h *heldProjection) WriteBooks(ctx context.Context, b activities.Books) error {
	if err := h.wait(ctx); err != nil {
		return err
	}
	return h.Projection.WriteBooks(ctx, b)
}

// choosableMediators is the read model's choice of mediators, or none
// while none is set (a platform whose mediators came later).
type choosableMediators struct {
	activities.Mediators
	none atomic.Bool
}

func (c *choosableMediators) LeastBusyMediator(ctx context.Context) (string, error) {
	if c.none.Load() {
		return "", nil
	}
	return c.Mediators.LeastBusyMediator(ctx)
}
