package activities

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory implements Payments, Ledger, Projection, Tracker, Notifier and
// Alerts in memory. It is what the workflow tests run against, and what the worker
// uses until the PostgreSQL ledger, the Stripe and sandbox providers and the
// carrier tracker are built: it keeps nothing across a restart.
//
// It behaves like the real ones where the workflow depends on it: every
// call is idempotent by its key, postings must balance, and an escrow
// account never goes negative.
type Memory struct {
	mu             sync.Mutex
	pendingCharges bool
	declineCharges map[string]int
	declineSaved   map[string]int
	shipments      map[string][]string

	charges       map[string]ChargeResult
	chargeInputs  map[string]ChargeInput
	refunds       map[string]RefundInput
	transfers     map[string]TransferInput
	postings      map[string]Posting
	postingOrder  []string
	balances      map[string]int64 // account|currency → balance
	projections   map[string]DealProjection
	projectErr    func(DealProjection) error
	postErr       func(Posting) error
	events        map[string]map[int]ProjectedEvent
	polls         map[string]int
	notifications map[string]Notification
	alerts        []Alert // open ones, in the order first raised
	mediators     []string
}

// NewMemory returns empty in-memory providers.
func NewMemory() *Memory {
	return &Memory{
		declineCharges: map[string]int{},
		declineSaved:   map[string]int{},
		shipments:      map[string][]string{},
		charges:        map[string]ChargeResult{},
		chargeInputs:   map[string]ChargeInput{},
		refunds:        map[string]RefundInput{},
		transfers:      map[string]TransferInput{},
		postings:       map[string]Posting{},
		balances:       map[string]int64{},
		projections:    map[string]DealProjection{},
		events:         map[string]map[int]ProjectedEvent{},
		polls:          map[string]int{},
		notifications:  map[string]Notification{},
	}
}

// ChargesPending makes charges answer "pending" (like Stripe, which
// confirms by webhook) instead of "succeeded" (like the sandbox).
func (m *Memory) ChargesPending(pending bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pendingCharges = pending
}

// Decline makes the next n charges of a step ("deposit", …) be declined.
func (m *Memory) Decline(step string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.declineCharges[step] = n
}

// DeclineSaved makes the next n charges of a saved card (ChargeSaved) of
// a step be declined, and no other charge: a card that worked with its
// holder there and is declined without them.
func (m *Memory) DeclineSaved(step string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.declineSaved[step] = n
}

// Script sets what tracking reports for a number: each poll returns the
// next status of the list, then the last one again.
func (m *Memory) Script(trackingNumber string, statuses ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.shipments[trackingNumber] = statuses
}

// Activities returns Activities backed entirely by m.
func (m *Memory) Activities() *Activities {
	return &Activities{Payments: m, Ledger: m, Projection: m, Tracker: m, Notifier: m, Alerts: m, Mediators: m}
}

// SetMediators sets the platform's mediators, the least busy first.
func (m *Memory) SetMediators(userIDs ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mediators = userIDs
}

// LeastBusyMediator implements Mediators: the first of SetMediators, or
// "" without any.
func (m *Memory) LeastBusyMediator(context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.mediators) == 0 {
		return "", nil
	}
	return m.mediators[0], nil
}

// Charge implements Payments.
func (m *Memory) Charge(_ context.Context, in ChargeInput) (ChargeResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.chargeOnce(in, "card declined (memory provider)", []map[string]int{m.declineCharges}, func(id string) ChargeResult {
		status := "succeeded"
		if m.pendingCharges {
			status = "pending"
		}
		r := ChargeResult{Provider: "memory", PaymentID: id, Status: status, ClientSecret: "memory_secret"}
		if in.SaveForLater {
			r.Payer = "memory_payer_" + in.BuyerOrgID
		}
		return r
	})
}

// ChargeSaved implements Payments: like Charge, declined by Decline or
// DeclineSaved of its step, and never pending (nobody is there to
// confirm it).
func (m *Memory) ChargeSaved(_ context.Context, in SavedChargeInput) (ChargeResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.chargeOnce(in.ChargeInput, "card declined off-session (memory provider)", []map[string]int{m.declineSaved, m.declineCharges},
		func(id string) ChargeResult {
			return ChargeResult{Provider: "memory", PaymentID: id, Status: "succeeded", Payer: in.Payer}
		})
}

// chargeOnce answers the charge made with in's idempotency key, or makes
// it (result of its new ID) unless one of declines refuses in's step,
// why saying so; m.mu is held.
func (m *Memory) chargeOnce(in ChargeInput, why string, declines []map[string]int, result func(id string) ChargeResult) (ChargeResult, error) {
	if r, ok := m.charges[in.IdempotencyKey]; ok {
		return r, nil
	}
	for _, d := range declines {
		if d[in.Step] > 0 {
			d[in.Step]--
			return ChargeResult{}, Declined(why)
		}
	}
	r := result(fmt.Sprintf("pay_%d", len(m.charges)+1))
	m.charges[in.IdempotencyKey] = r
	m.chargeInputs[in.IdempotencyKey] = in
	return r, nil
}

// Status implements Payments: a charge it made has succeeded.
func (m *Memory) Status(_ context.Context, id string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.charges {
		if r.PaymentID == id {
			return "succeeded", nil
		}
	}
	return "failed", nil
}

// Refund implements Payments.
func (m *Memory) Refund(_ context.Context, in RefundInput) (RefundResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refunds[in.IdempotencyKey] = in
	return RefundResult{Provider: "memory", RefundID: "re_" + in.IdempotencyKey}, nil
}

// Transfer implements Payments.
func (m *Memory) Transfer(_ context.Context, in TransferInput) (TransferResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.transfers[in.IdempotencyKey] = in
	return TransferResult{Provider: "memory", TransferID: "tr_" + in.IdempotencyKey}, nil
}

