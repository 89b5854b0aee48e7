package api

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/workflows"
)

// TestProductViewsAndTheirInquiriesReachTheFunnel follows a buyer from a
// matching offer's link to a product, then to an inquiry from it, into
// finance's funnel: its look counted once however often it reloads, other
// roles' looks not at all, its inquiry credited to the link's channel.
func TestProductViewsAndTheirInquiriesReachTheFunnel(t *testing.T) {
	p := newPlatform(t)
	var prod marketplace.Product
	p.must(201, p.do("supplier", "POST", "/v1/products", map[string]any{"sku": "LED-9", "name": "LED panel", "category": "led-lighting", "unit": "piece",
		"moq": 100, "currency": "USD", "price_tiers": []map[string]any{{"min_quantity": 100, "unit_price": 1_250}}, "lead_time_days": 20, "origin_region": "CN"})).json(t, &prod)
	path := "/v1/products/" + prod.ID.String()

	// The buyer comes by a matching offer's link and reloads the page a
	// thousand times; the supplier and an admin look too.
	began := time.Now()
	for range 1000 {
		p.must(200, p.do("buyer", "GET", path+"?via=matching", nil))
	}
	// One view per hour: two if the loads crossed an hour's end.
	hours := int64(time.Now().Truncate(time.Hour).Sub(began.Truncate(time.Hour))/time.Hour) + 1
	p.must(200, p.do("supplier", "GET", path, nil))
	p.must(200, p.do("admin", "GET", path+"?via=referral", nil))
	// A channel that is not the platform's, or hostile, is refused by name.
	for _, via := range []string{"google", "MATCHING", "matching\x00", strings.Repeat("m", 1000)} {
		r := p.do("buyer", "GET", path+"?via="+url.QueryEscape(via), nil)
		assert.Equal(t, 422, r.status, "via=%q", via)
		assert.Contains(t, r.errMessage(), "via", "via=%q", via)
	}

	// An inquiry from the product: its category comes from the product.
	inquiry := map[string]any{"product": "LED panel", "quantity": 500, "unit": "piece", "currency": "USD",
		"suppliers": []string{p.orgs["supplier"].String()}, "product_id": prod.ID.String()}
	var st workflows.DealState
	p.must(201, p.do("buyer", "POST", "/v1/deals", inquiry)).json(t, &st)
	assert.Equal(t, "led-lighting", st.Inquiry.Category)
	p.projected(st.DealID)
	var channel string
	require.NoError(t, p.pool.QueryRow(context.Background(), `SELECT channel FROM deal_origins WHERE deal_id = $1`, st.DealID).Scan(&channel))
	assert.Equal(t, "matching", channel)
	// A product ID that is not one, or names no listed product, is refused.
	for _, id := range []string{"not-a-uuid", "00000000-0000-4000-8000-000000000000", "\x00"} {
		bad := map[string]any{}
		for k, v := range inquiry {
			bad[k] = v
		}
		bad["product_id"] = id
		r := p.do("buyer", "POST", "/v1/deals", bad)
		assert.Equal(t, 422, r.status, "product_id=%q: %s", id, r.body)
		assert.Contains(t, r.errMessage(), "product_id")
	}

	from := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	to := time.Now().UTC().Add(time.Hour).Format(time.RFC3339)
	var f marketplace.Funnel
	p.must(200, p.do("finance", "GET", fmt.Sprintf("/v1/metrics/funnel?from=%s&to=%s", from, to), nil)).json(t, &f)
	assert.Equal(t, hours, f.Views, "a thousand loads in an hour are one view; other roles' looks do not count")
	assert.Equal(t, int64(1), f.Viewers)
	assert.Equal(t, marketplace.Rate{Count: 1, Of: 1, Rate: 1}, f.InquiryConversion)
	require.Len(t, f.ByChannel, 4)
	assert.Equal(t, marketplace.ChannelFunnel{Channel: marketplace.ChannelMatching, Views: hours, Viewers: 1, Inquiries: 1}, f.ByChannel[1])
	assert.Equal(t, int64(0), f.ByChannel[0].Inquiries, "nothing came directly")
	var led *marketplace.CategoryFunnel
	for i := range f.ByCategory {
		if f.ByCategory[i].Category == "led-lighting" {
			led = &f.ByCategory[i]
		}
	}
	require.NotNil(t, led, "%+v", f.ByCategory)
	assert.Equal(t, hours, led.Views)
	assert.Equal(t, int64(1), led.Inquiries)
	require.Len(t, f.Months, 1+int(time.Now().UTC().Add(time.Hour).Month()-time.Now().UTC().Add(-time.Hour).Month()+12)%12)
	assert.Equal(t, marketplace.Rate{Count: 0, Of: 1}, f.Months[len(f.Months)-1].BuyerRepeatRate, "the buyer's first inquiry")
	assert.Empty(t, f.QuietBuyers)
	assert.Equal(t, 403, p.do("supplier", "GET", "/v1/metrics/funnel", nil).status)
}

// TestConsoleFunnelShowsEveryLayer: a buyer's look at a product page
// through a reactivation message's link counts once in finance's funnel
// page, by channel and by category; finance's own look does not.
func TestConsoleFunnelShowsEveryLayer(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("finance", "buyer")
	var prod marketplace.Product
	p.must(201, p.do("supplier", "POST", "/v1/products", map[string]any{"sku": "V-1", "name": "Ball valve", "category": "valves", "unit": "piece",
		"moq": 10, "currency": "USD", "price_tiers": []map[string]any{{"min_quantity": 10, "unit_price": 900}}, "lead_time_days": 10, "origin_region": "CN"})).json(t, &prod)
	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	began := time.Now()
	for range 3 {
		if res := buyer.do("GET", "/app/products/"+prod.ID.String()+"?via=reactivation", nil); res.status != 200 {
			t.Fatalf("the product page: %d", res.status)
		}
	}
	// A link with a channel the platform does not send is a direct look,
	// in the same hour: still the one view.
	buyer.do("GET", "/app/products/"+prod.ID.String()+"?via=%00nonsense", nil)
	if time.Now().Truncate(time.Hour) != began.Truncate(time.Hour) {
		t.Skip("the loads crossed an hour's end, which makes two views; TestProductViewsAndTheirInquiriesReachTheFunnel counts those")
	}
	fin := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	fin.signIn("finance")
	fin.do("GET", "/app/products/"+prod.ID.String(), nil)
	res := fin.do("GET", "/app/finance/funnel", nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	for _, want := range []string{
		`<dd id="views">1</dd>`, `<dd id="viewers">1</dd>`, `<dd id="conversion">0.0 %</dd>`,
		`<tr><td>reactivation messages</td><td class="num">1</td><td class="num">1</td><td class="num">0</td>`,
		`<tr><td>direct</td><td class="num">0</td><td class="num">0</td>`,
		`<tr><td>valves</td><td class="num">1</td><td class="num">1</td>`,
		`have sent no inquiry and viewed no product since`,
	} {
		assert.Contains(t, res.body, want)
	}
}
