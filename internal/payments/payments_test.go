package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/stripefake"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

// declined reports whether err is the non-retryable PaymentDeclined the
// workflows let the payer answer instead of retrying.
func declined(err error) bool {
	var app *temporal.ApplicationError
	return errors.As(err, &app) && app.NonRetryable() && app.Type() == activities.ErrPaymentDeclined
}

func account(context.Context, string) (string, error) { return "acct_1Supplier", nil }

// The Stripe path against stripe-mock, which checks every parameter against
// Stripe's OpenAPI specification.
func TestStripeAgainstStripeMock(t *testing.T) {
	ctx := context.Background()
	s := NewStripe("sk_test_123", testenv.StripeMock(t), account)

	dep, err := s.Charge(ctx, activities.ChargeInput{DealID: "d1", Step: activities.StepDeposit, BuyerOrgID: "b1", Amount: 300_000, Currency: "USD", IdempotencyKey: "deal-d1/deposit-1"})
	if err != nil {
		t.Fatalf("deposit: %v", err)
	}
	if dep.Provider != "stripe" || !strings.HasPrefix(dep.PaymentID, "pi_") || dep.ClientSecret == "" {
		t.Fatalf("deposit %+v", dep)
	}
	if _, err := s.Charge(ctx, activities.ChargeInput{DealID: "d1", Step: activities.StepBalance, BuyerOrgID: "b1", Amount: 700_000, Currency: "USD", IdempotencyKey: "deal-d1/balance-1"}); err != nil {
		t.Fatalf("balance: %v", err)
	}
	tr, err := s.Transfer(ctx, activities.TransferInput{DealID: "d1", SupplierOrgID: "s1", SourcePaymentID: dep.PaymentID, Amount: 294_000, Currency: "USD", IdempotencyKey: "deal-d1/deposit-1/transfer"})
	if err != nil || !strings.HasPrefix(tr.TransferID, "tr_") {
		t.Fatalf("transfer net of commission: %+v %v", tr, err)
	}
	for _, amount := range []int64{300_000, 120_000} { // full and partial
		rf, err := s.Refund(ctx, activities.RefundInput{DealID: "d1", PaymentID: dep.PaymentID, Amount: amount, Currency: "USD", IdempotencyKey: "deal-d1/deposit-1/refund"})
		if err != nil || !strings.HasPrefix(rf.RefundID, "re_") {
			t.Fatalf("refund %d: %+v %v", amount, rf, err)
		}
	}
	if st, err := s.Status(ctx, dep.PaymentID); err != nil || st == "" {
		t.Fatalf("status %q %v", st, err)
	}
	if secret, err := s.ClientSecret(ctx, dep.PaymentID); err != nil || secret == "" {
		t.Fatalf("client secret %q %v", secret, err)
	}
}

// stripeAnswering is a local server that answers every call with status and
// body, recording what it was sent.
func stripeAnswering(t *testing.T, status int, body string) (*Stripe, *[]*http.Request) {
	t.Helper()
	var mu sync.Mutex
	var seen []*http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Clone(context.Background()))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return NewStripe("sk_test_123", srv.URL, account), &seen
}

func TestStripeErrorsAreClassified(t *testing.T) {
	ctx := context.Background()
	charge := activities.ChargeInput{DealID: "d1", Step: "deposit", Amount: 100, Currency: "USD", IdempotencyKey: "deal-d1/deposit-1"}
	nonRetryable := func(err error) bool {
		var app *temporal.ApplicationError
		return errors.As(err, &app) && app.NonRetryable() && app.Type() == activities.ErrPaymentDeclined
	}

	s, seen := stripeAnswering(t, 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}`)
	if _, err := s.Charge(ctx, charge); !nonRetryable(err) {
		t.Errorf("declined card: %v, want non-retryable PaymentDeclined", err)
	}
	if got := (*seen)[0].Header.Get("Idempotency-Key"); got != "deal-d1/deposit-1" {
		t.Errorf("Idempotency-Key %q, want the activity's key", got)
	}

	s, _ = stripeAnswering(t, 400, `{"error":{"type":"invalid_request_error","message":"Amount must be at least 50 cents"}}`)
	if _, err := s.Charge(ctx, charge); !nonRetryable(err) {
		t.Errorf("invalid charge: %v, want non-retryable", err)
	}
	if _, err := s.Refund(ctx, activities.RefundInput{PaymentID: "pi_1", Amount: 1, IdempotencyKey: "k"}); err == nil || nonRetryable(err) {
		t.Errorf("refused refund: %v, want a retryable error (money owed out is never dropped)", err)
	}

	for _, c := range []struct {
		status int
		body   string
	}{
		{500, `{"error":{"type":"api_error","message":"boom"}}`},
		{429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"slow down"}}`},
	} {
		s, _ := stripeAnswering(t, c.status, c.body)
		_, err := s.Charge(ctx, charge)
		var app *temporal.ApplicationError
		if err == nil || (errors.As(err, &app) && app.NonRetryable()) {
			t.Errorf("%d: %v, want retryable", c.status, err)
		}
	}
}

