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
	"strings"
	"time"
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
	// Prefix, if set, goes before the path of each request of a deal of
	// the given kind (the bench's baseline serves each kind under its own).
	Prefix func(Kind) string
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
	Payments   []Payment `json:"payments"`
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

func (v View) final() bool {
	switch v.Stage {
	case "COMPLETED", "RESOLVED", "CANCELLED", "EXPIRED":
		return true
	}
	return false
}

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

// run is one deal in progress.
type run struct {
	c      *Client
	ctx    context.Context
	p      Parties
	ref    string // prefix of the deal's idempotency keys
	prefix string // of its paths
	id     string
	state  View
}

// Run drives one deal of the given kind to its end: the escrow settled.
func (c *Client) Run(ctx context.Context, kind Kind, p Parties) (Result, error) {
	began := time.Now()
	r := &run{c: c, ctx: ctx, p: p, ref: randomRef()}
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
	if err := r.post(r.p.Buyer, "POST /v1/deals", "/v1/deals", "create", body, http.StatusCreated, &r.state); err != nil {
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
		return v.Stage == "INSPECTION"
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

// act posts a party action on the deal and keeps the state it answers.
func (r *run) act(who Party, action string, body any) error {
	return r.post(who, "POST /v1/deals/:id/"+routeOf(action), "/v1/deals/"+r.id+"/"+action, action, body, http.StatusOK, &r.state)
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
		switch {
		case errors.As(err, &refused) && refused.Status == http.StatusConflict:
			// Started, or even paid, by an attempt whose answer was lost.
			if err := r.refresh(); err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			r.state = res.Deal
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
	return r.get(r.p.Buyer, "GET /v1/deals/:id", "/v1/deals/"+r.id, &r.state)
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
		if err == nil {
			respBody, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			status = resp.StatusCode
			if err != nil {
				status = 0
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
		if time.Now().After(giveUp) {
			if status == 0 {
				return fmt.Errorf("%s: no answer for %s: %v", endpoint, retry, err)
			}
			return &Error{Endpoint: endpoint, Status: status, Body: string(respBody)}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", endpoint, ctx.Err())
		case <-time.After(backoff):
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

func randomRef() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
