package workflows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/workflows"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// A deal's quoting round trip on the embedded server: updates with their
// validators, the state query, and the search attributes finance filters by.
func TestDealRoundTripOnEmbeddedServer(t *testing.T) {
	tc := testenv.NewTemporal(t)
	w := worker.New(tc.Client, tc.TaskQueue, worker.Options{})
	workflows.Register(w)
	require.NoError(t, w.Start())
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	buyerOrg := fmt.Sprintf("buyer-%d", time.Now().UnixNano())
	id := workflows.DealWorkflowID(buyerOrg)
	_, err := tc.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tc.TaskQueue},
		workflows.DealWorkflowName, workflows.DealInput{
			DealID:    buyerOrg,
			Inquiry:   workflows.Inquiry{BuyerOrgID: buyerOrg, Product: "cotton t-shirts", Quantity: 2000, Unit: "pcs", Currency: "USD"},
			Suppliers: []string{"sup-1"},
		})
	require.NoError(t, err)

	send := func(name string, arg any) (workflows.DealState, error) {
		h, err := tc.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
		if err != nil {
			return workflows.DealState{}, err
		}
		var st workflows.DealState
		return st, h.Get(ctx, &st)
	}
	supplier := workflows.Actor{UserID: "u1", OrgID: "sup-1", Role: workflows.RoleSupplier}
	buyer := workflows.Actor{UserID: "u2", OrgID: buyerOrg, Role: workflows.RoleBuyer}

	_, err = send(workflows.UpdateAcceptQuote, workflows.AcceptInput{Actor: supplier, QuoteID: "q1"})
	assert.Equal(t, workflows.RejectNotAllowed, workflows.RejectionCode(err), "supplier accepting: %v", err)

	st, err := send(workflows.UpdateSubmitQuote, workflows.QuoteInput{
		Actor: supplier, Tiers: []workflows.PriceTier{{MinQuantity: 100, UnitPrice: 450}, {MinQuantity: 1000, UnitPrice: 390}},
		MOQ: 100, LeadTimeDays: 21, ValidTill: time.Now().Add(48 * time.Hour),
	})
	require.NoError(t, err)
	require.Len(t, st.Quotes, 1)
	assert.Equal(t, int64(390*2000), st.Quotes[0].Total)

	st, err = send(workflows.UpdateAcceptQuote, workflows.AcceptInput{Actor: buyer, QuoteID: st.Quotes[0].ID})
	require.NoError(t, err)
	assert.Equal(t, workflows.StageContract, st.Stage)

	v, err := tc.Client.QueryWorkflow(ctx, id, "", workflows.QueryState)
	require.NoError(t, err)
	var queried workflows.DealState
	require.NoError(t, v.Get(&queried))
	assert.Equal(t, "sup-1", queried.SupplierID)
	assert.Equal(t, int64(780000), queried.Total)

	query := fmt.Sprintf("DealStage = 'CONTRACT' AND BuyerId = '%s' AND SupplierId = 'sup-1' AND DealAmount = 780000 AND DealCurrency = 'USD'", buyerOrg)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := tc.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if !assert.NoError(c, err) {
			return
		}
		assert.Len(c, resp.Executions, 1)
	}, 20*time.Second, 200*time.Millisecond, "deal not found by its search attributes")
}
