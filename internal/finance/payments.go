package finance

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/keyset"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/workflows"
)

// ---- payments ----

// PaymentLine is one money movement at the provider as finance reads it:
// a charge of the buyer, a refund to it, or a transfer to the supplier.
type PaymentLine struct {
	DealID     string    `json:"deal_id"`
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Step       string    `json:"step"`
	Amount     int64     `json:"amount"`
	Currency   string    `json:"currency"`
	Status     string    `json:"status"`
	Provider   string    `json:"provider"`
	ProviderID string    `json:"provider_id,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// PaymentTotal is the count and sum of the matching payments of one kind,
// status and currency.
type PaymentTotal struct {
	Kind     string `json:"kind"`
	Status   string `json:"status"`
	Currency string `json:"currency"`
	Payments int64  `json:"payments"`
	Amount   int64  `json:"amount"`
}

// PaymentPage is one page of payments, newest first, with the totals of
// every payment the filter matches; Next continues it ("" on the last).
type PaymentPage struct {
	Payments []PaymentLine  `json:"payments"`
	Totals   []PaymentTotal `json:"totals"`
	Next     string         `json:"next_cursor,omitempty"`
}

// PaymentFilter chooses payments made in [From, To); an empty field
// matches any value.
type PaymentFilter struct {
	From, To                             time.Time
	Kind, Status, Step, Currency, DealID string
	Cursor                               string
	Limit                                int
}

// The bounds of a payment list.
const (
	MaxPayments     = 500
	MaxPaymentRange = 366 * 24 * time.Hour
)

// A FilterError names the field of a PaymentFilter that cannot match.
type FilterError struct{ Field, Rule string }

func (e *FilterError) Error() string { return e.Field + " " + e.Rule }

var stepRE = regexp.MustCompile(`^[a-z_]{1,32}$`)

// check refuses a filter no payment could match for its form (a kind or
// status that does not exist, a range backwards or over a year).
func (f PaymentFilter) check() error {
	oneOf := func(v string, of ...string) bool { return v == "" || slices.Contains(of, v) }
	switch {
	case f.From.IsZero() || f.To.IsZero() || !f.To.After(f.From) || f.To.Sub(f.From) > MaxPaymentRange:
		return &FilterError{"to", "must be after from, at most 366 days"}
	case !oneOf(f.Kind, string(workflows.PaymentCharge), string(workflows.PaymentRefund), string(workflows.PaymentTransfer), string(workflows.PaymentCoupon)):
		return &FilterError{"kind", "must be charge, refund, transfer or coupon"}
	case !oneOf(f.Status, string(workflows.PaymentInitiating), string(workflows.PaymentPending), string(workflows.PaymentSucceeded), string(workflows.PaymentDeclined)):
		return &FilterError{"status", "must be initiating, pending, succeeded or failed"}
	case f.Step != "" && !stepRE.MatchString(f.Step):
		return &FilterError{"step", "must be a step such as deposit"}
	case f.Currency != "" && !money.KnownCurrency(f.Currency):
		return &FilterError{"currency", "must be a currency the platform trades in"}
	case f.DealID != "" && !readmodel.ValidDealID(f.DealID):
		return &FilterError{"deal", "must be a deal's ID"}
	}
	return nil
}

// Payments lists the payments f matches, newest first, a page at a time,
// with their totals by kind, status and currency.
func (s *Service) Payments(ctx context.Context, f PaymentFilter) (PaymentPage, error) {
	if err := f.check(); err != nil {
		return PaymentPage{}, err
	}
	if f.Limit <= 0 || f.Limit > MaxPayments {
		f.Limit = 100
	}
	after, ok, err := keyset.Decode(f.Cursor, 2)
	if err != nil {
		return PaymentPage{}, &FilterError{"cursor", "is not a cursor this list gave out"}
	}
	opt := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	p := store.ListPaymentsParams{FromAt: f.From, ToAt: f.To, Kind: opt(f.Kind), Status: opt(f.Status), Step: opt(f.Step),
		Currency: opt(f.Currency), DealID: opt(f.DealID), MaxCount: int32(f.Limit + 1)}
	if ok {
		p.After, p.AfterAt, p.AfterDeal, p.AfterPayment = true, after.At, after.Keys[0], after.Keys[1]
	}
	q := store.New(s.pool)
	rows, err := q.ListPayments(ctx, p)
	if err != nil {
		return PaymentPage{}, fmt.Errorf("list payments: %w", err)
	}
	page := PaymentPage{Payments: make([]PaymentLine, 0, len(rows)), Totals: []PaymentTotal{}}
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		last := rows[f.Limit-1]
		page.Next = keyset.Encode(last.CreatedAt, last.DealID, last.PaymentID)
	}
	for _, r := range rows {
		page.Payments = append(page.Payments, PaymentLine{DealID: r.DealID, ID: r.PaymentID, Kind: r.Kind, Step: r.Step, Amount: r.AmountMinor,
			Currency: r.Currency, Status: r.Status, Provider: r.Provider, ProviderID: r.ProviderID, Reason: r.Reason, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt})
	}
	sums, err := q.SumPayments(ctx, store.SumPaymentsParams{FromAt: f.From, ToAt: f.To, Kind: p.Kind, Status: p.Status, Step: p.Step, Currency: p.Currency, DealID: p.DealID})
	if err != nil {
		return PaymentPage{}, fmt.Errorf("sum payments: %w", err)
	}
	for _, r := range sums {
		page.Totals = append(page.Totals, PaymentTotal{Kind: r.Kind, Status: r.Status, Currency: r.Currency, Payments: r.Payments, Amount: r.AmountMinor})
	}
	return page, nil
}
