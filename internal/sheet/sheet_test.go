package sheet

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
)

func TestFormatFromContentType(t *testing.T) {
	for _, tc := range []struct {
		ct   string
		want Format
		ok   bool
	}{
		{"text/csv", CSV, true},
		{"Text/CSV; charset=UTF-8", CSV, true},
		{"application/csv", CSV, true},
		{"text/csv; charset", CSV, true}, // malformed parameter
		{xlsxContentType, XLSX, true},
		{"APPLICATION/VND.OPENXMLFORMATS-OFFICEDOCUMENT.SPREADSHEETML.SHEET; name=a.xlsx", XLSX, true},
		{"application/pdf", "", false},
		{"application/vnd.ms-excel", "", false},
		{"", "", false},
	} {
		got, ok := FormatFromContentType(tc.ct)
		require.Equal(t, tc.ok, ok, tc.ct)
		require.Equal(t, tc.want, got, tc.ct)
	}
	for _, f := range []Format{CSV, XLSX} {
		got, ok := FormatFromContentType(f.ContentType())
		require.True(t, ok)
		require.Equal(t, f, got)
	}
	require.Equal(t, "application/pdf", PDF.ContentType())
}

func TestRoundTrip(t *testing.T) {
	in := Table{
		Header: []string{"sku", "supplier", "qty", "price", "note"},
		Rows: [][]string{
			{"A-1", "Zhejiang 浙江", "1250", "1250.50", `say "hi", then go`},
			{"0012", "Ünïcødé GmbH", "-5", "0.10", "line one\nline two"},
			{"1234567890", "", "1234567890", "19.99", "a,b,c"},
			{"12345678901234567890", "big id", "0", "-0.5", "+3"},
			{"1e5", "text that looks like a number", "007", "3.14159", "@home"},
		},
	}
	for _, f := range []Format{CSV, XLSX} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, Write(&buf, f, Document{Title: "Products", Table: in}))
			got, err := Read(&buf, f, Limits{Rows: 100})
			require.NoError(t, err)
			require.Equal(t, in.Header, got.Header)
			want := in.Rows
			want[4] = []string{"1e5", "text that looks like a number", "007", "3.14159", "'@home"} // defused
			require.Equal(t, want, got.Rows)
			if f == XLSX {
				require.Equal(t, []int{2, 3, 4, 5, 6}, got.RowLine)
			} else {
				require.Equal(t, []int{2, 3, 5, 6, 7}, got.RowLine) // row 2 spans two lines
			}
		})
	}
}

