package sheet

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// handXLSX builds an .xlsx by hand: the package parts a workbook needs and
// the given worksheet XML (the content of <sheetData>), plus extra parts by
// name (e.g. "xl/sharedStrings.xml"), so that a test controls every byte.
func handXLSX(t testing.TB, sheetData string, extra map[string]string) []byte {
	t.Helper()
	parts := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
		"_rels/.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` + sheetData + `</sheetData></worksheet>`,
	}
	for name, content := range extra {
		parts[name] = content
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml"} {
		writePart(t, zw, name, parts[name])
		delete(parts, name)
	}
	for name, content := range parts {
		writePart(t, zw, name, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writePart(t testing.TB, zw *zip.Writer, name, content string) {
	t.Helper()
	w, err := zw.Create(name)
	if err == nil {
		_, err = w.Write([]byte(content))
	}
	if err != nil {
		t.Fatal(err)
	}
}

// inlineCell is the XML of a text cell at ref.
func inlineCell(ref, text string) string {
	return fmt.Sprintf(`<c r="%s" t="inlineStr"><is><t>%s</t></is></c>`, ref, text)
}

// farRightXLSX is the file: a header of two columns, then rows
// each with a SKU in A, a quantity in B (a number if numbers, else text) and
// one more cell in column XFD, the last of a worksheet: with far = "x" a
// value, with far = "" an empty cell that only has a style (as Excel writes
// for a formatted cell).
func farRightXLSX(t testing.TB, rows int, far string, numbers bool) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString(`<row r="1">` + inlineCell("A1", "sku") + inlineCell("B1", "qty") + `</row>`)
	for i := 2; i <= rows+1; i++ {
		fmt.Fprintf(&b, `<row r="%d">%s`, i, inlineCell(fmt.Sprintf("A%d", i), fmt.Sprintf("SKU-%d", i)))
		if numbers {
			fmt.Fprintf(&b, `<c r="B%d"><v>%d</v></c>`, i, i)
		} else {
			b.WriteString(inlineCell(fmt.Sprintf("B%d", i), "many"))
		}
		if far == "" {
			fmt.Fprintf(&b, `<c r="XFD%d" s="0"/>`, i)
		} else {
			b.WriteString(inlineCell(fmt.Sprintf("XFD%d", i), far))
		}
		b.WriteString(`</row>`)
	}
	return handXLSX(t, b.String(), nil)
}
