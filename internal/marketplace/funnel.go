package marketplace

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/db/store"
)

// Rate is a share: its parts and their ratio, rounded to 4 decimals (0 when
// there is nothing to divide by).
type Rate struct {
	Count int64   `json:"count"`
	Of    int64   `json:"of"`
	Rate  float64 `json:"rate"`
}

func rate(n, of int64) Rate {
	r := Rate{Count: n, Of: of}
	if of > 0 {
		r.Rate = math.Round(float64(n)/float64(of)*10000) / 10000
	}
	return r
}

// CurrencyAmounts are money figures of one currency, in minor units.
type CurrencyAmounts struct {
	Currency string `json:"currency"`
	// Completed deals, their GMV and their average order value (GMV ÷
	// completed deals, rounded down to the minor unit).
	Completed int64 `json:"completed_deals"`
	GMV       int64 `json:"gmv"`
	AOV       int64 `json:"average_order_value"`
	// Commission is what the ledger booked to platform:commission in the
	// range, whichever deals it came from.
	Commission int64 `json:"commission_revenue"`
}

// SLAMisses are quote invitations and the late ones, for a supplier or a
// category.
type SLAMisses struct {
	Key  string `json:"key"`
	Name string `json:"name,omitempty"`
	Rate
}

// Funnel is the platform's figures over a date range.
type Funnel struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Inquiries created in [From, To), and how far they went.
	Inquiries      int64 `json:"inquiries"`
	QuoteRate      Rate  `json:"quote_rate"`      // inquiries with at least one quote
	AcceptanceRate Rate  `json:"acceptance_rate"` // quoted inquiries whose buyer accepted a quote
	CompletionRate Rate  `json:"completion_rate"` // accepted deals completed
	DisputeRate    Rate  `json:"dispute_rate"`    // accepted deals that had a dispute
	// Money is by currency: amounts of different currencies never add up.
	Money []CurrencyAmounts `json:"money"`
	// SLA misses of the quote invitations sent in [From, To).
	SLAMissRate       Rate        `json:"sla_miss_rate"`
	SLAMissByCategory []SLAMisses `json:"sla_miss_by_category"`
	SLAMissBySupplier []SLAMisses `json:"sla_miss_by_supplier"`

	// The layers before the inquiry: product views in [From, To) by buyers
	// (one per user, product and hour), the organizations that viewed, and
	// the share of those that sent an inquiry in a category they had
	// viewed, after viewing it.
	Views             int64 `json:"product_views"`
	Viewers           int64 `json:"unique_viewers"`
	InquiryConversion Rate  `json:"inquiry_conversion"`
	// The funnel of each category and of each channel.
	ByCategory []CategoryFunnel `json:"by_category"`
	ByChannel  []ChannelFunnel  `json:"by_channel"`
	// Months are the calendar months (UTC) the range touches, whole.
	Months []MonthFigures `json:"months"`
	// Churn is, at To, the share of buyers that ever sent an inquiry with
	// neither an inquiry nor a product view in the quiet period before To
	// (three months); QuietBuyers are those of them with completed deals,
	// most completed first, with their last deals.
	Churn       Churn        `json:"churn"`
	QuietBuyers []QuietBuyer `json:"quiet_buyers"`
	// Reactivation is the messages sent to quiet buyers in the range
	// (internal/reactivation) and their return rate: those whose console
	// link was followed.
	Reactivation Reactivation `json:"reactivation"`
}

// Reactivation is the reactivation messages of a range.
type Reactivation struct {
	Sent       int64 `json:"sent"`
	ReturnRate Rate  `json:"return_rate"`
}

// CategoryFunnel is one category's funnel in the range.
type CategoryFunnel struct {
	Category          string `json:"category"`
	Views             int64  `json:"product_views"`
	Viewers           int64  `json:"unique_viewers"`
	InquiryConversion Rate   `json:"inquiry_conversion"`
	Inquiries         int64  `json:"inquiries"`
	QuoteRate         Rate   `json:"quote_rate"`
	AcceptanceRate    Rate   `json:"acceptance_rate"`
	CompletionRate    Rate   `json:"completion_rate"`
}

// ChannelFunnel is what one channel brought in the range: views, viewers,
// and the inquiries whose buyer it brought (its latest view in the
// inquiry's category in the 30 days before was through the channel).
type ChannelFunnel struct {
	Channel        Channel `json:"channel"`
	Views          int64   `json:"product_views"`
	Viewers        int64   `json:"unique_viewers"`
	Inquiries      int64   `json:"inquiries"`
	CompletionRate Rate    `json:"completion_rate"` // accepted deals completed
}

