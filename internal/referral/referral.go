// Package referral rewards buyers for bringing buyers. A buyer
// organization's referral code (its link) may be claimed once by a new
// organization, before its first deal; when the referred organization
// completes its first deal, the referrer gets a coupon worth RewardBP of
// that deal, which its next deal's deposit uses (the deal workflow asks
// for it through activities.Coupons). A coupon is money the platform owes:
// it is issued from, used from and expired back to ledger accounts, and
// its balance is its account's, never stored. The database keeps a coupon
// account from going negative, so no coupon is used for more than it
// holds, whatever runs at once.
package referral

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
)

const (
	// DefaultRewardBP is a coupon's worth in basis points of the referred
	// buyer's first completed deal unless configured: 1 %.
	DefaultRewardBP = 100
	// DefaultValidFor is how long a coupon may be used unless configured.
	DefaultValidFor = 365 * 24 * time.Hour
	// CodeLength is a referral code's length: lower-case letters and
	// digits.
	CodeLength = 16
	// LinkPath is the console path a referral link opens, its code after
	// it.
	LinkPath = "/app/join/"
	// NoticeKind is the referrer's notification of its coupon.
	NoticeKind = "referral_coupon"
	// MaxExpiredPerRun bounds one expiry run; the next takes the rest.
	MaxExpiredPerRun = 1000
)

var (
	// ErrUnknownCode is a code no organization has.
	ErrUnknownCode = errors.New("no organization has this referral code")
	// ErrOwnCode is an organization's own code.
	ErrOwnCode = errors.New("an organization cannot refer itself")
	// ErrAlreadyReferred is an organization that claimed a code before.
	ErrAlreadyReferred = errors.New("the organization was referred before")
	// ErrHasDeals is an organization that has asked for a deal: a
	// referral brings a new buyer.
	ErrHasDeals = errors.New("the organization has deals already: only a new organization can be referred")
)

// Config is what a coupon is worth and for how long.
type Config struct {
	// RewardBP is a coupon's worth in basis points of the deal that
	// earned it (0 takes DefaultRewardBP; at most 10,000).
	RewardBP int64
	// ValidFor is how long a coupon may be used (0 takes
	// DefaultValidFor).
	ValidFor time.Duration
}

// Service keeps referrals and coupons in db.
type Service struct {
	db  *pgxpool.Pool
	cfg Config
}

var _ activities.Coupons = (*Service)(nil)

// New keeps referrals and coupons in db.
func New(db *pgxpool.Pool, cfg Config) *Service {
	if cfg.RewardBP == 0 {
		cfg.RewardBP = DefaultRewardBP
	}
	if cfg.ValidFor <= 0 {
		cfg.ValidFor = DefaultValidFor
	}
	return &Service{db: db, cfg: cfg}
}

// Config is what the service's coupons are worth and for how long.
func (s *Service) Config() Config { return s.cfg }

// Code is the organization's referral code, made on its first ask.
func (s *Service) Code(ctx context.Context, org uuid.UUID) (string, error) {
	code, err := store.New(s.db).ReferralCode(ctx, store.ReferralCodeParams{OrgID: org, Code: newCode()})
	if err != nil {
		return "", fmt.Errorf("referral code of %s: %w", org, err)
	}
	return code, nil
}

// newCode is a random referral code: 80 bits of crypto/rand's text.
func newCode() string { return strings.ToLower(rand.Text()[:CodeLength]) }

// ValidCode reports whether code has a referral code's form.
func ValidCode(code string) bool {
	if len(code) != CodeLength {
		return false
	}
	for _, c := range code {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Referrer is the organization a code belongs to.
func (s *Service) Referrer(ctx context.Context, code string) (uuid.UUID, error) {
	if !ValidCode(code) {
		return uuid.Nil, ErrUnknownCode
	}
	org, err := store.New(s.db).ReferrerByCode(ctx, code)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, ErrUnknownCode
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("organization of a referral code: %w", err)
	}
	return org, nil
}

// Claim records that org, through its user, was referred by the owner of
// code, and answers the referrer.
func (s *Service) Claim(ctx context.Context, code string, org, user uuid.UUID) (uuid.UUID, error) {
	referrer, err := s.Referrer(ctx, code)
	if err != nil {
		return uuid.Nil, err
	}
	if referrer == org {
		return uuid.Nil, ErrOwnCode
	}
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		has, err := q.OrgHasDeals(ctx, org.String())
		if err != nil {
			return fmt.Errorf("deals of %s: %w", org, err)
		}
		if has {
			return ErrHasDeals
		}
		_, err = q.InsertReferral(ctx, store.InsertReferralParams{ReferredOrgID: org, ReferrerOrgID: referrer, ClaimedBy: user})
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrAlreadyReferred
		}
		if err != nil {
			return fmt.Errorf("record the referral of %s: %w", org, err)
		}
		return nil
	})
	if err != nil {
		return uuid.Nil, err
	}
	return referrer, nil
}

