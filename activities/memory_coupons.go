package activities

import (
	"context"
	"fmt"
	"sync"

	"github.com/tradeloop/tradeloop/internal/money"
)

// MemoryCoupons implements Coupons in memory for the workflow tests, as
// internal/referral does in PostgreSQL: a coupon's money moves by postings
// to a Ledger, one coupon per deal, one per referred buyer.
type MemoryCoupons struct {
	mu          sync.Mutex
	ledger      Ledger
	rewardBP    int64
	coupons     []memoryCoupon
	referrers   map[string]string // referred organization → referrer
	redemptions map[string]Redemption
	rewards     map[string]Reward // referred organization → its coupon
}

type memoryCoupon struct {
	id, org, currency string
}

// NewMemoryCoupons keeps coupons whose money moves in ledger, each worth
// rewardBP of the deal that earned it.
func NewMemoryCoupons(ledger Ledger, rewardBP int64) *MemoryCoupons {
	return &MemoryCoupons{ledger: ledger, rewardBP: rewardBP, referrers: map[string]string{}, redemptions: map[string]Redemption{}, rewards: map[string]Reward{}}
}

// Refer records that referrer referred the organization referred.
func (c *MemoryCoupons) Refer(referred, referrer string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.referrers[referred] = referrer
}

// Give issues org a coupon of amount.
func (c *MemoryCoupons) Give(ctx context.Context, id, org string, amount int64, currency string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.issue(ctx, id, org, amount, currency, "")
}

func (c *MemoryCoupons) issue(ctx context.Context, id, org string, amount int64, currency, deal string) error {
	if err := c.ledger.Post(ctx, Posting{
		IdempotencyKey: "coupon/" + id + "/issue", DealID: deal, Kind: "coupon_issued", Memo: "referral coupon",
		Lines: []Line{{Account: ReferralRewardsAccount, Amount: -amount, Currency: currency}, {Account: CouponAccount(id), Amount: amount, Currency: currency}},
	}); err != nil {
		return err
	}
	c.coupons = append(c.coupons, memoryCoupon{id: id, org: org, currency: currency})
	return nil
}

// Redeem implements Coupons: the first of the organization's coupons with
// money on it, its balance read from the ledger.
func (c *MemoryCoupons) Redeem(ctx context.Context, in RedeemInput) (Redemption, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.redemptions[in.DealID]; ok {
		return r, nil
	}
	m, ok := c.ledger.(*Memory)
	if !ok {
		return Redemption{}, fmt.Errorf("memory coupons need the memory ledger")
	}
	for _, cp := range c.coupons {
		if cp.org != in.BuyerOrgID || cp.currency != in.Currency {
			continue
		}
		balance := m.Balance(CouponAccount(cp.id), cp.currency)
		if balance <= 0 {
			continue
		}
		r := Redemption{CouponID: cp.id, Amount: min(balance, in.Due)}
		if err := c.ledger.Post(ctx, Posting{
			IdempotencyKey: in.Key, DealID: in.DealID, Kind: "coupon", Memo: "coupon payment " + cp.id + " into escrow",
			Lines: []Line{{Account: CouponAccount(cp.id), Amount: -r.Amount, Currency: in.Currency}, {Account: EscrowAccount(in.DealID), Amount: r.Amount, Currency: in.Currency}},
		}); err != nil {
			return Redemption{}, err
		}
		c.redemptions[in.DealID] = r
		return r, nil
	}
	return Redemption{}, nil
}

// Reward implements Coupons.
func (c *MemoryCoupons) Reward(ctx context.Context, in RewardInput) (Reward, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	referrer, ok := c.referrers[in.BuyerOrgID]
	if !ok {
		return Reward{}, nil
	}
	if r, ok := c.rewards[in.BuyerOrgID]; ok {
		return r, nil
	}
	value, err := money.BasisPoints(in.Total, c.rewardBP)
	if err != nil {
		return Reward{}, err
	}
	if value == 0 {
		return Reward{}, nil
	}
	r := Reward{CouponID: "reward-" + in.BuyerOrgID, ReferrerOrg: referrer, Amount: value}
	if err := c.issue(ctx, r.CouponID, referrer, value, in.Currency, in.DealID); err != nil {
		return Reward{}, err
	}
	c.rewards[in.BuyerOrgID] = r
	return r, nil
}
