package sheet

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

// allocated returns the bytes fn allocates, all of it, freed or not
// (runtime.MemStats.TotalAlloc): it does not depend on when the GC runs or
// how fast the machine is. The package's tests do not run in parallel.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func mib(n uint64) string { return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20)) }

// farBound is what reading 2,000 rows of two columns may allocate, all
// told. The table itself is ~100 KB; the XML decoder allocates per token,
// about 1.3 KB a row here (2.6 MiB measured), the same whatever column a
// cell is in; 16 MiB leaves room for another Go version's decoder. The
// old reader, through excelize, allocated 2.7 GiB for the file
// (its row iterator pads a row to its last cell; 811 MiB were still in
// use after) and 9.2 GiB for it with a number in each row (which made it
// load the whole worksheet, padded); for the file that must be read, 62
// MiB for its first 20 rows.
const farBound = 16 << 20

// TestReadXLSXFarRightCellsCostNothing reads the spreadsheet, 2,000
// rows each with one cell in column XFD (16,384), and measures what it
// costs.
func TestReadXLSXFarRightCellsCostNothing(t *testing.T) {
	t.Run("a value there refuses the file at once", func(t *testing.T) {
		file := farRightXLSX(t, 2000, "x", false)
		require.Less(t, len(file), 64<<10, "the file is small")
		var err error
		n := allocated(func() { _, err = Read(bytes.NewReader(file), XLSX, Limits{Rows: 25_000}) })
		require.ErrorIs(t, err, ErrMalformed)
		require.ErrorContains(t, err, `row 2, cell XFD2: a value beyond the header's last column (2, "qty")`)
		t.Logf("refused after allocating %s", mib(n))
		require.Less(t, n, uint64(farBound))
	})

	t.Run("empty cells there are read past", func(t *testing.T) {
		// Formatted empty cells at XFD, and a number in every row (what
		// made the old reader load the whole worksheet).
		far := farRightXLSX(t, 2000, "", true)
		var got Table
		var err error
		n := allocated(func() { got, err = Read(bytes.NewReader(far), XLSX, Limits{Rows: 25_000}) })
		require.NoError(t, err)
		require.Len(t, got.Rows, 2000)
		require.Equal(t, []string{"SKU-2001", "2001"}, got.Rows[1999])
		t.Logf("2,000 rows read, allocating %s", mib(n))
		require.Less(t, n, uint64(farBound))

		// The same file with those cells in column C, next to the header:
		// where they sit makes no difference beyond the longer references.
		near := bytes.ReplaceAll(farRightXLSX(t, 2000, "", true), []byte(`r="XFD`), []byte(`r="C`))
		nearN := allocated(func() { _, err = Read(bytes.NewReader(near), XLSX, Limits{Rows: 25_000}) })
		require.NoError(t, err)
		t.Logf("the same cells in column C: %s", mib(nearN))
		require.InDelta(t, float64(nearN), float64(n), 256<<10)
	})

	t.Run("the old path exceeds the bound on a tenth of the file", func(t *testing.T) {
		// excelize's streaming row iterator, which the old reader used,
		// makes a row as long as its last cell.
		file := farRightXLSX(t, 200, "x", false)
		n := allocated(func() {
			f, err := excelize.OpenReader(bytes.NewReader(file))
			require.NoError(t, err)
			defer f.Close()
			rows, err := f.Rows("Sheet1")
			require.NoError(t, err)
			for rows.Next() {
				cells, err := rows.Columns()
				require.NoError(t, err)
				require.True(t, len(cells) == 2 || len(cells) == 16_384)
			}
			require.NoError(t, rows.Close())
		})
		t.Logf("excelize's Rows/Columns over 200 of the rows: %s", mib(n))
		require.Greater(t, n, uint64(farBound))
	})
}

