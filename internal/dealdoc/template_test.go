package dealdoc

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/tradeloop/tradeloop/internal/pdftext"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/internal/texts"
	"github.com/tradeloop/tradeloop/workflows"
)

var (
	english = texts.Reader{Lang: texts.English, Zone: time.UTC}
	chinese = texts.Reader{Lang: texts.Chinese, Zone: time.UTC}
	rules   = Rules{InspectionDays: 7}
)

// withTerms is the completed deal with the whole of its contract's terms.
func withTerms() workflows.DealState {
	st := completed()
	st.Inquiry.Incoterm = "FOB"
	t := &st.Contract.Terms
	t.DealID, t.Product, t.Quantity, t.Unit, t.Currency = "d1", "cotton t-shirts", 2000, "pcs", "USD"
	t.Incoterm, t.Destination, t.ShipBy = "FOB", "Hamburg", time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)
	t.Specs = "180 gsm, white"
	st.Contract.TermsSHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	return st
}

// docxParagraphs unzips a .docx, checks that every part is well-formed
// XML, and reads the text of word/document.xml's paragraphs.
func docxParagraphs(t *testing.T, raw []byte) []string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("the DOCX is not a zip: %v", err)
	}
	var paras []string
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(rc)
		var cur strings.Builder
		inText := false
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s is not XML: %v", f.Name, err)
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				inText = tok.Name.Local == "t"
			case xml.EndElement:
				inText = false
				if tok.Name.Local == "p" && f.Name == "word/document.xml" {
					paras = append(paras, cur.String())
					cur.Reset()
				}
			case xml.CharData:
				if inText {
					cur.Write(tok)
				}
			}
		}
		rc.Close()
	}
	if len(paras) == 0 {
		t.Fatal("no paragraphs in word/document.xml")
	}
	return paras
}

