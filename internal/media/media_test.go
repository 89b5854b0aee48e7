package media

import (
	"bytes"
	"encoding/base64"
	"image"
	"strings"
	"testing"
)

func TestCheckNameRefusesPathsControlsAndLongNames(t *testing.T) {
	for _, name := range []string{"", " ", "../a.jpg", "a/b.jpg", `a\b.jpg`, "..", "a..b", "a\x00.jpg", "a\x1f.jpg", "a\u2028b",
		strings.Repeat("a", MaxNameBytes+1), strings.Repeat("é", 101), "\xff.jpg"} {
		if CheckName(name) == nil {
			t.Errorf("%q accepted", name)
		}
	}
	for _, name := range []string{"a.jpg", "规格书 v2.pdf", strings.Repeat("a", MaxNameBytes), "photo (1).png"} {
		if err := CheckName(name); err != nil {
			t.Errorf("%q refused: %v", name, err)
		}
	}
}

func TestSniffKnowsTheKindsByTheirBytes(t *testing.T) {
	for head, want := range map[string]string{
		"\xff\xd8\xff\xe0\x00\x10JFIF\x00":                 TypeJPEG,
		"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR":            TypePNG,
		"RIFF\x00\x00\x00\x00WEBPVP8 ":                     TypeWebP,
		"%PDF-1.7\n":                                       TypePDF,
		"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom": TypeMP4,
		"GIF89a":       "",
		"<html><body>": "",
		"MZ\x90\x00":   "",
		"\x00\x00\x00\x18ftypqt  \x00\x00\x00\x00qt  \x00\x00\x00\x00": "",
	} {
		if got := sniff([]byte(head)); got != want {
			t.Errorf("%q: %q, want %q", head, got, want)
		}
	}
}

func TestKindsAcceptTheirTypesOnly(t *testing.T) {
	cases := map[Kind][]string{
		KindImage: {TypeJPEG, TypePNG, TypeWebP}, KindFactoryPhoto: {TypeJPEG, TypePNG, TypeWebP},
		KindCertificate: {TypeJPEG, TypePNG, TypeWebP, TypePDF}, KindSpecSheet: {TypePDF}, KindFactoryVideo: {TypeMP4},
	}
	for kind, accepted := range cases {
		for _, ct := range []string{TypeJPEG, TypePNG, TypeWebP, TypePDF, TypeMP4} {
			want := strings.Contains(strings.Join(accepted, " "), ct)
			if kind.Accepts(ct) != want {
				t.Errorf("%s accepts %s: %v, want %v", kind, ct, !want, want)
			}
		}
	}
}

func TestThumbnailSizeKeepsTheProportionsAndNeverEnlarges(t *testing.T) {
	for _, c := range [][4]int{{1200, 800, 320, 213}, {800, 1200, 213, 320}, {320, 10, 320, 10}, {100, 50, 100, 50}, {10000, 1, 320, 1}} {
		if w, h := thumbnailSize(c[0], c[1]); w != c[2] || h != c[3] {
			t.Errorf("%d×%d: %d×%d, want %d×%d", c[0], c[1], w, h, c[2], c[3])
		}
	}
}

func TestIfNoneMatch(t *testing.T) {
	for header, want := range map[string]bool{`"abc"`: true, `W/"abc"`: true, `"x", "abc"`: true, `*`: true, `"abd"`: false, ``: false, `abc`: false} {
		if matches(header, `"abc"`) != want {
			t.Errorf("%q: %v", header, !want)
		}
	}
}

// A WebP image (1×1, lossless) is sniffed, decoded and thumbnailed as the
// others are; a PNG claiming more than MaxPixels is refused from its
// header.
func TestThumbnailOfAWebP(t *testing.T) {
	webp, err := base64.StdEncoding.DecodeString("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
	if err != nil {
		t.Fatal(err)
	}
	if ct := sniff(webp); ct != TypeWebP {
		t.Fatalf("sniffed %q", ct)
	}
	thumb, err := thumbnail(webp, TypeWebP)
	if err != nil {
		t.Fatal(err)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(thumb))
	if err != nil || format != "jpeg" || cfg.Width != 1 || cfg.Height != 1 {
		t.Fatalf("thumbnail %s %dx%d: %v", format, cfg.Width, cfg.Height, err)
	}
	if _, err := thumbnail(webp, TypePNG); err == nil {
		t.Fatal("a WebP taken for a PNG")
	}
}
