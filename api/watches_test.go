package api

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/watchlist"
)

// TestABuyerFollowsAPriceAndHearsOfItsDropOnce: a buyer follows a product
// at 500 pieces with a 10 % threshold and a category; the supplier cuts the
// price twice by 10 % (the second time to the same price again) and a new
// supplier lists in the category. The buyer's inbox holds one price drop,
// worded with both prices, and one new supplier; the other buyer, who
// follows nothing, none.
func TestABuyerFollowsAPriceAndHearsOfItsDropOnce(t *testing.T) {
	p := newPlatform(t)
	product := func(who string, price int64) marketplace.Product {
		var out marketplace.Product
		p.must(201, p.do(who, "POST", "/v1/products", map[string]any{"sku": "PANEL-1", "name": "LED panel", "category": "led-lighting", "unit": "piece",
			"moq": 100, "currency": "USD", "price_tiers": []map[string]any{{"min_quantity": 100, "unit_price": 1_500}, {"min_quantity": 500, "unit_price": price}},
			"lead_time_days": 20, "origin_region": "CN"})).json(t, &out)
		return out
	}
	prod := product("supplier", 1_250)
	var w watchlist.Watch
	p.must(201, p.do("buyer", "POST", "/v1/watches", map[string]any{"product_id": prod.ID.String(), "quantity": 600, "drop_bp": 1_000})).json(t, &w)
	assert.Equal(t, int64(1_250), w.UnitPrice)
	assert.Equal(t, "LED panel", w.ProductName)
	p.must(201, p.do("buyer", "POST", "/v1/watches", map[string]any{"category": "led-lighting"}))
	p.must(201, p.do("buyer", "POST", "/v1/watches", map[string]any{"category": "led-lighting"})) // following again changes nothing

	product("supplier", 1_125) // 10 % off: news
	product("supplier", 1_125) // the same again: not
	product("supplier2", 990)  // a new supplier in the category
	page := p.deliverUntil("buyer", watchlist.KindPriceDrop, watchlist.KindNewSupplier)
	var drops []string
	for _, n := range page.Notifications {
		if n.Kind == watchlist.KindPriceDrop {
			drops = append(drops, n.Text)
		}
	}
	assert.Equal(t, []string{"LED panel: USD 11.25 per piece for 600, down from USD 12.50."}, drops)
	for _, n := range p.inbox("buyer2", "").Notifications {
		t.Errorf("buyer2 follows nothing and was told %q", n.Text)
	}

	var list struct{ Watches []watchlist.Watch }
	p.must(200, p.do("buyer", "GET", "/v1/watches", nil)).json(t, &list)
	require.Len(t, list.Watches, 2)
	p.must(200, p.do("buyer", "DELETE", "/v1/watches/"+list.Watches[0].ID.String(), nil))
	assert.Equal(t, 404, p.do("buyer", "DELETE", "/v1/watches/"+list.Watches[0].ID.String(), nil).status)
	assert.Equal(t, 404, p.do("buyer2", "DELETE", "/v1/watches/"+list.Watches[1].ID.String(), nil).status, "another buyer's watch")

	// Only buyers follow; what a watch cannot be is refused by field.
	assert.Equal(t, 403, p.do("supplier", "POST", "/v1/watches", map[string]any{"category": "led-lighting"}).status)
	assert.Equal(t, 403, p.do("finance", "GET", "/v1/watches", nil).status)
	for field, body := range map[string]map[string]any{
		"product_id": {"product_id": "nope"},
		"quantity":   {"product_id": prod.ID.String(), "quantity": 50},
		"drop_bp":    {"product_id": prod.ID.String(), "drop_bp": 9_500},
		"category":   {"category": "LED Lighting\x00"},
	} {
		r := p.do("buyer", "POST", "/v1/watches", body)
		assert.Equal(t, 422, r.status, "%s: %s", field, r.body)
		assert.Contains(t, r.errMessage(), field)
	}
	assert.Equal(t, 422, p.do("buyer", "POST", "/v1/watches", map[string]any{"category": strings.Repeat("a", 1000)}).status)
	assert.Equal(t, 400, p.do("buyer", "POST", "/v1/watches", map[string]any{"category": "x", "extra": 1}).status)
	for i := range watchlist.MaxWatches {
		p.do("buyer2", "POST", "/v1/watches", map[string]any{"category": fmt.Sprintf("c-%d", i)})
	}
	r := p.do("buyer2", "POST", "/v1/watches", map[string]any{"category": "one-too-many"})
	assert.Equal(t, 422, r.status)
	assert.Equal(t, "too_many", r.errCode())
}

