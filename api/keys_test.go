package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/finance"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/payments"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/workflows"
)

// A repeat of a request whose response carried a secret gets the resource
// again, never the secret: the kept response was stored without it.
func TestRepeatOfARequestThatMadeAKeyCarriesNoSecret(t *testing.T) {
	p := newPlatform(t)
	org := p.orgs["buyer"].String()
	body := map[string]any{"email": "new@example.com", "name": "New", "role": "buyer"}
	var first, again map[string]any
	p.must(201, p.do("admin", "POST", "/v1/organizations/"+org+"/users", body, "Idempotency-Key", "u-1")).json(t, &first)
	require.NotEmpty(t, first["api_key"])
	r := p.must(201, p.do("admin", "POST", "/v1/organizations/"+org+"/users", body, "Idempotency-Key", "u-1"))
	r.json(t, &again)
	assert.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
	assert.NotContains(t, again, "api_key")
	assert.Equal(t, first["user_id"], again["user_id"])
	assert.Equal(t, first["key_prefix"], again["key_prefix"])
	assert.Contains(t, again["secret_withheld"], "shown once")

	// Nor is it anywhere in the database.
	var kept int
	require.NoError(t, p.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM idempotency_keys WHERE position($1::bytea IN response) > 0`, []byte(first["api_key"].(string))).Scan(&kept))
	assert.Zero(t, kept, "the key is stored in a kept response")

	// The same for a key a user makes itself, and one it rotates.
	var made, madeAgain map[string]any
	p.must(201, p.do("buyer", "POST", "/v1/users/me/keys", map[string]any{"label": "ci"}, "Idempotency-Key", "k-1")).json(t, &made)
	p.must(201, p.do("buyer", "POST", "/v1/users/me/keys", map[string]any{"label": "ci"}, "Idempotency-Key", "k-1")).json(t, &madeAgain)
	require.NotEmpty(t, made["api_key"])
	assert.NotContains(t, madeAgain, "api_key")
	assert.Equal(t, made["key"], madeAgain["key"])
	id := made["key"].(map[string]any)["id"].(string)
	var rotated, rotatedAgain map[string]any
	p.must(201, p.do("buyer", "POST", "/v1/users/me/keys/"+id+"/rotate", nil, "Idempotency-Key", "r-1")).json(t, &rotated)
	p.must(201, p.do("buyer", "POST", "/v1/users/me/keys/"+id+"/rotate", nil, "Idempotency-Key", "r-1")).json(t, &rotatedAgain)
	require.NotEmpty(t, rotated["api_key"])
	assert.NotContains(t, rotatedAgain, "api_key")
	assert.Equal(t, rotated["key"], rotatedAgain["key"])
}

func TestAPIKeyLifecycle(t *testing.T) {
	const grace = 1500 * time.Millisecond
	p := newPlatform(t, func(d *Deps) { d.KeyRotationGrace = grace })
	ctx := context.Background()
	type key struct {
		ID         string     `json:"id"`
		Prefix     string     `json:"prefix"`
		Role       string     `json:"role"`
		Label      string     `json:"label"`
		LastUsedAt *time.Time `json:"last_used_at"`
		ExpiresAt  *time.Time `json:"expires_at"`
		RevokedAt  *time.Time `json:"revoked_at"`
	}
	type created struct {
		Key      key    `json:"key"`
		Previous key    `json:"previous"`
		APIKey   string `json:"api_key"`
	}
	create := func(who string, body any) created {
		t.Helper()
		var c created
		p.must(201, p.do(who, "POST", "/v1/users/me/keys", body)).json(t, &c)
		return c
	}
	works := func(who string) int { return p.do(who, "GET", "/v1/deals", nil).status }

	expiry := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	c := create("buyer", map[string]any{"label": "erp", "expires_at": expiry})
	require.True(t, strings.HasPrefix(c.APIKey, c.Key.Prefix))
	require.NotNil(t, c.Key.ExpiresAt)
	assert.True(t, c.Key.ExpiresAt.Equal(expiry))
	p.keys["erp"] = c.APIKey
	assert.Equal(t, 200, works("erp"))

	t.Run("list shows metadata, never a secret", func(t *testing.T) {
		r := p.must(200, p.do("buyer", "GET", "/v1/users/me/keys", nil))
		assert.NotContains(t, string(r.body), c.APIKey)
		assert.NotContains(t, string(r.body), "hash")
		var page struct{ Items []key }
		r.json(t, &page)
		require.Len(t, page.Items, 2) // the platform's and erp
		assert.Equal(t, c.Key.ID, page.Items[0].ID)
		assert.Equal(t, "erp", page.Items[0].Label)
		assert.Equal(t, "buyer", page.Items[0].Role)
		require.NotNil(t, page.Items[0].LastUsedAt, "last use not recorded")
		// An admin sees another user's keys; nobody else does.
		var buyerID string
		require.NoError(t, p.pool.QueryRow(ctx, `SELECT id::text FROM users WHERE email = 'buyer@example.com'`).Scan(&buyerID))
		p.must(200, p.do("admin", "GET", "/v1/users/"+buyerID+"/keys", nil))
		assert.Equal(t, "user_not_found", p.must(404, p.do("buyer2", "GET", "/v1/users/"+buyerID+"/keys", nil)).errCode())
	})

	t.Run("past or bad expiry is refused", func(t *testing.T) {
		assert.Equal(t, 422, p.do("buyer", "POST", "/v1/users/me/keys", map[string]any{"expires_at": time.Now().Add(-time.Minute)}).status)
		assert.Equal(t, 400, p.do("buyer", "POST", "/v1/users/me/keys", map[string]any{"expires_at": "tomorrow"}).status)
	})

	t.Run("another user cannot revoke my key", func(t *testing.T) {
		assert.Equal(t, "key_not_found", p.must(404, p.do("buyer2", "DELETE", "/v1/users/me/keys/"+c.Key.ID, nil)).errCode())
		assert.Equal(t, 404, p.do("buyer2", "POST", "/v1/users/me/keys/"+c.Key.ID+"/rotate", nil).status)
		assert.Equal(t, 200, works("erp"))
	})

	t.Run("expired key is a 401", func(t *testing.T) {
		e := create("buyer", map[string]any{"label": "short"})
		p.keys["short"] = e.APIKey
		assert.Equal(t, 200, works("short"))
		_, err := p.pool.Exec(ctx, `UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, e.Key.ID)
		require.NoError(t, err)
		assert.Equal(t, 401, works("short"))
	})

	t.Run("revoked key is a 401 at once", func(t *testing.T) {
		var k key
		p.must(200, p.do("buyer", "DELETE", "/v1/users/me/keys/"+c.Key.ID, nil)).json(t, &k)
		assert.NotNil(t, k.RevokedAt)
		assert.Equal(t, 401, works("erp"))
		// A revoked key cannot be rotated back to life.
		assert.Equal(t, 404, p.do("buyer", "POST", "/v1/users/me/keys/"+c.Key.ID+"/rotate", nil).status)
	})

	t.Run("rotated key works through the grace period, then not", func(t *testing.T) {
		old := create("supplier", map[string]any{"label": "orders"})
		p.keys["old"] = old.APIKey
		var r created
		p.must(201, p.do("old", "POST", "/v1/users/me/keys/"+old.Key.ID+"/rotate", nil)).json(t, &r)
		p.keys["new"] = r.APIKey
		assert.Equal(t, "orders", r.Key.Label)
		assert.Equal(t, old.Key.ID, r.Previous.ID)
		require.NotNil(t, r.Previous.ExpiresAt)
		assert.Equal(t, 200, works("new"))
		assert.Equal(t, 200, works("old"), "the old key stopped within its grace")
		time.Sleep(time.Until(r.Previous.ExpiresAt.Add(100 * time.Millisecond)))
		assert.Equal(t, 401, works("old"), "the old key works past its grace")
		assert.Equal(t, 200, works("new"))
	})

	t.Run("admin revokes another user's key", func(t *testing.T) {
		var supplierID string
		require.NoError(t, p.pool.QueryRow(ctx, `SELECT id::text FROM users WHERE email = 'supplier@example.com'`).Scan(&supplierID))
		var page struct{ Items []key }
		p.must(200, p.do("admin", "GET", "/v1/users/"+supplierID+"/keys", nil)).json(t, &page)
		for _, k := range page.Items {
			if k.RevokedAt == nil {
				p.must(200, p.do("admin", "DELETE", "/v1/users/"+supplierID+"/keys/"+k.ID, nil))
			}
		}
		assert.Equal(t, 401, works("new"))
		assert.Equal(t, 401, works("supplier"))
	})

	t.Run("a user has at most MaxLiveKeys working keys", func(t *testing.T) {
		for range MaxLiveKeys - 1 { // buyer2 has one already
			create("buyer2", nil)
		}
		assert.Equal(t, "limit_reached", p.must(409, p.do("buyer2", "POST", "/v1/users/me/keys", nil)).errCode())
	})
}

