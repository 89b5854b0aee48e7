package marketplace

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/money"
)

// TierCurrency is the currency completed GMV is measured in for tiers.
// Deals in other currencies do not count toward a tier until the platform
// has exchange rates.
const TierCurrency = "USD"

// TierWindow is how far back GMV, ratings of quotes and response times count.
const TierWindow = 365 * 24 * time.Hour

// SupplierStats is what a supplier's tier is computed from.
type SupplierStats struct {
	GMV          int64 // completed deals in TierCurrency, minor units, over TierWindow
	Rating       float64
	RatingsCount int
	QuotesOnTime int
	QuotesLate   int
	// MedianResponse is the median time from invitation to first quote;
	// HasResponse is false when the supplier never quoted in the window.
	MedianResponse time.Duration
	HasResponse    bool
	RecentMisses   int // quote SLA misses in the last MissWindow
}

// tierRule is what a tier asks for. Each tier's rule includes the ones
// below it being met.
type tierRule struct {
	tier          string
	minGMV        int64 // minor units of TierCurrency
	minRating     float64
	minRatings    int
	minOnTimePct  int
	maxResponse   time.Duration
	maxRecentMiss int
}

// The rules, highest tier first. Bronze asks for nothing.
var tierRules = []tierRule{
	{tier: "platinum", minGMV: 100_000_000, minRating: 4.5, minRatings: 10, minOnTimePct: 95, maxResponse: 30 * time.Minute, maxRecentMiss: 0},
	{tier: "gold", minGMV: 25_000_000, minRating: 4.0, minRatings: 5, minOnTimePct: 90, maxResponse: time.Hour, maxRecentMiss: 1},
	{tier: "silver", minGMV: 5_000_000, minRating: 3.5, minRatings: 1, minOnTimePct: 80, maxResponse: 2 * time.Hour, maxRecentMiss: 3},
}

// ComputeTier returns the highest tier whose every rule the supplier meets,
// and why it is not one higher.
func ComputeTier(s SupplierStats) (tier, reason string) {
	var shortOf []string
	for _, r := range tierRules {
		var missed []string
		if s.GMV < r.minGMV {
			missed = append(missed, fmt.Sprintf("GMV %s < %s", usd(s.GMV), usd(r.minGMV)))
		}
		if s.RatingsCount < r.minRatings {
			missed = append(missed, fmt.Sprintf("%d ratings < %d", s.RatingsCount, r.minRatings))
		} else if s.Rating < r.minRating {
			missed = append(missed, fmt.Sprintf("rating %.2f < %.1f", s.Rating, r.minRating))
		}
		if n := s.QuotesOnTime + s.QuotesLate; n == 0 {
			missed = append(missed, "no quotes yet")
		} else if s.QuotesOnTime*100 < r.minOnTimePct*n {
			missed = append(missed, fmt.Sprintf("quoted in time %d/%d < %d%%", s.QuotesOnTime, n, r.minOnTimePct))
		}
		if !s.HasResponse || s.MedianResponse > r.maxResponse {
			missed = append(missed, fmt.Sprintf("median response over %s", r.maxResponse))
		}
		if s.RecentMisses > r.maxRecentMiss {
			missed = append(missed, fmt.Sprintf("%d SLA misses in 30 days > %d", s.RecentMisses, r.maxRecentMiss))
		}
		if len(missed) == 0 {
			reason = fmt.Sprintf("meets %s", r.tier)
			if len(shortOf) > 0 {
				reason += "; " + shortOf[len(shortOf)-1]
			}
			return r.tier, reason
		}
		shortOf = append(shortOf, fmt.Sprintf("not %s: %s", r.tier, strings.Join(missed, ", ")))
	}
	return "bronze", shortOf[len(shortOf)-1]
}

func usd(minor int64) string { return fmt.Sprintf("%d.%02d %s", minor/100, minor%100, TierCurrency) }

// ResponseRating turns a median quote response time into 1–5 stars.
func ResponseRating(median time.Duration) int16 {
	switch {
	case median <= 15*time.Minute:
		return 5
	case median <= 30*time.Minute:
		return 4
	case median <= time.Hour:
		return 3
	case median <= 2*time.Hour:
		return 2
	}
	return 1
}

// RecalculateTiers recomputes every supplier's statistics and tier from the
// read model, in one transaction, as of now. Running it twice gives the
// same result.
func (m *Market) RecalculateTiers(ctx context.Context, now time.Time) (activities.TierSummary, error) {
	var sum activities.TierSummary
	err := pgx.BeginFunc(ctx, m.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		rows, err := q.SupplierTierStats(ctx, store.SupplierTierStatsParams{
			Currency: TierCurrency, Since: now.Add(-TierWindow), MissesSince: now.Add(-MissWindow),
		})
		if err != nil {
			return fmt.Errorf("supplier statistics: %w", err)
		}
		sum = activities.TierSummary{Suppliers: len(rows), Changes: []activities.TierChange{}}
		for _, r := range rows {
			s := SupplierStats{
				GMV: r.GmvMinor, Rating: r.Rating, RatingsCount: int(r.RatingsCount), QuotesOnTime: int(r.QuotesOnTime),
				QuotesLate: int(r.QuotesLate), RecentMisses: int(r.SlaMissesRecent),
			}
			p := store.SetSupplierTierParams{
				OrgID: r.OrgID, GmvMinor: r.GmvMinor, RatingsCount: r.RatingsCount, QuotesOnTime: r.QuotesOnTime,
				QuotesLate: r.QuotesLate, SlaMissesRecent: r.SlaMissesRecent, ComputedAt: &now,
			}
			if r.MedianResponseSecs >= 0 {
				s.MedianResponse, s.HasResponse = time.Duration(r.MedianResponseSecs)*time.Second, true
				secs, stars := r.MedianResponseSecs, ResponseRating(s.MedianResponse)
				p.MedianResponseSecs, p.ResponseRating = &secs, &stars
			}
			if r.RatingsCount > 0 {
				p.Rating.Float64, p.Rating.Valid = r.Rating, true
			}
			p.Tier, p.TierReason = ComputeTier(s)
			if err := q.SetSupplierTier(ctx, p); err != nil {
				return fmt.Errorf("set tier of %s: %w", r.OrgID, err)
			}
			if p.Tier != r.Tier {
				sum.Changes = append(sum.Changes, activities.TierChange{
					OrgID: r.OrgID.String(), From: r.Tier, To: p.Tier, Reason: p.TierReason,
					CommissionBP: money.CommissionBasisPoints(p.Tier),
				})
			}
		}
		return nil
	})
	return sum, err
}

// SupplierTier returns the tier a new deal with the supplier is priced at;
// a supplier without a profile is bronze.
func (m *Market) SupplierTier(ctx context.Context, org uuid.UUID) (string, error) {
	tier, err := store.New(m.db).SupplierTier(ctx, org)
	if errors.Is(err, pgx.ErrNoRows) {
		return "bronze", nil
	}
	if err != nil {
		return "", fmt.Errorf("tier of %s: %w", org, err)
	}
	return tier, nil
}
