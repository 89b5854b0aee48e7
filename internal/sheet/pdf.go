package sheet

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/go-pdf/fpdf"
)

// PDF layout, in millimetres and points.
const (
	pdfMargin       = 10.0
	pdfFooterHeight = 10.0
	pdfFontSize     = 8.0
	pdfLineHeight   = 4.0
	pdfCellPadding  = 0.6 // above and below the lines of a cell
	pdfMaxLines     = 3   // per cell; longer text is cut with "..."
	pdfMinWeight    = 4   // a column's share of the width, in characters
	pdfMaxWeight    = 40
)

// writePDF writes d as a PDF, the texts the core fonts cannot print in
// font when there is one.
func writePDF(w io.Writer, d Document, font *Font) error {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(false, 0) // rows and lines are placed by hand, see pdfTable.row and pdfWriter.paragraph
	pdf.AliasNbPages("")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pdfFooterHeight)
		pdf.SetFont("Helvetica", "I", 8)
		pdf.SetTextColor(96, 96, 96)
		pdf.CellFormat(0, 5, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	p := &pdfWriter{pdf: pdf, enc: newCP1252(pdf), font: font, glyph: map[rune]bool{}}
	if err := p.addFontFor(d); err != nil {
		return err
	}
	pdf.AddPage()

	p.paragraph(d.Title, "B", 14, 7)
	for i, note := range d.Notes {
		if d.Headings[i] {
			pdf.Ln(2)
			p.paragraph(note, "B", 10, 5)
			continue
		}
		p.paragraph(note, "", 9, 4.5)
	}
	pdf.Ln(3)

	if len(d.Table.Header) > 0 {
		t := pdfTable{p: p, pdf: pdf, doc: &d}
		t.layout()
		t.header()
		for i := range d.Table.Rows {
			t.row(i)
		}
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("write pdf: %w", err)
	}
	return nil
}

// pdfWriter prints the texts of a document, each character in Helvetica
// (a core font, Windows-1252 only) when it can, in the TrueType font
// otherwise: the Latin look stays, and a font of Chinese alone (as
// fonts-droid-fallback's is) serves.
type pdfWriter struct {
	pdf  *fpdf.Fpdf
	enc  *cp1252
	font *Font // nil: Helvetica alone
	// glyph caches font.has for the document's characters.
	glyph map[rune]bool
}

// addFontFor adds to the PDF the part of the TrueType font that d's texts
// need, if any.
func (p *pdfWriter) addFontFor(d Document) error {
	if p.font == nil {
		return nil
	}
	chars := map[rune]bool{}
	add := func(s string) {
		for _, r := range s {
			if p.inFont(r) {
				chars[r] = true
			}
		}
	}
	add(d.Title)
	for _, n := range d.Notes {
		add(n)
	}
	for _, h := range d.Table.Header {
		add(h)
	}
	for _, row := range d.Table.Rows {
		for j, c := range row {
			if j < len(d.Table.Header) {
				add(c)
			}
		}
	}
	if len(chars) == 0 {
		return nil
	}
	return addTrueType(p.pdf, p.font, slices.Collect(maps.Keys(chars)))
}

// inFont reports whether r prints in the TrueType font: Windows-1252
// lacks it and the font has it.
func (p *pdfWriter) inFont(r rune) bool {
	if p.font == nil || p.enc.has(r) {
		return false
	}
	ok, seen := p.glyph[r]
	if !seen {
		ok = p.font.has(r)
		p.glyph[r] = ok
	}
	return ok
}

// set takes s as printed in style ("" or "B") and size: control characters
// other than "\n" as spaces, and a character neither font has as "?".
func (p *pdfWriter) set(s, style string, size float64) fontText {
	t := fontText{style: style, size: size}
	var enc strings.Builder
	anyInFont := false
	for _, r := range s {
		t.at = append(t.at, enc.Len())
		inFont := false
		switch {
		case r == '\n':
		case r < ' ' || r == 0x7F:
			r = ' '
		case p.inFont(r):
			inFont, anyInFont = true, true
		case !p.enc.has(r):
			r = '?'
		}
		t.runes = append(t.runes, r)
		t.inFont = append(t.inFont, inFont)
		if inFont {
			enc.WriteRune(r)
		} else {
			enc.WriteByte(p.enc.byteOf(r))
		}
	}
	t.at = append(t.at, enc.Len())
	t.enc = enc.String()
	t.width = make([]float64, len(t.runes))
	p.pdf.SetFont("Helvetica", style, size)
	t.dots = p.pdf.GetStringWidth("...")
	for i, inFont := range t.inFont {
		if !inFont {
			t.width[i] = p.pdf.GetStringWidth(t.text(i, i+1))
		}
	}
	if anyInFont {
		p.pdf.SetFont(pdfTrueType, "", size)
		for i, inFont := range t.inFont {
			if inFont {
				t.width[i] = p.pdf.GetStringWidth(t.text(i, i+1))
			}
		}
	}
	return t
}

