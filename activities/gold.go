package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/temporal"
)

// The steps of a supplier's Gold certification (workflows.GoldCertification),
// as its events name them.
const (
	GoldActivated       = "activated"        // the first year is paid
	GoldFailed          = "failed"           // the first charge failed
	GoldRenewalReminder = "renewal_reminder" // the renewal (or the end) is near
	GoldRenewed         = "renewed"          // another year is paid
	GoldPaymentFailed   = "payment_failed"   // a renewal charge was declined
	GoldAutoRenewOff    = "auto_renew_off"   // the supplier stopped the renewal
	GoldAutoRenewOn     = "auto_renew_on"    // and took it up again
	GoldEnded           = "ended"            // the paid time ran out, unrenewed
	GoldLapsed          = "lapsed"           // unpaid, or no longer verified
)

// The statuses of a Gold certification.
const (
	GoldIsPending = "pending"
	GoldIsActive  = "active"
	GoldIsPastDue = "past_due"
	GoldHasEnded  = "ended"
	GoldHasLapsed = "lapsed"
	GoldHasFailed = "failed"
)

// GoldFeesAccount is the platform's income from Gold certification fees.
const GoldFeesAccount = "platform:gold-fees"

// GoldStep is the Step of a Gold fee's charge at the provider.
const GoldStep = "gold_certification"

// GoldEvent is one step of a Gold certification, with the certification as
// it stands after it. Seq numbers the steps: a retried step is written
// once. A step that took money (activated, renewed) names its payment:
// the fee is posted from the supplier to GoldFeesAccount in the same
// transaction.
type GoldEvent struct {
	CertificationID string `json:"certification_id"`
	OrgID           string `json:"org_id"`
	Seq             int    `json:"seq"`
	Action          string `json:"action"`
	// Actor is the user who acted; "" for the workflow's own deadlines.
	Actor     string `json:"actor,omitempty"`
	Status    string `json:"status"`
	AutoRenew bool   `json:"auto_renew"`
	// Years is how many years are paid; PaidUntil when the last ends;
	// PayBy, while past due, when the certification lapses unpaid.
	Years     int       `json:"years"`
	PaidUntil time.Time `json:"paid_until,omitzero"`
	PayBy     time.Time `json:"pay_by,omitzero"`
	// Fee and Currency are the yearly fee; Provider and PaymentID the
	// charge that paid it, on the steps that took money.
	Fee       int64     `json:"fee"`
	Currency  string    `json:"currency"`
	Provider  string    `json:"provider,omitempty"`
	PaymentID string    `json:"payment_id,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
}

// Paid reports whether the step took the year's fee.
func (e GoldEvent) Paid() bool { return e.Action == GoldActivated || e.Action == GoldRenewed }

// Gold keeps suppliers' Gold certifications (internal/gold).
type Gold interface {
	// Record writes a step, in one transaction with the certification's
	// status, the supplier's badge, the fee's posting and the step's
	// notice; a step written before is not written again.
	Record(ctx context.Context, e GoldEvent) error
	// VerifiedUntil is when the supplier's verification badge ends (zero:
	// not verified).
	VerifiedUntil(ctx context.Context, orgID string) (time.Time, error)
}

func (a *Activities) gold() (Gold, error) {
	if a.Gold == nil {
		return nil, temporal.NewNonRetryableApplicationError("this worker keeps no Gold certifications", "NotConfigured", nil)
	}
	return a.Gold, nil
}

// RecordGoldStep writes a step of a supplier's Gold certification.
func (a *Activities) RecordGoldStep(ctx context.Context, e GoldEvent) error {
	g, err := a.gold()
	if err != nil {
		return err
	}
	return g.Record(ctx, e)
}

// GoldVerifiedUntil is when the supplier's verification badge ends, read
// before a renewal is charged: Gold requires a verified supplier.
func (a *Activities) GoldVerifiedUntil(ctx context.Context, orgID string) (time.Time, error) {
	g, err := a.gold()
	if err != nil {
		return time.Time{}, err
	}
	return g.VerifiedUntil(ctx, orgID)
}
