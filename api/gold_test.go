package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/gold"
	"github.com/tradeloop/tradeloop/internal/tier"
	"github.com/tradeloop/tradeloop/workflows"
)

// goldPolicy gives a platform's certifications short years.
func goldPolicy(p workflows.GoldPolicy) func(*Deps) {
	return func(d *Deps) { d.GoldPolicy = p }
}

// verify takes who through verification over the API: a licence and a
// factory video submitted, approved by the admin.
func (p *platform) verify(who string) {
	p.t.Helper()
	p.must(http.StatusCreated, p.uploadDocument(who, "licence.pdf", []byte(testPDF), map[string]string{"kind": "business_licence"}))
	p.must(http.StatusCreated, p.uploadDocument(who, "tour.mp4", testMP4(), map[string]string{"kind": "factory_video"}))
	var submitted struct{ ID string }
	p.must(http.StatusCreated, p.do(who, "POST", "/v1/verification/submit", nil)).json(p.t, &submitted)
	var st workflows.VerificationStatus
	p.must(http.StatusOK, p.do("admin", "POST", "/v1/verifications/"+submitted.ID+"/decision", map[string]string{"decision": "approve"})).json(p.t, &st)
	require.Equal(p.t, "approved", st.Status)
}

func (p *platform) goldPage(who string) gold.Overview {
	p.t.Helper()
	var g gold.Overview
	p.must(http.StatusOK, p.do(who, "GET", "/v1/gold", nil)).json(p.t, &g)
	return g
}

