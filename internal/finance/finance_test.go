package finance

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// A repeated alert is one row while it is open; resolving spares what the
// check saw and what was seen after it began; a new occurrence after
// resolution is a new row.
func TestAlertsAreOneRowPerOpenAlertAndResolveByCheck(t *testing.T) {
	pool := testenv.Postgres(t)
	s := New(pool, nil)
	ctx := context.Background()
	gone := activities.Alert{Kind: activities.AlertEscrowWithoutDeal, DealID: "d1", Subject: "USD", Detail: "held", Currency: "USD", LedgerAmount: 5, DealAmount: 5}
	other := activities.Alert{Kind: activities.AlertEscrowMismatch, DealID: "d2", Subject: "USD", Detail: "differs", Currency: "USD", LedgerAmount: 7, DealAmount: 3}
	projection := activities.Alert{Kind: "projection_failed", DealID: "d3", Detail: "read model refused"}
	for _, a := range []activities.Alert{gone, gone, other, projection} {
		require.NoError(t, s.Raise(ctx, a))
	}
	all, err := s.Alerts(ctx, AlertFilter{})
	require.NoError(t, err)
	require.Len(t, all, 3)
	byDeal := map[string]AlertView{}
	for _, a := range all {
		byDeal[a.DealID] = a
	}
	assert.Equal(t, int64(2), byDeal["d1"].TimesSeen)
	assert.Equal(t, int64(7), *byDeal["d2"].LedgerAmount)
	assert.Nil(t, byDeal["d3"].LedgerAmount)

	// A check that began after both were seen, and saw only d1.
	time.Sleep(10 * time.Millisecond)
	var began time.Time
	require.NoError(t, pool.QueryRow(ctx, "SELECT now()").Scan(&began))
	n, err := s.Resolve(ctx, activities.EscrowAlertKinds, []activities.Alert{gone}, began)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "d2 resolved; d1 seen; the projection alert is no escrow finding")
	findings, err := s.Findings(ctx)
	require.NoError(t, err)
	require.Len(t, findings, 1)
	assert.Equal(t, "d1", findings[0].DealID)
	assert.Equal(t, int64(5), findings[0].LedgerAmount)

	// A check that began before d1 was last seen does not resolve it.
	n, err = s.Resolve(ctx, activities.EscrowAlertKinds, nil, began.Add(-time.Hour))
	require.NoError(t, err)
	assert.Zero(t, n)

	// d2 again: a new row; the resolved one stays in the history.
	require.NoError(t, s.Raise(ctx, other))
	open := true
	openAlerts, err := s.Alerts(ctx, AlertFilter{Open: &open})
	require.NoError(t, err)
	assert.Len(t, openAlerts, 3)
	all, err = s.Alerts(ctx, AlertFilter{})
	require.NoError(t, err)
	require.Len(t, all, 4)
	assert.False(t, all[3].Open, "resolved alerts come last")
}
