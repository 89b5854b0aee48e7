package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/workflows"
)

func init() {
	// The file downloads, and a live stream's first event, are checked
	// against the document like any response.
	for _, f := range []sheet.Format{sheet.XLSX, sheet.PDF} {
		openapi3filter.RegisterBodyDecoder(f.ContentType(), openapi3filter.FileBodyDecoder)
	}
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.FileBodyDecoder)
}

const catalogCSV = "sku,name,category,unit,moq,currency,price_tiers,lead_time_days,certifications,customizable,origin_region\n" +
	"BOLT-M8,Steel bolt M8,fasteners,piece,1000,USD,1000:12;10000:9,14,ISO 9001,yes,CN-ZJ\n" +
	"NUT-M8,Steel nut M8,fasteners,piece,1000,USD,1000:5,10,,no,CN-ZJ\n"

func TestCatalogImportSearchAndExportOverHTTP(t *testing.T) {
	p := newPlatform(t)
	ct := "Content-Type"

	// Import: all-or-nothing refuses a file with a bad row, naming it.
	bad := catalogCSV + "BAD,No price,fasteners,piece,10,USD,,7,,no,CN\n"
	r := p.do("supplier", "POST", "/v1/products/import", bad, ct, "text/csv")
	require.Equal(t, 422, r.status, "%s", r.body)
	assert.Equal(t, "import_rejected", r.errCode())
	var rejected struct {
		Error struct {
			Details struct{ Report marketplace.ImportReport }
		}
	}
	r.json(t, &rejected)
	require.Len(t, rejected.Error.Details.Report.Rejected, 1)
	assert.Equal(t, 4, rejected.Error.Details.Report.Rejected[0].Line)
	assert.Equal(t, "price_tiers", rejected.Error.Details.Report.Rejected[0].Errors[0].Field)
	var page marketplace.Page
	p.must(200, p.do("buyer", "GET", "/v1/products?q=bolt", nil)).json(t, &page)
	assert.Empty(t, page.Items, "nothing of the refused file was imported")

	// Partial mode imports the good rows and reports the bad one.
	var rep marketplace.ImportReport
	p.must(200, p.do("supplier", "POST", "/v1/products/import?mode=partial", bad, ct, "text/csv")).json(t, &rep)
	assert.Equal(t, 2, rep.Created)
	assert.Len(t, rep.Rejected, 1)

	// Files that cannot be read are 400s; other media types 415; buyers 403.
	assert.Equal(t, 400, p.do("supplier", "POST", "/v1/products/import", "sku,name\n\"broken", ct, "text/csv").status)
	assert.Equal(t, 400, p.do("supplier", "POST", "/v1/products/import", "not a workbook", ct, sheet.XLSX.ContentType()).status)
	assert.Equal(t, 415, p.do("supplier", "POST", "/v1/products/import", catalogCSV, ct, "application/json").status)
	// A value far right of the header is refused naming its cell (where a
	// cell sits costs nothing: internal/sheet's tests measure it); a file
	// beyond the limits is a 413.
	r = p.do("supplier", "POST", "/v1/products/import", farRightCatalog(t), ct, sheet.XLSX.ContentType())
	assert.Equal(t, 400, r.status)
	assert.Contains(t, string(r.body), `row 3, cell XFD3: a value beyond the header's last column (11, \"origin_region\")`)
	r = p.do("supplier", "POST", "/v1/products/import", catalogCSV+strings.Repeat(strings.Repeat(",", 63)+"\n", 20_000), ct, "text/csv")
	assert.Equal(t, 413, r.status)
	assert.Contains(t, string(r.body), "the file has more than 1000000 cells")
	assert.Equal(t, 403, p.do("buyer", "POST", "/v1/products/import", catalogCSV, ct, "text/csv").status)

	// Search with filters, as a buyer; the search is remembered.
	q := url.Values{"q": {"steel"}, "quantity": {"10000"}, "max_price": {"10"}, "currency": {"USD"}, "certifications": {"ISO 9001"}, "regions": {"CN"}}
	p.must(200, p.do("buyer", "GET", "/v1/products?"+q.Encode(), nil)).json(t, &page)
	require.Len(t, page.Items, 1)
	bolt := page.Items[0]
	assert.Equal(t, "BOLT-M8", bolt.SKU)
	assert.Equal(t, int64(9), bolt.UnitPrice)
	assert.Equal(t, "gold", bolt.SupplierTier)
	var recent struct{ Searches []marketplace.RecentSearch }
	p.must(200, p.do("buyer", "GET", "/v1/products/searches/recent", nil)).json(t, &recent)
	require.Len(t, recent.Searches, 2, "the refused file's search for bolts, then this one")
	assert.Equal(t, int64(10000), recent.Searches[0].Params.Quantity)
	assert.Equal(t, "bolt", recent.Searches[1].Params.Query)
	r = p.do("buyer", "GET", "/v1/products?max_price=10", nil)
	assert.Equal(t, 422, r.status, "a price range needs a currency")
	assert.Equal(t, 422, p.do("buyer", "GET", "/v1/products?quantity=many", nil).status)

	// One product, its neighbours; only its supplier removes it.
	p.must(200, p.do("mediator", "GET", "/v1/products/"+bolt.ID.String(), nil))
	var similar struct{ Items []marketplace.Hit }
	p.must(200, p.do("buyer", "GET", "/v1/products/"+bolt.ID.String()+"/similar", nil)).json(t, &similar)
	require.Len(t, similar.Items, 1)
	assert.Equal(t, "NUT-M8", similar.Items[0].SKU)
	assert.Equal(t, 404, p.do("supplier2", "DELETE", "/v1/products/"+bolt.ID.String(), nil).status)
	assert.Equal(t, 404, p.do("buyer", "GET", "/v1/products/not-a-uuid", nil).status)

	// Export as CSV and XLSX: the same rows the import took.
	r = p.must(200, p.do("supplier", "GET", "/v1/products/export?format=csv", nil))
	assert.True(t, strings.HasPrefix(r.header.Get(ct), "text/csv"))
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\uFEFF")))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3)
	assert.Equal(t, marketplace.Columns, rows[0])
	assert.Equal(t, "BOLT-M8", rows[1][0])
	assert.Equal(t, "1000:12;10000:9", rows[1][7])
	r = p.must(200, p.do("supplier", "GET", "/v1/products/export?format=xlsx", nil))
	tab, err := sheet.Read(bytes.NewReader(r.body), sheet.XLSX, sheet.Limits{Rows: 100})
	require.NoError(t, err)
	assert.Equal(t, rows[1:], tab.Rows)

	// A single product by JSON; invalid fields are a 422 naming them all.
	r = p.do("supplier2", "POST", "/v1/products", map[string]any{"sku": "X", "name": "", "category": "fasteners", "unit": "piece",
		"moq": 0, "currency": "USD", "price_tiers": []map[string]int{{"min_quantity": 1, "unit_price": 1}}, "lead_time_days": 1, "origin_region": "CN"})
	assert.Equal(t, 422, r.status)
	assert.Contains(t, string(r.body), `"fields"`)
	r = p.do("supplier2", "POST", "/v1/products", map[string]any{"sku": "X", "name": "Bolt\u0000", "category": "fasteners", "unit": "piece",
		"moq": 1, "currency": "USD", "price_tiers": []map[string]int{{"min_quantity": 1, "unit_price": 1}}, "lead_time_days": 1, "origin_region": "CN"})
	assert.Equal(t, 422, r.status, "a NUL, which PostgreSQL cannot store, is refused as any control character: %s", r.body)
	p.must(201, p.do("supplier2", "POST", "/v1/products", map[string]any{"sku": "X", "name": "Bolt", "category": "fasteners", "unit": "piece",
		"moq": 1, "currency": "USD", "price_tiers": []map[string]int{{"min_quantity": 1, "unit_price": 1}}, "lead_time_days": 1, "origin_region": "CN"}))
	p.must(200, p.do("supplier", "DELETE", "/v1/products/"+bolt.ID.String(), nil))
	assert.Equal(t, 404, p.do("buyer", "GET", "/v1/products/"+bolt.ID.String(), nil).status)
}

