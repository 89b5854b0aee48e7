// Package dealclient drives whole deals through the REST API as their
// parties' clients would: the buyer, the supplier and, for a dispute, the
// mediator, each with its API key. Every POST carries an Idempotency-Key and
// is retried with the same key while the platform cannot answer (no
// connection, 5xx, 429, or the key's first request still in progress), so a
// deal survives restarts of the services behind the API. The load generator
// (internal/bench) and the fault tests use it.
package dealclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tradeloop/tradeloop/workflows"
)

// Kind is the shape of a deal.
type Kind string

// The kinds of deal the client drives.
const (
	// Happy: inquiry, quote, contract, deposit, production, balance,
	// shipment, delivery, the buyer accepts; the escrow is released.
	Happy Kind = "happy"
	// Sample: the same, with a paid sample shipped and approved before the contract.
	Sample Kind = "sample"
	// Dispute: the same as Happy until delivery, then the buyer disputes,
	// the supplier answers, the buyer escalates and a mediator splits the escrow.
	Dispute Kind = "dispute"
)

// Kinds lists every kind, in a fixed order.
var Kinds = []Kind{Happy, Sample, Dispute}

// Party is one side's API key and organization.
type Party struct {
	Key   string `json:"key"`
	OrgID string `json:"org_id"`
}

// Parties are the people acting on one deal.
type Parties struct {
	Buyer, Supplier, Mediator Party
}

// Client drives deals against one API.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	// Observe, if set, hears of every request attempt: its endpoint (method
	// and route, e.g. "POST /v1/deals/:id/quotes"), its status (0 when no
	// response came) and how long it took.
	Observe func(endpoint string, status int, took time.Duration)
	// Retry bounds how long one request is retried (default 2 minutes).
	Retry time.Duration
	// Poll is the pause between reads while waiting for the deal (default 100 ms).
	Poll time.Duration
	// Confirm completes a payment the provider holds as pending, as the
	// buyer's browser does with Stripe's client secret. Without it, a
	// pending payment is waited for as it is.
	Confirm func(ctx context.Context, providerPaymentID string) error
	// Recover, when positive, is how long a POST may keep answering that
	// the first request with its Idempotency-Key is still in progress
	// before the client looks whether that request took effect. (An API
	// process that dies mid-request leaves the key claimed for good.) If
	// the deal shows the action, in its timeline, the client goes on; if
	// not, it sends the action again under a new key. A deal created that
	// way is looked for among the buyer's deals.
	Recover time.Duration
	// Recovered, if set, hears of each such recovery and its outcome.
	Recovered func(endpoint string, applied bool)
	// Replayed, if set, hears of each answer the API replayed for a
	// repeated Idempotency-Key (header Idempotent-Replayed).
	Replayed func(endpoint string)
	// Prefix, if set, goes before the path of each request of a deal of
	// the given kind (the bench's baseline serves each kind under its own).
	Prefix func(Kind) string
	// Progressed, if set, hears of a deal's progress as its client sees it:
	// the length of the deal's timeline each time an answer or a read shows
	// it longer than before.
	Progressed func(dealID string, events int)
}

// View is what the client reads of a deal: the fields of the deal's state
// it needs, or the baseline's (internal/bench), which has ChildrenDone and Done.
type View struct {
	DealID   string                `json:"deal_id"`
	Stage    string                `json:"stage"`
	Total    int64                 `json:"total"`
	Quotes   []struct{ ID string } `json:"quotes"`
	Contract *struct {
		TermsSHA256 string `json:"terms_sha256"`
	} `json:"contract"`
	Sample *struct {
		Status string `json:"status"`
	} `json:"sample"`
	Payments []Payment `json:"payments"`
	Inquiry  struct {
		Specs string `json:"specs"`
	} `json:"inquiry"`
	Timeline []struct {
		Type  workflows.EventType `json:"type"`
		Actor string              `json:"actor"`
	} `json:"timeline"`
	Resolution *struct {
		Done bool `json:"done"`
	} `json:"resolution"`
	ChildrenDone *int  `json:"children_done"`
	Done         *bool `json:"done"`
}

// Payment is one of the deal's payments.
type Payment struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Step       string `json:"step"`
	Status     string `json:"status"`
	ProviderID string `json:"provider_id"`
}