func TestReadCSV(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    string
		want  Table
		wantE string // error substring; ErrMalformed expected
	}{
		{
			name: "line numbers skip blank lines and count multi-line cells",
			in:   "\n ,, \n SKU , Name \nA1,\"multi\nline\"\n\n  a2  ,x\n",
			want: Table{
				Header:  []string{"sku", "name"},
				Rows:    [][]string{{"A1", "multi\nline"}, {"a2", "x"}},
				RowLine: []int{4, 7},
			},
		},
		{
			name: "BOM and CRLF",
			in:   "\xEF\xBB\xBFid,name\r\n1,Zhejiang 浙江\r\n",
			want: Table{Header: []string{"id", "name"}, Rows: [][]string{{"1", "Zhejiang 浙江"}}, RowLine: []int{2}},
		},
		{
			name: "short rows padded, extra empty cells dropped",
			in:   "a,b,,\n1\n1,2,,\n1,2, ,,\n",
			want: Table{
				Header:  []string{"a", "b"},
				Rows:    [][]string{{"1", ""}, {"1", "2"}, {"1", "2"}},
				RowLine: []int{2, 3, 4},
			},
		},
		{name: "a value beyond the header", in: "a,b\n1,2\n1,2,,x\n", wantE: `line 3, column 4: a value beyond the header's last column (2, "b")`},
		{
			name: "header only",
			in:   "a,b\n",
			want: Table{Header: []string{"a", "b"}},
		},
		{name: "empty", in: "", wantE: "no header row"},
		{name: "blank lines only", in: "\n\n , \n", wantE: "no header row"},
		{name: "bare quote", in: "a,b\n1,2\n3,x\"y\n", wantE: "line 3"},
		{name: "unterminated quote", in: "a,b\n1,\"2\n", wantE: "line 2"},
		{name: "duplicate header", in: "Name,qty,NAME \n", wantE: `column "name" appears twice (columns 1 and 3)`},
		{name: "empty header name", in: "a,,b\n", wantE: "column 2 has no name"},
		{name: "invalid UTF-8", in: "a,b\n1,2\n3,caf\xe9\n", wantE: "line 3, column 3: the text is not UTF-8"},
		{name: "UTF-16", in: "\xff\xfea\x00,\x00b\x00\n", wantE: "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Read(strings.NewReader(tc.in), CSV, Limits{Rows: 10})
			if tc.wantE != "" {
				require.ErrorIs(t, err, ErrMalformed)
				require.ErrorContains(t, err, tc.wantE)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestReadTooManyRows(t *testing.T) {
	tbl := Table{Header: []string{"a"}, Rows: [][]string{{"1"}, {"2"}, {"3"}}}
	for _, f := range []Format{CSV, XLSX} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, Write(&buf, f, Document{Table: tbl}))
			file := buf.Bytes()

			_, err := Read(bytes.NewReader(file), f, Limits{Rows: 2})
			require.ErrorIs(t, err, ErrTooManyRows)
			require.ErrorIs(t, err, ErrMalformed)
			require.ErrorContains(t, err, "more than 2 data rows")

			got, err := Read(bytes.NewReader(file), f, Limits{Rows: 3})
			require.NoError(t, err)
			require.Len(t, got.Rows, 3)

			got, err = Read(bytes.NewReader(file), f, Limits{}) // the default limits
			require.NoError(t, err)
			require.Len(t, got.Rows, 3)
		})
	}
}

func TestReadXLSXMalformed(t *testing.T) {
	random := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(r.UintN(256))
	}
	var otherZip bytes.Buffer
	zw := zip.NewWriter(&otherZip)
	w, err := zw.Create("hello.txt")
	require.NoError(t, err)
	_, err = w.Write([]byte("hello"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())

	for _, tc := range []struct {
		name  string
		in    []byte
		wantE string
	}{
		{"random bytes", random, "not an Excel .xlsx file"},
		{"CSV text", []byte("a,b\n1,2\n"), "not an Excel .xlsx file"},
		{"zip without a workbook", otherZip.Bytes(), "not an Excel .xlsx file"},
		{"empty", nil, "no header row"},
		{"empty workbook", emptyWorkbook(t), "no header row"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tc.in), XLSX, Limits{Rows: 10})
			require.ErrorIs(t, err, ErrMalformed)
			require.ErrorContains(t, err, tc.wantE)
		})
	}
}

func emptyWorkbook(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))
	return buf.Bytes()
}

