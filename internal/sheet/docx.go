package sheet

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
)

// No Go library for Word files is both kept up and served to this build
// (the README's "Contract template" names those looked at), and a
// document of paragraphs and one table needs little of the format:
// writeDOCX writes the five parts a word processor needs (ECMA-376 part 1,
// transitional), fixed markup around texts escaped by encoding/xml.

const docxContentType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

// docxParts are the parts of a .docx other than its body, which say what
// the parts are, where the body is, and the styles it uses (the East Asian
// font for Chinese text, the language each script is checked in).
var docxParts = []struct{ name, xml string }{
	{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
		`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
		`<Default Extension="xml" ContentType="application/xml"/>` +
		`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>` +
		`<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>` +
		`</Types>`},
	{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>` +
		`</Relationships>`},
	{"word/_rels/document.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
		`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
		`</Relationships>`},
	{"word/styles.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">` +
		`<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri" w:eastAsia="SimSun" w:cs="Arial"/>` +
		`<w:sz w:val="21"/><w:lang w:val="en-GB" w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault>` +
		`<w:pPrDefault><w:pPr><w:spacing w:after="120" w:line="264" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>` +
		`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>` +
		`<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/>` +
		`<w:pPr><w:spacing w:after="240"/></w:pPr><w:rPr><w:b/><w:sz w:val="36"/></w:rPr></w:style>` +
		`<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/>` +
		`<w:pPr><w:keepNext/><w:spacing w:before="240" w:after="80"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:sz w:val="24"/></w:rPr></w:style>` +
		`<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>` +
		`<w:tblPr><w:tblCellMar><w:left w:w="108" w:type="dxa"/><w:right w:w="108" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>` +
		`</w:styles>`},
}

// writeDOCX writes d as a Word document: its title, its notes as
// paragraphs (headings in the Heading 1 style), then its table with
// borders and a bold header row repeated on each page; Highlight and
// Numbers are ignored.
func writeDOCX(w io.Writer, d Document) error {
	z := zip.NewWriter(w)
	// A fixed time: the same document makes the same file.
	when := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range docxParts {
		f, err := z.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: when})
		if err != nil {
			return fmt.Errorf("write docx: %w", err)
		}
		if _, err := io.WriteString(f, p.xml); err != nil {
			return fmt.Errorf("write docx: %w", err)
		}
	}
	f, err := z.CreateHeader(&zip.FileHeader{Name: "word/document.xml", Method: zip.Deflate, Modified: when})
	if err != nil {
		return fmt.Errorf("write docx: %w", err)
	}
	b := docxBody{w: bufio.NewWriter(f)}
	b.raw(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>`)
	b.paragraph("Title", d.Title, false)
	for i, n := range d.Notes {
		style := ""
		if d.Headings[i] {
			style = "Heading1"
		}
		b.paragraph(style, n, false)
	}
	if len(d.Table.Header) > 0 {
		b.table(d.Table)
		b.raw(`<w:p/>`) // Word ends a body with a paragraph, never with a table
	}
	// A4 portrait, margins of 2 cm.
	b.raw(`<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1134" w:right="1134" w:bottom="1134" w:left="1134" w:header="567" w:footer="567" w:gutter="0"/></w:sectPr>`)
	b.raw(`</w:body></w:document>`)
	if b.err == nil {
		b.err = b.w.Flush()
	}
	if b.err != nil {
		return fmt.Errorf("write docx: %w", b.err)
	}
	if err := z.Close(); err != nil {
		return fmt.Errorf("write docx: %w", err)
	}
	return nil
}

// docxBody writes word/document.xml, keeping the first error.
type docxBody struct {
	w   *bufio.Writer
	err error
}

// raw writes markup, which never holds a document's text.
func (b *docxBody) raw(markup string) {
	if b.err == nil {
		_, b.err = b.w.WriteString(markup)
	}
}

// paragraph writes s as a paragraph in style ("" for Normal), bold when
// bold.
func (b *docxBody) paragraph(style, s string, bold bool) {
	b.raw(`<w:p>`)
	if style != "" {
		b.raw(`<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`)
	}
	b.run(s, bold)
	b.raw(`</w:p>`)
}

// run writes s as a run of text: line feeds as line breaks, tabs as
// tabs, other control characters (which XML 1.0 cannot hold, or a reader
// would show as boxes) as spaces, and the characters XML gives meaning to
// escaped.
func (b *docxBody) run(s string, bold bool) {
	b.raw(`<w:r>`)
	if bold {
		b.raw(`<w:rPr><w:b/></w:rPr>`)
	}
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.raw(`<w:br/>`)
		}
		for j, piece := range strings.Split(line, "\t") {
			if j > 0 {
				b.raw(`<w:tab/>`)
			}
			if piece == "" {
				continue
			}
			b.raw(`<w:t xml:space="preserve">`)
			b.text(piece)
			b.raw(`</w:t>`)
		}
	}
	b.raw(`</w:r>`)
}

// text writes s as XML character data: control characters as spaces,
// and encoding/xml's escaping for the rest (which also writes U+FFFD for
// invalid UTF-8 and for characters XML does not allow, such as U+FFFE).
func (b *docxBody) text(s string) {
	if b.err != nil {
		return
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	b.err = xml.EscapeText(b.w, []byte(s))
}

// table writes t across the page, its columns sharing the width equally.
func (b *docxBody) table(t Table) {
	const width = 9638 // the page less its margins, in twentieths of a point
	col := width / len(t.Header)
	b.raw(`<w:tbl><w:tblPr><w:tblW w:w="` + fmt.Sprint(width) + `" w:type="dxa"/><w:tblBorders>`)
	for _, side := range []string{"top", "left", "bottom", "right", "insideH", "insideV"} {
		b.raw(`<w:` + side + ` w:val="single" w:sz="4" w:space="0" w:color="A0A0A0"/>`)
	}
	b.raw(`</w:tblBorders><w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid>`)
	for range t.Header {
		b.raw(`<w:gridCol w:w="` + fmt.Sprint(col) + `"/>`)
	}
	b.raw(`</w:tblGrid>`)
	row := func(cells []string, header bool) {
		b.raw(`<w:tr>`)
		if header {
			b.raw(`<w:trPr><w:tblHeader/></w:trPr>`)
		}
		for j := range t.Header {
			cell := ""
			if j < len(cells) {
				cell = cells[j]
			}
			b.raw(`<w:tc><w:tcPr><w:tcW w:w="` + fmt.Sprint(col) + `" w:type="dxa"/></w:tcPr>`)
			b.paragraph("", cell, header)
			b.raw(`</w:tc>`)
		}
		b.raw(`</w:tr>`)
	}
	row(t.Header, true)
	for _, r := range t.Rows {
		row(r, false)
	}
	b.raw(`</w:tbl>`)
}
