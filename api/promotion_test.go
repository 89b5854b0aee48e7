package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/outbox"
	"github.com/tradeloop/tradeloop/internal/promotion"
)

// failingNotifier refuses every notification, as a channel that is down.
type failingNotifier struct{}

func (failingNotifier) Notify(context.Context, activities.Notification) error {
	return errors.New("the mail server is down")
}

// deliverOnce runs one round of the outbox with notifier, later than now
// (so that retries after a failure are due).
func (p *platform) deliverOnce(notifier activities.Notifier, later time.Duration) {
	p.t.Helper()
	d := &outbox.Dispatcher{Pool: p.pool, Logger: slog.New(slog.DiscardHandler), Notifier: notifier,
		Now: func() time.Time { return time.Now().Add(later) }}
	if _, err := d.DeliverDue(context.Background()); err != nil {
		p.t.Fatal(err)
	}
}

// A supplier pays to tell the buyers who follow its product's category:
// a buyer who turned new_product off for both channels is not told; the
// notices cost nothing until delivered, a delivery that fails costs
// nothing, each delivered notice is charged once however often the outbox
// runs, and the ledger balances. A product is announced once, within the
// budget the supplier sets, by its own supplier only.
func TestANoticeIsChargedOncePerDelivery(t *testing.T) {
	p := newPlatform(t)
	p.addUser("buyer3", "buyer", "")
	for _, who := range []string{"buyer", "buyer2", "buyer3"} {
		p.must(http.StatusCreated, p.do(who, "POST", "/v1/watches", map[string]string{"category": "fasteners"}))
	}
	p.must(http.StatusOK, p.do("buyer2", "PUT", "/v1/notifications/preferences",
		`{"changes":[{"kind":"new_product","channel":"email","enabled":false},{"kind":"new_product","channel":"inbox","enabled":false}]}`))
	pid := p.listProduct("supplier", "BOLT-N1")
	other := p.listProduct("supplier2", "BOLT-N2")

	// Who may ask, and within what.
	p.must(http.StatusForbidden, p.do("buyer", "POST", "/v1/products/"+pid+"/notices", map[string]int{"max_notices": 5}))
	p.must(http.StatusNotFound, p.do("supplier", "POST", "/v1/products/"+other+"/notices", map[string]int{"max_notices": 5}))
	for _, bad := range []string{`{"max_notices":0}`, `{"max_notices":10001}`, `{"max_notices":-1}`, `{}`} {
		r := p.do("supplier", "POST", "/v1/products/"+pid+"/notices", bad)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, bad)
		require.Contains(t, r.errMessage(), "max_notices", bad)
	}

	var n promotion.Notice
	p.must(http.StatusCreated, p.do("supplier", "POST", "/v1/products/"+pid+"/notices", map[string]int{"max_notices": 5})).json(t, &n)
	require.Equal(t, 2, n.Queued, "buyer and buyer3; buyer2 turned new_product off")
	require.EqualValues(t, 10, n.Fee)
	require.Equal(t, "sent_already", p.must(http.StatusConflict, p.do("supplier", "POST", "/v1/products/"+pid+"/notices", map[string]int{"max_notices": 5})).errCode())
	owes := "ads:" + p.orgs["supplier"].String()
	p.balance(owes, "USD", 0)

	p.deliverOnce(failingNotifier{}, 0)
	p.balance(owes, "USD", 0)
	p.balance(promotion.RevenueAccount, "USD", 0)

	for range 3 {
		p.deliverOnce(activities.LogNotifier{Logger: slog.New(slog.DiscardHandler)}, time.Hour)
	}
	p.balance(owes, "USD", -20)
	p.balance(promotion.RevenueAccount, "USD", 20)
	require.Zero(t, p.sumOfLedger())
	require.Contains(t, p.inbox("buyer", "").kinds(), "new_product")
	require.Contains(t, p.inbox("buyer3", "").kinds(), "new_product")
	require.NotContains(t, p.inbox("buyer2", "").kinds(), "new_product")

	var list struct{ Notices []promotion.Notice }
	p.must(http.StatusOK, p.do("supplier", "GET", "/v1/notices", nil)).json(t, &list)
	require.Len(t, list.Notices, 1)
	require.Equal(t, 2, list.Notices[0].Delivered)
	require.EqualValues(t, 20, list.Notices[0].Charged)
	p.must(http.StatusOK, p.do("supplier2", "GET", "/v1/notices", nil)).json(t, &list)
	require.Empty(t, list.Notices)

	// The budget bounds the notices.
	third := p.listProduct("supplier", "BOLT-N3")
	p.must(http.StatusCreated, p.do("supplier", "POST", "/v1/products/"+third+"/notices", map[string]int{"max_notices": 1})).json(t, &n)
	require.Equal(t, 1, n.Queued)
	p.deliverOnce(activities.LogNotifier{Logger: slog.New(slog.DiscardHandler)}, time.Hour)
	p.balance(owes, "USD", -30)
}

// The console's product page offers the product's own supplier the
// notice, priced, refuses a bad count in words, and then shows what was
// sent; no one else sees the form.
func TestConsoleSendsAProductNotice(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier", "buyer", "supplier2")
	p.must(http.StatusCreated, p.do("buyer", "POST", "/v1/watches", map[string]string{"category": "fasteners"}))
	pid := p.listProduct("supplier", "BOLT-CN")
	sup := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := sup.signIn("supplier")
	page := sup.do("GET", "/app/products/"+pid, nil)
	require.Contains(t, page.body, `id="notice-form"`)
	require.Contains(t, page.body, "costs USD 0.10")

	res := sup.do("POST", "/app/products/"+pid+"/notices", url.Values{"csrf": {csrf}, "max_notices": {"0"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.status)
	require.Contains(t, res.body, `id="notice-error"`)
	require.Equal(t, http.StatusSeeOther, sup.do("POST", "/app/products/"+pid+"/notices", url.Values{"csrf": {csrf}, "max_notices": {"50"}}).status)
	page = sup.do("GET", "/app/products/"+pid, nil)
	require.Contains(t, page.body, `id="notice-sent"`)
	require.Contains(t, page.body, "1 queued, 0 delivered")
	require.NotContains(t, page.body, `id="notice-form"`)

	for _, who := range []string{"buyer", "supplier2"} {
		b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
		c := b.signIn(who)
		require.NotContains(t, b.do("GET", "/app/products/"+pid, nil).body, `id="notice`)
		require.NotEqual(t, http.StatusSeeOther, b.do("POST", "/app/products/"+pid+"/notices", url.Values{"csrf": {c}, "max_notices": {"5"}}).status)
	}
}
