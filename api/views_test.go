package api

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/workflows"
)

// Every read route × every role × (own deal, awarded, invited and lost,
// invited and never quoted, foreign), over HTTP on the real stack: the
// status each caller gets, and that no supplier ever receives another
// supplier's price, note or counter-offer.
func TestReadRoutesShowEachCallerItsOwnBusiness(t *testing.T) {
	p := newPlatform(t)
	id := p.newDeal(false, "supplier", "supplier2", "supplier3")

	// Private figures, each unique in the deal: the two quotes' unit
	// prices and notes, and the buyer's counter-offer to supplier2.
	quote := func(price int, note string) map[string]any {
		return map[string]any{"tiers": []map[string]any{{"min_quantity": 1, "unit_price": price}}, "moq": 1, "lead_time_days": 20,
			"valid_till": time.Now().Add(48 * time.Hour).Format(time.RFC3339), "note": note}
	}
	var st workflows.DealState
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quote(4511, "NOTE-OF-WINNER"))).json(t, &st)
	winner := st.Quotes[0].ID
	resp := p.must(http.StatusOK, p.do("supplier2", "POST", p.path(id, "/quotes"), quote(4733, "NOTE-OF-LOSER")))
	if body := hexIDs.ReplaceAllString(string(resp.body), ""); strings.Contains(body, "4511") || strings.Contains(body, "NOTE-OF-WINNER") {
		t.Fatalf("supplier2's quote answer shows the other supplier's quote: %s", resp.body)
	}
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/counter-offers"),
		map[string]any{"supplier_id": p.orgs["supplier2"].String(), "target_unit_price": 4401, "message": "COUNTER-TO-LOSER"}))

	winnerSecrets := []string{"4511", "NOTE-OF-WINNER"}
	loserSecrets := []string{"4733", "NOTE-OF-LOSER", "4401", "COUNTER-TO-LOSER"}
	check := func(phase string, never map[string][]string, stage map[string]string) {
		t.Helper()
		for _, who := range []string{"supplier", "supplier2", "supplier3"} {
			got := string(p.must(http.StatusOK, p.do(who, "GET", p.path(id, ""), nil)).body)
			if want := stage[who]; !strings.Contains(got, `"stage":"`+want+`"`) {
				t.Errorf("%s: %s sees the deal's stage otherwise than %s: %s", phase, who, want, got)
			}
			for _, path := range []string{"", "/timeline", "/payments", "/tracking"} {
				// IDs and hashes are hex: one may hold a secret's digits
				// by chance.
				body := hexIDs.ReplaceAllString(string(p.must(http.StatusOK, p.do(who, "GET", p.path(id, path), nil)).body), "")
				for _, s := range never[who] {
					if strings.Contains(body, s) {
						t.Errorf("%s: %s reads %q through GET %s", phase, who, s, path)
					}
				}
			}
		}
	}
	check("before the award", map[string][]string{
		"supplier": loserSecrets, "supplier2": winnerSecrets, "supplier3": append(slices.Clone(winnerSecrets), loserSecrets...),
	}, map[string]string{"supplier": "QUOTING", "supplier2": "QUOTING", "supplier3": "QUOTING"})

	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/quotes/"+winner+"/accept"), nil))
	check("after the award", map[string][]string{
		"supplier":  loserSecrets,
		"supplier2": append(slices.Clone(winnerSecrets), p.orgs["supplier"].String(), "terms_sha256"),
		"supplier3": append(append(slices.Clone(winnerSecrets), loserSecrets...), p.orgs["supplier"].String(), "terms_sha256"),
	}, map[string]string{"supplier": "CONTRACT", "supplier2": "CLOSED", "supplier3": "CLOSED"})

	// Statuses: the deal is its buyer's, its invited suppliers' and
	// finance's; nobody else learns that it exists.
	sees := map[string]bool{"buyer": true, "supplier": true, "supplier2": true, "supplier3": true, "finance": true}
	roles := map[string]workflows.Role{
		"buyer": workflows.RoleBuyer, "buyer2": workflows.RoleBuyer, "supplier": workflows.RoleSupplier, "supplier2": workflows.RoleSupplier,
		"supplier3": workflows.RoleSupplier, "mediator": workflows.RoleMediator, "finance": workflows.RoleFinance, "admin": workflows.RoleAdmin,
	}
	// The contract template filled from the deal holds the awarded terms:
	// once awarded, a losing supplier is as an outsider to it.
	losers := map[string]bool{"/deals/:id/contract-template": true}
	for _, r := range (&Server{}).routeTable() {
		if r.method != http.MethodGet || !strings.HasPrefix(r.path, "/deals/:id") {
			continue
		}
		for who, role := range roles {
			want := http.StatusOK
			switch {
			case len(r.roles) > 0 && !slices.Contains(r.roles, role):
				want = http.StatusForbidden
			case !sees[who], losers[r.path] && (who == "supplier2" || who == "supplier3"):
				want = http.StatusNotFound
			}
			if got := p.do(who, "GET", "/v1"+strings.Replace(r.path, ":id", id, 1), nil).status; got != want {
				t.Errorf("GET %s as %s: %d, want %d", r.path, who, got, want)
			}
		}
	}

	// Lists: the losing suppliers' line says only that the inquiry closed.
	for who, stage := range map[string]string{"supplier": "CONTRACT", "supplier2": "CLOSED", "supplier3": "CLOSED", "buyer": "CONTRACT"} {
		raw := p.waitForList(who, id, stage)
		if stage == "CLOSED" && (strings.Contains(raw, p.orgs["supplier"].String()) || strings.Contains(raw, `"total":`+"4511")) {
			t.Errorf("%s's deal list names the winner: %s", who, raw)
		}
	}
	if raw := string(p.must(http.StatusOK, p.do("mediator", "GET", "/v1/deals", nil)).body); strings.Contains(raw, id) {
		t.Errorf("a mediator lists a deal that is in no dispute: %s", raw)
	}
}