func (v View) final() bool { return workflows.Stage(v.Stage).Final() }

// Result is one deal driven to its end.
type Result struct {
	DealID string
	Kind   Kind
	Took   time.Duration
	Final  View
}

// Error is a request the platform refused.
type Error struct {
	Endpoint string
	Status   int
	Body     string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %d %s", e.Endpoint, e.Status, strings.TrimSpace(e.Body))
}

// StuckError is a request whose Idempotency-Key stayed in progress for
// longer than Client.Recover.
type StuckError struct {
	Endpoint string
	For      time.Duration
}

func (e *StuckError) Error() string {
	return fmt.Sprintf("%s: its Idempotency-Key has been in progress for %s", e.Endpoint, e.For.Truncate(time.Millisecond))
}

// actionEvents is the timeline event each party action leaves, by its
// actor (the mediator's decision has none).
var actionEvents = map[string]workflows.EventType{
	"quotes": workflows.EventQuoteSubmitted, "quotes/:qid/accept": workflows.EventQuoteAccepted, "sample/ship": workflows.EventSampleShipped,
	"sample/approve": workflows.EventSampleApproved, "contract/sign": workflows.EventContractSigned, "production": workflows.EventProductionProgress,
	"ready": workflows.EventReadyToShip, "shipment": workflows.EventGoodsShipped, "accept": workflows.EventGoodsAccepted, "dispute": workflows.EventDisputeOpened,
	"dispute/answer": workflows.EventDisputeAnswered, "dispute/escalate": workflows.EventDisputeEscalated, "dispute/decision": workflows.EventMediatorDecision,
}

// ActionEvent is the timeline event a party action (a route under
// /v1/deals/:id/) leaves, and whether it names its actor.
func ActionEvent(route string) (event workflows.EventType, byActor bool) {
	e := actionEvents[route]
	return e, e != "" && e != workflows.EventMediatorDecision
}

// applied reports whether the deal's timeline shows the action by who.
func (v View) applied(route string, who Party) bool {
	event, byActor := ActionEvent(route)
	for _, e := range v.Timeline {
		if e.Type == event && (!byActor || e.Actor == who.OrgID) {
			return true
		}
	}
	return false
}

// run is one deal in progress.
type run struct {
	c      *Client
	ctx    context.Context
	p      Parties
	ref    string // prefix of the deal's idempotency keys
	prefix string // of its paths
	id     string
	state  View
	events int // timeline events seen
}

// saw reports the deal's progress if the state last read shows any.
func (r *run) saw() {
	if n := len(r.state.Timeline); n > r.events {
		r.events = n
		if r.c.Progressed != nil {
			r.c.Progressed(r.state.DealID, n)
		}
	}
}

// Run drives one deal of the given kind to its end: the escrow settled.
func (c *Client) Run(ctx context.Context, kind Kind, p Parties) (Result, error) {
	began := time.Now()
	r := &run{c: c, ctx: ctx, p: p, ref: NewRef()}
	if c.Prefix != nil {
		r.prefix = c.Prefix(kind)
	}
	err := r.drive(kind)
	res := Result{DealID: r.id, Kind: kind, Took: time.Since(began), Final: r.state}
	if err != nil {
		if r.id != "" {
			err = fmt.Errorf("deal %s (%s): %w", r.id, kind, err)
		}
		return res, err
	}
	return res, nil
}

