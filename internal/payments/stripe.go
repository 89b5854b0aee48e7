// Package payments holds the two Payments providers the deal workflow's
// activities use: Stripe ("separate charges and transfers", the README's "Payments") when
// a secret key is configured, and a sandbox that moves no money otherwise.
package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/workflows"
)

// AccountLookup returns a supplier organization's Stripe connected account.
type AccountLookup func(ctx context.Context, supplierOrgID string) (string, error)

// Stripe is the Stripe provider: a PaymentIntent per payment, a Transfer per
// captured charge to the supplier's connected account, Refunds for refunds.
// Every call carries the activity's idempotency key.
type Stripe struct {
	api     *client.API
	account AccountLookup
}

var _ activities.Payments = (*Stripe)(nil)

// NewStripe returns the provider for a secret key; apiBase overrides Stripe's
// endpoint (stripe-mock in tests).
func NewStripe(secretKey, apiBase string, account AccountLookup) *Stripe {
	cfg := &stripe.BackendConfig{
		HTTPClient: &http.Client{Timeout: 20 * time.Second},
		// Temporal retries the activity; the client retrying too would only
		// hide how often Stripe fails.
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelError},
	}
	if apiBase != "" {
		cfg.URL = stripe.String(strings.TrimSuffix(apiBase, "/"))
	}
	return &Stripe{api: client.New(secretKey, stripe.NewBackendsWithConfig(cfg)), account: account}
}

// Charge creates the PaymentIntent the buyer's client confirms with its
// client secret. Confirmation arrives by webhook (or reconciliation).
func (s *Stripe) Charge(ctx context.Context, in activities.ChargeInput) (activities.ChargeResult, error) {
	p := &stripe.PaymentIntentParams{
		Amount:                  stripe.Int64(in.Amount),
		Currency:                stripe.String(strings.ToLower(in.Currency)),
		TransferGroup:           stripe.String(workflows.DealWorkflowID(in.DealID)),
		Description:             stripe.String(fmt.Sprintf("Tradeloop deal %s: %s", in.DealID, in.Step)),
		AutomaticPaymentMethods: &stripe.PaymentIntentAutomaticPaymentMethodsParams{Enabled: stripe.Bool(true)},
	}
	payer := ""
	if in.SaveForLater {
		// The payer's card is kept on a customer of its own for the
		// charges made later without them.
		cp := &stripe.CustomerParams{Description: stripe.String("Tradeloop organization " + in.BuyerOrgID)}
		cp.Context = ctx
		cp.SetIdempotencyKey(in.IdempotencyKey + "/customer")
		cp.AddMetadata("org_id", in.BuyerOrgID)
		cus, err := s.api.Customers.New(cp)
		if err != nil {
			return activities.ChargeResult{}, classify(err, true)
		}
		payer = cus.ID
		p.Customer = stripe.String(cus.ID)
		p.SetupFutureUsage = stripe.String(string(stripe.PaymentIntentSetupFutureUsageOffSession))
	}
	p.Context = ctx
	p.SetIdempotencyKey(in.IdempotencyKey)
	p.AddMetadata("deal_id", in.DealID)
	p.AddMetadata("step", in.Step)
	p.AddMetadata("buyer_org_id", in.BuyerOrgID)
	p.AddMetadata("idempotency_key", in.IdempotencyKey)
	pi, err := s.api.PaymentIntents.New(p)
	if err != nil {
		return activities.ChargeResult{}, classify(err, true)
	}
	return activities.ChargeResult{Provider: "stripe", PaymentID: pi.ID, Status: intentStatus(pi), ClientSecret: pi.ClientSecret, Payer: payer}, nil
}

