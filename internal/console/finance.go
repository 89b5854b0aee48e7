package console

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/finance"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// Finance's pages: the ledger with its filters and CSV export, the escrow
// watchdog's findings with the open alerts, and the funnel as charts.

// maxLedgerLines bounds the ledger lines a page shows; the CSV export has
// them all.
const maxLedgerLines = 200

// maxLedgerRange is the longest range a ledger page or export covers.
const maxLedgerRange = 366 * 24 * time.Hour

// accountRE is what a ledger account looks like (escrow:<deal>,
// buyer:<org>, supplier:<org>, platform:commission).
var accountRE = regexp.MustCompile(`^[a-z]+:[A-Za-z0-9_-]{1,64}$`)

// rangeForm is a page's date range: days in the reader's time zone, to
// included.
type rangeForm struct {
	formState
	From, To time.Time
}

// dateRange reads the from and to days of q (the last days days by
// default), the whole of to's day included, in w's time zone.
func dateRange(w signin.Who, q url.Values, now time.Time, days int, maxRange time.Duration) rangeForm {
	zone, err := texts.ParseZone(w.TimeZone)
	if err != nil {
		zone = time.UTC
	}
	today := now.In(zone)
	r := rangeForm{formState: formState{Form: map[string]string{
		"from": today.AddDate(0, 0, -days).Format(time.DateOnly), "to": today.Format(time.DateOnly),
	}}}
	for _, f := range []string{"from", "to"} {
		if v := strings.TrimSpace(q.Get(f)); v != "" {
			r.Form[f] = v
		}
	}
	from, err := time.ParseInLocation(time.DateOnly, r.Form["from"], zone)
	if err != nil {
		r.Field, r.Error = "from", say(w, "console.finance.date.bad", nil)
		return r
	}
	to, err := time.ParseInLocation(time.DateOnly, r.Form["to"], zone)
	if err != nil {
		r.Field, r.Error = "to", say(w, "console.finance.date.bad", nil)
		return r
	}
	r.From, r.To = from, to.AddDate(0, 0, 1)
	if !r.To.After(r.From) || r.To.Sub(r.From) > maxRange {
		r.Field, r.Error = "to", say(w, "console.finance.range.bad", int(maxRange.Hours()/24))
	}
	return r
}

// ledgerData is the ledger page's: the filters, the account's balances,
// the lines that match, and how many more matched than it shows.
type ledgerData struct {
	rangeForm
	Balances []ledger.Balance
	Lines    []store.ExportPostingsRow
	More     int
	CSV      string
}

func (c *Console) ledgerPage(ec echo.Context) error {
	w := who(ec)
	q := ec.QueryParams()
	data := ledgerData{rangeForm: dateRange(w, q, c.d.Now(), 7, maxLedgerRange)}
	for _, f := range []string{"account", "kind", "deal"} {
		data.Form[f] = strings.TrimSpace(q.Get(f))
	}
	status := http.StatusOK
	if data.Error == "" {
		account := data.Form["account"]
		if account != "" && !accountRE.MatchString(account) {
			data.Field, data.Error = "account", say(w, "console.finance.account.bad", nil)
		}
	}
	if data.Error != "" {
		status = http.StatusUnprocessableEntity
		return c.render(ec, status, "ledger", "", data)
	}
	ctx := ec.Request().Context()
	if a := data.Form["account"]; a != "" {
		var err error
		if data.Balances, err = c.d.Ledger.Balances(ctx, a); err != nil {
			return err
		}
	}
	rows, err := c.d.Ledger.Export(ctx, data.From, data.To)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if a := data.Form["account"]; a != "" && r.Account != a ||
			data.Form["kind"] != "" && r.Kind != data.Form["kind"] ||
			data.Form["deal"] != "" && (r.DealID == nil || *r.DealID != data.Form["deal"]) {
			continue
		}
		if len(data.Lines) == maxLedgerLines {
			data.More++
			continue
		}
		data.Lines = append(data.Lines, r)
	}
	data.CSV = Root + "/finance/ledger.csv?" + url.Values{"from": {data.Form["from"]}, "to": {data.Form["to"]}}.Encode()
	return c.render(ec, status, "ledger", "", data)
}

