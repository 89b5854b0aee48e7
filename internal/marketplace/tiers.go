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
	"github.com/tradeloop/tradeloop/internal/tier"
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

// ComputeTier returns the highest tier whose every rule the supplier meets,
// and why it is not one higher.
func ComputeTier(s SupplierStats) (name, reason string) {
	var shortOf []string
	for _, r := range tier.Rules {
		var missed []string
		if s.GMV < r.MinGMV {
			missed = append(missed, fmt.Sprintf("GMV %s < %s", usd(s.GMV), usd(r.MinGMV)))
		}
		if s.RatingsCount < r.MinRatings {
			missed = append(missed, fmt.Sprintf("%d ratings < %d", s.RatingsCount, r.MinRatings))
		} else if s.Rating < r.MinRating {
			missed = append(missed, fmt.Sprintf("rating %.2f < %.1f", s.Rating, r.MinRating))
		}
		if n := s.QuotesOnTime + s.QuotesLate; n == 0 {
			missed = append(missed, "no quotes yet")
		} else if s.QuotesOnTime*100 < r.MinOnTimePct*n {
			missed = append(missed, fmt.Sprintf("quoted in time %d/%d < %d%%", s.QuotesOnTime, n, r.MinOnTimePct))
		}
		if !s.HasResponse || s.MedianResponse > r.MaxResponse {
			missed = append(missed, fmt.Sprintf("median response over %s", r.MaxResponse))
		}
		if s.RecentMisses > r.MaxRecentMiss {
			missed = append(missed, fmt.Sprintf("%d SLA misses in 30 days > %d", s.RecentMisses, r.MaxRecentMiss))
		}
		if len(missed) == 0 {
			reason = fmt.Sprintf("meets %s", r.Tier)
			if len(shortOf) > 0 {
				reason += "; " + shortOf[len(shortOf)-1]
			}
			return string(r.Tier), reason
		}
		shortOf = append(shortOf, fmt.Sprintf("not %s: %s", r.Tier, strings.Join(missed, ", ")))
	}
	return string(tier.Bronze), shortOf[len(shortOf)-1]
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
					CommissionBP: tier.Of(p.Tier).CommissionBasisPoints(),
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
	got, err := store.New(m.db).SupplierTier(ctx, org)
	if errors.Is(err, pgx.ErrNoRows) {
		return string(tier.Bronze), nil
	}
	if err != nil {
		return "", fmt.Errorf("tier of %s: %w", org, err)
	}
	return got, nil
}