// waitForGold waits until who's certification satisfies ok.
func (p *platform) waitForGold(who, what string, ok func(gold.Certification) bool) gold.Certification {
	p.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		g := p.goldPage(who)
		if g.Certification != nil && ok(*g.Certification) {
			return *g.Certification
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the Gold certification never %s: %+v", what, g.Certification)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func goldActions(c gold.Certification) []string {
	out := make([]string, len(c.Events))
	for i, e := range c.Events {
		out[i] = e.Action
	}
	return out
}

// goldBadges is what buyers see of who's Gold badge: in a search hit, on
// its product's page, in its profile and in a quote comparison's JSON and
// CSV (dealID: a deal who quoted on).
func (p *platform) goldBadges(who, pid, dealID string) (search, product bool, profile *time.Time, compared bool, csv string) {
	p.t.Helper()
	b := p.badges(who, pid)
	var cmp struct {
		Quotes []struct {
			SupplierID string `json:"supplier_id"`
			Gold       bool   `json:"gold"`
		}
	}
	p.must(http.StatusOK, p.do("buyer", "GET", p.path(dealID, "/quotes/comparison"), nil)).json(p.t, &cmp)
	for _, q := range cmp.Quotes {
		if q.SupplierID == p.orgs[who].String() {
			compared = q.Gold
		}
	}
	csv = string(p.must(http.StatusOK, p.do("buyer", "GET", p.path(dealID, "/quotes/comparison?format=csv"), nil)).body)
	return b.SearchGold, b.ProductGold, b.GoldUntil, compared, csv
}

func (p *platform) goldFees() int64 {
	p.t.Helper()
	var sum int64
	if err := p.pool.QueryRow(context.Background(),
		`SELECT coalesce(sum(amount), 0)::bigint FROM ledger_lines WHERE account = $1 AND currency = 'USD'`, activities.GoldFeesAccount).Scan(&sum); err != nil {
		p.t.Fatal(err)
	}
	return sum
}

// The done-when of Gold: a verified supplier pays the yearly fee, the
// card kept, and carries the Gold badge everywhere buyers look; only it
// stops or resumes the renewal; its commission tier is untouched; finance
// sees the fee in the ledger. (The renewals themselves:
// TestGoldRenewsEachYearUntilTheSupplierStopsIt.)
func TestAVerifiedSupplierBecomesGold(t *testing.T) {
	p := newPlatform(t)
	const fee = int64(120_000) // gold.DefaultTerms
	pid := p.listProduct("supplier2", "BOLT-G1")
	deal := p.newDeal(false, "supplier", "supplier2")
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(deal, "/quotes"), quoteBody()))
	p.must(http.StatusOK, p.do("supplier2", "POST", p.path(deal, "/quotes"), quoteBody()))

	// Only suppliers, and only verified ones.
	for _, who := range []string{"buyer", "mediator", "finance", "admin"} {
		p.must(http.StatusForbidden, p.do(who, "GET", "/v1/gold", nil))
		p.must(http.StatusForbidden, p.do(who, "POST", "/v1/gold", nil))
	}
	g := p.goldPage("supplier2")
	assert.Equal(t, gold.Offer{Fee: fee, Currency: "USD", PeriodDays: 365, RenewalNoticeDays: 30, GraceDays: 14, RetryEveryDays: 3}, g.Offer)
	assert.False(t, g.Eligible)
	assert.Nil(t, g.Certification)
	assert.Equal(t, "not_verified", p.must(http.StatusConflict, p.do("supplier2", "POST", "/v1/gold", nil)).errCode())
	assert.Equal(t, "item_not_found", p.must(http.StatusNotFound, p.do("supplier2", "POST", "/v1/gold/auto-renew", map[string]bool{"auto_renew": false})).errCode())
	assert.Zero(t, p.goldFees())

	p.verify("supplier2")
	require.True(t, p.goldPage("supplier2").Eligible)
	for body, status := range map[string]int{
		`{"plan":"platinum"}`: http.StatusBadRequest, // no such field
		`[]`:                  http.StatusBadRequest,
		`{"x":"` + strings.Repeat("a", 2<<20) + `"}`: http.StatusRequestEntityTooLarge,
	} {
		r := p.do("supplier2", "POST", "/v1/gold", body)
		require.Equal(t, status, r.status, "%.40s: %s", body, r.body)
	}
	assert.Nil(t, p.goldPage("supplier2").Certification, "nothing was started")

	// Asked for: the first year is charged, the card kept.
	before := time.Now()
	var paid GoldPayment
	p.must(http.StatusCreated, p.do("supplier2", "POST", "/v1/gold", nil)).json(t, &paid)
	require.Equal(t, activities.GoldIsActive, paid.Status, "the memory provider succeeds at once: %+v", paid)
	require.Equal(t, int32(1), paid.Years)
	require.Equal(t, fee, paid.Fee)
	require.True(t, paid.AutoRenew)
	require.True(t, paid.Badge)
	require.NotNil(t, paid.PaidUntil)
	require.WithinRange(t, *paid.PaidUntil, before.Add(365*24*time.Hour), time.Now().Add(365*24*time.Hour))
	require.Equal(t, []string{activities.GoldActivated}, goldActions(paid.Certification))
	require.Equal(t, fee, paid.Events[0].Amount)
	require.Equal(t, "supplier2@example.com", paid.Events[0].Actor)
	charge := p.mem.Charges()[workflows.GoldWorkflowID(paid.ID.String())+"/year-1/pay-1"]
	require.Equal(t, fee, charge.Amount, "the first year's charge: %+v", p.mem.Charges())
	require.True(t, charge.SaveForLater, "the provider keeps the card for the renewals")
	assert.Equal(t, "gold_exists", p.must(http.StatusConflict, p.do("supplier2", "POST", "/v1/gold", nil)).errCode())
	p.balance(activities.GoldFeesAccount, "USD", fee)
	p.balance(activities.SupplierAccount(p.orgs["supplier2"].String()), "USD", -fee)
	assert.Zero(t, p.sumOfLedger(), "the ledger balances")
	org := p.orgs["supplier2"].String()
	assert.Equal(t, 1, p.notices("gold_activated", org))

	// Buyers see the badge; the other supplier has none.
	search, product, profile, compared, csv := p.goldBadges("supplier2", pid, deal)
	assert.True(t, search, "search shows the Gold badge")
	assert.True(t, product, "the product page shows it")
	assert.NotNil(t, profile, "the profile shows it")
	assert.True(t, compared, "the comparison shows it")
	assert.Equal(t, 1, strings.Count(csv, "(gold)"), "only the Gold supplier is marked: %s", csv)
	assert.Nil(t, p.badges("supplier", pid).GoldUntil)

	// Only its supplier changes it; a rival has none to change.
	assert.Equal(t, "item_not_found", p.must(http.StatusNotFound, p.do("supplier", "POST", "/v1/gold/auto-renew", map[string]bool{"auto_renew": false})).errCode())
	p.must(http.StatusForbidden, p.do("buyer", "POST", "/v1/gold/auto-renew", map[string]bool{"auto_renew": false}))
	for body, status := range map[string]int{
		`{}`:                    http.StatusUnprocessableEntity,
		`{"auto_renew":"no"}`:   http.StatusBadRequest,
		`{"auto_renew":null}`:   http.StatusUnprocessableEntity,
		`{"auto_renew":0}`:      http.StatusBadRequest,
		`{"auto_renew":false,}`: http.StatusBadRequest,
	} {
		r := p.do("supplier2", "POST", "/v1/gold/auto-renew", body)
		require.Equal(t, status, r.status, "%s: %s", body, r.body)
	}
	assert.Equal(t, workflows.RejectWrongStage, p.must(http.StatusConflict, p.do("supplier2", "POST", "/v1/gold/pay", nil)).errCode(), "nothing is due")
	var stopped, resumed gold.Certification
	p.must(http.StatusOK, p.do("supplier2", "POST", "/v1/gold/auto-renew", map[string]bool{"auto_renew": false})).json(t, &stopped)
	require.False(t, stopped.AutoRenew)
	require.True(t, stopped.Badge, "the paid year runs on")
	p.must(http.StatusOK, p.do("supplier2", "POST", "/v1/gold/auto-renew", map[string]bool{"auto_renew": false}))
	p.must(http.StatusOK, p.do("supplier2", "POST", "/v1/gold/auto-renew", map[string]bool{"auto_renew": true})).json(t, &resumed)
	require.True(t, resumed.AutoRenew)
	require.Equal(t, []string{activities.GoldActivated, activities.GoldAutoRenewOff, activities.GoldAutoRenewOn}, goldActions(resumed),
		"a stop asked twice is one step")
	require.Equal(t, "supplier2@example.com", resumed.Events[2].Actor)
	// Asked again and again, a year holds at most 10 renewal changes.
	limited := 0
	for i := range 30 {
		r := p.do("supplier2", "POST", "/v1/gold/auto-renew", map[string]bool{"auto_renew": i%2 == 1})
		if r.status == http.StatusConflict {
			require.Equal(t, workflows.RejectLimit, r.errCode())
			limited++
			continue
		}
		p.must(http.StatusOK, r)
	}
	assert.Positive(t, limited)
	changes := strings.Count(strings.Join(goldActions(p.waitForGold("supplier2", "was read", func(gold.Certification) bool { return true })), " "), "auto_renew_")
	assert.Equal(t, workflows.MaxGoldChangesPerYear, changes)

	// The commission tier rules stay as they are: the Gold supplier's
	// accepted quote carries its tier's commission.
	var st workflows.DealState
	p.must(http.StatusOK, p.do("buyer", "GET", p.path(deal, ""), nil)).json(t, &st)
	var quoteID string
	for _, q := range st.Quotes {
		if q.SupplierID == org {
			quoteID = q.ID
		}
	}
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(deal, "/quotes/"+quoteID+"/accept"), nil)).json(t, &st)
	assert.Equal(t, tier.Bronze.CommissionBasisPoints(), st.CommissionBP, "supplier2 is bronze, Gold or not")

	// Finance and admins see every certification; suppliers do not.
	var list struct{ Certifications []gold.Certification }
	p.must(http.StatusOK, p.do("finance", "GET", "/v1/gold/certifications", nil)).json(t, &list)
	require.Len(t, list.Certifications, 1)
	assert.Equal(t, paid.ID, list.Certifications[0].ID)
	p.must(http.StatusOK, p.do("admin", "GET", "/v1/gold/certifications", nil))
	p.must(http.StatusForbidden, p.do("supplier2", "GET", "/v1/gold/certifications", nil))
	p.must(http.StatusForbidden, p.do("buyer", "GET", "/v1/gold/certifications", nil))
}

