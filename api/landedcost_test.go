package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/landedcost"
	"github.com/tradeloop/tradeloop/internal/marketplace"
)

// landedBolt lists catalogCSV's products and returns the ID of its bolt:
// USD 0.12 from 1,000, 0.09 from 10,000, fasteners from CN-ZJ.
func (p *platform) landedBolt() string {
	p.t.Helper()
	p.must(http.StatusOK, p.do("supplier", "POST", "/v1/products/import", catalogCSV, "Content-Type", "text/csv"))
	var page marketplace.Page
	p.must(http.StatusOK, p.do("buyer", "GET", "/v1/products?q=bolt", nil)).json(p.t, &page)
	require.Len(p.t, page.Items, 1)
	return page.Items[0].ID.String()
}

func landedPath(id string, q url.Values) string {
	return "/v1/products/" + id + "/landed-cost?" + q.Encode()
}

// boltsToGermany: 20,000 bolts of 1,234.5 kg by sea to Germany.
func boltsToGermany(incoterm string) url.Values {
	return url.Values{"quantity": {"20000"}, "mode": {"sea"}, "weight_kg": {"1234.5"}, "incoterm": {incoterm}, "destination": {"DE"}}
}

// The calculator on the real stack: the migration's rates, each line's
// amount, the total exactly the lines' sum, for every role; hostile input
// refused naming its field, with the API's one error shape.
func TestLandedCostOverHTTP(t *testing.T) {
	p := newPlatform(t)
	id := p.landedBolt()
	get := func(who string, q url.Values) landedcost.Estimate {
		t.Helper()
		var e landedcost.Estimate
		p.must(http.StatusOK, p.do(who, "GET", landedPath(id, q), nil)).json(t, &e)
		var sum int64
		for _, l := range e.Lines {
			sum += l.Amount
		}
		require.Equal(t, e.Total, sum, "the lines %+v sum to the total", e.Lines)
		return e
	}
	amounts := func(e landedcost.Estimate) map[landedcost.Kind][2]int64 {
		out := map[landedcost.Kind][2]int64{}
		for _, l := range e.Lines {
			out[l.Kind] = [2]int64{l.Cost, l.Amount}
		}
		return out
	}

	// Ex works, every line the buyer's: goods 20,000 × 0.09; origin 120.00;
	// 1,235 kg × 0.25; 0.30 % of 110 % of goods and freight; Germany's
	// 3.70 % on fasteners (not its 4.20 % default) of the CIF value.
	e := get("buyer", boltsToGermany("EXW"))
	assert.Equal(t, map[landedcost.Kind][2]int64{
		landedcost.Goods: {1800_00, 1800_00}, landedcost.Origin: {120_00, 120_00}, landedcost.Freight: {308_75, 308_75},
		landedcost.Insurance: {6_95, 6_95}, landedcost.Duty: {78_28, 78_28},
	}, amounts(e))
	assert.Equal(t, int64(2313_98), e.Total)
	assert.Equal(t, "USD", e.Currency)
	assert.Equal(t, id, e.ProductID.String())
	assert.Equal(t, int64(370), e.DutyRateBP)
	assert.Equal(t, int64(2115_70), e.CustomsValue)

	// Delivered duty paid: the supplier's price includes all but the goods.
	e = get("buyer", boltsToGermany("ddp"))
	assert.Equal(t, int64(1800_00), e.Total)
	assert.Equal(t, [2]int64{78_28, 0}, amounts(e)[landedcost.Duty])
	for _, l := range e.Lines[1:] {
		assert.Equal(t, landedcost.Supplier, l.PaidBy, "%s under DDP", l.Kind)
	}

	// In euros: each line converted at the platform's 0.865, half up.
	q := boltsToGermany("EXW")
	q.Set("currency", "EUR")
	e = get("supplier", q)
	assert.Equal(t, "EUR", e.Currency)
	assert.Equal(t, "2025-12-01", e.RatesAsOf)
	assert.Equal(t, [2]int64{1557_00, 1557_00}, amounts(e)[landedcost.Goods])
	assert.Equal(t, [2]int64{267_07, 267_07}, amounts(e)[landedcost.Freight])

	// To Japan, a country default (2.50 %); to the US by air, valued FOB
	// (the goods alone) at 8.50 % on fasteners, one unit's 15 g weighing
	// 300 kg at 4.50 a kg.
	q = boltsToGermany("CIP")
	q.Set("destination", "JP")
	e = get("mediator", q)
	assert.Equal(t, int64(250), e.DutyRateBP)
	q = url.Values{"quantity": {"20,000"}, "mode": {"air"}, "unit_weight_kg": {"0.015"}, "incoterm": {"FCA"}, "destination": {"US-CA"}}
	e = get("finance", q)
	assert.Equal(t, int64(300), e.ChargeableKg)
	assert.Equal(t, int64(1800_00), e.CustomsValue)
	assert.Equal(t, [2]int64{153_00, 153_00}, amounts(e)[landedcost.Duty])
	assert.Equal(t, [2]int64{1350_00, 1350_00}, amounts(e)[landedcost.Freight])
	assert.Equal(t, [2]int64{60_00, 0}, amounts(e)[landedcost.Origin])
	// Home to China: no duty.
	q.Set("destination", "CN")
	assert.True(t, get("admin", q).Domestic)

	// Refusals: 422 naming the field, nothing priced.
	for _, c := range []struct {
		change func(url.Values)
		field  string
	}{
		{func(q url.Values) { q.Set("quantity", "999") }, "quantity"},
		{func(q url.Values) { q.Set("quantity", "0") }, "quantity"},
		{func(q url.Values) { q.Set("quantity", "-1") }, "quantity"},
		{func(q url.Values) { q.Set("quantity", "9999999999999") }, "quantity"},
		{func(q url.Values) { q.Del("quantity") }, "quantity"},
		{func(q url.Values) { q.Add("quantity", "5000") }, "quantity"},
		{func(q url.Values) { q.Set("mode", "teleport") }, "mode"},
		{func(q url.Values) { q.Set("weight_kg", "-3") }, "weight_kg"},
		{func(q url.Values) { q.Set("weight_kg", "1e9") }, "weight_kg"},
		{func(q url.Values) { q.Set("weight_kg", "99999999999") }, "weight_kg"},
		{func(q url.Values) { q.Set("unit_weight_kg", "1") }, "weight_kg"},
		{func(q url.Values) { q.Set("incoterm", "XXX") }, "incoterm"},
		{func(q url.Values) { q.Set("mode", "air") }, "incoterm"}, // CIF by air
		{func(q url.Values) { q.Set("destination", "ZZ") }, "destination"},
		{func(q url.Values) { q.Set("destination", "Germany") }, "destination"},
		{func(q url.Values) { q.Set("destination", "DE\x00") }, "destination"},
		{func(q url.Values) { q.Set("currency", "BTC") }, "currency"},
		{func(q url.Values) { q.Set("currency", strings.Repeat("U", 5000)) }, "currency"},
	} {
		q := boltsToGermany("CIF")
		c.change(q)
		r := p.do("buyer", "GET", landedPath(id, q), nil)
		if assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s: %s", q.Encode(), r.body) {
			var body struct {
				Error struct {
					Code    string
					Details struct{ Field string }
				}
			}
			r.json(t, &body)
			assert.Equal(t, "invalid", body.Error.Code)
			assert.Equal(t, c.field, body.Error.Details.Field, "%s: %s", q.Encode(), r.body)
		}
	}
	assert.Equal(t, http.StatusNotFound, p.do("buyer", "GET", landedPath("00000000-0000-0000-0000-000000000000", boltsToGermany("CIF")), nil).status)
	assert.Equal(t, http.StatusNotFound, p.do("buyer", "GET", landedPath("not-a-product", boltsToGermany("CIF")), nil).status)
	assert.Equal(t, http.StatusUnauthorized, p.do("", "GET", landedPath(id, boltsToGermany("CIF")), nil).status)
}

