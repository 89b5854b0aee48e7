package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"gocloud.dev/gcerrors"
)

// cacheControl lets browsers keep a medium for a year: its bytes never
// change under its id. private: a medium is for the platform's users.
const cacheControl = "private, max-age=31536000, immutable"

// Serve writes medium id (its thumbnail when thumb) to w, for any
// signed-in user: its content type, its ETag (the SHA-256 of its bytes), a
// 304 when the request's If-None-Match holds it, and an attachment's
// disposition for all but images. An unknown or malformed id, or a
// thumbnail the medium has not, is ErrNotFound.
func (s *Service) Serve(w http.ResponseWriter, r *http.Request, rawID string, thumb bool) error {
	id, err := uuid.Parse(rawID)
	if err != nil {
		return ErrNotFound
	}
	item, err := s.Get(r.Context(), id)
	if err != nil {
		return err
	}
	return s.ServeItem(w, r, item, thumb)
}

// ServeItem writes item's file (its thumbnail when thumb) to w as Serve
// does, for a caller that found the item and decided who may see it (a
// supplier's verification documents).
func (s *Service) ServeItem(w http.ResponseWriter, r *http.Request, item Item, thumb bool) error {
	id := item.ID
	key, contentType, etag := originalKey(id), item.ContentType, `"`+item.SHA256+`"`
	if thumb {
		if !item.HasThumbnail {
			return ErrNotFound
		}
		key, contentType, etag = thumbnailKey(id), TypeJPEG, `"`+item.SHA256+`-thumbnail"`
	}
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if matches(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return s.send(r.Context(), w, key, contentType, disposition(item, thumb))
}

// send copies blob key to w.
func (s *Service) send(ctx context.Context, w http.ResponseWriter, key, contentType, disp string) error {
	rd, err := s.bucket.NewReader(ctx, key, nil)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("blob %s of a stored medium is missing: %w", key, err)
	}
	if err != nil {
		return fmt.Errorf("open blob %s: %w", key, err)
	}
	defer rd.Close()
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.FormatInt(rd.Size(), 10))
	h.Set("Content-Disposition", disp)
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rd); err != nil && !errors.Is(err, context.Canceled) {
		// The status is sent: the client sees a short body.
		return fmt.Errorf("send blob %s: %w", key, err)
	}
	return nil
}

// disposition shows images inline and has every other file downloaded,
// under the name the supplier gave it.
func disposition(item Item, thumb bool) string {
	how := "attachment"
	if thumb || item.IsImage() {
		how = "inline"
	}
	if d := mime.FormatMediaType(how, map[string]string{"filename": item.Name}); d != "" {
		return d
	}
	return how
}

// matches says whether an If-None-Match header holds etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func matches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == etag || tag == "*" {
			return true
		}
	}
	return false
}
