package stripefake

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/payments"
)

// The platform's own Stripe provider works against the fake: a payment,
// its confirmation by webhook, a transfer from its charge and a refund,
// each made once per idempotency key however often it is asked.
func TestTheStripeProviderAgainstTheFake(t *testing.T) {
	fake := New()
	defer fake.Close()
	events := make(chan stripe.Event, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), "whsec_fake")
		if err != nil {
			t.Errorf("webhook: %v", err)
			w.WriteHeader(400)
			return
		}
		select {
		case events <- ev:
		default:
		}
	}))
	defer hook.Close()
	fake.SendWebhooksTo(hook.URL, "whsec_fake")
	var created, refused []string
	fake.Created = func(kind, key string) { created = append(created, kind+" "+key) }
	fake.Refused = func(kind, key, _ string) { refused = append(refused, kind+" "+key) }

	p := payments.NewStripe("sk_test_fake", fake.URL, func(context.Context, string) (string, error) { return "acct_supplier", nil })
	ctx := context.Background()
	in := activities.ChargeInput{DealID: "d1", Step: "deposit", BuyerOrgID: "b1", Amount: 30_000, Currency: "USD", IdempotencyKey: "deal-d1/deposit-1"}
	first, err := p.Charge(ctx, in)
	if err != nil || first.Status != "pending" || first.ClientSecret == "" {
		t.Fatalf("charge %+v, %v", first, err)
	}
	again, err := p.Charge(ctx, in)
	if err != nil || again.PaymentID != first.PaymentID {
		t.Fatalf("a repeated key made %+v, %v; want %s", again, err, first.PaymentID)
	}
	other := in
	other.Amount = 1
	if _, err := p.Charge(ctx, other); err == nil {
		t.Fatal("the same key with another amount was accepted")
	}
	if n := len(fake.Intents()); n != 1 || fake.Requests(in.IdempotencyKey) != 3 || fake.Replays() != 2 {
		t.Fatalf("%d intents, %d requests, %d replays", n, fake.Requests(in.IdempotencyKey), fake.Replays())
	}
	if st, _ := p.Status(ctx, first.PaymentID); st != "pending" {
		t.Fatalf("status before confirmation %q", st)
	}
	if _, err := p.Transfer(ctx, activities.TransferInput{DealID: "d1", SupplierOrgID: "s1", SourcePaymentID: first.PaymentID, Amount: 100, Currency: "USD", IdempotencyKey: "t0"}); err == nil {
		t.Fatal("a transfer from an unpaid charge was accepted")
	}

	if err := fake.Confirm(first.PaymentID); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		var pi stripe.PaymentIntent
		if err := pi.UnmarshalJSON(ev.Data.Raw); err != nil || pi.ID != first.PaymentID || pi.AmountReceived != 30_000 || pi.Metadata["deal_id"] != "d1" {
			t.Fatalf("event %+v, %v", pi, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook")
	}
	if st, _ := p.Status(ctx, first.PaymentID); st != "succeeded" {
		t.Fatalf("status after confirmation %q", st)
	}

	tin := activities.TransferInput{DealID: "d1", SupplierOrgID: "s1", SourcePaymentID: first.PaymentID, Amount: 29_000, Currency: "USD", IdempotencyKey: "deal-d1/deposit-1/transfer"}
	tr1, err := p.Transfer(ctx, tin)
	if err != nil {
		t.Fatal(err)
	}
	tr2, _ := p.Transfer(ctx, tin)
	rin := activities.RefundInput{DealID: "d1", PaymentID: first.PaymentID, Amount: 1_000, Currency: "USD", IdempotencyKey: "deal-d1/deposit-1/refund"}
	rf1, err := p.Refund(ctx, rin)
	if err != nil {
		t.Fatal(err)
	}
	rf2, _ := p.Refund(ctx, rin)
	if tr1 != tr2 || rf1 != rf2 || len(fake.Transfers()) != 1 || len(fake.Refunds()) != 1 {
		t.Fatalf("transfers %v %v %d, refunds %v %v %d", tr1, tr2, len(fake.Transfers()), rf1, rf2, len(fake.Refunds()))
	}
	if tr := fake.Transfers()[0]; tr.SourcePayment != first.PaymentID || tr.Destination != "acct_supplier" || tr.DealID != "d1" {
		t.Fatalf("transfer %+v", tr)
	}
	// More than the charge is refused, as Stripe does.
	if _, err := p.Refund(ctx, activities.RefundInput{DealID: "d1", PaymentID: first.PaymentID, Amount: 29_001, Currency: "USD", IdempotencyKey: "r2"}); err == nil {
		t.Fatal("refunded more than was charged")
	}
	if len(created) != 3 {
		t.Fatalf("created hook saw %v", created)
	}
	if want := []string{"/v1/payment_intents deal-d1/deposit-1", "transfer t0", "refund r2"}; !reflect.DeepEqual(refused, want) {
		t.Fatalf("refused hook saw %v, want %v", refused, want)
	}
}

func TestUnknownRoutesAndKeysAreRefused(t *testing.T) {
	fake := New()
	defer fake.Close()
	api := client.New("pk_test_wrong", stripe.NewBackendsWithConfig(&stripe.BackendConfig{URL: stripe.String(fake.URL), MaxNetworkRetries: stripe.Int64(0)}))
	if _, err := api.PaymentIntents.Get("pi_x", nil); err == nil {
		t.Fatal("a publishable key was accepted")
	}
	api = client.New("sk_test_ok", stripe.NewBackendsWithConfig(&stripe.BackendConfig{URL: stripe.String(fake.URL), MaxNetworkRetries: stripe.Int64(0)}))
	if _, err := api.PaymentIntents.Get("pi_missing", nil); err == nil {
		t.Fatal("an unknown payment intent was found")
	}
	if _, err := api.Customers.New(&stripe.CustomerParams{}); err == nil {
		t.Fatal("an unimplemented endpoint answered")
	}
}