// MonthFigures are one calendar month's activity rates.
type MonthFigures struct {
	Month string `json:"month"` // 2026-03
	// Suppliers on the platform by the month's end that quoted or shipped
	// goods in it.
	SupplierActiveRate Rate `json:"supplier_active_rate"`
	// Buyers that sent an inquiry in the month and had sent one before it.
	BuyerRepeatRate Rate `json:"buyer_repeat_rate"`
}

// Churn is the share of buyers gone quiet since QuietSince.
type Churn struct {
	QuietSince time.Time `json:"quiet_since"`
	Rate
}

// QuietBuyer is a buyer with completed deals that went quiet.
type QuietBuyer struct {
	OrgID          string `json:"org_id"`
	Name           string `json:"name,omitempty"`
	CompletedDeals int64  `json:"completed_deals"`
	// GMV is its completed deals' totals, by currency.
	GMV           []Amount         `json:"gmv"`
	LastInquiryAt time.Time        `json:"last_inquiry_at"`
	LastDeals     []QuietBuyerDeal `json:"last_deals"`
}

// Amount is money of one currency, in minor units.
type Amount struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// QuietBuyerDeal is one of a quiet buyer's last deals.
type QuietBuyerDeal struct {
	ID        string    `json:"id"`
	Product   string    `json:"product"`
	Stage     string    `json:"stage"`
	Total     int64     `json:"total"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"created_at"`
}

// Limits of the quiet buyers' list.
const (
	maxQuietBuyers    = 20
	lastDealsPerBuyer = 3
	quietMonths       = 3
)