// show prints line l of t in a cell of width w and height h whose top left
// corner is (x, y), aligned "L" or "R", as fpdf's CellFormat would: each
// run of characters of one font in that font, the TrueType font's in bold
// made from its regular face (it has no bold).
func (p *pdfWriter) show(t fontText, l textLine, x, y, w, h float64, align string) {
	width := t.widthOf(l.from, l.to)
	if l.dots {
		width += t.dots
	}
	margin := p.pdf.GetCellMargin()
	if align == "R" {
		x += w - margin - width
	} else {
		x += margin
	}
	p.pdf.SetFont("Helvetica", t.style, t.size)
	_, unit := p.pdf.GetFontSize()
	baseline := y + h/2 + 0.3*unit
	for from := l.from; from < l.to; {
		to := from + 1
		for to < l.to && t.inFont[to] == t.inFont[from] {
			to++
		}
		if t.inFont[from] {
			p.pdf.SetFont(pdfTrueType, "", t.size)
			p.fauxBold(t.style == "B", func() { p.pdf.Text(x, baseline, t.text(from, to)) })
		} else {
			p.pdf.SetFont("Helvetica", t.style, t.size)
			p.pdf.Text(x, baseline, t.text(from, to))
		}
		x += t.widthOf(from, to)
		from = to
	}
	if l.dots {
		p.pdf.SetFont("Helvetica", t.style, t.size)
		p.pdf.Text(x, baseline, "...")
	}
}

// fauxBold calls print, in bold when on: each glyph filled, then outlined
// in the text's colour with a line of 3 % of the font size.
func (p *pdfWriter) fauxBold(on bool, print func()) {
	if !on {
		print()
		return
	}
	lw := p.pdf.GetLineWidth()
	dr, dg, db := p.pdf.GetDrawColor()
	_, unit := p.pdf.GetFontSize()
	p.pdf.SetDrawColor(p.pdf.GetTextColor())
	p.pdf.SetLineWidth(unit * 0.03)
	p.pdf.SetTextRenderingMode(2)
	print()
	p.pdf.SetTextRenderingMode(0)
	p.pdf.SetLineWidth(lw)
	p.pdf.SetDrawColor(dr, dg, db)
}

// paragraph prints s across the page in lines of height h, on the next
// page when the page is full.
func (p *pdfWriter) paragraph(s, style string, size, h float64) {
	t := p.set(s, style, size)
	pageWidth, pageHeight := p.pdf.GetPageSize()
	width := pageWidth - 2*pdfMargin
	for _, l := range t.wrap(width - 2*p.pdf.GetCellMargin()) {
		if p.pdf.GetY()+h > pageHeight-pdfMargin-pdfFooterHeight {
			p.pdf.AddPage()
		}
		p.show(t, l, pdfMargin, p.pdf.GetY(), width, h, "L")
		p.pdf.SetXY(pdfMargin, p.pdf.GetY()+h)
	}
}

// pdfTable draws the document's table; columns beyond the header are not
// printed.
type pdfTable struct {
	p      *pdfWriter
	pdf    *fpdf.Fpdf
	doc    *Document
	widths []float64
}

func cellStyle(bold bool) string {
	if bold {
		return "B"
	}
	return ""
}

// layout shares the page width between the columns: each gets at least
// its widest word (so no word is broken across lines while the page can
// hold them all; in Chinese, Japanese and Korean text a character is a
// word) and, when not every text fits on one line, a share of the rest in
// proportion to how much more its longest text needs (each text counted up
// to pdfMaxWeight characters).
func (t *pdfTable) layout() {
	n := len(t.doc.Table.Header)
	least, want := make([]float64, n), make([]float64, n)
	pad := 2*t.pdf.GetCellMargin() + 0.5
	measure := func(j int, text string, bold bool) {
		s := t.p.set(text, cellStyle(bold), pdfFontSize)
		least[j] = max(least[j], s.widestWord()+pad)
		want[j] = max(want[j], s.longestLine(pdfMaxWeight)+pad)
	}
	for j, h := range t.doc.Table.Header {
		measure(j, h, true)
		for i, row := range t.doc.Table.Rows {
			if j < len(row) {
				measure(j, row[j], t.doc.Highlight[[2]int{i, j}])
			}
		}
		t.pdf.SetFont("Helvetica", "", pdfFontSize)
		least[j] = max(least[j], pdfMinWeight*t.pdf.GetStringWidth("0")+pad)
		want[j] = max(want[j], least[j])
	}
	pageWidth, _ := t.pdf.GetPageSize()
	usable := pageWidth - 2*pdfMargin
	sumLeast, sumWant := 0.0, 0.0
	for j := range least {
		sumLeast += least[j]
		sumWant += want[j]
	}
	t.widths = make([]float64, n)
	for j := range least {
		switch {
		case sumWant <= usable: // every text on one line: spread the rest
			t.widths[j] = want[j] * usable / sumWant
		case sumLeast >= usable: // too many words for the page: shrink them all
			t.widths[j] = least[j] * usable / sumLeast
		default: // each its longest word, and a share of the rest by need
			t.widths[j] = least[j] + (usable-sumLeast)*(want[j]-least[j])/(sumWant-sumLeast)
		}
	}
}

