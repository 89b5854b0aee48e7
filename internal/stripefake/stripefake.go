// Package stripefake is a Stripe API for tests that outlives the processes
// calling it: the PaymentIntents, Transfers and Refunds endpoints the
// platform uses (internal/payments), with Stripe's idempotency semantics,
// a buyer's confirmation of a payment, and the signed webhook Stripe then
// sends. It records every object it creates, so a test can check that each
// payment was made once however often its worker died.
//
// Idempotency as Stripe does it: the first request with a key is executed
// and its response saved; a repeat with the same key and the same
// parameters gets the saved response (header Idempotent-Replayed) and
// creates nothing; the same key with other parameters is a 400
// idempotency_error. A POST without a key always creates a new object.
package stripefake

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"
)

// Intent is a PaymentIntent as the fake holds it.
type Intent struct {
	ID             string
	IdempotencyKey string
	DealID, Step   string
	Amount         int64
	Currency       string
	TransferGroup  string
	Status         string // requires_payment_method, then succeeded once confirmed
	ChargeID       string // set when confirmed
	Metadata       map[string]string
}

// Transfer is a transfer to a connected account.
type Transfer struct {
	ID                string
	IdempotencyKey    string
	DealID            string
	SourceTransaction string // the charge it is paid from
	SourcePayment     string // metadata: the PaymentIntent
	Destination       string
	Amount            int64
	Currency          string
}

// Refund is a refund of (part of) a PaymentIntent.
type Refund struct {
	ID             string
	IdempotencyKey string
	DealID         string
	PaymentIntent  string
	Amount         int64
}

// Server is the fake. Close it when the test ends.
type Server struct {
	URL string

	// Created, when set, is called after an object was created and recorded
	// and before the response is written: kind is "payment_intent",
	// "transfer" or "refund". A test kills the caller there, so the object
	// exists but the caller never learns it.
	Created func(kind, idempotencyKey string)
	// Refused, when set, hears of every request the fake refused as Stripe
	// would (a transfer or refund the charge cannot cover, an unknown
	// charge, a key reused with other parameters): a caller that moves
	// money right never gets there.
	Refused func(kind, idempotencyKey, reason string)

	srv *httptest.Server

	mu        sync.Mutex
	seq       int
	saved     map[string]savedResponse
	requests  map[string]int // requests per idempotency key, replays included
	intents   map[string]*Intent
	order     []string // intent IDs in creation order
	transfers []Transfer
	refunds   []Refund
	webhook   string
	secret    string
	closed    chan struct{}
	sending   sync.WaitGroup
}

type savedResponse struct {
	endpoint string
	params   [32]byte
	status   int
	body     []byte
}

