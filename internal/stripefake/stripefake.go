// Package stripefake is a Stripe API for tests that outlives the processes
// calling it: the PaymentIntents, Customers, Transfers and Refunds
// endpoints the platform uses (internal/payments), with Stripe's
// idempotency semantics, a buyer's confirmation of a payment, and the
// signed webhook Stripe then sends. It records every object it creates, so
// a test can check that each payment was made once however often its
// worker died.
//
// Saved payment methods: a PaymentIntent created with a customer and
// setup_future_usage=off_session saves the payment method it is confirmed
// with (Confirm) on that customer. A later PaymentIntent created with
// confirm=true and off_session=true charges that method at once, without
// the payer: it needs the customer and a payment method saved on it, and
// succeeds (payment_intent.succeeded goes to the webhook) unless the test
// made the customer's card fail off-session (DeclineOffSession). The fake
// speaks the API version stripe-go pins (2023-10-16), where a
// PaymentIntent accepts the Dashboard's payment methods by default, so a
// create with confirm=true needs a return_url unless it sets
// automatic_payment_methods[allow_redirects]=never, names its
// payment_method_types, or disables automatic payment methods; Stripe
// refuses it otherwise. confirm=true is modelled only off-session (on
// session the payer's client confirms: Confirm).
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
	Customer       string // the customer it is for, if any
	// SetupFutureUsage is "off_session" when the payment method it is
	// confirmed with is saved on Customer for later charges.
	SetupFutureUsage string
	// PaymentMethod is the method it was paid with: given when it was
	// created off-session, or pm_fake… once the payer confirmed it.
	PaymentMethod string
	// OffSession: created with confirm=true and off_session=true, charged
	// without the payer.
	OffSession bool
	// LastPaymentError is the error code of its failed off-session attempt
	// ("card_declined", "authentication_required"), if it failed.
	LastPaymentError string
}

// Customer is a Stripe customer, with the payment methods saved on it.
type Customer struct {
	ID             string
	IdempotencyKey string
	Metadata       map[string]string
	PaymentMethods []string // saved for off-session use, in order
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
	// "customer", "transfer" or "refund". A test kills the caller there, so
	// the object exists but the caller never learns it. An off-session
	// payment that is declined is created too (Stripe keeps the failed
	// PaymentIntent), so Created hears of it and Refused does not.
	Created func(kind, idempotencyKey string)
	// Refused, when set, hears of every request the fake refused as Stripe
	// would (a transfer or refund the charge cannot cover, an unknown
	// charge or customer, an off-session payment without a saved payment
	// method, a key reused with other parameters): a caller that moves
	// money right never gets there.
	Refused func(kind, idempotencyKey, reason string)

	srv *httptest.Server

	mu        sync.Mutex
	seq       int
	saved     map[string]savedResponse
	requests  map[string]int // requests per idempotency key, replays included
	intents   map[string]*Intent
	order     []string // intent IDs in creation order
	customers map[string]*Customer
	cusOrder  []string          // customer IDs in creation order
	declines  map[string]string // customer → error code of its off-session charges
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
	s := &Server{
		saved: map[string]savedResponse{}, requests: map[string]int{}, intents: map[string]*Intent{},
		customers: map[string]*Customer{}, declines: map[string]string{}, closed: make(chan struct{}),
	}
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
	// A card error also names its code and decline code, and the
	// PaymentIntent the failed payment left behind (created all the same).
	code, declineCode string
	intent            json.RawMessage
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer sk_") {
		writeError(w, apiError{status: http.StatusUnauthorized, typ: "invalid_request_error", msg: "no valid API key provided"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, apiError{status: http.StatusBadRequest, typ: "invalid_request_error", msg: "unparseable form"})
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
			writeError(w, apiError{status: http.StatusNotFound, typ: "invalid_request_error", msg: "No such payment_intent"})
			return
		}
		writeJSON(w, http.StatusOK, body, false)
	case r.Method == http.MethodPost && (path == "/v1/payment_intents" || path == "/v1/customers" || path == "/v1/transfers" || path == "/v1/refunds"):
		s.create(w, r, path)
	default:
		writeError(w, apiError{status: http.StatusNotFound, typ: "invalid_request_error", msg: "Unrecognized request URL (" + r.Method + " " + path + ")"})
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
				e := apiError{status: http.StatusBadRequest, typ: "idempotency_error", msg: "Keys for idempotent requests can only be used with the same parameters they were first used with."}
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
		kind = "payment_intent"
		body, aerr = s.newIntent(key, f)
	case "/v1/customers":
		kind, body = "customer", s.newCustomer(key, f)
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
	// A declined payment is an answer about the card: its PaymentIntent
	// exists, and the request was not refused.
	made := aerr == nil || aerr.intent != nil
	if made && created != nil {
		created(kind, key)
	}
	if !made {
		s.refused(kind, key, aerr.msg)
	}
	writeJSON(w, status, body, false)
}

