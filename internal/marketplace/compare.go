package marketplace

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/tier"
	"github.com/tradeloop/tradeloop/workflows"
)

// ComparedQuote is a supplier's latest quote beside the others, with who
// the supplier is and which of the comparison's bests it holds.
type ComparedQuote struct {
	SupplierID     string   `json:"supplier_id"`
	SupplierName   string   `json:"supplier_name"`
	Tier           string   `json:"tier"`
	Rating         *float64 `json:"rating"`
	Certifications []string `json:"certifications"`
	workflows.Quote
	Lowest   bool `json:"lowest_total"`
	Shortest bool `json:"shortest_lead_time"`
	BestRate bool `json:"best_rated"`
}

// QuoteComparison is all the quotes of an inquiry at its quantity.
type QuoteComparison struct {
	DealID   string          `json:"deal_id"`
	Product  string          `json:"product"`
	Quantity int64           `json:"quantity"`
	Currency string          `json:"currency"`
	Quotes   []ComparedQuote `json:"quotes"`
}

// CompareQuotes sets each supplier's latest quote of the deal (as the
// viewer sees it) beside the others, in the order the suppliers first
// quoted, with their names, tiers, ratings and certifications, and marks
// the lowest total, the shortest lead time and the best rating.
func (m *Market) CompareQuotes(ctx context.Context, st workflows.DealState) (QuoteComparison, error) {
	latest := map[string]workflows.Quote{}
	var order []string
	for _, q := range st.Quotes {
		prev, seen := latest[q.SupplierID]
		if !seen {
			order = append(order, q.SupplierID)
		}
		if !seen || q.Revision > prev.Revision {
			latest[q.SupplierID] = q
		}
	}
	var ids []uuid.UUID
	for _, id := range order {
		if u, err := uuid.Parse(id); err == nil {
			ids = append(ids, u)
		}
	}
	profiles, err := store.New(m.db).SupplierProfilesByID(ctx, ids)
	if err != nil {
		return QuoteComparison{}, fmt.Errorf("read the quoting suppliers of %s: %w", st.DealID, err)
	}
	byID := map[string]store.SupplierProfilesByIDRow{}
	for _, p := range profiles {
		byID[p.OrgID.String()] = p
	}
	out := QuoteComparison{DealID: st.DealID, Product: st.Inquiry.Product, Quantity: st.Inquiry.Quantity, Currency: st.Currency, Quotes: []ComparedQuote{}}
	for _, id := range order {
		q := latest[id]
		cq := ComparedQuote{SupplierID: id, Tier: string(tier.Bronze), Certifications: []string{}, Quote: q}
		if p, ok := byID[id]; ok {
			cq.SupplierName, cq.Tier, cq.Certifications = p.Name, p.Tier, p.Certifications
			if p.RatingsCount > 0 {
				r := p.Rating
				cq.Rating = &r
			}
		}
		out.Quotes = append(out.Quotes, cq)
	}
	markBest(out.Quotes)
	return out, nil
}

// markBest marks the lowest total, the shortest lead time and the best
// rating; ties are all marked.
func markBest(qs []ComparedQuote) {
	if len(qs) == 0 {
		return
	}
	lowest, shortest, best := qs[0].Total, qs[0].LeadTimeDays, -1.0
	for _, q := range qs {
		lowest, shortest = min(lowest, q.Total), min(shortest, q.LeadTimeDays)
		if q.Rating != nil {
			best = max(best, *q.Rating)
		}
	}
	for i := range qs {
		qs[i].Lowest = qs[i].Total == lowest
		qs[i].Shortest = qs[i].LeadTimeDays == shortest
		qs[i].BestRate = qs[i].Rating != nil && *qs[i].Rating == best
	}
}