// Renewed at each year's end with the kept card, each paid year one
// charge, one posting and one notice; stopped, the certification ends
// with the paid year and nothing more is charged. Years here are two
// seconds long: every check reads what happened, however many years a
// slow machine let pass.
func TestGoldRenewsEachYearUntilTheSupplierStopsIt(t *testing.T) {
	p := newPlatform(t, goldPolicy(workflows.GoldPolicy{Period: 2 * time.Second, RenewalNotice: time.Second, PollEvery: 100 * time.Millisecond}))
	const fee = int64(120_000)
	pid := p.listProduct("supplier2", "BOLT-G3")
	p.verify("supplier2")
	var paid GoldPayment
	p.must(http.StatusCreated, p.do("supplier2", "POST", "/v1/gold", nil)).json(t, &paid)
	require.Equal(t, activities.GoldIsActive, paid.Status)

	renewed := p.waitForGold("supplier2", "renewed", func(c gold.Certification) bool { return c.Years >= 2 })
	assert.Contains(t, goldActions(renewed), activities.GoldRenewalReminder)
	assert.Contains(t, goldActions(renewed), activities.GoldRenewed)

	var stopped gold.Certification
	p.must(http.StatusOK, p.do("supplier2", "POST", "/v1/gold/auto-renew", map[string]bool{"auto_renew": false})).json(t, &stopped)
	require.False(t, stopped.AutoRenew)
	years := stopped.Years
	require.GreaterOrEqual(t, years, int32(2))
	ended := p.waitForGold("supplier2", "ended", func(c gold.Certification) bool { return c.Status == activities.GoldHasEnded })
	require.Equal(t, years, ended.Years, "no year is charged after the stop")
	require.False(t, ended.Badge)
	actions := goldActions(ended)
	require.Equal(t, activities.GoldEnded, actions[len(actions)-1])
	require.Equal(t, 1, strings.Count(strings.Join(actions, " "), activities.GoldAutoRenewOff))

	org := p.orgs["supplier2"].String()
	assert.Equal(t, int64(years)*fee, p.goldFees(), "one fee a paid year")
	assert.Zero(t, p.sumOfLedger(), "the ledger balances")
	assert.Equal(t, 1, p.notices("gold_activated", org))
	assert.Equal(t, int(years)-1, p.notices("gold_renewed", org))
	assert.Equal(t, int(years), p.notices("gold_renewal_soon", org))
	assert.Equal(t, 1, p.notices("gold_ended", org))
	charged := 0
	for key, c := range p.mem.Charges() {
		if strings.HasPrefix(key, workflows.GoldWorkflowID(ended.ID.String())+"/") {
			charged++
			assert.Equal(t, fee, c.Amount, key)
		}
	}
	assert.Equal(t, int(years), charged, "one charge a year: %v", p.mem.Charges())

	b := p.badges("supplier2", pid)
	assert.False(t, b.SearchGold || b.ProductGold, "the badge is gone")
	assert.Nil(t, b.GoldUntil)
	assert.True(t, b.SearchVerified, "verification is another badge")
	assert.Equal(t, workflows.RejectWrongStage, p.must(http.StatusConflict, p.do("supplier2", "POST", "/v1/gold/auto-renew", map[string]bool{"auto_renew": true})).errCode())
	assert.True(t, p.goldPage("supplier2").Eligible, "it may ask again")
}