func (s *Server) newIntent(key string, f url.Values) ([]byte, *apiError) {
	invalid := func(msg string) ([]byte, *apiError) {
		return nil, &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", msg: msg}
	}
	amount, _ := strconv.ParseInt(f.Get("amount"), 10, 64)
	cus, pm := f.Get("customer"), f.Get("payment_method")
	confirm, offSession := truthy(f.Get("confirm")), truthy(f.Get("off_session"))
	if cus != "" && s.customers[cus] == nil {
		return invalid("No such customer: '" + cus + "'")
	}
	if offSession && !confirm {
		return invalid("off_session can only be used when confirm=true.")
	}
	if confirm {
		if !offSession {
			// Not a Stripe rule: on session the payer's client confirms
			// (Confirm), and the fake models no server-side confirmation.
			return invalid("stripefake: confirm=true is only modelled with off_session=true")
		}
		if f.Get("return_url") == "" && f.Get("automatic_payment_methods[enabled]") != "false" &&
			f.Get("automatic_payment_methods[allow_redirects]") != "never" && len(f["payment_method_types[]"]) == 0 &&
			f.Get("payment_method_types[0]") == "" {
			return invalid("A `return_url` must be specified because this Payment Intent is configured to automatically accept the payment methods enabled in the Dashboard, some of which may require a full page redirect to succeed. If you do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.")
		}
		switch {
		case cus == "":
			return invalid("A customer is required to charge a saved payment method off-session.")
		case pm == "":
			return invalid("You must provide a payment_method to confirm this PaymentIntent off-session.")
		case !contains(s.customers[cus].PaymentMethods, pm):
			return invalid("The provided PaymentMethod " + pm + " was not saved on customer " + cus + " for off-session use.")
		}
	}
	pi := &Intent{
		ID: s.nextID("pi"), IdempotencyKey: key, Amount: amount, Currency: f.Get("currency"),
		TransferGroup: f.Get("transfer_group"), Status: string(stripe.PaymentIntentStatusRequiresPaymentMethod),
		Metadata: metadata(f), Customer: cus, SetupFutureUsage: f.Get("setup_future_usage"), PaymentMethod: pm,
		OffSession: offSession,
	}
	pi.DealID, pi.Step = pi.Metadata["deal_id"], pi.Metadata["step"]
	s.intents[pi.ID] = pi
	s.order = append(s.order, pi.ID)
	if !offSession {
		return intentJSON(pi), nil
	}
	if code := s.declines[cus]; code != "" {
		// Stripe detaches the failed method from the PaymentIntent, which
		// waits for another one (the payer's, on session).
		pi.PaymentMethod, pi.LastPaymentError = "", code
		decline := code
		if code == "card_declined" {
			decline = "generic_decline"
		}
		return nil, &apiError{
			status: http.StatusPaymentRequired, typ: "card_error", code: code, declineCode: decline,
			msg: "The off-session payment failed: " + code, intent: intentJSON(pi),
		}
	}
	s.succeed(pi)
	return intentJSON(pi), nil
}

func (s *Server) newCustomer(key string, f url.Values) []byte {
	c := &Customer{ID: s.nextID("cus"), IdempotencyKey: key, Metadata: metadata(f)}
	s.customers[c.ID] = c
	s.cusOrder = append(s.cusOrder, c.ID)
	b, _ := json.Marshal(map[string]any{
		"id": c.ID, "object": "customer", "description": nullable(f.Get("description")), "metadata": c.Metadata,
	})
	return b
}

