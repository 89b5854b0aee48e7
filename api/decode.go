package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/bounds"
)

// decode reads one JSON object into v, strictly: unknown fields, wrong
// types, trailing data and syntax errors are 400s naming the problem. An
// empty body leaves v as it is, for actions whose body is optional.
func decode(c echo.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	return decodeBytes(body, v)
}

// readBody reads the whole request body: over the size limit it is a 413.
func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, apiErr(http.StatusRequestEntityTooLarge, "too_large", "the request body is too large")
		}
		return nil, apiErr(http.StatusBadRequest, "malformed", "could not read the request body")
	}
	return body, nil
}

func decodeBytes(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return malformed(err)
	}
	if dec.More() {
		return apiErr(http.StatusBadRequest, "malformed", "the body must be a single JSON object")
	}
	return nil
}

func malformed(err error) *Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return apiErr(http.StatusBadRequest, "malformed", "invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		e := apiErr(http.StatusBadRequest, "malformed", "field %q must be %s", typ.Field, jsonKind(typ.Type.Kind().String()))
		e.Details = map[string]any{"field": typ.Field}
		return e
	case errors.Is(err, io.ErrUnexpectedEOF):
		return apiErr(http.StatusBadRequest, "malformed", "the JSON body ends too early")
	}
	return apiErr(http.StatusBadRequest, "malformed", "%s", sanitize(err.Error()))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int32", "int64":
		return "an integer in range"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "of another type"
}

// sanitize keeps a decoder message to one short line.
func sanitize(s string) string {
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// limitParam reads the optional "limit" query parameter: 0 when it is
// absent, else a whole number from 1 to most, or a 422 naming it.
func limitParam(c echo.Context, most int) (int, error) {
	v := c.QueryParam("limit")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, invalid("limit", "must be between 1 and %d", most)
	}
	return n, nil
}

// invalid is a 422 for a value that parses but cannot be accepted.
func invalid(field, format string, args ...any) *Error {
	e := apiErr(http.StatusUnprocessableEntity, "invalid", "%s: %s", field, fmt.Sprintf(format, args...))
	e.Details = map[string]any{"field": field}
	return e
}

// checkBounds holds a request's values to the platform's limits on text and
// lists (internal/bounds): 422 naming the field and the limit.
func checkBounds(v interface{ Validate() error }) error {
	return boundsError(v.Validate())
}

// boundsError is err as a 422 naming the field when it is a limit's
// (*bounds.Error), and err otherwise.
func boundsError(err error) error {
	var be *bounds.Error
	if errors.As(err, &be) {
		return invalid(be.Field, "%s", be.Problem)
	}
	return err
}