// farRightCatalog is catalogCSV as an .xlsx with one more cell, in column
// XFD of its second product's row.
func farRightCatalog(t *testing.T) []byte {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(catalogCSV)).ReadAll()
	require.NoError(t, err)
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	require.NoError(t, err)
	for i, row := range rows {
		cells := make([]any, len(row), 16_384) // nil cells are not written
		for j, c := range row {
			cells[j] = c
		}
		if i == 2 {
			cells = append(cells[:16_383], "x")
		}
		require.NoError(t, sw.SetRow(fmt.Sprintf("A%d", i+1), cells))
	}
	require.NoError(t, sw.Flush())
	var buf bytes.Buffer
	require.NoError(t, f.Write(&buf))
	return buf.Bytes()
}

func TestInquiryByCategoryIsDispatchedWithItsReasons(t *testing.T) {
	p := newPlatform(t)
	p.must(200, p.do("supplier", "PUT", "/v1/suppliers/me", map[string]any{"categories": []string{"fasteners"}, "regions": []string{"CN-ZJ"}, "certifications": []string{"ISO 9001"}}))
	p.must(200, p.do("supplier2", "PUT", "/v1/suppliers/me", map[string]any{"categories": []string{"fasteners"}, "regions": []string{"VN"}}))
	var prof struct{ Tier string }
	p.must(200, p.do("buyer", "GET", "/v1/suppliers/"+p.orgs["supplier2"].String(), nil)).json(t, &prof)
	assert.Equal(t, "bronze", prof.Tier)

	inquiry := map[string]any{"product": "M8 bolts", "category": "fasteners", "quantity": 5000, "currency": "USD", "regions": []string{"CN"}}
	var st workflows.DealState
	p.must(201, p.do("buyer", "POST", "/v1/deals", inquiry)).json(t, &st)
	require.Len(t, st.Invitations, 2, "both suppliers of the category are invited (3 at once by default)")
	assert.Equal(t, p.orgs["supplier"].String(), st.Invitations[0].SupplierID, "the gold supplier in the preferred region first")
	assert.Equal(t, "gold", st.Invitations[0].Tier)
	var explained, invited bool
	for _, e := range st.Timeline {
		explained = explained || (e.Type == "suppliers_ranked" && strings.Contains(e.Detail, `2 suppliers sell in "fasteners"`))
		invited = invited || (e.Type == "supplier_invited" && strings.Contains(e.Detail, "dispatch rank 1 of 2 (supplier org: gold +20, region CN-ZJ +15"))
	}
	assert.True(t, explained && invited, "timeline %+v", st.Timeline)

	inquiry["certifications"] = []string{"CE"}
	r := p.do("buyer", "POST", "/v1/deals", inquiry)
	assert.Equal(t, 422, r.status)
	assert.Equal(t, "no_suppliers", r.errCode())
	assert.Contains(t, string(r.body), "no CE")
	r = p.do("buyer", "POST", "/v1/deals", map[string]any{"product": "bolts", "quantity": 1, "currency": "USD"})
	assert.Equal(t, 422, r.status, "neither suppliers nor a category")
}