func TestSandboxConfirmsLaterAndCanDecline(t *testing.T) {
	ctx := context.Background()
	s := NewSandbox(time.Hour)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }
	in := activities.ChargeInput{Step: "deposit", Amount: 10, IdempotencyKey: "k1"}
	r, err := s.Charge(ctx, in)
	if err != nil || r.Provider != "sandbox" || r.Status != "pending" {
		t.Fatalf("delayed charge %+v %v", r, err)
	}
	if again, _ := s.Charge(ctx, in); again.PaymentID != r.PaymentID {
		t.Fatal("a retried charge made another payment")
	}
	now = now.Add(time.Hour)
	if st, _ := s.Status(ctx, r.PaymentID); st != "succeeded" {
		t.Fatalf("status after the delay: %s", st)
	}
	s.Decline("balance", 1)
	if _, err := s.Charge(ctx, activities.ChargeInput{Step: "balance", Amount: 10, IdempotencyKey: "k2"}); err == nil {
		t.Fatal("decline not applied")
	}
	if r, err := s.Charge(ctx, activities.ChargeInput{Step: "balance", Amount: 10, IdempotencyKey: "k3"}); err != nil || r.Provider != "sandbox" {
		t.Fatalf("after the decline %+v %v", r, err)
	}
}

// A transfer of the platform's own money (a buyer's coupon) names no
// charge: it is one request, from the platform's balance.
func TestATransferWithoutASourceIsFromThePlatformsBalance(t *testing.T) {
	var paths, forms []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		paths, forms = append(paths, r.URL.Path), append(forms, r.PostForm.Encode())
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id": "tr_1", "object": "transfer"}`))
	}))
	t.Cleanup(srv.Close)
	s := NewStripe("sk_test_123", srv.URL, account)
	tr, err := s.Transfer(context.Background(), activities.TransferInput{DealID: "d1", SupplierOrgID: "s1", Amount: 9_800, Currency: "USD", IdempotencyKey: "deal-d1/coupon/transfer"})
	if err != nil || tr.TransferID != "tr_1" {
		t.Fatalf("transfer %+v %v", tr, err)
	}
	if len(paths) != 1 || paths[0] != "/v1/transfers" {
		t.Fatalf("requests %v", paths)
	}
	if strings.Contains(forms[0], "source_transaction") || !strings.Contains(forms[0], "amount=9800") {
		t.Fatalf("transfer form %s", forms[0])
	}
	mock := NewStripe("sk_test_123", testenv.StripeMock(t), account)
	if tr, err := mock.Transfer(context.Background(), activities.TransferInput{DealID: "d1", SupplierOrgID: "s1", Amount: 9_800, Currency: "USD", IdempotencyKey: "deal-d1/coupon/transfer"}); err != nil || !strings.HasPrefix(tr.TransferID, "tr_") {
		t.Fatalf("stripe-mock transfer %+v %v", tr, err)
	}
}

