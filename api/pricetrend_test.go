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
	"go.temporal.io/sdk/client"

	"github.com/tradeloop/tradeloop/internal/pricetrend"
	"github.com/tradeloop/tradeloop/workflows"
)

// takeToday lists led-lighting at 900, 1200 and 1500 USD and a lamp at
// 800 EUR, gives the category two weeks of history at 1500 USD (a gap
// nine days ago), and takes today through the snapshot workflow on the
// platform's worker.
func takeToday(t *testing.T, p *platform) time.Time {
	t.Helper()
	for i, price := range []int64{1_500, 900, 1_200} {
		p.must(201, p.do("supplier", "POST", "/v1/products", map[string]any{"sku": fmt.Sprintf("PANEL-%d", i), "name": "LED panel", "category": "led-lighting",
			"unit": "piece", "moq": 100, "currency": "USD", "price_tiers": []map[string]any{{"min_quantity": 100, "unit_price": price}, {"min_quantity": 500, "unit_price": price - 100}},
			"lead_time_days": 20, "origin_region": "CN"}))
	}
	p.must(201, p.do("supplier2", "POST", "/v1/products", map[string]any{"sku": "LAMP", "name": "Lamp", "category": "led-lighting", "unit": "piece",
		"moq": 10, "currency": "EUR", "price_tiers": []map[string]any{{"min_quantity": 10, "unit_price": 800}}, "lead_time_days": 20, "origin_region": "DE"}))
	today := pricetrend.Day(time.Now())
	ctx := context.Background()
	_, err := p.pool.Exec(ctx, `INSERT INTO price_index (day, category, currency, index_minor, products, quote_median_minor, quotes, taken_at)
		SELECT $1::date - back, 'led-lighting', 'USD', 1500, 3, NULL, 0, now() FROM generate_series(1, 13) back WHERE back <> 9`, today.Format(time.DateOnly))
	require.NoError(t, err)
	run, err := p.tc.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "price-index-test", TaskQueue: p.tc.TaskQueue},
		workflows.PriceIndexWorkflowName, workflows.PriceIndexInput{Day: today.Format(time.DateOnly)})
	require.NoError(t, err)
	var n int64
	require.NoError(t, run.Get(ctx, &n))
	require.EqualValues(t, 2, n, "one row for USD, one for EUR")
	return today
}

// Any signed-in role reads a category's trend in one currency: the days
// with a row (a gap where none), today's index the lower median of the
// catalog at the MOQ, and the marks: today's 1200 below two weeks at 1500
// is a historic low, and the week's mean fell by more than 2 %.
func TestAnyRoleReadsACategorysPriceTrend(t *testing.T) {
	p := newPlatform(t)
	today := takeToday(t, p)
	day := func(back int) string { return today.AddDate(0, 0, -back).Format(time.DateOnly) }

	for _, who := range []string{"buyer", "supplier", "mediator", "finance", "admin"} {
		var tr pricetrend.Trend
		p.must(200, p.do(who, "GET", "/v1/categories/led-lighting/price-trend?currency=USD&days=30", nil)).json(t, &tr)
		assert.Equal(t, 30, tr.Days, who)
		assert.Equal(t, day(29), tr.From)
		assert.Equal(t, day(0), tr.To)
		require.Len(t, tr.Series, 13, "thirteen days: twelve of history (a gap) and today")
		assert.Equal(t, day(13), tr.Series[0].Day)
		assert.Equal(t, day(8), tr.Series[4].Day, "nine days ago is a gap, not carried forward")
		last := tr.Series[12]
		assert.Equal(t, day(0), last.Day)
		require.NotNil(t, last.Index)
		assert.EqualValues(t, 1_200, *last.Index)
		assert.Equal(t, 3, last.Products)
		assert.Equal(t, 0, last.Quotes)
		assert.Nil(t, last.QuoteMedian)
		assert.True(t, tr.Marks.HistoricLow, who)
		assert.True(t, tr.Marks.Falling)
		assert.False(t, tr.Marks.Rising)
		// This week: 1500 × 6 and 1200, mean 1457.14…; last week (a gap):
		// 1500. -285.7… basis points, rounded down.
		require.NotNil(t, tr.Marks.ChangeBP)
		assert.EqualValues(t, -286, *tr.Marks.ChangeBP)
		assert.Equal(t, day(0), tr.Marks.Latest)
	}

	// The other currency apart, the default window 90 days; too little
	// data for any mark.
	var eur pricetrend.Trend
	p.must(200, p.do("buyer", "GET", "/v1/categories/led-lighting/price-trend?currency=EUR", nil)).json(t, &eur)
	assert.Equal(t, 90, eur.Days)
	require.Len(t, eur.Series, 1)
	assert.EqualValues(t, 800, *eur.Series[0].Index)
	assert.False(t, eur.Marks.HistoricLow)
	assert.Nil(t, eur.Marks.ChangeBP)
	// A category nobody lists: an empty series, not an error.
	var none pricetrend.Trend
	p.must(200, p.do("supplier", "GET", "/v1/categories/valves/price-trend?currency=USD&days=365", nil)).json(t, &none)
	assert.Empty(t, none.Series)
	assert.Equal(t, pricetrend.Marks{}, none.Marks)

	assert.Equal(t, 401, p.do("", "GET", "/v1/categories/led-lighting/price-trend?currency=USD", nil).status)
	for field, path := range map[string]string{
		"category": "/v1/categories/LED_Lighting/price-trend?currency=USD",
		"currency": "/v1/categories/led-lighting/price-trend?currency=usd",
		"days":     "/v1/categories/led-lighting/price-trend?currency=USD&days=7",
	} {
		r := p.do("buyer", "GET", path, nil)
		assert.Equal(t, 422, r.status, "%s: %s", field, r.body)
		assert.Contains(t, r.errMessage(), field)
	}
	r := p.do("buyer", "GET", "/v1/categories/led-lighting/price-trend", nil)
	assert.Equal(t, 422, r.status)
	assert.Contains(t, r.errMessage(), "currency")
	r = p.do("buyer", "GET", "/v1/categories/led-lighting/price-trend?currency=USD&currency=EUR", nil)
	assert.Equal(t, 422, r.status)
	assert.Contains(t, r.errMessage(), "currency")
}

