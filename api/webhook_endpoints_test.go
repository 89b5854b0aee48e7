package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/webhooks"
)

// hookReceiver is an organization's endpoint: it keeps every delivery it
// answered, verified with the endpoint's secret.
type hookReceiver struct {
	t      *testing.T
	mu     sync.Mutex
	secret string
	events []webhooks.Event
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := webhooks.Verify(h.secret, r.Header.Get(webhooks.SignatureHeader), body, 0, time.Now()); err != nil {
		h.t.Errorf("a delivery that does not verify: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var ev webhooks.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		h.t.Errorf("delivery body %s: %v", body, err)
	}
	h.events = append(h.events, ev)
}

func (h *hookReceiver) received() []webhooks.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]webhooks.Event(nil), h.events...)
}

type createdEndpoint struct {
	Endpoint       webhooks.Endpoint
	Secret         string
	SecretWithheld string `json:"secret_withheld"`
}

// An organization registers endpoints and gets its own deals' news there,
// signed; it reads each endpoint's delivery log and replays a delivery;
// another organization sees none of it.
func TestAnOrganizationsWebhooksCarryItsOwnNotifications(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.WebhooksAllowLocal = true })
	sup := &hookReceiver{t: t}
	supSrv := httptest.NewServer(sup)
	defer supSrv.Close()
	buy := &hookReceiver{t: t}
	buySrv := httptest.NewServer(buy)
	defer buySrv.Close()

	var made createdEndpoint
	first := p.must(http.StatusCreated, p.do("supplier", "POST", "/v1/webhooks", map[string]string{"url": supSrv.URL + "/tradeloop", "description": "order system"}, "Idempotency-Key", "hook-1"))
	first.json(t, &made)
	if !strings.HasPrefix(made.Secret, "whsec_") || !made.Endpoint.Enabled || made.Endpoint.URL != supSrv.URL+"/tradeloop" {
		t.Fatalf("created %+v", made)
	}
	sup.secret = made.Secret
	var again createdEndpoint
	p.must(http.StatusCreated, p.do("supplier", "POST", "/v1/webhooks", map[string]string{"url": supSrv.URL + "/tradeloop", "description": "order system"}, "Idempotency-Key", "hook-1")).json(t, &again)
	if again.Secret != "" || again.SecretWithheld == "" || again.Endpoint.ID != made.Endpoint.ID {
		t.Fatalf("the repeat of the registration %+v: want the same endpoint without its secret", again)
	}
	var buyers createdEndpoint
	p.must(http.StatusCreated, p.do("buyer", "POST", "/v1/webhooks", map[string]string{"url": buySrv.URL})).json(t, &buyers)
	buy.secret = buyers.Secret

	list := p.must(http.StatusOK, p.do("supplier", "GET", "/v1/webhooks", nil))
	if strings.Contains(string(list.body), "whsec_") || !strings.Contains(string(list.body), made.Endpoint.ID.String()) || strings.Contains(string(list.body), buyers.Endpoint.ID.String()) {
		t.Fatalf("the supplier's endpoints: %s", list.body)
	}

	id := p.newDeal(false, "supplier")
	p.deliverUntil("supplier", "invited_to_quote")
	hooks := &webhooks.Dispatcher{Pool: p.pool, Client: webhooks.Client(true)}
	if _, err := hooks.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := sup.received()
	if len(got) == 0 {
		t.Fatal("the supplier's endpoint got nothing")
	}
	for _, ev := range got {
		if ev.OrgID != p.orgs["supplier"].String() || ev.DealID != id || ev.Text == "" || !strings.HasPrefix(ev.ID, "evt_") {
			t.Errorf("the supplier's endpoint got %+v", ev)
		}
	}
	for _, ev := range buy.received() {
		if ev.OrgID != p.orgs["buyer"].String() {
			t.Errorf("the buyer's endpoint got another organization's event %+v", ev)
		}
	}

	var page webhooks.DeliveryPage
	p.must(http.StatusOK, p.do("supplier", "GET", "/v1/webhooks/"+made.Endpoint.ID.String()+"/deliveries", nil)).json(t, &page)
	if len(page.Deliveries) != len(got) || page.Deliveries[0].Status != "succeeded" || len(page.Deliveries[0].Attempts) != 1 {
		t.Fatalf("delivery log %+v, want %d delivered once", page, len(got))
	}
	first0 := page.Deliveries[0]
	replay := fmt.Sprintf("/v1/webhooks/%s/deliveries/%s/replay", made.Endpoint.ID, first0.ID)
	p.must(http.StatusAccepted, p.do("supplier", "POST", replay, nil))
	if _, err := hooks.DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	again2 := sup.received()
	if len(again2) != len(got)+1 || again2[len(again2)-1].ID != first0.EventID {
		t.Fatalf("after the replay the endpoint has %d events, the last %+v; want the replayed %s", len(again2), again2[len(again2)-1], first0.EventID)
	}

	// Another organization's party: not found, whatever it tries.
	ep := "/v1/webhooks/" + made.Endpoint.ID.String()
	for _, r := range []struct{ method, path string }{
		{"GET", ep}, {"DELETE", ep}, {"POST", ep + "/enable"}, {"GET", ep + "/deliveries"}, {"POST", replay}, {"POST", ep + "/roll-secret"},
	} {
		if res := p.do("supplier2", r.method, r.path, nil); res.status != http.StatusNotFound || res.errCode() != "webhook_not_found" {
			t.Errorf("supplier2 %s %s: %d %s", r.method, r.path, res.status, res.body)
		}
	}
	for _, who := range []string{"mediator", "finance", "admin"} {
		if res := p.do(who, "POST", "/v1/webhooks", map[string]string{"url": supSrv.URL}); res.status != http.StatusForbidden {
			t.Errorf("%s registered an endpoint: %d", who, res.status)
		}
	}
	for _, path := range []string{"/v1/webhooks/not-an-id", "/v1/webhooks/" + made.Endpoint.ID.String() + "/deliveries?cursor=bm9wZQ", "/v1/webhooks/" + made.Endpoint.ID.String() + "/deliveries?limit=0"} {
		res := p.do("supplier", "GET", path, nil)
		if res.status != http.StatusNotFound && res.status != http.StatusUnprocessableEntity {
			t.Errorf("GET %s: %d %s", path, res.status, res.body)
		}
	}
	var rolled, rolledAgain createdEndpoint
	p.must(http.StatusCreated, p.do("supplier", "POST", ep+"/roll-secret", nil, "Idempotency-Key", "roll-1")).json(t, &rolled)
	p.must(http.StatusCreated, p.do("supplier", "POST", ep+"/roll-secret", nil, "Idempotency-Key", "roll-1")).json(t, &rolledAgain)
	if !strings.HasPrefix(rolled.Secret, "whsec_") || rolled.Secret == made.Secret || rolledAgain.Secret != "" || rolledAgain.SecretWithheld == "" {
		t.Fatalf("rolled %+v, its repeat %+v", rolled, rolledAgain)
	}
	p.must(http.StatusOK, p.do("supplier", "POST", ep+"/enable", nil))
	p.must(http.StatusOK, p.do("supplier", "DELETE", ep, nil))
	p.must(http.StatusNotFound, p.do("supplier", "GET", ep, nil))
}

