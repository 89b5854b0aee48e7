package marketplace_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestRankScoresExplainsAndBreaksTies(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	old := now.AddDate(-2, 0, 0)
	min20 := 20 * time.Minute
	cands := []marketplace.Candidate{
		{OrgID: "b", Name: "B", Tier: "silver", Regions: []string{"VN"}, Certifications: []string{"CE"}, JoinedAt: now.AddDate(0, 0, -10)},
		{OrgID: "f", Name: "F", Tier: "bronze", Regions: []string{"CN"}, Certifications: []string{"CE"}, JoinedAt: old,
			Answered: 10, MedianResponse: min20, HasResponse: true},
		{OrgID: "e", Name: "E", Tier: "gold", Regions: []string{"CN"}, Certifications: []string{"CE"}, JoinedAt: old,
			Answered: 5, Late: 5, RecentMisses: 3, Rating: 5, RatingsCount: 1, MedianResponse: min20, HasResponse: true},
		{OrgID: "c", Name: "C", Tier: "platinum", Regions: []string{"CN"}, JoinedAt: old},
		{OrgID: "a", Name: "A", Tier: "gold", Regions: []string{"CN-ZJ"}, Certifications: []string{"ce"}, JoinedAt: old,
			Answered: 9, Late: 1, Rating: 4.5, RatingsCount: 2, MedianResponse: time.Hour, HasResponse: true},
		{OrgID: "d", Name: "D", Tier: "bronze", Regions: []string{"CN-GD"}, Certifications: []string{"CE", "ISO 9001"}, JoinedAt: old,
			Answered: 10, MedianResponse: min20, HasResponse: true},
	}
	ranked, excluded := marketplace.Rank(now, marketplace.DispatchCriteria{Category: "x", Regions: []string{"CN"}, Certifications: []string{"CE"}}, cands)

	var order []string
	scores := map[string]int{}
	for _, r := range ranked {
		order = append(order, r.OrgID)
		scores[r.OrgID] = r.Score
	}
	// A: gold 20 + region 15 + in time 9/10 → 18 + rated 4.5 → 9        = 62
	// D: bronze 0 + region 15 + in time 10/10 → 20                         = 35
	// F: the same as D                                                     = 35
	// B: silver 10 + no region + no history 10 + new supplier 15           = 35
	// E: gold 20 + region 15 + in time 5/10 → 10 − 3 misses 30 + rated 10  = 25
	assert.Equal(t, map[string]int{"a": 62, "d": 35, "f": 35, "b": 35, "e": 25}, scores)
	// At 35: no misses for any; D and F answer in a median 20 min, B never
	// quoted; D and F tie on everything but their ID.
	assert.Equal(t, []string{"a", "d", "f", "b", "e"}, order)
	assert.Equal(t, []string{"C (no CE)"}, excluded)
	assert.Equal(t, "A: gold +20, region CN-ZJ +15, quoted in time 9/10 +18, rated 4.5 +9 = 62", ranked[0].Reason)
	assert.Contains(t, ranked[3].Reason, "new supplier +15")
	assert.Contains(t, ranked[4].Reason, "3 SLA misses in 30 days -30")

	limited, _ := marketplace.Rank(now, marketplace.DispatchCriteria{Category: "x", Regions: []string{"CN"}, Certifications: []string{"CE"}, Limit: 2}, cands)
	assert.Len(t, limited, 2)

	// Misses decide between equal scores before response time does.
	tie := []marketplace.Candidate{
		{OrgID: "slow-clean", Name: "S", Tier: "silver", JoinedAt: old, Answered: 4, Late: 1, MedianResponse: time.Hour, HasResponse: true},
		{OrgID: "fast-missed", Name: "M", Tier: "gold", JoinedAt: old, Answered: 4, Late: 1, RecentMisses: 1, MedianResponse: time.Minute, HasResponse: true},
	}
	ranked, _ = marketplace.Rank(now, marketplace.DispatchCriteria{Category: "x"}, tie)
	require.Equal(t, ranked[0].Score, ranked[1].Score)
	assert.Equal(t, "slow-clean", ranked[0].OrgID)

	// A verified supplier ranks PointsVerified higher than its twin.
	twins := []marketplace.Candidate{
		{OrgID: "plain", Name: "P", Tier: "silver", JoinedAt: old},
		{OrgID: "verified", Name: "V", Tier: "silver", JoinedAt: old, Verified: true},
	}
	ranked, _ = marketplace.Rank(now, marketplace.DispatchCriteria{Category: "x"}, twins)
	assert.Equal(t, []string{"verified", "plain"}, []string{ranked[0].OrgID, ranked[1].OrgID})
	assert.Equal(t, marketplace.PointsVerified, ranked[0].Score-ranked[1].Score)
	assert.Equal(t, "V: silver +10, no quote history +10, verified +10 = 30", ranked[0].Reason)
	assert.True(t, ranked[0].Verified)
}

func TestDispatchReadsCandidatesFromCatalogProfilesAndHistory(t *testing.T) {
	pool := testenv.Postgres(t)
	s := seeder{t, pool}
	old := time.Now().AddDate(-1, 0, 0)
	buyer := s.org("Buyer", "buyer", old)
	// Punctual sells valves by its profile; Missed by its catalog and has
	// missed two quote deadlines this month; Other sells something else.
	punctual := s.supplier("Punctual", "silver", old, []string{"valves"}, []string{"IN"}, []string{"ISO 9001"})
	missed := s.supplier("Missed", "silver", old, nil, nil, nil)
	other := s.supplier("Other", "platinum", old, []string{"textiles"}, nil, []string{"ISO 9001"})
	m := marketplace.New(pool)
	_, _, err := m.SaveProduct(context.Background(), missed, marketplace.ProductInput{SKU: "V1", Name: "Gate valve", Category: "valves",
		Unit: "piece", MOQ: 1, Currency: "USD", PriceTiers: tiers{{1, 100}}, LeadTimeDays: 5, Certifications: []string{"ISO 9001"}, OriginRegion: "IN-MH"})
	require.NoError(t, err)
	for i, inv := range []struct {
		sup    uuid.UUID
		status string
	}{{punctual, "QUOTED"}, {missed, "LATE"}, {missed, "LATE"}, {missed, "QUOTED"}} {
		id := "d" + string(rune('0'+i))
		at := time.Now().Add(-time.Duration(i+1) * 24 * time.Hour)
		s.deal(deal{id: id, buyer: buyer, stage: "QUOTING", category: "valves", currency: "USD", createdAt: at})
		s.invitation(id, inv.sup, inv.status, at)
	}

	ranked, why, err := m.Dispatch(context.Background(), marketplace.DispatchCriteria{
		Category: "valves", Regions: []string{"IN"}, Certifications: []string{"ISO 9001"}, Limit: 10,
	})
	require.NoError(t, err)
	require.Len(t, ranked, 2, "suppliers of other categories are not candidates")
	assert.Equal(t, punctual.String(), ranked[0].OrgID)
	assert.Equal(t, missed.String(), ranked[1].OrgID)
	assert.Contains(t, ranked[1].Reason, "quoted in time 1/3 +7")
	assert.Contains(t, ranked[1].Reason, "2 SLA misses in 30 days -20")
	assert.Contains(t, ranked[1].Reason, "region IN-MH +15", "its product's origin counts as its region")
	assert.True(t, strings.HasPrefix(why, `2 suppliers sell in "valves"`), why)
	_ = other
}