// waitForList waits until who's deal list shows the deal at stage (the
// read model follows the workflow) and returns the list's body.
func (p *platform) waitForList(who, id, stage string) string {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		raw := string(p.must(http.StatusOK, p.do(who, "GET", "/v1/deals", nil)).body)
		if strings.Contains(raw, `"id":"`+id+`","stage":"`+stage+`"`) {
			return raw
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s's list never showed deal %s at %s: %s", who, id, stage, raw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A supplier's profile is public without its figures: sales volume and SLA
// record reach only the supplier itself and admins.
func TestSupplierFiguresReachOnlyTheSupplierAndAdmins(t *testing.T) {
	p := newPlatform(t)
	org := p.orgs["supplier"].String()
	if _, err := p.pool.Exec(context.Background(),
		`UPDATE supplier_profiles SET gmv_minor = 987654321, quotes_late = 7, sla_misses_recent = 5 WHERE org_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	for who, figures := range map[string]bool{"supplier": true, "admin": true, "supplier2": false, "buyer": false, "mediator": false, "finance": false} {
		var prof struct {
			Tier    string
			Figures *struct {
				GMVMinor        int64 `json:"gmv_minor"`
				SLAMissesRecent int32 `json:"sla_misses_recent"`
			}
		}
		resp := p.must(http.StatusOK, p.do(who, "GET", "/v1/suppliers/"+org, nil))
		resp.json(t, &prof)
		if prof.Tier != "gold" {
			t.Errorf("%s sees tier %q, want the public gold", who, prof.Tier)
		}
		switch {
		case figures && (prof.Figures == nil || prof.Figures.GMVMinor != 987654321 || prof.Figures.SLAMissesRecent != 5):
			t.Errorf("%s gets figures %+v, want its GMV and SLA misses", who, prof.Figures)
		case !figures && (prof.Figures != nil || strings.Contains(string(resp.body), "987654321")):
			t.Errorf("%s reads the supplier's figures: %s", who, resp.body)
		}
	}
}

// hexIDs match UUIDs, hex digests and timestamps (whose nanoseconds may
// hold a secret's digits by chance).
var hexIDs = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32,}|\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:\d{2})`)
