// Package tracing exports OpenTelemetry traces of the API and the worker over
// OTLP when an endpoint is configured, and does nothing otherwise.
//
// A trace follows an action from its HTTP request through the Temporal
// client, the deal workflow's update and the activities it schedules: the
// API opens the request's span (api's middleware), the Temporal SDK's
// OpenTelemetry interceptor (Interceptor) carries it in the headers of every
// call and opens the workflow's and activities' spans under it. The request
// ID and the deal ID travel beside it as baggage, and every span is stamped
// with them (Stamp).
package tracing

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"

	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/workflows"
)

// Attribute keys every span of a request carries.
const (
	RequestIDKey = attribute.Key("tradeloop.request_id")
	DealIDKey    = attribute.Key("tradeloop.deal_id")
)

// Baggage members that carry the attributes across Temporal calls.
const (
	requestMember = "tradeloop.request_id"
	dealMember    = "tradeloop.deal_id"
)

// Propagator is how a span and its baggage travel in HTTP and Temporal
// headers: W3C trace context and baggage.
var Propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// Tracing is a service's tracer provider, nil when tracing is off.
type Tracing struct {
	Provider trace.TracerProvider
	shutdown func(context.Context) error
}

// Off is tracing that records nothing.
var Off = Tracing{}

// On says whether spans are recorded.
func (t Tracing) On() bool { return t.Provider != nil }

// Shutdown exports the spans still buffered and stops the exporter.
func (t Tracing) Shutdown(ctx context.Context) error {
	if t.shutdown == nil {
		return nil
	}
	if err := t.shutdown(ctx); err != nil {
		return fmt.Errorf("flush traces: %w", err)
	}
	return nil
}

// Start exports the service's spans to the configured OTLP/gRPC endpoint in
// batches, or returns Off when no endpoint is configured. The exporter
// reads the rest of the standard OTEL_EXPORTER_OTLP_* variables (headers,
// certificates, timeout) itself; an http:// endpoint is reached without
// TLS. The sampler follows OTEL_TRACES_SAMPLER (default: every trace).
func Start(ctx context.Context, cfg config.Tracing, service string) (Tracing, error) {
	if !cfg.On() {
		return Off, nil
	}
	exporter, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(cfg.URL()))
	if err != nil {
		return Off, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	name := cfg.ServiceName
	if name == "" {
		name = "tradeloop-" + service
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(name)))
	if err != nil {
		return Off, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exporter),
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(Stamp{}),
	)
	return Tracing{Provider: tp, shutdown: tp.Shutdown}, nil
}

// Recording is tracing into the given span processor (a test's recorder),
// with the request and deal IDs stamped as in production.
func Recording(processor sdktrace.SpanProcessor) Tracing {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(Stamp{}), sdktrace.WithSpanProcessor(processor))
	return Tracing{Provider: tp, shutdown: tp.Shutdown}
}

// Tracer is the tracer of the platform's own spans; tracing must be on.
func (t Tracing) Tracer() trace.Tracer {
	return t.Provider.Tracer(TracerName)
}

// Interceptor is the Temporal client interceptor that traces starts,
// updates, signals, workflows and activities, or nil when tracing is off.
// Queries are not traced: reads are frequent and their own requests' spans
// say enough.
func (t Tracing) Interceptor() (interceptor.ClientInterceptor, error) {
	if !t.On() {
		return nil, nil
	}
	i, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:              t.Provider.Tracer("go.temporal.io/sdk"),
		TextMapPropagator:   Propagator,
		DisableQueryTracing: true,
		SpanContextKey:      workflows.TraceSpanKey,
	})
	if err != nil {
		return nil, fmt.Errorf("temporal tracing interceptor: %w", err)
	}
	return i, nil
}

// TracerName names the tracer of our own spans.
const TracerName = "github.com/tradeloop/tradeloop"

// WithRequest puts the request ID in ctx's baggage, for the spans of
// everything the request causes.
func WithRequest(ctx context.Context, requestID string) context.Context {
	return withMember(ctx, requestMember, requestID)
}

// WithDeal puts the deal ID in ctx's baggage and on the current span.
func WithDeal(ctx context.Context, dealID string) context.Context {
	trace.SpanFromContext(ctx).SetAttributes(DealIDKey.String(dealID))
	return withMember(ctx, dealMember, dealID)
}

func withMember(ctx context.Context, key, value string) context.Context {
	m, err := baggage.NewMemberRaw(key, value)
	if err != nil {
		return ctx
	}
	b, err := baggage.FromContext(ctx).SetMember(m)
	if err != nil {
		return ctx
	}
	return baggage.ContextWithBaggage(ctx, b)
}

// Stamp is the span processor that copies the request and deal IDs from
// the baggage of a span's parent context onto the span as it starts.
type Stamp struct{}

var _ sdktrace.SpanProcessor = Stamp{}

// OnStart stamps s.
func (Stamp) OnStart(parent context.Context, s sdktrace.ReadWriteSpan) {
	b := baggage.FromContext(parent)
	if v := b.Member(requestMember).Value(); v != "" {
		s.SetAttributes(RequestIDKey.String(v))
	}
	if v := b.Member(dealMember).Value(); v != "" {
		s.SetAttributes(DealIDKey.String(v))
	}
}

// OnEnd does nothing.
func (Stamp) OnEnd(sdktrace.ReadOnlySpan) {}

// Shutdown does nothing.
func (Stamp) Shutdown(context.Context) error { return nil }

// ForceFlush does nothing.
func (Stamp) ForceFlush(context.Context) error { return nil }
