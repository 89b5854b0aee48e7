package api

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/ads"
)

var sponsoredLink = regexp.MustCompile(`href="(/app/ads/([0-9a-f-]{36})/click\?t=[A-Za-z0-9_-]+)"`)

// TestConsoleAdsAndSponsoredResults: a supplier adds an ad on its Ads
// page (a bad amount or keyword is refused at its field), a buyer's search
// shows it labelled Sponsored (in Chinese for a Chinese reader) with a
// link through the platform that charges the click once and opens the
// product; another buyer cannot use that link; the supplier sees the
// figures, pauses and deletes the ad, and another supplier cannot.
func TestConsoleAdsAndSponsoredResults(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier2", "supplier3", "buyer", "buyer2")
	mine := p.listPanel("supplier2", "PANELA", "LED panel", "")
	rival := p.listPanel("supplier3", "PANELB", "LED panel", "")
	p.bid("supplier3", rival, "led panel", 299, 100_000)
	p.listPanel("supplier", "TOP", "LED panel LED panel LED panel", "LED panel") // the organic first

	sup := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := sup.signIn("supplier2")
	res := sup.do("GET", "/app/ads", nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, `id="no-ads"`)
	assert.Contains(t, res.body, "PANELA")
	form := func(keyword, maxCPC, budget string) url.Values {
		return url.Values{"csrf": {csrf}, "product_id": {mine}, "keyword": {keyword}, "max_cpc": {maxCPC}, "daily_budget": {budget}}
	}
	res = sup.do("POST", "/app/ads", form("led panel", "three", "10.00"))
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	assert.Contains(t, res.body, `id="max_cpc" name="max_cpc" inputmode="decimal" value="three" aria-invalid="true"`)
	res = sup.do("POST", "/app/ads", form("led\x07panel", "5.00", "10.00"))
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	assert.Contains(t, res.body, `aria-describedby="keyword-error"`)
	res = sup.do("POST", "/app/ads", form("led panel", "5.00", "2.00"))
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	assert.Contains(t, res.body, `aria-describedby="daily_budget-error"`)
	res = sup.do("POST", "/app/ads", url.Values{"csrf": {csrf}, "product_id": {rival}, "keyword": {"led"}, "max_cpc": {"1.00"}, "daily_budget": {"2.00"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.status, "another supplier's product")
	res = sup.do("POST", "/app/ads", form("LED panel", "5.00", "10.00"))
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	var list struct{ Ads []ads.Ad }
	p.must(200, p.do("supplier2", "GET", "/v1/ads", nil)).json(t, &list)
	require.Len(t, list.Ads, 1)
	ad := list.Ads[0]
	assert.Equal(t, int64(500), ad.MaxCPC, "5.00 typed is 500 minor units")

	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	res = buyer.do("GET", "/app/products?q=led+panel", nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, ">Sponsored<")
	var link string
	for _, m := range sponsoredLink.FindAllStringSubmatch(res.body, -1) {
		if m[2] == ad.ID.String() {
			link = strings.ReplaceAll(m[1], "&amp;", "&")
		}
	}
	require.NotEmpty(t, link, "the ad is shown with a link through the platform")
	res = buyer.do("GET", link, nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	assert.Equal(t, "/app/products/"+mine, res.location)
	p.balance(ads.Account(p.orgs["supplier2"]), "USD", -300)
	buyer.do("GET", link, nil)
	p.balance(ads.Account(p.orgs["supplier2"]), "USD", -300) // once an hour

	other := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	other.signIn("buyer2")
	assert.Equal(t, http.StatusNotFound, other.do("GET", link, nil).status, "another buyer's link")
	p.balance(ads.Account(p.orgs["supplier2"]), "USD", -300)
	p.must(200, p.do("buyer2", "PUT", "/v1/users/me/reading", map[string]any{"language": "zh"}))
	res = other.do("GET", "/app/products?q=led+panel", nil)
	assert.Contains(t, res.body, ">赞助<")

	res = sup.do("GET", "/app/ads", nil)
	assert.Contains(t, res.body, "USD 3.00")
	assert.Contains(t, res.body, "Running")
	require.Equal(t, http.StatusSeeOther, sup.do("POST", "/app/ads/"+ad.ID.String()+"/pause", url.Values{"csrf": {csrf}}).status)
	assert.Contains(t, sup.do("GET", "/app/ads", nil).body, "Paused")

	rivalSession := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	rcsrf := rivalSession.signIn("supplier3")
	assert.Equal(t, http.StatusNotFound, rivalSession.do("POST", "/app/ads/"+ad.ID.String()+"/delete", url.Values{"csrf": {rcsrf}}).status)
	assert.NotContains(t, rivalSession.do("GET", "/app/ads", nil).body, ad.ID.String())
	assert.Equal(t, http.StatusForbidden, buyer.do("GET", "/app/ads", nil).status)
	require.Equal(t, http.StatusSeeOther, sup.do("POST", "/app/ads/"+ad.ID.String()+"/delete", url.Values{"csrf": {csrf}}).status)
	assert.Contains(t, sup.do("GET", "/app/ads", nil).body, `id="no-ads"`)
}
