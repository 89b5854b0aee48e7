package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Zip bomb guards, checked in the zip directory before anything is
// unpacked (archive/zip then refuses a part that unpacks to more than the
// directory says). The worksheet is streamed, so its size costs time, not
// memory; the shared strings are held while the worksheet is read; the
// workbook, its relationships and the styles are decoded whole.
const (
	maxXLSXSize          = 64 << 20 // packed, and all parts unpacked
	maxXLSXSharedStrings = 32 << 20
	maxXLSXMetaPart      = 8 << 20
	maxXLSXParts         = 10_000
	maxXLSXStyles        = 65_536 // cell formats (Excel's limit is 64,000)
	maxXLSXRow           = 1 << 20
	maxXLSXColumn        = 1 << 14 // XFD
)

func readXLSX(r io.Reader, lim Limits) (Table, error) {
	ra, size, err := readerAt(r)
	if err != nil {
		return Table{}, err
	}
	b := &tableBuilder{lim: lim, xlsx: true}
	if size == 0 {
		return b.table()
	}
	if size > maxXLSXSize {
		return Table{}, fmt.Errorf("%w: %w: the file is larger than %d MiB", ErrMalformed, ErrTooLarge, maxXLSXSize>>20)
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return Table{}, notXLSX(err)
	}
	pkg, err := openPackage(zr)
	if err != nil {
		return Table{}, err
	}
	wb, err := pkg.workbook()
	if err != nil {
		return Table{}, err
	}
	st, err := pkg.styles(wb.styles)
	if err != nil {
		return Table{}, err
	}
	sst, err := pkg.sharedStrings(wb.sharedStrings, lim)
	if err != nil {
		return Table{}, err
	}
	sr := sheetReader{b: b, sst: sst, styles: st, date1904: wb.date1904}
	if err := pkg.read(wb.sheet, 0, sr.read); err != nil {
		return Table{}, err
	}
	return b.table()
}

// readerAt gives random access to what r has left, without a copy when r
// is a *bytes.Reader (which it then consumes).
func readerAt(r io.Reader) (io.ReaderAt, int64, error) {
	if br, ok := r.(*bytes.Reader); ok {
		n := int64(br.Len())
		sr := io.NewSectionReader(br, br.Size()-n, n)
		_, _ = br.Seek(0, io.SeekEnd)
		return sr, n, nil
	}
	data, err := io.ReadAll(io.LimitReader(r, maxXLSXSize+1))
	if err != nil {
		return nil, 0, fmt.Errorf("read xlsx: %w", err)
	}
	return bytes.NewReader(data), int64(len(data)), nil
}

func notXLSX(reason any) error {
	return fmt.Errorf("%w: not an Excel .xlsx file (%v)", ErrMalformed, reason)
}

// xlsxPackage is the parts of an .xlsx, by lower-case name (part names are
// case-insensitive).
type xlsxPackage struct {
	parts map[string]*zip.File
}

func openPackage(zr *zip.Reader) (*xlsxPackage, error) {
	if len(zr.File) > maxXLSXParts {
		return nil, fmt.Errorf("%w: %w: the file has more than %d parts", ErrMalformed, ErrTooLarge, maxXLSXParts)
	}
	p := &xlsxPackage{parts: make(map[string]*zip.File, len(zr.File))}
	var total uint64
	for _, f := range zr.File {
		total += min(f.UncompressedSize64, maxXLSXSize+1) // no overflow
		if total > maxXLSXSize {
			return nil, fmt.Errorf("%w: %w: unpacked, the file is larger than %d MiB", ErrMalformed, ErrTooLarge, maxXLSXSize>>20)
		}
		p.parts[strings.ToLower(f.Name)] = f
	}
	return p, nil
}

// read decodes the part name with fn, refusing it if it unpacks to more than
// maxSize bytes (0: no more limit than the whole file's). A missing part is
// not an error: fn is not called.
func (p *xlsxPackage) read(name string, maxSize uint64, fn func(*xml.Decoder) error) error {
	f, ok := p.parts[strings.ToLower(name)]
	if !ok {
		return nil
	}
	if maxSize > 0 && f.UncompressedSize64 > maxSize {
		return fmt.Errorf("%w: %w: %s unpacks to more than %d MiB", ErrMalformed, ErrTooLarge, name, maxSize>>20)
	}
	rc, err := f.Open()
	if err != nil {
		return notXLSX(err)
	}
	defer func() { _ = rc.Close() }()
	if err := fn(xml.NewDecoder(rc)); err != nil {
		if errors.Is(err, ErrMalformed) {
			return err
		}
		return fmt.Errorf("%w: %s: %v", ErrMalformed, name, err)
	}
	return nil
}

