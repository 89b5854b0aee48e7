// Package sheet reads and writes the platform's tabular files: CSV, Excel
// .xlsx, and PDF for printing.
package sheet

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"
)

// Format is a tabular file format.
type Format string

// The supported formats. PDF can only be written.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
	PDF  Format = "pdf"
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
// more than maxRows data rows.
var ErrTooManyRows = errors.New("too many rows")

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
	// Notes are printed under the title in the PDF; CSV and XLSX ignore them.
	Notes []string
	// Table is the content; RowLine is ignored.
	Table Table
	// Highlight marks cells to emphasise (PDF: bold and a light fill; XLSX:
	// bold and a fill; CSV: nothing), keyed by [row, column] index into
	// Table.Rows.
	Highlight map[[2]int]bool
}

// Read reads a CSV or XLSX file (the first worksheet) into a Table.
//
// The first non-empty row is the header: its cells are trimmed and
// lower-cased, and empty cells at its end are dropped. Entirely empty rows are
// skipped but still counted for line numbers. Cells are trimmed of
// surrounding white space. Data rows shorter than the header are padded with
// ""; empty cells beyond the header are dropped, while non-empty ones are kept,
// so such a row is longer than the header and the caller decides.
//
// CSV must be UTF-8 (a byte order mark is accepted), with \n or \r\n line
// ends and any number of fields per record. A CSV cell is read as written: a
// leading ' (as Write adds against formula injection) is kept.
//
// XLSX numbers are read as their value, not as displayed: 1250 formatted as
// "1,250" reads "1250", rounded to Excel's 15 significant digits and never in
// scientific notation; a fixed-decimals format pads the decimals ("0.00"
// makes 1250.5 read "1250.50"). Date and time cells read as ISO 8601
// ("2024-03-31", "2024-03-31 14:05:00", "14:05:00"), booleans as TRUE or
// FALSE, and text cells exactly as typed.
//
// maxRows limits the number of data rows (ErrTooManyRows); maxRows <= 0 means
// no limit. Read does not limit a CSV's size in bytes, so callers should limit
// the request body; an XLSX is refused beyond 64 MiB, packed or unpacked.
//
// Every error about the content wraps ErrMalformed and says what is wrong,
// with the line where there is one.
func Read(r io.Reader, f Format, maxRows int) (Table, error) {
	switch f {
	case CSV:
		return readCSV(r, maxRows)
	case XLSX:
		return readXLSX(r, maxRows)
	}
	return Table{}, fmt.Errorf("read %q: unsupported format", f)
}

// Write writes the document as CSV, XLSX or PDF.
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
// header repeated on every page; cells wrap to at most three lines, and text
// outside Windows-1252 (e.g. Chinese) is printed as "?".
func Write(w io.Writer, f Format, d Document) error {
	switch f {
	case CSV:
		return writeCSV(w, d.Table)
	case XLSX:
		return writeXLSX(w, d)
	case PDF:
		return writePDF(w, d)
	}
	return fmt.Errorf("write %q: unsupported format", f)
}

// tableBuilder turns the file's rows into a Table, applying the header, empty
// row, trimming and row limit rules shared by all formats.
type tableBuilder struct {
	t       Table
	maxRows int
}

// add takes the cells of the row on the given line; cells may be modified.
func (b *tableBuilder) add(cells []string, line int) error {
	last := -1
	for i, c := range cells {
		cells[i] = strings.TrimSpace(c)
		if cells[i] != "" {
			last = i
		}
	}
	if last < 0 {
		return nil
	}
	if b.t.Header == nil {
		return b.setHeader(cells[:last+1], line)
	}
	if b.maxRows > 0 && len(b.t.Rows) >= b.maxRows {
		return fmt.Errorf("%w: %w: the file has more than %d data rows", ErrMalformed, ErrTooManyRows, b.maxRows)
	}
	row := make([]string, max(len(b.t.Header), last+1))
	copy(row, cells[:last+1])
	b.t.Rows = append(b.t.Rows, row)
	b.t.RowLine = append(b.t.RowLine, line)
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
