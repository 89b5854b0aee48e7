package bench

import (
	"math"
	"slices"
	"sort"
	"sync"
	"time"
)

// Percentile is the nearest-rank percentile p (0 < p ≤ 100) of sorted
// samples: the smallest sample that p % of all samples are at most. It is 0
// for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// Latency summarises samples in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarise(samples []time.Duration) Latency {
	s := slices.Clone(samples)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }
	l := Latency{P50: ms(Percentile(s, 50)), P95: ms(Percentile(s, 95)), P99: ms(Percentile(s, 99))}
	if len(s) > 0 {
		l.Max = ms(s[len(s)-1])
	}
	return l
}

// EndpointStats is one endpoint's requests in a phase. Every attempt
// counts, retries included; an error is an attempt without an answer or
// with a 4xx/5xx status (a 429 the client then retried is one).
type EndpointStats struct {
	Endpoint string `json:"endpoint"`
	Requests int    `json:"requests"`
	Errors   int    `json:"errors"`
	Latency
}

// recorder collects the requests of one phase.
type recorder struct {
	mu        sync.Mutex
	endpoints map[string]*endpointSamples
	deals     map[string][]time.Duration // by kind
	failed    int
	failures  []string
}

type endpointSamples struct {
	samples []time.Duration
	errors  int
}

func newRecorder() *recorder {
	return &recorder{endpoints: map[string]*endpointSamples{}, deals: map[string][]time.Duration{}}
}

func (r *recorder) observe(endpoint string, status int, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.endpoints[endpoint]
	if e == nil {
		e = &endpointSamples{}
		r.endpoints[endpoint] = e
	}
	e.samples = append(e.samples, took)
	if status == 0 || status >= 400 {
		e.errors++
	}
}

func (r *recorder) deal(kind string, took time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failed++
		if len(r.failures) < 10 {
			r.failures = append(r.failures, err.Error())
		}
		return
	}
	r.deals[kind] = append(r.deals[kind], took)
}

// progress is the number of deals done and failed so far.
func (r *recorder) progress() (done, failed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, d := range r.deals {
		done += len(d)
	}
	return done, r.failed
}

// endpointStats lists the endpoints in the order a deal calls them (the
// order of endpointOrder), then any other.
func (r *recorder) endpointStats() []EndpointStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]EndpointStats, 0, len(r.endpoints))
	for name, e := range r.endpoints {
		out = append(out, EndpointStats{Endpoint: name, Requests: len(e.samples), Errors: e.errors, Latency: summarise(e.samples)})
	}
	sort.Slice(out, func(i, j int) bool {
		oi, oj := endpointRank(out[i].Endpoint), endpointRank(out[j].Endpoint)
		if oi != oj {
			return oi < oj
		}
		return out[i].Endpoint < out[j].Endpoint
	})
	return out
}

// endpointOrder is the order of a deal's requests, for the report.
var endpointOrder = []string{
	"POST /v1/deals",
	"POST /v1/deals/:id/quotes",
	"POST /v1/deals/:id/quotes/:qid/accept",
	"POST /v1/deals/:id/payments/sample",
	"POST /v1/deals/:id/sample/ship",
	"POST /v1/deals/:id/sample/approve",
	"POST /v1/deals/:id/contract/sign",
	"POST /v1/deals/:id/payments/deposit",
	"POST /v1/deals/:id/production",
	"POST /v1/deals/:id/ready",
	"POST /v1/deals/:id/payments/balance",
	"POST /v1/deals/:id/shipment",
	"POST /v1/deals/:id/accept",
	"POST /v1/deals/:id/dispute",
	"POST /v1/deals/:id/dispute/answer",
	"POST /v1/deals/:id/dispute/escalate",
	"POST /v1/deals/:id/dispute/decision",
	"GET /v1/deals/:id",
}

func endpointRank(name string) int {
	if i := slices.Index(endpointOrder, name); i >= 0 {
		return i
	}
	return len(endpointOrder)
}
