package api

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/workflows"
)

// TestATrialOrderIsForAFirstDealOnly: on the buyer's first deal with a
// supplier, the supplier quotes 600 units below its MOQ of 1,000 as a
// trial; the quote and the contract say so. On the next inquiry to the
// same supplier, now dealt with, a trial is refused; a trial under half
// the MOQ is refused on a first deal too.
func TestATrialOrderIsForAFirstDealOnly(t *testing.T) {
	p := newPlatform(t)
	inquire := func(supplier string) string {
		var st workflows.DealState
		p.must(http.StatusCreated, p.do("buyer", "POST", "/v1/deals", map[string]any{
			"product": "LED panels", "quantity": 600, "unit": "pcs", "currency": "USD", "suppliers": []string{p.orgs[supplier].String()},
		})).json(t, &st)
		p.projected(st.DealID)
		return st.DealID
	}
	trial := func(moq int) map[string]any {
		return map[string]any{"tiers": []map[string]any{{"min_quantity": 1, "unit_price": 1_500}}, "moq": moq, "lead_time_days": 20,
			"valid_till": time.Now().Add(48 * time.Hour).Format(time.RFC3339), "trial": true}
	}
	first := inquire("supplier")
	r := p.do("supplier", "POST", p.path(first, "/quotes"), trial(1_201))
	assert.NotEqual(t, 200, r.status, "600 is under half of 1,201")
	assert.Contains(t, r.errMessage(), "at least 50% of the MOQ")
	var st workflows.DealState
	p.must(200, p.do("supplier", "POST", p.path(first, "/quotes"), trial(1_000))).json(t, &st)
	require.Len(t, st.Quotes, 1)
	assert.True(t, st.Quotes[0].Trial)
	p.must(200, p.do("buyer", "POST", p.path(first, "/quotes/"+st.Quotes[0].ID+"/accept"), nil)).json(t, &st)
	require.NotNil(t, st.Contract)
	assert.True(t, strings.Contains(st.Contract.Text, "Trial order: 600 pcs, below the supplier's minimum order of 1000"), st.Contract.Text)

	second := inquire("supplier")
	r = p.do("supplier", "POST", p.path(second, "/quotes"), trial(1_000))
	assert.NotEqual(t, 200, r.status)
	assert.Contains(t, r.errMessage(), "first deal")
	// Another supplier, new to this buyer, may.
	third := inquire("supplier2")
	p.must(200, p.do("supplier2", "POST", p.path(third, "/quotes"), trial(1_000)))
}

// TestConsoleQuotesATrialOrder: the supplier's quote form offers the
// inquiry's quantity as a trial below its minimum; the deal page marks the
// quote; a minimum that is no number is refused at its field.
func TestConsoleQuotesATrialOrder(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier")
	var st workflows.DealState
	p.must(http.StatusCreated, p.do("buyer", "POST", "/v1/deals", map[string]any{
		"product": "LED panels", "quantity": 600, "unit": "pcs", "currency": "USD", "suppliers": []string{p.orgs["supplier"].String()},
	})).json(t, &st)
	p.projected(st.DealID)
	b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := b.signIn("supplier")
	page := "/app/deals/" + st.DealID
	res := b.do("GET", page, nil)
	require.Equal(t, 200, res.status)
	assert.Contains(t, res.body, `id="trial"`)
	form := url.Values{"unit_price": {"15.00"}, "lead_time_days": {"20"}, "moq": {"a thousand"}, "trial": {"1"}, "csrf": {csrf}}
	res = b.do("POST", page+"/quote", form)
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	assert.Contains(t, res.body, `id="moq-error"`)
	form.Set("moq", "1,000")
	res = b.do("POST", page+"/quote", form)
	require.Equal(t, http.StatusSeeOther, res.status, "%s", res.body)
	res = b.do("GET", page, nil)
	assert.Contains(t, res.body, "trial below a minimum of 1,000")
	assert.True(t, p.deal("supplier", st.DealID).Quotes[0].Trial)
}