func TestQuoteComparisonMarksTheBestAndExports(t *testing.T) {
	p := newPlatform(t)
	id := p.newDeal(false, "supplier", "supplier2")
	cheap := quoteBody()
	cheap["lead_time_days"] = 30
	cheap["tiers"] = []map[string]any{{"min_quantity": 100, "unit_price": 400}}
	p.must(200, p.do("supplier2", "POST", p.path(id, "/quotes"), cheap))
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody()))

	var cmp marketplace.QuoteComparison
	p.must(200, p.do("buyer", "GET", p.path(id, "/quotes/comparison"), nil)).json(t, &cmp)
	require.Len(t, cmp.Quotes, 2)
	bySupplier := map[string]marketplace.ComparedQuote{}
	for _, q := range cmp.Quotes {
		bySupplier[q.SupplierID] = q
	}
	gold, bronze := bySupplier[p.orgs["supplier"].String()], bySupplier[p.orgs["supplier2"].String()]
	// 2000 units: 2000 × 390 = 780,000 against 2000 × 400 = 800,000.
	assert.Equal(t, int64(780_000), gold.Total)
	assert.Equal(t, int64(800_000), bronze.Total)
	assert.True(t, gold.Lowest && gold.Shortest && gold.Tier == "gold")
	assert.False(t, bronze.Lowest || bronze.Shortest || bronze.BestRate, "nobody is rated yet")

	r := p.must(200, p.do("buyer", "GET", p.path(id, "/quotes/comparison?format=csv"), nil))
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\uFEFF")))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3)
	assert.Equal(t, []string{"Supplier", "Tier", "Rating", "Quote", "Revision", "Unit price", "Total", "MOQ", "Lead time (days)",
		"Valid till", "Sample price", "Certifications", "Status", "Best"}, rows[0])
	totals := []string{rows[1][6], rows[2][6]}
	assert.ElementsMatch(t, []string{"USD 7,800.00", "USD 8,000.00"}, totals, "money as people write it")
	for _, r := range rows[1:] {
		assert.NotContains(t, []string{p.orgs["supplier"].String(), p.orgs["supplier2"].String()}, r[0], "suppliers by name")
	}
	for _, f := range []sheet.Format{sheet.XLSX, sheet.PDF} {
		r := p.must(200, p.do("buyer", "GET", p.path(id, "/quotes/comparison?format="+string(f)), nil))
		assert.Equal(t, f.ContentType(), r.header.Get("Content-Type"))
		assert.Contains(t, r.header.Get("Content-Disposition"), "quotes-"+id+"."+string(f))
		if f == sheet.PDF {
			assert.True(t, bytes.HasPrefix(r.body, []byte("%PDF-")))
		}
	}
	assert.Equal(t, 403, p.do("supplier", "GET", p.path(id, "/quotes/comparison"), nil).status, "suppliers never see each other's quotes")
	assert.Equal(t, 404, p.do("buyer2", "GET", p.path(id, "/quotes/comparison"), nil).status)
	assert.Equal(t, 422, p.do("buyer", "GET", p.path(id, "/quotes/comparison?format=docx"), nil).status)
	assert.Equal(t, http.StatusConflict, p.do("buyer", "POST", p.path(id, "/rating"), map[string]any{"stars": 5}).status, "not finished yet")
}

func TestFunnelIsForAdminsAndFinance(t *testing.T) {
	p := newPlatform(t)
	p.newDeal(false, "supplier")
	var f marketplace.Funnel
	// The read model follows the workflow within moments.
	require.Eventually(t, func() bool {
		p.must(200, p.do("admin", "GET", "/v1/metrics/funnel", nil)).json(t, &f)
		return f.Inquiries == 1 && f.SLAMissRate.Of == 1
	}, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, int64(1), f.Inquiries, "the last 30 days by default")
	assert.Equal(t, int64(1), f.SLAMissRate.Of, "one invitation sent")
	assert.Equal(t, 403, p.do("buyer", "GET", "/v1/metrics/funnel", nil).status)
	assert.Equal(t, 422, p.do("finance", "GET", "/v1/metrics/funnel?from=yesterday", nil).status)
	assert.Equal(t, 422, p.do("finance", "GET", "/v1/metrics/funnel?from=2026-02-01&to=2026-01-01", nil).status)
}
