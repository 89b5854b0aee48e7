package api

import (
	"context"
	"errors"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/console"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/media"
)

// maxMediaBody is the largest body an upload of product media may have:
// the largest file of any kind, and room for its form.
const maxMediaBody = media.MaxUpload + 1<<20

// mediaBodyLimit lets uploads of product media (the API's and the
// console's) be as large as their kind allows, and no other request.
func mediaBodyLimit(path string) bool {
	rest, ok := strings.CutPrefix(path, "/v1/products/")
	if !ok {
		rest, ok = strings.CutPrefix(path, console.Root+"/products/")
	}
	pid, tail, _ := strings.Cut(rest, "/")
	return ok && tail == "media" && pid != ""
}

// MediaView is a medium as the API shows it, with where to fetch it.
type MediaView struct {
	ID          uuid.UUID  `json:"id"`
	Kind        media.Kind `json:"kind"`
	Name        string     `json:"name"`
	ContentType string     `json:"content_type"`
	Size        int64      `json:"size"`
	SHA256      string     `json:"sha256"`
	CreatedAt   time.Time  `json:"created_at"`
	URL         string     `json:"url"`
	// ThumbnailURL is an image's thumbnail (a JPEG), absent for others.
	ThumbnailURL string `json:"thumbnail_url,omitempty"`
}

func mediaView(it media.Item) MediaView {
	v := MediaView{ID: it.ID, Kind: it.Kind, Name: it.Name, ContentType: it.ContentType, Size: it.Size, SHA256: it.SHA256,
		CreatedAt: it.CreatedAt, URL: "/v1/media/" + it.ID.String()}
	if it.HasThumbnail {
		v.ThumbnailURL = v.URL + "/thumbnail"
	}
	return v
}

// ProductWithMedia is a product with its media, as GET /v1/products/:pid
// shows it.
type ProductWithMedia struct {
	marketplace.Product
	// Badges are the supplier's verification and Gold badges.
	marketplace.Badges
	Media []MediaView `json:"media"`
}

// errMediaUnavailable answers media requests of an API started without a
// media bucket (MEDIA_BUCKET_URL).
var errMediaUnavailable = apiErr(http.StatusServiceUnavailable, "media_unavailable", "product media are not stored on this server (MEDIA_BUCKET_URL is unset)")

// mediaErr maps the media service's errors to API errors.
func mediaErr(err error) error {
	var r *media.Refusal
	switch {
	case errors.Is(err, media.ErrNotFound):
		return apiErr(http.StatusNotFound, "item_not_found", "no such product or medium")
	case errors.As(err, &r) && r.TooLarge:
		e := apiErr(http.StatusRequestEntityTooLarge, "too_large", "%s: %s", r.Field, r.Message)
		e.Details = map[string]any{"field": r.Field}
		return e
	case errors.As(err, &r):
		return invalid(r.Field, "%s", r.Message)
	}
	return err
}

// productMedia is product id's media as the API shows them (none on a
// server without media).
func (s *Server) productMedia(ctx context.Context, id uuid.UUID) ([]MediaView, error) {
	views := []MediaView{}
	if s.media == nil {
		return views, nil
	}
	items, err := s.media.ForProduct(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		views = append(views, mediaView(it))
	}
	return views, nil
}

// uploadMedia stores a file (multipart field file) of kind (form field
// kind) for one of the supplier's products.
func (s *Server) uploadMedia(c echo.Context) error {
	pid, err := productID(c)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		return apiErr(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the file as multipart/form-data, in the field file, with the field kind")
	}
	fh, err := formFile(c)
	if err != nil {
		return err
	}
	item, err := s.AddMedia(c.Request().Context(), principal(c).OrgID, pid, c.FormValue("kind"), fh)
	if err != nil {
		return err
	}
	v := mediaView(item)
	c.Response().Header().Set(echo.HeaderLocation, v.URL)
	return c.JSON(http.StatusCreated, v)
}

// AddMedia stores the uploaded file fh as a medium of kind of supplier
// org's product (media.Service.Add), for the API and the console: its
// name is the one the client sent, path and all, so that a name with a
// path is refused rather than cut short.
func (s *Server) AddMedia(ctx context.Context, org, product uuid.UUID, kind string, fh *multipart.FileHeader) (media.Item, error) {
	if s.media == nil {
		return media.Item{}, errMediaUnavailable
	}
	file, err := fh.Open()
	if err != nil {
		return media.Item{}, invalid("file", "could not be read")
	}
	defer file.Close()
	item, err := s.media.Add(ctx, org, product, mediaUpload(kind, fh, file))
	return item, mediaErr(err)
}

// formFile is the request's multipart field file.
func formFile(c echo.Context) (*multipart.FileHeader, error) {
	fh, err := c.FormFile("file")
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, apiErr(http.StatusRequestEntityTooLarge, "too_large", "the request body is too large")
	case err != nil:
		// Go's multipart reader skips a part whose Content-Disposition
		// it cannot parse, such as one with a control character in its
		// file name: such a file is missing too.
		return nil, invalid("file", "is required: send the file in the multipart field file, named without control characters")
	}
	return fh, nil
}

// mediaUpload is the uploaded file fh, opened as file, as internal/media
// takes it: its name is the one the client sent, path and all, so that a
// name with a path is refused rather than cut short.
func mediaUpload(kind string, fh *multipart.FileHeader, file multipart.File) media.Upload {
	return media.Upload{Kind: kind, Name: sentName(fh), Size: fh.Size, File: file}
}

// sentName is the file name in the part's Content-Disposition as the
// client wrote it: multipart.FileHeader.Filename is only its last path
// element.
func sentName(fh *multipart.FileHeader) string {
	_, params, err := mime.ParseMediaType(fh.Header.Get("Content-Disposition"))
	if err != nil {
		return fh.Filename
	}
	return params["filename"]
}

func (s *Server) getMedia(c echo.Context) error     { return s.serveMedia(c, false) }
func (s *Server) getThumbnail(c echo.Context) error { return s.serveMedia(c, true) }
func (s *Server) serveMedia(c echo.Context, thumb bool) error {
	if s.media == nil {
		return errMediaUnavailable
	}
	return mediaErr(s.media.Serve(c.Response(), c.Request(), c.Param("mid"), thumb))
}

func (s *Server) deleteMedia(c echo.Context) error {
	pid, err := productID(c)
	if err != nil {
		return err
	}
	if s.media == nil {
		return errMediaUnavailable
	}
	id, err := uuid.Parse(c.Param("mid"))
	if err != nil {
		return mediaErr(media.ErrNotFound)
	}
	if err := s.media.Delete(c.Request().Context(), principal(c).OrgID, pid, id); err != nil {
		return mediaErr(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "deleted": true})
}