// TestConsoleWatchlistByForms: a buyer follows a product's price and its
// category from the product page (a mistyped threshold refused at its
// field), sees both on its watchlist page, and unfollows one; another
// buyer cannot unfollow it, and a supplier has no watchlist.
func TestConsoleWatchlistByForms(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer", "buyer2", "supplier")
	var prod marketplace.Product
	p.must(201, p.do("supplier", "POST", "/v1/products", map[string]any{"sku": "V-2", "name": "Gate valve", "category": "valves", "unit": "piece",
		"moq": 10, "currency": "USD", "price_tiers": []map[string]any{{"min_quantity": 10, "unit_price": 4_200}}, "lead_time_days": 10, "origin_region": "CN"})).json(t, &prod)
	// post sends a console form with its session's CSRF token and follows
	// the page it is sent on to.
	post := func(b *browserless, csrf, path string, form url.Values) page {
		if form == nil {
			form = url.Values{}
		}
		form.Set("csrf", csrf)
		res := b.do("POST", path, form)
		if res.status == http.StatusSeeOther {
			return b.do("GET", res.location, nil)
		}
		return res
	}
	b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := b.signIn("buyer")
	product := "/app/products/" + prod.ID.String()
	res := b.do("GET", product, nil)
	require.Equal(t, 200, res.status)
	assert.Contains(t, res.body, `id="follow-price"`)
	res = post(b, csrf, product+"/follow", url.Values{"watch_quantity": {"50"}, "drop_percent": {"95"}})
	assert.Equal(t, 422, res.status)
	assert.Contains(t, res.body, "between 0.01 and 90")
	res = post(b, csrf, product+"/follow", url.Values{"watch_quantity": {"5"}, "drop_percent": {"7.5"}})
	assert.Equal(t, 422, res.status, "below the first tier")
	res = post(b, csrf, product+"/follow", url.Values{"watch_quantity": {"50"}, "drop_percent": {"7.5"}})
	require.Equal(t, 200, res.status, "%s", res.body)
	res = post(b, csrf, "/app/watches/category", url.Values{"category": {"valves"}})
	require.Equal(t, 200, res.status)
	for _, want := range []string{"Gate valve", "50 piece", "USD 42.00", "7.5 %", "New suppliers in valves"} {
		assert.Contains(t, res.body, want)
	}
	assert.Equal(t, 422, post(b, csrf, "/app/watches/category", url.Values{"category": {"Valves & more"}}).status)
	var list struct{ Watches []watchlist.Watch }
	p.must(200, p.do("buyer", "GET", "/v1/watches", nil)).json(t, &list)
	require.Len(t, list.Watches, 2)
	assert.Equal(t, 750, list.Watches[1].DropBP)

	other := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	otherCSRF := other.signIn("buyer2")
	assert.Equal(t, 404, post(other, otherCSRF, "/app/watches/"+list.Watches[0].ID.String()+"/delete", nil).status)
	res = post(b, csrf, "/app/watches/"+list.Watches[0].ID.String()+"/delete", nil)
	require.Equal(t, 200, res.status)
	assert.NotContains(t, res.body, "New suppliers in valves")
	sup := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	sup.signIn("supplier")
	assert.Equal(t, 403, sup.do("GET", "/app/watches", nil).status)
	assert.NotContains(t, sup.do("GET", product, nil).body, `id="follow-price"`)
}
