package media

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"net/http"

	// The image formats an upload may be, registered for image.Decode.
	_ "image/png"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"
)

// sniffLen is how many leading bytes http.DetectContentType reads.
const sniffLen = 512

// sniff is the content type of a file that starts with head, as the bytes
// say: one of the Type constants, or "" for anything else.
func sniff(head []byte) string {
	ct := http.DetectContentType(head)
	switch ct {
	case TypeJPEG, TypePNG, TypeWebP, TypePDF:
		return ct
	case TypeMP4:
		// DetectContentType knows an ISO media file by its ftyp box and
		// an "mp4" brand; the box must be the file's first.
		if len(head) >= 8 && string(head[4:8]) == "ftyp" {
			return ct
		}
	}
	return ""
}

// imageFormats are image.DecodeConfig's names of the image types.
var imageFormats = map[string]string{TypeJPEG: "jpeg", TypePNG: "png", TypeWebP: "webp"}

// thumbnail checks that data is a whole image of content type ct no
// larger than MaxPixels, and returns it resized to ThumbnailSide on its
// long side (never enlarged) as a JPEG on white.
func thumbnail(data []byte, ct string) ([]byte, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || format != imageFormats[ct] {
		return nil, refuse("file", "is not a readable %s image", imageFormats[ct])
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return nil, refuse("file", "is %d×%d pixels; images may have at most %d megapixels", cfg.Width, cfg.Height, MaxPixels/1_000_000)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, refuse("file", "is not a readable %s image", imageFormats[ct])
	}
	w, h := thumbnailSize(cfg.Width, cfg.Height)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src)
	draw.BiLinear.Scale(dst, dst.Bounds(), img, img.Bounds(), draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
		return nil, fmt.Errorf("encode the thumbnail: %w", err)
	}
	return out.Bytes(), nil
}

// thumbnailSize is a w×h image's thumbnail's size: ThumbnailSide on the
// long side, the short side in proportion (at least a pixel); an image
// already as small keeps its size.
func thumbnailSize(w, h int) (int, int) {
	long := max(w, h)
	if long <= ThumbnailSide {
		return w, h
	}
	scale := func(side int) int { return max(1, (side*ThumbnailSide+long/2)/long) }
	return scale(w), scale(h)
}