// Coupon is one of an organization's coupons.
type Coupon struct {
	ID       uuid.UUID `json:"id"`
	Currency string    `json:"currency"`
	// Value is what it was issued for, Balance what is left on it, both
	// in minor units of Currency.
	Value     int64     `json:"value_minor"`
	Balance   int64     `json:"balance_minor"`
	IssuedAt  time.Time `json:"issued_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Status is usable (money left, before its expiry), used (nothing
	// left) or expired.
	Status string `json:"status"`
	// UsedBy are the organization's deals that used it.
	UsedBy []string `json:"used_by"`
}

// Referred is an organization the organization referred.
type Referred struct {
	OrgID     uuid.UUID `json:"org_id"`
	Name      string    `json:"name"`
	ClaimedAt time.Time `json:"claimed_at"`
	// Rewarded says its first completed deal earned the coupon.
	Rewarded bool `json:"rewarded"`
}

// Summary is an organization's referral code, the organizations it
// referred and its coupons (200 of each at most, newest first).
type Summary struct {
	Code     string     `json:"code"`
	Referred []Referred `json:"referred"`
	Coupons  []Coupon   `json:"coupons"`
}

// Summary answers org's referrals and coupons as of now.
func (s *Service) Summary(ctx context.Context, org uuid.UUID, now time.Time) (Summary, error) {
	code, err := s.Code(ctx, org)
	if err != nil {
		return Summary{}, err
	}
	out := Summary{Code: code, Referred: []Referred{}, Coupons: []Coupon{}}
	q := store.New(s.db)
	refs, err := q.OrgReferrals(ctx, org)
	if err != nil {
		return Summary{}, fmt.Errorf("referrals of %s: %w", org, err)
	}
	for _, r := range refs {
		out.Referred = append(out.Referred, Referred{OrgID: r.ReferredOrgID, Name: r.Name, ClaimedAt: r.ClaimedAt, Rewarded: r.Rewarded})
	}
	coupons, err := q.OrgCoupons(ctx, org)
	if err != nil {
		return Summary{}, fmt.Errorf("coupons of %s: %w", org, err)
	}
	for _, c := range coupons {
		status := "usable"
		switch {
		case !now.Before(c.ExpiresAt):
			status = "expired"
		case c.Balance == 0:
			status = "used"
		}
		out.Coupons = append(out.Coupons, Coupon{
			ID: c.ID, Currency: c.Currency, Value: c.ValueMinor, Balance: c.Balance, IssuedAt: c.IssuedAt,
			ExpiresAt: c.ExpiresAt, Status: status, UsedBy: c.UsedBy,
		})
	}
	return out, nil
}

// Next is what is left, as of now, on the coupon org's next deposit in
// currency would use: 0 for none.
func (s *Service) Next(ctx context.Context, org uuid.UUID, currency string, now time.Time) (int64, error) {
	b, err := store.New(s.db).NextCouponBalance(ctx, store.NextCouponBalanceParams{OrgID: org, Currency: currency, Now: now.UTC()})
	if err != nil {
		return 0, fmt.Errorf("next coupon of %s: %w", org, err)
	}
	return b, nil
}

// Reward implements activities.Coupons: the referrer of the deal's buyer
// gets a coupon worth RewardBP of the deal's total, issued from
// activities.ReferralRewardsAccount, and is told. The coupon is the
// referred organization's one: a second completed deal, or the same one
// asked again, answers the coupon issued before and issues nothing.
func (s *Service) Reward(ctx context.Context, in activities.RewardInput) (activities.Reward, error) {
	buyer, err := uuid.Parse(in.BuyerOrgID)
	if err != nil {
		return activities.Reward{}, nil // not an organization of the platform's: referred by no one
	}
	value, err := money.BasisPoints(in.Total, s.cfg.RewardBP)
	if err != nil {
		return activities.Reward{}, fmt.Errorf("a coupon's worth: %w", err)
	}
	var out activities.Reward
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		referrer, err := q.ReferrerOf(ctx, buyer)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("referrer of %s: %w", buyer, err)
		}
		if prev, err := q.CouponOfReferred(ctx, buyer); err == nil {
			out = activities.Reward{CouponID: prev.ID.String(), ReferrerOrg: prev.OrgID.String(), Amount: prev.ValueMinor}
			return nil
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("coupon earned by %s: %w", buyer, err)
		}
		if value == 0 {
			return nil // a deal too small to earn a minor unit
		}
		now := time.Now().UTC()
		id, err := q.InsertCoupon(ctx, store.InsertCouponParams{
			ID: uuid.New(), OrgID: referrer, ReferredOrgID: buyer, EarnedDealID: in.DealID, Currency: in.Currency,
			ValueMinor: value, IssuedAt: now, ExpiresAt: now.Add(s.cfg.ValidFor),
		})
		if err != nil {
			return fmt.Errorf("issue the coupon earned by deal %s: %w", in.DealID, err)
		}
		if err := ledger.PostIn(ctx, tx, activities.Posting{
			// No deal's posting: the deal's parties see nothing of it.
			IdempotencyKey: "coupon/" + id.String() + "/issue", Kind: "coupon_issued",
			Memo: fmt.Sprintf("referral coupon for %s's first completed deal %s", buyer, in.DealID),
			Lines: []activities.Line{
				{Account: activities.ReferralRewardsAccount, Amount: -value, Currency: in.Currency},
				{Account: activities.CouponAccount(id.String()), Amount: value, Currency: in.Currency},
			},
		}); err != nil {
			return err
		}
		facts := notice.Facts{Amount: value, Currency: in.Currency, Due: now.Add(s.cfg.ValidFor)}
		raw, err := json.Marshal(facts)
		if err != nil {
			return fmt.Errorf("encode a notice: %w", err)
		}
		if err := q.QueueNotice(ctx, store.QueueNoticeParams{
			Key: "coupon/" + id.String(), OrgID: referrer.String(), Kind: NoticeKind,
			Text: texts.Text(texts.Default, NoticeKind, facts, ""), Facts: raw,
		}); err != nil {
			return fmt.Errorf("queue the coupon's notice: %w", err)
		}
		out = activities.Reward{CouponID: id.String(), ReferrerOrg: referrer.String(), Amount: value}
		return nil
	})
	if err != nil {
		return activities.Reward{}, ledger.Refused(err)
	}
	return out, nil
}

// Redeem implements activities.Coupons. The deal's redemption is recorded
// with the posting that moves the coupon's money into its escrow, in one
// transaction, so a deal asking again gets the same answer and a coupon
// two deals ask for at once goes to one of them first, the other getting
// what is left.
func (s *Service) Redeem(ctx context.Context, in activities.RedeemInput) (activities.Redemption, error) {
	buyer, err := uuid.Parse(in.BuyerOrgID)
	if err != nil || in.Due <= 0 || in.Key == "" {
		return activities.Redemption{}, nil
	}
	var out activities.Redemption
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		if prev, err := q.RedemptionOfDeal(ctx, in.DealID); err == nil {
			out = activities.Redemption{CouponID: prev.CouponID.String(), Amount: prev.AmountMinor}
			return nil
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("coupon of deal %s: %w", in.DealID, err)
		}
		now := time.Now().UTC()
		usable, err := q.UsableCoupons(ctx, store.UsableCouponsParams{OrgID: buyer, Currency: in.Currency, Now: now})
		if err != nil {
			return fmt.Errorf("usable coupons of %s: %w", buyer, err)
		}
		if len(usable) == 0 {
			return nil
		}
		c := usable[0]
		amount := min(c.Balance, in.Due)
		if err := q.InsertRedemption(ctx, store.InsertRedemptionParams{DealID: in.DealID, CouponID: c.ID, AmountMinor: amount, RedeemedAt: now}); err != nil {
			return fmt.Errorf("record deal %s's coupon: %w", in.DealID, err)
		}
		// The key, kind and memo are those of a charge put into escrow
		// (the deal's own), so an operator's override finds it.
		if err := ledger.PostIn(ctx, tx, activities.Posting{
			IdempotencyKey: in.Key, DealID: in.DealID, Kind: "coupon",
			Memo: "coupon payment " + c.ID.String() + " into escrow",
			Lines: []activities.Line{
				{Account: activities.CouponAccount(c.ID.String()), Amount: -amount, Currency: in.Currency},
				{Account: activities.EscrowAccount(in.DealID), Amount: amount, Currency: in.Currency},
			},
		}); err != nil {
			return err
		}
		out = activities.Redemption{CouponID: c.ID.String(), Amount: amount}
		return nil
	})
	if err != nil {
		return activities.Redemption{}, ledger.Refused(err)
	}
	return out, nil
}

// Expire implements activities.CouponExpirer: every coupon past its
// expiry that holds money (never used, or given back by a deal since) is
// emptied back into activities.ReferralRewardsAccount, MaxExpiredPerRun
// at most.
func (s *Service) Expire(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		rows, err := q.ExpiredCoupons(ctx, store.ExpiredCouponsParams{Now: now.UTC(), MaxCoupons: MaxExpiredPerRun})
		if err != nil {
			return fmt.Errorf("expired coupons: %w", err)
		}
		for _, c := range rows {
			// Each debit of the account is one posting: a later expiry of
			// money given back after the first gets a key of its own.
			if err := ledger.PostIn(ctx, tx, activities.Posting{
				IdempotencyKey: fmt.Sprintf("coupon/%s/expire/%d", c.ID, c.Debits), Kind: "coupon_expired",
				Memo: "referral coupon expired",
				Lines: []activities.Line{
					{Account: activities.CouponAccount(c.ID.String()), Amount: -c.Balance, Currency: c.Currency},
					{Account: activities.ReferralRewardsAccount, Amount: c.Balance, Currency: c.Currency},
				},
			}); err != nil {
				return err
			}
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, ledger.Refused(err)
	}
	return n, nil
}

// Link is the console address of a referral code under publicURL.
func Link(publicURL, code string) string {
	return strings.TrimRight(publicURL, "/") + LinkPath + code
}
