package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/deals"
	"github.com/tradeloop/tradeloop/workflows"
)

// Error is the one error shape every route answers with:
// {"error":{"code","message","details"}}.
type Error struct {
	Status int `json:"-"`
	// RetryAfter, in seconds, is sent as the Retry-After header.
	RetryAfter int            `json:"-"`
	Code       string         `json:"code"`
	Message    string         `json:"message"`
	Details    map[string]any `json:"details,omitempty"`
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message) }

func apiErr(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

var (
	errUnauthorized = apiErr(http.StatusUnauthorized, "unauthorized", "a valid API key is required: Authorization: Bearer <key>")
	errNotFound     = apiErr(http.StatusNotFound, "not_found", "no such deal")
	errForbidden    = apiErr(http.StatusForbidden, "forbidden", "your role may not do this")
)

// statusOfRejection maps the deal workflow's rejection codes to HTTP.
var statusOfRejection = map[string]int{
	workflows.RejectWrongStage: http.StatusConflict,
	workflows.RejectNotAllowed: http.StatusForbidden,
	workflows.RejectInvalid:    http.StatusUnprocessableEntity,
	workflows.RejectNotFound:   http.StatusNotFound,
	workflows.RejectLimit:      http.StatusConflict,
}

// toError turns any handler error into the shape users see. Internal
// details stay in the log, never in a response.
func toError(err error, logger *slog.Logger, requestID string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var unav *deals.UnavailableError
	if errors.As(err, &unav) {
		logger.Warn("deal service unavailable", "error", err, "request_id", requestID)
		e := apiErr(http.StatusServiceUnavailable, "unavailable", "the deal service did not answer in time: send the request again, with the same Idempotency-Key, after Retry-After seconds")
		e.RetryAfter = 5
		return e
	}
	if code := workflows.RejectionCode(err); code != "" {
		if code == workflows.RejectNotFound {
			// Something named inside a deal the caller can see (a quote, a
			// proposal): not to be confused with a deal that is not theirs.
			code = "item_not_found"
		}
		return &Error{Status: statusOfRejection[workflows.RejectionCode(err)], Code: code, Message: rejectionMessage(err)}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		switch he.Code {
		case http.StatusRequestEntityTooLarge:
			return apiErr(he.Code, "too_large", "the request body is too large")
		case http.StatusNotFound:
			return apiErr(he.Code, "not_found", "no such route")
		case http.StatusMethodNotAllowed:
			return apiErr(he.Code, "method_not_allowed", "method not allowed on this route")
		case http.StatusTooManyRequests:
			return apiErr(he.Code, "rate_limited", "too many requests: slow down")
		case http.StatusUnauthorized:
			return errUnauthorized
		}
		if he.Code < 500 {
			return apiErr(he.Code, "bad_request", "%s", http.StatusText(he.Code))
		}
	}
	if errors.Is(err, deals.ErrNotFound) {
		return errNotFound
	}
	logger.Error("internal error", "error", err, "request_id", requestID)
	return apiErr(http.StatusInternalServerError, "internal", "internal error; quote request %s to support", requestID)
}

func rejectionMessage(err error) string {
	type messager interface{ Message() string }
	var m messager
	if errors.As(err, &m) {
		return m.Message()
	}
	return err.Error()
}

func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e := toError(err, logger, c.Response().Header().Get(echo.HeaderXRequestID))
		body, _ := json.Marshal(map[string]*Error{"error": e})
		if e.RetryAfter > 0 {
			c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(e.Status)
			return
		}
		_ = c.JSONBlob(e.Status, body)
	}
}
