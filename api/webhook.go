package api

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/deals"
	"github.com/tradeloop/tradeloop/workflows"
)

// webhookTolerance is how old a signed event may be: older ones are refused
// as possible replays.
const webhookTolerance = 5 * time.Minute

// stripeWebhook verifies a Stripe event's signature, handles each event ID
// once, and turns payment events into signals to their deal. A forged or
// stale event gets 400 and changes nothing.
func (s *Server) stripeWebhook(c echo.Context) error {
	if s.webhook == "" {
		return apiErr(http.StatusNotFound, "not_found", "Stripe is not configured")
	}
	payload, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return apiErr(http.StatusBadRequest, "malformed", "could not read the event")
	}
	ev, err := webhook.ConstructEventWithOptions(payload, c.Request().Header.Get("Stripe-Signature"), s.webhook,
		webhook.ConstructEventOptions{Tolerance: webhookTolerance, IgnoreAPIVersionMismatch: true})
	if err != nil {
		return apiErr(http.StatusBadRequest, "bad_signature", "the event's signature does not verify or is too old")
	}
	ctx := c.Request().Context()
	dealID, signal, arg := eventSignal(ev)
	if signal == "" {
		return c.JSON(http.StatusOK, map[string]string{"status": "ignored"})
	}
	if pe, ok := arg.(workflows.ProviderEvent); ok {
		return s.deliverProviderEvent(c, ev, dealID, pe)
	}
	if dealID == "" {
		return apiErr(http.StatusNotFound, "not_found", "the event names no deal of this platform")
	}
	if first, err := s.events.Claim(ctx, ev.ID, string(ev.Type), &dealID); err != nil {
		return err
	} else if !first {
		return c.JSON(http.StatusOK, map[string]string{"status": "duplicate"})
	}
	err = s.deals.Signal(ctx, dealID, signal, arg)
	if errors.Is(err, deals.ErrNotFound) {
		if paid, ok := arg.(workflows.PaymentConfirmed); ok && signal == workflows.SignalPaymentConfirmed {
			var status string
			status, err = s.refundOrphan(c, dealID, paid)
			if err == nil {
				return c.JSON(http.StatusOK, map[string]string{"status": status})
			}
		}
	}
	if err != nil {
		if ferr := s.events.Forget(ctx, ev.ID); ferr != nil { // handled again when Stripe retries
			s.logger.WarnContext(ctx, "forget a provider event whose handling failed", "event_id", ev.ID, "error", ferr)
		}
		if errors.Is(err, deals.ErrNotFound) {
			return apiErr(http.StatusNotFound, "not_found", "no running deal %q for this event", dealID)
		}
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "delivered"})
}