// What an organization may register: https endpoints on the public
// internet (not the platform's own network), bounded and clean, at most
// ten.
func TestHostileWebhookEndpointsAreRefused(t *testing.T) {
	p := newPlatform(t)
	for _, url := range []string{
		"", "http://erp.example/hook", "https://127.0.0.1/hook", "https://10.1.2.3/", "https://169.254.169.254/latest/meta-data/",
		"https://[::1]/", "https://user:pw@erp.example/", "https://erp.example/\x07bell", "https://erp.example/" + strings.Repeat("x", 3000),
		"file:///etc/passwd", "gopher://erp.example/",
	} {
		res := p.do("buyer", "POST", "/v1/webhooks", map[string]string{"url": url})
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(string(res.body), "url") {
			t.Errorf("url %.60q: %d %s", url, res.status, res.body)
		}
	}
	for _, desc := range []string{strings.Repeat("d", webhooks.MaxDescription+1), "line\nbreak", "nul\x00"} {
		res := p.do("buyer", "POST", "/v1/webhooks", map[string]string{"url": "https://erp.example/h", "description": desc})
		if res.status != http.StatusUnprocessableEntity || !strings.HasPrefix(res.errMessage(), "description: ") || strings.Count(res.errMessage(), "description") != 1 {
			t.Errorf("description %.30q: %d %s", desc, res.status, res.body)
		}
	}
	p.must(http.StatusBadRequest, p.do("buyer", "POST", "/v1/webhooks", `{"url": 7}`))
	for i := range webhooks.MaxEndpointsPerOrg {
		p.must(http.StatusCreated, p.do("buyer", "POST", "/v1/webhooks", map[string]string{"url": fmt.Sprintf("https://erp.example/%d", i)}))
	}
	if res := p.do("buyer", "POST", "/v1/webhooks", map[string]string{"url": "https://erp.example/one-more"}); res.status != http.StatusConflict || res.errCode() != "limit_reached" {
		t.Fatalf("the eleventh endpoint: %d %s", res.status, res.body)
	}
	// The buyer's limit is its own: another organization registers.
	p.must(http.StatusCreated, p.do("supplier", "POST", "/v1/webhooks", map[string]string{"url": "https://orders.supplier.example/hook"}))
}