func (r *run) drive(kind Kind) error {
	body := map[string]any{
		"product": "cotton t-shirts", "quantity": 2000, "unit": "pcs", "currency": "USD", "destination": "Hamburg",
		"wants_sample": kind == Sample, "suppliers": []string{r.p.Supplier.OrgID}, "specs": "ref " + r.ref,
	}
	if err := r.create(body); err != nil {
		return err
	}
	r.id = r.state.DealID
	if r.id == "" {
		return errors.New("the created deal has no ID")
	}
	quote := map[string]any{
		"tiers":          []map[string]any{{"min_quantity": 100, "unit_price": 450}, {"min_quantity": 1000, "unit_price": 390}},
		"moq":            100,
		"lead_time_days": 21, "valid_till": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339), "sample_price": 2500,
	}
	if err := r.act(r.p.Supplier, "quotes", quote); err != nil {
		return err
	}
	if len(r.state.Quotes) == 0 {
		return errors.New("no quote on the deal after quoting")
	}
	if err := r.act(r.p.Buyer, "quotes/"+r.state.Quotes[0].ID+"/accept", nil); err != nil {
		return err
	}
	children := 0
	if kind == Sample {
		if err := r.pay("sample"); err != nil {
			return err
		}
		if err := r.act(r.p.Supplier, "sample/ship", map[string]string{"carrier": "ups", "tracking_number": "S-" + r.ref}); err != nil {
			return err
		}
		children++
		if err := r.wait("sample delivered", func(v View) bool {
			if v.ChildrenDone != nil {
				return *v.ChildrenDone >= 1
			}
			return v.Sample != nil && v.Sample.Status == "DELIVERED"
		}); err != nil {
			return err
		}
		if err := r.act(r.p.Buyer, "sample/approve", map[string]string{"note": "as specified"}); err != nil {
			return err
		}
	}
	if r.state.Contract == nil {
		return fmt.Errorf("no contract to sign at stage %s", r.state.Stage)
	}
	sign := map[string]string{"terms_sha256": r.state.Contract.TermsSHA256}
	if err := r.act(r.p.Buyer, "contract/sign", sign); err != nil {
		return err
	}
	if err := r.act(r.p.Supplier, "contract/sign", sign); err != nil {
		return err
	}
	if err := r.pay("deposit"); err != nil {
		return err
	}
	if err := r.act(r.p.Supplier, "production", map[string]any{"percent": 50, "note": "cutting"}); err != nil {
		return err
	}
	if err := r.act(r.p.Supplier, "ready", nil); err != nil {
		return err
	}
	if err := r.pay("balance"); err != nil {
		return err
	}
	if err := r.act(r.p.Supplier, "shipment", map[string]string{"carrier": "dhl", "tracking_number": "G-" + r.ref}); err != nil {
		return err
	}
	children++
	if err := r.wait("goods delivered", func(v View) bool {
		if v.ChildrenDone != nil {
			return *v.ChildrenDone >= children
		}
		return v.Stage == string(workflows.StageInspection)
	}); err != nil {
		return err
	}
	if kind == Dispute {
		if err := r.act(r.p.Buyer, "dispute", map[string]any{"reason": "wrong colour", "remedy": "half refund", "evidence": []string{"photo-1"}}); err != nil {
			return err
		}
		if err := r.act(r.p.Supplier, "dispute/answer", map[string]string{"message": "colour as sampled"}); err != nil {
			return err
		}
		if err := r.act(r.p.Buyer, "dispute/escalate", nil); err != nil {
			return err
		}
		if err := r.act(r.p.Mediator, "dispute/decision", map[string]any{"outcome": "split", "release_amount": r.state.Total / 2}); err != nil {
			return err
		}
	} else if err := r.act(r.p.Buyer, "accept", map[string]string{"note": "all good"}); err != nil {
		return err
	}
	return r.wait("escrow settled", func(v View) bool {
		if v.Done != nil {
			return *v.Done
		}
		return v.Resolution != nil && v.Resolution.Done
	})
}

// create sends the inquiry. If its key stays in progress (Recover), the
// buyer's deals are searched for it, then it is sent again.
func (r *run) create(body map[string]any) error {
	for again := 0; ; again++ {
		err := r.post(r.p.Buyer, "POST /v1/deals", "/v1/deals", fmt.Sprintf("create/%d", again), body, http.StatusCreated, &r.state)
		if err == nil {
			r.saw()
		}
		var stuck *StuckError
		if !errors.As(err, &stuck) {
			return err
		}
		found, ferr := r.findCreated()
		if r.c.Recovered != nil {
			r.c.Recovered(stuck.Endpoint, found)
		}
		if ferr != nil || found {
			return ferr
		}
	}
}