// Unauthenticated requests are limited by address before any key is looked
// up, and the limit is the address's: a valid key from it waits too.
func TestClientAddressIsLimitedBeforeAuthentication(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.ClientRateLimit, d.ClientRateBurst = 0.001, 5 })
	p.keys["bad"] = "tl_" + strings.Repeat("a", 40)
	var codes []int
	for range 7 {
		codes = append(codes, p.do("bad", "GET", "/v1/deals", nil).status)
	}
	assert.Equal(t, []int{401, 401, 401, 401, 401, 429, 429}, codes)
	r := p.do("buyer", "GET", "/v1/deals", nil)
	assert.Equal(t, 429, r.status)
	assert.Equal(t, "rate_limited", r.errCode())
	// Health checks are not behind it.
	resp, err := http.Get(p.url + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
}

// The address is the connection's unless trusted proxies are configured:
// a client cannot choose its own by writing X-Forwarded-For.
func TestClientAddressTrustsForwardedForOnlyFromProxies(t *testing.T) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "203.0.113.9:5555"
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	assert.Equal(t, "203.0.113.9", clientAddress(nil)(req))
	_, proxies, _ := net.ParseCIDR("203.0.113.0/24")
	assert.Equal(t, "198.51.100.1", clientAddress([]*net.IPNet{proxies})(req))
	req.RemoteAddr = "192.0.2.7:5555" // not a proxy: its header is not believed
	assert.Equal(t, "192.0.2.7", clientAddress([]*net.IPNet{proxies})(req))
}

