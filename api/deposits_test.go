package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/deposits"
	"github.com/tradeloop/tradeloop/workflows"
)

// markDepositCategory makes category ask its suppliers for amount USD
// minor units, as the admin.
func (p *platform) markDepositCategory(category string, amount int64) {
	p.t.Helper()
	p.must(http.StatusOK, p.do("admin", "PUT", "/v1/deposit-categories/"+category, map[string]any{"currency": "USD", "amount_minor": amount}))
}

// categoryDeal is an inquiry of the buyer's in category to the given
// suppliers.
func (p *platform) categoryDeal(category string, suppliers ...string) string {
	p.t.Helper()
	var ids []string
	for _, s := range suppliers {
		ids = append(ids, p.orgs[s].String())
	}
	var st workflows.DealState
	p.must(http.StatusCreated, p.do("buyer", "POST", "/v1/deals", map[string]any{
		"product": "LED panels", "category": category, "quantity": 2000, "unit": "pcs", "currency": "USD", "destination": "Hamburg",
		"suppliers": ids,
	})).json(p.t, &st)
	p.projected(st.DealID)
	return st.DealID
}

// payDeposit pays who's USD deposit and answers it.
func (p *platform) payDeposit(who string) deposits.Deposit {
	p.t.Helper()
	var d deposits.Deposit
	p.must(http.StatusCreated, p.do(who, "POST", "/v1/deposits", map[string]any{"currency": "USD"})).json(p.t, &d)
	return d
}

func (p *platform) deposit(who, id string) deposits.Deposit {
	p.t.Helper()
	var d deposits.Deposit
	p.must(http.StatusOK, p.do(who, "GET", "/v1/deposits/"+id, nil)).json(p.t, &d)
	return d
}

