package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/workflows"
)

const testWebhookSecret = "whsec_test_secret"

// signedEvent builds a Stripe event as Stripe signs it.
func signedEvent(t *testing.T, id, typ string, object map[string]any, at time.Time, secret string) ([]byte, string) {
	t.Helper()
	payload, err := json.Marshal(map[string]any{
		"id": id, "object": "event", "type": typ, "api_version": "2023-10-16", "created": at.Unix(),
		"data": map[string]any{"object": object},
	})
	if err != nil {
		t.Fatal(err)
	}
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	return payload, sp.Header
}

func (p *platform) deliver(payload []byte, signature string) response {
	p.t.Helper()
	return p.do("", "POST", "/webhooks/stripe", payload, "Stripe-Signature", signature)
}

func TestStripeWebhookReachesTheDealOnceAndRefusesForgeries(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.WebhookSecret = testWebhookSecret })
	p.mem.ChargesPending(true) // like Stripe: a charge waits for its webhook
	id := p.newDeal(false, "supplier")
	var st workflows.DealState
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/quotes/q1/accept"), nil)).json(t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	p.must(200, p.do("supplier", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	var pay struct {
		Deal    workflows.DealState
		Payment struct{ ID, Status string }
	}
	p.must(200, p.do("buyer", "POST", p.path(id, "/payments/deposit"), nil)).json(t, &pay)
	if pay.Payment.Status != string(workflows.PaymentPending) {
		t.Fatalf("deposit %+v", pay.Payment)
	}
	providerID := pay.Deal.Payments[0].ProviderID
	pi := map[string]any{"id": providerID, "object": "payment_intent", "amount": 234_000, "amount_received": 234_000,
		"currency": "usd", "status": "succeeded", "metadata": map[string]string{"deal_id": id}}

	// Forged, stale, and for an unknown deal: refused, nothing recorded.
	payload, _ := signedEvent(t, "evt_forged", "payment_intent.succeeded", pi, time.Now(), "whsec_someone_else")
	_, goodSig := signedEvent(t, "evt_other", "payment_intent.succeeded", pi, time.Now(), testWebhookSecret)
	if r := p.deliver(payload, goodSig); r.status != 400 || r.errCode() != "bad_signature" {
		t.Errorf("signature of another payload: %d %s", r.status, r.body)
	}
	payload, sig := signedEvent(t, "evt_forged", "payment_intent.succeeded", pi, time.Now(), "whsec_someone_else")
	if r := p.deliver(payload, sig); r.status != 400 {
		t.Errorf("forged signature: %d %s", r.status, r.body)
	}
	payload, sig = signedEvent(t, "evt_old", "payment_intent.succeeded", pi, time.Now().Add(-10*time.Minute), testWebhookSecret)
	if r := p.deliver(payload, sig); r.status != 400 {
		t.Errorf("10-minute-old event: %d %s", r.status, r.body)
	}
	ghost := map[string]any{"id": "pi_ghost", "object": "payment_intent", "amount_received": 1, "currency": "usd",
		"metadata": map[string]string{"deal_id": "00000000-0000-0000-0000-000000000000"}}
	payload, sig = signedEvent(t, "evt_ghost", "payment_intent.succeeded", ghost, time.Now(), testWebhookSecret)
	if r := p.deliver(payload, sig); r.status != 404 {
		t.Errorf("unknown deal: %d %s", r.status, r.body)
	}
	if st := p.deal("buyer", id); st.Stage != workflows.StageDeposit {
		t.Fatalf("refused events moved the deal to %s", st.Stage)
	}

	// The real event, delivered three times: one confirmation.
	payload, sig = signedEvent(t, "evt_1", "payment_intent.succeeded", pi, time.Now(), testWebhookSecret)
	var statuses []string
	for range 3 {
		r := p.must(200, p.deliver(payload, sig))
		var out struct{ Status string }
		r.json(t, &out)
		statuses = append(statuses, out.Status)
	}
	if fmt.Sprint(statuses) != "[delivered duplicate duplicate]" {
		t.Fatalf("deliveries answered %v", statuses)
	}
	st = p.waitFor("buyer", id, func(s workflows.DealState) bool { return s.Stage == workflows.StageProduction })
	confirmed := 0
	for _, e := range st.Timeline {
		if e.Type == "payment_succeeded" {
			confirmed++
		}
	}
	if confirmed != 1 || st.Escrow.Held != 234_000 {
		t.Fatalf("%d confirmations, escrow %+v", confirmed, st.Escrow)
	}
	var rows int
	if err := p.pool.QueryRow(context.Background(), "SELECT count(*) FROM stripe_events").Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("%d stripe events recorded (%v), want 1", rows, err)
	}

	// A card dispute names the PaymentIntent only; once the read model has
	// recorded that payment, the dispute goes straight to the deal's
	// timeline. (One that comes earlier waits for it:
	// TestProviderEventBeforeItsPaymentIsRecordedIsKeptAndDeliveredOnce.)
	p.waitForPaymentRecorded(providerID)
	dispute := map[string]any{"id": "dp_1", "object": "dispute", "payment_intent": providerID, "amount": 234_000, "currency": "usd"}
	payload, sig = signedEvent(t, "evt_2", "charge.dispute.created", dispute, time.Now(), testWebhookSecret)
	var out struct{ Status string }
	p.must(200, p.deliver(payload, sig)).json(t, &out)
	if out.Status != "delivered" {
		t.Fatalf("dispute of a recorded payment: %s, want delivered", out.Status)
	}
	p.waitFor("finance", id, func(s workflows.DealState) bool {
		return strings.Contains(fmt.Sprint(s.Timeline), "provider_charge.dispute.created")
	})
}

