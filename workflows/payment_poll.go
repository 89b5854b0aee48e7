package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

// paymentPoll is a charge whose outcome its payer's client or the
// provider gives later: Status is what the provider answered at first.
type paymentPoll struct {
	// What names the charge in the timers' and activities' summaries.
	What      string
	Ref       string
	PaymentID string
	Status    string
	// Within is how long it may stay pending; Every how long the first
	// wait before the provider is asked lasts (0: 30 seconds), each wait
	// after doubling up to an hour.
	Within, Every time.Duration
	Options       workflow.ActivityOptions
}

// The outcomes pollPayment answers besides PaymentSucceeded.
const (
	paymentFailed  = "failed"
	paymentExpired = "expired"
)

// pollPayment asks the provider how a pending charge stands until it
// succeeded or failed, or Within passed ("expired"). An ask that fails
// through its retries counts as still pending.
func pollPayment(ctx workflow.Context, p paymentPoll) (string, error) {
	deadline := workflow.Now(ctx).Add(p.Within)
	wait := p.Every
	if wait <= 0 {
		wait = 30 * time.Second
	}
	status := p.Status
	for status != string(PaymentSucceeded) {
		if status == paymentFailed {
			return paymentFailed, nil
		}
		if !workflow.Now(ctx).Before(deadline) {
			return paymentExpired, nil
		}
		if err := sleep(ctx, wait, "until the "+p.What+" is asked about again"); err != nil {
			return "", err
		}
		wait = min(2*wait, time.Hour)
		actx := withSummary(workflow.WithActivityOptions(ctx, p.Options), "ask how the %s stands", p.What)
		err := workflow.ExecuteActivity(actx, acts.PaymentStatus,
			activities.PaymentStatusInput{DealID: p.Ref, ProviderPaymentID: p.PaymentID}).Get(ctx, &status)
		if temporal.IsCanceledError(err) {
			return "", err
		}
		if err != nil {
			workflow.GetLogger(ctx).Warn("the provider did not say how a charge stands", "payment", p.PaymentID, "error", err)
			status = "pending"
		}
	}
	return string(PaymentSucceeded), nil
}