// ChargeSaved charges the payment method the payer confirmed charge
// in.SavedBy with, off-session and confirmed at once: no client takes
// part. A card Stripe declines, or whose bank wants the payer to
// authenticate, is Declined.
func (s *Stripe) ChargeSaved(ctx context.Context, in activities.SavedChargeInput) (activities.ChargeResult, error) {
	gp := &stripe.PaymentIntentParams{}
	gp.Context = ctx
	saved, err := s.api.PaymentIntents.Get(in.SavedBy, gp)
	if se := (*stripe.Error)(nil); errors.As(err, &se) && se.HTTPStatusCode == http.StatusNotFound {
		// Not a card to try again: the payment it was kept with is gone
		// (another Stripe account, a deleted test mode).
		return activities.ChargeResult{}, activities.Declined("the payment the card was kept with is unknown to Stripe: " + in.SavedBy)
	}
	if err != nil {
		return activities.ChargeResult{}, classify(err, false)
	}
	if saved.PaymentMethod == nil || saved.PaymentMethod.ID == "" {
		return activities.ChargeResult{}, activities.Declined("no payment method was saved with payment " + in.SavedBy)
	}
	p := savedChargeParams(in, saved.PaymentMethod.ID)
	p.Context = ctx
	pi, err := s.api.PaymentIntents.New(p)
	if err != nil {
		return activities.ChargeResult{}, classify(err, true)
	}
	if pi.Status == stripe.PaymentIntentStatusRequiresAction || pi.Status == stripe.PaymentIntentStatusRequiresPaymentMethod {
		return activities.ChargeResult{}, activities.Declined("the card needs its holder: " + string(pi.Status))
	}
	return activities.ChargeResult{Provider: "stripe", PaymentID: pi.ID, Status: intentStatus(pi), Payer: in.Payer}, nil
}

// savedChargeParams is the off-session PaymentIntent charging
// paymentMethod, saved on in.Payer.
func savedChargeParams(in activities.SavedChargeInput, paymentMethod string) *stripe.PaymentIntentParams {
	p := &stripe.PaymentIntentParams{
		Amount:        stripe.Int64(in.Amount),
		Currency:      stripe.String(strings.ToLower(in.Currency)),
		Customer:      stripe.String(in.Payer),
		PaymentMethod: stripe.String(paymentMethod),
		OffSession:    stripe.Bool(true),
		Confirm:       stripe.Bool(true),
		Description:   stripe.String(fmt.Sprintf("Tradeloop %s: %s", in.DealID, in.Step)),
		// Since API version 2023-08-16 (stripe-go pins 2023-10-16) a
		// PaymentIntent takes the Dashboard's payment methods, some of
		// which redirect, and Stripe refuses confirm=true without a
		// return_url. No payer is there to redirect.
		AutomaticPaymentMethods: &stripe.PaymentIntentAutomaticPaymentMethodsParams{
			Enabled:        stripe.Bool(true),
			AllowRedirects: stripe.String(string(stripe.PaymentIntentAutomaticPaymentMethodsAllowRedirectsNever)),
		},
	}
	p.SetIdempotencyKey(in.IdempotencyKey)
	p.AddMetadata("deal_id", in.DealID)
	p.AddMetadata("step", in.Step)
	p.AddMetadata("buyer_org_id", in.BuyerOrgID)
	p.AddMetadata("idempotency_key", in.IdempotencyKey)
	return p
}

func intentStatus(pi *stripe.PaymentIntent) string {
	if pi.Status == stripe.PaymentIntentStatusSucceeded {
		return "succeeded"
	}
	return "pending"
}

// ClientSecret is what the buyer's client needs to confirm a PaymentIntent.
// The API fetches it here so it never enters workflow history.
func (s *Stripe) ClientSecret(ctx context.Context, paymentID string) (string, error) {
	p := &stripe.PaymentIntentParams{}
	p.Context = ctx
	pi, err := s.api.PaymentIntents.Get(paymentID, p)
	if err != nil {
		return "", fmt.Errorf("stripe: get payment intent %s: %w", paymentID, err)
	}
	return pi.ClientSecret, nil
}

// Status implements Payments.
func (s *Stripe) Status(ctx context.Context, paymentID string) (string, error) {
	p := &stripe.PaymentIntentParams{}
	p.Context = ctx
	pi, err := s.api.PaymentIntents.Get(paymentID, p)
	if err != nil {
		return "", classify(err, false)
	}
	switch pi.Status {
	case stripe.PaymentIntentStatusSucceeded:
		return "succeeded", nil
	case stripe.PaymentIntentStatusCanceled:
		return "failed", nil
	}
	return "pending", nil
}

