package api

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/tradeloop/tradeloop/internal/tracing"
	"github.com/tradeloop/tradeloop/workflows"
)

// spansOf waits until every named span of the trace of the request whose
// ID is requestID has ended, and returns them by name. It is bounded by
// the deal's progress: the books of an action finish within seconds.
func spansOf(t *testing.T, rec *tracetest.SpanRecorder, requestID string, names ...string) map[string]sdktrace.ReadOnlySpan {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got := map[string]sdktrace.ReadOnlySpan{}
		for _, s := range rec.Ended() {
			if attr(s, tracing.RequestIDKey) == requestID {
				got[s.Name()] = s
			}
		}
		missing := []string{}
		for _, n := range names {
			if _, ok := got[n]; !ok {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			return got
		}
		if time.Now().After(deadline) {
			have := []string{}
			for n := range got {
				have = append(have, n)
			}
			t.Fatalf("request %s: spans %v never ended; have %v", requestID, missing, have)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func attr(s sdktrace.ReadOnlySpan, k attribute.Key) string {
	for _, a := range s.Attributes() {
		if a.Key == k {
			return a.Value.String()
		}
	}
	return ""
}

// An action's trace goes from its HTTP request through Temporal's client
// into the deal's update, and to the write of the bookkeeping round the
// update hands back; every span carries the request's ID and the deal's.
func TestAnActionsTraceFollowsItIntoTheWorkflowAndItsBooks(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	p := newPlatform(t, func(d *Deps) { d.Tracing = tracing.Recording(rec) })

	r := p.must(http.StatusCreated, p.do("buyer", "POST", "/v1/deals", map[string]any{
		"product": "cotton t-shirts", "quantity": 2000, "unit": "pcs", "currency": "USD", "destination": "Hamburg",
		"suppliers": []string{p.orgs["supplier"].String()},
	}, "X-Request-Id", "trace-create-1"))
	var st workflows.DealState
	r.json(t, &st)
	id := st.DealID
	// RunWorkflow:Deal ends with the deal; what the deal does on its own
	// is under it. The API writes the deal's opening round of bookkeeping.
	created := spansOf(t, rec, "trace-create-1", "POST /v1/deals", "StartWorkflow:"+workflows.DealWorkflowName, "WriteBooks")
	for name, s := range created {
		if attr(s, tracing.DealIDKey) != id {
			t.Errorf("create's span %q has deal %q, want %s", name, attr(s, tracing.DealIDKey), id)
		}
	}

	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody(), "X-Request-Id", "trace-quote-1"))
	route := "POST /v1/deals/:id/quotes"
	spans := spansOf(t, rec, "trace-quote-1", route,
		"UpdateWorkflow:"+workflows.UpdateSubmitQuote, "ValidateUpdate:"+workflows.UpdateSubmitQuote, "HandleUpdate:"+workflows.UpdateSubmitQuote,
		"WriteBooks")
	root := spans[route]
	if got := attr(root, "http.response.status_code"); got != "200" {
		t.Errorf("request span status %s, want 200", got)
	}
	if got := attr(root, "http.route"); got != "/v1/deals/:id/quotes" {
		t.Errorf("request span route %q", got)
	}
	for name, s := range spans {
		if s.SpanContext().TraceID() != root.SpanContext().TraceID() {
			t.Errorf("span %q is in trace %s, not the request's %s", name, s.SpanContext().TraceID(), root.SpanContext().TraceID())
		}
		if attr(s, tracing.DealIDKey) != id {
			t.Errorf("span %q has deal %q, want %s", name, attr(s, tracing.DealIDKey), id)
		}
	}
	// The books were written by the request, after the update.
	if spans["WriteBooks"].Parent().SpanID() != root.SpanContext().SpanID() {
		t.Error("the bookkeeping round's span is not a child of the request's")
	}
	if spans["WriteBooks"].StartTime().Before(spans["UpdateWorkflow:"+workflows.UpdateSubmitQuote].EndTime()) {
		t.Error("the bookkeeping round was written before the update answered")
	}

	// A request that fails says so on its span.
	p.must(http.StatusNotFound, p.do("supplier", "GET", p.path("00000000-0000-0000-0000-000000000000", ""), nil, "X-Request-Id", "trace-missing-1"))
	missing := spansOf(t, rec, "trace-missing-1", "GET /v1/deals/:id")["GET /v1/deals/:id"]
	if got := attr(missing, "http.response.status_code"); got != "404" {
		t.Errorf("a 404's span says status %s", got)
	}
	// A deal ID that is not one is not carried.
	p.must(http.StatusNotFound, p.do("supplier", "GET", p.path(strings.Repeat("x", 2000), ""), nil, "X-Request-Id", "trace-garbage-1"))
	if got := attr(spansOf(t, rec, "trace-garbage-1", "GET /v1/deals/:id")["GET /v1/deals/:id"], tracing.DealIDKey); got != "" {
		t.Errorf("a request for deal %.20q… carries deal ID %.20q…", strings.Repeat("x", 2000), got)
	}
}

// A client's X-Request-Id is kept only if it is short and plain: it goes
// into logs, error bodies and trace headers. Anything else gets an ID of
// the API's own.
func TestUnfitRequestIDsAreReplaced(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	p := newPlatform(t, func(d *Deps) { d.Tracing = tracing.Recording(rec) })
	for name, sent := range map[string]string{
		"oversized":   strings.Repeat("r", 10_000),
		"65 chars":    strings.Repeat("r", 65),
		"spaces":      "a b",
		"markup":      "<script>",
		"non-ascii":   "请求-1",
		"percent":     "%00",
		"json":        `{"x":1}`,
		"fit, 64":     strings.Repeat("r", 64),
		"fit, dotted": "client-1.2:3_x",
	} {
		t.Run(name, func(t *testing.T) {
			r := p.do("buyer", "GET", "/v1/deals", nil, "X-Request-Id", sent)
			got := r.header.Get("X-Request-Id")
			fit := strings.HasPrefix(name, "fit")
			if fit && got != sent {
				t.Fatalf("a fit request ID %q came back as %q", sent, got)
			}
			if !fit && (got == sent || !fitRequestID.MatchString(got)) {
				t.Fatalf("request ID %.40q came back as %.40q: want one of the API's own", sent, got)
			}
			span := spansOf(t, rec, got, "GET /v1/deals")["GET /v1/deals"]
			if attr(span, tracing.RequestIDKey) != got {
				t.Fatalf("span's request ID %q, response's %q", attr(span, tracing.RequestIDKey), got)
			}
		})
	}
}