func (t *pdfTable) header() {
	t.draw(t.doc.Table.Header, func(int) (bool, [3]int) { return true, [3]int{217, 217, 217} })
}

// row draws data row i, on a new page under a repeated header if it does not
// fit on the current one.
func (t *pdfTable) row(i int) {
	cells := make([]string, len(t.widths))
	copy(cells, t.doc.Table.Rows[i])
	_, pageHeight := t.pdf.GetPageSize()
	if t.pdf.GetY()+t.height(cells, i) > pageHeight-pdfMargin-pdfFooterHeight {
		t.pdf.AddPage()
		t.header()
	}
	t.draw(cells, func(j int) (bool, [3]int) {
		if t.doc.Highlight[[2]int{i, j}] {
			return true, [3]int{255, 242, 204}
		}
		return false, [3]int{}
	})
}

// height is the height data row i will take.
func (t *pdfTable) height(cells []string, i int) float64 {
	lines := 1
	for j, c := range cells {
		_, ls := t.lines(c, t.widths[j], t.doc.Highlight[[2]int{i, j}])
		lines = max(lines, len(ls))
	}
	return float64(lines)*pdfLineHeight + 2*pdfCellPadding
}

// draw draws one row of cells at the current position, with a bold font and
// the fill colour for the cells fill says so.
func (t *pdfTable) draw(cells []string, fill func(j int) (bool, [3]int)) {
	texts := make([]fontText, len(cells))
	lines := make([][]textLine, len(cells))
	n := 1
	for j, c := range cells {
		bold, _ := fill(j)
		texts[j], lines[j] = t.lines(c, t.widths[j], bold)
		n = max(n, len(lines[j]))
	}
	height := float64(n)*pdfLineHeight + 2*pdfCellPadding
	x, y := t.pdf.GetXY()
	t.pdf.SetDrawColor(160, 160, 160)
	for j, c := range cells {
		style := "D"
		if filled, rgb := fill(j); filled {
			t.pdf.SetFillColor(rgb[0], rgb[1], rgb[2])
			style = "FD"
		}
		t.pdf.Rect(x, y, t.widths[j], height, style)
		align := "L"
		if isNumber(c) {
			align = "R"
		}
		for k, line := range lines[j] {
			t.p.show(texts[j], line, x, y+pdfCellPadding+float64(k)*pdfLineHeight, t.widths[j], pdfLineHeight, align)
		}
		x += t.widths[j]
	}
	t.pdf.SetXY(pdfMargin, y+height)
}

// lines wraps s to the width w, in at most pdfMaxLines lines, the last one
// cut with "..." if the text does not fit.
func (t *pdfTable) lines(s string, w float64, bold bool) (fontText, []textLine) {
	text := t.p.set(s, cellStyle(bold), pdfFontSize)
	room := w - 2*t.pdf.GetCellMargin()
	lines := text.wrap(room)
	if len(lines) <= pdfMaxLines {
		return text, lines
	}
	last := lines[pdfMaxLines-1]
	for last.to > last.from && text.widthOf(last.from, last.to)+text.dots > room {
		last.to--
	}
	last.dots = true
	lines[pdfMaxLines-1] = last
	return text, lines[:pdfMaxLines]
}

// cp1252 encodes text for fpdf's core fonts, which only know Windows-1252.
type cp1252 struct {
	translate func(string) string
	// code is the byte of each character seen beyond ASCII, -1 for those
	// Windows-1252 lacks.
	code map[rune]int
}

func newCP1252(pdf *fpdf.Fpdf) *cp1252 {
	return &cp1252{translate: pdf.UnicodeTranslatorFromDescriptor(""), code: map[rune]int{}}
}

// has reports whether Windows-1252 has r.
func (c *cp1252) has(r rune) bool { return c.lookUp(r) >= 0 }

// byteOf is r in Windows-1252, which must have it.
func (c *cp1252) byteOf(r rune) byte { return byte(c.lookUp(r)) }

func (c *cp1252) lookUp(r rune) int {
	if r < 0x80 {
		return int(r)
	}
	code, seen := c.code[r]
	if !seen {
		code = -1
		if b := c.translate(string(r)); b != "." && len(b) == 1 { // "." is fpdf's mark for "cannot encode"
			code = int(b[0])
		}
		c.code[r] = code
	}
	return code
}