// A yearly fee: the first charge saves the payer's card (SaveForLater),
// the payer confirms it, and the renewals charge the card without them
// (ChargeSaved), once per idempotency key.
func TestStripeChargesTheSavedCardOffSession(t *testing.T) {
	ctx := context.Background()
	fake := stripefake.New()
	defer fake.Close()
	s := NewStripe("sk_test_fake", fake.URL, account)

	in := activities.ChargeInput{Step: "fee", BuyerOrgID: "b1", Amount: 50_000, Currency: "USD", IdempotencyKey: "org-b1/fee-2026", SaveForLater: true}
	first, err := s.Charge(ctx, in)
	if err != nil || first.Status != "pending" || first.ClientSecret == "" || !strings.HasPrefix(first.Payer, "cus_") {
		t.Fatalf("first charge %+v, %v", first, err)
	}
	if again, err := s.Charge(ctx, in); err != nil || again.Payer != first.Payer || again.PaymentID != first.PaymentID {
		t.Fatalf("a retried first charge made %+v, %v", again, err)
	}
	if cs := fake.Customers(); len(cs) != 1 || cs[0].ID != first.Payer || cs[0].Metadata["org_id"] != "b1" || cs[0].IdempotencyKey != "org-b1/fee-2026/customer" {
		t.Fatalf("customers %+v", cs)
	}
	if pi := fake.Intents()[0]; pi.Customer != first.Payer || pi.SetupFutureUsage != "off_session" {
		t.Fatalf("first intent %+v", pi)
	}
	// Before the payer confirmed, nothing is saved to charge.
	renew := func(key string) activities.SavedChargeInput {
		return activities.SavedChargeInput{
			ChargeInput: activities.ChargeInput{Step: "fee", BuyerOrgID: "b1", Amount: 50_000, Currency: "USD", IdempotencyKey: key},
			Payer:       first.Payer, SavedBy: first.PaymentID,
		}
	}
	if _, err := s.ChargeSaved(ctx, renew("org-b1/fee-2027-early")); !declined(err) {
		t.Fatalf("a saved charge before any card was saved: %v, want declined", err)
	}
	if err := fake.Confirm(first.PaymentID); err != nil {
		t.Fatal(err)
	}

	r1, err := s.ChargeSaved(ctx, renew("org-b1/fee-2027"))
	if err != nil || r1.Status != "succeeded" || r1.Provider != "stripe" || r1.PaymentID == first.PaymentID || !strings.HasPrefix(r1.PaymentID, "pi_") || r1.Payer != first.Payer {
		t.Fatalf("renewal %+v, %v", r1, err)
	}
	r2, err := s.ChargeSaved(ctx, renew("org-b1/fee-2027"))
	if err != nil || r2 != r1 || len(fake.Intents()) != 2 {
		t.Fatalf("a retried renewal made %+v, %v (%d intents)", r2, err, len(fake.Intents()))
	}
	if pi := fake.Intents()[1]; !pi.OffSession || pi.Customer != first.Payer || pi.PaymentMethod != fake.Intents()[0].PaymentMethod || pi.Amount != 50_000 || pi.Step != "fee" {
		t.Fatalf("renewal intent %+v", pi)
	}
	if st, err := s.Status(ctx, r1.PaymentID); err != nil || st != "succeeded" {
		t.Fatalf("renewal status %q, %v", st, err)
	}

	// A card the bank declines, or wants its holder for, is declined: the
	// workflow asks the payer instead of retrying.
	for i, code := range []string{"card_declined", "authentication_required"} {
		fake.DeclineOffSession(first.Payer, code)
		_, err := s.ChargeSaved(ctx, renew(fmt.Sprintf("org-b1/fee-2028-%d", i)))
		if !declined(err) {
			t.Errorf("%s: %v, want a non-retryable %s", code, err, activities.ErrPaymentDeclined)
		}
	}
	fake.DeclineOffSession(first.Payer, "")

	// A payment the payer confirmed without saving its card has none to
	// charge.
	plain, err := s.Charge(ctx, activities.ChargeInput{Step: "fee", BuyerOrgID: "b1", Amount: 100, Currency: "USD", IdempotencyKey: "org-b1/plain"})
	if err != nil || plain.Payer != "" {
		t.Fatalf("plain charge %+v, %v", plain, err)
	}
	nosave := renew("org-b1/fee-nosave")
	nosave.SavedBy = plain.PaymentID
	if _, err := s.ChargeSaved(ctx, nosave); !declined(err) {
		t.Fatalf("a charge of an unsaved payment's method: %v, want declined", err)
	}
	_ = fake.Confirm(plain.PaymentID)
	if _, err := s.ChargeSaved(ctx, nosave); !declined(err) {
		t.Fatalf("a charge of a method not saved for the payer: %v, want declined", err)
	}
	// A kept card whose payment Stripe does not know is declined at once,
	// not retried as if Stripe were down.
	unknown := renew("org-b1/fee-unknown")
	unknown.SavedBy = "pi_unknown"
	if _, err := s.ChargeSaved(ctx, unknown); !declined(err) {
		t.Fatalf("a charge kept by an unknown payment: %v, want declined", err)
	}
}