// A declined renewal makes the certification past due: the badge goes,
// the supplier pays with its client and the year is charged once; a
// supplier whose card keeps failing lapses at the end of the grace.
func TestADeclinedGoldRenewalIsPaidOrLapses(t *testing.T) {
	p := newPlatform(t, goldPolicy(workflows.GoldPolicy{Period: 2 * time.Second, RenewalNotice: time.Second, Grace: time.Hour, RetryEvery: time.Hour,
		PollEvery: 100 * time.Millisecond}))
	const fee = int64(120_000)
	p.verify("supplier2")
	p.mem.DeclineSaved(activities.GoldStep, 1) // the first renewal; the supplier's own payments go through
	var paid GoldPayment
	p.must(http.StatusCreated, p.do("supplier2", "POST", "/v1/gold", nil)).json(t, &paid)
	require.Equal(t, activities.GoldIsActive, paid.Status)

	due := p.waitForGold("supplier2", "went past due", func(c gold.Certification) bool { return c.Status == activities.GoldIsPastDue })
	require.NotNil(t, due.PayBy)
	require.False(t, due.Badge, "unpaid time shows no badge")
	require.Equal(t, 1, p.notices("gold_payment_failed", p.orgs["supplier2"].String()))
	require.Equal(t, fee, p.goldFees())

	// A rival cannot pay it; the supplier's repeat is the same payment.
	p.must(http.StatusNotFound, p.do("supplier", "POST", "/v1/gold/pay", nil))
	var pay GoldPayment
	p.must(http.StatusOK, p.do("supplier2", "POST", "/v1/gold/pay", nil)).json(t, &pay)
	require.NotEmpty(t, pay.PaymentID)
	// Asked again: the same payment while it is confirmed, nothing due
	// once it is; never a second charge.
	if r := p.do("supplier2", "POST", "/v1/gold/pay", nil); r.status == http.StatusOK {
		var again GoldPayment
		r.json(t, &again)
		require.Equal(t, pay.PaymentID, again.PaymentID, "asking again answers the same payment")
	} else {
		require.Equal(t, workflows.RejectWrongStage, p.must(http.StatusConflict, r).errCode())
	}

	back := p.waitForGold("supplier2", "was paid", func(c gold.Certification) bool { return c.Years >= 2 })
	require.Contains(t, []string{activities.GoldIsActive, activities.GoldIsPastDue}, back.Status)
	charges := p.mem.Charges()
	require.Contains(t, charges, workflows.GoldWorkflowID(paid.ID.String())+"/year-2/pay-1", "the supplier's own payment paid year 2")
	require.NotContains(t, charges, workflows.GoldWorkflowID(paid.ID.String())+"/year-2/pay-2")
	assert.Equal(t, int64(back.Years)*fee, p.goldFees(), "each paid year once")
	assert.Zero(t, p.sumOfLedger())

	// Stop it; then a supplier whose card is always declined lapses.
	p.must(http.StatusOK, p.do("supplier2", "POST", "/v1/gold/auto-renew", map[string]bool{"auto_renew": false}))
	p.waitForGold("supplier2", "ended", func(c gold.Certification) bool { return c.Status == activities.GoldHasEnded })
}

