package sheet

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Zip bomb guards: the largest .xlsx accepted, packed or unpacked, and the
// size above which excelize unpacks a worksheet to a temporary file instead
// of memory.
const (
	maxXLSXSize       = 64 << 20
	unzipXMLSizeLimit = 32 << 20
)

func readXLSX(r io.Reader, maxRows int) (Table, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxXLSXSize+1))
	if err != nil {
		return Table{}, fmt.Errorf("read xlsx: %w", err)
	}
	b := tableBuilder{maxRows: maxRows}
	if len(data) == 0 {
		return b.table()
	}
	if len(data) > maxXLSXSize {
		return Table{}, fmt.Errorf("%w: the file is larger than %d MiB", ErrMalformed, maxXLSXSize>>20)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    maxXLSXSize,
		UnzipXMLSizeLimit: unzipXMLSizeLimit,
	})
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		return Table{}, fmt.Errorf("%w: not an Excel .xlsx file (%v)", ErrMalformed, err)
	}
	defer func() { _ = f.Close() }() // only removes temporary files
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return Table{}, fmt.Errorf("%w: not an Excel .xlsx file (no worksheet)", ErrMalformed)
	}
	if err := streamRows(f, sheets[0], &b); err != nil {
		return Table{}, err
	}
	t, err := b.table()
	if err != nil {
		return Table{}, err
	}
	// Only now that the row limit is checked, load the worksheet's cell types
	// and styles, which excelize does in memory.
	c := cellReader{f: f, sheet: sheets[0], formats: map[int]numFormat{}}
	if p, err := f.GetWorkbookProps(); err == nil && p.Date1904 != nil {
		c.date1904 = *p.Date1904
	}
	for i, row := range t.Rows {
		for j, v := range row {
			if !isNumber(v) {
				continue
			}
			ref, err := excelize.CoordinatesToCellName(j+1, t.RowLine[i])
			if err != nil {
				return Table{}, fmt.Errorf("%w: row %d, column %d: %v", ErrMalformed, t.RowLine[i], j+1, err)
			}
			if row[j], err = c.value(ref, v); err != nil {
				return Table{}, err
			}
		}
	}
	return t, nil
}

// streamRows feeds the raw cell values of the sheet's rows to b.
func streamRows(f *excelize.File, sheet string, b *tableBuilder) error {
	rows, err := f.Rows(sheet)
	if err != nil {
		return fmt.Errorf("%w: worksheet %q: %v", ErrMalformed, sheet, err)
	}
	defer func() { _ = rows.Close() }()
	for line := 1; rows.Next(); line++ {
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return fmt.Errorf("%w: row %d: %v", ErrMalformed, line, err)
		}
		if err := b.add(cells, line); err != nil {
			return err
		}
	}
	if err := rows.Error(); err != nil {
		return fmt.Errorf("%w: worksheet %q: %v", ErrMalformed, sheet, err)
	}
	return nil
}

// cellReader turns the raw value of a numeric-looking cell into the string
// the user means, using the cell's type and number format.
type cellReader struct {
	f        *excelize.File
	sheet    string
	date1904 bool
	formats  map[int]numFormat // by style ID
}

// numFormat is what Read needs to know about a cell's number format.
type numFormat struct {
	date     bool
	decimals int // fixed decimal places, 0 if none
}

func (c *cellReader) value(ref, raw string) (string, error) {
	typ, err := c.f.GetCellType(c.sheet, ref)
	if err != nil {
		return "", fmt.Errorf("%w: cell %s: %v", ErrMalformed, ref, err)
	}
	switch typ {
	case excelize.CellTypeBool:
		switch raw {
		case "1":
			return "TRUE", nil
		case "0":
			return "FALSE", nil
		}
		return raw, nil
	case excelize.CellTypeUnset, excelize.CellTypeNumber:
	default: // text, which may look like a number: keep it as typed
		return raw, nil
	}
	x, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return raw, nil
	}
	style, err := c.f.GetCellStyle(c.sheet, ref)
	if err != nil {
		return "", fmt.Errorf("%w: cell %s: %v", ErrMalformed, ref, err)
	}
	nf := c.format(style)
	if nf.date {
		if t, err := excelize.ExcelDateToTime(x, c.date1904); err == nil {
			return formatDateTime(t, x), nil
		}
	}
	return padDecimals(formatNumber(x), nf.decimals), nil
}

