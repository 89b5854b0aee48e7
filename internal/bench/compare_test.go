package bench

import (
	"strings"
	"testing"
)

// The comparison puts each figure of the two runs side by side with the
// ratio, and leaves out an endpoint only one of them has.
func TestPrintComparison(t *testing.T) {
	before := &Report{
		RoundTrips: map[string]KindRoundTrips{"happy": {Deal: RoundTrips{Activities: 35, WorkflowTasks: 45, HistoryEvents: 298}}},
		Deal: Phase{Deals: 50, DealsPerSecond: 0.64, DealSeconds: map[string]Latency{"all": {P50: 30}},
			Worker: &Usage{CPUPerDealMs: 252}, Stack: &Usage{CPUPerDealMs: 1300},
			Endpoints: []EndpointStats{{Endpoint: "GET /v1/deals/:id", Latency: Latency{P50: 45.5, P99: 430}}, {Endpoint: "GET /gone", Latency: Latency{P50: 1}}}},
	}
	after := &Report{
		RoundTrips: map[string]KindRoundTrips{"happy": {Deal: RoundTrips{Activities: 6, LocalActivities: 21, WorkflowTasks: 24, HistoryEvents: 173}}},
		Deal: Phase{Deals: 101, DealsPerSecond: 1.28, DealSeconds: map[string]Latency{"all": {P50: 12}},
			Worker: &Usage{CPUPerDealMs: 126}, Stack: &Usage{CPUPerDealMs: 650},
			Endpoints: []EndpointStats{{Endpoint: "GET /v1/deals/:id", Latency: Latency{P50: 2.5, P99: 14}}, {Endpoint: "POST /new", Latency: Latency{P50: 1}}}},
	}
	var b strings.Builder
	PrintComparison(&b, "3d8d30b", before, after)
	out := b.String()
	for _, want := range []string{"3d8d30b", "this build", "2.00×", "0.50×", "happy: activities", "35", "0.17×", "GET /v1/deals/:id p50, ms", "45.5", "2.5", "0.05×"} {
		if !strings.Contains(out, want) {
			t.Errorf("the comparison lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "/gone") || strings.Contains(out, "/new") {
		t.Errorf("an endpoint of one run only is compared:\n%s", out)
	}
	if !strings.Contains(out, "happy: local activities") || !strings.Contains(out, "21") {
		t.Errorf("local activities missing:\n%s", out)
	}
}
