package api

import (
	"bytes"
	"errors"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestBadInputIsA4xxAndChangesNothing(t *testing.T) {
	p := newPlatform(t)
	id := p.newDeal(false, "supplier")
	before := string(p.do("buyer", "GET", p.path(id, ""), nil).body)
	supplier := p.orgs["supplier"].String()
	deal := func(over map[string]any) map[string]any {
		b := map[string]any{"product": "bolts", "quantity": 10, "currency": "USD", "suppliers": []string{supplier}}
		for k, v := range over {
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
		}
		return b
	}
	cases := []struct {
		name, who, method, path string
		body                    any
		status                  int
		code                    string
	}{
		{"malformed JSON", "buyer", "POST", "/v1/deals", `{"product": "bolts",`, 400, "malformed"},
		{"not an object", "buyer", "POST", "/v1/deals", `[1,2]`, 400, "malformed"},
		{"two objects", "buyer", "POST", "/v1/deals", `{} {}`, 400, "malformed"},
		{"wrong type", "buyer", "POST", "/v1/deals", deal(map[string]any{"quantity": "ten"}), 400, "malformed"},
		{"unknown field", "buyer", "POST", "/v1/deals", deal(map[string]any{"price": 1}), 400, "malformed"},
		{"missing product", "buyer", "POST", "/v1/deals", deal(map[string]any{"product": nil}), 422, "invalid"},
		{"missing suppliers", "buyer", "POST", "/v1/deals", deal(map[string]any{"suppliers": nil}), 422, "invalid"},
		{"negative quantity", "buyer", "POST", "/v1/deals", deal(map[string]any{"quantity": -5}), 422, "invalid"},
		{"overflowing quantity", "buyer", "POST", "/v1/deals", `{"product":"b","quantity":99999999999999999999,"currency":"USD","suppliers":["` + supplier + `"]}`, 400, "malformed"},
		{"negative target price", "buyer", "POST", "/v1/deals", deal(map[string]any{"target_unit_price": -1}), 422, "invalid"},
		{"unknown currency", "buyer", "POST", "/v1/deals", deal(map[string]any{"currency": "XXX"}), 422, "invalid"},
		{"lowercase currency", "buyer", "POST", "/v1/deals", deal(map[string]any{"currency": "usd"}), 422, "invalid"},
		{"supplier not on platform", "buyer", "POST", "/v1/deals", deal(map[string]any{"suppliers": []string{p.orgs["buyer2"].String()}}), 422, "invalid"},
		{"oversize body", "buyer", "POST", "/v1/deals", `{"specs":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "too_large"},
		{"unknown deal", "buyer", "GET", "/v1/deals/00000000-0000-0000-0000-000000000000", nil, 404, "not_found"},
		{"junk deal ID", "buyer", "GET", "/v1/deals/..%2f..", nil, 404, "not_found"},
		{"wrong stage", "buyer", "POST", p.path(id, "/accept"), nil, 409, "wrong_stage"},
		{"pay before contract", "buyer", "POST", p.path(id, "/payments/deposit"), nil, 409, "wrong_stage"},
		{"unknown payment step", "buyer", "POST", p.path(id, "/payments/tip"), nil, 422, "invalid"},
		{"negative unit price", "supplier", "POST", p.path(id, "/quotes"), map[string]any{"tiers": []map[string]any{{"min_quantity": 1, "unit_price": -1}}, "lead_time_days": 5, "valid_till": time.Now().Add(time.Hour)}, 422, "invalid"},
		{"overflowing total", "supplier", "POST", p.path(id, "/quotes"), map[string]any{"tiers": []map[string]any{{"min_quantity": 1, "unit_price": int64(9e17)}}, "lead_time_days": 5, "valid_till": time.Now().Add(time.Hour)}, 422, "invalid"},
		{"quote in the past", "supplier", "POST", p.path(id, "/quotes"), map[string]any{"tiers": []map[string]any{{"min_quantity": 1, "unit_price": 5}}, "lead_time_days": 5, "valid_till": time.Now().Add(-time.Hour)}, 422, "invalid"},
		{"bad list limit", "buyer", "GET", "/v1/deals?limit=0", nil, 422, "invalid"},
		{"bad cursor", "buyer", "GET", "/v1/deals?cursor=zz", nil, 422, "invalid"},
		{"bad export range", "finance", "GET", "/v1/ledger/export.csv?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", nil, 422, "invalid"},
		{"bad account", "finance", "GET", "/v1/ledger/accounts/nope", nil, 422, "invalid"},
		{"no such route", "buyer", "GET", "/v1/nothing", nil, 404, "not_found"},
	}
	for _, c := range cases {
		r := p.do(c.who, c.method, c.path, c.body)
		if r.status != c.status || r.errCode() != c.code {
			t.Errorf("%s: %d %s, want %d %s: %.200s", c.name, r.status, r.errCode(), c.status, c.code, r.body)
		}
		if bytes.Contains(r.body, []byte("pgx")) || bytes.Contains(r.body, []byte("sql")) || bytes.Contains(r.body, []byte("temporal")) {
			t.Errorf("%s: internal detail in %s", c.name, r.body)
		}
	}
	if after := string(p.do("buyer", "GET", p.path(id, ""), nil).body); after != before {
		t.Errorf("bad input changed the deal:\nbefore %s\nafter  %s", before, after)
	}
	var page struct{ Deals []any }
	p.must(200, p.do("buyer", "GET", "/v1/deals", nil)).json(t, &page)
	if len(page.Deals) > 1 {
		t.Errorf("bad inquiries created %d deals", len(page.Deals)-1)
	}
}

func TestIdempotencyKeyReplaysTheFirstResponse(t *testing.T) {
	p := newPlatform(t)
	body := map[string]any{"product": "bolts", "quantity": 10, "currency": "EUR", "suppliers": []string{p.orgs["supplier"].String()}}
	first := p.must(201, p.do("buyer", "POST", "/v1/deals", body, "Idempotency-Key", "k-1"))
	again := p.must(201, p.do("buyer", "POST", "/v1/deals", body, "Idempotency-Key", "k-1"))
	if !bytes.Equal(first.body, again.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("repeat was not a replay:\n%s\n%s", first.body, again.body)
	}
	if a, b := first.header.Get("Content-Type"), again.header.Get("Content-Type"); a != b || a != "application/json" {
		t.Fatalf("the replay's Content-Type %q, the first answer's %q", b, a)
	}
	body["quantity"] = 11
	if r := p.do("buyer", "POST", "/v1/deals", body, "Idempotency-Key", "k-1"); r.status != 422 || r.errCode() != "idempotency_key_reused" {
		t.Fatalf("same key, other body: %d %s", r.status, r.body)
	}
	// Keys are per user: another buyer's k-1 is its own.
	p.must(201, p.do("buyer2", "POST", "/v1/deals", body, "Idempotency-Key", "k-1"))
	var page struct{ Deals []any }
	p.must(200, p.do("buyer", "GET", "/v1/deals", nil)).json(t, &page)
	if len(page.Deals) > 1 {
		t.Fatalf("%d deals from one idempotent request", len(page.Deals))
	}
}

func TestRateLimitPerKey(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.RateLimit, d.RateBurst = 0.001, 3 })
	codes := map[int]int{}
	for range 5 {
		codes[p.do("buyer", "GET", "/v1/deals", nil).status]++
	}
	if codes[200] != 3 || codes[429] != 2 {
		t.Fatalf("statuses %v, want 3×200 then 2×429", codes)
	}
	if r := p.do("supplier", "GET", "/v1/deals", nil); r.status != 200 {
		t.Fatalf("another key was limited too: %d", r.status)
	}
}

func TestMetricsDocsAndOpenAPICoverEveryRoute(t *testing.T) {
	p := newPlatform(t)
	p.do("buyer", "GET", "/v1/deals", nil)
	resp, err := http.Get(p.metricsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(buf.String(), `tradeloop_http_requests_total{method="GET",route="/v1/deals",status="200"} 1`) {
		t.Fatalf("metrics lack the request count:\n%.2000s", buf.String())
	}
	docs, _ := http.Get(p.url + "/docs")
	buf.Reset()
	_, _ = buf.ReadFrom(docs.Body)
	docs.Body.Close()
	for _, r := range (&Server{}).routeTable() {
		if _, _, err := p.router.FindRoute(mustRequest(r.method, p.url+"/v1"+strings.NewReplacer(":id", "x", ":qid", "q", ":pid", "p", ":step", "deposit", ":account", "a:b", ":org", "o", ":user", "me", ":key", "k").Replace(r.path))); err != nil {
			t.Errorf("%s %s is served but not in /openapi.json", r.method, r.path)
		}
		if !strings.Contains(buf.String(), html.EscapeString(r.summary)) {
			t.Errorf("/docs lacks %s", r.op)
		}
	}
}

func mustRequest(method, url string) *http.Request {
	r, err := http.NewRequest(method, url, nil)
	if err != nil {
		panic(err)
	}
	return r
}

// FuzzDecodeCreateDeal: whatever bytes arrive, decoding answers a 400 in the
// error shape or a request that validation then judges; it never panics.
func FuzzDecodeCreateDeal(f *testing.F) {
	f.Add([]byte(`{"product":"bolts","quantity":10,"currency":"USD","suppliers":["8c6f1b4e-5f0e-4a53-9a53-1f4b8f7a2d11"]}`))
	f.Add([]byte(`{"quantity":1e400}`))
	f.Add([]byte(`{"suppliers":[null]}`))
	f.Add([]byte(`{} {}`))
	f.Add([]byte("\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r CreateDealRequest
		err := decodeBytes(b, &r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("decode error %v is not a 400 *Error", err)
			}
			return
		}
		if err := r.validate(); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusUnprocessableEntity {
				t.Fatalf("validation error %v is not a 422 *Error", err)
			}
		}
	})
}