// New starts the fake on a loopback port.
func New() *Server {
	s := &Server{saved: map[string]savedResponse{}, requests: map[string]int{}, intents: map[string]*Intent{}, closed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
}

// Close stops the server and the webhook deliveries still being retried.
func (s *Server) Close() {
	close(s.closed)
	s.sending.Wait()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// SendWebhooksTo makes Confirm deliver payment_intent.succeeded to url,
// signed with secret (STRIPE_WEBHOOK_SECRET).
func (s *Server) SendWebhooksTo(url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhook, s.secret = url, secret
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s_fake%06d", prefix, s.seq)
}

type apiError struct {
	status int
	typ    string
	msg    string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer sk_") {
		writeError(w, apiError{http.StatusUnauthorized, "invalid_request_error", "no valid API key provided"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, apiError{http.StatusBadRequest, "invalid_request_error", "unparseable form"})
		return
	}
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case r.Method == http.MethodGet && strings.HasPrefix(path, "/v1/payment_intents/"):
		s.mu.Lock()
		pi, ok := s.intents[strings.TrimPrefix(path, "/v1/payment_intents/")]
		var body []byte
		if ok {
			body = intentJSON(pi)
		}
		s.mu.Unlock()
		if !ok {
			writeError(w, apiError{http.StatusNotFound, "invalid_request_error", "No such payment_intent"})
			return
		}
		writeJSON(w, http.StatusOK, body, false)
	case r.Method == http.MethodPost && (path == "/v1/payment_intents" || path == "/v1/transfers" || path == "/v1/refunds"):
		s.create(w, r, path)
	default:
		writeError(w, apiError{http.StatusNotFound, "invalid_request_error", "Unrecognized request URL (" + r.Method + " " + path + ")"})
	}
}

// create runs one creating request under Stripe's idempotency rules.
func (s *Server) create(w http.ResponseWriter, r *http.Request, path string) {
	key := r.Header.Get("Idempotency-Key")
	params := hashForm(r.PostForm)
	s.mu.Lock()
	if key != "" {
		s.requests[key]++
		if prev, ok := s.saved[key]; ok {
			s.mu.Unlock()
			if prev.endpoint != path || prev.params != params {
				e := apiError{http.StatusBadRequest, "idempotency_error",
					"Keys for idempotent requests can only be used with the same parameters they were first used with."}
				s.refused(path, key, e.msg)
				writeError(w, e)
				return
			}
			writeJSON(w, prev.status, prev.body, true)
			return
		}
	}
	var (
		kind string
		body []byte
		aerr *apiError
	)
	f := r.PostForm
	switch path {
	case "/v1/payment_intents":
		kind, body, aerr = "payment_intent", s.newIntent(key, f), nil
	case "/v1/transfers":
		kind = "transfer"
		body, aerr = s.newTransfer(key, f)
	case "/v1/refunds":
		kind = "refund"
		body, aerr = s.newRefund(key, f)
	}
	status := http.StatusOK
	if aerr != nil {
		status, body = aerr.status, errorJSON(*aerr)
	}
	if key != "" && status < 500 {
		s.saved[key] = savedResponse{endpoint: path, params: params, status: status, body: body}
	}
	created := s.Created
	s.mu.Unlock()
	if aerr == nil && created != nil {
		created(kind, key)
	}
	if aerr != nil {
		s.refused(kind, key, aerr.msg)
	}
	writeJSON(w, status, body, false)
}

func (s *Server) newIntent(key string, f url.Values) []byte {
	amount, _ := strconv.ParseInt(f.Get("amount"), 10, 64)
	pi := &Intent{
		ID: s.nextID("pi"), IdempotencyKey: key, Amount: amount, Currency: f.Get("currency"),
		TransferGroup: f.Get("transfer_group"), Status: string(stripe.PaymentIntentStatusRequiresPaymentMethod),
		Metadata: metadata(f),
	}
	pi.DealID, pi.Step = pi.Metadata["deal_id"], pi.Metadata["step"]
	s.intents[pi.ID] = pi
	s.order = append(s.order, pi.ID)
	return intentJSON(pi)
}

func (s *Server) newTransfer(key string, f url.Values) ([]byte, *apiError) {
	amount, _ := strconv.ParseInt(f.Get("amount"), 10, 64)
	src := f.Get("source_transaction")
	var charged *Intent
	for _, pi := range s.intents {
		if pi.ChargeID == src && src != "" {
			charged = pi
		}
	}
	// A transfer that names a payment must come from its charge; one that
	// names none is from the platform's balance (a buyer's coupon).
	if charged == nil && (src != "" || metadata(f)["source_payment"] != "") {
		return nil, &apiError{http.StatusBadRequest, "invalid_request_error", "No such charge: '" + src + "'"}
	}
	var paid int64
	for _, t := range s.transfers {
		if t.SourceTransaction == src {
			paid += t.Amount
		}
	}
	// Without a source, the transfer is from the platform's balance,
	// which the fake does not keep.
	if amount <= 0 || (charged != nil && paid+amount > charged.Amount) {
		return nil, &apiError{http.StatusBadRequest, "invalid_request_error", "Insufficient funds in the source transaction"}
	}
	md := metadata(f)
	t := Transfer{
		ID: s.nextID("tr"), IdempotencyKey: key, DealID: md["deal_id"], SourceTransaction: src, SourcePayment: md["source_payment"],
		Destination: f.Get("destination"), Amount: amount, Currency: f.Get("currency"),
	}
	s.transfers = append(s.transfers, t)
	b, _ := json.Marshal(map[string]any{
		"id": t.ID, "object": "transfer", "amount": t.Amount, "currency": t.Currency, "destination": t.Destination,
		"source_transaction": t.SourceTransaction, "transfer_group": f.Get("transfer_group"), "metadata": md,
	})
	return b, nil
}

func (s *Server) newRefund(key string, f url.Values) ([]byte, *apiError) {
	amount, _ := strconv.ParseInt(f.Get("amount"), 10, 64)
	pi, ok := s.intents[f.Get("payment_intent")]
	if !ok || pi.Status != string(stripe.PaymentIntentStatusSucceeded) {
		return nil, &apiError{http.StatusBadRequest, "invalid_request_error", "This PaymentIntent has no successful charge to refund"}
	}
	var refunded int64
	for _, rf := range s.refunds {
		if rf.PaymentIntent == pi.ID {
			refunded += rf.Amount
		}
	}
	if amount <= 0 || refunded+amount > pi.Amount {
		return nil, &apiError{http.StatusBadRequest, "invalid_request_error", "Refund amount is greater than the unrefunded amount of the charge"}
	}
	md := metadata(f)
	rf := Refund{ID: s.nextID("re"), IdempotencyKey: key, DealID: md["deal_id"], PaymentIntent: pi.ID, Amount: amount}
	s.refunds = append(s.refunds, rf)
	b, _ := json.Marshal(map[string]any{
		"id": rf.ID, "object": "refund", "amount": rf.Amount, "currency": pi.Currency, "payment_intent": pi.ID,
		"charge": pi.ChargeID, "status": "succeeded", "metadata": md,
	})
	return b, nil
}

func (s *Server) refused(kind, key, reason string) {
	if s.Refused != nil {
		s.Refused(kind, key, reason)
	}
}

// Confirm is the buyer's client completing a payment with its client
// secret: the PaymentIntent succeeds, gets its charge, and Stripe's
// payment_intent.succeeded event goes to the webhook (retried until it is
// taken, as Stripe does). Confirming a succeeded payment does nothing.
func (s *Server) Confirm(piID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi, ok := s.intents[piID]
	if !ok {
		return fmt.Errorf("stripefake: no payment intent %s", piID)
	}
	if pi.Status == string(stripe.PaymentIntentStatusSucceeded) {
		return nil
	}
	pi.Status = string(stripe.PaymentIntentStatusSucceeded)
	pi.ChargeID = s.nextID("ch")
	if s.webhook == "" {
		return nil
	}
	payload, _ := json.Marshal(map[string]any{
		"id": s.nextID("evt"), "object": "event", "type": "payment_intent.succeeded", "api_version": stripe.APIVersion,
		"created": time.Now().Unix(), "data": map[string]any{"object": json.RawMessage(intentJSON(pi))},
	})
	s.sending.Add(1)
	go s.deliver(s.webhook, s.secret, payload)
	return nil
}

func (s *Server) deliver(url, secret string, payload []byte) {
	defer s.sending.Done()
	backoff := 50 * time.Millisecond
	for {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: time.Now()})
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(payload)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", signed.Header)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 300 {
				return
			}
		}
		select {
		case <-s.closed:
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// Intents returns every PaymentIntent created, in order.
func (s *Server) Intents() []Intent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Intent, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.intents[id])
	}
	return out
}

