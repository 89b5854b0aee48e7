package pdftext

import (
	"bytes"
	"os"
	"testing"

	"github.com/go-pdf/fpdf"
	"github.com/stretchr/testify/require"
)

// Read decodes a core font's Windows-1252 and an embedded font's
// character codes, and reads a character whose glyph the embedded font
// lacks (fonts-droid-fallback's has no Latin letters) as U+FFFD.
func TestRead(t *testing.T) {
	ttf, err := os.ReadFile(DroidFontPath(t))
	require.NoError(t, err)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("droid", "", ttf)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 10)
	pdf.Text(10, 10, tr("Müller – 5 € (net) \\ 100%"))
	pdf.SetFont("droid", "", 10)
	pdf.Text(10, 20, "深圳华强A")
	pdf.Text(80, 20, "（有限公司）")
	var buf bytes.Buffer
	require.NoError(t, pdf.Output(&buf))

	pieces, err := Read(buf.Bytes())
	require.NoError(t, err)
	require.Len(t, pieces, 3)
	require.Equal(t, Piece{Page: 1, X: 28.35, Y: 813.54, Font: "Helvetica", Text: "Müller – 5 € (net) \\ 100%"}, pieces[0])
	require.Equal(t, "深圳华强\uFFFD", pieces[1].Text)
	require.True(t, pieces[1].Embedded)
	require.Equal(t, "Müller – 5 € (net) \\ 100%\n深圳华强\uFFFD（有限公司）", Text(pieces))

	fonts, err := Embedded(buf.Bytes())
	require.NoError(t, err)
	require.Len(t, fonts, 1)
	require.NotZero(t, fonts[0].Glyph['深'])
	require.Zero(t, fonts[0].Glyph['A'])
}
