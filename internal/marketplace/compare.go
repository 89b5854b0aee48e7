package marketplace

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/sheet"
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
	// Verified is the supplier's verification badge, Gold its Gold badge.
	Verified bool `json:"verified"`
	Gold     bool `json:"gold"`
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
			cq.SupplierName, cq.Certifications, cq.Verified, cq.Gold = p.Name, p.Certifications, p.Verified, p.Gold
			if p.Tier != nil {
				cq.Tier = *p.Tier
			}
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

// ComparisonDocument is the comparison as a document a buyer forwards to
// a manager (CSV, XLSX, PDF): the platform and the date it was made at,
// suppliers by name, headings in words, money as people write it (in
// XLSX, number cells in the currency's format), the best marked.
func ComparisonDocument(cmp QuoteComparison, at time.Time) sheet.Document {
	d := sheet.Document{
		Title: fmt.Sprintf("Quotes for %s × %s", money.Count(cmp.Quantity), cmp.Product),
		Notes: []string{
			fmt.Sprintf("Tradeloop quote comparison, made %s. Deal %s.", at.UTC().Format("2 January 2006, 15:04 UTC"), cmp.DealID),
			fmt.Sprintf("Prices in %s; totals at the inquiry's quantity of %s.", cmp.Currency, money.Count(cmp.Quantity)),
			"Marked: lowest total, shortest lead time, best rated.",
		},
		Table: sheet.Table{Header: []string{"Supplier", "Tier", "Rating", "Quote", "Revision", "Unit price", "Total",
			"MOQ", "Lead time (days)", "Valid till", "Sample price", "Certifications", "Status", "Best"}},
		Highlight: map[[2]int]bool{},
		Numbers:   map[[2]int]sheet.Number{},
	}
	const colRating, colUnit, colTotal, colLead, colSample = 2, 5, 6, 8, 10
	format := `"` + cmp.Currency + ` "#,##0`
	if dec := money.Decimals(cmp.Currency); dec > 0 {
		format += "." + strings.Repeat("0", dec)
	}
	amount := func(i, col int, v int64) string {
		// Excel holds 15 significant digits: a larger amount stays text.
		if v > -1e15 && v < 1e15 {
			d.Numbers[[2]int{i, col}] = sheet.Number{Value: float64(v) / math.Pow10(money.Decimals(cmp.Currency)), Format: format}
		}
		return money.Format(v, cmp.Currency)
	}
	for i, q := range cmp.Quotes {
		rating := ""
		if q.Rating != nil {
			rating = strconv.FormatFloat(*q.Rating, 'f', 2, 64)
		}
		var best []string
		if q.Lowest {
			best = append(best, "lowest total")
			d.Highlight[[2]int{i, colTotal}] = true
		}
		if q.Shortest {
			best = append(best, "shortest lead time")
			d.Highlight[[2]int{i, colLead}] = true
		}
		if q.BestRate {
			best = append(best, "best rated")
			d.Highlight[[2]int{i, colRating}] = true
		}
		name := q.SupplierName
		if name == "" {
			name = q.SupplierID
		}
		if q.Verified {
			name += " (verified)"
		}
		if q.Gold {
			name += " (gold)"
		}
		sample := ""
		if q.SamplePrice > 0 {
			sample = amount(i, colSample, q.SamplePrice)
		}
		d.Table.Rows = append(d.Table.Rows, []string{
			name, q.Tier, rating, q.ID, strconv.Itoa(q.Revision), amount(i, colUnit, q.UnitPrice),
			amount(i, colTotal, q.Total), money.Count(q.MOQ), strconv.Itoa(q.LeadTimeDays),
			q.ValidTill.UTC().Format(time.DateOnly), sample,
			strings.Join(q.Certifications, ", "), strings.ToLower(string(q.Status)), strings.Join(best, ", "),
		})
	}
	return d
}
