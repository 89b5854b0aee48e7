package marketplace

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/tier"
)

// DispatchCriteria is what an inquiry that names a category instead of
// suppliers is matched by.
type DispatchCriteria struct {
	Category string
	// Regions the buyer prefers the goods to come from ("CN" matches "CN-ZJ").
	Regions []string
	// Certifications a supplier must hold, all of them.
	Certifications []string
	// Limit is how many suppliers to return: the first are invited, the
	// others replace those who decline or miss the quote SLA, in order.
	Limit int
}

// Candidate is a supplier who sells in the category, with what ranks it.
type Candidate struct {
	OrgID          string
	Name           string
	JoinedAt       time.Time
	Tier           string
	Regions        []string // its profile's and its products' in the category
	Certifications []string // its profile's and its products' in the category
	Rating         float64
	RatingsCount   int
	Answered       int // quote invitations answered in time (stats window)
	Late           int // quote invitations missed (stats window)
	RecentMisses   int // SLA misses in the last MissWindow
	MedianResponse time.Duration
	HasResponse    bool
	// Verified is the supplier's verification badge.
	Verified bool
}

// Ranked is a supplier chosen for an inquiry, its score and why.
type Ranked struct {
	OrgID string `json:"org_id"`
	Name  string `json:"name"`
	Tier  string `json:"tier"`
	// Verified is the supplier's verification badge.
	Verified bool   `json:"verified,omitempty"`
	Score    int    `json:"score"`
	Reason   string `json:"reason"`
}

// Ranking weights, in points. They are explained in the deal's timeline,
// so they are plain integers a person can add up.
const (
	pointsRegion        = 15
	pointsResponseMax   = 20 // × share of invitations answered in time
	pointsNoHistory     = 10 // a supplier never invited yet
	pointsPerMiss       = 10 // each recent SLA miss
	maxMissPenalty      = 40
	pointsNewSupplier   = 15 // during its first month on the platform
	pointsPerRatingStar = 2  // × average rating (0–5), with ratings
	PointsVerified      = 10 // a supplier whose verification badge is current
	NewSupplierWindow   = 30 * 24 * time.Hour
	MissWindow          = 30 * 24 * time.Hour
	StatsWindow         = 180 * 24 * time.Hour
)

// Rank orders the candidates for an inquiry, best first, dropping those
// without every required certification. Ties go to fewer recent SLA
// misses, then the faster median quote response, then the higher rating,
// then the organization ID, so the same data always gives the same order.
func Rank(now time.Time, c DispatchCriteria, candidates []Candidate) (ranked []Ranked, excluded []string) {
	type scored struct {
		Candidate
		score  int
		reason string
	}
	var list []scored
	for _, s := range candidates {
		if missing := missingCerts(c.Certifications, s.Certifications); len(missing) > 0 {
			excluded = append(excluded, fmt.Sprintf("%s (no %s)", s.Name, strings.Join(missing, ", ")))
			continue
		}
		var parts []string
		score := 0
		add := func(points int, why string) {
			score += points
			parts = append(parts, fmt.Sprintf("%s %+d", why, points))
		}
		add(tier.Of(s.Tier).DispatchPoints(), s.Tier)
		if r := matchingRegion(c.Regions, s.Regions); r != "" {
			add(pointsRegion, "region "+r)
		}
		if n := s.Answered + s.Late; n > 0 {
			pct := float64(s.Answered) / float64(n)
			add(int(math.Round(pct*pointsResponseMax)), fmt.Sprintf("quoted in time %d/%d", s.Answered, n))
		} else {
			add(pointsNoHistory, "no quote history")
		}
		if s.RecentMisses > 0 {
			add(-min(s.RecentMisses*pointsPerMiss, maxMissPenalty), fmt.Sprintf("%d SLA misses in 30 days", s.RecentMisses))
		}
		if now.Sub(s.JoinedAt) < NewSupplierWindow {
			add(pointsNewSupplier, "new supplier")
		}
		if s.RatingsCount > 0 {
			add(int(math.Round(s.Rating*pointsPerRatingStar)), fmt.Sprintf("rated %.1f", s.Rating))
		}
		if s.Verified {
			add(PointsVerified, "verified")
		}
		list = append(list, scored{Candidate: s, score: score, reason: strings.Join(parts, ", ")})
	}
	slices.SortFunc(list, func(a, b scored) int {
		return cmp.Or(
			cmp.Compare(b.score, a.score),
			cmp.Compare(a.RecentMisses, b.RecentMisses),
			compareResponse(a.Candidate, b.Candidate),
			cmp.Compare(b.Rating, a.Rating),
			cmp.Compare(a.OrgID, b.OrgID),
		)
	})
	if c.Limit > 0 && len(list) > c.Limit {
		list = list[:c.Limit]
	}
	for _, s := range list {
		ranked = append(ranked, Ranked{OrgID: s.OrgID, Name: s.Name, Tier: s.Tier, Verified: s.Verified, Score: s.score, Reason: fmt.Sprintf("%s: %s = %d", s.Name, s.reason, s.score)})
	}
	return ranked, excluded
}

