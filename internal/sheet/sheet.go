// Package sheet reads and writes the platform's tabular files: CSV, Excel
// .xlsx, and PDF for printing; and writes documents of paragraphs and a
// table as Word .docx, for a party to edit.
package sheet

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Format is a tabular file format.
type Format string

// The supported formats. PDF and DOCX can only be written.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
	PDF  Format = "pdf"
	DOCX Format = "docx"
)

const xlsxContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// ContentType returns the MIME type of the format, or "" for an unknown
// format.
func (f Format) ContentType() string {
	switch f {
	case CSV:
		return "text/csv; charset=utf-8"
	case XLSX:
		return xlsxContentType
	case PDF:
		return "application/pdf"
	case DOCX:
		return docxContentType
	}
	return ""
}

// FormatFromContentType maps a request's Content-Type (parameters ignored,
// case-insensitive) to CSV or XLSX; ok is false for anything else.
func FormatFromContentType(ct string) (Format, bool) {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil { // malformed parameters: fall back to the bare media type
		mt, _, _ = strings.Cut(ct, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
	}
	switch mt {
	case "text/csv", "application/csv":
		return CSV, true
	case xlsxContentType:
		return XLSX, true
	}
	return "", false
}

// ErrMalformed is wrapped by every error about the file's content (not I/O of
// the reader or writer), so callers answer 400.
var ErrMalformed = errors.New("malformed file")

// ErrTooManyRows is wrapped (together with ErrMalformed) when the file has
// more than Limits.Rows data rows.
var ErrTooManyRows = errors.New("too many rows")

// ErrTooLarge is wrapped (together with ErrMalformed) when the file is
// beyond a size limit other than the rows: bytes, unpacked bytes, cells.
var ErrTooLarge = errors.New("file too large")

// Limits bound what Read takes from a file, so that reading costs memory in
// proportion to the rows and columns kept, whatever else the file holds.
// A zero field takes its default: 100,000 rows, 256 columns, 2,000,000
// cells, 32,767 characters (what an Excel cell holds).
type Limits struct {
	// Rows is the most data rows (ErrTooManyRows beyond).
	Rows int
	// Columns is the most header columns. A CSV record may have at most
	// this many fields, empty ones included.
	Columns int
	// Cells is the most cells: of the file, empty ones included (what
	// reading it takes), and of the table, data rows × header columns (what
	// holding it takes).
	Cells int
	// CellChars is the most characters in one cell.
	CellChars int
}

func (l Limits) orDefaults() Limits {
	d := Limits{Rows: 100_000, Columns: 256, Cells: 2_000_000, CellChars: 32_767}
	if l.Rows > 0 {
		d.Rows = l.Rows
	}
	if l.Columns > 0 {
		d.Columns = l.Columns
	}
	if l.Cells > 0 {
		d.Cells = l.Cells
	}
	if l.CellChars > 0 {
		d.CellChars = l.CellChars
	}
	return d
}

// Table is a header and data rows of strings. Rows are data rows only (header
// excluded). RowLine[i] is the 1-based line (CSV) or row (XLSX) number in the
// file of Rows[i], so validation reports can name the line the user sees in
// their editor.
type Table struct {
	Header  []string
	Rows    [][]string
	RowLine []int
}

// Document is what Write renders.
type Document struct {
	// Title names the XLSX sheet and heads the PDF; CSV ignores it.
	Title string
	// Notes are printed under the title in the PDF and DOCX, one paragraph
	// each; CSV and XLSX ignore them.
	Notes []string
	// Headings marks the notes, by index, that head a section (PDF: bold;
	// DOCX: in the Heading 1 style).
	Headings map[int]bool
	// Table is the content; RowLine is ignored.
	Table Table
	// Highlight marks cells to emphasise (PDF: bold and a light fill; XLSX:
	// bold and a fill; CSV: nothing), keyed by [row, column] index into
	// Table.Rows.
	Highlight map[[2]int]bool
	// Numbers are the values of cells whose text is a formatted number
	// ("USD 2,340.00"), keyed like Highlight: XLSX stores the value as a
	// number cell shown in its format; CSV and PDF write the text.
	Numbers map[[2]int]Number
}

// Number is a cell's value as a number, and the Excel number format it is
// shown in (`"USD "#,##0.00`).
type Number struct {
	Value  float64
	Format string
}

// Read reads a CSV or XLSX file (the first worksheet) into a Table.
//
// The first non-empty row is the header: its cells are trimmed and
// lower-cased, and empty cells at its end are dropped; it may have at most
// lim.Columns columns. Entirely empty rows are skipped but still counted for
// line numbers. Cells are trimmed of surrounding white space. Data rows are
// as long as the header, padded with "". An empty cell beyond the header's
// last column is ignored (it costs nothing, wherever it sits); a value
// there refuses the file, naming its line and column.
//
// A cell must be UTF-8 text of at most lim.CellChars characters without
// control characters other than tab and line feed (an XLSX cell's \r\n is
// read as \n); anything else refuses the file, naming the line and column.
//
// CSV must be UTF-8 (a byte order mark is accepted), with \n or \r\n line
// ends and any number of fields per record up to lim.Columns. A CSV cell is
// read as written: a leading ' (as Write adds against formula injection) is
// kept.
//
// XLSX numbers are read as their value, not as displayed: 1250 formatted as
// "1,250" reads "1250", rounded to Excel's 15 significant digits and never in
// scientific notation; a fixed-decimals format pads the decimals ("0.00"
// makes 1250.5 read "1250.50"). Date and time cells read as ISO 8601
// ("2024-03-31", "2024-03-31 14:05:00", "14:05:00"), booleans as TRUE or
// FALSE, text cells exactly as typed, and formulas as their last computed
// value. The worksheet is read as a stream and never as a whole; an XLSX is
// refused beyond 64 MiB packed or unpacked, or with shared strings beyond 32
// MiB unpacked, as read from its zip directory before anything is unpacked.
//
// Beyond lim.Rows data rows the error wraps ErrTooManyRows, beyond
// lim.Cells cells or a size limit ErrTooLarge. Read does not limit a CSV's
// size in bytes, so callers should limit the request body; the memory it
// takes is bounded by the limits, not by the size.
//
// Every error about the content wraps ErrMalformed and says what is wrong,
// with the line where there is one.
func Read(r io.Reader, f Format, lim Limits) (Table, error) {
	lim = lim.orDefaults()
	switch f {
	case CSV:
		return readCSV(r, lim)
	case XLSX:
		return readXLSX(r, lim)
	}
	return Table{}, fmt.Errorf("read %q: unsupported format", f)
}

// Write writes the document as CSV, XLSX, PDF or DOCX.
//
// CSV starts with a UTF-8 byte order mark so that Excel shows non-ASCII text
// correctly. XLSX has one sheet named after the title, a bold frozen header
// row and column widths fitted to the content; integers of up to 15 digits
// and plain decimals are written as numbers (decimals with a format keeping
// their decimal places), everything else as text, never as a formula. In CSV
// and in XLSX text cells, a value starting with = + - @ tab or carriage
// return that is not a number is prefixed with ' against formula injection.
//
// PDF is A4 landscape with the title, the notes, and the table with its
// header repeated on every page; cells wrap to at most three lines, at
// spaces and between Chinese, Japanese or Korean characters. Write prints
// PDFs in the core fonts, which know only Windows-1252: other characters
// (e.g. Chinese) are printed as "?". A Writer with a Font prints them.
//
// DOCX is the title, the notes as paragraphs (line feeds as line breaks,
// other control characters as spaces) and the table with its header row
// repeated on every page; every text is escaped as XML character data.
func Write(w io.Writer, f Format, d Document) error {
	return Writer{}.Write(w, f, d)
}

// Writer writes documents as Write does, and prints the text of PDFs that
// the core fonts cannot in its Font. The zero Writer is Write.
type Writer struct {
	// Font, when not nil, prints the characters of a PDF that
	// Windows-1252 lacks and Font has (the PDF embeds their glyphs); the
	// others keep Helvetica. A character neither has prints as "?".
	Font *Font
}

// Write writes the document as CSV, XLSX, PDF or DOCX.
func (wr Writer) Write(w io.Writer, f Format, d Document) error {
	switch f {
	case CSV:
		return writeCSV(w, d.Table)
	case XLSX:
		return writeXLSX(w, d)
	case PDF:
		return writePDF(w, d, wr.Font)
	case DOCX:
		return writeDOCX(w, d)
	}
	return fmt.Errorf("write %q: unsupported format", f)
}

// tableBuilder turns the file's cells into a Table, applying the header,
// empty row, trimming, text and limit rules shared by all formats. A row is
// given cell by cell, in any order, and only cells within the header's
// columns (before the header: within lim.Columns) take room, so where a
// cell sits costs nothing.
type tableBuilder struct {
	t    Table
	lim  Limits
	xlsx bool // names places as XLSX cells (B7) rather than CSV columns
	row  []string
	line int  // of the row being read
	any  bool // the row being read has a non-empty cell
	read int  // cells read from the file, empty ones too
}

// where names a cell for error messages: "line 7, column 2" (CSV) or
// "row 7, cell B7" (XLSX). col is 0-based.
func (b *tableBuilder) where(line, col int) string {
	if b.xlsx {
		return fmt.Sprintf("row %d, cell %s%d", line, columnName(col), line)
	}
	return fmt.Sprintf("line %d, column %d", line, col+1)
}

// startRow begins the row on the given line.
func (b *tableBuilder) startRow(line int) {
	b.row, b.line, b.any = b.row[:0], line, false
}

// cell sets the 0-based column col of the current row to v, trimmed; line
// is where the cell starts (a CSV record may span lines). v must be valid
// UTF-8 (XML is; CSV is checked by readCSV). Every cell of the file is
// given, empty or not, to be counted.
func (b *tableBuilder) cell(line, col int, v string) error {
	return b.put(line, col, strings.TrimSpace(v), "", true)
}

// checkedCell is cell for a trimmed v whose textProblem is known: a shared
// string, which many cells may use, is checked only once.
func (b *tableBuilder) checkedCell(line, col int, v, problem string) error {
	return b.put(line, col, v, problem, false)
}

func (b *tableBuilder) put(line, col int, v, problem string, check bool) error {
	if b.read++; b.read > b.lim.Cells {
		return fmt.Errorf("%w: %w: the file has more than %d cells", ErrMalformed, ErrTooLarge, b.lim.Cells)
	}
	if v == "" {
		return nil
	}
	width := b.lim.Columns
	if b.t.Header != nil {
		width = len(b.t.Header)
	}
	if col >= width {
		if b.t.Header == nil {
			return fmt.Errorf("%w: %s: the header has more than %d columns", ErrMalformed, b.where(line, col), b.lim.Columns)
		}
		return fmt.Errorf("%w: %s: a value beyond the header's last column (%d, %q): delete it, or name its column in the header",
			ErrMalformed, b.where(line, col), width, b.t.Header[width-1])
	}
	if check {
		problem = textProblem(v, b.lim.CellChars)
	}
	if problem != "" {
		return fmt.Errorf("%w: %s: %s", ErrMalformed, b.where(line, col), problem)
	}
	for len(b.row) <= col {
		b.row = append(b.row, "")
	}
	b.row[col], b.any = v, true
	return nil
}

// endRow adds the current row to the table, unless it is empty.
func (b *tableBuilder) endRow() error {
	if !b.any {
		return nil
	}
	if b.t.Header == nil {
		last := len(b.row) - 1
		for b.row[last] == "" {
			last--
		}
		return b.setHeader(b.row[:last+1], b.line)
	}
	if len(b.t.Rows) >= b.lim.Rows {
		return fmt.Errorf("%w: %w: the file has more than %d data rows", ErrMalformed, ErrTooManyRows, b.lim.Rows)
	}
	width := len(b.t.Header)
	if (len(b.t.Rows)+1)*width > b.lim.Cells {
		return fmt.Errorf("%w: %w: the file has more than %d cells (data rows × header columns)", ErrMalformed, ErrTooLarge, b.lim.Cells)
	}
	row := make([]string, width)
	copy(row, b.row)
	b.t.Rows = append(b.t.Rows, row)
	b.t.RowLine = append(b.t.RowLine, b.line)
	return nil
}

func (b *tableBuilder) setHeader(cells []string, line int) error {
	header := make([]string, len(cells))
	first := make(map[string]int, len(cells)) // name → 1-based column
	var problems []string
	for i, c := range cells {
		name := strings.ToLower(c)
		header[i] = name
		switch prev, dup := first[name]; {
		case name == "":
			problems = append(problems, "column "+strconv.Itoa(i+1)+" has no name")
		case dup:
			problems = append(problems, fmt.Sprintf("column %q appears twice (columns %d and %d)", name, prev, i+1))
		default:
			first[name] = i + 1
		}
	}
	if problems != nil {
		return fmt.Errorf("%w: header row (line %d): %s", ErrMalformed, line, strings.Join(problems, "; "))
	}
	b.t.Header = header
	return nil
}

func (b *tableBuilder) table() (Table, error) {
	if b.t.Header == nil {
		return Table{}, fmt.Errorf("%w: the file has no header row", ErrMalformed)
	}
	return b.t, nil
}

// textProblem says what is wrong with the text of a cell, or "": more than
// maxChars characters, or a control character other than tab and line feed
// (the platform's rule for text). s is valid UTF-8.
func textProblem(s string, maxChars int) string {
	n := 0
	for _, r := range s {
		n++
		if r != '\t' && r != '\n' && unicode.IsControl(r) {
			return fmt.Sprintf("the cell holds the control character %U; only tabs and line breaks may be in a cell", r)
		}
	}
	if n > maxChars {
		return fmt.Sprintf("the cell has %d characters, more than %d", n, maxChars)
	}
	return ""
}

// columnName is the spreadsheet name of the 0-based column col: A, B, ...,
// Z, AA, ...
func columnName(col int) string {
	var b []byte
	for col++; col > 0; col = (col - 1) / 26 {
		b = append(b, byte('A'+(col-1)%26))
	}
	slices.Reverse(b)
	return string(b)
}

// isNumber reports whether s is a plain decimal number such as "-5", "+3",
// "1250.50" or "1e6" (not "Inf", "NaN" or hexadecimal).
func isNumber(s string) bool {
	if s == "" || strings.Trim(s, "0123456789.+-eE") != "" {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// defuse prefixes s with ' if a spreadsheet could take it for a formula.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) && !isNumber(s) {
		return "'" + s
	}
	return s
}