// waitForPaymentRecorded waits until the read model knows which deal the
// provider payment belongs to, as the webhook asks it.
func (p *platform) waitForPaymentRecorded(providerID string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for {
		_, err := readmodel.New(p.pool).DealOfPayment(ctx, providerID)
		if err == nil {
			return
		}
		if !errors.Is(err, activities.ErrPaymentUnknown) {
			p.t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("payment %s never recorded in the read model", providerID)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// A card dispute that arrives before the platform has recorded the payment
// it names is not refused: it is kept, and it reaches the deal's timeline
// once the payment is recorded, once however often Stripe sends it.
func TestProviderEventBeforeItsPaymentIsRecordedIsKeptAndDeliveredOnce(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.WebhookSecret = testWebhookSecret })
	p.mem.ChargesPending(true)
	id := p.newDeal(false, "supplier")
	var st workflows.DealState
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/quotes/q1/accept"), nil)).json(t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	p.must(200, p.do("supplier", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))

	// The memory provider names its first payment pay_1: the dispute comes
	// before the deal has even made it, so no deal can have recorded it.
	const providerID = "pay_1"
	dispute := map[string]any{"id": "dp_early", "object": "dispute", "payment_intent": providerID, "amount": 234_000, "currency": "usd"}
	payload, sig := signedEvent(t, "evt_early", "charge.dispute.created", dispute, time.Now(), testWebhookSecret)
	var statuses []string
	for range 2 {
		var out struct{ Status string }
		p.must(200, p.deliver(payload, sig)).json(t, &out)
		statuses = append(statuses, out.Status)
	}
	if fmt.Sprint(statuses) != "[pending duplicate]" {
		t.Fatalf("deliveries before the payment answered %v, want [pending duplicate]", statuses)
	}
	delivery := p.tc.Client.GetWorkflow(context.Background(), workflows.ProviderEventWorkflowID("evt_early"), "")
	desc, err := p.tc.Client.DescribeWorkflowExecution(context.Background(), delivery.GetID(), "")
	if err != nil || desc.WorkflowExecutionInfo.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("the kept event's delivery: %+v (%v), want it running", desc, err)
	}

	// The payment is made and the deal's projection records it: the event
	// is delivered.
	var pay struct {
		Deal workflows.DealState
	}
	p.must(200, p.do("buyer", "POST", p.path(id, "/payments/deposit"), nil)).json(t, &pay)
	if got := pay.Deal.Payments[0].ProviderID; got != providerID {
		t.Fatalf("the deposit is %s at the provider, the test expected %s", got, providerID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var deliveredTo string
	if err := delivery.Get(ctx, &deliveredTo); err != nil || deliveredTo != id {
		t.Fatalf("the kept event went to deal %q (%v), want %s", deliveredTo, err, id)
	}
	// Stripe sending it again changes nothing.
	var out struct{ Status string }
	p.must(200, p.deliver(payload, sig)).json(t, &out)
	if out.Status != "duplicate" {
		t.Fatalf("delivery after the payment was recorded: %s, want duplicate", out.Status)
	}
	st = p.waitFor("finance", id, func(s workflows.DealState) bool {
		return strings.Contains(fmt.Sprint(s.Timeline), "provider_charge.dispute.created")
	})
	n := 0
	for _, e := range st.Timeline {
		if e.Type == "provider_charge.dispute.created" {
			n++
			if e.Detail != "dp_early "+providerID {
				t.Errorf("dispute event %q", e.Detail)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d dispute events on the timeline, want 1", n)
	}
}

// Money that arrives after its deal closed is refunded, once, and the ledger
// shows it passing through the deal's escrow.
func TestPaymentForAClosedDealIsRefunded(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.WebhookSecret = testWebhookSecret })
	id := p.newDeal(false, "supplier")
	p.must(200, p.do("buyer", "POST", p.path(id, "/cancel"), map[string]string{"note": "bought elsewhere"}))
	// Wait until the deal's workflow has ended and the read model holds it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.tc.Client.GetWorkflow(ctx, workflows.DealWorkflowID(id), "").Get(ctx, nil); err != nil {
		t.Fatalf("deal did not close: %v", err)
	}
	if _, err := readmodel.New(p.pool).Deal(ctx, id); err != nil {
		t.Fatalf("closed deal not in the read model: %v", err)
	}
	pi := map[string]any{"id": "pi_late", "object": "payment_intent", "amount_received": 234_000, "currency": "usd",
		"status": "succeeded", "metadata": map[string]string{"deal_id": id}}
	for i, want := range []string{"refunded", "duplicate"} {
		payload, sig := signedEvent(t, "evt_late", "payment_intent.succeeded", pi, time.Now(), testWebhookSecret)
		var out struct{ Status string }
		p.must(200, p.deliver(payload, sig)).json(t, &out)
		if out.Status != want {
			t.Fatalf("delivery %d: %s, want %s", i+1, out.Status, want)
		}
	}
	var refunded bool
	deadline := time.Now().Add(30 * time.Second)
	for !refunded && time.Now().Before(deadline) {
		_, refunded = p.mem.Refunds()["orphan/pi_late/refund"]
		time.Sleep(50 * time.Millisecond)
	}
	if !refunded || p.mem.Refunds()["orphan/pi_late/refund"].Amount != 234_000 {
		t.Fatalf("late payment not refunded: %+v", p.mem.Refunds())
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		var acct struct {
			Balances []struct{ Amount, Lines int64 }
		}
		p.must(200, p.do("finance", "GET", "/v1/ledger/accounts/escrow:"+id, nil)).json(t, &acct)
		if len(acct.Balances) == 1 && acct.Balances[0].Lines == 2 {
			if acct.Balances[0].Amount != 0 {
				t.Fatalf("escrow of the closed deal holds %d after the refund", acct.Balances[0].Amount)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger %+v, want the payment in and out of escrow", acct)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