// findCreated looks among the buyer's deals for the one this run created,
// by the reference in its specs, waiting a while for the read model.
func (r *run) findCreated() (bool, error) {
	for deadline := time.Now().Add(max(r.c.Recover, 5*time.Second)); ; {
		var page struct {
			Deals []struct {
				ID string `json:"id"`
			} `json:"deals"`
		}
		if err := r.c.Do(r.ctx, r.p.Buyer.Key, http.MethodGet, "GET /v1/deals", r.prefix+"/v1/deals?limit=100", "", nil, http.StatusOK, &page); err != nil {
			return false, err
		}
		for _, d := range page.Deals {
			var v View
			if err := r.get(r.p.Buyer, "GET /v1/deals/:id", "/v1/deals/"+d.ID, &v); err != nil {
				return false, err
			}
			if v.Inquiry.Specs == "ref "+r.ref {
				r.state = v
				r.saw()
				return true, nil
			}
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-r.ctx.Done():
			return false, r.ctx.Err()
		case <-time.After(r.c.poll()):
		}
	}
}

// act posts a party action on the deal and keeps the state it answers. If
// its key stays in progress (Recover), the deal is read: an action it
// shows is done, one it does not is sent again under a new key.
func (r *run) act(who Party, action string, body any) error {
	route := routeOf(action)
	for again := 0; ; again++ {
		step := action
		if again > 0 {
			step = fmt.Sprintf("%s/again-%d", action, again)
		}
		err := r.post(who, "POST /v1/deals/:id/"+route, "/v1/deals/"+r.id+"/"+action, step, body, http.StatusOK, &r.state)
		if err == nil {
			r.saw()
		}
		var stuck *StuckError
		if !errors.As(err, &stuck) {
			return err
		}
		if err := r.refresh(); err != nil {
			return err
		}
		done := r.state.applied(route, who)
		if r.c.Recovered != nil {
			r.c.Recovered(stuck.Endpoint, done)
		}
		if done {
			return nil
		}
	}
}

// routeOf names an action's route as the API registers it.
func routeOf(action string) string {
	if strings.HasPrefix(action, "quotes/") && strings.HasSuffix(action, "/accept") {
		return "quotes/:qid/accept"
	}
	return action
}