// A card that keeps failing: tried again while past due, and the
// certification lapses when the grace runs out; nothing is booked.
func TestAnUnpaidGoldRenewalLapses(t *testing.T) {
	p := newPlatform(t, goldPolicy(workflows.GoldPolicy{Period: 2 * time.Second, RenewalNotice: time.Second, Grace: 2 * time.Second,
		RetryEvery: 500 * time.Millisecond, PollEvery: 100 * time.Millisecond}))
	const fee = int64(120_000)
	p.verify("supplier2")
	p.mem.DeclineSaved(activities.GoldStep, 1_000)
	var paid GoldPayment
	p.must(http.StatusCreated, p.do("supplier2", "POST", "/v1/gold", nil)).json(t, &paid)
	require.Equal(t, activities.GoldIsActive, paid.Status)

	lapsed := p.waitForGold("supplier2", "lapsed", func(c gold.Certification) bool { return c.Status == activities.GoldHasLapsed })
	require.Equal(t, int32(1), lapsed.Years)
	require.False(t, lapsed.Badge)
	actions := goldActions(lapsed)
	require.Equal(t, activities.GoldLapsed, actions[len(actions)-1])
	require.NotEmpty(t, lapsed.Reason)
	org := p.orgs["supplier2"].String()
	require.Equal(t, 1, p.notices("gold_lapsed", org))
	require.GreaterOrEqual(t, p.notices("gold_payment_failed", org), 1)
	require.Equal(t, fee, p.goldFees(), "only the first year was paid")
	require.Zero(t, p.sumOfLedger())
	assert.Equal(t, workflows.RejectWrongStage, p.must(http.StatusConflict, p.do("supplier2", "POST", "/v1/gold/pay", nil)).errCode())
	require.True(t, p.goldPage("supplier2").Eligible)
}

