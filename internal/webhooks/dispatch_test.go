package webhooks

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// receiver is an endpoint that verifies every delivery with its secret
// and keeps what it answered 2xx, by event ID.
type receiver struct {
	t      *testing.T
	secret string
	now    func() time.Time
	mu     sync.Mutex
	status int                // what it answers (default 200)
	hold   chan chan struct{} // when set, each request waits for a release
	// gone names a dispatcher (testDispatcherHeader) that was stopped:
	// its requests the server only gets to now are not answered (its
	// client left before they were read).
	gone   string
	got    map[string]int // event ID → deliveries answered 2xx
	gaps   []time.Time    // the time of every attempt
	events map[string]Event
	heads  http.Header
}

// testDispatcherHeader names the dispatcher a request comes from, for a
// receiver that must tell a stopped dispatcher's late requests apart.
const testDispatcherHeader = "X-Test-Dispatcher"

// naming has a dispatcher's client name its requests (testDispatcherHeader).
type naming struct {
	name string
	next http.RoundTripper
}

func (n naming) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set(testDispatcherHeader, n.name)
	return n.next.RoundTrip(req)
}

func newReceiver(t *testing.T, secret string, now func() time.Time) (*receiver, *httptest.Server) {
	r := &receiver{t: t, secret: secret, now: now, got: map[string]int{}, events: map[string]Event{}}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := Verify(r.secret, req.Header.Get(SignatureHeader), body, 0, r.now()); err != nil {
		r.t.Errorf("a delivery that does not verify: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID != req.Header.Get(EventHeader) {
		r.t.Errorf("event %s under header %s (%v)", ev.ID, req.Header.Get(EventHeader), err)
	}
	r.mu.Lock()
	hold, status, gone := r.hold, r.status, r.gone
	r.gaps = append(r.gaps, r.now())
	r.mu.Unlock()
	if gone != "" && req.Header.Get(testDispatcherHeader) == gone {
		return
	}
	if hold != nil {
		release := make(chan struct{})
		select {
		case hold <- release:
		case <-req.Context().Done():
			return
		}
		select {
		case <-release:
		case <-req.Context().Done():
			return // the dispatcher went away: nothing was answered
		}
	}
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"received":true}`))
	if status/100 == 2 {
		r.mu.Lock()
		r.got[ev.ID]++
		r.events[ev.ID] = ev
		r.heads = req.Header.Clone()
		r.mu.Unlock()
	}
}

type fixture struct {
	pool  *pgxpool.Pool
	q     *store.Queries
	svc   *Service
	org   uuid.UUID
	clock *clock
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func setUp(t *testing.T) *fixture {
	t.Helper()
	pool := testenv.Postgres(t)
	q := store.New(pool)
	org, err := q.CreateOrganization(context.Background(), "Buyer")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Now().UTC().Truncate(time.Second)}
	svc := New(pool, true)
	svc.now = c.Now
	return &fixture{pool: pool, q: q, svc: svc, org: org.ID, clock: c}
}

// notify queues n notifications for org and has the outbox put them
// (what the notification dispatcher does).
func (f *fixture) notify(t *testing.T, org string, deal string, n int) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	for i := range n {
		key := fmt.Sprintf("%s/notify/%d", deal, i+1)
		if err := f.q.InsertNotification(ctx, store.InsertNotificationParams{Key: key, DealID: deal, OrgID: org, Kind: "quote_submitted", Text: fmt.Sprintf("Quote %d", i+1)}); err != nil {
			t.Fatal(err)
		}
		// Twice: a notification tried again adds no delivery.
		for range 2 {
			if err := Put(ctx, f.q, key, f.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		keys = append(keys, key)
	}
	return keys
}

func (f *fixture) endpoint(t *testing.T, org uuid.UUID, url string) (Endpoint, string) {
	t.Helper()
	e, secret, err := f.svc.Create(context.Background(), org, url, "ERP")
	if err != nil {
		t.Fatal(err)
	}
	return e, secret
}

// dispatcher is the fixture's dispatcher. Its attempts wait for an answer
// as long as a test holds it back (an endpoint's answer held on a busy
// machine, then given after the dispatcher gave up, would count as a
// delivery the dispatcher did not see); the fake clock's lease still
// bounds them.
func (f *fixture) dispatcher() *Dispatcher {
	return &Dispatcher{Pool: f.pool, Client: ClientWithin(true, 10*time.Minute), AttemptTimeout: 10 * time.Minute, Now: f.clock.Now, Batch: 20, Parallel: 4}
}

// drainDue runs the dispatcher until nothing is due now.
func drainDue(t *testing.T, d *Dispatcher) {
	t.Helper()
	for {
		n, err := d.DeliverDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// Every notification to an organization reaches each of its endpoints
// once, signed, with its event ID the same at both; another
// organization's endpoint and a disabled one get nothing; notifications
// for the mediation desk or the platform go to no endpoint.
func TestEachNotificationReachesEachEndpointOnceSigned(t *testing.T) {
	f := setUp(t)
	ctx := context.Background()
	other, err := f.q.CreateOrganization(ctx, "Competitor")
	if err != nil {
		t.Fatal(err)
	}
	var recs []*receiver
	for range 2 {
		secret := ""
		r, srv := newReceiver(t, "", f.clock.Now)
		_, secret = f.endpoint(t, f.org, srv.URL+"/hooks")
		r.secret = secret
		recs = append(recs, r)
	}
	spy, spySrv := newReceiver(t, "", f.clock.Now)
	_, spy.secret = f.endpoint(t, other.ID, spySrv.URL)

	keys := f.notify(t, f.org.String(), "d1", 60)
	f.notify(t, "mediation", "d2", 3)
	f.notify(t, "platform", "d3", 3)
	drainDue(t, f.dispatcher())

	for i, r := range recs {
		if len(r.got) != len(keys) {
			t.Fatalf("endpoint %d got %d events, want %d", i, len(r.got), len(keys))
		}
		for _, k := range keys {
			if n := r.got[EventID(k)]; n != 1 {
				t.Errorf("endpoint %d got %s %d times", i, k, n)
			}
		}
	}
	ev := recs[0].events[EventID(keys[6])]
	if ev.Type != "quote_submitted" || ev.DealID != "d1" || ev.Text != "Quote 7" || ev.OrgID != f.org.String() || ev.Created.IsZero() {
		t.Errorf("event %+v", ev)
	}
	if h := recs[0].heads; h.Get(DeliveryHeader) == "" || h.Get(AttemptHeader) != "1" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	if len(spy.got) != 0 {
		t.Errorf("another organization's endpoint got %d events", len(spy.got))
	}
	// Nothing more is due: no delivery goes twice.
	drainDue(t, f.dispatcher())
	f.clock.advance(GiveUpAfter)
	drainDue(t, f.dispatcher())
	for i, r := range recs {
		for k, n := range r.got {
			if n != 1 {
				t.Errorf("endpoint %d got %s %d times", i, k, n)
			}
		}
	}
}

// An endpoint that answers 500 gets its delivery again with gaps that
// grow, every attempt in its log; after DisableAfter of failures it is
// disabled and its organization told; enabled again and replayed, the
// delivery goes out once more with its event ID unchanged.
func TestAFailingEndpointIsRetriedThenDisabledAndReplayed(t *testing.T) {
	f := setUp(t)
	ctx := context.Background()
	r, srv := newReceiver(t, "", f.clock.Now)
	e, secret := f.endpoint(t, f.org, srv.URL)
	r.secret = secret
	r.status = http.StatusInternalServerError
	keys := f.notify(t, f.org.String(), "d1", 1)
	d := f.dispatcher()
	start := f.clock.Now()
	for f.clock.Now().Sub(start) < DisableAfter+MaxGap {
		drainDue(t, d)
		f.clock.advance(30 * time.Second)
	}
	if len(r.gaps) < 15 {
		t.Fatalf("%d attempts over %v", len(r.gaps), DisableAfter)
	}
	for i := 2; i < len(r.gaps); i++ {
		g, prev := r.gaps[i].Sub(r.gaps[i-1]), r.gaps[i-1].Sub(r.gaps[i-2])
		if g < prev || g < Gap(int32(i))-30*time.Second || g > Gap(int32(i))+30*time.Second {
			t.Fatalf("gap before attempt %d is %v after %v (schedule %v)", i+1, g, prev, Gap(int32(i)))
		}
	}
	got, err := f.svc.Get(ctx, f.org, e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Enabled || got.DisabledAt == nil || got.DisabledWhy == "" {
		t.Fatalf("endpoint after %v of failures: %+v", DisableAfter, got)
	}
	notices, err := f.pool.Query(ctx, "SELECT org_id, text FROM notification_outbox WHERE kind = $1", NoticeKind)
	if err != nil {
		t.Fatal(err)
	}
	var told []string
	for notices.Next() {
		var org, text string
		if err := notices.Scan(&org, &text); err != nil {
			t.Fatal(err)
		}
		if org != f.org.String() {
			t.Errorf("notice to %s", org)
		}
		told = append(told, text)
	}
	if len(told) != 1 {
		t.Fatalf("%d notices of the endpoint disabled, want 1: %v", len(told), told)
	}
	page, err := f.svc.Deliveries(ctx, f.org, e.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Deliveries) != 1 || len(page.Deliveries[0].Attempts) != len(r.gaps) || page.Deliveries[0].EventID != EventID(keys[0]) {
		t.Fatalf("delivery log %+v, want one delivery with %d attempts", page, len(r.gaps))
	}
	last := page.Deliveries[0].Attempts[len(r.gaps)-1]
	if last.Status == nil || *last.Status != 500 || last.Error == "" {
		t.Errorf("last attempt %+v", last)
	}
	dl := page.Deliveries[0]
	if err := f.svc.Replay(ctx, f.org, e.ID, dl.ID); !errors.Is(err, ErrDisabled) {
		t.Fatalf("replay at a disabled endpoint: %v", err)
	}
	// Fixed and enabled again: the replay goes out at once.
	r.mu.Lock()
	r.status = http.StatusNoContent
	r.mu.Unlock()
	if _, err := f.svc.Enable(ctx, f.org, e.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Replay(ctx, f.org, e.ID, dl.ID); err != nil {
		t.Fatal(err)
	}
	drainDue(t, d)
	if r.got[EventID(keys[0])] != 1 {
		t.Fatalf("the replay reached the endpoint %d times", r.got[EventID(keys[0])])
	}
	page, _ = f.svc.Deliveries(ctx, f.org, e.ID, "", 10)
	if page.Deliveries[0].Status != "succeeded" || page.Deliveries[0].DeliveredAt == nil {
		t.Errorf("delivery after the replay %+v", page.Deliveries[0])
	}
	// Another organization cannot replay it, nor read the log.
	if err := f.svc.Replay(ctx, uuid.New(), e.ID, dl.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("a foreign replay: %v", err)
	}
	if _, err := f.svc.Deliveries(ctx, uuid.New(), e.ID, "", 10); !errors.Is(err, ErrNotFound) {
		t.Errorf("a foreign log: %v", err)
	}
}

// A dispatcher stopped while endpoints are answering leaves its
// deliveries to the next once their lease runs out: every notification is
// answered once at each endpoint, under its one event ID.
func TestADispatcherStoppedMidDeliveryLosesAndRepeatsNothing(t *testing.T) {
	f := setUp(t)
	r, srv := newReceiver(t, "", f.clock.Now)
	_, r.secret = f.endpoint(t, f.org, srv.URL)
	keys := f.notify(t, f.org.String(), "d1", 12)
	r.hold = make(chan chan struct{})
	killCtx, kill := context.WithCancel(context.Background())
	first := f.dispatcher()
	named := *first.Client
	named.Transport = naming{name: "first", next: first.Client.Transport}
	first.Client = &named
	done := make(chan error, 1)
	go func() {
		_, err := first.DeliverDue(killCtx)
		done <- err
	}()
	// Let three deliveries through and be recorded, then stop the
	// dispatcher while the next ones wait for their answer. (Stopped
	// between an answer and its record, a dispatcher sends that delivery
	// again, under its event ID: a receiver drops the repeat.)
	for range 3 {
		release := <-r.hold
		release <- struct{}{}
	}
	inFlight := false
	for succeeded := 0; succeeded < 3; {
		select {
		case <-r.hold: // the fourth is in flight, never released
			inFlight = true
		case <-time.After(10 * time.Millisecond):
		}
		if err := f.pool.QueryRow(context.Background(), "SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'").Scan(&succeeded); err != nil {
			t.Fatal(err)
		}
	}
	if !inFlight {
		<-r.hold
	}
	kill()
	if err := <-done; err != nil {
		t.Fatalf("the stopped dispatcher: %v", err)
	}
	// A request of the stopped dispatcher the server reads only now (its
	// client gone) is not answered: on a busy machine one could otherwise
	// be counted here as answered though the dispatcher never saw it.
	r.mu.Lock()
	r.hold, r.gone = nil, "first"
	r.mu.Unlock()

	second := f.dispatcher()
	drainDue(t, second)
	if len(r.got) == len(keys) {
		t.Fatal("deliveries taken by the stopped dispatcher went out again before their lease ended")
	}
	f.clock.advance(second.lease() + time.Second)
	drainDue(t, second)
	for _, k := range keys {
		if n := r.got[EventID(k)]; n != 1 {
			t.Errorf("%s answered %d times, want once", k, n)
		}
	}
}

// An endpoint at a private address is not posted to unless local
// endpoints are allowed, whatever its URL says (checked when dialling).
func TestPrivateAddressesAreNotDialled(t *testing.T) {
	hit := false
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit = true }))
	defer srv.Close()
	for _, url := range []string{srv.URL, "http://localhost:" + srv.URL[len("http://127.0.0.1:"):]} {
		req, _ := http.NewRequest(http.MethodPost, url, nil)
		_, err := Client(false).Do(req)
		if !errors.Is(err, ErrPrivateAddress) {
			t.Errorf("%s: %v, want ErrPrivateAddress", url, err)
		}
	}
	if hit {
		t.Fatal("the private endpoint was reached")
	}
}

// An organization has at most MaxEndpointsPerOrg endpoints, even when
// many are registered at once.
func TestAtMostTenEndpointsPerOrganization(t *testing.T) {
	f := setUp(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	made, refused := 0, 0
	for i := range 3 * MaxEndpointsPerOrg {
		wg.Go(func() {
			_, _, err := f.svc.Create(context.Background(), f.org, fmt.Sprintf("https://erp.example/%d", i), "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				made++
			case errors.Is(err, ErrTooMany):
				refused++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if made != MaxEndpointsPerOrg || refused != 2*MaxEndpointsPerOrg {
		t.Fatalf("%d made, %d refused", made, refused)
	}
}

// An endpoint's delivery log reads in pages, newest first, each delivery
// once; a cursor the log did not give is refused.
func TestTheDeliveryLogPagesInOrder(t *testing.T) {
	f := setUp(t)
	ctx := context.Background()
	e, _ := f.endpoint(t, f.org, "https://erp.example/hook")
	for i := range 25 {
		f.notify(t, f.org.String(), fmt.Sprintf("d%02d", i), 1)
		f.clock.advance(time.Second)
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := f.svc.Deliveries(ctx, f.org, e.ID, cursor, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Deliveries {
			seen = append(seen, d.DealID)
		}
		if page.Next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("the log does not end")
		}
		cursor = page.Next
	}
	if len(seen) != 25 || seen[0] != "d24" || seen[24] != "d00" {
		t.Fatalf("read %v", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("out of order at %d: %v", i, seen)
		}
	}
	for _, c := range []string{"x", "bm9wZQ", strings.Repeat("A", 300), base64.RawURLEncoding.EncodeToString([]byte("12|not-a-uuid")), base64.RawURLEncoding.EncodeToString([]byte("soon|" + uuid.NewString()))} {
		if _, err := f.svc.Deliveries(ctx, f.org, e.ID, c, 7); !errors.Is(err, ErrBadCursor) {
			t.Errorf("cursor %.20q: %v", c, err)
		}
	}
}

// A rolled secret signs from then on; for RollOverlap the old one signs
// too, so a receiver still on it takes the deliveries; after, only the
// new one does.
func TestARolledSecretOverlapsForADay(t *testing.T) {
	f := setUp(t)
	ctx := context.Background()
	oldRcv, oldSrv := newReceiver(t, "", f.clock.Now)
	e, oldSecret := f.endpoint(t, f.org, oldSrv.URL)
	oldRcv.secret = oldSecret
	_, newSecret, err := f.svc.Roll(ctx, f.org, e.ID)
	if err != nil || newSecret == oldSecret || !strings.HasPrefix(newSecret, "whsec_") {
		t.Fatalf("rolled %q (%v)", newSecret, err)
	}
	if _, _, err := f.svc.Roll(ctx, uuid.New(), e.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another organization rolled it: %v", err)
	}
	// A receiver still on the old secret takes a delivery within the day.
	keys := f.notify(t, f.org.String(), "d1", 1)
	drainDue(t, f.dispatcher())
	if oldRcv.got[EventID(keys[0])] != 1 {
		t.Fatalf("the receiver on the old secret got %v", oldRcv.got)
	}
	// A day later only the new secret signs: the old receiver refuses
	// (400), a receiver on the new one takes it.
	f.clock.advance(RollOverlap + time.Minute)
	var headers []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		headers = append(headers, r.Header.Get(SignatureHeader))
		if Verify(newSecret, r.Header.Get(SignatureHeader), body, 0, f.clock.Now()) != nil || Verify(oldSecret, r.Header.Get(SignatureHeader), body, 0, f.clock.Now()) == nil {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer srv.Close()
	if _, err := f.pool.Exec(ctx, "UPDATE webhook_endpoints SET url = $1 WHERE id = $2", srv.URL, e.ID); err != nil {
		t.Fatal(err)
	}
	f.notify(t, f.org.String(), "d2", 1)
	drainDue(t, f.dispatcher())
	page, err := f.svc.Deliveries(ctx, f.org, e.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if page.Deliveries[0].Status != "succeeded" || len(headers) != 1 || strings.Count(headers[0], "v1=") != 1 {
		t.Fatalf("after the overlap: %+v, headers %v", page.Deliveries[0], headers)
	}
}
