// Package pricetrend keeps a daily price index per category and currency
// and reads its trend. A daily snapshot (workflows.PriceIndexSnapshot, on
// a schedule) writes one row per (day, category, currency): the index is
// the lower median of the listed products' unit prices at their MOQ, as
// the catalog stands when the day is taken; the quotes accepted that day
// are kept beside it (their lower median and count), not mixed in, since
// they are priced at the deal's quantity rather than the MOQ. Currencies
// are never mixed. A day without a row (no product listed in the currency,
// or no snapshot taken) is a gap: nothing is carried forward.
//
// The lower median is the middle price, or the lower of the two middle
// prices when the count is even: a price someone listed, never an
// average, and one outlier cannot move it.
package pricetrend

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/money"
)

const (
	// DefaultDays is the window when none is asked for.
	DefaultDays = 90
	// LowHistory is how many days with an index, besides the latest, a
	// window needs before the latest can be a historic low.
	LowHistory = 7
	// Week is the span of the rising and falling comparison: the latest
	// Week days against the Week days before them.
	Week = 7
	// WeekDays is how many days with an index each of those weeks needs.
	WeekDays = 4
	// MoveBP is the change of the weekly mean that makes a trend rising
	// (at least +MoveBP) or falling (at most -MoveBP): 2 %.
	MoveBP = 200
	// Stale is how far back the latest day may be for the marks to be
	// given: the snapshot writes yesterday's close each night.
	Stale = 1
)

// Windows are the days a trend may span.
var Windows = []int{30, 90, 365}

// Point is one day of a category's index in one currency. Amounts are in
// the currency's minor units.
type Point struct {
	Day string `json:"day"`
	// Index is the lower median unit price at the MOQ of the Products
	// listed; absent when none was.
	Index    *int64 `json:"index,omitempty"`
	Products int    `json:"products"`
	// QuoteMedian is the lower median unit price of the Quotes accepted
	// that day; absent when none was.
	QuoteMedian *int64 `json:"quote_median,omitempty"`
	Quotes      int    `json:"quotes"`
}

// Marks are what the series says about its latest day.
type Marks struct {
	// HistoricLow: the latest index is below every other in the window,
	// which holds at least LowHistory others.
	HistoricLow bool `json:"historic_low"`
	// Rising and Falling: the mean index of the latest Week days stands
	// at least MoveBP above (below) that of the Week days before, each
	// week having WeekDays days with an index.
	Rising  bool `json:"rising"`
	Falling bool `json:"falling"`
	// ChangeBP is that change in basis points, when both weeks have
	// enough days.
	ChangeBP *int64 `json:"change_bp,omitempty"`
	// Latest is the day the marks are about: the newest with an index,
	// if it is today or yesterday; absent otherwise (then no marks).
	Latest string `json:"latest,omitempty"`
}

// Trend is a category's index in one currency over a window of days
// ending today (UTC), oldest day first; days without a row are gaps.
type Trend struct {
	Category string  `json:"category"`
	Currency string  `json:"currency"`
	Days     int     `json:"days"`
	From     string  `json:"from"`
	To       string  `json:"to"`
	Series   []Point `json:"series"`
	Marks    Marks   `json:"marks"`
}

