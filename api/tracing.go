package api

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/internal/tracing"
)

// fitRequestID is a request ID a client may choose: it reaches logs, error
// bodies and, with tracing on, the headers of every Temporal call the
// request makes, so it is short and plain.
var fitRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// ownRequestIDs drops a client's X-Request-Id that is not fit to keep, so
// the request gets an ID of the API's own.
func ownRequestIDs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if v := h.Values(echo.HeaderXRequestID); len(v) > 1 || (len(v) == 1 && !fitRequestID.MatchString(v[0])) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

// clientTrace reads only the caller's trace context: a client's baggage
// is not carried into the platform.
var clientTrace = propagation.TraceContext{}

// traced opens the request's span (child of the caller's, if it sent a
// traceparent) and puts the request ID and the deal ID in the context the
// handler passes to Temporal. The error is handled here, so the span
// carries the status the client gets.
func traced(t tracing.Tracing) echo.MiddlewareFunc {
	tracer := t.Tracer()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx := clientTrace.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			ctx = tracing.WithRequest(ctx, c.Response().Header().Get(echo.HeaderXRequestID))
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			if id := c.Param("id"); strings.HasPrefix(route, "/v1/deals/:id") && readmodel.ValidDealID(id) {
				ctx = tracing.WithDeal(ctx, id)
			}
			ctx, span := tracer.Start(ctx, req.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(semconv.HTTPRequestMethodKey.String(req.Method), semconv.HTTPRoute(route)))
			defer span.End()
			c.SetRequest(req.WithContext(ctx))
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			status := c.Response().Status
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= http.StatusInternalServerError {
				if err != nil {
					span.RecordError(err)
				}
				span.SetStatus(codes.Error, http.StatusText(status))
			}
			return nil
		}
	}
}