// /metrics is served on its own listener only.
func TestMetricsAreNotOnTheAPIListener(t *testing.T) {
	h := NewHandlers(Deps{Logger: slog.New(slog.DiscardHandler)})
	rec := httptest.NewRecorder()
	h.API.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code)
	var e struct{ Error struct{ Code string } }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))

	rec = httptest.NewRecorder()
	h.Metrics.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "go_goroutines")
}

// stripeLike is the memory provider saying it is Stripe, so the API asks
// "Stripe" (a stub) for the payment's client secret.
type stripeLike struct{ activities.Payments }

func (s stripeLike) Charge(ctx context.Context, in activities.ChargeInput) (activities.ChargeResult, error) {
	r, err := s.Payments.Charge(ctx, in)
	r.Provider = "stripe"
	return r, err
}

// stripePlatform is a platform whose charges wait at "Stripe" (the memory
// provider saying it is Stripe, a stub answering the client secret
// "<id>_secret_stub"), with publishable as the console's Stripe key.
func stripePlatform(t *testing.T, publishable string) *platform {
	stub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/v1/payment_intents/")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "object": "payment_intent", "client_secret": id + "_secret_stub"})
	}))
	t.Cleanup(stub.Close)
	p := newPlatform(t, func(d *Deps) {
		d.Stripe, d.StripePublishableKey = payments.NewStripe("sk_test_stub", stub.URL, nil), publishable
		d.PublicURL = "https://trade.example"
	})
	// The platform's worker gives way to one whose charges say Stripe.
	p.worker.Stop()
	w := worker.New(p.tc.Client, p.tc.TaskQueue, worker.Options{})
	workflows.Register(w)
	workflows.RegisterFinance(w)
	rm := readmodel.New(p.pool)
	fin := finance.New(p.pool, p.tc.Client)
	w.RegisterActivity(&activities.Activities{Payments: stripeLike{p.provider}, Ledger: ledger.New(p.pool), Projection: rm, Tracker: p.mem,
		Notifier: p.mem, Alerts: fin, Escrows: fin, Logger: slog.New(slog.DiscardHandler), PaymentIndex: rm})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	p.mem.ChargesPending(true)
	return p
}

// A repeat of a payment request gets the payment without its client secret.
func TestRepeatOfAPaymentCarriesNoClientSecret(t *testing.T) {
	p := stripePlatform(t, "")
	id := p.newDeal(false, "supplier")
	var st workflows.DealState
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/quotes/q1/accept"), nil)).json(t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	p.must(200, p.do("supplier", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	type pay struct {
		Payment map[string]any `json:"payment"`
	}
	var first, again pay
	p.must(200, p.do("buyer", "POST", p.path(id, "/payments/deposit"), nil, "Idempotency-Key", "pay-1")).json(t, &first)
	secret, _ := first.Payment["client_secret"].(string)
	require.True(t, strings.HasSuffix(secret, "_secret_stub"), "first response %v", first.Payment)
	r := p.must(200, p.do("buyer", "POST", p.path(id, "/payments/deposit"), nil, "Idempotency-Key", "pay-1"))
	r.json(t, &again)
	assert.Equal(t, "true", r.header.Get("Idempotent-Replayed"))
	assert.NotContains(t, again.Payment, "client_secret")
	assert.Equal(t, first.Payment["id"], again.Payment["id"])
	assert.Contains(t, again.Payment["secret_withheld"], "shown once")
	assert.NotContains(t, string(r.body), secret)
}