// The product page draws its category's trend in its currency: an
// accessible chart whose description gives the figures, the marks in
// words, the days in a table, the other windows as links; in Chinese for
// a reader who chose it.
func TestTheProductPageShowsTheCategorysPriceTrend(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier2")
	today := takeToday(t, p)
	day := func(back int) string { return today.AddDate(0, 0, -back).Format(time.DateOnly) }
	var usd, eur string
	require.NoError(t, p.pool.QueryRow(context.Background(), `SELECT id::text FROM products WHERE sku = 'PANEL-0'`).Scan(&usd))
	require.NoError(t, p.pool.QueryRow(context.Background(), `SELECT id::text FROM products WHERE sku = 'LAMP'`).Scan(&eur))

	b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := b.signIn("supplier2")
	page := b.do("GET", "/app/products/"+usd, nil)
	require.Equal(t, 200, page.status, page.body)
	for _, want := range []string{
		`<h2 id="trend-title">Price trend of led-lighting in USD</h2>`,
		`role="img" aria-labelledby="trend-title trend-desc"`,
		fmt.Sprintf(`<desc id="trend-desc">13 days with an index from %s to %s: lowest USD 12.00 on %s, highest USD 15.00 on %s, latest USD 12.00 on %s.</desc>`,
			day(89), day(0), day(0), day(13), day(0)),
		`<li id="mark-low">Historic low: the latest index is the lowest of these 90 days.</li>`,
		`<li id="mark-falling">Falling: the last 7 days&#39; average is 2.86 % below the 7 days&#39; before.</li>`,
		fmt.Sprintf(`<tr><td>%s</td><td class="num">USD 12.00</td><td class="num">3</td><td class="num">–</td><td class="num">0</td></tr>`, day(0)),
		fmt.Sprintf(`href="/app/products/%s?trend=30#price-trend"`, usd),
	} {
		assert.Contains(t, page.body, want)
	}
	assert.NotContains(t, page.body, "<td>"+day(9)+"</td>", "a gap is left out")
	assert.Equal(t, 13, strings.Count(page.body, "<circle "))

	// The EUR lamp: its own currency's single day, too few for a
	// comparison.
	page = b.do("GET", "/app/products/"+eur+"?trend=30", nil)
	require.Equal(t, 200, page.status)
	assert.Contains(t, page.body, "Price trend of led-lighting in EUR")
	assert.Contains(t, page.body, "latest EUR 8.00 on "+day(0))
	assert.Contains(t, page.body, "Too few days yet to compare this week with the last.")
	assert.NotContains(t, page.body, "mark-low")

	// In Chinese.
	require.Equal(t, 303, b.do("POST", "/app/settings", url.Values{"language": {"zh"}, "time_zone": {"Asia/Shanghai"}, "csrf": {csrf}}).status)
	page = b.do("GET", "/app/products/"+usd, nil)
	assert.Contains(t, page.body, "led-lighting 的价格走势（USD）")
	assert.Contains(t, page.body, "历史低点：最新指数是这 90 天中最低的。")
	assert.Contains(t, page.body, "下跌：最近 7 天的平均值比之前 7 天低 2.86 %。")
}
