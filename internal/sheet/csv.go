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

func readCSV(r io.Reader, maxRows int) (Table, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && string(b) == utf8BOM {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	b := tableBuilder{maxRows: maxRows}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if pe, ok := errors.AsType[*csv.ParseError](err); ok {
				return Table{}, fmt.Errorf("%w: line %d, column %d: %w", ErrMalformed, pe.Line, pe.Column, pe.Err)
			}
			return Table{}, fmt.Errorf("read csv: %w", err)
		}
		for i, field := range rec {
			if !utf8.ValidString(field) {
				line, col := cr.FieldPos(i)
				return Table{}, fmt.Errorf(`%w: line %d, column %d: the text is not UTF-8; save the file as "CSV UTF-8"`, ErrMalformed, line, col)
			}
		}
		line, _ := cr.FieldPos(0)
		if err := b.add(rec, line); err != nil {
			return Table{}, err
		}
	}
	return b.table()
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