func (c *cellReader) format(style int) numFormat {
	if nf, ok := c.formats[style]; ok {
		return nf
	}
	var nf numFormat
	if s, err := c.f.GetStyle(style); err == nil { // else: treat as General
		fixed := true
		if s.CustomNumFmt != nil {
			code := formatCodeTokens(*s.CustomNumFmt)
			nf.date = isDateFormatCode(*s.CustomNumFmt)
			fixed = !strings.ContainsAny(code, "%e?/")
		} else {
			nf.date = isBuiltInDateFormat(s.NumFmt)
			switch s.NumFmt {
			case 9, 10, 11, 12, 13, 48: // percent, scientific, fraction
				fixed = false
			}
		}
		if fixed && s.DecimalPlaces != nil {
			nf.decimals = *s.DecimalPlaces
		}
	}
	c.formats[style] = nf
	return nf
}

// isBuiltInDateFormat reports whether a built-in number format ID shows a
// date or time, including the East Asian locale formats (27-36, 50-58).
func isBuiltInDateFormat(id int) bool {
	return (id >= 14 && id <= 22) || (id >= 27 && id <= 36) || id == 45 || id == 47 || (id >= 50 && id <= 58)
}

// isDateFormatCode reports whether a custom number format shows a date or a
// time of day (not an elapsed duration such as [h]:mm).
func isDateFormatCode(code string) bool {
	lower := strings.ToLower(code)
	if strings.Contains(lower, "[h") || strings.Contains(lower, "[m") || strings.Contains(lower, "[s") {
		return false
	}
	return strings.ContainsAny(formatCodeTokens(code), "ymdhs")
}

// formatCodeTokens returns the first section of a number format code,
// lower-cased, without its literal text: quoted strings, \x escapes, _x
// spacers, *x fills and [..] colours, conditions and locales.
func formatCodeTokens(code string) string {
	var b strings.Builder
	rs := []rune(strings.ToLower(code))
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case ';':
			return b.String()
		case '"':
			for i++; i < len(rs) && rs[i] != '"'; i++ {
			}
		case '[':
			for i++; i < len(rs) && rs[i] != ']'; i++ {
			}
		case '\\', '_', '*':
			i++
		default:
			b.WriteRune(rs[i])
		}
	}
	return b.String()
}

// formatDateTime formats an Excel date serial x, already converted to t, in
// ISO 8601: a date, a date and time, or a time of day if x < 1.
func formatDateTime(t time.Time, x float64) string {
	switch {
	case x < 1:
		return t.Format(time.TimeOnly)
	case t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0:
		return t.Format(time.DateOnly)
	}
	return t.Format(time.DateTime)
}

// formatNumber formats x as Excel shows it: rounded to 15 significant
// digits, and not in scientific notation unless it is huge or tiny.
func formatNumber(x float64) string {
	y, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 15, 64), 64)
	if a := math.Abs(y); a == 0 {
		return "0"
	} else if a >= 1e21 || a < 1e-9 {
		return strconv.FormatFloat(y, 'g', -1, 64)
	}
	return strconv.FormatFloat(y, 'f', -1, 64)
}

// padDecimals adds zeros to the plain number s up to n decimal places.
func padDecimals(s string, n int) string {
	if n <= 0 || strings.ContainsAny(s, "eE") {
		return s
	}
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) >= n {
		return s
	}
	return whole + "." + frac + strings.Repeat("0", n-len(frac))
}