// pay pays one step. A payment the provider holds as pending is confirmed
// (Confirm) and waited for; one whose start failed is paid again.
func (r *run) pay(step string) error {
	for attempt := 1; ; attempt++ {
		var res struct {
			Deal    View `json:"deal"`
			Payment struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"payment"`
		}
		err := r.post(r.p.Buyer, "POST /v1/deals/:id/payments/"+step, "/v1/deals/"+r.id+"/payments/"+step,
			fmt.Sprintf("pay-%s-%d", step, attempt), nil, http.StatusOK, &res)
		var refused *Error
		var stuck *StuckError
		switch {
		case errors.As(err, &refused) && refused.Status == http.StatusConflict, errors.As(err, &stuck):
			// Started, or even paid, by an attempt whose answer was lost.
			if err := r.refresh(); err != nil {
				return err
			}
			if stuck != nil && r.c.Recovered != nil {
				r.c.Recovered(stuck.Endpoint, r.charge(step) != nil)
			}
		case err != nil:
			return err
		default:
			r.state = res.Deal
			r.saw()
			if res.Payment.Status == "succeeded" {
				return nil
			}
		}
		ch := r.charge(step)
		switch {
		case ch == nil && refused != nil:
			return err
		case ch == nil || ch.Status == "failed" || ch.Status == "initiating":
			if attempt >= 5 {
				return fmt.Errorf("the %s payment did not start after %d attempts", step, attempt)
			}
			time.Sleep(r.c.poll())
			continue
		case ch.Status == "pending" && r.c.Confirm != nil:
			if err := r.c.Confirm(r.ctx, ch.ProviderID); err != nil {
				return fmt.Errorf("confirm the %s payment: %w", step, err)
			}
		}
		return r.wait(step+" paid", func(v View) bool {
			if v.Payments == nil && v.Done != nil { // the baseline
				return true
			}
			for i := len(v.Payments) - 1; i >= 0; i-- {
				if p := v.Payments[i]; p.Kind == "charge" && p.Step == step {
					return p.Status == "succeeded"
				}
			}
			return false
		})
	}
}

// charge is the latest charge of a step in the state last read.
func (r *run) charge(step string) *Payment {
	for i := len(r.state.Payments) - 1; i >= 0; i-- {
		if p := &r.state.Payments[i]; p.Kind == "charge" && p.Step == step {
			return p
		}
	}
	return nil
}

func (r *run) refresh() error {
	if err := r.get(r.p.Buyer, "GET /v1/deals/:id", "/v1/deals/"+r.id, &r.state); err != nil {
		return err
	}
	r.saw()
	return nil
}

// wait reads the deal until ok holds; a deal that ends otherwise is an error.
func (r *run) wait(what string, ok func(View) bool) error {
	for {
		if err := r.refresh(); err != nil {
			return err
		}
		if ok(r.state) {
			return nil
		}
		if r.state.final() && (r.state.Resolution == nil || r.state.Resolution.Done) {
			return fmt.Errorf("waiting for %s, the deal ended %s", what, r.state.Stage)
		}
		select {
		case <-r.ctx.Done():
			return fmt.Errorf("waiting for %s at stage %s: %w", what, r.state.Stage, r.ctx.Err())
		case <-time.After(r.c.poll()):
		}
	}
}

func (c *Client) poll() time.Duration {
	if c.Poll > 0 {
		return c.Poll
	}
	return 100 * time.Millisecond
}

func (r *run) post(who Party, endpoint, path, step string, body any, want int, out any) error {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	return r.c.Do(r.ctx, who.Key, http.MethodPost, endpoint, r.prefix+path, r.ref+"/"+step, raw, want, out)
}

func (r *run) get(who Party, endpoint, path string, out any) error {
	return r.c.Do(r.ctx, who.Key, http.MethodGet, endpoint, r.prefix+path, "", nil, http.StatusOK, out)
}

// Do sends one request as the holder of key, with idemKey as its
// Idempotency-Key when not empty, and retries it while the platform cannot
// answer. A response with status want is decoded into out; any other final
// answer is an *Error.
func (c *Client) Do(ctx context.Context, key, method, endpoint, path, idemKey string, body []byte, want int, out any) error {
	retry := c.Retry
	if retry <= 0 {
		retry = 2 * time.Minute
	}
	giveUp := time.Now().Add(retry)
	backoff := 50 * time.Millisecond
	var inProgressSince time.Time
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	for {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if idemKey != "" {
			req.Header.Set("Idempotency-Key", idemKey)
		}
		began := time.Now()
		resp, err := hc.Do(req)
		status := 0
		var respBody []byte
		wait := backoff
		if err == nil {
			// The platform says when to come back; coming sooner only
			// adds to what keeps it busy.
			if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && secs > 0 {
				wait = max(wait, time.Duration(secs)*time.Second)
			}
			respBody, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			status = resp.StatusCode
			if err != nil {
				status = 0
			} else if c.Replayed != nil && resp.Header.Get("Idempotent-Replayed") == "true" {
				c.Replayed(endpoint)
			}
		}
		if c.Observe != nil {
			c.Observe(endpoint, status, time.Since(began))
		}
		if status == want {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(respBody, out); err != nil {
				return fmt.Errorf("%s: decode %.200s: %w", endpoint, respBody, err)
			}
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", endpoint, ctx.Err())
		}
		if status != 0 && !retryable(status, respBody) {
			return &Error{Endpoint: endpoint, Status: status, Body: string(respBody)}
		}
		if status == http.StatusConflict { // in progress
			if inProgressSince.IsZero() {
				inProgressSince = began
			}
			if c.Recover > 0 && time.Since(inProgressSince) >= c.Recover {
				return &StuckError{Endpoint: endpoint, For: time.Since(inProgressSince)}
			}
		} else {
			inProgressSince = time.Time{}
		}
		if time.Now().After(giveUp) {
			if status == 0 {
				return fmt.Errorf("%s: no answer for %s: %v", endpoint, retry, err)
			}
			return &Error{Endpoint: endpoint, Status: status, Body: string(respBody)}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", endpoint, ctx.Err())
		case <-time.After(wait):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// retryable: the platform could not answer, or the key's first request is
// still being served.
func retryable(status int, body []byte) bool {
	if status >= 500 || status == http.StatusTooManyRequests {
		return true
	}
	if status == http.StatusConflict {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		return e.Error.Code == "in_progress"
	}
	return false
}

// NewRef returns a random reference: 16 hex digits, for idempotency keys
// and the specs a created deal is found by.
func NewRef() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