// deliverProviderEvent hands an event for the deal's timeline to a
// DeliverProviderEvent workflow, one per event ID. An event about a charge
// or a card dispute names only its PaymentIntent; if no deal has recorded
// that payment yet (the event came early, or the deal's projection is
// behind), the workflow keeps the event and delivers it once a deal has:
// the answer is "pending", and Stripe does not send it again. The
// workflow's ID makes the delivery happen once, whatever Stripe repeats and
// whenever the API process dies; the event is recorded in stripe_events
// after the workflow exists, so a crash in between only makes Stripe's
// retry start it again, which finds it started.
func (s *Server) deliverProviderEvent(c echo.Context, ev stripe.Event, dealID string, pe workflows.ProviderEvent) error {
	ctx := c.Request().Context()
	if dealID == "" && pe.Detail != "" {
		d, err := s.events.DealOfPayment(ctx, pe.Detail)
		if err != nil {
			return err
		}
		dealID = d
	}
	if dealID == "" && pe.Detail == "" {
		return apiErr(http.StatusNotFound, "not_found", "the event names no deal of this platform")
	}
	status := "delivered"
	if dealID == "" {
		status = "pending"
	}
	err := s.deals.DeliverProviderEvent(ctx, workflows.PendingProviderEvent{EventID: ev.ID, DealID: dealID, Event: pe})
	if errors.Is(err, deals.ErrAlreadyStarted) {
		return c.JSON(http.StatusOK, map[string]string{"status": "duplicate"}) // delivered already
	}
	if err != nil {
		return err
	}
	var deal *string
	if dealID != "" {
		deal = &dealID
	}
	if first, err := s.events.Claim(ctx, ev.ID, string(ev.Type), deal); err != nil {
		return err
	} else if !first {
		return c.JSON(http.StatusOK, map[string]string{"status": "duplicate"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": status})
}

// refundOrphan handles money that arrives for a deal that has closed: a
// workflow, one per payment, refunds it in full. A payment the deal already
// counted is a duplicate, and a deal the platform never had stays a 404.
func (s *Server) refundOrphan(c echo.Context, dealID string, paid workflows.PaymentConfirmed) (string, error) {
	ctx := c.Request().Context()
	st, err := s.reads.Deal(ctx, dealID)
	if err != nil {
		return "", deals.ErrNotFound // a deal the platform never had
	}
	for _, p := range st.Payments {
		if p.Kind == workflows.PaymentCharge && p.ProviderID == paid.ProviderPaymentID && p.Status == workflows.PaymentSucceeded {
			return "duplicate", nil
		}
	}
	err = s.deals.RefundOrphan(ctx, workflows.OrphanPayment{
		DealID: dealID, BuyerOrgID: st.Inquiry.BuyerOrgID, ProviderPaymentID: paid.ProviderPaymentID,
		Amount: paid.Amount, Currency: paid.Currency,
	})
	return "refunded", err
}

// polledByItsWorkflow reports a charge no deal owns, whose workflow asks
// the provider itself how it stands: a security deposit's, a Gold fee's.
func polledByItsWorkflow(step string) bool {
	return step == activities.DepositStep || step == activities.GoldStep
}

// eventSignal maps a Stripe event to the signal its deal takes.
func eventSignal(ev stripe.Event) (dealID, signal string, arg any) {
	switch ev.Type {
	case "payment_intent.succeeded":
		var pi stripe.PaymentIntent
		if ev.Data == nil || pi.UnmarshalJSON(ev.Data.Raw) != nil {
			return "", "", nil
		}
		if polledByItsWorkflow(pi.Metadata["step"]) {
			return "", "", nil
		}
		return pi.Metadata["deal_id"], workflows.SignalPaymentConfirmed, workflows.PaymentConfirmed{
			ProviderPaymentID: pi.ID, Amount: pi.AmountReceived, Currency: strings.ToUpper(string(pi.Currency)),
		}
	case "payment_intent.payment_failed":
		var pi stripe.PaymentIntent
		if ev.Data == nil || pi.UnmarshalJSON(ev.Data.Raw) != nil {
			return "", "", nil
		}
		if polledByItsWorkflow(pi.Metadata["step"]) {
			return "", "", nil
		}
		reason := "payment failed"
		if pi.LastPaymentError != nil && pi.LastPaymentError.Msg != "" {
			reason = pi.LastPaymentError.Msg
		}
		return pi.Metadata["deal_id"], workflows.SignalPaymentFailed, workflows.PaymentFailed{ProviderPaymentID: pi.ID, Reason: reason}
	case "charge.refunded":
		var ch stripe.Charge
		if ev.Data == nil || ch.UnmarshalJSON(ev.Data.Raw) != nil || ch.PaymentIntent == nil {
			return "", "", nil
		}
		return ch.Metadata["deal_id"], workflows.SignalProviderEvent, workflows.ProviderEvent{Type: string(ev.Type), ObjectID: ch.ID, Detail: ch.PaymentIntent.ID}
	case "charge.dispute.created":
		var dp stripe.Dispute
		if ev.Data == nil || dp.UnmarshalJSON(ev.Data.Raw) != nil || dp.PaymentIntent == nil {
			return "", "", nil
		}
		return dp.Metadata["deal_id"], workflows.SignalProviderEvent, workflows.ProviderEvent{Type: string(ev.Type), ObjectID: dp.ID, Detail: dp.PaymentIntent.ID}
	}
	if strings.HasPrefix(string(ev.Type), "transfer.") {
		var tr stripe.Transfer
		if ev.Data == nil || tr.UnmarshalJSON(ev.Data.Raw) != nil {
			return "", "", nil
		}
		return tr.Metadata["deal_id"], workflows.SignalProviderEvent, workflows.ProviderEvent{Type: string(ev.Type), ObjectID: tr.ID}
	}
	return "", "", nil
}