// TestReadXLSXValues reads a workbook made as a user's Excel would: numbers,
// formats, dates and booleans come back as the user means them.
func TestReadXLSXValues(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	const s = "Sheet1"
	style := func(st excelize.Style) int {
		id, err := f.NewStyle(&st)
		require.NoError(t, err)
		return id
	}
	custom := func(code string) int { return style(excelize.Style{CustomNumFmt: &code}) }
	// Row 1 and 3 stay empty; the header is on row 2.
	cells := []struct {
		value any
		style int
		want  string
	}{
		{1234567890, 0, "1234567890"},
		{int64(1234567890123), 0, "1234567890123"},
		{12345678901234567890.0, 0, "12345678901234600000"},
		{0.1 + 0.2, 0, "0.3"},
		{1250, style(excelize.Style{NumFmt: 3}), "1250"}, // #,##0
		{1250.5, style(excelize.Style{NumFmt: 4}), "1250.50"},
		{1250.5, custom(`"USD "#,##0.00`), "1250.50"},
		{0.15, style(excelize.Style{NumFmt: 9}), "0.15"}, // 0%
		{-5, 0, "-5"},
		{time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC), style(excelize.Style{NumFmt: 14}), "2024-03-31"},
		{time.Date(2024, 3, 31, 14, 5, 0, 0, time.UTC), custom("yyyy-mm-dd hh:mm"), "2024-03-31 14:05:00"},
		{45382, custom(`yyyy"年"m"月"d"日"`), "2024-03-31"},
		{45382, style(excelize.Style{NumFmt: 31}), "2024-03-31"}, // zh-CN built-in date
		{1.5, custom("[h]:mm"), "1.5"},                           // a duration, not a date
		{true, 0, "TRUE"},
		{false, 0, "FALSE"},
		{"1E5", 0, "1E5"},
		{"00123", 0, "00123"},
		{"1234567890123456789", 0, "1234567890123456789"},
	}
	require.NoError(t, f.SetCellStr(s, "A2", "Value"))
	require.NoError(t, f.SetCellStr(s, "B2", "Case"))
	for i, c := range cells {
		row := i + 4
		require.NoError(t, f.SetCellValue(s, fmt.Sprintf("A%d", row), c.value))
		require.NoError(t, f.SetCellInt(s, fmt.Sprintf("B%d", row), int64(i)))
		if c.style != 0 {
			require.NoError(t, f.SetCellStyle(s, fmt.Sprintf("A%d", row), fmt.Sprintf("A%d", row), c.style))
		}
	}
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))

	got, err := Read(&buf, XLSX, Limits{Rows: 100})
	require.NoError(t, err)
	require.Equal(t, []string{"value", "case"}, got.Header)
	require.Len(t, got.Rows, len(cells))
	for i, c := range cells {
		require.Equal(t, []string{c.want, strconv.Itoa(i)}, got.Rows[i], "case %d (%v)", i, c.value)
		require.Equal(t, i+4, got.RowLine[i])
	}
}

func TestWriteCSVDefusesFormulas(t *testing.T) {
	link := `=HYPERLINK("http://evil.example","click")`
	tbl := Table{
		Header: []string{"cell"},
		Rows:   [][]string{{link}, {"-5"}, {"+3"}, {"1e5"}, {"@SUM(A1)"}, {"-"}, {"\tx"}, {"a=b"}},
	}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, CSV, Document{Table: tbl}))
	require.True(t, strings.HasPrefix(buf.String(), utf8BOM))
	require.Equal(t, "cell\n\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"\n-5\n+3\n1e5\n'@SUM(A1)\n'-\n'\tx\na=b\n",
		strings.TrimPrefix(buf.String(), utf8BOM))

	got, err := Read(&buf, CSV, Limits{})
	require.NoError(t, err)
	require.Equal(t, "'"+link, got.Rows[0][0])
	require.Equal(t, "-5", got.Rows[1][0])
}