func writeXLSX(w io.Writer, d Document) error {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }() // only removes temporary files
	name := sheetName(d.Title)
	if name != "Sheet1" {
		if err := f.SetSheetName("Sheet1", name); err != nil {
			return fmt.Errorf("write xlsx: sheet name %q: %w", name, err)
		}
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	styles, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	for j, width := range columnWidths(d.Table) {
		if err := sw.SetColWidth(j+1, j+1, width); err != nil {
			return fmt.Errorf("write xlsx: column %d width: %w", j+1, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("write xlsx: freeze header: %w", err)
	}
	header := make([]any, len(d.Table.Header))
	for j, h := range d.Table.Header {
		header[j] = excelize.Cell{StyleID: styles.header, Value: defuse(h)}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return fmt.Errorf("write xlsx: header: %w", err)
	}
	for i, row := range d.Table.Rows {
		cells := make([]any, len(row))
		for j, v := range row {
			value, decimals := xlsxValue(v)
			id, err := styles.cell(d.Highlight[[2]int{i, j}], decimals)
			if err != nil {
				return err
			}
			cells[j] = excelize.Cell{StyleID: id, Value: value}
		}
		ref, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return fmt.Errorf("write xlsx: row %d: %w", i+1, err)
		}
		if err := sw.SetRow(ref, cells); err != nil {
			return fmt.Errorf("write xlsx: row %d: %w", i+1, err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	if err := f.Write(w); err != nil {
		return fmt.Errorf("write xlsx: %w", err)
	}
	return nil
}

// xlsxValue returns what to store for the cell text s: an int64 for an
// integer, a float64 and its number of decimals for a plain decimal, or the
// (defused) string. Numbers are only stored as numbers if Excel keeps them
// exactly: no leading zeros, no plus sign, at most 15 significant digits.
func xlsxValue(s string) (any, int) {
	if !isNumber(s) {
		return defuse(s), 0
	}
	body, neg := strings.CutPrefix(s, "-")
	whole, frac, dot := strings.Cut(body, ".")
	if !isDigits(whole) || (len(whole) > 1 && whole[0] == '0') || (dot && !isDigits(frac)) ||
		len(strings.TrimLeft(whole+frac, "0")) > 15 {
		return s, 0
	}
	if !dot {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && !(neg && n == 0) {
			return n, 0
		}
		return s, 0
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil && !(neg && x == 0) {
		return x, len(frac)
	}
	return s, 0
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// xlsxStyles creates the written workbook's styles on first use.
type xlsxStyles struct {
	f      *excelize.File
	header int
	cells  map[xlsxStyleKey]int
}

type xlsxStyleKey struct {
	highlight bool
	decimals  int
}

func newXLSXStyles(f *excelize.File) (*xlsxStyles, error) {
	header, err := f.NewStyle(&excelize.Style{
		Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"D9D9D9"}},
	})
	if err != nil {
		return nil, fmt.Errorf("write xlsx: header style: %w", err)
	}
	return &xlsxStyles{f: f, header: header, cells: map[xlsxStyleKey]int{}}, nil
}

func (s *xlsxStyles) cell(highlight bool, decimals int) (int, error) {
	key := xlsxStyleKey{highlight, decimals}
	if key == (xlsxStyleKey{}) {
		return 0, nil
	}
	if id, ok := s.cells[key]; ok {
		return id, nil
	}
	var style excelize.Style
	if highlight {
		style.Font = &excelize.Font{Bold: true}
		style.Fill = excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FFF2CC"}}
	}
	if decimals > 0 {
		code := "0." + strings.Repeat("0", decimals)
		style.CustomNumFmt = &code
	}
	id, err := s.f.NewStyle(&style)
	if err != nil {
		return 0, fmt.Errorf("write xlsx: cell style: %w", err)
	}
	s.cells[key] = id
	return id, nil
}

// sheetName makes an Excel sheet name of the title: without []:*?/\ and
// runs of spaces, not starting or ending with ', at most 31 characters,
// "Sheet1" if empty.
func sheetName(title string) string {
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) || r < ' ' {
			return -1
		}
		return r
	}, title)
	name = strings.Trim(strings.Join(strings.Fields(name), " "), "' ")
	if rs := []rune(name); len(rs) > 31 {
		name = strings.TrimRight(string(rs[:31]), "' ")
	}
	if name == "" {
		return "Sheet1"
	}
	return name
}

// columnWidths fits each column to its longest line of text, counting wide
// (CJK) characters twice, within [8, 60] characters.
func columnWidths(t Table) []float64 {
	n := len(t.Header)
	for _, row := range t.Rows {
		n = max(n, len(row))
	}
	widths := make([]float64, n)
	measure := func(cells []string) {
		for j, c := range cells {
			widths[j] = max(widths[j], float64(textWidth(c)+2))
		}
	}
	measure(t.Header)
	for _, row := range t.Rows {
		measure(row)
	}
	for j := range widths {
		widths[j] = min(max(widths[j], 8), 60)
	}
	return widths
}

// textWidth is the length of the longest line of s in character cells.
func textWidth(s string) int {
	longest := 0
	for line := range strings.SplitSeq(s, "\n") {
		n := 0
		for _, r := range line {
			n++
			if r >= 0x2E80 { // CJK and other wide scripts
				n++
			}
		}
		longest = max(longest, n)
	}
	return longest
}
