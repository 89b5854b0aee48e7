package workflows

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/tradeloop/tradeloop/activities"
)

func TestDispatchedInquiryExplainsItsRankingAndRedispatchOrder(t *testing.T) {
	h := newHarness(t)
	in := dealInput()
	in.Suppliers = []Supplier{
		{OrgID: supA.OrgID, Tier: "gold", Reason: "A: gold +20 = 20"},
		{OrgID: supB.OrgID, Tier: "silver", Reason: "B: silver +10 = 10"},
	}
	in.Dispatch = `2 suppliers sell in "fasteners"`
	h.update(3*time.Hour, "quote b", UpdateSubmitQuote, h.quote(supB))
	h.update(4*time.Hour, "cancel", UpdateCancel, ActorInput{Actor: buyer})
	st := h.run(in)
	h.ok("quote b", "cancel")

	var ranked, invited []string
	for _, e := range st.Timeline {
		switch e.Type {
		case "suppliers_ranked":
			ranked = append(ranked, e.Detail)
		case "supplier_invited":
			invited = append(invited, e.Actor+": "+e.Detail)
		}
	}
	if len(ranked) != 1 || ranked[0] != in.Dispatch {
		t.Fatalf("suppliers_ranked events %q", ranked)
	}
	// A is invited first; when A misses the 2-hour SLA, B, next on the
	// list, is invited, and the timeline says why each came when it did.
	if len(invited) != 2 ||
		!strings.HasPrefix(invited[0], "sup-a: dispatch rank 1 of 2 (A: gold +20 = 20); quote due by 2026-03-02T11:00:00Z") ||
		!strings.HasPrefix(invited[1], "sup-b: dispatch rank 2 of 2 (B: silver +10 = 10); quote due by 2026-03-02T13:00:00Z") {
		t.Fatalf("invitations in the timeline: %q", invited)
	}
}

// fakeTiers records the time each recalculation was asked for.
type fakeTiers struct{ asOf []time.Time }

func (f *fakeTiers) RecalculateTiers(_ context.Context, asOf time.Time) (activities.TierSummary, error) {
	f.asOf = append(f.asOf, asOf)
	return activities.TierSummary{Suppliers: 3, Changes: []activities.TierChange{{OrgID: "s1", From: "bronze", To: "gold", CommissionBP: 200}}}, nil
}

func TestSupplierTiersRecalculatesAsOfTheRunStart(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := newTestEnv(&s)
	start := time.Date(2026, 3, 2, 2, 30, 0, 0, time.UTC)
	env.SetStartTime(start)
	tiers := &fakeTiers{}
	env.RegisterWorkflow(SupplierTiers)
	env.RegisterActivity(&activities.Activities{Tiers: tiers})
	env.ExecuteWorkflow(SupplierTiers)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var sum activities.TierSummary
	if err := env.GetWorkflowResult(&sum); err != nil {
		t.Fatal(err)
	}
	if len(tiers.asOf) != 1 || !tiers.asOf[0].Equal(start) {
		t.Fatalf("recalculated as of %v, want once as of %v", tiers.asOf, start)
	}
	if sum.Suppliers != 3 || len(sum.Changes) != 1 || sum.Changes[0].To != "gold" {
		t.Fatalf("summary %+v", sum)
	}
}
