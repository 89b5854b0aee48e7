package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/workflows"
)

// atDeposit is a deal of buyer's with the supplier (2,000 at USD 3.90:
// USD 7,800.00, deposit 2,340.00), taken through the API to its deposit
// due.
func (p *platform) atDeposit(buyer string) string {
	p.t.Helper()
	var st workflows.DealState
	p.must(http.StatusCreated, p.do(buyer, "POST", "/v1/deals", map[string]any{
		"product": "cotton t-shirts", "quantity": 2000, "unit": "pcs", "currency": "USD", "destination": "Hamburg",
		"suppliers": []string{p.orgs["supplier"].String()},
	})).json(p.t, &st)
	id := st.DealID
	p.projected(id)
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(p.t, &st)
	p.must(200, p.do(buyer, "POST", p.path(id, "/quotes/"+st.Quotes[0].ID+"/accept"), nil)).json(p.t, &st)
	p.must(200, p.do(buyer, "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	p.must(200, p.do("supplier", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	return id
}

// complete takes a deal whose deposit is paid to the buyer's acceptance
// and waits for its escrow to be settled.
func (p *platform) complete(buyer, id, tracking string) workflows.DealState {
	p.t.Helper()
	p.must(200, p.do("supplier", "POST", p.path(id, "/ready"), nil))
	p.must(200, p.do(buyer, "POST", p.path(id, "/payments/balance"), nil))
	p.mem.Script(tracking, activities.TrackDelivered)
	p.must(200, p.do("supplier", "POST", p.path(id, "/shipment"), map[string]string{"carrier": "dhl", "tracking_number": tracking}))
	p.waitFor(buyer, id, func(s workflows.DealState) bool { return s.Stage == workflows.StageInspection })
	p.must(200, p.do(buyer, "POST", p.path(id, "/accept"), nil))
	return p.waitFor("finance", id, func(s workflows.DealState) bool { return s.Resolution != nil && s.Resolution.Done })
}

type referralsBody struct {
	Code     string
	Link     string
	RewardBP int64 `json:"reward_bp"`
	Referred []struct {
		Name     string
		Rewarded bool
	}
	Coupons []struct {
		ID       string
		Value    int64 `json:"value_minor"`
		Balance  int64 `json:"balance_minor"`
		Currency string
		Status   string
		UsedBy   []string `json:"used_by"`
	}
}

func (p *platform) referrals(who string) referralsBody {
	p.t.Helper()
	var r referralsBody
	p.must(200, p.do(who, "GET", "/v1/referrals", nil)).json(p.t, &r)
	return r
}

func (p *platform) sumOfLedger() int64 {
	p.t.Helper()
	var sum int64
	if err := p.pool.QueryRow(context.Background(), "SELECT coalesce(sum(amount), 0)::bigint FROM ledger_lines").Scan(&sum); err != nil {
		p.t.Fatal(err)
	}
	return sum
}

// The done-when of referrals: the coupon is issued once for the referred
// buyer's first completed deal, used once, the ledger stays balanced and
// the supplier is paid what it would be without it.
func TestAReferralCouponIsIssuedOnceAndUsedOnce(t *testing.T) {
	p := newPlatform(t)
	ref := p.referrals("buyer")
	require.Len(t, ref.Code, 16)
	assert.True(t, strings.HasSuffix(ref.Link, "/app/join/"+ref.Code), "link %q", ref.Link)
	assert.Equal(t, int64(100), ref.RewardBP)
	assert.Equal(t, ref.Code, p.referrals("buyer").Code, "an organization keeps its code")

	// Hostile and wrong claims.
	for _, c := range []struct {
		who, code string
		status    int
		errCode   string
	}{
		{"buyer", ref.Code, 422, "invalid"},             // its own
		{"buyer2", "../../" + ref.Code, 422, "invalid"}, // a path trick
		{"buyer2", strings.Repeat("a", 1000), 422, "invalid"},
		{"buyer2", strings.ToUpper(ref.Code), 422, "invalid"},
		{"buyer2", "aaaaaaaaaaaaaaaa", 422, "invalid"}, // no one's
		{"buyer2", ref.Code[:15] + "\x00", 422, "invalid"},
		{"supplier", ref.Code, 403, "forbidden"},
	} {
		r := p.do(c.who, "POST", "/v1/referrals/claim", map[string]string{"code": c.code})
		assert.Equal(t, c.status, r.status, "%s claims %q: %s", c.who, c.code, r.body)
		assert.Equal(t, c.errCode, r.errCode(), "%s claims %q", c.who, c.code)
	}
	var claim struct{ Referrer string }
	p.must(201, p.do("buyer2", "POST", "/v1/referrals/claim", map[string]string{"code": ref.Code})).json(t, &claim)
	assert.Equal(t, "buyer org", claim.Referrer)
	r := p.do("buyer2", "POST", "/v1/referrals/claim", map[string]string{"code": ref.Code})
	assert.Equal(t, 409, r.status)
	assert.Equal(t, "already_referred", r.errCode())

	// The referred buyer's first deal completes: the referrer gets 1 %
	// of it (USD 78.00), once; its second deal earns nothing more.
	sup := "supplier:" + p.orgs["supplier"].String()
	first := p.atDeposit("buyer2")
	p.must(200, p.do("buyer2", "POST", p.path(first, "/payments/deposit"), nil))
	p.complete("buyer2", first, "REF-1")
	ref = p.referrals("buyer")
	require.Len(t, ref.Coupons, 1)
	coupon := ref.Coupons[0]
	assert.Equal(t, int64(7_800), coupon.Value)
	assert.Equal(t, int64(7_800), coupon.Balance)
	assert.Equal(t, "usable", coupon.Status)
	require.Len(t, ref.Referred, 1)
	assert.Equal(t, "buyer2 org", ref.Referred[0].Name)
	assert.True(t, ref.Referred[0].Rewarded)
	p.balance("coupon:"+coupon.ID, "USD", 7_800)
	p.balance(activities.ReferralRewardsAccount, "USD", -7_800)
	p.balance(sup, "USD", 764_400) // 780,000 less gold's 200 bp
	var notices int
	require.NoError(t, p.pool.QueryRow(context.Background(),
		"SELECT count(*) FROM notification_outbox WHERE kind = 'referral_coupon' AND org_id = $1", p.orgs["buyer"].String()).Scan(&notices))
	assert.Equal(t, 1, notices, "the referrer is told of its coupon once")
	assert.Empty(t, p.referrals("buyer2").Coupons, "the referred buyer gets no coupon")

	second := p.atDeposit("buyer2")
	p.must(200, p.do("buyer2", "POST", p.path(second, "/payments/deposit"), nil))
	p.complete("buyer2", second, "REF-2")
	assert.Len(t, p.referrals("buyer").Coupons, 1, "a second completed deal issues no second coupon")
	for id, want := range map[string]string{first: "referral", second: "direct"} {
		var channel string
		require.NoError(t, p.pool.QueryRow(context.Background(), "SELECT channel FROM deal_origins WHERE deal_id = $1", id).Scan(&channel))
		assert.Equal(t, want, channel, "the referred organization's first inquiry is the referral's, its next is not")
	}
	p.balance(activities.ReferralRewardsAccount, "USD", -7_800)

	// The referrer's next two deals pay their deposits at once: one of
	// them uses the coupon, the other is charged in full.
	a, b := p.atDeposit("buyer"), p.atDeposit("buyer")
	p.withPasswords("buyer")
	console := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	console.signIn("buyer")
	page := console.do("GET", "/app/deals/"+a, nil)
	require.Equal(t, 200, page.status)
	assert.Contains(t, page.body, `id="coupon-note"`)
	assert.Contains(t, page.body, "78.00", "the deal page says what the coupon takes off")
	var wg sync.WaitGroup
	for _, id := range []string{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.must(200, p.do("buyer", "POST", p.path(id, "/payments/deposit"), nil))
		}()
	}
	wg.Wait()
	var withCoupon, without string
	for _, id := range []string{a, b} {
		var pays struct{ Payments []workflows.Payment }
		p.must(200, p.do("finance", "GET", p.path(id, "/payments"), nil)).json(t, &pays)
		var coupons, charged int64
		for _, pay := range pays.Payments {
			switch pay.Kind {
			case workflows.PaymentCoupon:
				coupons += pay.Amount
			case workflows.PaymentCharge:
				charged += pay.Amount
			}
		}
		switch coupons {
		case 7_800:
			withCoupon = id
			assert.Equal(t, int64(234_000-7_800), charged, "deal %s's card paid the deposit less the coupon", id)
		case 0:
			without = id
			assert.Equal(t, int64(234_000), charged, "deal %s's card paid the whole deposit", id)
		default:
			t.Fatalf("deal %s used %d of the coupon", id, coupons)
		}
	}
	require.NotEmpty(t, withCoupon, "neither deal used the coupon")
	require.NotEmpty(t, without, "both deals used the coupon")
	p.balance("coupon:"+coupon.ID, "USD", 0)
	page = console.do("GET", "/app/deals/"+p.atDeposit("buyer"), nil)
	assert.Contains(t, page.body, `id="pay"`)
	assert.NotContains(t, page.body, `id="coupon-note"`, "a used coupon is not offered again")
	ref = p.referrals("buyer")
	assert.Equal(t, "used", ref.Coupons[0].Status)
	assert.Equal(t, []string{withCoupon}, ref.Coupons[0].UsedBy)

	// Completed, the deal with the coupon pays the supplier what the
	// others did; the buyer paid 78.00 less.
	final := p.complete("buyer", withCoupon, "REF-3")
	assert.Equal(t, workflows.Escrow{Released: 780_000, Commission: 15_600}, final.Escrow)
	p.balance(sup, "USD", 3*764_400)
	p.balance("escrow:"+withCoupon, "USD", 0)
	p.balance("buyer:"+p.orgs["buyer"].String(), "USD", -(780_000-7_800)-234_000)
	p.balance("platform:commission", "USD", 3*15_600)
	assert.Zero(t, p.sumOfLedger(), "the ledger's lines sum to zero")
	// The referrer was never referred: its completed deal issues nothing.
	p.balance(activities.ReferralRewardsAccount, "USD", -7_800)
}

// A referral is for a new organization: one that has asked for a deal
// cannot claim one.
func TestAnOrganizationWithDealsCannotBeReferred(t *testing.T) {
	p := newPlatform(t)
	code := p.referrals("buyer2").Code
	p.newDeal(false, "supplier")
	r := p.do("buyer", "POST", "/v1/referrals/claim", map[string]string{"code": code})
	assert.Equal(t, 409, r.status, "%s", r.body)
	assert.Equal(t, "has_deals", r.errCode())
}

func TestConsoleReferralLinkIsClaimedByForm(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer", "buyer2")
	referrer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	referrer.signIn("buyer")
	res := referrer.do("GET", "/app/referrals", nil)
	require.Equal(t, 200, res.status)
	code := p.referrals("buyer").Code
	assert.Contains(t, res.body, "/app/join/"+code)
	assert.Contains(t, res.body, `id="no-coupons"`)
	assert.Contains(t, res.body, "1.0 %")

	joiner := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	// Not signed in, the link asks to sign in and comes back.
	res = joiner.do("GET", "/app/join/"+code, nil)
	assert.Equal(t, http.StatusSeeOther, res.status)
	assert.Contains(t, res.location, url.QueryEscape("/app/join/"+code))
	csrf := joiner.signIn("buyer2")
	res = joiner.do("GET", "/app/join/"+code, nil)
	require.Equal(t, 200, res.status, "%s", res.body)
	assert.Contains(t, res.body, "buyer org referred you")
	assert.Equal(t, 404, joiner.do("GET", "/app/join/aaaaaaaaaaaaaaaa", nil).status)
	assert.Equal(t, 404, joiner.do("GET", "/app/join/..%2f..%2fapp", nil).status)
	assert.Equal(t, 403, joiner.do("POST", "/app/join/"+code, url.Values{"csrf": {"forged"}}).status)
	res = joiner.do("POST", "/app/join/"+code, url.Values{"csrf": {csrf}})
	require.Equal(t, 200, res.status, "%s", res.body)
	assert.Contains(t, res.body, `id="join-claimed"`)
	res = joiner.do("POST", "/app/join/"+code, url.Values{"csrf": {csrf}})
	assert.Equal(t, 409, res.status)
	assert.Contains(t, res.body, "referred before")

	res = referrer.do("GET", "/app/referrals", nil)
	assert.Contains(t, res.body, "buyer2 org")
}
