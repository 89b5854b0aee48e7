package api

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tradeloop/tradeloop/internal/pdftext"
	"github.com/tradeloop/tradeloop/workflows"
)

const docxType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

// docxText is the text of a .docx's word/document.xml, each paragraph on
// a line; the file must be a zip whose every part is well-formed XML.
func docxText(t *testing.T, raw []byte) string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("the DOCX is not a zip: %v", err)
	}
	var out strings.Builder
	found := false
	for _, f := range z.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(rc)
		inText := false
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s is not XML: %v", f.Name, err)
			}
			if f.Name != "word/document.xml" {
				continue
			}
			found = true
			switch tok := tok.(type) {
			case xml.StartElement:
				inText = tok.Name.Local == "t"
			case xml.EndElement:
				inText = false
				if tok.Name.Local == "p" {
					out.WriteString("\n")
				}
			case xml.CharData:
				if inText {
					out.Write(tok)
				}
			}
		}
		rc.Close()
	}
	if !found {
		t.Fatal("no word/document.xml")
	}
	return out.String()
}

// download checks a document's Content-Type and Content-Disposition (an
// attachment with a safe file name ending in its format) and returns its
// text: a PDF's lines joined by spaces, a DOCX's paragraphs by newlines.
func download(t *testing.T, r response, format string) string {
	t.Helper()
	want := map[string]string{"pdf": "application/pdf", "docx": docxType}[format]
	if ct := r.header.Get("Content-Type"); ct != want {
		t.Fatalf("Content-Type %q, want %q", ct, want)
	}
	cd := r.header.Get("Content-Disposition")
	name, ok := strings.CutPrefix(cd, `attachment; filename="`)
	if !ok || !strings.HasSuffix(name, "."+format+`"`) || strings.ContainsAny(strings.TrimSuffix(name, `"`), `"/\ ;`) {
		t.Fatalf("Content-Disposition %q", cd)
	}
	if format == "docx" {
		return docxText(t, r.body)
	}
	return strings.ReplaceAll(pdfText(t, "contract template", r.body), "\n", " ")
}

// The blank contract template downloads for every role in both formats,
// in ?lang= or else the caller's language; a format or language the
// platform does not make is a 422 naming its parameter.
func TestBlankContractTemplateOverHTTP(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.PDFFont = pdftext.DroidFontPath(t) })
	for _, who := range []string{"buyer", "buyer2", "supplier", "supplier2", "supplier3", "mediator", "finance", "admin"} {
		for _, f := range []string{"pdf", "docx"} {
			text := download(t, p.must(http.StatusOK, p.do(who, "GET", "/v1/contract-template?format="+f, nil)), f)
			for _, w := range []string{"Purchase contract", "1. Parties", "5. Quality guarantee", "6. Inspection", "7. Late delivery",
				"8. Force majeure", "9. Disputes", "deposit of 30 %", "within 7 days", "____"} {
				if !strings.Contains(text, w) {
					t.Errorf("%s's blank %s lacks %q:\n%s", who, f, w, text)
				}
			}
		}
	}
	zh := download(t, p.must(http.StatusOK, p.do("buyer", "GET", "/v1/contract-template?format=pdf&lang=zh", nil)), "pdf")
	if !strings.Contains(zh, "采购合同") || !strings.Contains(zh, "不可抗力") || strings.Contains(zh, "Force majeure") {
		t.Errorf("lang=zh:\n%s", zh)
	}
	// A user reading Chinese gets Chinese without asking.
	p.must(http.StatusOK, p.do("supplier", "PUT", "/v1/users/me/reading", map[string]string{"language": "zh"}))
	if text := download(t, p.must(http.StatusOK, p.do("supplier", "GET", "/v1/contract-template?format=docx", nil)), "docx"); !strings.Contains(text, "质量保证") {
		t.Errorf("the Chinese reader's template:\n%s", text)
	}
	for query, field := range map[string]string{"format=xlsx": "format", "format=csv": "format", "format=pdf&lang=fr": "lang"} {
		r := p.must(http.StatusUnprocessableEntity, p.do("buyer", "GET", "/v1/contract-template?"+query, nil))
		if r.errCode() != "invalid" || !strings.Contains(string(r.body), `"field":"`+field+`"`) {
			t.Errorf("%s: %s", query, r.body)
		}
	}
}

