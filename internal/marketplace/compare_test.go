package marketplace_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/workflows"
)

// The comparison as a document reads as one: the platform and the date,
// suppliers by name, headings in words, money as people write it and, in
// XLSX, as number cells in the currency's format; the bests marked.
func TestTheComparisonDocumentReadsAsADocument(t *testing.T) {
	rating := 4.5
	cmp := marketplace.QuoteComparison{DealID: "d1", Product: "steel bolts M8", Quantity: 20000, Currency: "USD", Quotes: []marketplace.ComparedQuote{
		{SupplierID: "0b6f", SupplierName: "Ningbo Fasteners Co.", Tier: "gold", Rating: &rating, Certifications: []string{"ISO 9001", "CE"},
			Quote: workflows.Quote{ID: "q1", Revision: 2, UnitPrice: 39, Total: 780000, MOQ: 1000, LeadTimeDays: 21, SamplePrice: 2500,
				ValidTill: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Status: workflows.QuoteOpen}, Lowest: true, BestRate: true},
		{SupplierID: "7c1e", Tier: "bronze", Quote: workflows.Quote{ID: "q2", Revision: 1, UnitPrice: 40, Total: 800000, MOQ: 500, LeadTimeDays: 14,
			ValidTill: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Status: workflows.QuoteOpen}, Shortest: true},
	}}
	d := marketplace.ComparisonDocument(cmp, time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC))
	if d.Title != "Quotes for 20,000 × steel bolts M8" {
		t.Errorf("title %q", d.Title)
	}
	notes := strings.Join(d.Notes, " ")
	for _, want := range []string{"Tradeloop", "1 December 2026", "Deal d1", "Prices in USD"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	if strings.Contains(notes, "minor units") {
		t.Errorf("notes speak of minor units: %q", notes)
	}
	for _, h := range d.Table.Header {
		if strings.Contains(h, "_") || h != strings.TrimSpace(h) || strings.ToUpper(h[:1]) != h[:1] {
			t.Errorf("heading %q is not in words", h)
		}
	}
	row := func(i int) map[string]string {
		out := map[string]string{}
		for j, h := range d.Table.Header {
			out[h] = d.Table.Rows[i][j]
		}
		return out
	}
	first, second := row(0), row(1)
	if first["Supplier"] != "Ningbo Fasteners Co." || first["Unit price"] != "USD 0.39" || first["Total"] != "USD 7,800.00" ||
		first["Sample price"] != "USD 25.00" || first["MOQ"] != "1,000" || first["Certifications"] != "ISO 9001, CE" || first["Status"] != "open" || first["Best"] != "lowest total, best rated" {
		t.Errorf("first row %v", first)
	}
	if second["Supplier"] != "7c1e" || second["Sample price"] != "" || second["Best"] != "shortest lead time" {
		t.Errorf("second row %v", second)
	}
	total := 6
	if d.Table.Header[total] != "Total" || !d.Highlight[[2]int{0, total}] || d.Highlight[[2]int{1, total}] {
		t.Errorf("the lowest total is not marked alone: %v", d.Highlight)
	}
	if n := d.Numbers[[2]int{0, total}]; n.Value != 7800 || n.Format != `"USD "#,##0.00` {
		t.Errorf("the total as a number: %+v", n)
	}
}

// A currency without decimals is shown and formatted without them.
func TestTheComparisonDocumentInYen(t *testing.T) {
	cmp := marketplace.QuoteComparison{DealID: "d2", Product: "mugs", Quantity: 100, Currency: "JPY", Quotes: []marketplace.ComparedQuote{
		{SupplierName: "Seto Ceramics", Quote: workflows.Quote{ID: "q1", UnitPrice: 1200, Total: 120000}},
	}}
	d := marketplace.ComparisonDocument(cmp, time.Now())
	if got := d.Table.Rows[0][6]; got != "JPY 120,000" {
		t.Errorf("total %q", got)
	}
	if n := d.Numbers[[2]int{0, 6}]; n.Value != 120000 || n.Format != `"JPY "#,##0` {
		t.Errorf("%+v", n)
	}
}
