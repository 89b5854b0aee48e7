package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/matching"
)

// TestANewBuyerIsMatchedWithOffersInItsInbox: a buyer says what it buys;
// its inbox gets the offers that fit, each with why and a link whose page
// sends the inquiry in one step; saving the same profile again sends
// nothing new; refusals name their field; only buyers have a profile.
func TestANewBuyerIsMatchedWithOffersInItsInbox(t *testing.T) {
	p := newPlatform(t)
	for i, who := range []string{"supplier", "supplier2", "supplier3"} {
		p.must(201, p.do(who, "POST", "/v1/products", map[string]any{"sku": "V-" + who, "name": "Valve " + who, "category": "valves", "unit": "piece",
			"moq": 10, "currency": "USD", "price_tiers": []map[string]any{{"min_quantity": 10, "unit_price": 2_000 + i*1_000}}, "lead_time_days": 10 + i*10, "origin_region": "CN"}))
	}
	// supplier3's valve takes 30 days: too slow for this buyer.
	profile := map[string]any{"categories": []string{"valves"}, "budget_per_order": 50_000, "currency": "USD", "max_lead_time_days": 25, "regions": []string{"CN"}}
	var m Matches
	p.must(200, p.do("buyer", "PUT", "/v1/buyers/me/profile", profile)).json(t, &m)
	require.Len(t, m.Offers, 2, "%+v", m.Offers)
	assert.Equal(t, []string{"valves"}, m.Profile.Categories)
	page := p.deliverUntil("buyer", matching.Kind)
	var offers []string
	for _, n := range page.Notifications {
		if n.Kind == matching.Kind {
			offers = append(offers, n.Text)
		}
	}
	require.Len(t, offers, 2)
	for _, text := range offers {
		assert.Contains(t, text, "within your USD 500.00 budget")
		assert.Contains(t, text, "?via=matching")
	}
	p.must(200, p.do("buyer", "PUT", "/v1/buyers/me/profile", profile))
	var n int
	require.NoError(t, p.pool.QueryRow(t.Context(), `SELECT count(*) FROM notification_outbox WHERE kind = 'matched_offer'`).Scan(&n))
	assert.Equal(t, 2, n, "the same profile again sends nothing new")
	var got Matches
	p.must(200, p.do("buyer", "GET", "/v1/buyers/me/profile", nil)).json(t, &got)
	assert.Len(t, got.Offers, 2)

	for field, change := range map[string]any{"categories": []string{}, "currency": "usd", "max_lead_time_days": 400, "budget_per_order": -5, "regions": []string{"Mars"}} {
		bad := map[string]any{}
		for k, v := range profile {
			bad[k] = v
		}
		bad[field] = change
		r := p.do("buyer", "PUT", "/v1/buyers/me/profile", bad)
		assert.Equal(t, 422, r.status, "%s: %s", field, r.body)
		assert.Contains(t, r.errMessage(), field)
	}
	assert.Equal(t, 404, p.do("buyer2", "GET", "/v1/buyers/me/profile", nil).status, "no profile yet")
	assert.Equal(t, 403, p.do("supplier", "PUT", "/v1/buyers/me/profile", profile).status)
}

// TestConsoleBuyingPageMatchesByForm: the buyer states what it buys in the
// console (a mistyped budget refused at its field) and sees its offers,
// each linking to its product page with the matching channel.
func TestConsoleBuyingPageMatchesByForm(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer")
	p.must(201, p.do("supplier", "POST", "/v1/products", map[string]any{"sku": "P-9", "name": "Water pump", "category": "pumps", "unit": "piece",
		"moq": 5, "currency": "USD", "price_tiers": []map[string]any{{"min_quantity": 5, "unit_price": 12_000}}, "lead_time_days": 15, "origin_region": "CN"}))
	b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := b.signIn("buyer")
	res := b.do("GET", "/app/buying", nil)
	require.Equal(t, 200, res.status)
	assert.Contains(t, res.body, `id="no-offers"`)
	form := url.Values{"csrf": {csrf}, "categories": {"pumps, valves"}, "budget": {"lots"}, "currency": {"USD"}, "max_lead_time_days": {"20"}}
	res = b.do("POST", "/app/buying", form)
	assert.Equal(t, 422, res.status)
	assert.Contains(t, res.body, `id="budget-error"`)
	form.Set("budget", "1,000.00")
	res = b.do("POST", "/app/buying", form)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	assert.Contains(t, res.body, `id="buying-saved"`)
	assert.Contains(t, res.body, "Water pump")
	assert.Contains(t, res.body, "?via=matching")
	res = b.do("GET", "/app/buying", nil)
	assert.Contains(t, res.body, `value="1,000.00"`, "the saved budget shows as written")
	assert.True(t, strings.Contains(res.body, `value="pumps, valves"`))
}
