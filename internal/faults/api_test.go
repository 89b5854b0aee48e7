package faults

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/dealclient"
	"github.com/tradeloop/tradeloop/internal/freeport"
	"github.com/tradeloop/tradeloop/workflows"
)

// lossyProxy stands between the clients and the API process: it loses the
// answer to some POSTs after the API has given it (as a timeout or a
// dropped connection would), and drops the client's connection when the
// API cannot be reached. Either way the client retries its request with
// the same Idempotency-Key. It counts the POSTs it forwards; a fault the
// schedule has due at a count runs the moment that POST has been sent to
// the API, while the API serves it.
type lossyProxy struct {
	upstream string
	loss     float64
	lost     atomic.Int32
	client   *http.Client
	posts    atomic.Int64
	faults   *schedule
}

func (lp *lossyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ctx := r.Context()
	var due []func()
	if r.Method == http.MethodPost && lp.faults != nil {
		due = lp.faults.due(lp.posts.Add(1))
	}
	sent := make(chan struct{})
	if len(due) > 0 {
		var once sync.Once
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(func() { close(sent) }) },
		})
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, lp.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		hangUp(w)
		return
	}
	req.Header = r.Header.Clone()
	var resp *http.Response
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		resp, err = lp.client.Do(req)
	}()
	if len(due) > 0 {
		// Mid-request: the API has the request (or could not be reached).
		select {
		case <-sent:
		case <-answered:
		}
		for _, run := range due {
			run()
		}
	}
	<-answered
	if err != nil {
		hangUp(w)
		return
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		hangUp(w)
		return
	}
	if r.Method == http.MethodPost && rand.Float64() < lp.loss {
		lp.lost.Add(1)
		hangUp(w)
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// hangUp closes the client's connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Twenty deals run at once through an API process that is killed (SIGKILL)
// twice mid-request and restarted once the way a deploy does (SIGTERM: it
// drains what it serves), behind a network that loses one answer to a POST
// in eight. Clients retry every request with its Idempotency-Key. Every
// deal must complete, and every request must have had one effect: one
// deal per inquiry, each party action once in its deal's timeline.
func apiRestartedMidRequests(t *testing.T) {
	ctx := testContext(t)
	p := newPlatform(t, ctx, setup{noAPI: true})
	port, err := freeport.Get()
	if err != nil {
		t.Fatal(err)
	}
	api := p.process("api", "HTTP_ADDR=127.0.0.1:"+strconv.Itoa(port))
	if err := api.Start(); err != nil {
		t.Fatal(err)
	}
	c := &crasher{t: t, proc: api}
	defer c.report()
	// The faults come at random POSTs among the first 140 the clients
	// send (the twenty deals send 244 and more): a kill, a deploy's
	// restart, a kill. The client of that POST waits for its answer, so
	// the deals cannot end before the faults.
	var faults schedule
	kill := func() { c.crash("mid-request", 200*time.Millisecond) }
	restart := func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		_ = api.Stop(10 * time.Second)
		c.log = append(c.log, "stopped the api (SIGTERM, drained), restarted")
		if err := api.Start(); err != nil {
			t.Errorf("restart api: %v", err)
		}
	}
	at := int64(10 + rand.N(30))
	for _, f := range []func(){kill, restart, kill} {
		faults.add(at, f)
		at += 20 + rand.N(int64(30))
	}
	proxy := &lossyProxy{upstream: "http://127.0.0.1:" + strconv.Itoa(port), loss: 0.125, client: &http.Client{}, faults: &faults}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	p.apiURL, p.client.BaseURL = front.URL, front.URL
	parties := p.parties(20)

	kinds := mix(20)
	began := time.Now()
	results := p.runDeals(kinds, parties)
	t.Logf("20 deals ended in %s; %d API kills, %d answers lost on the way", time.Since(began).Truncate(time.Second), c.kills.Load(), proxy.lost.Load())
	faults.check(t)
	deals := p.final(results)

	// One deal per inquiry: each buyer sent one.
	for _, pt := range parties {
		var n int
		if err := p.pool.QueryRow(ctx, "SELECT count(*) FROM deals WHERE buyer_org_id = $1", pt.Buyer.OrgID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("buyer %s has %d deals, sent one inquiry", pt.Buyer.OrgID, n)
		}
	}
	// Each action once, by its party.
	for i, r := range results {
		if r.DealID == "" {
			continue // did not complete: already an error
		}
		st := deals[r.DealID]
		want := map[string]int{
			"quote_submitted|" + parties[i].Supplier.OrgID: 1, "quote_accepted|" + parties[i].Buyer.OrgID: 1,
			"contract_signed|" + parties[i].Buyer.OrgID: 1, "contract_signed|" + parties[i].Supplier.OrgID: 1,
			"production_progress|" + parties[i].Supplier.OrgID: 1, "ready_to_ship|" + parties[i].Supplier.OrgID: 1,
			"goods_shipped|" + parties[i].Supplier.OrgID: 1, "payment_started|" + parties[i].Buyer.OrgID: 2,
			"quote_revised|" + parties[i].Supplier.OrgID: 0,
		}
		switch r.Kind {
		case dealclient.Sample:
			want["sample_shipped|"+parties[i].Supplier.OrgID] = 1
			want["sample_approved|"+parties[i].Buyer.OrgID] = 1
			want["payment_started|"+parties[i].Buyer.OrgID] = 3
			want["goods_accepted|"+parties[i].Buyer.OrgID] = 1
		case dealclient.Dispute:
			want["dispute_opened|"+parties[i].Buyer.OrgID] = 1
			want["dispute_answered|"+parties[i].Supplier.OrgID] = 1
			want["dispute_escalated|"+parties[i].Buyer.OrgID] = 1
			want["mediator_decision|"] = 1
		default:
			want["goods_accepted|"+parties[i].Buyer.OrgID] = 1
		}
		got := map[string]int{}
		for _, e := range st.Timeline {
			got[string(e.Type)+"|"+e.Actor]++
		}
		for k, n := range want {
			if got[k] != n {
				event, _, _ := strings.Cut(k, "|")
				t.Errorf("deal %s (%s): %d %s events, want %d", r.DealID, r.Kind, got[k], event, n)
			}
		}
		if len(charges(t, st)) != want["payment_started|"+parties[i].Buyer.OrgID] {
			t.Errorf("deal %s: %d charges", r.DealID, len(charges(t, st)))
		}
		if st.Stage != workflows.StageCompleted && st.Stage != workflows.StageResolved {
			t.Errorf("deal %s ended %s", r.DealID, st.Stage)
		}
	}
	p.checkLedger(deals)
	p.answers.mu.Lock()
	replayed := p.answers.replayed
	p.answers.mu.Unlock()
	if proxy.lost.Load() == 0 || replayed == 0 {
		t.Errorf("%d answers lost, %d replayed: the retries were not exercised", proxy.lost.Load(), replayed)
	}
	if c.kills.Load() != 2 {
		t.Errorf("the API was killed %d times, want 2", c.kills.Load())
	}
}