func TestWriteXLSX(t *testing.T) {
	link := `=HYPERLINK("http://evil.example","click")`
	doc := Document{
		Title: "Orders: [March]/2024 * for 'Zhejiang 浙江 Trading Co.'",
		Table: Table{
			Header: []string{"id", "amount", "link"},
			Rows:   [][]string{{"1", "1250.50", link}, {"0012", "-5", "=1+1"}},
		},
		Highlight: map[[2]int]bool{{0, 1}: true},
	}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, XLSX, doc))
	f, err := excelize.OpenReader(&buf)
	require.NoError(t, err)
	defer f.Close()

	name := f.GetSheetList()[0]
	require.Equal(t, "Orders March2024 for 'Zhejiang", name)
	require.LessOrEqual(t, len([]rune(name)), 31)

	panes, err := f.GetPanes(name)
	require.NoError(t, err)
	require.True(t, panes.Freeze)
	require.Equal(t, 1, panes.YSplit)

	for cell, want := range map[string]string{"C2": "'" + link, "C3": "'=1+1"} {
		formula, err := f.GetCellFormula(name, cell)
		require.NoError(t, err)
		require.Empty(t, formula, cell)
		v, err := f.GetCellValue(name, cell)
		require.NoError(t, err)
		require.Equal(t, want, v, cell)
	}
	for cell, want := range map[string]excelize.CellType{
		"A2": excelize.CellTypeUnset, // number
		"B2": excelize.CellTypeUnset,
		"B3": excelize.CellTypeUnset,
		"A3": excelize.CellTypeInlineString, // leading zero: text
	} {
		typ, err := f.GetCellType(name, cell)
		require.NoError(t, err)
		require.Equal(t, want, typ, cell)
	}
	amount, err := f.GetCellValue(name, "B2") // as displayed
	require.NoError(t, err)
	require.Equal(t, "1250.50", amount)

	bold := func(cell string) bool {
		id, err := f.GetCellStyle(name, cell)
		require.NoError(t, err)
		st, err := f.GetStyle(id)
		require.NoError(t, err)
		return st.Font != nil && st.Font.Bold
	}
	require.True(t, bold("A1"), "header")
	require.True(t, bold("B2"), "highlighted")
	require.False(t, bold("A2"))
}

func TestSheetName(t *testing.T) {
	for title, want := range map[string]string{
		"":                                 "Sheet1",
		"Orders":                           "Orders",
		"[]:*?/\\":                         "Sheet1",
		"'quoted'":                         "quoted",
		"a/b":                              "ab",
		strings.Repeat("浙", 40):            strings.Repeat("浙", 31),
		strings.Repeat("x", 30) + " 'tail": strings.Repeat("x", 30),
	} {
		require.Equal(t, want, sheetName(title), title)
	}
}

func TestWritePDF(t *testing.T) {
	tbl := Table{Header: []string{"#", "supplier", "product", "amount", "note"}}
	for i := range 200 {
		tbl.Rows = append(tbl.Rows, []string{
			strconv.Itoa(i + 1), "Zhejiang 浙江 Trading Co., Ltd.", "Widget " + strings.Repeat("long ", i%20),
			"1250.50", "Müller – “quoted” €",
		})
	}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, PDF, Document{
		Title:     "Orders 2024 — 浙江",
		Notes:     []string{"Printed for Ünïcødé GmbH", "Amounts in EUR"},
		Table:     tbl,
		Highlight: map[[2]int]bool{{0, 3}: true, {150, 1}: true},
	}))
	out := buf.Bytes()
	require.True(t, bytes.HasPrefix(out, []byte("%PDF-")))

	pages := len(regexp.MustCompile(`/Type /Page\b[^s]`).FindAll(out, -1))
	require.Greater(t, pages, 1)
	require.Contains(t, string(out), fmt.Sprintf("/Count %d", pages))

	text := pdfText(t, out)
	require.Contains(t, text, fmt.Sprintf("(Page 1 of %d)", pages))
	require.Contains(t, text, fmt.Sprintf("(Page %d of %d)", pages, pages))
	require.Equal(t, pages, strings.Count(text, "(supplier)"), "header repeated on every page")
	require.Contains(t, text, "(Zhejiang ?? Trading Co., Ltd.)")
}

func TestWritePDFEmptyAndCJK(t *testing.T) {
	for _, d := range []Document{
		{},
		{Title: "只有标题"},
		{Title: "中文", Table: Table{Header: []string{"名称"}, Rows: [][]string{{"浙江"}, {}}}},
	} {
		var buf bytes.Buffer
		require.NoError(t, Write(&buf, PDF, d))
		require.True(t, bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")))
	}
}

// pdfText returns the inflated content streams of a PDF made by fpdf.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	var text strings.Builder
	for _, m := range regexp.MustCompile(`(?s)stream\n(.*?)\nendstream`).FindAllSubmatch(pdf, -1) {
		zr, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue // not compressed (fonts etc.)
		}
		b, err := io.ReadAll(zr)
		if err == nil {
			text.Write(b)
		}
	}
	return text.String()
}

