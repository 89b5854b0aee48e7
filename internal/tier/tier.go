// Package tier is the one home of the supplier tiers: their order, the
// commission each pays, how much each boosts a supplier in search and in
// dispatch, and what a supplier must show to hold it.
package tier

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Tier is a supplier's standing on the platform.
type Tier string

// The tiers.
const (
	Bronze   Tier = "bronze"
	Silver   Tier = "silver"
	Gold     Tier = "gold"
	Platinum Tier = "platinum"
)

// All lists the tiers, lowest first. The suppliers table's CHECK
// constraint allows these (a test holds the two together).
var All = []Tier{Bronze, Silver, Gold, Platinum}

// terms are what a tier pays and gets.
type terms struct {
	commissionBP int64   // the platform's commission, in basis points: higher tiers pay less
	boost        float64 // multiplies a supplier's products' search relevance
	points       int     // added to a supplier's dispatch score
}

var termsOf = map[Tier]terms{
	Bronze:   {commissionBP: 500, boost: 1.0, points: 0},
	Silver:   {commissionBP: 300, boost: 1.1, points: 10},
	Gold:     {commissionBP: 200, boost: 1.2, points: 20},
	Platinum: {commissionBP: 100, boost: 1.3, points: 30},
}

// Parse returns the tier named s, and whether s names one.
func Parse(s string) (Tier, bool) {
	t := Tier(s)
	_, ok := termsOf[t]
	return t, ok
}

// Valid reports whether s names a tier.
func Valid(s string) bool { _, ok := Parse(s); return ok }

// Of returns the tier named s; an empty or unknown name is Bronze, the
// tier a supplier starts in.
func Of(s string) Tier {
	if t, ok := Parse(s); ok {
		return t
	}
	return Bronze
}

// Names lists the tiers' names, lowest first, for messages.
func Names() string {
	names := make([]string, len(All))
	for i, t := range All {
		names[i] = string(t)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// CommissionBasisPoints is the platform's commission on a deal with a
// supplier of this tier.
func (t Tier) CommissionBasisPoints() int64 { return termsOf[Of(string(t))].commissionBP }

// SearchBoost is how much the tier multiplies a supplier's products'
// relevance.
func (t Tier) SearchBoost() float64 { return termsOf[Of(string(t))].boost }

// DispatchPoints is what the tier adds to a supplier's dispatch score.
func (t Tier) DispatchPoints() int { return termsOf[Of(string(t))].points }

// BoostSQL is SearchBoost as an SQL expression over a text column holding
// the tier.
func BoostSQL(column string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "(CASE %s", column)
	for _, t := range All {
		if t == Bronze {
			continue
		}
		fmt.Fprintf(&b, " WHEN '%s' THEN %s", t, strconv.FormatFloat(t.SearchBoost(), 'f', -1, 64))
	}
	fmt.Fprintf(&b, " ELSE %s END)::float8", strconv.FormatFloat(Bronze.SearchBoost(), 'f', 1, 64))
	return b.String()
}

// Rule is what a supplier must show to hold a tier; each tier's rule
// includes the ones below it being met.
type Rule struct {
	Tier          Tier
	MinGMV        int64 // minor units of the tier currency
	MinRating     float64
	MinRatings    int
	MinOnTimePct  int
	MaxResponse   time.Duration
	MaxRecentMiss int
}

// Rules lists the rules, highest tier first. Bronze asks for nothing.
var Rules = []Rule{
	{Tier: Platinum, MinGMV: 100_000_000, MinRating: 4.5, MinRatings: 10, MinOnTimePct: 95, MaxResponse: 30 * time.Minute, MaxRecentMiss: 0},
	{Tier: Gold, MinGMV: 25_000_000, MinRating: 4.0, MinRatings: 5, MinOnTimePct: 90, MaxResponse: time.Hour, MaxRecentMiss: 1},
	{Tier: Silver, MinGMV: 5_000_000, MinRating: 3.5, MinRatings: 1, MinOnTimePct: 80, MaxResponse: 2 * time.Hour, MaxRecentMiss: 3},
}
