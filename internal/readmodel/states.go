package readmodel

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/tradeloop/tradeloop/workflows"
)

// TemporalStates reads deal states through the deal workflow's query.
type TemporalStates struct {
	Client client.Client
}

// DealState implements StateSource.
func (t TemporalStates) DealState(ctx context.Context, dealID string) (workflows.DealState, error) {
	v, err := t.Client.QueryWorkflow(ctx, workflows.DealWorkflowID(dealID), "", workflows.QueryState)
	if err != nil {
		return workflows.DealState{}, err
	}
	var st workflows.DealState
	return st, v.Get(&st)
}
