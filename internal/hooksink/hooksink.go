// Package hooksink is a webhook receiver for the dev stack and the tests:
// it takes the deliveries posted to /hooks/<name>, checks each signature
// with the secret of the endpoint registered under that name, keeps them
// in memory and shows them on a page. It answers as a careful receiver
// should: 400 for a delivery whose signature does not verify, 200
// otherwise, a repeat of an event it has seen included.
package hooksink

import (
	"encoding/json"
	"html/template"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tradeloop/tradeloop/internal/webhooks"
)

// Keep is how many deliveries the sink holds; older ones are dropped.
const Keep = 500

// Delivery is one request the sink took.
type Delivery struct {
	At         time.Time      `json:"at"`
	Endpoint   string         `json:"endpoint"`
	EventID    string         `json:"event_id"`
	DeliveryID string         `json:"delivery_id"`
	Attempt    string         `json:"attempt"`
	Verified   bool           `json:"verified"`
	Problem    string         `json:"problem,omitempty"`
	Repeat     bool           `json:"repeat"` // an event this endpoint had already taken
	Event      webhooks.Event `json:"event"`
}

// Sink holds the deliveries; it is an http.Handler.
type Sink struct {
	mu      sync.Mutex
	secrets map[string]string // endpoint name → secret
	seen    map[string]bool   // endpoint name + event ID
	got     []Delivery
	now     func() time.Time
}

// New is an empty sink.
func New() *Sink {
	return &Sink{secrets: map[string]string{}, seen: map[string]bool{}, now: time.Now}
}

// Expect has deliveries to /hooks/<name> checked with secret.
func (s *Sink) Expect(name, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secrets[name] = secret
}

// Deliveries returns what the sink took, oldest first.
func (s *Sink) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.got...)
}

// ServeHTTP takes a delivery (POST /hooks/<name>) or shows the page
// (GET /, ?format=json for JSON).
func (s *Sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/hooks/"); ok && r.Method == http.MethodPost {
		s.take(w, r, name)
		return
	}
	if r.Method != http.MethodGet || r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	got := s.Deliveries()
	slices.Reverse(got) // newest first
	if r.URL.Query().Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(got)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, got)
}

// maxBody bounds a delivery the sink reads.
const maxBody = 1 << 20

func (s *Sink) take(w http.ResponseWriter, r *http.Request, name string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return
	}
	d := Delivery{At: s.now(), Endpoint: name, EventID: r.Header.Get(webhooks.EventHeader),
		DeliveryID: r.Header.Get(webhooks.DeliveryHeader), Attempt: r.Header.Get(webhooks.AttemptHeader)}
	s.mu.Lock()
	secret, known := s.secrets[name]
	s.mu.Unlock()
	switch {
	case !known:
		d.Problem = "no endpoint is expected under this name"
	default:
		if err := webhooks.Verify(secret, r.Header.Get(webhooks.SignatureHeader), body, 0, d.At); err != nil {
			d.Problem = err.Error()
		} else if err := json.Unmarshal(body, &d.Event); err != nil {
			d.Problem = "the body is not an event: " + err.Error()
		} else {
			d.Verified = true
		}
	}
	s.mu.Lock()
	if d.Verified {
		key := name + " " + d.Event.ID
		d.Repeat = s.seen[key]
		s.seen[key] = true
	}
	s.got = append(s.got, d)
	if len(s.got) > Keep {
		s.got = s.got[len(s.got)-Keep:]
	}
	s.mu.Unlock()
	if !d.Verified {
		http.Error(w, d.Problem, http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"received":true}`)
}

var page = template.Must(template.New("hooks").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tradeloop dev webhooks ({{len .}})</title>
<style>body{font-family:sans-serif;margin:1rem;max-width:60rem}article{border-bottom:1px solid #ddd;padding:.5rem 0}
.ok{color:#176317}.bad{color:#a31515}small{color:#666}code{background:#f6f6f6;padding:0 .2rem}</style></head>
<body><h1>Webhook deliveries the dev stack received ({{len .}}, newest first)</h1>
<p><small>Each delivery's <code>Tradeloop-Signature</code> (<code>t=…,v1=…</code>: HMAC-SHA256 with the endpoint's secret over
<code>t</code>, a dot and the body) is checked here as a receiver should. <a href="?format=json">JSON</a></small></p>
{{range .}}<article><h2>{{.Event.Type}} <small>{{.Endpoint}}</small></h2>
<small>{{.At.Format "2006-01-02 15:04:05"}} · event {{.EventID}} · attempt {{.Attempt}}{{if .Repeat}} · a repeat{{end}}</small>
{{if .Verified}}<p class="ok">signature verified</p>{{else}}<p class="bad">refused: {{.Problem}}</p>{{end}}
<p>{{.Event.Text}}{{if .Event.DealID}} <small>(deal {{.Event.DealID}})</small>{{end}}</p></article>{{else}}<p>No deliveries yet.</p>{{end}}
</body></html>`))
