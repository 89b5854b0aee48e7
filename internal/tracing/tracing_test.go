package tracing

import (
	"context"
	"net"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"

	"github.com/tradeloop/tradeloop/internal/config"
)

func TestOffWithoutAnEndpoint(t *testing.T) {
	tr, err := Start(context.Background(), config.Tracing{ServiceName: "x"}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if tr.On() {
		t.Fatal("tracing on with no OTLP endpoint")
	}
	i, err := tr.Interceptor()
	if err != nil || i != nil {
		t.Fatalf("interceptor %v, %v: want none when off", i, err)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// collector is an OTLP/gRPC trace receiver that keeps what it is sent.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu  sync.Mutex
	got []*collectortrace.ExportTraceServiceRequest
}

func (c *collector) Export(_ context.Context, r *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, r)
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func startCollector(t *testing.T) (*collector, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	c := &collector{}
	collectortrace.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return c, "http://" + ln.Addr().String()
}

// A span with a request's baggage reaches the collector with the service's
// name and the request and deal IDs, once the service shuts down (or its
// batch is due).
func TestSpansReachTheCollectorStampedWithTheRequestAndDeal(t *testing.T) {
	c, endpoint := startCollector(t)
	ctx := context.Background()
	tr, err := Start(ctx, config.Tracing{Endpoint: "http://127.0.0.1:1", TracesEndpoint: endpoint}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if !tr.On() {
		t.Fatal("tracing off with an endpoint")
	}
	rctx := WithDeal(WithRequest(ctx, "req-1"), "deal-7")
	_, parent := tr.Tracer().Start(rctx, "POST /v1/deals/:id/quotes")
	_, child := tr.Tracer().Start(rctx, "child")
	child.End()
	parent.End()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	spans := map[string]map[string]string{}
	service := ""
	for _, req := range c.got {
		for _, rs := range req.ResourceSpans {
			for _, a := range rs.Resource.Attributes {
				if a.Key == "service.name" {
					service = a.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					attrs := map[string]string{}
					for _, a := range s.Attributes {
						attrs[a.Key] = a.Value.GetStringValue()
					}
					spans[s.Name] = attrs
				}
			}
		}
	}
	if service != "tradeloop-api" {
		t.Errorf("service.name %q, want tradeloop-api", service)
	}
	for _, name := range []string{"POST /v1/deals/:id/quotes", "child"} {
		a, ok := spans[name]
		if !ok {
			t.Errorf("span %q not exported; got %v", name, spans)
			continue
		}
		if a[string(RequestIDKey)] != "req-1" || a[string(DealIDKey)] != "deal-7" {
			t.Errorf("span %q attributes %v: want request req-1 and deal deal-7", name, a)
		}
	}
}

// Baggage that is not ours, or values that cannot be baggage, stamp
// nothing and break nothing.
func TestStampIgnoresForeignBaggage(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tr := Recording(rec)
	ctx := withMember(context.Background(), "other", "x")
	ctx = WithRequest(ctx, "")
	_, s := tr.Tracer().Start(ctx, "s")
	s.End()
	ended := rec.Ended()
	if len(ended) != 1 {
		t.Fatalf("%d spans ended", len(ended))
	}
	for _, a := range ended[0].Attributes() {
		t.Errorf("unexpected attribute %v", a)
	}
}