// ledgerCSV sends every ledger line of the range as CSV (the API's
// export).
func (c *Console) ledgerCSV(ec echo.Context) error {
	r := dateRange(who(ec), ec.QueryParams(), c.d.Now(), 7, maxLedgerRange)
	if r.Error != "" {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, r.Error)
	}
	rows, err := c.d.Ledger.Export(ec.Request().Context(), r.From, r.To)
	if err != nil {
		return err
	}
	ec.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	ec.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="ledger-`+r.Form["from"]+`-`+r.Form["to"]+`.csv"`)
	ec.Response().WriteHeader(http.StatusOK)
	return ledger.WriteCSV(ec.Response(), rows)
}

// paymentsData is the payments page's: the filters, a page of the
// payments that match with their totals, and the link to the next page.
type paymentsData struct {
	rangeForm
	Page       finance.PaymentPage
	Currencies []string
	Next       string
}

// paymentFilters are the payments page's filters besides its days.
var paymentFilters = []string{"kind", "status", "step", "currency", "deal"}

// payments lists the payments of every deal that match the filters
// (finance's service, as the API's GET /v1/payments), 100 a page.
func (c *Console) payments(ec echo.Context) error {
	w := who(ec)
	q := ec.QueryParams()
	data := paymentsData{rangeForm: dateRange(w, q, c.d.Now(), 7, finance.MaxPaymentRange), Currencies: money.Currencies()}
	for _, f := range paymentFilters {
		data.Form[f] = strings.TrimSpace(q.Get(f))
	}
	if data.Error != "" {
		return c.render(ec, http.StatusUnprocessableEntity, "payments", "", data)
	}
	page, err := c.d.Finance.Payments(ec.Request().Context(), finance.PaymentFilter{From: data.From, To: data.To,
		Kind: data.Form["kind"], Status: data.Form["status"], Step: data.Form["step"], Currency: data.Form["currency"], DealID: data.Form["deal"],
		Cursor: q.Get("cursor"), Limit: 100})
	if fe := (*finance.FilterError)(nil); errors.As(err, &fe) {
		data.Field, data.Error = fe.Field, say(w, "console.finance.filter.bad", nil)
		if fe.Field == "cursor" {
			data.Field = ""
		}
		return c.render(ec, http.StatusUnprocessableEntity, "payments", "", data)
	}
	if err != nil {
		return err
	}
	data.Page = page
	if page.Next != "" {
		next := url.Values{"from": {data.Form["from"]}, "to": {data.Form["to"]}, "cursor": {page.Next}}
		for _, f := range paymentFilters {
			if v := data.Form[f]; v != "" {
				next.Set(f, v)
			}
		}
		data.Next = Root + "/finance/payments?" + next.Encode()
	}
	return c.render(ec, http.StatusOK, "payments", "", data)
}

// watchdogData is the escrow watchdog page's.
type watchdogData struct {
	Findings []finance.Finding
	Alerts   []finance.AlertView
}

func (c *Console) watchdog(ec echo.Context) error {
	ctx := ec.Request().Context()
	fs, err := c.d.Finance.Findings(ctx)
	if err != nil {
		return err
	}
	open := true
	alerts, err := c.d.Finance.Alerts(ctx, finance.AlertFilter{Open: &open, Limit: 100})
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "watchdog", "", watchdogData{Findings: fs, Alerts: alerts})
}

// bar is one bar of a chart drawn on the server: its label, value, and
// length in the chart's units (0 to barMax).
type bar struct {
	Label  string
	Value  int64
	Length int
	Y      int
}

// barMax is a chart's longest bar, in its SVG units.
const barMax = 240

// bars scales values to barMax, each bar a row of the chart.
func bars(labels []string, values []int64) []bar {
	var top int64 = 1
	for _, v := range values {
		top = max(top, v)
	}
	out := make([]bar, len(values))
	for i, v := range values {
		out[i] = bar{Label: labels[i], Value: v, Length: int(v * barMax / top), Y: i * 32}
	}
	return out
}

// funnelData is the funnel page's: the figures, and the charts drawn
// from them.
type funnelData struct {
	rangeForm
	Funnel marketplace.Funnel
	Steps  []bar
	Misses []bar
}

func (c *Console) funnel(ec echo.Context) error {
	w := who(ec)
	data := funnelData{rangeForm: dateRange(w, ec.QueryParams(), c.d.Now(), 30, 367*24*time.Hour)}
	if data.Error != "" {
		return c.render(ec, http.StatusUnprocessableEntity, "funnel", "", data)
	}
	f, err := c.d.Market.Funnel(ec.Request().Context(), data.From, data.To)
	if err != nil {
		return err
	}
	data.Funnel = f
	data.Steps = bars([]string{
		say(w, "console.funnel.inquiries", nil), say(w, "console.funnel.quoted", nil), say(w, "console.funnel.accepted", nil),
		say(w, "console.funnel.completed", nil), say(w, "console.funnel.disputed", nil),
	}, []int64{f.Inquiries, f.QuoteRate.Count, f.AcceptanceRate.Count, f.CompletionRate.Count, f.DisputeRate.Count})
	var labels []string
	var values []int64
	for _, m := range f.SLAMissByCategory {
		label := m.Key
		if label == "" {
			label = say(w, "console.funnel.no_category", nil)
		}
		labels, values = append(labels, label), append(values, m.Count)
	}
	data.Misses = bars(labels, values)
	return c.render(ec, http.StatusOK, "funnel", "", data)
}
