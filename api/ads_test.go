package api

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/ads"
)

// adsPage is a search's answer as a buyer's client reads it.
type adsPage struct {
	Items []struct {
		ID    string  `json:"id"`
		Name  string  `json:"name"`
		Score float64 `json:"score"`
	} `json:"items"`
	Sponsored []struct {
		AdID       string  `json:"ad_id"`
		ID         string  `json:"id"`
		Name       string  `json:"name"`
		Score      float64 `json:"score"`
		Sponsored  bool    `json:"sponsored"`
		ClickToken string  `json:"click_token"`
	} `json:"sponsored"`
}

func (p *platform) search(who, query string) adsPage {
	p.t.Helper()
	var out adsPage
	p.must(200, p.do(who, "GET", "/v1/products?"+query, nil)).json(p.t, &out)
	return out
}

func (p *platform) listPanel(who, sku, name, description string) string {
	p.t.Helper()
	var out struct{ ID string }
	p.must(201, p.do(who, "POST", "/v1/products", map[string]any{"sku": sku, "name": name, "description": description,
		"category": "led-lighting", "unit": "piece", "moq": 100, "currency": "USD",
		"price_tiers": []map[string]any{{"min_quantity": 100, "unit_price": 1_250}}, "lead_time_days": 20, "origin_region": "CN"})).json(p.t, &out)
	return out.ID
}

func (p *platform) bid(who, product, keyword string, maxCPC, budget int64) ads.Ad {
	p.t.Helper()
	var a ads.Ad
	p.must(201, p.do(who, "POST", "/v1/ads", map[string]any{"product_id": product, "keyword": keyword, "max_cpc": maxCPC, "daily_budget": budget})).json(p.t, &a)
	return a
}

func (p *platform) click(who, ad, token string) response {
	p.t.Helper()
	return p.do(who, "POST", "/v1/ads/"+ad+"/click", map[string]any{"token": token})
}

func (p *platform) myAd(who, id string) ads.Ad {
	p.t.Helper()
	var a ads.Ad
	p.must(200, p.do(who, "GET", "/v1/ads/"+id, nil)).json(p.t, &a)
	return a
}

