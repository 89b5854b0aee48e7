package sheet

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"
	"github.com/stretchr/testify/require"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/tradeloop/tradeloop/internal/pdftext"
)

// chineseQuotes is a quote comparison as marketplace.ComparisonDocument
// makes it, for suppliers with Chinese names and a product named in
// Chinese.
func chineseQuotes() Document {
	header := []string{"Supplier", "Tier", "Rating", "Quote", "Revision", "Unit price", "Total", "MOQ",
		"Lead time (days)", "Valid till", "Sample price", "Certifications", "Status", "Best"}
	d := Document{
		Title: "Quotes for 2,000 × 纯棉T恤（白色）",
		Notes: []string{"Tradeloop quote comparison, made 9 March 2026, 10:00 UTC. Deal d1.", "备注：请在周五前确认。"},
		Table: Table{Header: header}, Highlight: map[[2]int]bool{{0, 0}: true, {0, 6}: true},
	}
	for i, name := range []string{"深圳华强电子有限公司", "浙江义乌小商品进出口贸易集团股份有限公司（国际业务部）", "Ningbo Fasteners Manufacturing Co."} {
		d.Table.Rows = append(d.Table.Rows, []string{name, "gold", "4.75", "q" + strconv.Itoa(i+1), "2", "USD 3.90", "USD 7,800.00",
			"100", "21", "2030-01-01", "USD 25.00", "ISO 9001；质量管理体系认证", "submitted", "lowest total"})
	}
	return d
}

func droid(t testing.TB) *Font {
	t.Helper()
	font, err := LoadFont(pdftext.DroidFontPath(t))
	require.NoError(t, err)
	return font
}

// With the TrueType font, a PDF shows Chinese names as written: in the
// font, embedded (a subset of it: the PDF stays small), each character
// with its glyph's outline in the embedded file; Latin text keeps
// Helvetica.
func TestWritePDFPrintsChineseInTheFont(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Writer{Font: droid(t)}.Write(&buf, PDF, chineseQuotes()))
	require.Contains(t, buf.String(), "/FontFile2")
	require.Less(t, buf.Len(), 40_000, "the PDF embeds the characters it prints, not the font's 4 MB")

	pieces, err := pdftext.Read(buf.Bytes())
	require.NoError(t, err)
	text := pdftext.Text(pieces)
	for _, want := range []string{"Quotes for 2,000 × 纯棉T恤（白色）", "备注：请在周五前确认。", "深圳华强电子有限公司gold",
		"ISO 9001；质量管理体系", "Ningbo Fasteners Manufacturing Co."} {
		require.Contains(t, text, want)
	}
	require.NotContains(t, text, "?", "a character printed as ?")
	require.NotContains(t, text, "\uFFFD", "a character without its glyph")
	for _, p := range pieces {
		if strings.ContainsFunc(p.Text, func(r rune) bool { return r >= 0x2E80 }) {
			require.True(t, p.Embedded, "%q in a font the PDF does not carry", p.Text)
		}
		if !strings.ContainsFunc(p.Text, func(r rune) bool { return !newCP1252(fpdf.New("L", "mm", "A4", "")).has(r) }) {
			require.True(t, strings.HasPrefix(p.Font, "Helvetica"), "%q in %s, not Helvetica", p.Text, p.Font)
		}
	}
}

// Each Chinese character of the PDF is drawn with its glyph in the font:
// the embedded font file's outline for it is the font's own (a glyph made
// of others, as most of this font's are, included).
func TestWritePDFEmbedsTheFontsGlyphs(t *testing.T) {
	font := droid(t)
	var buf bytes.Buffer
	require.NoError(t, Writer{Font: font}.Write(&buf, PDF, chineseQuotes()))
	embedded, err := pdftext.Embedded(buf.Bytes())
	require.NoError(t, err)
	require.Len(t, embedded, 1)
	sub, err := sfnt.Parse(embedded[0].File)
	require.NoError(t, err)
	var b sfnt.Buffer
	outline := func(f *sfnt.Font, g int) sfnt.Segments {
		segs, err := f.LoadGlyph(&b, sfnt.GlyphIndex(g), fixed.I(1000), nil)
		require.NoError(t, err)
		return slices.Clone(segs)
	}
	chars := 0
	for _, r := range "纯棉恤（白色）备注：请在周五前确认。深圳华强电子有限公司浙江义乌小商品进出口贸易集团股份有限公司国际业务部；质量管理体系认证" {
		g, ok := embedded[0].Glyph[r]
		require.True(t, ok, "%q has no glyph in the PDF", r)
		want := outline(font.glyphs, font.glyph(r))
		require.NotEmpty(t, want)
		require.Equal(t, want, outline(sub, g), "%q is drawn with another glyph", r)
		chars++
	}
	require.Greater(t, chars, 50)
}

// A long Chinese name wraps inside its cell, between characters, never
// before closing punctuation, and every character reaches the page.
func TestWritePDFWrapsChineseNames(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Writer{Font: droid(t)}.Write(&buf, PDF, chineseQuotes()))
	pieces, err := pdftext.Read(buf.Bytes())
	require.NoError(t, err)
	name := "浙江义乌小商品进出口贸易集团股份有限公司（国际业务部）"
	i := slices.IndexFunc(pieces, func(p pdftext.Piece) bool { return strings.HasPrefix(p.Text, "浙江") })
	require.GreaterOrEqual(t, i, 0, "the name is not shown")
	joined, lines := "", 0
	for _, p := range pieces[i:] {
		if !strings.HasPrefix(name, joined+p.Text) {
			break
		}
		require.Equal(t, pieces[i].X, p.X, "%q does not start at the cell's left", p.Text)
		require.Less(t, p.Y, pieces[i].Y+0.01, "%q above the name's first line", p.Text)
		joined += p.Text
		lines++
	}
	require.Equal(t, name, joined)
	require.Greater(t, lines, 1, "the name on one line")
}