// eachStart calls fn with every start element of the XML, and with end
// elements as nil, so fn can track nesting.
func eachStart(d *xml.Decoder, fn func(*xml.StartElement) error) error {
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			err = fn(&t)
		case xml.EndElement:
			err = fn(nil)
		}
		if err != nil {
			return err
		}
	}
}

func attr(e *xml.StartElement, local string) (string, bool) {
	for _, a := range e.Attr {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// xlsxWorkbook is where Read finds what it reads.
type xlsxWorkbook struct {
	sheet, sharedStrings, styles string // part names
	date1904                     bool
}

type relationship struct{ typ, target string }

// rels reads the relationships of the part name, by ID, with their targets
// resolved to part names.
func (p *xlsxPackage) rels(name string) (map[string]relationship, error) {
	dir, base := path.Split(name)
	out := map[string]relationship{}
	err := p.read(dir+"_rels/"+base+".rels", maxXLSXMetaPart, func(d *xml.Decoder) error {
		return eachStart(d, func(e *xml.StartElement) error {
			if e == nil || e.Name.Local != "Relationship" {
				return nil
			}
			if mode, _ := attr(e, "TargetMode"); mode == "External" {
				return nil
			}
			id, _ := attr(e, "Id")
			typ, _ := attr(e, "Type")
			target, _ := attr(e, "Target")
			if strings.HasPrefix(target, "/") {
				target = path.Clean(target)[1:]
			} else {
				target = path.Join(dir, target)
			}
			out[id] = relationship{typ: typ, target: target}
			return nil
		})
	})
	return out, err
}

// workbook finds the workbook, its first worksheet, shared strings and
// styles.
func (p *xlsxPackage) workbook() (xlsxWorkbook, error) {
	var wb xlsxWorkbook
	rels, err := p.rels("")
	if err != nil {
		return wb, err
	}
	book := "xl/workbook.xml"
	for _, r := range rels {
		if strings.HasSuffix(r.typ, "/officeDocument") {
			book = r.target
		}
	}
	if _, ok := p.parts[strings.ToLower(book)]; !ok {
		return wb, notXLSX("no workbook")
	}
	if rels, err = p.rels(book); err != nil {
		return wb, err
	}
	dir := path.Dir(book)
	wb.sharedStrings, wb.styles = path.Join(dir, "sharedStrings.xml"), path.Join(dir, "styles.xml")
	for _, r := range rels {
		switch {
		case strings.HasSuffix(r.typ, "/sharedStrings"):
			wb.sharedStrings = r.target
		case strings.HasSuffix(r.typ, "/styles"):
			wb.styles = r.target
		}
	}
	err = p.read(book, maxXLSXMetaPart, func(d *xml.Decoder) error {
		return eachStart(d, func(e *xml.StartElement) error {
			switch {
			case e == nil:
			case e.Name.Local == "workbookPr":
				v, _ := attr(e, "date1904")
				wb.date1904 = v == "1" || v == "true"
			case e.Name.Local == "sheet" && wb.sheet == "":
				for _, a := range e.Attr {
					// r:id, in the relationships name space
					if r, ok := rels[a.Value]; ok && a.Name.Local == "id" && a.Name.Space != "" && strings.HasSuffix(r.typ, "/worksheet") {
						wb.sheet = r.target
					}
				}
			}
			return nil
		})
	})
	if err != nil {
		return wb, err
	}
	if _, ok := p.parts[strings.ToLower(wb.sheet)]; wb.sheet == "" || !ok {
		return wb, notXLSX("no worksheet")
	}
	return wb, nil
}

// cellFormats are the number formats of the workbook's cell formats, by
// index (a cell's s attribute).
type cellFormats []numFormat

func (s cellFormats) format(i int) numFormat {
	if i >= 0 && i < len(s) {
		return s[i]
	}
	return numFormat{}
}

func (p *xlsxPackage) styles(name string) (cellFormats, error) {
	custom := map[int]string{}
	var xfs []int     // number format ID of each cell format
	var open []string // names of the elements being read, outermost first
	err := p.read(name, maxXLSXMetaPart, func(d *xml.Decoder) error {
		return eachStart(d, func(e *xml.StartElement) error {
			if e == nil {
				open = open[:max(len(open)-1, 0)]
				return nil
			}
			parent := ""
			if len(open) > 0 {
				parent = open[len(open)-1]
			}
			open = append(open, e.Name.Local)
			switch {
			case e.Name.Local == "numFmt" && parent == "numFmts" && len(custom) < maxXLSXStyles:
				id, _ := attr(e, "numFmtId")
				code, _ := attr(e, "formatCode")
				if n, err := strconv.Atoi(id); err == nil {
					custom[n] = code
				}
			case e.Name.Local == "xf" && parent == "cellXfs" && len(xfs) < maxXLSXStyles:
				id, _ := attr(e, "numFmtId")
				n, _ := strconv.Atoi(id) // none or unreadable: General
				xfs = append(xfs, n)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	byID := map[int]numFormat{}
	st := make(cellFormats, len(xfs))
	for i, id := range xfs {
		nf, ok := byID[id]
		if !ok {
			nf = numFormatOf(id, custom)
			byID[id] = nf
		}
		st[i] = nf
	}
	return st, nil
}

// sharedStrings are the workbook's texts that cells refer to by index,
// read as text cells are: unescaped, \r\n as \n, trimmed, and checked once.
type sharedStrings struct {
	texts    []string
	problems map[int]string // textProblem of the text, if any
}

func (p *xlsxPackage) sharedStrings(name string, lim Limits) (*sharedStrings, error) {
	sst := &sharedStrings{problems: map[int]string{}}
	maxTexts := lim.Cells + lim.Columns // more could never all be used
	err := p.read(name, maxXLSXSharedStrings, func(d *xml.Decoder) error {
		var text richText
		return eachStart(d, func(e *xml.StartElement) error {
			switch {
			case e != nil && e.Name.Local == "si":
				if len(sst.texts) == maxTexts {
					return fmt.Errorf("%w: %w: the file has more than %d shared strings", ErrMalformed, ErrTooLarge, maxTexts)
				}
				s, err := text.read(d, e)
				if err != nil {
					return err
				}
				s = cellText(s)
				if problem := textProblem(s, lim.CellChars); problem != "" {
					sst.problems[len(sst.texts)] = problem
				}
				sst.texts = append(sst.texts, s)
			}
			return nil
		})
	})
	return sst, err
}

// richText reads the text of a string item (<si>) or inline string (<is>):
// its <t> elements, directly or in rich text runs, but not the phonetic
// guides (<rPh>).
type richText struct{ b strings.Builder }

func (rt *richText) read(d *xml.Decoder, start *xml.StartElement) (string, error) {
	rt.b.Reset()
	depth, inT, phonetic := 1, false, 0
	for depth > 0 {
		tok, err := d.RawToken()
		if err != nil {
			return "", unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch t.Name.Local {
			case "t":
				inT = true
			case "rPh":
				phonetic++
			}
		case xml.EndElement:
			depth--
			switch t.Name.Local {
			case "t":
				inT = false
			case "rPh":
				phonetic--
			}
		case xml.CharData:
			if inT && phonetic == 0 {
				rt.b.Write(t)
			}
		}
	}
	return unescapeXString(rt.b.String()), nil
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// unescapeXString decodes the _xHHHH_ escapes with which OOXML writes
// characters XML cannot hold, _x005F_ being an escaped _. It takes time in
// proportion to s.
func unescapeXString(s string) string {
	i := strings.Index(s, "_x")
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for i < len(s) {
		if i+7 <= len(s) && s[i] == '_' && s[i+1] == 'x' && s[i+6] == '_' {
			if v, err := strconv.ParseUint(s[i+2:i+6], 16, 32); err == nil && utf8.ValidRune(rune(v)) {
				b.WriteRune(rune(v))
				i += 7
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// cellText is the text of a string cell as Read gives it: \r\n as \n, and
// trimmed.
func cellText(s string) string {
	if strings.Contains(s, "\r\n") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	return strings.TrimSpace(s)
}

// sheetReader streams a worksheet's cells into the table builder: one
// cell at a time, whatever its column, and only the cells' own text.
type sheetReader struct {
	b        *tableBuilder
	sst      *sharedStrings
	styles   cellFormats
	date1904 bool
	text     richText
	v        strings.Builder
}

func (sr *sheetReader) read(d *xml.Decoder) error {
	row, col, inRow := 0, 0, false
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return sr.done(inRow, row)
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				// Rows come in order, as Excel writes and wants them, so
				// there are at most as many as a worksheet has.
				prev := row
				row, col, inRow = row+1, 0, true
				if v, ok := attr(&t, "r"); ok {
					if row, err = strconv.Atoi(v); err != nil || row <= prev {
						return fmt.Errorf("%w: worksheet: row number %.20q after row %d", ErrMalformed, v, prev)
					}
				}
				if row > maxXLSXRow {
					return fmt.Errorf("%w: worksheet: more than %d rows", ErrMalformed, maxXLSXRow)
				}
				sr.b.startRow(row)
			case "c":
				if !inRow {
					return fmt.Errorf("%w: worksheet: a cell outside a row after row %d", ErrMalformed, row)
				}
				col++
				if ref, ok := attr(&t, "r"); ok {
					if col, err = refColumn(ref, row); err != nil {
						return err
					}
				}
				if col > maxXLSXColumn {
					return fmt.Errorf("%w: worksheet row %d: more than %d cells", ErrMalformed, row, maxXLSXColumn)
				}
				if err := sr.cell(d, &t, row, col-1); err != nil {
					return err
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "row":
				inRow = false
				if err := sr.b.endRow(); err != nil {
					return err
				}
			case "sheetData":
				return sr.done(inRow, row) // the rest is not cells
			}
		}
	}
}

func (sr *sheetReader) done(inRow bool, row int) error {
	if inRow {
		return fmt.Errorf("%w: worksheet: row %d is not closed", ErrMalformed, row)
	}
	return nil
}

// refColumn is the 1-based column of the cell reference ref (B7) in row;
// the reference's row number is not held against the row's.
func refColumn(ref string, row int) (int, error) {
	col, i := 0, 0
	for ; i < len(ref) && i < 3; i++ {
		c := ref[i] | 0x20 // lower case
		if c < 'a' || c > 'z' {
			break
		}
		col = col*26 + int(c-'a') + 1
	}
	if i == 0 || col > maxXLSXColumn || !isDigits(ref[i:]) {
		return 0, fmt.Errorf("%w: worksheet row %d: cell reference %.20q", ErrMalformed, row, ref)
	}
	return col, nil
}

// cell reads the cell that starts with start, at 0-based col of row, into
// the builder.
func (sr *sheetReader) cell(d *xml.Decoder, start *xml.StartElement, row, col int) error {
	typ, _ := attr(start, "t")
	style := 0
	if s, ok := attr(start, "s"); ok {
		style, _ = strconv.Atoi(s) // unreadable: General
	}
	var inline string
	hasInline, inV := false, false
	sr.v.Reset()
	for depth := 1; depth > 0; {
		tok, err := d.RawToken()
		if err != nil {
			return unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "is":
				if inline, err = sr.text.read(d, &t); err != nil {
					return err
				}
				hasInline = true
				continue // read to its end
			case "v":
				inV = true
			}
			depth++
		case xml.EndElement:
			inV = false
			depth--
		case xml.CharData:
			if inV {
				sr.v.Write(t)
			}
		}
	}
	v := sr.v.String()
	switch typ {
	case "s":
		if strings.TrimSpace(v) == "" {
			return sr.b.cell(row, col, "")
		}
		i, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || i < 0 || i >= len(sr.sst.texts) {
			return fmt.Errorf("%w: %s: no shared string %.20q in the file", ErrMalformed, sr.b.where(row, col), v)
		}
		return sr.b.checkedCell(row, col, sr.sst.texts[i], sr.sst.problems[i])
	case "inlineStr":
		if hasInline {
			v = inline
		}
		return sr.b.cell(row, col, cellText(v))
	case "str", "e", "d": // a formula's text, an error (#N/A), an ISO 8601 date
		return sr.b.cell(row, col, cellText(v))
	case "b":
		switch strings.TrimSpace(v) {
		case "1":
			v = "TRUE"
		case "0":
			v = "FALSE"
		}
		return sr.b.cell(row, col, v)
	}
	if v = strings.TrimSpace(v); isNumber(v) {
		v = sr.number(v, style)
	}
	return sr.b.cell(row, col, v)
}

// number formats the numeric cell value raw as its number format says.
func (sr *sheetReader) number(raw string, style int) string {
	x, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return raw
	}
	nf := sr.styles.format(style)
	if nf.date {
		if t, err := excelize.ExcelDateToTime(x, sr.date1904); err == nil {
			return formatDateTime(t, x)
		}
	}
	return padDecimals(formatNumber(x), nf.decimals)
}
