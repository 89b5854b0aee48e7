package referral_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/referral"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func buyer(t *testing.T, pool *pgxpool.Pool, name string) (org, user uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO organizations (name) VALUES ($1) RETURNING id`, name).Scan(&org))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, $3, 'buyer') RETURNING id`,
		org, fmt.Sprintf("buyer@%s.example", org), name).Scan(&user))
	return org, user
}

func balance(t *testing.T, l *ledger.Ledger, account string) int64 {
	t.Helper()
	b, err := l.Balance(context.Background(), account, "USD")
	require.NoError(t, err)
	return b
}

// A coupon from issue to its expiry: issued once, used by deals up to what
// it holds (two at once cannot both take it), given back, and expired
// back to the platform, every step a balanced posting.
func TestACouponIsIssuedUsedAndExpiredInTheLedger(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	l := ledger.New(pool)
	s := referral.New(pool, referral.Config{RewardBP: 150, ValidFor: time.Hour})
	referrer, _ := buyer(t, pool, "Referrer")
	referred, user := buyer(t, pool, "Referred")

	code, err := s.Code(ctx, referrer)
	require.NoError(t, err)
	_, err = s.Claim(ctx, code, referred, user)
	require.NoError(t, err)

	// 1.5 % of 100,001 is 1,500 (rounded down); asked again, the same.
	for range 3 {
		r, err := s.Reward(ctx, activities.RewardInput{DealID: "d-earn", BuyerOrgID: referred.String(), Total: 100_001, Currency: "USD"})
		require.NoError(t, err)
		assert.Equal(t, int64(1_500), r.Amount)
		assert.Equal(t, referrer.String(), r.ReferrerOrg)
	}
	r, err := s.Reward(ctx, activities.RewardInput{DealID: "d-later", BuyerOrgID: referred.String(), Total: 9_000_000, Currency: "USD"})
	require.NoError(t, err)
	assert.Equal(t, int64(1_500), r.Amount, "a later deal answers the first coupon and issues none")
	coupon := activities.CouponAccount(r.CouponID)
	assert.Equal(t, int64(1_500), balance(t, l, coupon))
	assert.Equal(t, int64(-1_500), balance(t, l, activities.ReferralRewardsAccount))
	// The referrer was not referred: its deals earn nothing.
	none, err := s.Reward(ctx, activities.RewardInput{DealID: "d-own", BuyerOrgID: referrer.String(), Total: 100_000, Currency: "USD"})
	require.NoError(t, err)
	assert.Zero(t, none.Amount)

	// Ten deals ask for it at once: together they get what it holds, once.
	var wg sync.WaitGroup
	got := make([]activities.Redemption, 10)
	for i := range got {
		wg.Go(func() {
			deal := fmt.Sprintf("d%d", i)
			r, err := s.Redeem(ctx, activities.RedeemInput{DealID: deal, BuyerOrgID: referrer.String(), Currency: "USD", Due: 1_000, Key: "deal-" + deal + "/coupon/escrow"})
			assert.NoError(t, err)
			got[i] = r
		})
	}
	wg.Wait()
	var total int64
	for _, g := range got {
		total += g.Amount
		assert.True(t, g.Amount == 0 || g.Amount == 1_000 || g.Amount == 500, "redeemed %d", g.Amount)
	}
	assert.Equal(t, int64(1_500), total)
	assert.Zero(t, balance(t, l, coupon))
	// Asked again, a deal gets what it got.
	again, err := s.Redeem(ctx, activities.RedeemInput{DealID: "d0", BuyerOrgID: referrer.String(), Currency: "USD", Due: 1_000, Key: "deal-d0/coupon/escrow"})
	require.NoError(t, err)
	assert.Equal(t, got[0], again)
	// Another currency's deal gets nothing.
	eur, err := s.Redeem(ctx, activities.RedeemInput{DealID: "d-eur", BuyerOrgID: referrer.String(), Currency: "EUR", Due: 1_000, Key: "deal-d-eur/coupon/escrow"})
	require.NoError(t, err)
	assert.Zero(t, eur.Amount)

	// A deal gives 400 back (as its settlement posts it); once past its
	// date, the coupon's money goes back to the platform, once.
	used := ""
	for i, g := range got {
		if g.Amount >= 400 {
			used = fmt.Sprintf("d%d", i)
		}
	}
	require.NoError(t, l.Post(ctx, activities.Posting{IdempotencyKey: "give-back", DealID: used, Kind: "settle", Lines: []activities.Line{
		{Account: activities.EscrowAccount(used), Amount: -400, Currency: "USD"}, {Account: coupon, Amount: 400, Currency: "USD"},
	}}))
	n, err := s.Expire(ctx, time.Now())
	require.NoError(t, err)
	assert.Zero(t, n, "a coupon within its date is not expired")
	sum, err := s.Summary(ctx, referrer, time.Now())
	require.NoError(t, err)
	require.Len(t, sum.Coupons, 1)
	assert.Equal(t, "usable", sum.Coupons[0].Status)
	assert.Len(t, sum.Coupons[0].UsedBy, 2)
	for range 2 {
		n, err = s.Expire(ctx, time.Now().Add(2*time.Hour))
		require.NoError(t, err)
	}
	assert.Zero(t, n, "a second run expires nothing")
	assert.Zero(t, balance(t, l, coupon))
	assert.Equal(t, int64(-1_100), balance(t, l, activities.ReferralRewardsAccount))
	sum, err = s.Summary(ctx, referrer, time.Now().Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "expired", sum.Coupons[0].Status)
	// An expired coupon is used by no deal.
	late, err := s.Redeem(ctx, activities.RedeemInput{DealID: "d-late", BuyerOrgID: referrer.String(), Currency: "USD", Due: 1_000, Key: "deal-d-late/coupon/escrow"})
	require.NoError(t, err)
	assert.Zero(t, late.Amount)
	var sumLines int64
	require.NoError(t, pool.QueryRow(ctx, "SELECT coalesce(sum(amount), 0)::bigint FROM ledger_lines").Scan(&sumLines))
	assert.Zero(t, sumLines)
}

func TestAReferralIsClaimedOnceByANewOrganization(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	s := referral.New(pool, referral.Config{})
	a, aUser := buyer(t, pool, "A")
	b, bUser := buyer(t, pool, "B")
	c, _ := buyer(t, pool, "C")
	code, err := s.Code(ctx, a)
	require.NoError(t, err)
	assert.True(t, referral.ValidCode(code))
	_, err = s.Claim(ctx, code, a, aUser)
	assert.ErrorIs(t, err, referral.ErrOwnCode)
	for _, bad := range []string{"", "x", code + "0", "AAAAAAAAAAAAAAAA", "aaaaaaaaaaaaaaa/", "aaaaaaaaaaaaaaaa"} {
		_, err = s.Claim(ctx, bad, b, bUser)
		assert.ErrorIs(t, err, referral.ErrUnknownCode, "code %q", bad)
	}
	ref, err := s.Claim(ctx, code, b, bUser)
	require.NoError(t, err)
	assert.Equal(t, a, ref)
	cCode, err := s.Code(ctx, c)
	require.NoError(t, err)
	_, err = s.Claim(ctx, cCode, b, bUser)
	assert.ErrorIs(t, err, referral.ErrAlreadyReferred)
}