// The Gold page: a supplier that is not verified is sent to verification;
// verified, it asks from the page, sees its badge and stops the renewal;
// finance sees every certification; buyers and mediators have no page.
func TestConsoleGoldPage(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier2", "finance", "buyer", "mediator")
	pid := p.listProduct("supplier2", "BOLT-G2")
	sup := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := sup.signIn("supplier2")

	res := sup.do("GET", "/app/gold", nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, "USD 1,200.00", "the fee")
	assert.Contains(t, res.body, `id="gold-needs-verification"`)
	assert.NotContains(t, res.body, `id="ask-gold"`)
	res = sup.do("POST", "/app/gold", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusConflict, res.status, "%.300s", res.body)
	assert.Contains(t, res.body, `id="gold-error"`)

	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	assert.NotContains(t, buyer.do("GET", "/app/products?q=bolt", nil).body, `class="gold"`, "no badge before Gold")
	p.verify("supplier2")
	res = sup.do("GET", "/app/gold", nil)
	assert.Contains(t, res.body, `id="ask-gold"`)
	assert.NotContains(t, sup.do("POST", "/app/gold", url.Values{}).body, "gold-done", "no CSRF token, nothing asked")
	// A declined card: nothing starts, and the supplier may ask again.
	p.mem.Decline(activities.GoldStep, 1)
	res = sup.do("POST", "/app/gold", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusOK, res.status, "%.300s", res.body)
	assert.Contains(t, res.body, "did not go through")
	assert.Contains(t, res.body, `data-status="failed"`)
	assert.Contains(t, res.body, `id="ask-gold"`)
	assert.NotContains(t, res.body, `id="gold-badge"`)
	res = sup.do("POST", "/app/gold", url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusOK, res.status, "%.300s", res.body)
	assert.Contains(t, res.body, `id="gold-done"`)
	assert.Contains(t, res.body, `id="gold-badge"`)
	assert.Contains(t, res.body, `data-status="active"`)
	assert.Contains(t, res.body, `data-action="activated"`)
	assert.Contains(t, res.body, `id="gold-stop"`)
	assert.NotContains(t, res.body, `id="ask-gold"`, "one live certification")

	// The badge beside the supplier's name in the catalog and on its
	// product's page, for buyers.
	assert.Contains(t, buyer.do("GET", "/app/products?q=bolt", nil).body, `class="gold"`)
	assert.Contains(t, buyer.do("GET", "/app/products/"+pid, nil).body, `class="gold"`)
	assert.Equal(t, http.StatusForbidden, buyer.do("GET", "/app/gold", nil).status)

	for _, bad := range []string{"", "maybe", strings.Repeat("off", 1000)} {
		res = sup.do("POST", "/app/gold/auto-renew", url.Values{"auto_renew": {bad}, "csrf": {csrf}})
		assert.Equal(t, http.StatusUnprocessableEntity, res.status, "%q: %.300s", bad, res.body)
	}
	res = sup.do("POST", "/app/gold/auto-renew", url.Values{"auto_renew": {"off"}, "csrf": {csrf}})
	require.Equal(t, http.StatusOK, res.status, "%.300s", res.body)
	assert.Contains(t, res.body, `id="gold-resume"`)
	assert.Contains(t, res.body, `data-action="auto_renew_off"`)
	res = sup.do("POST", "/app/gold/pay", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusConflict, res.status, "nothing is due: %.300s", res.body)

	fin := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	fcsrf := fin.signIn("finance")
	res = fin.do("GET", "/app/gold", nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, "supplier2 org")
	assert.Contains(t, res.body, "USD 1,200.00")
	assert.Equal(t, http.StatusForbidden, fin.do("POST", "/app/gold", url.Values{"csrf": {fcsrf}}).status)
	med := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	med.signIn("mediator")
	assert.Equal(t, http.StatusForbidden, med.do("GET", "/app/gold", nil).status)
}

