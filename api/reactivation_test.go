package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/reactivation"
)

// TestAReactivatedBuyerComesBackThroughItsLink: a run a month from now
// messages the buyer (quiet by then) with a link; another buyer's session
// cannot use it; the buyer's click lands on its watchlist, whose product
// link credits the reactivation with the view; finance's funnel counts the
// message sent and followed.
func TestAReactivatedBuyerComesBackThroughItsLink(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer", "buyer2", "finance")
	var prod marketplace.Product
	p.must(201, p.do("supplier", "POST", "/v1/products", map[string]any{"sku": "P-1", "name": "Pump", "category": "pumps", "unit": "piece",
		"moq": 1, "currency": "USD", "price_tiers": []map[string]any{{"min_quantity": 1, "unit_price": 9_900}}, "lead_time_days": 10, "origin_region": "CN"})).json(t, &prod)
	p.must(201, p.do("buyer", "POST", "/v1/watches", map[string]any{"product_id": prod.ID.String()}))
	ctx := context.Background()
	// Only the buyer is to be quiet a month from now: every other buyer
	// user was seen then.
	_, err := p.pool.Exec(ctx, `INSERT INTO console_sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at)
		SELECT sha256(id::text::bytea), id, 'x', now(), now() + interval '31 days', now() + interval '32 days' FROM users WHERE role = 'buyer' AND id <> $1`, p.users["buyer"])
	require.NoError(t, err)
	n, err := reactivation.New(p.pool, p.url).Run(ctx, time.Now().Add(31*24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var link string
	require.NoError(t, p.pool.QueryRow(ctx, `SELECT facts->>'ref' FROM notification_outbox WHERE kind = 'reactivation' AND user_id = $1`, p.users["buyer"]).Scan(&link))
	path := strings.TrimPrefix(link, p.url)
	require.True(t, strings.HasPrefix(path, "/app/r/"), link)

	other := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	other.signIn("buyer2")
	assert.Equal(t, http.StatusNotFound, other.do("GET", path, nil).status, "another buyer's link")
	b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	b.signIn("buyer")
	res := b.do("GET", path, nil)
	require.Equal(t, http.StatusSeeOther, res.status)
	res = b.do("GET", res.location, nil)
	require.Equal(t, 200, res.status)
	productLink := fmt.Sprintf(`/app/products/%s?via=reactivation`, prod.ID)
	require.Contains(t, res.body, productLink)
	require.Equal(t, 200, b.do("GET", productLink, nil).status)

	from, to := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), time.Now().UTC().Add(32*24*time.Hour).Format(time.RFC3339)
	var f marketplace.Funnel
	p.must(200, p.do("finance", "GET", "/v1/metrics/funnel?from="+from+"&to="+to, nil)).json(t, &f)
	assert.Equal(t, marketplace.Reactivation{Sent: 1, ReturnRate: marketplace.Rate{Count: 1, Of: 1, Rate: 1}}, f.Reactivation)
	assert.Equal(t, int64(1), f.ByChannel[2].Views, "the view through the message's link: %+v", f.ByChannel)
	assert.Equal(t, marketplace.ChannelReactivation, f.ByChannel[2].Channel)
}
