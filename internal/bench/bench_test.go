package bench

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/dealclient"
)

func ms(v ...int) []time.Duration {
	out := make([]time.Duration, len(v))
	for i, n := range v {
		out[i] = time.Duration(n) * time.Millisecond
	}
	return out
}

func TestPercentileIsNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	cases := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(7), 50, 7 * time.Millisecond},
		{ms(7), 99, 7 * time.Millisecond},
		{ms(1, 2), 50, time.Millisecond},
		{ms(1, 2), 51, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 75, 3 * time.Millisecond},
		{ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{hundred, 50, 50 * time.Millisecond},
		{hundred, 95, 95 * time.Millisecond},
		{hundred, 99, 99 * time.Millisecond},
		{hundred, 99.5, 100 * time.Millisecond},
		{hundred, 0.1, time.Millisecond},
	}
	for _, c := range cases {
		if got := Percentile(c.sorted, c.p); got != c.want {
			t.Errorf("p%v of %d samples = %s, want %s", c.p, len(c.sorted), got, c.want)
		}
	}
}

func TestSummariseSortsAndRoundsToHundredthsOfAMillisecond(t *testing.T) {
	got := summarise([]time.Duration{3 * time.Millisecond, 1234567 * time.Nanosecond, 2 * time.Millisecond})
	want := Latency{P50: 2, P95: 3, P99: 3, Max: 3}
	if got != want {
		t.Fatalf("%+v, want %+v", got, want)
	}
	if got := summarise([]time.Duration{1234567 * time.Nanosecond}); got.P50 != 1.23 {
		t.Fatalf("p50 %v, want 1.23", got.P50)
	}
}

func TestRecorderCountsErrorsAndOrdersEndpointsAsADeal(t *testing.T) {
	r := newRecorder()
	r.observe("GET /v1/deals/:id", 200, time.Millisecond)
	r.observe("POST /v1/deals", 201, 10*time.Millisecond)
	r.observe("POST /v1/deals", 429, time.Millisecond)
	r.observe("POST /v1/deals", 0, time.Second)
	r.observe("POST /v1/other", 500, time.Millisecond)
	got := r.endpointStats()
	var names []string
	for _, e := range got {
		names = append(names, e.Endpoint)
	}
	if want := []string{"POST /v1/deals", "GET /v1/deals/:id", "POST /v1/other"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("order %v, want %v", names, want)
	}
	if got[0].Requests != 3 || got[0].Errors != 2 || got[2].Errors != 1 || got[1].Errors != 0 {
		t.Fatalf("counts %+v", got)
	}
	r.deal("happy", time.Second, nil)
	r.deal("happy", time.Second, errTest)
	if done, failed := r.progress(); done != 1 || failed != 1 || r.failures[0] != "test" {
		t.Fatalf("done %d failed %d %v", done, failed, r.failures)
	}
}

var errTest = testError("test")

type testError string

func (e testError) Error() string { return string(e) }

func TestMix(t *testing.T) {
	m, err := ParseMix("happy=6, sample=2,dispute=2")
	if err != nil || !reflect.DeepEqual(m, DefaultMix) || m.String() != "happy=6,sample=2,dispute=2" {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"", "happy", "happy=x", "happy=-1", "refund=1", "happy=0,sample=0"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	seq := DefaultMix.Sequence(10)
	count := map[dealclient.Kind]int{}
	for _, k := range seq {
		count[k]++
	}
	if count[dealclient.Happy] != 6 || count[dealclient.Sample] != 2 || count[dealclient.Dispute] != 2 {
		t.Fatalf("sequence %v", seq)
	}
	// Interleaved: no run of more than two happy deals in a row.
	if strings.Contains(strings.Join(kindsOf(seq), " "), "happy happy happy") {
		t.Fatalf("not interleaved: %v", seq)
	}
	if only := (Mix{dealclient.Dispute: 1}).Sequence(3); !reflect.DeepEqual(only, []dealclient.Kind{"dispute", "dispute", "dispute"}) {
		t.Fatalf("%v", only)
	}
}

func kindsOf(seq []dealclient.Kind) []string {
	out := make([]string, len(seq))
	for i, k := range seq {
		out[i] = string(k)
	}
	return out
}

func sampleReport() *Report {
	phase := func(perSecond, cpu float64) Phase {
		return Phase{
			Deals: 10, Seconds: 5, DealsPerSecond: perSecond,
			DealSeconds: map[string]Latency{"all": {P50: 2, P95: 3, P99: 4, Max: 4}},
			Endpoints:   []EndpointStats{{Endpoint: "POST /v1/deals", Requests: 10, Latency: Latency{P50: 20, P95: 30, P99: 40, Max: 41}}},
			Worker:      &Usage{CPUSeconds: cpu, CPUCores: cpu / 5, CPUPerDealMs: cpu * 100, RSSMB: 100, PeakRSSMB: 120},
			Stack:       &Usage{CPUSeconds: 1, CPUPerDealMs: 100},
		}
	}
	deal, base := phase(2, 1.5), phase(4, 0.5)
	base.Endpoints[0].P50 = 10
	return &Report{
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Machine: Machine{CPUs: 2, Go: "go1.26"},
		Settings:   Settings{Stack: "own", OwnStack: true, Duration: "1m0s", Concurrency: 20, Mix: "happy=1"},
		RoundTrips: map[string]KindRoundTrips{"happy": {Deal: RoundTrips{Updates: 10, Activities: 31}, Baseline: RoundTrips{Updates: 10, Activities: 31}}},
		Deal:       deal, Baseline: &base, Ratio: ratio(deal, base),
	}
}

func TestRatioAndReportJSON(t *testing.T) {
	rep := sampleReport()
	r := rep.Ratio
	if r.WorkerCPUPerDeal != 3 || r.Throughput != 0.5 || r.DealSecondsP50 != 1 || r.Endpoints["POST /v1/deals"] != 2 || r.StackCPUPerDeal != 1 {
		t.Fatalf("ratio %+v", r)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, rep) {
		t.Fatalf("JSON round trip changed the report:\n%+v\n%+v", back, *rep)
	}
	var fields map[string]any
	_ = json.Unmarshal(b, &fields)
	for _, k := range []string{"machine", "settings", "round_trips", "deal", "baseline", "ratio"} {
		if _, ok := fields[k]; !ok {
			t.Errorf("no %q in the JSON report", k)
		}
	}
	if !strings.Contains(string(b), `"deals_per_second":2`) || !strings.Contains(string(b), `"p99_ms":40`) || !strings.Contains(string(b), `"worker_cpu_per_deal":3`) {
		t.Errorf("JSON report lacks its figures: %s", b)
	}
}

func TestPrintShowsTheTableAndTheRatio(t *testing.T) {
	var out bytes.Buffer
	sampleReport().Print(&out)
	for _, want := range []string{"POST /v1/deals", "deals/s", "3.00×", "A deal costs 3.00× the baseline's worker CPU", "worker RSS", "all CPU per deal", "API + Temporal + load"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
	rep := sampleReport()
	rep.Baseline, rep.Ratio, rep.Deal.Worker = nil, nil, nil
	out.Reset()
	rep.Print(&out) // without a baseline or a measured worker: no panic, no ratio
	if strings.Contains(out.String(), "baseline") || strings.Contains(out.String(), "A deal costs") || !strings.Contains(out.String(), "n/a") {
		t.Errorf("report without baseline:\n%s", out.String())
	}
}
