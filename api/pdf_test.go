package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tradeloop/tradeloop/internal/pdftext"
)

// chineseNames renames the buyer's and the supplier's organizations in
// Chinese.
func (p *platform) chineseNames() (buyer, supplier string) {
	p.t.Helper()
	buyer, supplier = "上海纺织品进出口有限公司", "深圳华强电子有限公司"
	for who, name := range map[string]string{"buyer": buyer, "supplier": supplier} {
		if _, err := p.pool.Exec(context.Background(), "UPDATE organizations SET name = $1 WHERE id = $2", name, p.orgs[who]); err != nil {
			p.t.Fatal(err)
		}
	}
	return buyer, supplier
}

// pdfText is the text a PDF shows.
func pdfText(t *testing.T, what string, pdf []byte) string {
	t.Helper()
	pieces, err := pdftext.Read(pdf)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return pdftext.Text(pieces)
}

// The quote comparison (API), and the deal's summary and contract
// (console), of a deal between organizations with Chinese names print the
// names as written, in the PDF_FONT font the PDFs embed, each character
// with its glyph.
func TestDocumentsPrintChineseNames(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.PDFFont = pdftext.DroidFontPath(t) })
	p.withPasswords("buyer")
	buyerName, supplierName := p.chineseNames()
	id := p.delivered("GOODS-CJK")
	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")

	docs := map[string][]byte{"comparison": p.must(http.StatusOK, p.do("buyer", "GET", p.path(id, "/quotes/comparison?format=pdf"), nil)).body}
	for _, doc := range []string{"summary", "contract"} {
		res := buyer.do("GET", "/app/deals/"+id+"/documents/"+doc+"/pdf", nil)
		if res.status != http.StatusOK {
			t.Fatalf("the %s: %d", doc, res.status)
		}
		docs[doc] = []byte(res.body)
	}
	for doc, pdf := range docs {
		text := pdfText(t, doc, pdf)
		want := []string{supplierName}
		if doc != "comparison" {
			want = append(want, buyerName)
		}
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("the %s lacks %q:\n%s", doc, w, text)
			}
		}
		if strings.ContainsAny(text, "?\uFFFD") {
			t.Errorf("the %s prints a character as ? or without its glyph:\n%s", doc, text)
		}
		t.Logf("the %s: %d bytes", doc, len(pdf))
	}
}

// warnings keeps the messages logged at warning level and above.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler           { return w }
func (w *warnings) WithGroup(string) slog.Handler                { return w }

func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, r.Message)
	return nil
}

// about is the messages that mention s.
func (w *warnings) about(s string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, m := range w.msgs {
		if strings.Contains(m, s) {
			out = append(out, m)
		}
	}
	return out
}

// Without the font file, the API warns once, at start, which package to
// install, and its PDFs still render, Chinese as "?".
func TestPDFDocumentsWithoutTheFont(t *testing.T) {
	logged := &warnings{}
	p := newPlatform(t, func(d *Deps) { d.PDFFont = t.TempDir() + "/missing.ttf"; d.Logger = slog.New(logged) })
	_, supplierName := p.chineseNames()
	id := p.newDeal(false, "supplier")
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody()))
	for range 2 {
		pdf := p.must(http.StatusOK, p.do("buyer", "GET", p.path(id, "/quotes/comparison?format=pdf"), nil)).body
		if text := pdfText(t, "comparison", pdf); !strings.Contains(text, strings.Repeat("?", len([]rune(supplierName)))) {
			t.Errorf("the supplier's name is not printed as ?:\n%s", text)
		}
	}
	if w := logged.about("fonts-droid-fallback"); len(w) != 1 {
		t.Errorf("warnings naming fonts-droid-fallback: %q, want one", w)
	}
}
