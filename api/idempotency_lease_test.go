package api

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/workflows"
)

// crash makes the key look as if the API process died while running its
// request: in progress, with the lease either run out or still running.
func (p *platform) crash(who, key string, leaseOver bool) {
	p.t.Helper()
	until := "now() + interval '1 hour'"
	if leaseOver {
		until = "now() - interval '1 second'"
	}
	tag, err := p.pool.Exec(context.Background(), `UPDATE idempotency_keys SET status = NULL, response = NULL, locked_until = `+until+`
		WHERE key = $1 AND user_id = (SELECT u.id FROM users u WHERE u.email = $2)`, key, who+"@example.com")
	require.NoError(p.t, err)
	require.EqualValues(p.t, 1, tag.RowsAffected())
}

func TestRetryAfterAnAPICrashTakesTheKeyOverAndFindsTheFirstEffect(t *testing.T) {
	p := newPlatform(t)
	inquiry := map[string]any{"product": "bolts", "quantity": 1000, "currency": "USD", "suppliers": []string{p.orgs["supplier"].String()}}
	var first workflows.DealState
	p.must(201, p.do("buyer", "POST", "/v1/deals", inquiry, "Idempotency-Key", "inq-1")).json(t, &first)

	// The process died after starting the deal, before keeping the response.
	// While the lease runs, a retry is told to come back later.
	p.crash("buyer", "inq-1", false)
	r := p.do("buyer", "POST", "/v1/deals", inquiry, "Idempotency-Key", "inq-1")
	assert.Equal(t, 409, r.status)
	assert.Equal(t, "in_progress", r.errCode())
	retryAfter, err := strconv.Atoi(r.header.Get("Retry-After"))
	require.NoError(t, err)
	assert.Greater(t, retryAfter, 3000, "the lease has about an hour left")

	// Once it has run out, the retry runs the request again and finds the
	// deal the first run started: one deal, the same ID.
	p.crash("buyer", "inq-1", true)
	var again workflows.DealState
	p.must(201, p.do("buyer", "POST", "/v1/deals", inquiry, "Idempotency-Key", "inq-1")).json(t, &again)
	assert.Equal(t, first.DealID, again.DealID)
	var n int
	require.NoError(t, p.pool.QueryRow(context.Background(), `SELECT count(*) FROM deals WHERE buyer_org_id = $1`, p.orgs["buyer"].String()).Scan(&n))
	assert.LessOrEqual(t, n, 1)
	replay := p.must(201, p.do("buyer", "POST", "/v1/deals", inquiry, "Idempotency-Key", "inq-1"))
	assert.Equal(t, "true", replay.header.Get("Idempotent-Replayed"), "the retried run's response is kept")

	// The same for a party action: the workflow applies the update once.
	id := first.DealID
	var st workflows.DealState
	quote := quoteBody()
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quote, "Idempotency-Key", "quote-1")).json(t, &st)
	require.Len(t, st.Quotes, 1)
	p.crash("supplier", "quote-1", true)
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quote, "Idempotency-Key", "quote-1")).json(t, &st)
	require.Len(t, st.Quotes, 1, "the quote was not submitted twice")
	assert.Equal(t, 1, st.Quotes[0].Revision)

	// A different request under a key held by a crashed one is still refused.
	other := map[string]any{"product": "nuts", "quantity": 5, "currency": "USD", "suppliers": []string{p.orgs["supplier"].String()}}
	p.crash("buyer", "inq-1", true)
	assert.Equal(t, 422, p.do("buyer", "POST", "/v1/deals", other, "Idempotency-Key", "inq-1").status)
}