// Transfer pays the supplier out of one captured charge, or out of the
// platform's balance when it names none.
func (s *Stripe) Transfer(ctx context.Context, in activities.TransferInput) (activities.TransferResult, error) {
	dest, err := s.account(ctx, in.SupplierOrgID)
	if err != nil {
		return activities.TransferResult{}, fmt.Errorf("connected account of supplier %s: %w", in.SupplierOrgID, err)
	}
	p := &stripe.TransferParams{
		Amount:        stripe.Int64(in.Amount),
		Currency:      stripe.String(strings.ToLower(in.Currency)),
		Destination:   stripe.String(dest),
		TransferGroup: stripe.String(workflows.DealWorkflowID(in.DealID)),
	}
	// Money the platform put in itself (a buyer's coupon) has no charge
	// and goes from the platform's balance.
	if in.SourcePaymentID != "" {
		gp := &stripe.PaymentIntentParams{}
		gp.Context = ctx
		pi, err := s.api.PaymentIntents.Get(in.SourcePaymentID, gp)
		if err != nil {
			return activities.TransferResult{}, classify(err, false)
		}
		if pi.LatestCharge != nil && pi.LatestCharge.ID != "" {
			p.SourceTransaction = stripe.String(pi.LatestCharge.ID)
		}
	}
	p.Context = ctx
	p.SetIdempotencyKey(in.IdempotencyKey)
	p.AddMetadata("deal_id", in.DealID)
	p.AddMetadata("source_payment", in.SourcePaymentID)
	p.AddMetadata("idempotency_key", in.IdempotencyKey)
	tr, err := s.api.Transfers.New(p)
	if err != nil {
		return activities.TransferResult{}, classify(err, false)
	}
	return activities.TransferResult{Provider: "stripe", TransferID: tr.ID}, nil
}

// Refund returns all or part of a charge to the buyer.
func (s *Stripe) Refund(ctx context.Context, in activities.RefundInput) (activities.RefundResult, error) {
	p := &stripe.RefundParams{PaymentIntent: stripe.String(in.PaymentID), Amount: stripe.Int64(in.Amount)}
	p.Context = ctx
	p.SetIdempotencyKey(in.IdempotencyKey)
	p.AddMetadata("deal_id", in.DealID)
	p.AddMetadata("idempotency_key", in.IdempotencyKey)
	rf, err := s.api.Refunds.New(p)
	if err != nil {
		return activities.RefundResult{}, classify(err, false)
	}
	return activities.RefundResult{Provider: "stripe", RefundID: rf.ID}, nil
}

// classify sorts Stripe's errors. A declined card, and for a charge any
// invalid request, is the buyer's business: a non-retryable PaymentDeclined.
// Network failures, rate limits and Stripe's 5xx are retried by the
// activity's policy. A refund or transfer Stripe refuses is retried too
// (with backoff): money owed out is never dropped; operations see the
// failing activity in the Temporal UI and fix its cause.
func classify(err error, charge bool) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		switch {
		case se.Type == stripe.ErrorTypeCard:
			return activities.Declined(fmt.Sprintf("card declined: %s (%s)", se.Msg, se.DeclineCode))
		case se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode >= 500:
			return fmt.Errorf("stripe unavailable (%d): %s", se.HTTPStatusCode, se.Msg)
		case charge && (se.Type == stripe.ErrorTypeInvalidRequest || se.Type == stripe.ErrorTypeIdempotency):
			return temporal.NewNonRetryableApplicationError("payment refused: "+se.Msg, activities.ErrPaymentDeclined, nil)
		}
		return fmt.Errorf("stripe refused (%d %s): %s", se.HTTPStatusCode, se.Type, se.Msg)
	}
	return fmt.Errorf("stripe: %w", err)
}