// Lines break between Chinese characters and at spaces, keep Latin
// words and punctuation whole, and fit their width; a word wider than the
// width is broken as a last resort.
func TestWrap(t *testing.T) {
	pdf := fpdf.New("L", "mm", "A4", "")
	p := &pdfWriter{pdf: pdf, enc: newCP1252(pdf), font: droid(t), glyph: map[rune]bool{}}
	require.NoError(t, addTrueType(pdf, p.font, []rune("深圳华强电子有限公司上海精密机械，（）")))
	for _, tc := range []struct {
		text  string
		chars float64 // the width, in Chinese characters
		want  []string
	}{
		{"深圳华强电子有限公司", 4, []string{"深圳华强", "电子有限", "公司"}},
		{"深圳华强，电子有限公司", 4, []string{"深圳华", "强，电子", "有限公司"}},
		{"上海（精密）机械", 3, []string{"上海", "（精", "密）机", "械"}},
		{"上海 Shanghai 精密机械 Precision Co., Ltd.", 8, []string{"上海 Shanghai 精", "密机械 Precision", "Co., Ltd."}},
		{"Ningbo Fasteners", 4, []string{"Ningbo", "Fastener", "s"}},
		{"line one\n\nline two", 20, []string{"line one", "", "line two"}},
		{"", 3, []string{""}},
	} {
		text := p.set(tc.text, "", pdfFontSize)
		em := pdfFontSize / pdf.GetConversionRatio() // a Chinese character is an em wide
		room := tc.chars*em + 0.01
		var got []string
		for _, l := range text.wrap(room) {
			got = append(got, text.text(l.from, l.to))
			if l.to-l.from > 1 {
				require.LessOrEqual(t, text.widthOf(l.from, l.to), room, "%q", got[len(got)-1])
			}
		}
		require.Equal(t, tc.want, got, tc.text)
	}
	require.InDelta(t, pdfFontSize/pdf.GetConversionRatio(), p.set("深圳华强电子有限公司", "", pdfFontSize).widestWord(), 0.01,
		"a Chinese name needs a column one character wide")
	require.InDelta(t, 3*pdfFontSize/pdf.GetConversionRatio(), p.set("深圳（华）强", "", pdfFontSize).widestWord(), 0.01,
		"punctuation stays with its character")
}

// Without the font, a PDF prints as before: in the core fonts, Chinese as
// "?". LoadFont says why it cannot use a file.
func TestWritePDFWithoutTheFont(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Writer{}.Write(&buf, PDF, chineseQuotes()))
	require.NotContains(t, buf.String(), "/FontFile2")
	pieces, err := pdftext.Read(buf.Bytes())
	require.NoError(t, err)
	require.Contains(t, pdftext.Text(pieces), "??????????gold")

	_, err = LoadFont(filepath.Join(t.TempDir(), "missing.ttf"))
	require.ErrorIs(t, err, fs.ErrNotExist)
	dir := t.TempDir()
	for file, problem := range map[string]string{
		"cff.otf":   "CFF",
		"fonts.ttc": "collection",
		"text.ttf":  "not a TrueType font",
	} {
		head := map[string]string{"cff.otf": "OTTO", "fonts.ttc": "ttcf", "text.ttf": "hello"}[file] + strings.Repeat("\x00", 40)
		require.NoError(t, os.WriteFile(filepath.Join(dir, file), []byte(head), 0o600))
		_, err := LoadFont(filepath.Join(dir, file))
		require.ErrorContains(t, err, problem)
	}
}

// BenchmarkWritePDF renders a comparison of three quotes: Latin only, and
// with Chinese names in the core fonts (as "?") and in the TrueType font.
func BenchmarkWritePDF(b *testing.B) {
	latin := chineseQuotes()
	latin.Title, latin.Notes = "Quotes for 2,000 × cotton t-shirts", latin.Notes[:1]
	for i := range latin.Table.Rows {
		latin.Table.Rows[i][0], latin.Table.Rows[i][11] = "Ningbo Fasteners Manufacturing Co.", "ISO 9001"
	}
	font := droid(b)
	for _, bc := range []struct {
		name string
		w    Writer
		d    Document
	}{
		{"latin", Writer{Font: font}, latin},
		{"chinese-without-font", Writer{}, chineseQuotes()},
		{"chinese", Writer{Font: font}, chineseQuotes()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := bc.w.Write(&buf, PDF, bc.d); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(buf.Len()), "bytes")
		})
	}
}

// Notes longer than a page go on over the next, above the footer.
func TestWritePDFNotesGoOnOverPages(t *testing.T) {
	d := Document{Title: "Contract: 纯棉T恤"}
	for i := range 80 {
		d.Notes = append(d.Notes, "第"+strconv.Itoa(i+1)+"条：货物须符合样品质量。 Clause "+strconv.Itoa(i+1)+": goods as sampled.")
	}
	var buf bytes.Buffer
	require.NoError(t, Writer{Font: droid(t)}.Write(&buf, PDF, d))
	pieces, err := pdftext.Read(buf.Bytes())
	require.NoError(t, err)
	footer := (pdfMargin + pdfFooterHeight) * 72 / 25.4
	for _, p := range pieces {
		if !strings.HasPrefix(p.Text, "Page ") {
			require.Greater(t, p.Y, footer, "%q in the footer", p.Text)
		}
	}
	text := pdftext.Text(pieces)
	require.Contains(t, text, "第80条：货物须符合样品质量。 Clause 80: goods as sampled.")
	require.Greater(t, pieces[len(pieces)-1].Page, 1)
}
