package tier

import (
	"testing"
)

// Higher tiers pay less commission and rank higher; an unknown or empty
// tier is treated as the starting one.
func TestTiersPayLessAndRankHigherAsTheyRise(t *testing.T) {
	for i := 1; i < len(All); i++ {
		lo, hi := All[i-1], All[i]
		if hi.CommissionBasisPoints() >= lo.CommissionBasisPoints() || hi.SearchBoost() <= lo.SearchBoost() || hi.DispatchPoints() <= lo.DispatchPoints() {
			t.Errorf("%s does not pay less and rank higher than %s", hi, lo)
		}
	}
	for _, s := range []string{"", "diamond", "GOLD", "gold\x00"} {
		if _, ok := Parse(s); ok {
			t.Errorf("Parse(%q) took it", s)
		}
		if got := Of(s); got != Bronze || Tier(s).CommissionBasisPoints() != 500 {
			t.Errorf("Of(%q) = %s, commission %d", s, got, Tier(s).CommissionBasisPoints())
		}
	}
	for tr, want := range map[Tier]int64{Bronze: 500, Silver: 300, Gold: 200, Platinum: 100} {
		if got := tr.CommissionBasisPoints(); got != want {
			t.Errorf("%s pays %d bp, want %d", tr, got, want)
		}
	}
	if Names() != "bronze, silver, gold or platinum" {
		t.Errorf("Names() = %q", Names())
	}
}

func TestBoostSQLIsSearchBoost(t *testing.T) {
	want := "(CASE s.tier WHEN 'silver' THEN 1.1 WHEN 'gold' THEN 1.2 WHEN 'platinum' THEN 1.3 ELSE 1.0 END)::float8"
	if got := BoostSQL("s.tier"); got != want {
		t.Fatalf("BoostSQL = %s", got)
	}
}

func TestEveryTierButBronzeHasARuleHighestFirst(t *testing.T) {
	if len(Rules) != len(All)-1 {
		t.Fatalf("%d rules for %d tiers", len(Rules), len(All))
	}
	for i, r := range Rules {
		if want := All[len(All)-1-i]; r.Tier != want {
			t.Errorf("rule %d is %s, want %s", i, r.Tier, want)
		}
	}
}