// DeclineOffSession makes the off-session payments of customer fail with
// Stripe's error code ("card_declined", "authentication_required", …): a
// 402 card_error, whose PaymentIntent stays requires_payment_method. The
// customer's card stays declined, as a real one does until its holder
// acts, until DeclineOffSession(customer, "") clears it. The payer's own
// confirmation (Confirm) is not affected.
func (s *Server) DeclineOffSession(customer, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		delete(s.declines, customer)
		return
	}
	s.declines[customer] = code
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
		return nil, &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", msg: "No such charge: '" + src + "'"}
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
		return nil, &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", msg: "Insufficient funds in the source transaction"}
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
		return nil, &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", msg: "This PaymentIntent has no successful charge to refund"}
	}
	var refunded int64
	for _, rf := range s.refunds {
		if rf.PaymentIntent == pi.ID {
			refunded += rf.Amount
		}
	}
	if amount <= 0 || refunded+amount > pi.Amount {
		return nil, &apiError{status: http.StatusBadRequest, typ: "invalid_request_error", msg: "Refund amount is greater than the unrefunded amount of the charge"}
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
// secret: the PaymentIntent gets a payment method (pm_fake…), succeeds,
// gets its charge, and Stripe's payment_intent.succeeded event goes to the
// webhook (retried until it is taken, as Stripe does). A PaymentIntent
// with a customer and setup_future_usage=off_session saves its payment
// method on the customer for later off-session payments. Confirming a
// succeeded payment does nothing.
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
	pi.PaymentMethod = s.nextID("pm")
	if c := s.customers[pi.Customer]; c != nil && pi.SetupFutureUsage == string(stripe.PaymentIntentSetupFutureUsageOffSession) {
		c.PaymentMethods = append(c.PaymentMethods, pi.PaymentMethod)
	}
	s.succeed(pi)
	return nil
}

// succeed charges pi and sends payment_intent.succeeded to the webhook.
// The caller holds s.mu.
func (s *Server) succeed(pi *Intent) {
	pi.Status = string(stripe.PaymentIntentStatusSucceeded)
	pi.ChargeID = s.nextID("ch")
	if s.webhook == "" {
		return
	}
	payload, _ := json.Marshal(map[string]any{
		"id": s.nextID("evt"), "object": "event", "type": "payment_intent.succeeded", "api_version": stripe.APIVersion,
		"created": time.Now().Unix(), "data": map[string]any{"object": json.RawMessage(intentJSON(pi))},
	})
	s.sending.Add(1)
	go s.deliver(s.webhook, s.secret, payload)
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

// Customers returns every customer created, in order, with the payment
// methods saved on each.
func (s *Server) Customers() []Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Customer, 0, len(s.cusOrder))
	for _, id := range s.cusOrder {
		c := *s.customers[id]
		c.PaymentMethods = append([]string(nil), c.PaymentMethods...)
		out = append(out, c)
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

func truthy(v string) bool { return v != "" && v != "false" }

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// nullable is v, or JSON null when it is empty.
func nullable(v string) any {
	if v == "" {
		return nil
	}
	return v
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
	var lastErr any
	if pi.LastPaymentError != "" {
		lastErr = map[string]string{"type": "card_error", "code": pi.LastPaymentError}
	}
	b, _ := json.Marshal(map[string]any{
		"id": pi.ID, "object": "payment_intent", "amount": pi.Amount, "amount_received": received, "currency": pi.Currency,
		"status": pi.Status, "client_secret": pi.ID + "_secret_fake", "transfer_group": pi.TransferGroup,
		"metadata": pi.Metadata, "latest_charge": charge, "customer": nullable(pi.Customer),
		"payment_method": nullable(pi.PaymentMethod), "setup_future_usage": nullable(pi.SetupFutureUsage),
		"last_payment_error": lastErr,
	})
	return b
}

func errorJSON(e apiError) []byte {
	obj := map[string]any{"type": e.typ, "message": e.msg}
	if e.code != "" {
		obj["code"] = e.code
	}
	if e.declineCode != "" {
		obj["decline_code"] = e.declineCode
	}
	if e.intent != nil {
		obj["payment_intent"] = e.intent
	}
	b, _ := json.Marshal(map[string]any{"error": obj})
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
