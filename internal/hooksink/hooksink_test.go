package hooksink

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/webhooks"
)

func post(s *Sink, path, secret string, ev webhooks.Event, tamper bool) int {
	body, _ := json.Marshal(ev)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(body)))
	sig := webhooks.Sign(secret, time.Now(), body)
	if tamper {
		sig = webhooks.Sign(secret, time.Now(), append(body, ' '))
	}
	req.Header.Set(webhooks.SignatureHeader, sig)
	req.Header.Set(webhooks.EventHeader, ev.ID)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w.Code
}

// The receiver takes what verifies, refuses the rest, marks repeats, and
// shows it all.
func TestTheReceiverChecksEveryDelivery(t *testing.T) {
	s := New()
	s.Expect("buyer", "whsec_buyer")
	ev := webhooks.Event{ID: "evt_1", Type: "quote_submitted", DealID: "d1", Text: "A <b>quote</b>"}
	for _, c := range []struct {
		path, secret string
		tamper       bool
		want         int
	}{
		{"/hooks/buyer", "whsec_buyer", false, 200},
		{"/hooks/buyer", "whsec_buyer", false, 200}, // a repeat
		{"/hooks/buyer", "whsec_other", false, 400},
		{"/hooks/buyer", "whsec_buyer", true, 400},
		{"/hooks/nobody", "whsec_buyer", false, 400},
	} {
		if got := post(s, c.path, c.secret, ev, c.tamper); got != c.want {
			t.Errorf("%s with %s (tampered %v): %d, want %d", c.path, c.secret, c.tamper, got, c.want)
		}
	}
	got := s.Deliveries()
	if len(got) != 5 || !got[0].Verified || got[0].Repeat || !got[1].Repeat || got[2].Verified || got[2].Problem == "" || got[4].Problem == "" {
		t.Fatalf("deliveries %+v", got)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if page := w.Body.String(); !strings.Contains(page, "signature verified") || !strings.Contains(page, "A &lt;b&gt;quote&lt;/b&gt;") || strings.Contains(page, "<b>quote") {
		t.Fatalf("page %.500s", page)
	}
	w = httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/elsewhere", nil))
	if w.Code != http.StatusNotFound {
		t.Fatalf("GET /elsewhere: %d", w.Code)
	}
}