// compareResponse puts the faster median response first, and suppliers
// without one after those with one.
func compareResponse(a, b Candidate) int {
	switch {
	case a.HasResponse && b.HasResponse:
		return cmp.Compare(a.MedianResponse, b.MedianResponse)
	case a.HasResponse:
		return -1
	case b.HasResponse:
		return 1
	}
	return 0
}

func missingCerts(want, have []string) []string {
	var missing []string
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			missing = append(missing, w)
		}
	}
	return missing
}

// matchingRegion returns the first of the supplier's regions the buyer
// prefers, "" for none.
func matchingRegion(want, have []string) string {
	for _, h := range have {
		country, _, _ := strings.Cut(h, "-")
		for _, w := range want {
			if w == h || w == country {
				return h
			}
		}
	}
	return ""
}

// Dispatch ranks the suppliers of a category for an inquiry. explanation
// sums the choice up for the deal's timeline.
func (m *Market) Dispatch(ctx context.Context, c DispatchCriteria) (ranked []Ranked, explanation string, err error) {
	now := m.now()
	rows, err := store.New(m.db).DispatchCandidates(ctx, store.DispatchCandidatesParams{
		Category: c.Category, StatsSince: now.Add(-StatsWindow), MissesSince: now.Add(-MissWindow),
	})
	if err != nil {
		return nil, "", fmt.Errorf("dispatch candidates for %s: %w", c.Category, err)
	}
	// A category that asks for a security deposit (internal/deposits)
	// invites only suppliers who hold it: the others would be refused
	// their quote.
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.OrgID
	}
	lacking, err := store.New(m.db).SuppliersWithoutDeposit(ctx, store.SuppliersWithoutDepositParams{OrgIds: ids, Category: c.Category})
	if err != nil {
		return nil, "", fmt.Errorf("security deposits in %s: %w", c.Category, err)
	}
	var noDeposit []string
	rows = slices.DeleteFunc(rows, func(r store.DispatchCandidatesRow) bool {
		if slices.Contains(lacking, r.OrgID) {
			noDeposit = append(noDeposit, r.Name)
			return true
		}
		return false
	})
	cands := make([]Candidate, len(rows))
	for i, r := range rows {
		cands[i] = Candidate{
			OrgID: r.OrgID.String(), Name: r.Name, JoinedAt: r.JoinedAt, Tier: r.Tier,
			Regions: r.ProductRegions, Certifications: r.Certifications, Rating: r.Rating,
			RatingsCount: int(r.RatingsCount), Answered: int(r.Answered), Late: int(r.Late), RecentMisses: int(r.RecentMisses),
			Verified: r.Verified,
		}
		if r.MedianResponseSecs != nil {
			cands[i].MedianResponse, cands[i].HasResponse = time.Duration(*r.MedianResponseSecs)*time.Second, true
		}
	}
	ranked, excluded := Rank(now, c, cands)
	explanation = fmt.Sprintf("%d suppliers sell in %q; ranked by tier, region, quoting in time, recent SLA misses, new-supplier boost, rating and verification", len(cands), c.Category)
	if len(excluded) > 0 {
		explanation += "; excluded for missing certifications: " + strings.Join(excluded, "; ")
	}
	if len(noDeposit) > 0 {
		explanation += "; excluded for holding no security deposit: " + strings.Join(noDeposit, "; ")
	}
	return ranked, explanation, nil
}