// Transfers returns every transfer created, in order.
func (s *Server) Transfers() []Transfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Transfer(nil), s.transfers...)
}

// Refunds returns every refund created, in order.
func (s *Server) Refunds() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Refund(nil), s.refunds...)
}

// Requests counts the creating requests that carried key, replays included.
func (s *Server) Requests(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[key]
}

// Replays counts the requests answered from a saved response.
func (s *Server) Replays() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.requests {
		n += c - 1
	}
	return n
}

func metadata(f url.Values) map[string]string {
	md := map[string]string{}
	for k, v := range f {
		if strings.HasPrefix(k, "metadata[") && strings.HasSuffix(k, "]") && len(v) > 0 {
			md[strings.TrimSuffix(strings.TrimPrefix(k, "metadata["), "]")] = v[0]
		}
	}
	return md
}

func hashForm(f url.Values) [32]byte {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + strings.Join(f[k], ",") + "&")
	}
	return sha256.Sum256([]byte(b.String()))
}

func intentJSON(pi *Intent) []byte {
	var charge any
	received := int64(0)
	if pi.ChargeID != "" {
		charge, received = pi.ChargeID, pi.Amount
	}
	b, _ := json.Marshal(map[string]any{
		"id": pi.ID, "object": "payment_intent", "amount": pi.Amount, "amount_received": received, "currency": pi.Currency,
		"status": pi.Status, "client_secret": pi.ID + "_secret_fake", "transfer_group": pi.TransferGroup,
		"metadata": pi.Metadata, "latest_charge": charge,
	})
	return b
}

func errorJSON(e apiError) []byte {
	b, _ := json.Marshal(map[string]any{"error": map[string]string{"type": e.typ, "message": e.msg}})
	return b
}

func writeError(w http.ResponseWriter, e apiError) { writeJSON(w, e.status, errorJSON(e), false) }

func writeJSON(w http.ResponseWriter, status int, body []byte, replayed bool) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Request-Id", fmt.Sprintf("req_fake%d", time.Now().UnixNano()))
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
