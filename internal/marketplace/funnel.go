package marketplace

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

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
}

// Funnel computes the figures over [from, to) from the read model and the
// ledger.
func (m *Market) Funnel(ctx context.Context, from, to time.Time) (Funnel, error) {
	q := store.New(m.db)
	f := Funnel{From: from, To: to, Money: []CurrencyAmounts{}}
	c, err := q.FunnelCounts(ctx, store.FunnelCountsParams{FromAt: from, ToAt: to})
	if err != nil {
		return Funnel{}, fmt.Errorf("funnel counts: %w", err)
	}
	f.Inquiries = c.Inquiries
	f.QuoteRate = rate(c.Quoted, c.Inquiries)
	f.AcceptanceRate = rate(c.Accepted, c.Quoted)
	f.CompletionRate = rate(c.Completed, c.Accepted)
	f.DisputeRate = rate(c.Disputed, c.Accepted)

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
	return f, nil
}
