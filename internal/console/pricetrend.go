package console

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/pricetrend"
)

// The price trend chart's drawing area, in SVG units.
const (
	trendWidth  = 420
	trendHeight = 140
	trendLeft   = 4
	trendTop    = 8
)

// trendView is a category's price trend on the product page: the API's
// figures, and the chart drawn from them.
type trendView struct {
	pricetrend.Trend
	// Line is the polyline's points; Dots the days with an index.
	Line string
	Dots []trendDot
	// Windows are the other windows, for links.
	Windows []int
	// Facts are the chart's figures, for its description.
	Facts trendFacts
	// Change is the weekly change, as a percentage without its sign.
	Change string
}

type trendDot struct{ X, Y int }

// trendFacts are what the chart's description says.
type trendFacts struct {
	Days                         int
	Low, High, Latest            string
	LowDay, HighDay, LatestDay   string
	Currency, Category, From, To string
}

// trendOf reads the trend of a product's category in its currency over
// the window ec asks for (trend=30, 90 or 365; 90 otherwise); nil when the
// console has no price index.
func (c *Console) trendOf(ec echo.Context, category, currency string) (*trendView, error) {
	if c.d.PriceTrends == nil {
		return nil, nil
	}
	days := ec.QueryParam("trend")
	if days != "30" && days != "365" {
		days = strconv.Itoa(pricetrend.DefaultDays)
	}
	t, err := c.d.PriceTrends.Trend(ec.Request().Context(), pricetrend.Query{Category: category, Currency: currency, Days: days}, c.d.Now())
	if err != nil {
		return nil, err
	}
	return drawTrend(t), nil
}

// drawTrend lays the series out on the chart: days along, the index up,
// from the window's lowest to its highest index.
func drawTrend(t pricetrend.Trend) *trendView {
	v := &trendView{Trend: t}
	for _, w := range pricetrend.Windows {
		if w != t.Days {
			v.Windows = append(v.Windows, w)
		}
	}
	v.Facts = trendFacts{Currency: t.Currency, Category: t.Category, From: t.From, To: t.To}
	from, err := pricetrend.ParseDay(t.From)
	if err != nil {
		return v
	}
	var lo, hi int64
	first := true
	for _, p := range t.Series {
		if p.Index == nil {
			continue
		}
		v.Facts.Days++
		if first || *p.Index < lo {
			lo, v.Facts.LowDay = *p.Index, p.Day
		}
		if first || *p.Index > hi {
			hi, v.Facts.HighDay = *p.Index, p.Day
		}
		v.Facts.LatestDay, v.Facts.Latest = p.Day, money.Format(*p.Index, t.Currency)
		first = false
	}
	if first {
		return v
	}
	v.Facts.Low, v.Facts.High = money.Format(lo, t.Currency), money.Format(hi, t.Currency)
	var pts []string
	for _, p := range t.Series {
		if p.Index == nil {
			continue
		}
		d, err := pricetrend.ParseDay(p.Day)
		if err != nil {
			continue
		}
		// Pixels, not money: a position on the chart.
		x := trendLeft + int(float64(d.Sub(from).Hours()/24)/float64(max(t.Days-1, 1))*float64(trendWidth-2*trendLeft))
		y := trendTop + trendHeight/2
		if hi > lo {
			y = trendTop + int(float64(hi-*p.Index)/float64(hi-lo)*float64(trendHeight))
		}
		v.Dots = append(v.Dots, trendDot{x, y})
		pts = append(pts, fmt.Sprintf("%d,%d", x, y))
	}
	v.Line = strings.Join(pts, " ")
	if c := t.Marks.ChangeBP; c != nil {
		bp := *c
		if bp < 0 {
			bp = -bp
		}
		v.Change = fmt.Sprintf("%d.%02d %%", bp/100, bp%100)
	}
	return v
}
