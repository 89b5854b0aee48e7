package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/workflows"
)

// Every route × every role × own/other organization: the expected status
// class of each cell, on a deal in QUOTING that buyer sent to supplier.
// Nobody reaches another organization's deal (404, never 403, so IDs leak
// nothing); a role that may not use a route gets 403; an allowed caller gets
// past authorization (its request may still be refused for its stage or
// values, with 409 or 4xx, but never 401, 403 or 404).
func TestAuthorizationMatrix(t *testing.T) {
	p := newPlatform(t)
	id := p.newDeal(false, "supplier")
	callers := map[string]workflows.Role{
		"buyer": workflows.RoleBuyer, "buyer2": workflows.RoleBuyer, "supplier": workflows.RoleSupplier,
		"supplier2": workflows.RoleSupplier, "mediator": workflows.RoleMediator, "finance": workflows.RoleFinance,
		"admin": workflows.RoleAdmin,
	}
	// Who can see this deal: its buyer, its invited supplier, finance.
	sees := map[string]bool{"buyer": true, "supplier": true, "finance": true}
	// Actions that would end the deal run last, so the other cells see it open.
	routes := (&Server{}).routeTable()
	slices.SortStableFunc(routes, func(a, b route) int {
		last := func(r route) int {
			if r.op == "cancelDeal" {
				return 1
			}
			return 0
		}
		return last(a) - last(b)
	})
	for _, r := range routes {
		path := "/v1" + strings.NewReplacer(":id", id, ":qid", "q1", ":pid", "p1", ":step", "deposit",
			":account", "escrow:"+id, ":org", p.orgs["buyer"].String(), ":user", "me", ":key", uuid.NewString()).Replace(r.path)
		if r.op == "exportLedger" {
			path += "?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z"
		}
		onDeal := strings.Contains(r.path, ":id")
		var body any
		if r.method == http.MethodPost {
			body = "{}"
		}
		if got := p.do("", r.method, path, body).status; got != http.StatusUnauthorized {
			t.Errorf("%s %s without a key: %d, want 401", r.method, r.path, got)
		}
		for who, role := range callers {
			if r.op == "cancelDeal" && who == "buyer" {
				continue // would end the deal for the cells after it; covered by other tests
			}
			resp := p.do(who, r.method, path, body)
			got, code := resp.status, resp.errCode()
			allowed := len(r.roles) == 0 || slices.Contains(r.roles, role)
			// Finance's and admins' own routes on a deal (the override, an
			// admin's assignment of a mediator) see every deal.
			seen := sees[who] || (onDeal && allowed && slices.Equal(r.roles, analysts)) || (r.op == "assignMediator" && who == "admin")
			switch {
			case !allowed:
				if got != http.StatusForbidden || code != "forbidden" {
					t.Errorf("%s %s as %s: %d %s, want 403 forbidden", r.method, r.path, who, got, code)
				}
			case onDeal && !seen:
				if got != http.StatusNotFound || code != "not_found" {
					t.Errorf("%s %s as %s (not its deal): %d %s, want 404 not_found", r.method, r.path, who, got, code)
				}
			default:
				// Past authorization: the deal's own rules may still refuse
				// (409 wrong_stage, 403 not_allowed for a party rule, 404
				// item_not_found for an unknown quote), never the gate.
				if got == http.StatusUnauthorized || code == "forbidden" || code == "not_found" || got >= 500 {
					t.Errorf("%s %s as %s: %d %s, want past authorization", r.method, r.path, who, got, code)
				}
			}
		}
	}
	// Other buyers and suppliers do not see it in their lists either.
	for _, who := range []string{"buyer2", "supplier2"} {
		var page struct{ Deals []struct{ ID string } }
		p.must(200, p.do(who, "GET", "/v1/deals", nil)).json(t, &page)
		for _, d := range page.Deals {
			if d.ID == id {
				t.Errorf("%s lists another organization's deal", who)
			}
		}
	}
}