// depositReturned waits until deposit id's refund is booked.
func (p *platform) depositReturned(id string) deposits.Deposit {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := p.deposit("supplier", id)
		if d.Status == activities.DepositReturned {
			return d
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("deposit %s never returned: %s", id, d.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *platform) refundOf(depositID string) activities.RefundInput {
	p.t.Helper()
	return p.mem.Refunds()[workflows.DepositWorkflowID(depositID)+"/return"]
}

// The done-when of security deposits: a deposit paid, held and returned
// with the ledger balanced, and a supplier without one refused its quote.
func TestASecurityDepositIsPaidHeldAndReturned(t *testing.T) {
	p := newPlatform(t)

	// Only the admin marks categories, within bounds.
	body := map[string]any{"currency": "USD", "amount_minor": 50_000}
	for _, who := range []string{"buyer", "supplier", "mediator", "finance"} {
		p.must(http.StatusForbidden, p.do(who, "PUT", "/v1/deposit-categories/led-lighting", body))
	}
	for _, bad := range []map[string]any{
		{"currency": "USD", "amount_minor": 0}, {"currency": "USD", "amount_minor": -5},
		{"currency": "USD", "amount_minor": workflows.MaxDepositMinor + 1}, {"currency": "XYZ", "amount_minor": 100},
	} {
		r := p.must(http.StatusUnprocessableEntity, p.do("admin", "PUT", "/v1/deposit-categories/led-lighting", bad))
		assert.Equal(t, "invalid", r.errCode())
	}
	p.must(http.StatusUnprocessableEntity, p.do("admin", "PUT", "/v1/deposit-categories/LED_lighting", body))
	p.must(http.StatusNotFound, p.do("supplier", "GET", "/v1/deposit-categories/led-lighting", nil))
	p.markDepositCategory("led-lighting", 50_000)
	var cat deposits.Category
	p.must(http.StatusOK, p.do("supplier", "GET", "/v1/deposit-categories/led-lighting", nil)).json(t, &cat)
	assert.Equal(t, int64(50_000), cat.Amount)
	assert.Equal(t, "USD", cat.Currency)

	// Without a deposit, no quote in the category.
	deal := p.categoryDeal("led-lighting", "supplier")
	r := p.must(http.StatusConflict, p.do("supplier", "POST", "/v1/deals/"+deal+"/quotes", quoteBody()))
	assert.Equal(t, "deposit_required", r.errCode())
	assert.Contains(t, r.errMessage(), "USD 500.00", "the supplier is told how much it needs")
	// A deal outside the category takes quotes as before.
	other := p.newDeal(false, "supplier")
	p.must(http.StatusOK, p.do("supplier", "POST", "/v1/deals/"+other+"/quotes", quoteBody()))
	p.must(http.StatusOK, p.do("buyer", "POST", "/v1/deals/"+other+"/cancel", nil))

	// Paying: only suppliers, only a currency a category asks for.
	p.must(http.StatusForbidden, p.do("buyer", "POST", "/v1/deposits", map[string]any{"currency": "USD"}))
	p.must(http.StatusUnprocessableEntity, p.do("supplier", "POST", "/v1/deposits", map[string]any{"currency": "usd"}))
	assert.Equal(t, "no_deposit_required", p.must(http.StatusConflict, p.do("supplier", "POST", "/v1/deposits", map[string]any{"currency": "EUR"})).errCode())
	d := p.payDeposit("supplier")
	require.Equal(t, activities.DepositHeld, d.Status, "the sandbox captures at once: %+v", d)
	assert.Equal(t, int64(50_000), d.Held)
	require.Len(t, d.Postings, 1)
	assert.Equal(t, int64(50_000), d.Postings[0].Amount)
	p.balance(activities.DepositAccount(d.ID.String()), "USD", 50_000)
	assert.Equal(t, "deposit_exists", p.must(http.StatusConflict, p.do("supplier", "POST", "/v1/deposits", map[string]any{"currency": "USD"})).errCode())

	// Each viewer sees its own business.
	p.must(http.StatusNotFound, p.do("supplier2", "GET", "/v1/deposits/"+d.ID.String(), nil))
	p.must(http.StatusNotFound, p.do("supplier2", "POST", "/v1/deposits/"+d.ID.String()+"/return", nil))
	p.must(http.StatusForbidden, p.do("buyer", "GET", "/v1/deposits", nil))
	var list struct{ Deposits []deposits.Deposit }
	p.must(http.StatusOK, p.do("supplier2", "GET", "/v1/deposits", nil)).json(t, &list)
	assert.Empty(t, list.Deposits)
	p.must(http.StatusOK, p.do("finance", "GET", "/v1/deposits", nil)).json(t, &list)
	require.Len(t, list.Deposits, 1)
	assert.Equal(t, int64(50_000), list.Deposits[0].Held)

	// Held: it quotes; while its deal runs, it cannot leave.
	p.must(http.StatusOK, p.do("supplier", "POST", "/v1/deals/"+deal+"/quotes", quoteBody()))
	r = p.must(http.StatusConflict, p.do("supplier", "POST", "/v1/deposits/"+d.ID.String()+"/return", nil))
	assert.Equal(t, "not_in_good_standing", r.errCode())
	assert.Contains(t, r.errMessage(), deal, "the supplier is told which deal stands in the way")
	p.balance(activities.DepositAccount(d.ID.String()), "USD", 50_000)

	// The deal ends; the supplier leaves and gets its deposit back.
	p.must(http.StatusOK, p.do("buyer", "POST", "/v1/deals/"+deal+"/cancel", nil))
	var back deposits.Deposit
	p.must(http.StatusOK, p.do("supplier", "POST", "/v1/deposits/"+d.ID.String()+"/return", nil)).json(t, &back)
	assert.Contains(t, []string{activities.DepositReturning, activities.DepositReturned}, back.Status)
	back = p.depositReturned(d.ID.String())
	assert.Equal(t, int64(0), back.Held)
	assert.Len(t, back.Postings, 2)
	p.balance(activities.DepositAccount(d.ID.String()), "USD", 0)
	refund := p.refundOf(d.ID.String())
	assert.Equal(t, int64(50_000), refund.Amount, "the provider refunded the deposit")
	assert.Equal(t, d.PaymentID, refund.PaymentID, "on its original charge")
	assert.Equal(t, "wrong_stage", p.must(http.StatusConflict, p.do("supplier", "POST", "/v1/deposits/"+d.ID.String()+"/return", nil)).errCode(),
		"a second return is refused")

	// Returned, it no longer counts.
	again := p.categoryDeal("led-lighting", "supplier")
	assert.Equal(t, "deposit_required", p.must(http.StatusConflict, p.do("supplier", "POST", "/v1/deals/"+again+"/quotes", quoteBody())).errCode())
	assert.Equal(t, int64(0), p.sumOfLedger(), "the ledger balances")
}

// Dispatch invites only the suppliers of a category who hold its deposit.
func TestDepositDispatchInvitesOnlySuppliersHoldingIt(t *testing.T) {
	p := newPlatform(t)
	for _, who := range []string{"supplier", "supplier2"} {
		p.must(http.StatusOK, p.do(who, "PUT", "/v1/suppliers/me", map[string]any{"categories": []string{"valves"}, "regions": []string{"CN"}}))
	}
	p.markDepositCategory("valves", 10_000)
	p.payDeposit("supplier")
	// supplier2's card is declined: its deposit failed, holds nothing and
	// counts for nothing; it may try again.
	p.mem.Decline(activities.DepositStep, 1)
	failed := p.payDeposit("supplier2")
	assert.Equal(t, activities.DepositFailed, failed.Status)
	assert.Contains(t, failed.Reason, "declined")
	assert.Equal(t, int64(0), failed.Held)
	assert.Empty(t, failed.Postings)
	deal := p.categoryDeal("valves")
	st := p.deal("buyer", deal)
	var invited []string
	for _, inv := range st.Invitations {
		invited = append(invited, inv.SupplierID)
	}
	assert.Equal(t, []string{p.orgs["supplier"].String()}, invited, "supplier2 holds no deposit")
	assert.Equal(t, int64(0), p.sumOfLedger())
}

// Only a mediator forfeits, never more than the deposit holds, with an
// audit record and the supplier told; what is left is returned.
func TestADepositForfeitIsAMediatorsDecision(t *testing.T) {
	p := newPlatform(t)
	p.markDepositCategory("led-lighting", 50_000)
	d := p.payDeposit("supplier")
	id := d.ID.String()
	deal := p.categoryDeal("led-lighting", "supplier")
	p.must(http.StatusOK, p.do("supplier", "POST", "/v1/deals/"+deal+"/quotes", quoteBody()))
	path := "/v1/deposits/" + id + "/forfeit"
	decision := func(amount int64, reason, dealID string) map[string]any {
		return map[string]any{"amount_minor": amount, "reason": reason, "deal_id": dealID}
	}

	for _, who := range []string{"buyer", "supplier", "finance", "admin"} {
		p.must(http.StatusForbidden, p.do(who, "POST", path, decision(1_000, "fraud", deal)))
	}
	unrelated := p.newDeal(false, "supplier2")
	for _, bad := range []map[string]any{
		decision(0, "fraud", deal), decision(-1, "fraud", deal), decision(1_000, "", deal), decision(1_000, "fraud\x00", deal),
		decision(1_000, strings.Repeat("x", workflows.MaxForfeitReason+1), deal), decision(1_000, "fraud", "no such deal!"),
		decision(1_000, "fraud", unrelated),
	} {
		p.must(http.StatusUnprocessableEntity, p.do("mediator", "POST", path, bad))
	}
	p.must(http.StatusNotFound, p.do("mediator", "POST", "/v1/deposits/7e9a3c56-3b43-4c1a-9d0e-000000000000/forfeit", decision(1_000, "fraud", deal)))
	assert.Equal(t, "wrong_stage", p.must(http.StatusConflict, p.do("mediator", "POST", path, decision(50_001, "fraud", deal))).errCode(),
		"more than held")
	p.balance(activities.DepositAccount(id), "USD", 50_000)

	var after deposits.Deposit
	p.must(http.StatusOK, p.do("mediator", "POST", path, decision(20_000, "counterfeit certificates proven in mediation", deal))).json(t, &after)
	assert.Equal(t, int64(30_000), after.Held)
	require.Len(t, after.Forfeits, 1)
	assert.Equal(t, p.users["mediator"], after.Forfeits[0].DecidedBy, "audited: who")
	assert.Equal(t, deal, after.Forfeits[0].DealID)
	assert.Equal(t, "counterfeit certificates proven in mediation", after.Forfeits[0].Reason)
	p.balance(activities.ForfeitedDepositsAccount, "USD", 20_000)
	p.balance(activities.DepositAccount(id), "USD", 30_000)
	var notices int
	require.NoError(t, p.pool.QueryRow(context.Background(),
		"SELECT count(*) FROM notification_outbox WHERE kind = 'deposit_forfeited' AND org_id = $1", p.orgs["supplier"].String()).Scan(&notices))
	assert.Equal(t, 1, notices, "the supplier is told")

	// Two mediators at once, each for 20,000 of the 30,000 left: one of
	// them only.
	statuses := make([]int, 2)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			r := p.do("mediator", "POST", path, decision(20_000, "a second fraud", deal))
			statuses[i] = r.status
		})
	}
	wg.Wait()
	assert.ElementsMatch(t, []int{http.StatusOK, http.StatusConflict}, statuses)
	p.balance(activities.DepositAccount(id), "USD", 10_000)
	p.balance(activities.ForfeitedDepositsAccount, "USD", 40_000)

	// The rest goes back once the supplier leaves in good standing.
	p.must(http.StatusOK, p.do("buyer", "POST", "/v1/deals/"+deal+"/cancel", nil))
	p.must(http.StatusOK, p.do("supplier", "POST", "/v1/deposits/"+id+"/return", nil))
	back := p.depositReturned(id)
	assert.Len(t, back.Forfeits, 2)
	assert.Equal(t, int64(10_000), p.refundOf(id).Amount)
	p.balance(activities.DepositAccount(id), "USD", 0)
	assert.Equal(t, "wrong_stage", p.must(http.StatusConflict, p.do("mediator", "POST", path, decision(1, "late", deal))).errCode())
	assert.Equal(t, int64(0), p.sumOfLedger(), "the ledger balances")
}