// TestAnAdAuctionWithThreeBiddersAndOrganicResults: three suppliers bid
// on "led panel"; Bravo bids most but its product only mentions LED
// panels in its description, so Alpha's exact match outranks it. The
// buyer's search shows Alpha, Bravo, Charlie as sponsored, the organic
// results exactly as they were before anyone bid, and each click is
// charged its second price: the next ad's rank over its own quality, plus
// one minor unit; the last, with no fourth bidder, the reserve.
func TestAnAdAuctionWithThreeBiddersAndOrganicResults(t *testing.T) {
	p := newPlatform(t)
	p.addUser("supplier4", "supplier", "")
	// "supplier" (gold) lists the best match and does not advertise.
	first := p.listPanel("supplier", "TOP", "LED panel LED panel light", "LED panel")
	alpha := p.listPanel("supplier2", "ALPHA", "LED panel", "")
	bravo := p.listPanel("supplier3", "BRAVO", "Ceiling light", "an LED panel for offices")
	charlie := p.listPanel("supplier4", "CHARLIE", "Office LED panel", "")
	p.listPanel("supplier4", "CABLE", "Power cable", "") // not found

	const query = "q=LED+panel"
	before := p.search("buyer", query)
	require.Len(t, before.Items, 4)
	require.Equal(t, first, before.Items[0].ID)
	assert.Empty(t, before.Sponsored)

	adA := p.bid("supplier2", alpha, "LED panel", 300, 10_000)
	adB := p.bid("supplier3", bravo, "panel", 2_000, 10_000)
	adC := p.bid("supplier4", charlie, "led  PANELS", 200, 10_000)
	assert.Equal(t, "led panels", adC.Keyword, "keywords are kept normalised")
	// A bid on a word the search lacks does not take part.
	p.bid("supplier", first, "outdoor panel", 5_000, 10_000)

	after := p.search("buyer", query)
	assert.Equal(t, before.Items, after.Items, "the organic results keep their order and count")
	require.Len(t, after.Sponsored, 3)
	var got []string
	for _, s := range after.Sponsored {
		assert.True(t, s.Sponsored, "labelled sponsored")
		got = append(got, s.AdID)
	}
	assert.Equal(t, []string{adA.ID.String(), adB.ID.String(), adC.ID.String()}, got)
	assert.Equal(t, []string{alpha, bravo, charlie}, []string{after.Sponsored[0].ID, after.Sponsored[1].ID, after.Sponsored[2].ID})

	// The ranks: bid × quality, quality = round(score × 1000).
	qA, qB, qC := ads.Quality(after.Sponsored[0].Score), ads.Quality(after.Sponsored[1].Score), ads.Quality(after.Sponsored[2].Score)
	t.Logf("qualities: Alpha %d, Bravo %d, Charlie %d", qA, qB, qC)
	require.Greater(t, 300*qA, 2_000*qB, "the test's premise: relevance beats Bravo's higher bid")
	require.Greater(t, 2_000*qB, 200*qC, "the test's premise")
	wantA := min(300, 2_000*qB/qA+1)
	wantB := min(2_000, 200*qC/qB+1)
	const wantC = ads.ReservePrice
	assert.Less(t, wantA, int64(300), "Alpha pays less than its bid")
	// With PostgreSQL's ranks of these texts (qualities 877, 91, 808):
	// Alpha ⌊2,000 × 91 / 877⌋ + 1 = 208, Bravo ⌊200 × 808 / 91⌋ + 1 =
	// 1,776, Charlie the reserve, 1.
	assert.Equal(t, []int64{208, 1_776, 1}, []int64{wantA, wantB, wantC})

	// The buyer follows each sponsored result: each charged its price.
	for _, s := range after.Sponsored {
		var res struct {
			ProductID string `json:"product_id"`
			URL       string `json:"url"`
		}
		p.must(200, p.click("buyer", s.AdID, s.ClickToken)).json(t, &res)
		assert.Equal(t, s.ID, res.ProductID)
		assert.Equal(t, "/v1/products/"+s.ID, res.URL)
	}
	p.balance(ads.Account(p.orgs["supplier2"]), "USD", -wantA)
	p.balance(ads.Account(p.orgs["supplier3"]), "USD", -wantB)
	p.balance(ads.Account(p.orgs["supplier4"]), "USD", -wantC)
	p.balance(ads.RevenueAccount, "USD", wantA+wantB+wantC)
	assert.Equal(t, int64(0), p.sumOfLedger(), "the ledger balances")
	t.Logf("prices: Alpha %d, Bravo %d, Charlie %d (minor units)", wantA, wantB, wantC)

	// Each supplier sees its own figures per keyword.
	var list struct{ Ads []ads.Ad }
	p.must(200, p.do("supplier2", "GET", "/v1/ads", nil)).json(t, &list)
	require.Len(t, list.Ads, 1)
	a := list.Ads[0]
	assert.Equal(t, "led panel", a.Keyword)
	assert.Equal(t, int64(1), a.Impressions, "one buyer search showed it (the one before the bids could not)")
	assert.Equal(t, int64(1), a.Clicks)
	assert.Equal(t, wantA, a.Spend)
	assert.Equal(t, wantA, a.SpendToday)
	assert.Equal(t, 10_000-wantA, a.BudgetLeftToday)

	// The second page shows no ads; neither does a search the category
	// filter keeps the products out of.
	assert.Empty(t, p.search("buyer", query+"&limit=1&cursor="+url.QueryEscape(nextCursor(t, p, query+"&limit=1"))).Sponsored)
	assert.Empty(t, p.search("buyer", query+"&category=valves").Sponsored)
	// An ad for the organic first result is not shown: it already is on top.
	p.bid("supplier", first, "led panel", 5_000, 10_000)
	for _, s := range p.search("buyer", query).Sponsored {
		assert.NotEqual(t, first, s.ID)
	}
}

func nextCursor(t *testing.T, p *platform, query string) string {
	var page struct {
		NextCursor string `json:"next_cursor"`
	}
	p.must(200, p.do("buyer", "GET", "/v1/products?"+query, nil)).json(t, &page)
	require.NotEmpty(t, page.NextCursor)
	return page.NextCursor
}