// bombXLSX is a workbook whose part name unpacks to size bytes of XML (a
// worksheet of empty rows, or shared strings of one long text) while the
// file stays small.
func bombXLSX(t *testing.T, name string, size int) []byte {
	t.Helper()
	var open, unit, end string
	switch name {
	case "xl/worksheets/sheet1.xml":
		open, unit, end = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`, `<row/>`, `</sheetData></worksheet>`
	case "xl/sharedStrings.xml":
		open, unit, end = `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>`, `aaaaaaaa`, `</t></si></sst>`
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range []struct{ name, content string }{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		{"_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
	} {
		writePart(t, zw, p.name, p.content)
	}
	if name != "xl/worksheets/sheet1.xml" {
		writePart(t, zw, "xl/worksheets/sheet1.xml", `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>`)
	}
	w, err := zw.Create(name)
	require.NoError(t, err)
	_, err = io.WriteString(w, open)
	require.NoError(t, err)
	chunk := []byte(strings.Repeat(unit, (64<<10)/len(unit)))
	for n := len(open) + len(end); n < size; n += len(chunk) {
		_, err = w.Write(chunk)
		require.NoError(t, err)
	}
	_, err = io.WriteString(w, end)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// TestReadXLSXZipBombIsRefusedCheaply: parts that unpack to more than the
// limits are refused from the zip directory, before anything is unpacked.
func TestReadXLSXZipBombIsRefusedCheaply(t *testing.T) {
	for _, tc := range []struct {
		part  string
		size  int
		wantE string
	}{
		{"xl/worksheets/sheet1.xml", maxXLSXSize + 1, "unpacked, the file is larger than 64 MiB"},
		{"xl/sharedStrings.xml", maxXLSXSharedStrings + 1, "xl/sharedStrings.xml unpacks to more than 32 MiB"},
	} {
		t.Run(tc.part, func(t *testing.T) {
			file := bombXLSX(t, tc.part, tc.size)
			require.Less(t, len(file), 1<<20, "the file is small")
			var err error
			n := allocated(func() { _, err = Read(bytes.NewReader(file), XLSX, Limits{}) })
			require.ErrorIs(t, err, ErrTooLarge)
			require.ErrorIs(t, err, ErrMalformed)
			require.ErrorContains(t, err, tc.wantE)
			t.Logf("a %d KiB file that unpacks to %d MiB: refused after allocating %s", len(file)>>10, tc.size>>20, mib(n))
			require.Less(t, n, uint64(1<<20))
		})
	}

	// Cheap elements cannot make much work either: rows come in order, at
	// most Excel's 1,048,576 of them, and every cell counts, empty or not.
	_, err := Read(bytes.NewReader(bombXLSX(t, "xl/worksheets/sheet1.xml", 8<<20)), XLSX, Limits{})
	require.ErrorContains(t, err, "worksheet: more than 1048576 rows")
	_, err = Read(bytes.NewReader(handXLSX(t, `<row r="2"/><row r="2"/>`, nil)), XLSX, Limits{})
	require.ErrorContains(t, err, `row number "2" after row 2`)
	_, err = Read(bytes.NewReader(handXLSX(t, `<row>`+strings.Repeat(`<c/>`, 16_385)+`</row>`, nil)), XLSX, Limits{})
	require.ErrorContains(t, err, "worksheet row 1: more than 16384 cells")
	_, err = Read(bytes.NewReader(handXLSX(t, strings.Repeat(`<row><c/><c/></row>`, 6), nil)), XLSX, Limits{Cells: 11})
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorContains(t, err, "the file has more than 11 cells")
}

func TestReadCSVBounds(t *testing.T) {
	wide := "a,b\n1,2" + strings.Repeat(",", 99_999) + "\n" // a row of 100,000 columns
	var err error
	n := allocated(func() { _, err = Read(strings.NewReader(wide), CSV, Limits{}) })
	require.ErrorIs(t, err, ErrMalformed)
	require.ErrorContains(t, err, "line 2: the row has more than 256 columns")
	t.Logf("a row of 100,000 columns: refused after allocating %s", mib(n))
	require.Less(t, n, uint64(256<<10), "the row is not held as 100,000 fields")

	for _, tc := range []struct {
		name, in string
		lim      Limits
		want     [][]string
		wantE    string
	}{
		{name: "empty cells up to the column limit", in: "a,b\n1,2,,,\n", lim: Limits{Columns: 5}, want: [][]string{{"1", "2"}}},
		{name: "one more", in: "a,b\n1,2,,,,\n", lim: Limits{Columns: 5}, wantE: "line 2: the row has more than 5 columns"},
		{name: "a wide header", in: "a,b,c,d\n", lim: Limits{Columns: 3}, wantE: "line 1: the row has more than 3 columns"},
		{name: "commas in quotes are text", in: "a\n\"" + strings.Repeat(",", 20) + "\"\n", lim: Limits{Columns: 3}, want: [][]string{{strings.Repeat(",", 20)}}},
		{name: "a quoted line break does not end the row", in: "a,b\n\"x\ny\",2,,\n", lim: Limits{Columns: 4}, want: [][]string{{"x\ny", "2"}}},
		{name: "a long cell", in: "a\n" + strings.Repeat("x", 11) + "\n", lim: Limits{CellChars: 10}, wantE: "line 2, column 1: the cell has 11 characters, more than 10"},
		{name: "a very long cell is not held", in: "a\n\"" + strings.Repeat("x", 1000) + "\"\n", lim: Limits{CellChars: 10}, wantE: "line 2: a cell of more than 10 characters"},
		{name: "quotes count once", in: "a\n\"" + strings.Repeat(`""`, 10) + "\"\n", lim: Limits{CellChars: 10}, want: [][]string{{strings.Repeat(`"`, 10)}}},
		{name: "too many cells", in: "a,b,c\n1\n2\n3\n4\n", lim: Limits{Cells: 10}, wantE: "more than 10 cells (data rows × header columns)"},
		{name: "too many cells read", in: "a\n" + strings.Repeat(",,\n", 4), lim: Limits{Cells: 10}, wantE: "the file has more than 10 cells"},
		{name: "too many rows", in: "a\n1\n2\n3\n", lim: Limits{Rows: 2}, wantE: "more than 2 data rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tc.in), CSV, tc.lim)
			if tc.wantE != "" {
				require.ErrorIs(t, err, ErrMalformed)
				require.ErrorContains(t, err, tc.wantE)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got.Rows)
		})
	}
	_, err = Read(strings.NewReader("a,b,c\n1\n2\n3\n4\n"), CSV, Limits{Cells: 10})
	require.ErrorIs(t, err, ErrTooLarge)
}

