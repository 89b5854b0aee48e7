package api

import (
	"fmt"
	"github.com/tradeloop/tradeloop/workflows"
	"strings"
	"testing"
	"time"
)

// Every text field of every route that takes one refuses NUL and other
// control characters, and text past its limit, with 422 naming the field;
// nothing reaches the deal.
func TestControlCharactersAndOverlongTextAre422OnEveryRoute(t *testing.T) {
	p := newPlatform(t)
	id := p.newDeal(false, "supplier")
	before := string(p.do("buyer", "GET", p.path(id, "/timeline"), nil).body)
	supplier := p.orgs["supplier"].String()
	inquiry := func(field string, v any) map[string]any {
		b := map[string]any{"product": "bolts", "quantity": 10, "currency": "USD", "suppliers": []string{supplier}}
		b[field] = v
		return b
	}
	quote := func(note string) map[string]any {
		return map[string]any{"tiers": []map[string]any{{"min_quantity": 1, "unit_price": 5}}, "lead_time_days": 5,
			"valid_till": time.Now().Add(time.Hour), "note": note}
	}
	type field struct {
		who, path, name string
		body            func(string) any
	}
	with := func(key string, extra map[string]any) func(string) any {
		return func(v string) any {
			b := map[string]any{key: v}
			for k, x := range extra {
				b[k] = x
			}
			return b
		}
	}
	fields := []field{
		{"buyer", "/v1/deals", "product", func(v string) any { return inquiry("product", v) }},
		{"buyer", "/v1/deals", "unit", func(v string) any { return inquiry("unit", v) }},
		{"buyer", "/v1/deals", "destination", func(v string) any { return inquiry("destination", v) }},
		{"buyer", "/v1/deals", "incoterm", func(v string) any { return inquiry("incoterm", v) }},
		{"buyer", "/v1/deals", "specs", func(v string) any { return inquiry("specs", v) }},
		{"buyer", "/v1/deals", "certifications", func(v string) any {
			b := inquiry("category", "fasteners")
			delete(b, "suppliers")
			b["certifications"] = []string{v}
			return b
		}},
		{"supplier", p.path(id, "/quotes"), "note", func(v string) any { return quote(v) }},
		{"supplier", p.path(id, "/quotes/decline"), "reason", with("reason", nil)},
		{"buyer", p.path(id, "/counter-offers"), "message", with("message", map[string]any{"supplier_id": supplier, "target_unit_price": 3})},
		{"buyer", p.path(id, "/sample/request"), "note", with("note", nil)},
		{"supplier", p.path(id, "/sample/ship"), "carrier", with("carrier", map[string]any{"tracking_number": "T1"})},
		{"supplier", p.path(id, "/sample/ship"), "tracking_number", with("tracking_number", map[string]any{"carrier": "dhl"})},
		{"buyer", p.path(id, "/sample/approve"), "note", with("note", nil)},
		{"buyer", p.path(id, "/sample/reject"), "reason", with("reason", nil)},
		{"supplier", p.path(id, "/production"), "note", with("note", map[string]any{"percent": 10})},
		{"supplier", p.path(id, "/ready"), "note", with("note", nil)},
		{"supplier", p.path(id, "/shipment"), "carrier", with("carrier", map[string]any{"tracking_number": "T1"})},
		{"supplier", p.path(id, "/shipment"), "tracking_number", with("tracking_number", map[string]any{"carrier": "dhl"})},
		{"supplier", p.path(id, "/shipment/tracking"), "tracking_number", with("tracking_number", map[string]any{"carrier": "dhl", "kind": "goods"})},
		{"buyer", p.path(id, "/accept"), "note", with("note", nil)},
		{"buyer", p.path(id, "/dispute"), "reason", with("reason", nil)},
		{"buyer", p.path(id, "/dispute"), "remedy", with("remedy", map[string]any{"reason": "late"})},
		{"buyer", p.path(id, "/dispute"), "evidence", func(v string) any { return map[string]any{"reason": "late", "evidence": []string{"photo-1.jpg", v}} }},
		{"supplier", p.path(id, "/dispute/answer"), "message", with("message", nil)},
		{"buyer", p.path(id, "/dispute/proposals"), "note", with("note", map[string]any{"release_amount": 1})},
		{"buyer", p.path(id, "/dispute/escalate"), "note", with("note", nil)},
		{"mediator", p.path(id, "/dispute/decision"), "note", with("note", map[string]any{"outcome": "refund"})},
		{"buyer", p.path(id, "/cancel"), "note", with("note", nil)},
		{"buyer", p.path(id, "/rating"), "comment", with("comment", map[string]any{"stars": 4})},
	}
	hostile := map[string]string{
		"NUL":             "ok\x00",
		"escape":          "ok\x1b[31m",
		"carriage return": "ok\r",
		"DEL":             "ok\x7f",
		"C1 control":      "ok\u0085",
		"too long":        strings.Repeat("长", 10_001),
	}
	for _, f := range fields {
		for what, v := range hostile {
			r := p.do(f.who, "POST", f.path, f.body(v))
			if r.status != 422 || r.errCode() != "invalid" || !strings.Contains(string(r.body), fmt.Sprintf(`"field":%q`, f.name)) {
				t.Errorf("%s %s with %s in %s: %d %.200s, want 422 naming %s", f.who, f.path, what, f.name, r.status, r.body, f.name)
			}
		}
	}
	if after := string(p.do("buyer", "GET", p.path(id, "/timeline"), nil).body); after != before {
		t.Errorf("hostile text reached the deal's timeline:\nbefore %s\nafter  %s", before, after)
	}
	var page struct{ Deals []any }
	p.must(200, p.do("buyer", "GET", "/v1/deals", nil)).json(t, &page)
	if len(page.Deals) != 1 {
		t.Errorf("hostile inquiries made %d deals", len(page.Deals)-1)
	}
}

// With the worker gone, an action answers 503 with Retry-After, not 500,
// while the deal can still be read: the read model answers reads.
func TestDealServiceDownIs503WithRetryAfter(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.DealTimeout = 2 * time.Second })
	id := p.newDeal(false, "supplier")
	p.worker.Stop() // the deal is in the read model (newDeal)
	var st workflows.DealState
	p.must(200, p.do("buyer", "GET", p.path(id, ""), nil)).json(t, &st)
	if st.DealID != id || st.Stage != workflows.StageQuoting {
		t.Errorf("with the worker down, the deal reads %s at %s", st.DealID, st.Stage)
	}
	r := p.do("buyer", "POST", p.path(id, "/cancel"), map[string]any{"note": "changed plans"})
	if r.status != 503 || r.errCode() != "unavailable" || r.header.Get("Retry-After") == "" {
		t.Errorf("an action with the worker down: %d %s Retry-After %q, want 503 unavailable with Retry-After", r.status, r.errCode(), r.header.Get("Retry-After"))
	}
}