// TestClickChargingStopsExactlyAtTheDailyBudget: an ad with a budget of
// USD 10.00 whose auction fixes USD 3.00 a click is charged 3.00, 3.00,
// 3.00 and the 1.00 left, by four buyers; then it is gone from searches
// for the day and has spent exactly its budget. A buyer's second click
// within the hour, the supplier's own click, another supplier's, a
// forged token and another user's token are charged nothing.
func TestClickChargingStopsExactlyAtTheDailyBudget(t *testing.T) {
	p := newPlatform(t)
	p.addUser("buyer3", "buyer", "")
	p.addUser("buyer4", "buyer", "")
	// Two equal products (same words, bronze suppliers): equal qualities,
	// so the rival's bid of 2.99 makes the first place's price 3.00.
	mine := p.listPanel("supplier2", "PANELA", "LED panel", "")
	rival := p.listPanel("supplier3", "PANELB", "LED panel", "")
	ad := p.bid("supplier2", mine, "led panel", 500, 1_000)
	p.bid("supplier3", rival, "led panel", 299, 100_000)
	// The organic first is one of the two; a third product is the first
	// so that both ads are shown.
	p.listPanel("supplier", "TOP", "LED panel LED panel LED panel", "LED panel")

	tokenOf := func(who string) string {
		page := p.search(who, "q=led+panel")
		for _, s := range page.Sponsored {
			if s.AdID == ad.ID.String() {
				return s.ClickToken
			}
		}
		return ""
	}
	acct := ads.Account(p.orgs["supplier2"])
	tok := tokenOf("buyer")
	require.NotEmpty(t, tok)
	p.must(200, p.click("buyer", ad.ID.String(), tok))
	p.balance(acct, "USD", -300)
	// Hostile and repeated clicks: none is charged.
	p.must(200, p.click("buyer", ad.ID.String(), tok))              // the same link again
	p.must(200, p.click("buyer", ad.ID.String(), tokenOf("buyer"))) // a new search, within the hour
	p.must(200, p.click("supplier2", ad.ID.String(), tokenOf("supplier2")))
	p.must(200, p.click("supplier", ad.ID.String(), tokenOf("supplier")))
	r := p.click("buyer2", ad.ID.String(), tok) // the buyer's link, replayed by another
	assert.Equal(t, 422, r.status)
	assert.Contains(t, r.errMessage(), "token")
	forged := []byte(tok)
	forged[50] ^= 2
	assert.Equal(t, 422, p.click("buyer2", ad.ID.String(), string(forged)).status)
	assert.Equal(t, 422, p.click("buyer2", ad.ID.String(), "").status)
	assert.Equal(t, 422, p.click("buyer2", ad.ID.String(), strings.Repeat("A", 100_000)).status)
	p.balance(acct, "USD", -300)

	for _, b := range []string{"buyer2", "buyer3"} {
		p.must(200, p.click(b, ad.ID.String(), tokenOf(b)))
	}
	p.balance(acct, "USD", -900)
	p.must(200, p.click("buyer4", ad.ID.String(), tokenOf("buyer4")))
	p.balance(acct, "USD", -1_000)

	assert.Empty(t, tokenOf("buyer4"), "spent: the ad is gone from searches for the day")
	a := p.myAd("supplier2", ad.ID.String())
	assert.Equal(t, int64(1_000), a.SpendToday, "exactly the budget")
	assert.Equal(t, int64(0), a.BudgetLeftToday)
	assert.Equal(t, int64(4), a.Clicks)
	assert.Equal(t, int64(4), a.UnbilledClicks)
	p.balance(ads.RevenueAccount, "USD", 1_000)
	assert.Equal(t, int64(0), p.sumOfLedger())
}

