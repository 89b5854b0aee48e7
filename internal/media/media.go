// Package media stores, checks and serves the files suppliers show with
// their products: images, spec sheets, certificates, factory photos and
// videos. The bytes live in a blob bucket (gocloud.dev/blob: local files in
// development and tests, S3-compatible storage in production), the facts
// about them in PostgreSQL. What a file is comes from its bytes, never from
// the client's word; images get a thumbnail once, at upload.
package media

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Kind is what a medium shows of a product.
type Kind string

// The kinds of media a product has.
const (
	KindImage        Kind = "image"
	KindSpecSheet    Kind = "spec_sheet"
	KindCertificate  Kind = "certificate"
	KindFactoryPhoto Kind = "factory_photo"
	KindFactoryVideo Kind = "factory_video"
	// KindBusinessLicence is a supplier's licence, one of the documents
	// of its verification (internal/verification), never a product's.
	KindBusinessLicence Kind = "business_licence"
)

// Kinds are all the kinds a product's media have, in the order forms
// list them.
var Kinds = []Kind{KindImage, KindSpecSheet, KindCertificate, KindFactoryPhoto, KindFactoryVideo}

// DocumentKinds are the kinds of a supplier's verification documents, in
// the order forms list them.
var DocumentKinds = []Kind{KindBusinessLicence, KindCertificate, KindFactoryPhoto, KindFactoryVideo}

// The content types media may have, sniffed from their bytes.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeWebP = "image/webp"
	TypePDF  = "application/pdf"
	TypeMP4  = "video/mp4"
)

// Limits on what a product's media may be.
const (
	// MaxPerProduct is how many files one product may have.
	MaxPerProduct = 20
	// MaxNameBytes is the longest file name shown, in bytes.
	MaxNameBytes = 200
	// MaxPixels is the largest image decoded (40 megapixels), checked in
	// its header before any pixel is decoded.
	MaxPixels = 40_000_000
	// ThumbnailSide is a thumbnail's long side in pixels.
	ThumbnailSide = 320
	// MaxUpload is the largest file of any kind: the API lets an upload's
	// body be this large, and a little more for its form.
	MaxUpload = 100 << 20
)

// ParseKind is s as a Kind, or false.
func ParseKind(s string) (Kind, bool) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// MaxSize is the largest file of kind k, in bytes.
func (k Kind) MaxSize() int64 {
	switch k {
	case KindSpecSheet:
		return 20 << 20
	case KindFactoryVideo:
		return MaxUpload
	}
	return 10 << 20 // images, certificates, factory photos
}

// Accepts says whether a file of content type ct may be of kind k.
func (k Kind) Accepts(ct string) bool {
	switch k {
	case KindImage, KindFactoryPhoto:
		return isImage(ct)
	case KindCertificate, KindBusinessLicence:
		return isImage(ct) || ct == TypePDF
	case KindSpecSheet:
		return ct == TypePDF
	case KindFactoryVideo:
		return ct == TypeMP4
	}
	return false
}

// accepted says in words what kind k takes, for a refusal.
func (k Kind) accepted() string {
	switch k {
	case KindImage, KindFactoryPhoto:
		return "a JPEG, PNG or WebP image"
	case KindCertificate, KindBusinessLicence:
		return "a PDF or a JPEG, PNG or WebP image"
	case KindSpecSheet:
		return "a PDF"
	}
	return "an MP4 video"
}

func isImage(ct string) bool { return ct == TypeJPEG || ct == TypePNG || ct == TypeWebP }

// Item is one stored medium.
type Item struct {
	ID          uuid.UUID `json:"id"`
	SupplierID  uuid.UUID `json:"-"`
	ProductID   uuid.UUID `json:"-"`
	Kind        Kind      `json:"kind"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	// SHA256 is the hex digest of the bytes, and their ETag.
	SHA256       string    `json:"sha256"`
	HasThumbnail bool      `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// IsImage says whether the medium is an image (shown inline).
func (it Item) IsImage() bool { return isImage(it.ContentType) }

// ErrNotFound is a medium or product that does not exist or is not the
// caller's.
var ErrNotFound = errors.New("media: not found")

// Refusal is an upload refused for what was sent: nothing of it is stored.
type Refusal struct {
	// Field names what was wrong: file, filename or kind.
	Field   string
	Message string
	// TooLarge marks a file over its kind's size limit.
	TooLarge bool
}

func (r *Refusal) Error() string { return r.Field + ": " + r.Message }

func refuse(field, format string, args ...any) *Refusal {
	return &Refusal{Field: field, Message: fmt.Sprintf(format, args...)}
}

// CheckName refuses a file name that could not be shown as it is: empty,
// longer than MaxNameBytes, not UTF-8, with a control character (NUL
// included), or with a path in it (a slash, a backslash, "." or "..").
func CheckName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return refuse("filename", "is empty")
	case len(name) > MaxNameBytes:
		return refuse("filename", "is %d bytes long; at most %d are allowed", len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		return refuse("filename", "is not valid UTF-8")
	case strings.ContainsAny(name, `/\`):
		return refuse("filename", "must be a file's name without a path")
	case name == "." || name == ".." || strings.Contains(name, ".."):
		return refuse("filename", "must not contain \"..\"")
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return refuse("filename", "contains the control character %U", r)
		}
	}
	return nil
}
