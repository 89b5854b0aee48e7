package sheet

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// numFormat is what Read needs to know about a cell's number format.
type numFormat struct {
	date     bool
	decimals int // fixed decimal places, 0 if none
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
func formatCodeTokens(code string) string { return formatSections(code)[0] }

// formatSections returns the sections of a number format code (positive;
// negative; zero; text) as formatCodeTokens does the first; there is at
// least one.
func formatSections(code string) []string {
	var sections []string
	var b strings.Builder
	rs := []rune(strings.ToLower(code))
	for i := 0; i < len(rs); i++ {
		switch rs[i] {
		case ';':
			sections = append(sections, b.String())
			b.Reset()
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
	return append(sections, b.String())
}

// numFormatOf is what the number format numFmtID means to Read: a built-in
// one by its ID, else the custom one in custom, else General.
func numFormatOf(numFmtID int, custom map[int]string) numFormat {
	var nf numFormat
	switch id := numFmtID; {
	case (id >= 0 && id <= 4) || (id >= 9 && id <= 22) || (id >= 27 && id <= 62) || (id >= 67 && id <= 81):
		nf.date = isBuiltInDateFormat(id)
		switch id {
		case 2, 4, 39, 40, 43, 44: // 0.00, #,##0.00 and the accounting formats with cents
			nf.decimals = 2
		}
	default:
		code, ok := custom[id]
		if !ok {
			return nf
		}
		nf.date = isDateFormatCode(code)
		if !strings.ContainsAny(formatCodeTokens(code), "%e?/") { // not percent, scientific or fraction
			nf.decimals = codeDecimals(code)
		}
	}
	return nf
}

// codeDecimals is the number of fixed decimal places of a custom number
// format: of its first section, if the second (negative numbers) has as
// many or there is none; else 0.
func codeDecimals(code string) int {
	sections := formatSections(code)
	decimals, point := sectionDecimals(sections[0])
	if len(sections) > 1 {
		if neg, negPoint := sectionDecimals(sections[1]); !negPoint || neg != decimals {
			return 0
		}
	}
	if !point {
		return 0
	}
	return decimals
}

// sectionDecimals returns the 0 placeholders after the decimal point of a
// section as formatSections returns it, and whether it has a point.
func sectionDecimals(section string) (decimals int, point bool) {
	run := 0
	for _, r := range section + " " {
		if r == '0' {
			run++
			continue
		}
		if point && run > 0 {
			decimals = run
		}
		run = 0
		if r == '.' {
			point = true
		}
	}
	return decimals, point
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
			format := ""
			if n, ok := d.Numbers[[2]int{i, j}]; ok {
				value, decimals, format = n.Value, 0, n.Format
			}
			id, err := styles.cell(d.Highlight[[2]int{i, j}], decimals, format)
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
	format    string
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

// cell is the style of a cell: highlighted or not, with a number format
// (format, else one of decimals places, else none).
func (s *xlsxStyles) cell(highlight bool, decimals int, format string) (int, error) {
	key := xlsxStyleKey{highlight, decimals, format}
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
	switch {
	case format != "":
		style.CustomNumFmt = &format
	case decimals > 0:
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