func TestSandboxChargesSavedAndCanDecline(t *testing.T) {
	ctx := context.Background()
	s := NewSandbox(time.Hour)
	first, err := s.Charge(ctx, activities.ChargeInput{Step: "fee", BuyerOrgID: "b1", Amount: 10, IdempotencyKey: "fee-1", SaveForLater: true})
	if err != nil || first.Payer == "" {
		t.Fatalf("first charge %+v, %v", first, err)
	}
	in := activities.SavedChargeInput{ChargeInput: activities.ChargeInput{Step: "fee", BuyerOrgID: "b1", Amount: 10, IdempotencyKey: "fee-2"}, Payer: first.Payer, SavedBy: first.PaymentID}
	r, err := s.ChargeSaved(ctx, in)
	if err != nil || r.Status != "succeeded" || r.Provider != "sandbox" || r.Payer != first.Payer || r.PaymentID == first.PaymentID {
		t.Fatalf("saved charge %+v, %v", r, err)
	}
	if st, _ := s.Status(ctx, r.PaymentID); st != "succeeded" {
		t.Fatalf("status of a saved charge under a delay: %s", st)
	}
	if again, err := s.ChargeSaved(ctx, in); err != nil || again != r {
		t.Fatalf("a retried saved charge made %+v, %v", again, err)
	}
	s.Decline("fee", 1)
	if again, err := s.ChargeSaved(ctx, in); err != nil || again != r {
		t.Fatalf("a decline changed an answered key: %+v, %v", again, err)
	}
	in.IdempotencyKey = "fee-3"
	if _, err := s.ChargeSaved(ctx, in); !declined(err) {
		t.Fatalf("declined saved charge: %v", err)
	}
	if r, err := s.ChargeSaved(ctx, in); err != nil || r.Status != "succeeded" {
		t.Fatalf("after the decline %+v, %v", r, err)
	}
}

// stripe-mock accepts the parameters of a charge that saves its card and
// of the off-session charge of that card. It keeps no state: its
// PaymentIntents have no payment method, so ChargeSaved itself stops at
// "nothing saved", and the off-session create is sent directly.
func TestSavedChargesAgainstStripeMock(t *testing.T) {
	ctx := context.Background()
	s := NewStripe("sk_test_123", testenv.StripeMock(t), account)
	first, err := s.Charge(ctx, activities.ChargeInput{Step: "fee", BuyerOrgID: "b1", Amount: 50_000, Currency: "USD", IdempotencyKey: "org-b1/fee-2026", SaveForLater: true})
	if err != nil || !strings.HasPrefix(first.PaymentID, "pi_") || !strings.HasPrefix(first.Payer, "cus_") || first.ClientSecret == "" {
		t.Fatalf("charge saving the card: %+v, %v", first, err)
	}
	in := activities.SavedChargeInput{
		ChargeInput: activities.ChargeInput{Step: "fee", BuyerOrgID: "b1", Amount: 50_000, Currency: "USD", IdempotencyKey: "org-b1/fee-2027"},
		Payer:       first.Payer, SavedBy: first.PaymentID,
	}
	if _, err := s.ChargeSaved(ctx, in); !declined(err) {
		t.Fatalf("ChargeSaved of stripe-mock's method-less intent: %v, want declined", err)
	}
	pi, err := s.api.PaymentIntents.New(savedChargeParams(in, "pm_card_visa"))
	if err != nil || !strings.HasPrefix(pi.ID, "pi_") {
		t.Fatalf("off-session create: %+v, %v", pi, err)
	}
}