// Funnel computes the figures over [from, to) from the read model, the
// view log and the ledger, all as of one moment (one read-only snapshot).
func (m *Market) Funnel(ctx context.Context, from, to time.Time) (Funnel, error) {
	tx, err := m.db.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return Funnel{}, fmt.Errorf("funnel: begin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only: nothing to undo
	// The figures aggregate up to a year of views: compiling them (JIT)
	// costs more than running them, and their hash tables fit in memory.
	if _, err := tx.Exec(ctx, "SET LOCAL jit = off; SET LOCAL work_mem = '64MB'"); err != nil {
		return Funnel{}, fmt.Errorf("funnel: settings: %w", err)
	}
	return funnel(ctx, store.New(tx), from, to)
}

func funnel(ctx context.Context, q *store.Queries, from, to time.Time) (Funnel, error) {
	f := Funnel{From: from, To: to, Money: []CurrencyAmounts{}}
	if err := inquiries(ctx, q, &f); err != nil {
		return Funnel{}, err
	}
	gmv, err := q.FunnelGMV(ctx, store.FunnelGMVParams{FromAt: from, ToAt: to})
	if err != nil {
		return Funnel{}, fmt.Errorf("funnel GMV: %w", err)
	}
	byCur := map[string]int{} // currency → index in f.Money
	for _, g := range gmv {
		f.Money = append(f.Money, CurrencyAmounts{Currency: g.Currency, Completed: g.Completed, GMV: g.GmvMinor, AOV: g.GmvMinor / g.Completed})
	}
	for i, a := range f.Money {
		byCur[a.Currency] = i
	}
	com, err := q.CommissionRevenue(ctx, store.CommissionRevenueParams{FromAt: from, ToAt: to})
	if err != nil {
		return Funnel{}, fmt.Errorf("commission revenue: %w", err)
	}
	for _, r := range com {
		if i, ok := byCur[r.Currency]; ok {
			f.Money[i].Commission = r.AmountMinor
		} else {
			f.Money = append(f.Money, CurrencyAmounts{Currency: r.Currency, Commission: r.AmountMinor})
		}
	}

	slices.SortFunc(f.Money, func(a, b CurrencyAmounts) int { return strings.Compare(a.Currency, b.Currency) })

	bySupplier, err := q.SLABySupplier(ctx, store.SLABySupplierParams{FromAt: from, ToAt: to})
	if err != nil {
		return Funnel{}, fmt.Errorf("SLA misses by supplier: %w", err)
	}
	var late, all int64
	f.SLAMissBySupplier = make([]SLAMisses, len(bySupplier))
	for i, r := range bySupplier {
		f.SLAMissBySupplier[i] = SLAMisses{Key: r.SupplierID, Name: r.Name, Rate: rate(r.Late, r.Invitations)}
		late, all = late+r.Late, all+r.Invitations
	}
	f.SLAMissRate = rate(late, all)
	byCategory, err := q.SLAByCategory(ctx, store.SLAByCategoryParams{FromAt: from, ToAt: to})
	if err != nil {
		return Funnel{}, fmt.Errorf("SLA misses by category: %w", err)
	}
	f.SLAMissByCategory = make([]SLAMisses, len(byCategory))
	for i, r := range byCategory {
		f.SLAMissByCategory[i] = SLAMisses{Key: r.Category, Rate: rate(r.Late, r.Invitations)}
	}
	if err := views(ctx, q, &f); err != nil {
		return Funnel{}, err
	}
	if err := channels(ctx, q, &f); err != nil {
		return Funnel{}, err
	}
	if err := months(ctx, q, &f); err != nil {
		return Funnel{}, err
	}
	if err := churn(ctx, q, &f); err != nil {
		return Funnel{}, err
	}
	r, err := q.ReactivationFigures(ctx, store.ReactivationFiguresParams{FromAt: f.From, ToAt: f.To})
	if err != nil {
		return Funnel{}, fmt.Errorf("reactivation figures: %w", err)
	}
	f.Reactivation = Reactivation{Sent: r.Sent, ReturnRate: rate(r.Clicked, r.Sent)}
	return f, nil
}

// inquiries adds the inquiries of the range and how far they went, in all
// and by category.
func inquiries(ctx context.Context, q *store.Queries, f *Funnel) error {
	rows, err := q.InquiriesByCategory(ctx, store.InquiriesByCategoryParams{FromAt: f.From, ToAt: f.To})
	if err != nil {
		return fmt.Errorf("inquiries by category: %w", err)
	}
	var all store.InquiriesByCategoryRow
	f.ByCategory = make([]CategoryFunnel, len(rows))
	for i, c := range rows {
		f.ByCategory[i] = CategoryFunnel{Category: c.Category, Inquiries: c.Inquiries, QuoteRate: rate(c.Quoted, c.Inquiries),
			AcceptanceRate: rate(c.Accepted, c.Quoted), CompletionRate: rate(c.Completed, c.Accepted)}
		all.Inquiries += c.Inquiries
		all.Quoted += c.Quoted
		all.Accepted += c.Accepted
		all.Completed += c.Completed
		all.Disputed += c.Disputed
	}
	f.Inquiries = all.Inquiries
	f.QuoteRate = rate(all.Quoted, all.Inquiries)
	f.AcceptanceRate = rate(all.Accepted, all.Quoted)
	f.CompletionRate = rate(all.Completed, all.Accepted)
	f.DisputeRate = rate(all.Disputed, all.Accepted)
	return nil
}

// views adds the views, the viewers and their conversion to inquiries,
// in all, to each category's funnel (a category viewed but not inquired
// in gets its own) and to each channel's.
func views(ctx context.Context, q *store.Queries, f *Funnel) error {
	rows, err := q.ViewLayers(ctx, store.ViewLayersParams{FromAt: f.From, ToAt: f.To})
	if err != nil {
		return fmt.Errorf("funnel views: %w", err)
	}
	at := map[string]int{}
	for i, c := range f.ByCategory {
		at[c.Category] = i
	}
	f.ByChannel = make([]ChannelFunnel, len(Channels))
	for i, ch := range Channels {
		f.ByChannel[i].Channel = ch
	}
	for _, v := range rows {
		switch v.Layer {
		case "all":
			f.Views, f.Viewers, f.InquiryConversion = v.Views, v.Viewers, rate(v.Converted, v.Viewers)
		case "channel":
			if i := slices.Index(Channels, Channel(v.Key)); i >= 0 {
				f.ByChannel[i].Views, f.ByChannel[i].Viewers = v.Views, v.Viewers
			}
		case "category":
			i, ok := at[v.Key]
			if !ok {
				i = len(f.ByCategory)
				f.ByCategory = append(f.ByCategory, CategoryFunnel{Category: v.Key})
			}
			c := &f.ByCategory[i]
			c.Views, c.Viewers, c.InquiryConversion = v.Views, v.Viewers, rate(v.Converted, v.Viewers)
		}
	}
	slices.SortFunc(f.ByCategory, func(a, b CategoryFunnel) int { return strings.Compare(a.Category, b.Category) })
	return nil
}

// channels adds the inquiries each channel brought to its funnel.
func channels(ctx context.Context, q *store.Queries, f *Funnel) error {
	rows, err := q.InquiriesByChannel(ctx, store.InquiriesByChannelParams{FromAt: f.From, ToAt: f.To})
	if err != nil {
		return fmt.Errorf("inquiries by channel: %w", err)
	}
	for _, r := range rows {
		if i := slices.Index(Channels, Channel(r.Channel)); i >= 0 {
			f.ByChannel[i].Inquiries, f.ByChannel[i].CompletionRate = r.Inquiries, rate(r.Completed, r.Accepted)
		}
	}
	return nil
}

// monthsOf are the calendar months (UTC) that [from, to) touches: their
// starts and ends.
func monthsOf(from, to time.Time) (starts, ends []time.Time) {
	from, to = from.UTC(), to.UTC()
	m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	for m.Before(to) {
		next := m.AddDate(0, 1, 0)
		starts, ends = append(starts, m), append(ends, next)
		m = next
	}
	return starts, ends
}

// months adds each month's supplier activity and buyers' return.
func months(ctx context.Context, q *store.Queries, f *Funnel) error {
	starts, ends := monthsOf(f.From, f.To)
	from, to := starts[0], ends[len(ends)-1]
	active, err := q.SupplierActivityByMonth(ctx, store.SupplierActivityByMonthParams{Starts: starts, Ends: ends, FromAt: from, ToAt: to})
	if err != nil {
		return fmt.Errorf("supplier activity by month: %w", err)
	}
	back, err := q.BuyerReturnByMonth(ctx, store.BuyerReturnByMonthParams{Starts: starts, Ends: ends})
	if err != nil {
		return fmt.Errorf("buyers' return by month: %w", err)
	}
	if len(active) != len(starts) || len(back) != len(starts) {
		return fmt.Errorf("figures by month: %d months, %d and %d rows", len(starts), len(active), len(back))
	}
	f.Months = make([]MonthFigures, len(starts))
	for i, s := range starts {
		f.Months[i] = MonthFigures{Month: s.Format("2006-01"),
			SupplierActiveRate: rate(active[i].Active, active[i].Suppliers), BuyerRepeatRate: rate(back[i].Returning, back[i].Buyers)}
	}
	return nil
}

// churn adds the churn at To and the quiet buyers with their last deals.
func churn(ctx context.Context, q *store.Queries, f *Funnel) error {
	since := f.To.AddDate(0, -quietMonths, 0)
	rows, err := q.BuyerActivity(ctx, store.BuyerActivityParams{QuietSince: since, ToAt: f.To, MaxBuyers: maxQuietBuyers})
	if err != nil {
		return fmt.Errorf("churn: %w", err)
	}
	f.Churn = Churn{QuietSince: since}
	f.QuietBuyers = []QuietBuyer{}
	var ids []string
	at := map[string]int{}
	for _, b := range rows {
		f.Churn.Rate = rate(b.Churned, b.Buyers)
		if b.BuyerOrgID == "" {
			continue
		}
		at[b.BuyerOrgID] = len(f.QuietBuyers)
		ids = append(ids, b.BuyerOrgID)
		f.QuietBuyers = append(f.QuietBuyers, QuietBuyer{OrgID: b.BuyerOrgID, Name: b.Name, CompletedDeals: b.Completed,
			LastInquiryAt: b.LastAt.UTC(), GMV: []Amount{}, LastDeals: []QuietBuyerDeal{}})
	}
	if len(ids) == 0 {
		return nil
	}
	gmv, err := q.BuyersCompletedGMV(ctx, store.BuyersCompletedGMVParams{Buyers: ids, ToAt: f.To})
	if err != nil {
		return fmt.Errorf("quiet buyers' GMV: %w", err)
	}
	for _, g := range gmv {
		b := &f.QuietBuyers[at[g.BuyerOrgID]]
		b.GMV = append(b.GMV, Amount{Currency: g.Currency, Amount: g.GmvMinor})
	}
	deals, err := q.BuyersLastDeals(ctx, store.BuyersLastDealsParams{Buyers: ids, ToAt: f.To, PerBuyer: lastDealsPerBuyer})
	if err != nil {
		return fmt.Errorf("quiet buyers' last deals: %w", err)
	}
	for _, d := range deals {
		b := &f.QuietBuyers[at[d.BuyerOrgID]]
		b.LastDeals = append(b.LastDeals, QuietBuyerDeal{ID: d.ID, Product: d.Product, Stage: d.Stage, Total: d.TotalMinor, Currency: d.Currency, CreatedAt: d.CreatedAt.UTC()})
	}
	return nil
}