// TestReadControlCharacters: a cell may hold tabs and line breaks but no
// other control character; the error names the line and the column.
func TestReadControlCharacters(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		wantE    string
	}{
		{"NUL", "sku,name\nA1,ok\nA2,bad\x00name\n", "line 3, column 2: the cell holds the control character U+0000"},
		{"bell in the header", "sku,na\x07me\n", "line 1, column 2: the cell holds the control character U+0007"},
		{"DEL", "sku\nA\x7f\n", "line 2, column 1: the cell holds the control character U+007F"},
		{"C1 control", "sku\nA\u0085B\n", "line 2, column 1: the cell holds the control character U+0085"},
		{"carriage return alone", "sku,name\nA1,\"a\rb\"\n", "line 2, column 2: the cell holds the control character U+000D"},
		{"the line of a cell after a multi-line one", "sku,name,note\nA1,\"x\ny\",\x01\n", "line 3, column 3"},
	} {
		t.Run("csv "+tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in), CSV, Limits{})
			require.ErrorIs(t, err, ErrMalformed)
			require.ErrorContains(t, err, tc.wantE)
		})
	}
	got, err := Read(strings.NewReader("sku,note\nA1,\"tab\there\r\nand a line\"\n"), CSV, Limits{})
	require.NoError(t, err)
	require.Equal(t, [][]string{{"A1", "tab\there\nand a line"}}, got.Rows)

	// XML cannot hold most control characters, but the _xHHHH_ escapes can.
	sst := `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<si><t>sku</t></si><si><t>ok</t></si><si><t>bad_x0000_</t></si><si><t xml:space="preserve">a_x000D_` + "\n" + `b	c</t></si></sst>`
	for _, tc := range []struct {
		name, rows, wantE string
	}{
		{"shared string", `<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row><row r="3"><c r="A3" t="s"><v>2</v></c></row>`,
			"row 3, cell A3: the cell holds the control character U+0000"},
		{"inline string", `<row r="1">` + inlineCell("A1", "sku") + `</row><row r="5">` + inlineCell("A5", "x_x001B_") + `</row>`,
			"row 5, cell A5: the cell holds the control character U+001B"},
		{"C1 in XML", `<row r="1">` + inlineCell("A1", "sku") + `</row><row r="2">` + inlineCell("A2", "x\u0085y") + `</row>`,
			"row 2, cell A2: the cell holds the control character U+0085"},
		{"lone carriage return", `<row r="1">` + inlineCell("A1", "sku") + `</row><row r="2">` + inlineCell("A2", "a_x000D_b") + `</row>`,
			"row 2, cell A2: the cell holds the control character U+000D"},
	} {
		t.Run("xlsx "+tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(handXLSX(t, tc.rows, map[string]string{"xl/sharedStrings.xml": sst})), XLSX, Limits{})
			require.ErrorIs(t, err, ErrMalformed)
			require.ErrorContains(t, err, tc.wantE)
		})
	}
	// An unused bad shared string does no harm; \r\n reads as \n, tabs stay.
	file := handXLSX(t, `<row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>3</v></c></row>`,
		map[string]string{"xl/sharedStrings.xml": sst})
	got, err = Read(bytes.NewReader(file), XLSX, Limits{})
	require.NoError(t, err)
	require.Equal(t, [][]string{{"a\nb\tc"}}, got.Rows)
}