func TestReadLarge(t *testing.T) {
	tbl := Table{Header: []string{"sku", "name", "qty", "price"}}
	for i := range 10_000 {
		tbl.Rows = append(tbl.Rows, []string{fmt.Sprintf("SKU-%05d", i), "Zhejiang 浙江 product", strconv.Itoa(i), "19.90"})
	}
	for _, f := range []Format{CSV, XLSX} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, Write(&buf, f, Document{Title: "large", Table: tbl}))
			got, err := Read(&buf, f, Limits{Rows: 10_000})
			require.NoError(t, err)
			require.Len(t, got.Rows, 10_000)
			require.Equal(t, tbl.Rows[9_999], got.Rows[9_999])
			require.Equal(t, 10_001, got.RowLine[9_999])
		})
	}
}

func TestUnsupportedFormat(t *testing.T) {
	_, err := Read(strings.NewReader("x"), PDF, Limits{Rows: 1})
	require.Error(t, err)
	require.False(t, errors.Is(err, ErrMalformed))
	require.Error(t, Write(io.Discard, Format("ods"), Document{}))
}

// A wide table of fifteen columns, one of them long text, breaks no word
// across lines (the quote comparison's PDF broke "currenc y" and
// "bronz e"): every column is at least as wide as its longest word.
func TestWritePDFBreaksNoWord(t *testing.T) {
	header := []string{"Supplier", "Tier", "Rating", "Quote", "Revision", "Unit price", "Total", "Currency", "MOQ",
		"Lead time (days)", "Valid till", "Sample price", "Certifications", "Status", "Best"}
	tbl := Table{Header: header}
	for i := range 3 {
		tbl.Rows = append(tbl.Rows, []string{
			"Ningbo Fasteners Manufacturing Co.", "bronze", "4.75", "q" + strconv.Itoa(i+1), "2", "USD 3.90", "USD 7,800.00", "USD",
			"100", "21", "2030-01-01", "USD 25.00", "ISO 9001; CE; RoHS; REACH; ISO 14001; IATF 16949; SGS audited factory",
			"submitted", "lowest total; shortest lead time; best rated",
		})
	}
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, PDF, Document{Title: "Quotes", Table: tbl, Highlight: map[[2]int]bool{{0, 6}: true}}))
	text := pdfText(t, buf.Bytes())
	for _, word := range []string{"Supplier", "Revision", "Currency", "Certifications", "bronze", "submitted", "2030-01-01", "7,800.00", "Manufacturing"} {
		if !regexp.MustCompile(`\((?:[^()]* )?` + regexp.QuoteMeta(word) + `(?: [^()]*)?\)\s*Tj`).MatchString(text) {
			t.Errorf("%q is broken across lines or missing: %s", word, regexp.MustCompile(`\([^()]*\)\s*Tj`).FindAllString(text, -1))
		}
	}
}

// A formatted amount is a number cell in XLSX, shown in its currency's
// format, and its text in CSV.
func TestNumbersAreNumberCellsInXLSX(t *testing.T) {
	d := Document{
		Title: "Quotes",
		Table: Table{Header: []string{"supplier", "total"}, Rows: [][]string{{"A", "USD 2,340.00"}, {"B", "JPY 1,200"}}},
		Numbers: map[[2]int]Number{
			{0, 1}: {Value: 2340, Format: `"USD "#,##0.00`},
			{1, 1}: {Value: 1200, Format: `"JPY "#,##0`},
		},
	}
	var x, c bytes.Buffer
	require.NoError(t, Write(&x, XLSX, d))
	require.NoError(t, Write(&c, CSV, d))
	back, err := Read(bytes.NewReader(x.Bytes()), XLSX, Limits{})
	require.NoError(t, err)
	require.Equal(t, [][]string{{"A", "2340.00"}, {"B", "1200"}}, back.Rows, "read as numbers, in their formats' decimals")
	require.Contains(t, c.String(), `"USD 2,340.00"`)
}
