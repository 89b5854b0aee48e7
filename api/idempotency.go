package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/idempotency"
)

// idempotent keeps the first response to a POST carrying an
// Idempotency-Key and replays it for a repeat with the same body; a repeat
// with another body is a 422, and one while the first still runs a 409
// with Retry-After. The first request holds the key under a lease: if its
// process dies before the response is kept, a repeat takes the key over
// once the lease has run out and runs the request again, which the
// handlers make safe (a deal's ID and a workflow update's ID derive from
// the key, so a second run finds the first one's effect).
func (s *Server) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := c.Request().Header.Get("Idempotency-Key")
		if c.Request().Method != http.MethodPost || key == "" {
			return next(c)
		}
		if len(key) > 255 {
			return invalid("Idempotency-Key", "at most 255 characters")
		}
		body, err := readBody(c)
		if err != nil {
			return err
		}
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(append([]byte(c.Request().Method+" "+c.Request().URL.Path+"\n"), body...))
		ctx := c.Request().Context()
		p := principal(c)

		claim, prev, err := s.keys.Claim(ctx, idempotency.Request{UserID: p.UserID, Key: key, Method: c.Request().Method, Path: c.Request().URL.Path, Hash: sum}, s.idempotencyLease)
		if err != nil {
			return err
		}
		if prev != nil {
			switch {
			case !prev.SameRequest:
				return apiErr(http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was used for a different request")
			case !prev.Done:
				c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(prev.LeaseLeft.Seconds()))+1))
				return apiErr(http.StatusConflict, "in_progress", "a request with this Idempotency-Key is still in progress: retry it later")
			}
			c.Response().Header().Set("Idempotent-Replayed", "true")
			return c.Blob(prev.Status, echo.MIMEApplicationJSON, prev.Response)
		}
		c.Set(idempotencyCtxKey, fmt.Sprintf("%s/%s/%x", p.UserID, key, sum[:8]))

		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		err = next(c)
		if err != nil {
			c.Error(err) // write the error response now, so it is recorded
		}
		status := c.Response().Status
		if status >= 500 {
			// The server failed: let the client try the same key again.
			if err := s.keys.Release(ctx, claim); err != nil {
				s.logger.WarnContext(ctx, "release an Idempotency-Key after a failure", "error", err)
			}
			return nil
		}
		kept := rec.body.Bytes()
		if redacted, ok := c.Get(keptResponseKey).([]byte); ok && status < 300 {
			kept = redacted
		}
		return s.keys.Complete(ctx, claim, status, kept)
	}
}

const keptResponseKey = "idempotency-kept-response"

// secretWithheld is what a replayed response says in place of a secret the
// first response carried.
const secretWithheld = "shown once, in the first response to this request; a repeat does not carry it"

// keepWithoutSecret is for a handler whose response carries a secret (an
// API key, a payment's client secret): the response kept for a repeat of
// the request is v, the same resource without the secret, so no secret is
// ever stored in a replayable response. The handler then writes its real
// response as usual.
func keepWithoutSecret(c echo.Context, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode the response kept for a repeat: %w", err)
	}
	c.Set(keptResponseKey, append(b, '\n'))
	return nil
}

// showSecretOnce answers with body plus the secret under field, and keeps
// body without it (secret_withheld instead) for a repeat of the request.
func showSecretOnce(c echo.Context, status int, body map[string]any, field, secret string) error {
	body["secret_withheld"] = secretWithheld
	if err := keepWithoutSecret(c, body); err != nil {
		return err
	}
	delete(body, "secret_withheld")
	body[field] = secret
	return c.JSON(status, body)
}

const idempotencyCtxKey = "idempotency"

// requestIdentity names the request by its caller, Idempotency-Key and
// body, or is "" without a key. Handlers derive the IDs of what they
// create from it, so running a request again finds what the first run did.
func requestIdentity(c echo.Context) string {
	v, _ := c.Get(idempotencyCtxKey).(string)
	return v
}

// recorder copies what a handler writes.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}