// FieldError refuses a request's field.
type FieldError struct{ Field, Message string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Query is a trend asked for, as given.
type Query struct {
	Category, Currency, Days string
}

// Service keeps and reads the index.
type Service struct{ db *pgxpool.Pool }

// New keeps the index in db.
func New(db *pgxpool.Pool) *Service { return &Service{db: db} }

// Day is t's UTC day, at midnight.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

const dayLayout = "2006-01-02"

// ParseDay reads a day written YYYY-MM-DD.
func ParseDay(s string) (time.Time, error) { return time.Parse(dayLayout, s) }

// Snapshot takes day: the catalog as it stands at now, and the quotes
// accepted during day (UTC). Taken again, the day's rows are replaced;
// a category and currency with nothing left loses its row. It answers how
// many rows it wrote.
func (s *Service) Snapshot(ctx context.Context, day, now time.Time) (int64, error) {
	day = Day(day)
	n, err := store.New(s.db).SnapshotPriceIndex(ctx, store.SnapshotPriceIndexParams{
		Day: pgtype.Date{Time: day, Valid: true}, FromAt: day, ToAt: day.AddDate(0, 0, 1), TakenAt: now,
	})
	if err != nil {
		return 0, fmt.Errorf("take the price index of %s: %w", day.Format(dayLayout), err)
	}
	return n, nil
}

// Trend reads q's trend as of now: a *FieldError for a bad field.
func (s *Service) Trend(ctx context.Context, q Query, now time.Time) (Trend, error) {
	if !marketplace.ValidCategory(q.Category) {
		return Trend{}, &FieldError{"category", "a category slug such as \"led-lighting\""}
	}
	if !money.KnownCurrency(q.Currency) {
		return Trend{}, &FieldError{"currency", "a supported ISO 4217 code such as USD"}
	}
	days := DefaultDays
	if q.Days != "" {
		n, err := strconv.Atoi(q.Days)
		if err != nil || !slices.Contains(Windows, n) {
			return Trend{}, &FieldError{"days", "30, 90 or 365"}
		}
		days = n
	}
	to := Day(now)
	from := to.AddDate(0, 0, 1-days)
	rows, err := store.New(s.db).PriceIndexSeries(ctx, store.PriceIndexSeriesParams{
		Category: q.Category, Currency: q.Currency,
		FromDay: pgtype.Date{Time: from, Valid: true}, ToDay: pgtype.Date{Time: to, Valid: true},
	})
	if err != nil {
		return Trend{}, fmt.Errorf("read the price index of %s in %s: %w", q.Category, q.Currency, err)
	}
	t := Trend{Category: q.Category, Currency: q.Currency, Days: days, From: from.Format(dayLayout), To: to.Format(dayLayout),
		Series: make([]Point, 0, len(rows))}
	for _, r := range rows {
		t.Series = append(t.Series, Point{Day: r.Day.Time.Format(dayLayout), Index: r.IndexMinor, Products: int(r.Products),
			QuoteMedian: r.QuoteMedianMinor, Quotes: int(r.Quotes)})
	}
	t.Marks, err = MarksOf(t.Series, to)
	return t, err
}

// MarksOf marks a series (oldest day first, days apart) as of today.
func MarksOf(series []Point, today time.Time) (Marks, error) {
	today = Day(today)
	var m Marks
	latest := -1
	for i := len(series) - 1; i >= 0; i-- {
		if series[i].Index != nil {
			latest = i
			break
		}
	}
	if latest < 0 {
		return m, nil
	}
	last, err := ParseDay(series[latest].Day)
	if err != nil {
		return m, fmt.Errorf("price index day %q: %w", series[latest].Day, err)
	}
	if today.Sub(last) > Stale*24*time.Hour {
		return m, nil
	}
	m.Latest = series[latest].Day
	idx := *series[latest].Index

	others, below := 0, true
	var thisWeek, lastWeek []int64
	for _, p := range series {
		if p.Index == nil {
			continue
		}
		d, err := ParseDay(p.Day)
		if err != nil {
			return m, fmt.Errorf("price index day %q: %w", p.Day, err)
		}
		if d.After(last) {
			continue
		}
		back := int(last.Sub(d).Hours() / 24)
		switch {
		case back < Week:
			thisWeek = append(thisWeek, *p.Index)
		case back < 2*Week:
			lastWeek = append(lastWeek, *p.Index)
		}
		if back == 0 {
			continue
		}
		others++
		if *p.Index <= idx {
			below = false
		}
	}
	m.HistoricLow = below && others >= LowHistory
	if len(thisWeek) >= WeekDays && len(lastWeek) >= WeekDays {
		change, err := money.MeanChangeBP(thisWeek, lastWeek)
		if err != nil {
			return m, err
		}
		m.ChangeBP = &change
		m.Rising, m.Falling = change >= MoveBP, change <= -MoveBP
	}
	return m, nil
}
