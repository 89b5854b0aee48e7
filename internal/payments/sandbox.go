package payments

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tradeloop/tradeloop/activities"
)

// Sandbox is the provider for development and demos: no network and no
// money, and every answer says "sandbox". Charges confirm at once, or after
// Delay (then the deal learns it by reconciliation, as with a lost Stripe
// webhook). It keeps its records in memory, idempotent by key.
type Sandbox struct {
	Delay time.Duration

	mu      sync.Mutex
	now     func() time.Time
	charges map[string]sandboxCharge // by idempotency key
	decline map[string]int
}

type sandboxCharge struct {
	id      string
	created time.Time
}

var _ activities.Payments = (*Sandbox)(nil)

// NewSandbox returns a sandbox whose charges confirm after delay (0: at once).
func NewSandbox(delay time.Duration) *Sandbox {
	return &Sandbox{Delay: delay, now: time.Now, charges: map[string]sandboxCharge{}, decline: map[string]int{}}
}

// Decline makes the next n charges of a step fail, for tests and demos.
func (s *Sandbox) Decline(step string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.decline[step] = n
}

// Charge implements Payments.
func (s *Sandbox) Charge(_ context.Context, in activities.ChargeInput) (activities.ChargeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.chargeOnce(in, "sandbox: card declined", s.now())
	if err != nil {
		return activities.ChargeResult{}, err
	}
	status := "succeeded"
	if s.Delay > 0 && s.now().Sub(c.created) < s.Delay {
		status = "pending"
	}
	res := activities.ChargeResult{Provider: "sandbox", PaymentID: c.id, Status: status, ClientSecret: c.id + "_secret_sandbox"}
	if in.SaveForLater {
		res.Payer = "sandbox_cus_" + in.BuyerOrgID
	}
	return res, nil
}

// ChargeSaved implements Payments: it succeeds at once, unless Decline
// was told to refuse charges of its step.
func (s *Sandbox) ChargeSaved(_ context.Context, in activities.SavedChargeInput) (activities.ChargeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.chargeOnce(in.ChargeInput, "sandbox: the saved card was declined", s.now().Add(-s.Delay))
	if err != nil {
		return activities.ChargeResult{}, err
	}
	return activities.ChargeResult{Provider: "sandbox", PaymentID: c.id, Status: "succeeded", Payer: in.Payer}, nil
}

// chargeOnce is the charge made with in's idempotency key, made now (as
// if created at created) unless Decline refuses in's step, why saying
// so; s.mu is held.
func (s *Sandbox) chargeOnce(in activities.ChargeInput, why string, created time.Time) (sandboxCharge, error) {
	if c, ok := s.charges[in.IdempotencyKey]; ok {
		return c, nil
	}
	if s.decline[in.Step] > 0 {
		s.decline[in.Step]--
		return sandboxCharge{}, activities.Declined(why)
	}
	c := sandboxCharge{id: fmt.Sprintf("sandbox_pi_%d", len(s.charges)+1), created: created}
	s.charges[in.IdempotencyKey] = c
	return c, nil
}

// Status implements Payments.
func (s *Sandbox) Status(_ context.Context, id string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.charges {
		if c.id == id {
			if s.now().Sub(c.created) < s.Delay {
				return "pending", nil
			}
			return "succeeded", nil
		}
	}
	// Made before this process started (the sandbox keeps no records across
	// a restart): a sandbox charge always succeeds in the end.
	if strings.HasPrefix(id, "sandbox_pi_") {
		return "succeeded", nil
	}
	return "failed", nil
}

// Refund implements Payments.
func (s *Sandbox) Refund(_ context.Context, in activities.RefundInput) (activities.RefundResult, error) {
	return activities.RefundResult{Provider: "sandbox", RefundID: "sandbox_re_" + in.IdempotencyKey}, nil
}

// Transfer implements Payments.
func (s *Sandbox) Transfer(_ context.Context, in activities.TransferInput) (activities.TransferResult, error) {
	return activities.TransferResult{Provider: "sandbox", TransferID: "sandbox_tr_" + in.IdempotencyKey}, nil
}