// The calculator in the console: linked from the product page, its form
// filled with the minimum order, the lines and total in money, a refused
// field shown at its field, and the page in Chinese for a Chinese reader.
func TestLandedCostInTheConsole(t *testing.T) {
	p := newPlatform(t)
	id := p.landedBolt()
	p.withPasswords("buyer", "supplier")
	b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	b.signIn("buyer")
	calc := "/app/products/" + id + "/landed-cost"

	product := b.do("GET", "/app/products/"+id, nil)
	require.Equal(t, http.StatusOK, product.status)
	assert.Contains(t, product.body, `href="`+calc+`"`)

	form := b.do("GET", calc, nil)
	require.Equal(t, http.StatusOK, form.status, form.body)
	assert.Contains(t, form.body, `id="quantity" name="quantity" inputmode="numeric" value="1,000"`)
	assert.Contains(t, form.body, `<label for="destination">Destination country</label>`)
	assert.NotContains(t, form.body, `id="landed-total"`)

	q := boltsToGermany("EXW")
	q.Set("quantity", "20,000")
	res := b.do("GET", calc+"?"+q.Encode(), nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	for _, want := range []string{`id="landed-total">USD 2,313.98<`, "USD 1,800.00", "USD 308.75", "USD 6.95", "USD 78.28", "USD 120.00", "3.70 %", "1,235 kg"} {
		assert.Contains(t, res.body, want)
	}
	q.Set("incoterm", "DDP")
	res = b.do("GET", calc+"?"+q.Encode(), nil)
	assert.Contains(t, res.body, `id="landed-total">USD 1,800.00<`)
	assert.Contains(t, res.body, "the supplier (in its price)")

	q.Set("weight_kg", "heavy")
	res = b.do("GET", calc+"?"+q.Encode(), nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	assert.Contains(t, res.body, `id="weight_kg-error">Type the gross weight in kg`)
	assert.Contains(t, res.body, `value="heavy"`, "what was typed stays")
	assert.NotContains(t, res.body, `id="landed-total"`)
	q.Set("weight_kg", "10")
	q.Set("quantity", "500")
	res = b.do("GET", calc+"?"+q.Encode(), nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	assert.Contains(t, res.body, `id="quantity-error">This supplier sells at least 1,000 piece.`)

	// A supplier reading Chinese.
	p.must(http.StatusOK, p.do("supplier", "PUT", "/v1/users/me/reading", map[string]string{"language": "zh"}))
	s := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	s.signIn("supplier")
	q = boltsToGermany("CIF")
	res = s.do("GET", calc+"?"+q.Encode(), nil)
	require.Equal(t, http.StatusOK, res.status, res.body)
	for _, want := range []string{"到岸成本", "运费", "进口关税", "供应商（含在其报价中）"} {
		assert.Contains(t, res.body, want)
	}
	q.Set("mode", "air")
	res = s.do("GET", calc+"?"+q.Encode(), nil)
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	assert.Contains(t, res.body, `id="incoterm-error">FOB、CFR 和 CIF 仅适用于海运`)
}