// TestAdInputsAreBoundedAndAdsArePrivate: every hostile input to
// /v1/ads is a 422 naming its field, nothing is stored, the cap holds,
// and another supplier neither sees nor changes an ad.
func TestAdInputsAreBoundedAndAdsArePrivate(t *testing.T) {
	p := newPlatform(t)
	mine := p.listPanel("supplier2", "PANELA", "LED panel", "")
	theirs := p.listPanel("supplier3", "PANELB", "LED panel", "")
	body := func(change func(map[string]any)) map[string]any {
		b := map[string]any{"product_id": mine, "keyword": "led panel", "max_cpc": 100, "daily_budget": 1_000}
		change(b)
		return b
	}
	for _, c := range []struct {
		name  string
		body  any
		field string
	}{
		{"oversized keyword", body(func(b map[string]any) { b["keyword"] = strings.Repeat("led ", 30) }), "keyword"},
		{"control character", body(func(b map[string]any) { b["keyword"] = "led\u0007panel" }), "keyword"},
		{"NUL", body(func(b map[string]any) { b["keyword"] = "led\u0000panel" }), "keyword"},
		{"newline", body(func(b map[string]any) { b["keyword"] = "led\npanel" }), "keyword"},
		{"empty keyword", body(func(b map[string]any) { b["keyword"] = "   " }), "keyword"},
		{"no searchable word", body(func(b map[string]any) { b["keyword"] = "the of and" }), "keyword"},
		{"negative bid", body(func(b map[string]any) { b["max_cpc"] = -100 }), "max_cpc"},
		{"zero bid", body(func(b map[string]any) { b["max_cpc"] = 0 }), "max_cpc"},
		{"huge bid", body(func(b map[string]any) { b["max_cpc"] = int64(1) << 62; b["daily_budget"] = int64(1) << 62 }), "max_cpc"},
		{"budget below the bid", body(func(b map[string]any) { b["daily_budget"] = 99 }), "daily_budget"},
		{"huge budget", body(func(b map[string]any) { b["daily_budget"] = ads.MaxDailyBudget + 1 }), "daily_budget"},
		{"another supplier's product", body(func(b map[string]any) { b["product_id"] = theirs }), "product_id"},
		{"no such product", body(func(b map[string]any) { b["product_id"] = "00000000-0000-0000-0000-000000000001" }), "product_id"},
		{"not a product ID", body(func(b map[string]any) { b["product_id"] = "panel" }), "product_id"},
		{"invalid UTF-8", `{"product_id":"` + mine + `","keyword":"led` + "\xff" + `","max_cpc":100,"daily_budget":1000}`, "keyword"},
	} {
		r := p.do("supplier2", "POST", "/v1/ads", c.body)
		if assert.Equal(t, 422, r.status, c.name) {
			assert.True(t, strings.HasPrefix(r.errMessage(), c.field) || strings.Contains(string(r.body), `"field":"`+c.field+`"`),
				"%s: %s", c.name, r.body)
		}
	}
	assert.Equal(t, 400, p.do("supplier2", "POST", "/v1/ads", `{"keyword": 5}`).status, "wrong type")
	assert.Equal(t, 403, p.do("buyer", "POST", "/v1/ads", body(func(map[string]any) {})).status, "a buyer does not advertise")
	assert.Equal(t, 403, p.do("buyer", "GET", "/v1/ads", nil).status)
	var list struct{ Ads []ads.Ad }
	p.must(200, p.do("supplier2", "GET", "/v1/ads", nil)).json(t, &list)
	assert.Empty(t, list.Ads, "nothing refused was stored")

	ad := p.bid("supplier2", mine, "led panel", 100, 1_000)
	assert.Equal(t, 422, p.do("supplier2", "POST", "/v1/ads", body(func(map[string]any) {})).status, "the same keyword and product again")
	id := ad.ID.String()
	// Another supplier: 404 for reading, changing, deleting; its list is
	// its own.
	assert.Equal(t, 404, p.do("supplier3", "GET", "/v1/ads/"+id, nil).status)
	assert.Equal(t, 404, p.do("supplier3", "PATCH", "/v1/ads/"+id, map[string]any{"active": false}).status)
	assert.Equal(t, 404, p.do("supplier3", "DELETE", "/v1/ads/"+id, nil).status)
	p.must(200, p.do("supplier3", "GET", "/v1/ads", nil)).json(t, &list)
	assert.Empty(t, list.Ads)
	assert.Equal(t, 404, p.do("supplier2", "GET", "/v1/ads/not-an-id", nil).status)
	// The owner pauses and changes it; a change breaking the rules is refused.
	var a ads.Ad
	p.must(200, p.do("supplier2", "PATCH", "/v1/ads/"+id, map[string]any{"active": false, "max_cpc": 150})).json(t, &a)
	assert.False(t, a.Active)
	assert.Equal(t, int64(150), a.MaxCPC)
	r := p.do("supplier2", "PATCH", "/v1/ads/"+id, map[string]any{"daily_budget": 10})
	assert.Equal(t, 422, r.status)
	assert.Contains(t, r.errMessage(), "daily_budget")
	assert.True(t, p.myAd("supplier2", id).Active == false && p.myAd("supplier2", id).DailyBudget == 1_000, "a refused change changes nothing")

	// 1,000 creations: the cap of 200 holds, the rest are refused.
	refused := 0
	for i := range 1_000 {
		r := p.do("supplier3", "POST", "/v1/ads", map[string]any{"product_id": theirs, "keyword": fmt.Sprintf("panel%d", i), "max_cpc": 1, "daily_budget": 1})
		switch {
		case r.status == 201:
		case r.status == 422 && r.errCode() == "too_many":
			refused++
		default:
			t.Fatalf("creation %d: %d %s", i, r.status, r.body)
		}
	}
	assert.Equal(t, 1_000-ads.MaxAdsPerSupplier, refused)
	p.must(200, p.do("supplier3", "GET", "/v1/ads", nil)).json(t, &list)
	assert.Len(t, list.Ads, ads.MaxAdsPerSupplier)

	p.must(200, p.do("supplier2", "DELETE", "/v1/ads/"+id, nil))
	assert.Equal(t, 404, p.do("supplier2", "GET", "/v1/ads/"+id, nil).status)
}