// A deal's contract template is filled with its parties, goods and terms
// for those who see the deal; an outsider, and a supplier another was
// awarded the deal over, get 404 (and nothing of the winner's price).
func TestDealContractTemplateOverHTTP(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.PDFFont = pdftext.DroidFontPath(t) })
	id := p.newDeal(false, "supplier", "supplier2")
	var st workflows.DealState
	loser := quoteBody()
	loser["tiers"] = []map[string]any{{"min_quantity": 100, "unit_price": 520}}
	p.must(http.StatusOK, p.do("supplier2", "POST", p.path(id, "/quotes"), loser))
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)

	// While quoting: the inquiry's goods, no supplier and no price.
	quoting := download(t, p.must(http.StatusOK, p.do("buyer", "GET", p.path(id, "/contract-template?format=pdf"), nil)), "pdf")
	if !strings.Contains(quoting, "cotton t-shirts") || strings.Contains(quoting, "USD 3.90") || strings.Contains(quoting, "USD 5.20") {
		t.Errorf("the quoting deal's template:\n%s", quoting)
	}

	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/quotes/"+st.Quotes[0].ID+"/accept"), nil)).json(t, &st)
	if st.Contract == nil {
		t.Fatal("no contract after the award")
	}
	sha := st.Contract.TermsSHA256
	want := []string{"buyer org", "supplier org", "cotton t-shirts", "2,000 pcs", "Unit price: USD 3.90", "Total: USD 7,800.00",
		"USD 2,340.00", "USD 5,460.00", "Hamburg", "21 days", sha}
	for _, who := range []string{"buyer", "supplier", "finance"} {
		for _, f := range []string{"pdf", "docx"} {
			text := download(t, p.must(http.StatusOK, p.do(who, "GET", p.path(id, "/contract-template?format="+f), nil)), f)
			for _, w := range want {
				if !strings.Contains(text, w) {
					t.Errorf("%s's %s lacks %q:\n%s", who, f, w, text)
				}
			}
		}
	}
	zh := download(t, p.must(http.StatusOK, p.do("buyer", "GET", p.path(id, "/contract-template?format=docx&lang=zh"), nil)), "docx")
	if !strings.Contains(zh, "单价：USD 3.90") || !strings.Contains(zh, sha) {
		t.Errorf("the Chinese filled template:\n%s", zh)
	}
	for _, who := range []string{"buyer2", "supplier2", "supplier3", "mediator"} {
		r := p.must(http.StatusNotFound, p.do(who, "GET", p.path(id, "/contract-template?format=pdf"), nil))
		if strings.Contains(string(r.body), "3.90") || r.errCode() != "not_found" {
			t.Errorf("%s: %s", who, r.body)
		}
	}
	p.must(http.StatusNotFound, p.do("buyer", "GET", p.path("no-such-deal", "/contract-template?format=pdf"), nil))
	r := p.must(http.StatusUnprocessableEntity, p.do("buyer", "GET", p.path(id, "/contract-template?format=html"), nil))
	if !strings.Contains(string(r.body), `"field":"format"`) {
		t.Errorf("a bad format: %s", r.body)
	}
}

// The console offers the blank template on the home page and the inquiry
// form, and the filled one on the deal's page, in the reader's language;
// a supplier that lost the deal sees neither link nor file.
func TestConsoleContractTemplate(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer", "supplier2")
	id := p.newDeal(false, "supplier", "supplier2")
	var st workflows.DealState
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/quotes/"+st.Quotes[0].ID+"/accept"), nil))
	p.projected(id)

	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	for _, page := range []string{"/app", "/app/inquiries/new"} {
		res := buyer.do("GET", page, nil)
		if res.status != http.StatusOK || !strings.Contains(res.body, `href="/app/contract-template/pdf"`) || !strings.Contains(res.body, `href="/app/contract-template/docx"`) {
			t.Errorf("%s: %d, no links to the blank template", page, res.status)
		}
	}
	deal := buyer.do("GET", "/app/deals/"+id, nil)
	for _, f := range []string{"pdf", "docx"} {
		link := "/app/deals/" + id + "/contract-template/" + f
		if !strings.Contains(deal.body, `href="`+link+`"`) {
			t.Errorf("the deal page has no link to %s", link)
		}
		res := buyer.do("GET", link, nil)
		if res.status != http.StatusOK || !strings.Contains(res.header.Get("Content-Disposition"), "contract-"+id+"-en."+f) {
			t.Fatalf("%s: %d %q", link, res.status, res.header.Get("Content-Disposition"))
		}
		text := download(t, response{status: res.status, body: []byte(res.body), header: res.header}, f)
		if !strings.Contains(text, "USD 7,800.00") || !strings.Contains(text, "supplier org") {
			t.Errorf("the console's filled %s:\n%s", f, text)
		}
	}
	if res := buyer.do("GET", "/app/contract-template/odt", nil); res.status != http.StatusNotFound {
		t.Errorf("an unknown format: %d", res.status)
	}

	// In the reader's language.
	p.must(http.StatusOK, p.do("buyer", "PUT", "/v1/users/me/reading", map[string]string{"language": "zh"}))
	buyer = &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	res := buyer.do("GET", "/app/contract-template/docx", nil)
	if text := docxText(t, []byte(res.body)); res.status != http.StatusOK || !strings.Contains(text, "采购合同") {
		t.Errorf("the Chinese reader's blank template: %d\n%s", res.status, text)
	}

	loser := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	loser.signIn("supplier2")
	if page := loser.do("GET", "/app/deals/"+id, nil); page.status != http.StatusOK || strings.Contains(page.body, "/app/deals/"+id+"/contract-template") {
		t.Errorf("the losing supplier's deal page (%d) links the filled template", page.status)
	}
	for _, f := range []string{"pdf", "docx"} {
		if res := loser.do("GET", "/app/deals/"+id+"/contract-template/"+f, nil); res.status != http.StatusNotFound || strings.Contains(res.body, "7,800") {
			t.Errorf("the losing supplier's %s: %d", f, res.status)
		}
	}
}