// Post implements Ledger.
func (m *Memory) Post(_ context.Context, p Posting) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrLedgerRejected, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.postErr != nil {
		if err := m.postErr(p); err != nil {
			return err
		}
	}
	if _, dup := m.postings[p.IdempotencyKey]; dup {
		return nil
	}
	for _, l := range p.Lines {
		k := l.Account + "|" + l.Currency
		if (strings.HasPrefix(l.Account, "escrow:") || strings.HasPrefix(l.Account, "coupon:") || strings.HasPrefix(l.Account, "deposit:")) && m.balances[k]+l.Amount < 0 {
			return fmt.Errorf("%w: posting %s would take %s below zero", ErrLedgerRejected, p.IdempotencyKey, l.Account)
		}
	}
	for _, l := range p.Lines {
		m.balances[l.Account+"|"+l.Currency] += l.Amount
	}
	m.postings[p.IdempotencyKey] = p
	m.postingOrder = append(m.postingOrder, p.IdempotencyKey)
	return nil
}

// FailPostings makes Post fail with what fail returns (nil lets it
// through), as a ledger that is down does.
func (m *Memory) FailPostings(fail func(Posting) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.postErr = fail
}

// FailProjections makes Project fail with what fail returns (nil lets it
// through), to show that nothing else waits behind a failing read model.
func (m *Memory) FailProjections(fail func(DealProjection) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.projectErr = fail
}

// Project implements Projection.
func (m *Memory) Project(_ context.Context, p DealProjection) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.projectErr != nil {
		if err := m.projectErr(p); err != nil {
			return err
		}
	}
	if old, ok := m.projections[p.DealID]; ok && (old.LastSeq > p.LastSeq || old.LastSeq == p.LastSeq && old.Round > p.Round) {
		return nil // a newer projection is already there, as in the read model
	}
	if m.events[p.DealID] == nil {
		m.events[p.DealID] = map[int]ProjectedEvent{}
	}
	for _, e := range p.Events {
		m.events[p.DealID][e.Seq] = e
	}
	p.Events = nil
	m.projections[p.DealID] = p
	return nil
}

// WriteBooks implements Projection: the projection, then the
// notifications, which go out at once (the outbox's dispatcher is not part
// of the workflow's tests), each once by its key. A failing projection
// writes neither, as the read model's transaction does.
func (m *Memory) WriteBooks(ctx context.Context, b Books) error {
	if b.Projection != nil {
		if err := m.Project(ctx, *b.Projection); err != nil {
			return err
		}
	}
	for _, n := range b.Notifications {
		if err := m.Notify(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// Track implements Tracker.
func (m *Memory) Track(_ context.Context, in TrackInput) (TrackResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	script := m.shipments[in.TrackingNumber]
	if len(script) == 0 {
		return TrackResult{Status: TrackPending}, nil
	}
	i := min(m.polls[in.TrackingNumber], len(script)-1)
	m.polls[in.TrackingNumber]++
	return TrackResult{Status: script[i]}, nil
}

// Notify implements Notifier.
func (m *Memory) Notify(_ context.Context, n Notification) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notifications[n.Key] = n
	return nil
}

// Balance is an account's balance in a currency.
func (m *Memory) Balance(account, currency string) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.balances[account+"|"+currency]
}

// Postings returns the postings in the order they were made.
func (m *Memory) Postings() []Posting {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Posting, 0, len(m.postingOrder))
	for _, k := range m.postingOrder {
		out = append(out, m.postings[k])
	}
	return out
}

// Charges returns the charges made, by idempotency key.
func (m *Memory) Charges() map[string]ChargeInput {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.chargeInputs)
}

// Refunds returns the refunds made, by idempotency key.
func (m *Memory) Refunds() map[string]RefundInput {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.refunds)
}

// Transfers returns the transfers made, by idempotency key.
func (m *Memory) Transfers() map[string]TransferInput {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.transfers)
}

// Projected returns a deal's projected summary and its events in order.
func (m *Memory) Projected(dealID string) (DealProjection, []ProjectedEvent) {
	m.mu.Lock()
	defer m.mu.Unlock()
	evs := make([]ProjectedEvent, 0, len(m.events[dealID]))
	for _, e := range m.events[dealID] {
		evs = append(evs, e)
	}
	slices.SortFunc(evs, func(a, b ProjectedEvent) int { return a.Seq - b.Seq })
	return m.projections[dealID], evs
}

// Notifications returns the notifications sent of a kind.
func (m *Memory) Notifications(kind string) []Notification {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Notification
	for _, n := range m.notifications {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// Raise implements Alerts: one open alert per kind, deal and subject.
func (m *Memory) Raise(_ context.Context, a Alert) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, o := range m.alerts {
		if o.Kind == a.Kind && o.DealID == a.DealID && o.Subject == a.Subject {
			m.alerts[i] = a
			return nil
		}
	}
	m.alerts = append(m.alerts, a)
	return nil
}

// Resolve implements Alerts; the memory keeps no times, so before is not
// looked at.
func (m *Memory) Resolve(_ context.Context, kinds []string, seen []Alert, _ time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept, n := m.alerts[:0], 0
	for _, a := range m.alerts {
		if slices.Contains(kinds, a.Kind) && !slices.ContainsFunc(seen, func(s Alert) bool {
			return s.Kind == a.Kind && s.DealID == a.DealID && s.Subject == a.Subject
		}) {
			n++
			continue
		}
		kept = append(kept, a)
	}
	m.alerts = kept
	return n, nil
}

// OpenAlerts returns the open alerts in the order first raised.
func (m *Memory) OpenAlerts() []Alert {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.alerts)
}