// A Gold fee's charge confirmed later (pending, as at Stripe) activates
// the certification once the workflow's poll finds it succeeded; the
// provider's webhooks about it are no deal's and are answered as ignored,
// never refunded as an orphan nor retried for days.
func TestGoldChargeConfirmedLaterAndItsWebhookIgnored(t *testing.T) {
	p := newPlatform(t, goldPolicy(workflows.GoldPolicy{PollEvery: 200 * time.Millisecond}), func(d *Deps) { d.WebhookSecret = testWebhookSecret })
	p.verify("supplier2")
	p.mem.ChargesPending(true)
	var paid GoldPayment
	p.must(http.StatusCreated, p.do("supplier2", "POST", "/v1/gold", nil)).json(t, &paid)
	require.NotEmpty(t, paid.PaymentID)
	for i, typ := range []string{"payment_intent.succeeded", "payment_intent.payment_failed"} {
		pi := map[string]any{"id": paid.PaymentID, "object": "payment_intent", "amount": 120_000, "amount_received": 120_000, "currency": "usd",
			"status": "succeeded", "metadata": map[string]string{"deal_id": "gold-" + paid.ID.String(), "step": activities.GoldStep}}
		payload, sig := signedEvent(t, fmt.Sprintf("evt_gold_%d", i), typ, pi, time.Now(), testWebhookSecret)
		r := p.must(http.StatusOK, p.deliver(payload, sig))
		assert.Contains(t, string(r.body), "ignored", typ)
	}
	active := p.waitForGold("supplier2", "was activated", func(c gold.Certification) bool { return c.Status != activities.GoldIsPending })
	require.Equal(t, activities.GoldIsActive, active.Status)
	assert.Empty(t, p.mem.Refunds(), "nothing refunded")
	assert.Equal(t, int64(120_000), p.goldFees())
}

// Gold by clicking, on a phone's width: a verified supplier finds the
// page in its menu, asks, sees its badge and stops the renewal; finance
// finds every certification from its menu. Each page passes the
// accessibility check and fits the phone.
func TestGoldByClicking(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier2", "finance")
	p.verify("supplier2")
	supplier := tab{t: t, ctx: browser(t, 360, 800), name: "supplier on a phone"}
	supplier.signIn(p.url, "supplier2")
	supplier.submit(`nav a[href="/app/gold"]`)
	supplier.accessible("the Gold page")
	supplier.fits("the Gold page")
	if got := supplier.text("#gold-terms"); !strings.Contains(got, "USD 1,200.00") {
		t.Errorf("the terms: %q", got)
	}
	supplier.submit("#ask-gold button")
	if got := supplier.text("#gold-done"); !strings.Contains(got, "You are a Gold supplier") {
		t.Errorf("after asking: %q", got)
	}
	if got := supplier.text("#gold-badge"); !strings.HasPrefix(got, "Gold") {
		t.Errorf("the badge: %q", got)
	}
	if got := supplier.text("#certification .status"); !strings.Contains(got, "active") || !strings.Contains(got, "1 year paid") {
		t.Errorf("the status: %q", got)
	}
	supplier.accessible("the Gold page, certified")
	supplier.fits("the Gold page, certified")
	supplier.shot("supplier-gold-phone")
	supplier.submit("#gold-stop")
	if got := supplier.text("#gold-done"); !strings.Contains(got, "renewal is off") {
		t.Errorf("after the stop: %q", got)
	}
	supplier.do(chromedp.WaitVisible(chromedp.ID("gold-resume")))
	if got := supplier.text(`#gold-events li[data-action="auto_renew_off"]`); !strings.Contains(got, "supplier2@example.com") {
		t.Errorf("the stop's step: %q", got)
	}

	finance := tab{t: t, ctx: browser(t, 1280, 900), name: "finance"}
	finance.signIn(p.url, "finance")
	finance.submit(`nav a[href="/app/gold"]`)
	finance.accessible("the Gold certifications")
	if got := finance.text("table.gold-certifications tbody tr"); !strings.Contains(got, "supplier2 org") || !strings.Contains(got, "renewal off") {
		t.Errorf("finance's row: %q", got)
	}
}
