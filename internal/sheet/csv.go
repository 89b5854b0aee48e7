package sheet

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

const utf8BOM = "\xEF\xBB\xBF"

func readCSV(r io.Reader, lim Limits) (Table, error) {
	br := bufio.NewReader(&csvBounds{r: r, maxFields: lim.Columns, maxFieldBytes: 8*lim.CellChars + 2, line: 1})
	if b, err := br.Peek(len(utf8BOM)); err == nil && string(b) == utf8BOM {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	b := tableBuilder{lim: lim}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if be, ok := errors.AsType[*csvBoundsError](err); ok {
				return Table{}, fmt.Errorf("%w: line %d: %s", ErrMalformed, be.line, be.problem)
			}
			if pe, ok := errors.AsType[*csv.ParseError](err); ok {
				return Table{}, fmt.Errorf("%w: line %d, column %d: %w", ErrMalformed, pe.Line, pe.Column, pe.Err)
			}
			return Table{}, fmt.Errorf("read csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		b.startRow(line)
		for i, field := range rec {
			if !utf8.ValidString(field) {
				line, col := cr.FieldPos(i)
				return Table{}, fmt.Errorf(`%w: line %d, column %d: the text is not UTF-8; save the file as "CSV UTF-8"`, ErrMalformed, line, col)
			}
			fieldLine, _ := cr.FieldPos(i)
			if err := b.cell(fieldLine, i, field); err != nil {
				return Table{}, err
			}
		}
		if err := b.endRow(); err != nil {
			return Table{}, err
		}
	}
	return b.table()
}

// csvBounds passes a CSV through, failing once a record has more than
// maxFields fields or a field more than maxFieldBytes bytes, so that
// encoding/csv, which holds a whole record and its fields, never holds more
// than the limits allow: one line of 100,000 commas is refused at its 257th,
// not held as 100,000 fields. It follows the quoting just far enough to
// count: a quote opens a field only at its start, and "" inside a quoted
// field is a quote. Malformed quoting is left for encoding/csv to report.
type csvBounds struct {
	r                        io.Reader
	maxFields, maxFieldBytes int
	line                     int // 1-based, of the byte being looked at
	fields, fieldBytes       int // of the current record and field
	state                    csvState
}

type csvState uint8

const (
	fieldStart  csvState = iota
	unquoted             // inside a field that does not start with a quote
	quoted               // inside a quoted field
	quoteInside          // a quote inside a quoted field: its end, or the first of ""
)

// csvBoundsError is a record beyond the limits, on line.
type csvBoundsError struct {
	line    int
	problem string
}

func (e *csvBoundsError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.problem) }

func (c *csvBounds) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, ch := range p[:n] {
		if c.fields == 0 {
			c.fields = 1
		}
		switch {
		case c.state == quoted && ch == '"':
			c.state = quoteInside
			continue
		case c.state == quoteInside && ch == '"':
			c.state = quoted // "" is one quote of the field
		case c.state == quoted:
		case ch == ',':
			c.fields, c.fieldBytes, c.state = c.fields+1, 0, fieldStart
			if c.fields > c.maxFields {
				return i, &csvBoundsError{c.line, fmt.Sprintf("the row has more than %d columns", c.maxFields)}
			}
			continue
		case ch == '\n':
			c.fields, c.fieldBytes, c.state = 0, 0, fieldStart
			c.line++
			continue
		case c.state == fieldStart && ch == '"':
			c.state = quoted
			continue
		case c.state == fieldStart:
			c.state = unquoted
		}
		if ch == '\n' {
			c.line++
		}
		if c.fieldBytes++; c.fieldBytes > c.maxFieldBytes {
			return i, &csvBoundsError{c.line, fmt.Sprintf("a cell of more than %d characters", c.maxFieldBytes/8)}
		}
	}
	return n, err
}

func writeCSV(w io.Writer, t Table) error {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	cw := csv.NewWriter(w) // buffered

	record := func(cells []string) error {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = defuse(c)
		}
		return cw.Write(out)
	}
	if err := record(t.Header); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	for _, row := range t.Rows {
		if err := record(row); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}
