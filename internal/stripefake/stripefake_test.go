package stripefake

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
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
	if _, err := api.Customers.Get("cus_x", nil); err == nil {
		t.Fatal("an unimplemented endpoint answered")
	}
}

func testAPI(fake *Server) *client.API {
	return client.New("sk_test_ok", stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL: stripe.String(fake.URL), MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull},
	}))
}

// webhooks starts a receiver of the fake's signed events.
func webhooks(t *testing.T, fake *Server) <-chan stripe.Event {
	t.Helper()
	events := make(chan stripe.Event, 16)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ev, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), "whsec_fake")
		if err != nil {
			t.Errorf("webhook: %v", err)
			w.WriteHeader(400)
			return
		}
		events <- ev
	}))
	t.Cleanup(hook.Close)
	fake.SendWebhooksTo(hook.URL, "whsec_fake")
	return events
}

// savedCard is a customer whose payment method a confirmed PaymentIntent
// saved for off-session use, and that method.
func savedCard(t *testing.T, fake *Server, api *client.API, key string) (cus, pm string) {
	t.Helper()
	cp := &stripe.CustomerParams{}
	cp.SetIdempotencyKey(key + "/customer")
	c, err := api.Customers.New(cp)
	if err != nil {
		t.Fatal(err)
	}
	p := &stripe.PaymentIntentParams{Amount: stripe.Int64(500), Currency: stripe.String("usd"), Customer: stripe.String(c.ID),
		SetupFutureUsage: stripe.String("off_session")}
	p.SetIdempotencyKey(key)
	pi, err := api.PaymentIntents.New(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Confirm(pi.ID); err != nil {
		t.Fatal(err)
	}
	got, err := api.PaymentIntents.Get(pi.ID, nil)
	if err != nil || got.PaymentMethod == nil {
		t.Fatalf("confirmed intent %+v, %v", got, err)
	}
	return c.ID, got.PaymentMethod.ID
}

func offSession(cus, pm, key string) *stripe.PaymentIntentParams {
	p := &stripe.PaymentIntentParams{
		Amount: stripe.Int64(1_200), Currency: stripe.String("usd"), Customer: stripe.String(cus), PaymentMethod: stripe.String(pm),
		OffSession: stripe.Bool(true), Confirm: stripe.Bool(true),
		AutomaticPaymentMethods: &stripe.PaymentIntentAutomaticPaymentMethodsParams{Enabled: stripe.Bool(true), AllowRedirects: stripe.String("never")},
	}
	p.SetIdempotencyKey(key)
	p.AddMetadata("step", "fee")
	return p
}

func TestCustomersAreCreatedOncePerKey(t *testing.T) {
	fake := New()
	defer fake.Close()
	api := testAPI(fake)
	p := &stripe.CustomerParams{Description: stripe.String("org b1")}
	p.AddMetadata("org_id", "b1")
	p.SetIdempotencyKey("k/customer")
	c1, err := api.Customers.New(p)
	if err != nil || c1.ID == "" || c1.Metadata["org_id"] != "b1" || c1.Description != "org b1" {
		t.Fatalf("customer %+v, %v", c1, err)
	}
	c2, err := api.Customers.New(p)
	if err != nil || c2.ID != c1.ID {
		t.Fatalf("a repeated key made %+v, %v", c2, err)
	}
	if _, err := api.Customers.New(&stripe.CustomerParams{}); err != nil { // no key: another customer
		t.Fatal(err)
	}
	cs := fake.Customers()
	if len(cs) != 2 || cs[0].ID != c1.ID || cs[0].IdempotencyKey != "k/customer" || len(cs[0].PaymentMethods) != 0 {
		t.Fatalf("customers %+v", cs)
	}
	// A PaymentIntent for a customer Stripe does not know is refused.
	if _, err := api.PaymentIntents.New(&stripe.PaymentIntentParams{Amount: stripe.Int64(1), Currency: stripe.String("usd"), Customer: stripe.String("cus_nope")}); err == nil {
		t.Fatal("an unknown customer was accepted")
	}
}

// Confirming a PaymentIntent with setup_future_usage=off_session saves its
// payment method on the customer; an off-session payment charges it at
// once, and is refused without it.
func TestOffSessionPaymentsChargeASavedPaymentMethod(t *testing.T) {
	fake := New()
	defer fake.Close()
	events := webhooks(t, fake)
	var refused []string
	fake.Refused = func(_, key, _ string) { refused = append(refused, key) }
	api := testAPI(fake)

	cus, pm := savedCard(t, fake, api, "first")
	<-events // the first payment's
	first := fake.Intents()[0]
	if first.Customer != cus || first.SetupFutureUsage != "off_session" || first.PaymentMethod != pm || first.OffSession ||
		!strings.HasPrefix(pm, "pm_fake") {
		t.Fatalf("first intent %+v", first)
	}
	if cs := fake.Customers(); !reflect.DeepEqual(cs[0].PaymentMethods, []string{pm}) {
		t.Fatalf("saved methods %v", cs[0].PaymentMethods)
	}
	// Without setup_future_usage, or without a customer, nothing is saved.
	plain, _ := api.PaymentIntents.New(&stripe.PaymentIntentParams{Amount: stripe.Int64(1), Currency: stripe.String("usd"), Customer: stripe.String(cus)})
	if fresh, _ := api.PaymentIntents.Get(plain.ID, nil); fresh.PaymentMethod != nil || fresh.Customer == nil || fresh.Customer.ID != cus {
		t.Fatalf("unconfirmed intent %+v", fresh)
	}
	_ = fake.Confirm(plain.ID)
	<-events
	unsaved := fake.Intents()[1].PaymentMethod
	if cs := fake.Customers(); len(cs[0].PaymentMethods) != 1 {
		t.Fatalf("a payment without setup_future_usage saved its method: %v", cs[0].PaymentMethods)
	}

	other, _ := api.Customers.New(&stripe.CustomerParams{})
	bad := map[string]*stripe.PaymentIntentParams{
		"no-customer":    offSession("", pm, "no-customer"),
		"no-method":      offSession(cus, "", "no-method"),
		"not-saved":      offSession(cus, unsaved, "not-saved"),
		"other-customer": offSession(other.ID, pm, "other-customer"),
		"return-url":     offSession(cus, pm, "return-url"),
		"not-confirmed":  offSession(cus, pm, "not-confirmed"),
	}
	bad["no-customer"].Customer = nil
	bad["no-method"].PaymentMethod = nil
	bad["return-url"].AutomaticPaymentMethods = nil // the Dashboard's methods may redirect: Stripe wants a return_url
	bad["not-confirmed"].Confirm = nil
	for name, p := range bad {
		_, err := api.PaymentIntents.New(p)
		var se *stripe.Error
		if !errors.As(err, &se) || se.HTTPStatusCode != 400 || se.Type != stripe.ErrorTypeInvalidRequest {
			t.Errorf("%s: %v, want a 400 invalid_request_error", name, err)
		}
	}
	if len(refused) != len(bad) || len(fake.Intents()) != 2 {
		t.Fatalf("refused %v, %d intents", refused, len(fake.Intents()))
	}
	withURL := offSession(cus, pm, "return-url-given")
	withURL.AutomaticPaymentMethods, withURL.ReturnURL = nil, stripe.String("https://example.com/back")
	if _, err := api.PaymentIntents.New(withURL); err != nil {
		t.Fatalf("with a return_url: %v", err)
	}
	<-events

	p := offSession(cus, pm, "renewal-1")
	pi, err := api.PaymentIntents.New(p)
	if err != nil || pi.Status != stripe.PaymentIntentStatusSucceeded || pi.LatestCharge == nil || pi.PaymentMethod.ID != pm || pi.Customer.ID != cus {
		t.Fatalf("off-session payment %+v, %v", pi, err)
	}
	again, err := api.PaymentIntents.New(p)
	if err != nil || again.ID != pi.ID || fake.Replays() != 1 {
		t.Fatalf("a repeated key made %+v, %v (%d replays)", again, err, fake.Replays())
	}
	select {
	case ev := <-events:
		var got stripe.PaymentIntent
		if err := got.UnmarshalJSON(ev.Data.Raw); err != nil || ev.Type != "payment_intent.succeeded" || got.ID != pi.ID || got.Metadata["step"] != "fee" {
			t.Fatalf("event %s %+v, %v", ev.Type, got, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no webhook for the off-session payment")
	}
	last := fake.Intents()[len(fake.Intents())-1]
	if last.ID != pi.ID || !last.OffSession || last.PaymentMethod != pm || last.Customer != cus || last.ChargeID == "" || last.IdempotencyKey != "renewal-1" {
		t.Fatalf("recorded %+v", last)
	}
}

// A customer's card declined off-session stays declined until the test
// clears it: each attempt is a 402 card_error and leaves a PaymentIntent
// waiting for another payment method.
func TestDeclineOffSession(t *testing.T) {
	fake := New()
	defer fake.Close()
	var created, refused []string
	fake.Created = func(kind, key string) { created = append(created, kind+" "+key) }
	fake.Refused = func(_, key, _ string) { refused = append(refused, key) }
	api := testAPI(fake)
	cus, pm := savedCard(t, fake, api, "first")

	for _, c := range []struct{ code, decline string }{{"card_declined", "generic_decline"}, {"authentication_required", "authentication_required"}} {
		fake.DeclineOffSession(cus, c.code)
		for _, key := range []string{c.code + "-1", c.code + "-1", c.code + "-2"} {
			_, err := api.PaymentIntents.New(offSession(cus, pm, key))
			var se *stripe.Error
			if !errors.As(err, &se) || se.HTTPStatusCode != 402 || se.Type != stripe.ErrorTypeCard || string(se.Code) != c.code ||
				string(se.DeclineCode) != c.decline || se.PaymentIntent == nil ||
				se.PaymentIntent.Status != stripe.PaymentIntentStatusRequiresPaymentMethod {
				t.Fatalf("%s: %v (%+v), want a 402 card_error", key, err, se)
			}
		}
	}
	if n := len(fake.Intents()); n != 5 || fake.Replays() != 2 {
		t.Fatalf("%d intents, %d replays: want the first payment and four declined ones", n, fake.Replays())
	}
	declined := fake.Intents()[1]
	if declined.Status != "requires_payment_method" || declined.LastPaymentError != "card_declined" || declined.ChargeID != "" || !declined.OffSession {
		t.Fatalf("declined intent %+v", declined)
	}
	if len(refused) != 0 || len(created) != 6 {
		t.Fatalf("created %v, refused %v", created, refused)
	}
	// The payer can still pay it on session.
	if err := fake.Confirm(declined.ID); err != nil || fake.Intents()[1].Status != "succeeded" {
		t.Fatalf("confirm after the decline: %v %+v", err, fake.Intents()[1])
	}

	fake.DeclineOffSession(cus, "")
	if pi, err := api.PaymentIntents.New(offSession(cus, pm, "after")); err != nil || pi.Status != stripe.PaymentIntentStatusSucceeded {
		t.Fatalf("after clearing the decline: %+v, %v", pi, err)
	}
}
