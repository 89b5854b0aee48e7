package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// docxText unzips a .docx and reads its body as XML: the text of each
// paragraph (w:br and w:tab as "\n" and "\t"), and each part's name.
func docxText(t *testing.T, raw []byte) (paragraphs []string, parts []string) {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	var body []byte
	for _, f := range z.File {
		parts = append(parts, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Every part is well-formed XML.
		dec := xml.NewDecoder(bytes.NewReader(content))
		for {
			if _, err := dec.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("%s is not XML: %v", f.Name, err)
			}
		}
		if f.Name == "word/document.xml" {
			body = content
		}
	}
	if body == nil {
		t.Fatalf("no word/document.xml in %q", parts)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var cur strings.Builder
	inText := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "t":
				inText = true
			case "br":
				cur.WriteString("\n")
			case "tab":
				cur.WriteString("\t")
			}
		case xml.EndElement:
			switch tok.Name.Local {
			case "t":
				inText = false
			case "p":
				paragraphs = append(paragraphs, cur.String())
				cur.Reset()
			}
		case xml.CharData:
			if inText {
				cur.Write(tok)
			}
		}
	}
	return paragraphs, parts
}

// A document as DOCX: the title, each note a paragraph (line breaks and
// tabs kept), the table's cells; texts that look like markup stay text,
// and control characters XML cannot hold are spaces.
func TestDOCXHoldsTheTextsAsText(t *testing.T) {
	hostile := "A&B <w:p>x</w:p> ]]> \"q\" 'a'\x00\x01\x1b end"
	d := Document{
		Title:    "Contract <b>",
		Notes:    []string{"1. Parties", "Buyer: " + hostile, "line one\nline two\tand a tab", "纯棉T恤"},
		Headings: map[int]bool{0: true},
		Table:    Table{Header: []string{"Party", "Organization"}, Rows: [][]string{{"Buyer", hostile}, {"Supplier"}}},
	}
	var buf bytes.Buffer
	if err := Write(&buf, DOCX, d); err != nil {
		t.Fatal(err)
	}
	paras, parts := docxText(t, buf.Bytes())
	for _, want := range []string{"[Content_Types].xml", "_rels/.rels", "word/document.xml", "word/styles.xml"} {
		if !strings.Contains(strings.Join(parts, " "), want) {
			t.Errorf("no %s in %q", want, parts)
		}
	}
	text := strings.Join(paras, "\n")
	clean := "A&B <w:p>x</w:p> ]]> \"q\" 'a'    end"
	for _, want := range []string{"Contract <b>", "Buyer: " + clean, "line one\nline two\tand a tab", "纯棉T恤", "Party", "Supplier"} {
		if !strings.Contains(text, want) {
			t.Errorf("the DOCX lacks %q:\n%s", want, text)
		}
	}
	if strings.Count(text, clean) != 2 {
		t.Errorf("the hostile text should be there twice (note and cell):\n%s", text)
	}
	if strings.ContainsAny(text, "\x00\x01\x1b") {
		t.Errorf("a control character reached the document: %q", text)
	}
	if !bytes.Contains(buf.Bytes(), []byte("word/document.xml")) || !strings.Contains(DOCX.ContentType(), "wordprocessingml") {
		t.Errorf("content type %q", DOCX.ContentType())
	}
}
