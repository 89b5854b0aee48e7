package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/money"
)

// Referral coupons (internal/referral) in a deal, from dealRedeemsCoupons:
//
//   - The deposit uses the buyer's coupon. Before the first charge of the
//     deposit, the deal asks for it (RedeemCoupon), at most the deposit;
//     the coupon's money goes into escrow as a payment of its own
//     (PaymentCoupon), and the buyer is charged the rest. A coupon that
//     covers the whole deposit pays it.
//   - The supplier's payout is what it would be without the coupon: the
//     coupon is escrowed money like a charge, transferred from the
//     platform's balance instead of the card's charge, and the deposit's
//     commission is taken on the deposit as a whole (money.AllocateGrouped).
//   - What the deal gives back of a coupon goes back to the coupon's
//     account, not to the buyer's card.
//   - A completed deal issues the coupon its buyer's referrer earned, if
//     the buyer was referred and this is its first (RewardReferral).

// couponID is the ID of a deal's coupon payment; its idempotency key is
// the deal's workflow ID and this, as a charge's is.
const couponID = "coupon"

// coupon is the deal's coupon payment, or nil.
func (d *deal) coupon() *Payment { return d.paymentByID(couponID) }

// redeemCoupon puts the buyer's coupon towards a due deposit, and
// answers what is left to charge. A ledger that refuses the coupon's
// posting (it never moved) leaves the whole deposit to charge; any other
// failure is retried until it answers, as the ledger's postings are.
func (d *deal) redeemCoupon(ctx workflow.Context, due int64) int64 {
	if d.features < dealRedeemsCoupons || d.coupon() != nil || due <= 0 {
		return due
	}
	in := activities.RedeemInput{
		DealID: d.in.DealID, BuyerOrgID: d.in.Inquiry.BuyerOrgID, Currency: d.state.Currency, Due: due,
		Key: d.wf + "/" + couponID + "/escrow",
	}
	var r activities.Redemption
	if err := quicklyInto(ctx, d.localBooks, &d.quickRunning, moneyOptions, "use the buyer's coupon", &r, acts.RedeemCoupon, in); err != nil {
		workflow.GetLogger(ctx).Error("the ledger refused the buyer's coupon; the deposit is charged in full", "deal_id", d.in.DealID, "error", err)
		return due
	}
	if r.Amount <= 0 || r.Amount > due || r.CouponID == "" {
		return due
	}
	d.state.Payments = append(d.state.Payments, Payment{
		ID: couponID, Kind: PaymentCoupon, Step: activities.StepDeposit, Amount: r.Amount, Currency: d.state.Currency,
		Status: PaymentSucceeded, Provider: "coupon", ProviderID: r.CouponID, IdempotencyKey: d.wf + "/" + couponID,
		CreatedAt: workflow.Now(ctx), Posted: true,
	})
	d.state.Escrow.Held += r.Amount
	d.change++
	d.event(ctx, EventCouponRedeemed, d.in.Inquiry.BuyerOrgID, fmt.Sprintf("%s %d %s", activities.StepDeposit, r.Amount, d.state.Currency))
	return due - r.Amount
}

// couponed is what coupons paid of a step.
func (d *deal) couponed(step string) int64 {
	if c := d.coupon(); c != nil && c.Step == step {
		return c.Amount
	}
	return 0
}

// rewardReferrer issues the coupon a completed deal earns its buyer's
// referrer; the referral service issues one per referred buyer, however
// often it is asked.
func (d *deal) rewardReferrer(ctx workflow.Context) error {
	if d.features < dealRedeemsCoupons || d.state.Stage != StageCompleted || d.state.Total <= 0 {
		return nil
	}
	var r activities.Reward
	if err := quicklyInto(ctx, d.localBooks, &d.quickRunning, moneyOptions, "reward the buyer's referrer", &r, acts.RewardReferral, activities.RewardInput{
		DealID: d.in.DealID, BuyerOrgID: d.in.Inquiry.BuyerOrgID, Total: d.state.Total, Currency: d.state.Currency,
	}); err != nil {
		// Refused for good by the ledger: reported, not retried for ever.
		workflow.GetLogger(ctx).Error("the ledger refused a referral coupon", "deal_id", d.in.DealID, "error", err)
		return nil
	}
	if r.Amount > 0 {
		workflow.GetLogger(ctx).Info("referral coupon issued", "deal_id", d.in.DealID, "coupon", r.CouponID, "amount", money.Format(r.Amount, d.state.Currency))
	}
	return nil
}

// Coupons past their date are emptied back to the platform by
// CouponExpiry, hourly, on a schedule (internal/stack).
const (
	CouponExpiryWorkflowName = "CouponExpiry"
	CouponExpiryScheduleID   = "coupon-expiry"
)

// CouponExpiry expires the coupons past their date and returns how many
// it expired. An expired coupon holds nothing, so a run retried or
// started twice expires nothing twice.
func CouponExpiry(ctx workflow.Context) (int, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute, MaximumAttempts: 10,
		},
	})
	var n int
	err := workflow.ExecuteActivity(actx, acts.ExpireCoupons).Get(ctx, &n)
	return n, err
}
