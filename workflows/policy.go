package workflows

import "time"

// Scaled returns the policy with every deadline of its defaults multiplied
// by f (DEAL_POLICY_SCALE): the same lifecycle on a shorter clock, for
// demos, tests and the load generator. A scaled deadline is never below a
// second. The tracking polls are left as they are: they come from their
// own settings.
func (p Policy) Scaled(f float64) Policy {
	p = p.withDefaults()
	if f == 1 || f <= 0 {
		return p
	}
	for _, d := range []*time.Duration{
		&p.QuoteSLA, &p.QuoteReminder, &p.InquiryExpiry, &p.SampleShipping, &p.SampleAutoApprove, &p.ContractSigning,
		&p.DepositDue, &p.BalanceDue, &p.PaymentGrace, &p.PaymentReconcile, &p.InspectionWindow,
		&p.InspectionReminder, &p.DisputeAnswer, &p.DisputeSettlement, &p.TrackingStall,
	} {
		*d = max(time.Duration(float64(*d)*f), time.Second)
	}
	scaled := make([]time.Duration, len(p.Reminders))
	for i, r := range p.Reminders {
		scaled[i] = max(time.Duration(float64(r)*f), time.Second)
	}
	p.Reminders = scaled
	return p
}