func TestReadXLSXBounds(t *testing.T) {
	header := `<row r="1">` + inlineCell("A1", "sku") + inlineCell("B1", "name") + `</row>`
	for _, tc := range []struct {
		name, rows string
		lim        Limits
		wantE      string
	}{
		{"a header cell far right", `<row r="1">` + inlineCell("A1", "sku") + inlineCell("XFD1", "x") + `</row>`, Limits{},
			"row 1, cell XFD1: the header has more than 256 columns"},
		{"a gap in the header", `<row r="1">` + inlineCell("A1", "sku") + inlineCell("D1", "x") + `</row>`, Limits{},
			"column 2 has no name; column 3 has no name"},
		{"a long cell", header + `<row r="2">` + inlineCell("B2", strings.Repeat("é", 11)) + `</row>`, Limits{CellChars: 10},
			"row 2, cell B2: the cell has 11 characters, more than 10"},
		{"too many cells", header + `<row r="2">` + inlineCell("A2", "1") + `</row><row r="3">` + inlineCell("A3", "2") + `</row>`, Limits{Cells: 3},
			"the file has more than 3 cells"},
		{"a column beyond XFD", header + `<row r="2">` + inlineCell("XFE2", "1") + `</row>`, Limits{},
			`cell reference "XFE2"`},
		{"a row beyond Excel's", header + `<row r="1048577">` + inlineCell("A1048577", "1") + `</row>`, Limits{},
			"worksheet: more than 1048576 rows"},
		{"a row cut short", header + `<row r="2">` + inlineCell("A2", "1"), Limits{}, "worksheet: row 2 is not closed"},
		{"a shared string that is not there", header + `<row r="2"><c r="A2" t="s"><v>7</v></c></row>`, Limits{},
			`row 2, cell A2: no shared string "7"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(handXLSX(t, tc.rows, nil)), XLSX, tc.lim)
			require.ErrorIs(t, err, ErrMalformed)
			require.ErrorContains(t, err, tc.wantE)
		})
	}

	// More shared strings than cells could use are refused as they are read.
	sst := `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` + strings.Repeat(`<si><t>x</t></si>`, 20) + `</sst>`
	_, err := Read(bytes.NewReader(handXLSX(t, header, map[string]string{"xl/sharedStrings.xml": sst})), XLSX, Limits{Columns: 5, Cells: 10})
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorContains(t, err, "more than 15 shared strings")
}

// TestReadXLSXText: rich text, phonetic guides, escapes, cells without
// references, rows without numbers, formulas' values and a workbook whose
// first sheet is a chart.
func TestReadXLSXText(t *testing.T) {
	sst := `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">` +
		`<si><t>sku</t></si><si><r><rPr><b/></rPr><t>Zhe</t></r><r><t xml:space="preserve">jiang </t></r><rPh sb="0" eb="1"><t>ignored</t></rPh></si>` +
		`<si><t>_x005F_x0041_ and _x0041_ and _xZZZZ_</t></si></sst>`
	rows := `<row><c t="s"><v>0</v></c><c t="inlineStr"><is><t>name</t></is></c><c t="inlineStr"><is><t>total</t></is></c></row>` +
		`<row><c t="s"><v>1</v></c><c t="s"><v>2</v></c><c><f>1+1</f><v>2</v></c></row>` +
		`<row r="7"><c r="A7" t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c r="C7"><f>1/0</f></c></row>` +
		`<row r="8"><c r="A8" t="b"><v>1</v></c><c r="B8" t="e"><v>#N/A</v></c></row>`
	extra := map[string]string{
		"xl/sharedStrings.xml": sst,
		"xl/workbook.xml": `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			`<sheets><sheet name="Chart" sheetId="2" r:id="rId3"/><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet1.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>` +
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/chartsheet" Target="chartsheets/sheet1.xml"/></Relationships>`,
		"xl/chartsheets/sheet1.xml": `<chartsheet/>`,
	}
	file := handXLSX(t, rows, extra)
	got, err := Read(bytes.NewReader(file), XLSX, Limits{})
	require.NoError(t, err)
	require.Equal(t, []string{"sku", "name", "total"}, got.Header)
	require.Equal(t, [][]string{
		{"Zhejiang", "_x0041_ and A and _xZZZZ_", "2"},
		{"ab", "", ""},
		{"TRUE", "#N/A", ""},
	}, got.Rows)
	require.Equal(t, []int{2, 7, 8}, got.RowLine)
}

func TestCodeDecimals(t *testing.T) {
	for code, want := range map[string]int{
		"0":                            0,
		"0.00":                         2,
		"0.0#":                         1,
		`"USD "#,##0.00`:               2,
		`#,##0.00_);[Red]\(#,##0.00\)`: 2,
		"0.00;-0.0":                    0,
		"0.000;(0.000);0":              3,
		"General":                      0,
		`0.00" m²"`:                    2,
	} {
		require.Equal(t, want, codeDecimals(code), code)
	}
}
