package readmodel

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/workflows"
)

// A whole deal on the embedded server, projected into PostgreSQL and posted
// to the PostgreSQL ledger: the read model ends equal to the workflow's own
// view, and the ledger balances to the cent.
func TestWholeDealProjectsTheWorkflowsViewAndBalancesTheLedger(t *testing.T) {
	pool := testenv.Postgres(t)
	tc := testenv.NewTemporal(t)
	mem := activities.NewMemory()
	led, rm := ledger.New(pool), New(pool)
	w := worker.New(tc.Client, tc.TaskQueue, worker.Options{})
	workflows.Register(w)
	w.RegisterActivity(&activities.Activities{Payments: mem, Ledger: led, Projection: rm, Tracker: mem, Notifier: mem})
	require.NoError(t, w.Start())
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dealID := fmt.Sprintf("pg-%d", time.Now().UnixNano())
	id := workflows.DealWorkflowID(dealID)
	buyer := workflows.Actor{UserID: "u1", OrgID: "buyer-1", Role: workflows.RoleBuyer}
	sup := workflows.Actor{UserID: "u2", OrgID: "sup-1", Role: workflows.RoleSupplier}
	mem.Script("G", activities.TrackInTransit, activities.TrackDelivered)
	_, err := tc.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tc.TaskQueue}, workflows.DealWorkflowName,
		workflows.DealInput{
			DealID:    dealID,
			Inquiry:   workflows.Inquiry{BuyerOrgID: buyer.OrgID, Product: "ceramic tiles", Quantity: 500, Unit: "m2", Currency: "EUR"},
			Suppliers: []workflows.Supplier{{OrgID: sup.OrgID, Tier: "silver"}},
			Policy:    workflows.Policy{TrackingPoll: 100 * time.Millisecond, TrackingPollNear: 100 * time.Millisecond},
		})
	require.NoError(t, err)
	send := func(name string, arg any) workflows.DealState {
		t.Helper()
		h, err := tc.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
		require.NoError(t, err, name)
		require.NoError(t, h.Get(ctx, nil), name)
		v, err := tc.Client.QueryWorkflow(ctx, id, "", workflows.QueryState)
		require.NoError(t, err, name)
		var st workflows.DealState
		require.NoError(t, v.Get(&st), name)
		return st
	}
	st := send(workflows.UpdateSubmitQuote, workflows.QuoteInput{Actor: sup, Tiers: []workflows.PriceTier{{MinQuantity: 1, UnitPrice: 2_345}},
		LeadTimeDays: 10, ValidTill: time.Now().Add(24 * time.Hour)})
	st = send(workflows.UpdateAcceptQuote, workflows.AcceptInput{Actor: buyer, QuoteID: st.Quotes[0].ID})
	send(workflows.UpdateSignContract, workflows.SignInput{Actor: buyer, TermsSHA256: st.Contract.TermsSHA256})
	send(workflows.UpdateSignContract, workflows.SignInput{Actor: sup, TermsSHA256: st.Contract.TermsSHA256})
	send(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepDeposit})
	send(workflows.UpdateReportProgress, workflows.ProgressInput{Actor: sup, Percent: 40, Note: "fired"})
	send(workflows.UpdateReportProgress, workflows.ProgressInput{Actor: sup, Percent: 90, Note: "glazed"})
	send(workflows.UpdateMarkReady, workflows.ActorInput{Actor: sup})
	send(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepBalance})
	send(workflows.UpdateAddShipment, workflows.ShipmentInput{Actor: sup, Carrier: "dpd", TrackingNumber: "G"})
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		v, err := tc.Client.QueryWorkflow(ctx, id, "", workflows.QueryState)
		if assert.NoError(c, err) {
			var s workflows.DealState
			assert.NoError(c, v.Get(&s))
			assert.Equal(c, workflows.StageInspection, s.Stage)
		}
	}, 30*time.Second, 50*time.Millisecond)
	send(workflows.UpdateAcceptDelivery, workflows.ActorInput{Actor: buyer})

	var final workflows.DealState
	require.NoError(t, tc.Client.GetWorkflow(ctx, id, "").Get(ctx, &final))
	projected, err := rm.Deal(ctx, dealID)
	require.NoError(t, err)
	// The timeline and tracking events come from their tables, whose
	// times PostgreSQL keeps to the microsecond.
	sameTime := func(kept *time.Time, at time.Time) {
		if kept.Sub(at).Abs() < time.Microsecond {
			*kept = at
		}
	}
	require.Len(t, projected.Timeline, len(final.Timeline))
	for i := range projected.Timeline {
		sameTime(&projected.Timeline[i].At, final.Timeline[i].At)
	}
	if projected.Shipment != nil && final.Shipment != nil && len(projected.Shipment.Events) == len(final.Shipment.Events) {
		for i := range projected.Shipment.Events {
			sameTime(&projected.Shipment.Events[i].At, final.Shipment.Events[i].At)
		}
	}
	want, _ := json.Marshal(final)
	got, _ := json.Marshal(projected)
	assert.JSONEq(t, string(want), string(got), "the read model's deal differs from the workflow's")

	evs, err := rm.Timeline(ctx, dealID)
	require.NoError(t, err)
	require.Len(t, evs, len(final.Timeline))
	for i, e := range evs {
		assert.Equal(t, string(final.Timeline[i].Type), e.Type)
		assert.True(t, final.Timeline[i].At.Equal(e.At) || final.Timeline[i].At.Sub(e.At).Abs() < time.Microsecond)
	}
	page, err := rm.List(ctx, Viewer{Role: workflows.RoleBuyer, OrgID: buyer.OrgID}, Filter{Stage: "COMPLETED"})
	require.NoError(t, err)
	assert.Contains(t, fmt.Sprint(page.Deals), dealID)
	pays, err := rm.Payments(ctx, dealID)
	require.NoError(t, err)
	assert.Len(t, pays, 4, "deposit and balance charges, and a transfer of each")
	// The tables hold each detail as the deal ended, though projections
	// carried only what changed.
	status := map[string]string{}
	for _, p := range final.Payments {
		status[p.ID] = string(p.Status)
	}
	for _, p := range pays {
		assert.Equal(t, status[p.PaymentID], p.Status, "payment %s", p.PaymentID)
	}
	var quoteStatus, shipStatus string
	var trackEvents int
	require.NoError(t, pool.QueryRow(ctx, `SELECT status FROM quotes WHERE deal_id = $1`, dealID).Scan(&quoteStatus))
	assert.Equal(t, string(final.Quotes[0].Status), quoteStatus)
	require.NoError(t, pool.QueryRow(ctx, `SELECT status FROM shipments WHERE deal_id = $1 AND kind = 'goods'`, dealID).Scan(&shipStatus))
	assert.Equal(t, final.Shipment.Status, shipStatus)
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM tracking_events WHERE deal_id = $1 AND kind = 'goods'`, dealID).Scan(&trackEvents))
	assert.Equal(t, len(final.Shipment.Events), trackEvents)

	// 500 × 2,345 = 1,172,500 EUR cents: deposit 351,750, balance 820,750.
	// Silver pays 300 bp, floored per charge: 10,552 + 24,622 = 35,174.
	for acct, amount := range map[string]int64{
		activities.EscrowAccount(dealID):    0,
		activities.SupplierAccount("sup-1"): 1_172_500 - 35_174,
		activities.CommissionAccount:        35_174,
		activities.BuyerAccount("buyer-1"):  -1_172_500,
	} {
		b, err := led.Balance(ctx, acct, "EUR")
		require.NoError(t, err)
		assert.Equal(t, amount, b, acct)
	}
}
