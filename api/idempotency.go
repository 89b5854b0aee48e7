package api

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/db/store"
)

// idempotent keeps the first response to a POST carrying an
// Idempotency-Key and replays it for a repeat with the same body; a repeat
// with another body is a 422, and one while the first still runs a 409.
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
		q := store.New(s.pool)

		_, err = q.ClaimIdempotencyKey(ctx, store.ClaimIdempotencyKeyParams{
			UserID: p.UserID, Key: key, Method: c.Request().Method, Path: c.Request().URL.Path, RequestHash: sum[:],
		})
		if errors.Is(err, pgx.ErrNoRows) {
			prev, err := q.GetIdempotencyKey(ctx, store.GetIdempotencyKeyParams{UserID: p.UserID, Key: key})
			if err != nil {
				return err
			}
			switch {
			case !bytes.Equal(prev.RequestHash, sum[:]):
				return apiErr(http.StatusUnprocessableEntity, "idempotency_key_reused", "this Idempotency-Key was used for a different request")
			case prev.Status == nil:
				return apiErr(http.StatusConflict, "in_progress", "a request with this Idempotency-Key is still in progress")
			}
			c.Response().Header().Set("Idempotent-Replayed", "true")
			return c.Blob(int(*prev.Status), echo.MIMEApplicationJSONCharsetUTF8, prev.Response)
		}
		if err != nil {
			return err
		}

		rec := &recorder{ResponseWriter: c.Response().Writer}
		c.Response().Writer = rec
		err = next(c)
		if err != nil {
			c.Error(err) // write the error response now, so it is recorded
		}
		status := c.Response().Status
		if status >= 500 {
			// The server failed: let the client try the same key again.
			_ = q.ReleaseIdempotencyKey(ctx, store.ReleaseIdempotencyKeyParams{UserID: p.UserID, Key: key})
			return nil
		}
		st := int32(status)
		return q.CompleteIdempotencyKey(ctx, store.CompleteIdempotencyKeyParams{UserID: p.UserID, Key: key, Status: &st, Response: rec.body.Bytes()})
	}
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
