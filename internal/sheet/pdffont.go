package sheet

import (
	"fmt"
	"io"
	"os"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/sfnt"
)

// Font is a TrueType font for the text of PDFs that Windows-1252, and so
// the PDF's core fonts, cannot print: Chinese above all. LoadFont reads it
// once; every document written with it shares it, as nothing changes it.
type Font struct {
	ttf *trueType
	// glyphs says which glyph each character has; its methods are safe to
	// call from several documents at once.
	glyphs *sfnt.Font
}

// LoadFont reads the TrueType font at path and checks that PDFs can print
// with it: TrueType outlines (glyf, not the CFF of most .otf files), not a
// collection (.ttc), with a Unicode character map of format 4 (what fpdf
// reads), and fpdf embeds it without an error. A missing file is an error
// wrapping fs.ErrNotExist.
func LoadFont(path string) (*Font, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the PDF font: %w", err)
	}
	ttf, err := parseTrueType(b)
	if err != nil {
		return nil, fmt.Errorf("the PDF font %s: %w", path, err)
	}
	glyphs, err := sfnt.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("the PDF font %s: read its character map: %w", path, err)
	}
	f := &Font{ttf: ttf, glyphs: glyphs}
	if err := f.tryOut(); err != nil {
		return nil, fmt.Errorf("the PDF font %s: %w", path, err)
	}
	return f, nil
}

// has reports whether the font has a glyph for r. Characters beyond the
// Basic Multilingual Plane are never printed with it: fpdf writes text in
// it as UTF-16 code units, one per character.
func (f *Font) has(r rune) bool { return f.glyph(r) != 0 }

// glyph is r's glyph in the font, 0 for none.
func (f *Font) glyph(r rune) int {
	if r > 0xFFFF {
		return 0
	}
	g, err := f.glyphs.GlyphIndex(nil, r)
	if err != nil {
		return 0
	}
	return int(g)
}

// tryOut writes a one-line PDF in the font, so that a font fpdf cannot
// print with fails at start-up rather than in a user's download.
func (f *Font) tryOut() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("fpdf cannot print with it: %v", r)
		}
	}()
	var chars []rune
	for _, r := range "Aa0?.中" {
		if f.has(r) {
			chars = append(chars, r)
		}
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	if err := addTrueType(pdf, f, chars); err != nil {
		return err
	}
	pdf.AddPage()
	pdf.SetFont(pdfTrueType, "", pdfFontSize)
	pdf.CellFormat(0, pdfLineHeight, string(chars), "", 0, "L", false, 0, "")
	if err := pdf.Output(io.Discard); err != nil {
		return fmt.Errorf("fpdf cannot print with it: %w", err)
	}
	return nil
}

// pdfTrueType is the family name a document's TrueType font has in fpdf.
const pdfTrueType = "truetype"

// addTrueType adds to pdf the part of f that prints chars. fpdf parses
// the whole of a font it is given, for each document (it keeps nothing
// between documents): given the 4 MB of fonts-droid-fallback, a quote
// comparison with Chinese names took some 50 ms to write; given the
// glyphs of the document's characters alone, some 6 ms (2 ms without
// Chinese; see BenchmarkWritePDF).
func addTrueType(pdf *fpdf.Fpdf, f *Font, chars []rune) error {
	ttf, err := f.ttf.subset(chars, f.glyph)
	if err != nil {
		return fmt.Errorf("cut the PDF font down to the document's characters: %w", err)
	}
	pdf.AddUTF8FontFromBytes(pdfTrueType, "", ttf)
	pdf.SetFont(pdfTrueType, "", pdfFontSize) // fpdf notes a font it could not parse only here
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("add the PDF font: %w", err)
	}
	return nil
}
