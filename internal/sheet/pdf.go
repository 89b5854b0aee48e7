package sheet

import (
	"fmt"
	"io"
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

func writePDF(w io.Writer, d Document) error {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(false, 0) // rows are placed by hand, see table.row
	pdf.AliasNbPages("")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pdfFooterHeight)
		pdf.SetFont("Helvetica", "I", 8)
		pdf.SetTextColor(96, 96, 96)
		pdf.CellFormat(0, 5, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	enc := newCP1252(pdf)
	pdf.AddPage()

	pdf.SetFont("Helvetica", "B", 14)
	pdf.MultiCell(0, 7, enc.text(d.Title), "", "L", false)
	pdf.SetFont("Helvetica", "", 9)
	for _, note := range d.Notes {
		pdf.MultiCell(0, 4.5, enc.text(note), "", "L", false)
	}
	pdf.Ln(3)

	if len(d.Table.Header) > 0 {
		t := pdfTable{pdf: pdf, enc: enc, doc: &d}
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

// pdfTable draws the document's table; columns beyond the header are not
// printed.
type pdfTable struct {
	pdf    *fpdf.Fpdf
	enc    *cp1252
	doc    *Document
	widths []float64
}

// layout shares the page width between the columns: each gets at least
// its longest word (so no word is broken across lines while the page can
// hold them all) and, when not every text fits on one line, a share of the
// rest in proportion to how much more its longest text needs (each text
// counted up to pdfMaxWeight characters).
func (t *pdfTable) layout() {
	n := len(t.doc.Table.Header)
	least, want := make([]float64, n), make([]float64, n)
	pad := 2*t.pdf.GetCellMargin() + 0.5
	measure := func(j int, text string, bold bool) {
		t.setCellFont(bold)
		enc := t.enc.text(text)
		for word := range strings.FieldsSeq(enc) {
			least[j] = max(least[j], t.pdf.GetStringWidth(word)+pad)
		}
		for line := range strings.SplitSeq(enc, "\n") {
			if len(line) > pdfMaxWeight {
				line = line[:pdfMaxWeight]
			}
			want[j] = max(want[j], t.pdf.GetStringWidth(line)+pad)
		}
	}
	for j, h := range t.doc.Table.Header {
		measure(j, h, true)
		for i, row := range t.doc.Table.Rows {
			if j < len(row) {
				measure(j, row[j], t.doc.Highlight[[2]int{i, j}])
			}
		}
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
	t.pdf.SetFont("Helvetica", "B", pdfFontSize)
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
		t.setCellFont(t.doc.Highlight[[2]int{i, j}])
		lines = max(lines, len(t.lines(c, t.widths[j])))
	}
	return float64(lines)*pdfLineHeight + 2*pdfCellPadding
}

func (t *pdfTable) setCellFont(bold bool) {
	style := ""
	if bold {
		style = "B"
	}
	t.pdf.SetFont("Helvetica", style, pdfFontSize)
}

// draw draws one row of cells at the current position, with a bold font and
// the fill colour for the cells fill says so.
func (t *pdfTable) draw(cells []string, fill func(j int) (bool, [3]int)) {
	bold := make([]bool, len(cells))
	lines := make([][]string, len(cells))
	n := 1
	for j, c := range cells {
		bold[j], _ = fill(j)
		t.setCellFont(bold[j])
		lines[j] = t.lines(c, t.widths[j])
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
		t.setCellFont(bold[j])
		align := "L"
		if isNumber(c) {
			align = "R"
		}
		for k, line := range lines[j] {
			t.pdf.SetXY(x, y+pdfCellPadding+float64(k)*pdfLineHeight)
			t.pdf.CellFormat(t.widths[j], pdfLineHeight, line, "", 0, align, false, 0, "")
		}
		x += t.widths[j]
	}
	t.pdf.SetXY(pdfMargin, y+height)
}

// lines wraps s to the width w in the current font, in at most pdfMaxLines
// lines, the last one cut with "..." if the text does not fit.
func (t *pdfTable) lines(s string, w float64) []string {
	raw := t.pdf.SplitLines([]byte(t.enc.text(s)), w)
	lines := make([]string, 0, min(len(raw), pdfMaxLines))
	for _, l := range raw[:min(len(raw), pdfMaxLines)] {
		lines = append(lines, string(l))
	}
	if len(raw) > pdfMaxLines {
		last := lines[pdfMaxLines-1]
		room := w - 2*t.pdf.GetCellMargin()
		for last != "" && t.pdf.GetStringWidth(last+"...") > room {
			last = last[:len(last)-1] // one byte is one character in cp1252
		}
		lines[pdfMaxLines-1] = last + "..."
	}
	return lines
}

// cp1252 converts UTF-8 text for fpdf's core fonts, which only know
// Windows-1252: characters outside it become "?", control characters spaces.
type cp1252 struct {
	translate func(string) string
	known     map[rune]bool
}

func newCP1252(pdf *fpdf.Fpdf) *cp1252 {
	return &cp1252{translate: pdf.UnicodeTranslatorFromDescriptor(""), known: map[rune]bool{}}
}

func (c *cp1252) text(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r < ' ' || r == 0x7F:
			return ' '
		case r < 0x80:
			return r
		}
		ok, seen := c.known[r]
		if !seen {
			ok = c.translate(string(r)) != "." // fpdf's mark for "cannot encode"
			c.known[r] = ok
		}
		if !ok {
			return '?'
		}
		return r
	}, s)
	return c.translate(s)
}