// render writes d as PDF (in the Droid font) and DOCX, and reads back the
// text of each: the PDF's lines joined by join.
func render(t *testing.T, d sheet.Document, join string) (pdf, docx string) {
	t.Helper()
	font, err := sheet.LoadFont(pdftext.DroidFontPath(t))
	if err != nil {
		t.Fatal(err)
	}
	var p, w bytes.Buffer
	if err := (sheet.Writer{Font: font}).Write(&p, sheet.PDF, d); err != nil {
		t.Fatal(err)
	}
	pieces, err := pdftext.Read(p.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := (sheet.Writer{Font: font}).Write(&w, sheet.DOCX, d); err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(pdftext.Text(pieces), "\n", join), strings.Join(docxParagraphs(t, w.Bytes()), "\n")
}

// The blank template has every standard clause under its heading, worded
// in the reader's language (the Chinese in Chinese, not English fallen
// back to), the platform's own figures (the 30/70 split, the inspection
// period) and blanks for the rest; both formats print all of it.
func TestTheBlankTemplateHasEveryClauseInBothLanguages(t *testing.T) {
	for _, r := range []texts.Reader{english, chinese} {
		d := Template(r, rules)
		for _, c := range Clauses {
			for _, name := range []string{"contract." + c, "contract." + c + ".heading"} {
				if !texts.HasPhrase(r.Lang, name) {
					t.Errorf("%s: the catalog does not word %s", r.Lang, name)
				}
			}
		}
		if len(d.Headings) != len(Clauses) || len(d.Notes) != 1+2*len(Clauses) {
			t.Fatalf("%s: %d headings, %d notes for %d clauses", r.Lang, len(d.Headings), len(d.Notes), len(Clauses))
		}
		for i, c := range Clauses {
			heading, body := d.Notes[1+2*i], d.Notes[2+2*i]
			if !d.Headings[1+2*i] || !strings.HasPrefix(heading, strings.Split("1 2 3 4 5 6 7 8 9 10", " ")[i]+". ") || body == "" {
				t.Errorf("%s: clause %s: heading %q, body %q", r.Lang, c, heading, body)
			}
			if r.Lang == texts.Chinese && !strings.ContainsFunc(heading+body, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Errorf("clause %s is not worded in Chinese: %q / %q", c, heading, body)
			}
		}
		all := strings.Join(d.Notes, "\n")
		for _, want := range []string{"30 %", "70 %", " 7 ", Blank} {
			if !strings.Contains(all, want) {
				t.Errorf("%s: the blank template lacks %q:\n%s", r.Lang, want, all)
			}
		}
		if strings.Contains(all, "<no value>") {
			t.Errorf("%s: a clause reads a term it is not given:\n%s", r.Lang, all)
		}
		join := " "
		if r.Lang == texts.Chinese {
			join = ""
		}
		pdf, docx := render(t, d, join)
		for i := 1; i < len(d.Notes); i += 2 {
			heading := d.Notes[i]
			if !strings.Contains(pdf, heading) || !strings.Contains(docx, heading) {
				t.Errorf("%s: %q missing from the PDF or the DOCX", r.Lang, heading)
			}
			if !strings.Contains(docx, d.Notes[i+1]) {
				t.Errorf("%s: the DOCX lacks the clause %q", r.Lang, d.Notes[i+1])
			}
		}
		if strings.ContainsAny(pdf, "?\uFFFD") {
			t.Errorf("%s: the PDF prints a character as ?:\n%s", r.Lang, pdf)
		}
	}
	en, zh := Template(english, rules), Template(chinese, rules)
	if en.Notes[2] == zh.Notes[2] || en.Title == zh.Title {
		t.Error("the Chinese template reads as the English one")
	}
}

// A template filled from a deal with a contract prints the deal's parties
// by name, its goods and figures (money as people write it), its dates
// and its contract's SHA-256, in both formats and both languages; no
// blank is left in its clauses.
func TestTheTemplateFilledFromADealHasItsFigures(t *testing.T) {
	st := withTerms()
	names := Names{"b1": "Buyer GmbH", "s1": "深圳华强电子有限公司"}
	at := time.Date(2026, 3, 9, 10, 0, 0, 0, time.UTC)
	want := []string{"Buyer GmbH", "深圳华强电子有限公司", "cotton t-shirts", "180 gsm, white", "2,000", "pcs", "USD 3.90", "USD 7,800.00",
		"USD 2,340.00", "USD 5,460.00", "FOB", "Hamburg", "21", st.Contract.TermsSHA256, "d1"}
	for _, r := range []texts.Reader{english, chinese} {
		d := TemplateFor(st, names, r, rules, at)
		clauses := strings.Join(d.Notes, "\n")
		if strings.Contains(clauses, Blank) {
			t.Errorf("%s: a blank left in a deal with a contract:\n%s", r.Lang, clauses)
		}
		day := map[texts.Lang]string{texts.English: "2026-05-20", texts.Chinese: "2026年5月20日"}[r.Lang]
		for _, w := range append(want, day) {
			if !strings.Contains(clauses, w) {
				t.Errorf("%s: the template lacks %q:\n%s", r.Lang, w, clauses)
			}
		}
		if d.Table.Rows[0][1] != "Buyer GmbH" || d.Table.Rows[1][1] != "深圳华强电子有限公司" || !strings.Contains(d.Table.Rows[0][3], day[:4]) {
			t.Errorf("%s: the signatures: %q", r.Lang, d.Table.Rows)
		}
		if r.Lang != texts.English {
			continue
		}
		pdf, docx := render(t, d, " ")
		for _, w := range append(want, day, "Delivery FOB", "within 7 days of their delivery") {
			if !strings.Contains(pdf, w) {
				t.Errorf("the PDF lacks %q:\n%s", w, pdf)
			}
			if !strings.Contains(docx, w) {
				t.Errorf("the DOCX lacks %q:\n%s", w, docx)
			}
		}
	}
}

// Before a contract, the template takes what the deal has fixed: the
// inquiry's goods, the awarded quote's price once there is one; the rest
// stays blank. A deal still quoting has no supplier and no price in it.
func TestTheTemplateOfADealWithoutAContract(t *testing.T) {
	st := completed()
	st.Contract = nil
	st.Stage = workflows.StageQuoting
	st.SupplierID, st.Total = "", 0
	st.Quotes = []workflows.Quote{{ID: "q1", SupplierID: "s1", UnitPrice: 390, Total: 780_000, LeadTimeDays: 21}}
	d := TemplateFor(st, Names{"b1": "Buyer GmbH", "s1": "Supplier Co"}, english, rules, time.Now())
	all := strings.Join(d.Notes, "\n")
	for _, w := range []string{"Buyer GmbH", "cotton t-shirts", "2,000 pcs", "Supplier: " + Blank, "Unit price: " + Blank, "has no contract yet"} {
		if !strings.Contains(all, w) {
			t.Errorf("a quoting deal's template lacks %q:\n%s", w, all)
		}
	}
	if strings.Contains(all, "Supplier Co") || strings.Contains(all, "3.90") {
		t.Errorf("a quote before the award is in the template:\n%s", all)
	}

	st.Stage, st.SupplierID, st.AcceptedQuoteID = workflows.StageSample, "s1", "q1"
	st.Total, st.Deposit, st.Balance = 780_000, 234_000, 546_000
	all = strings.Join(TemplateFor(st, Names{"b1": "Buyer GmbH", "s1": "Supplier Co"}, english, rules, time.Now()).Notes, "\n")
	for _, w := range []string{"Supplier: Supplier Co", "Unit price: USD 3.90", "Total: USD 7,800.00", "USD 2,340.00", "within 21 days of the deposit"} {
		if !strings.Contains(all, w) {
			t.Errorf("an awarded deal's template lacks %q:\n%s", w, all)
		}
	}
}

// Names a party wrote that look like markup, end XML's character data,
// hold control characters or marks that turn the text around, or run to
// 5,000 characters, print as text: the DOCX stays a zip of well-formed
// XML holding each name once per place, the PDF renders.
func TestHostileNamesPrintAsText(t *testing.T) {
	long := strings.Repeat("长", 2500) + strings.Repeat("L", 2500)
	hostile := map[string]string{
		"markup":  `</w:t></w:r></w:p><w:p><w:r><w:t>INJECTED`,
		"amp":     "Smith & Sons &amp; <Co>",
		"cdata":   "]]><![CDATA[x]]>",
		"nul":     "Null\x00Org\x1b[31m",
		"rtl":     "Evil\u202Egpj.exe\u2067Org\u200F",
		"long":    long,
		"product": "<w:p>&]]>\x00\u202E",
	}
	clean := map[string]string{
		"markup": `</w:t></w:r></w:p><w:p><w:r><w:t>INJECTED`, "amp": "Smith & Sons &amp; <Co>", "cdata": "]]><![CDATA[x]]>",
		"nul": "Null Org [31m", "rtl": "Evilgpj.exeOrg", "long": long, "product": "<w:p>&]]>",
	}
	for _, buyer := range []string{"markup", "amp", "cdata", "nul", "rtl", "long"} {
		st := withTerms()
		st.Contract.Terms.Product = hostile["product"]
		d := TemplateFor(st, Names{"b1": hostile[buyer], "s1": "Supplier Co"}, english, rules, time.Now())
		var w bytes.Buffer
		if err := sheet.Write(&w, sheet.DOCX, d); err != nil {
			t.Fatalf("%s: %v", buyer, err)
		}
		docx := strings.Join(docxParagraphs(t, w.Bytes()), "\n")
		if !strings.Contains(docx, "Buyer: "+clean[buyer]+". Supplier: Supplier Co.") {
			t.Errorf("%s: the DOCX lacks the buyer's name as text:\n%.600s", buyer, docx)
		}
		if !strings.Contains(docx, "pcs of <w:p>&]]>") {
			t.Errorf("%s: the DOCX lacks the product as text", buyer)
		}
		if strings.ContainsAny(docx, "\x00\x1b\u202E\u2067\u200F") {
			t.Errorf("%s: a control or direction character reached the DOCX", buyer)
		}
		if strings.Count(docx, "INJECTED") > 2 || bytes.Contains(w.Bytes(), []byte("<w:t>INJECTED")) {
			t.Errorf("%s: markup in a name became markup", buyer)
		}
		var p bytes.Buffer
		if err := sheet.Write(&p, sheet.PDF, d); err != nil || p.Len() == 0 {
			t.Errorf("%s: the PDF: %v", buyer, err)
		}
		if buyer != "long" {
			if _, err := pdftext.Read(p.Bytes()); err != nil {
				t.Errorf("%s: the PDF does not read: %v", buyer, err)
			}
		}
	}
}