// A deposit's charge that the provider confirms later (the memory
// provider answers "pending", as Stripe does) is held once the workflow's
// poll of the provider finds it succeeded; the provider's webhook about it
// is no deal's, and is answered as ignored rather than retried for days.
func TestDepositChargeConfirmedLaterIsHeldAndItsWebhookIgnored(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.WebhookSecret, d.DepositPoll = testWebhookSecret, 200*time.Millisecond })
	p.mem.ChargesPending(true)
	p.markDepositCategory("led-lighting", 50_000)
	d := p.payDeposit("supplier")
	require.NotEmpty(t, d.PaymentID)
	pi := map[string]any{"id": d.PaymentID, "object": "payment_intent", "amount": 50_000, "amount_received": 50_000, "currency": "usd",
		"status": "succeeded", "metadata": map[string]string{"deal_id": "deposit-" + d.ID.String(), "step": activities.DepositStep}}
	payload, sig := signedEvent(t, "evt_deposit", "payment_intent.succeeded", pi, time.Now(), testWebhookSecret)
	r := p.must(http.StatusOK, p.deliver(payload, sig))
	assert.Contains(t, string(r.body), "ignored")

	// Paying answers once the charge has an outcome; a poll or two later.
	deadline := time.Now().Add(30 * time.Second)
	for d = p.deposit("supplier", d.ID.String()); d.Status != activities.DepositHeld; d = p.deposit("supplier", d.ID.String()) {
		require.Equal(t, activities.DepositPending, d.Status)
		if time.Now().After(deadline) {
			t.Fatalf("the deposit was never held: %s", d.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.balance(activities.DepositAccount(d.ID.String()), "USD", 50_000)
	deal := p.categoryDeal("led-lighting", "supplier")
	p.must(http.StatusOK, p.do("supplier", "POST", "/v1/deals/"+deal+"/quotes", quoteBody()))
}

// The console's security deposit page: a supplier's quote in a marked
// category is refused until it pays on the page; a mediator forfeits
// part of it there, held to the API's rules; the supplier gets the rest
// back there once its deal has ended.
func TestConsoleSecurityDepositPage(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier", "mediator", "buyer")
	p.markDepositCategory("led-lighting", 50_000)
	deal := p.categoryDeal("led-lighting", "supplier")
	sup := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := sup.signIn("supplier")
	quote := url.Values{"unit_price": {"3.90"}, "lead_time_days": {"21"}, "csrf": {csrf}}
	res := sup.do("POST", "/app/deals/"+deal+"/quote", quote)
	require.Equal(t, http.StatusConflict, res.status, "%.300s", res.body)
	assert.Contains(t, res.body, "USD 500.00")

	res = sup.do("GET", "/app/deposits", nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, res.body, "led-lighting")
	assert.Contains(t, res.body, `id="pay-deposit"`)
	assert.NotContains(t, sup.do("POST", "/app/deposits", url.Values{"currency": {"USD"}}).body, "deposit-done", "no CSRF token, no payment")
	res = sup.do("POST", "/app/deposits", url.Values{"currency": {"USD"}, "csrf": {csrf}})
	require.Equal(t, http.StatusOK, res.status, "%.300s", res.body)
	assert.Contains(t, res.body, `id="deposit-done"`)
	var list struct{ Deposits []deposits.Deposit }
	p.must(http.StatusOK, p.do("supplier", "GET", "/v1/deposits", nil)).json(t, &list)
	require.Len(t, list.Deposits, 1)
	d := list.Deposits[0]
	require.Equal(t, activities.DepositHeld, d.Status)
	require.Equal(t, http.StatusSeeOther, sup.do("POST", "/app/deals/"+deal+"/quote", quote).status, "held, it quotes")

	// The mediator's form; the buyer has no page.
	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	assert.Equal(t, http.StatusForbidden, buyer.do("GET", "/app/deposits", nil).status)
	med := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	mcsrf := med.signIn("mediator")
	assert.Contains(t, med.do("GET", "/app/deposits", nil).body, `class="forfeit-deposit"`)
	forfeit := "/app/deposits/" + d.ID.String() + "/forfeit"
	res = med.do("POST", forfeit, url.Values{"amount": {"600.00"}, "reason": {"fraud"}, "deal_id": {deal}, "csrf": {mcsrf}})
	assert.Equal(t, http.StatusConflict, res.status, "more than held: %.300s", res.body)
	res = med.do("POST", forfeit, url.Values{"amount": {"100.00"}, "reason": {""}, "deal_id": {deal}, "csrf": {mcsrf}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.status, "no reason: %.300s", res.body)
	res = med.do("POST", forfeit, url.Values{"amount": {"100.00"}, "reason": {"forged inspection report"}, "deal_id": {deal}, "csrf": {mcsrf}})
	require.Equal(t, http.StatusOK, res.status, "%.300s", res.body)
	assert.Contains(t, res.body, "forged inspection report", "the audit record is on the page")
	p.balance(activities.DepositAccount(d.ID.String()), "USD", 40_000)
	assert.Equal(t, http.StatusForbidden, sup.do("POST", forfeit, url.Values{"amount": {"1.00"}, "reason": {"x"}, "deal_id": {deal}, "csrf": {csrf}}).status)

	// Returned from the page once the deal has ended.
	ret := "/app/deposits/" + d.ID.String() + "/return"
	res = sup.do("POST", ret, url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusConflict, res.status, "its deal still runs: %.300s", res.body)
	assert.Contains(t, res.body, deal)
	p.must(http.StatusOK, p.do("buyer", "POST", "/v1/deals/"+deal+"/cancel", nil))
	res = sup.do("POST", ret, url.Values{"csrf": {csrf}})
	require.Equal(t, http.StatusOK, res.status, "%.300s", res.body)
	p.depositReturned(d.ID.String())
	assert.Equal(t, int64(40_000), p.refundOf(d.ID.String()).Amount)
	assert.Equal(t, int64(0), p.sumOfLedger())
}
