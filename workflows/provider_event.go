package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ProviderEventWorkflowName delivers one payment provider event to its
// deal. The webhook starts it, one per event ID, for every event that goes
// on a deal's timeline (a refund or transfer settled, a card dispute
// opened). An event about a charge names only its PaymentIntent, and it
// may arrive before the deal's projection has recorded that payment (a
// dispute opened at once, or the projection running behind): the workflow
// keeps it, durably, until the payment is known, then signals the deal.
const ProviderEventWorkflowName = "DeliverProviderEvent"

// ProviderEventWorkflowID makes one delivery per provider event.
func ProviderEventWorkflowID(eventID string) string {
	return "provider-event-" + eventID
}

// PendingProviderEvent is a provider event on its way to a deal: DealID is
// empty until the payment the event names (Event.Detail) is recorded.
type PendingProviderEvent struct {
	EventID string        `json:"event_id"`
	DealID  string        `json:"deal_id"`
	Event   ProviderEvent `json:"event"`
}

// PaymentWait bounds how long an event waits for its payment to be
// recorded: as long as Stripe retries a webhook. A payment no deal records
// in that time is not this platform's; the workflow fails, and the Temporal
// UI shows the event it could not deliver.
const PaymentWait = 72 * time.Hour

var awaitPaymentOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: PaymentWait,
	// A deal records its payment within seconds; look again often at
	// first, then every ten seconds.
	RetryPolicy: &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second},
}

// DeliverProviderEvent finds the event's deal, waiting for its payment to
// be recorded if need be, and signals it once. It returns the deal's ID.
// A deal that has closed cannot take the signal: the workflow fails, so the
// undelivered event stays visible.
func DeliverProviderEvent(ctx workflow.Context, in PendingProviderEvent) (string, error) {
	dealID := in.DealID
	if dealID == "" {
		actx := workflow.WithActivityOptions(ctx, awaitPaymentOptions)
		if err := workflow.ExecuteActivity(actx, acts.DealOfPayment, in.Event.Detail).Get(ctx, &dealID); err != nil {
			return "", fmt.Errorf("find the deal of payment %s: %w", in.Event.Detail, err)
		}
	}
	if err := workflow.SignalExternalWorkflow(ctx, DealWorkflowID(dealID), "", SignalProviderEvent, in.Event).Get(ctx, nil); err != nil {
		return dealID, fmt.Errorf("deliver %s %s to deal %s: %w", in.Event.Type, in.Event.ObjectID, dealID, err)
	}
	return dealID, nil
}
