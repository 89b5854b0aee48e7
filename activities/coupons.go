package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Coupons keeps buyers' referral coupons (internal/referral): money the
// platform owes a buyer organization, in a ledger account of its own per
// coupon (CouponAccount).
type Coupons interface {
	// Redeem puts the buyer organization's usable coupon in the deal's
	// currency that expires first into the deal's escrow, at most Due of
	// it, and answers what it put in: nothing when the organization has
	// none. A deal uses one coupon, once: asked again, it answers the
	// same.
	Redeem(ctx context.Context, in RedeemInput) (Redemption, error)
	// Reward issues the coupon a referred buyer organization earns its
	// referrer with its first completed deal, once: nothing when the
	// buyer was not referred, or its coupon was issued before.
	Reward(ctx context.Context, in RewardInput) (Reward, error)
}

// RedeemInput asks for a buyer's coupon towards a deal's payment.
type RedeemInput struct {
	DealID     string `json:"deal_id"`
	BuyerOrgID string `json:"buyer_org_id"`
	Currency   string `json:"currency"`
	Due        int64  `json:"due"`
	// Key is the idempotency key of the posting that moves the coupon's
	// money into the deal's escrow.
	Key string `json:"key"`
}

// Redemption is a coupon a deal used: zero when none.
type Redemption struct {
	CouponID string `json:"coupon_id,omitempty"`
	Amount   int64  `json:"amount,omitempty"`
}

// RewardInput is a completed deal whose buyer may have been referred.
type RewardInput struct {
	DealID     string `json:"deal_id"`
	BuyerOrgID string `json:"buyer_org_id"`
	Total      int64  `json:"total"`
	Currency   string `json:"currency"`
}

// Reward is the coupon a completed deal earned its buyer's referrer: zero
// when none.
type Reward struct {
	CouponID    string `json:"coupon_id,omitempty"`
	ReferrerOrg string `json:"referrer_org,omitempty"`
	Amount      int64  `json:"amount,omitempty"`
}

// CouponAccount names a coupon's ledger account; ReferralRewardsAccount
// is the platform's account coupons are issued from and expire back to.
func CouponAccount(id string) string { return "coupon:" + id }

// ReferralRewardsAccount is what the platform spends on referral coupons.
const ReferralRewardsAccount = "platform:referral-rewards"

// RedeemCoupon uses a buyer's coupon towards a deal's payment (Coupons.Redeem);
// nothing when the worker keeps no coupons.
func (a *Activities) RedeemCoupon(ctx context.Context, in RedeemInput) (Redemption, error) {
	if a.Coupons == nil {
		return Redemption{}, nil
	}
	r, err := a.Coupons.Redeem(ctx, in)
	if errors.Is(err, ErrLedgerRejected) {
		return Redemption{}, temporal.NewNonRetryableApplicationError(err.Error(), "LedgerRejected", err)
	}
	if err != nil {
		return Redemption{}, fmt.Errorf("redeem a coupon of %s for deal %s: %w", in.BuyerOrgID, in.DealID, err)
	}
	return r, nil
}

// RewardReferral issues a referrer's coupon for a completed deal
// (Coupons.Reward); nothing when the worker keeps no coupons.
func (a *Activities) RewardReferral(ctx context.Context, in RewardInput) (Reward, error) {
	if a.Coupons == nil {
		return Reward{}, nil
	}
	r, err := a.Coupons.Reward(ctx, in)
	if err != nil {
		return Reward{}, fmt.Errorf("reward the referrer of %s for deal %s: %w", in.BuyerOrgID, in.DealID, err)
	}
	return r, nil
}

// CouponExpirer expires, as of now, the coupons past their date that still
// hold money, each as a ledger posting back to ReferralRewardsAccount, and
// reports how many it expired.
type CouponExpirer func(ctx context.Context, now time.Time) (int, error)

// ExpireCoupons expires the coupons past their date (internal/referral):
// a coupon expired once holds nothing, so a run repeated expires nothing
// twice.
func (a *Activities) ExpireCoupons(ctx context.Context) (int, error) {
	if a.CouponExpiry == nil {
		return 0, errors.New("coupon expiry: not configured")
	}
	n, err := a.CouponExpiry(ctx, time.Now())
	if err != nil {
		return 0, fmt.Errorf("expire coupons: %w", err)
	}
	a.logger().InfoContext(ctx, "expired coupons", "expired", n)
	return n, nil
}
