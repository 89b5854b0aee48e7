package api

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/workflows"
)

// A dispute that reaches mediation is assigned to one mediator, the least
// busy: only that mediator lists it, reads it and decides it; another
// mediator gets 404s and cannot take it. An admin reassigns it to another
// mediator (only to a mediator), and the first then loses it.
func TestADisputeIsSeenAndDecidedByTheMediatorItIsAssignedTo(t *testing.T) {
	p := newPlatform(t)
	p.addUser("mediator2", "mediator", "")
	escalated := func(tracking string) string {
		id := p.delivered(tracking)
		p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/dispute"), map[string]any{"reason": "wrong colour"}))
		p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/dispute/escalate"), nil))
		return id
	}
	first := escalated("GOODS-M1")
	// The first goes to the mediator made first; the second, while the
	// first is open, to the one with no case.
	if st := p.deal("mediator", first); st.Dispute == nil || st.Dispute.MediatorID != p.users["mediator"].String() {
		t.Fatalf("the first dispute is assigned to %+v", st.Dispute)
	}
	second := escalated("GOODS-M2")
	told := func(id string) []string {
		rows, err := p.pool.Query(context.Background(), `SELECT r.email FROM notification_recipients r JOIN notification_outbox n USING (key)
			WHERE n.deal_id = $1 AND n.kind = 'mediation_needed' ORDER BY n.created_at, r.email`, id)
		if err != nil {
			t.Fatal(err)
		}
		emails, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return emails
	}
	// Each mediator is told of its own dispute only.
	if got := told(first); !slices.Equal(got, []string{"mediator@example.com"}) {
		t.Errorf("told of the first dispute: %v", got)
	}
	if got := told(second); !slices.Equal(got, []string{"mediator2@example.com"}) {
		t.Errorf("told of the second dispute: %v", got)
	}
	lists := func(who string) []string {
		var page struct{ Deals []struct{ ID string } }
		p.must(http.StatusOK, p.do(who, "GET", "/v1/deals", nil)).json(t, &page)
		var ids []string
		for _, d := range page.Deals {
			ids = append(ids, d.ID)
		}
		return ids
	}
	for who, want := range map[string]string{"mediator": first, "mediator2": second} {
		if got := lists(who); len(got) != 1 || got[0] != want {
			t.Errorf("%s lists %v, want only %s", who, got, want)
		}
	}
	p.must(http.StatusNotFound, p.do("mediator2", "GET", p.path(first, ""), nil))
	p.must(http.StatusNotFound, p.do("mediator2", "GET", p.path(first, "/timeline"), nil))
	p.must(http.StatusNotFound, p.do("mediator2", "POST", p.path(first, "/dispute/decision"), map[string]any{"outcome": "release"}))
	p.must(http.StatusNotFound, p.do("mediator2", "POST", p.path(first, "/dispute/mediator"), map[string]any{}))
	p.must(http.StatusForbidden, p.do("mediator", "POST", p.path(first, "/dispute/mediator"), map[string]any{"mediator_id": p.users["mediator2"].String()}))
	for _, who := range []string{"buyer", "supplier", "finance"} {
		p.must(http.StatusForbidden, p.do(who, "POST", p.path(first, "/dispute/mediator"), map[string]any{"mediator_id": p.users["mediator2"].String()}))
	}

	// The admin reassigns the first dispute, to a mediator only.
	for name, body := range map[string]map[string]any{
		"a buyer":      {"mediator_id": p.users["buyer"].String()},
		"no one":       {"mediator_id": ""},
		"not an ID":    {"mediator_id": "mediator2\x00"},
		"someone made": {"mediator_id": "00000000-0000-0000-0000-000000000000"},
	} {
		if res := p.do("admin", "POST", p.path(first, "/dispute/mediator"), body); res.status != http.StatusUnprocessableEntity {
			t.Errorf("assigning to %s: %d %s", name, res.status, res.body)
		}
	}
	p.must(http.StatusNotFound, p.do("admin", "POST", p.path("no-such-deal", "/dispute/mediator"), map[string]any{"mediator_id": p.users["mediator2"].String()}))
	p.must(http.StatusOK, p.do("admin", "POST", p.path(first, "/dispute/mediator"), map[string]any{"mediator_id": p.users["mediator2"].String()}))
	p.must(http.StatusConflict, p.do("admin", "POST", p.path(first, "/dispute/mediator"), map[string]any{"mediator_id": p.users["mediator2"].String()}))
	if got := told(first); !slices.Equal(got, []string{"mediator@example.com", "mediator2@example.com"}) {
		t.Errorf("told of the reassigned dispute: %v", got)
	}
	p.must(http.StatusNotFound, p.do("mediator", "GET", p.path(first, ""), nil))
	p.must(http.StatusNotFound, p.do("mediator", "POST", p.path(first, "/dispute/decision"), map[string]any{"outcome": "release"}))
	if got := lists("mediator2"); len(got) != 2 {
		t.Errorf("mediator2 lists %v after the reassignment, want both", got)
	}
	var st workflows.DealState
	p.must(http.StatusOK, p.do("mediator2", "POST", p.path(first, "/dispute/decision"), map[string]any{"outcome": "refund"})).json(t, &st)
	if st.Stage != workflows.StageResolved || st.Dispute.Decision.MediatorID != p.users["mediator2"].String() {
		t.Fatalf("the decision of the mediator assigned: %s %+v", st.Stage, st.Dispute)
	}
	// A deal not in mediation cannot be assigned.
	p.must(http.StatusConflict, p.do("admin", "POST", p.path(first, "/dispute/mediator"), map[string]any{"mediator_id": p.users["mediator"].String()}))
}
