package workflows

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

// paymentIndex records the payment after a number of lookups.
type paymentIndex struct {
	lookups  atomic.Int32
	knownAt  int32
	dealID   string
	provider string
}

func (p *paymentIndex) DealOfPayment(_ context.Context, id string) (string, error) {
	if n := p.lookups.Add(1); n < p.knownAt || id != p.provider {
		return "", activities.ErrPaymentUnknown
	}
	return p.dealID, nil
}

// An event whose payment is not recorded yet waits for it, then reaches the
// deal once.
func TestProviderEventWaitsForItsPaymentThenSignalsTheDealOnce(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	// A loaded machine can hold the workflow's goroutine past the default
	// second without any deadlock.
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	env.RegisterWorkflowWithOptions(DeliverProviderEvent, workflow.RegisterOptions{Name: ProviderEventWorkflowName})
	idx := &paymentIndex{knownAt: 4, dealID: "d1", provider: "pi_1"}
	env.RegisterActivity(&activities.Activities{PaymentIndex: idx})
	var got []ProviderEvent
	env.OnSignalExternalWorkflow("default-test-namespace", DealWorkflowID("d1"), "", SignalProviderEvent, mock.Anything).Return(
		func(_, _, _, _ string, arg any) error {
			got = append(got, arg.(ProviderEvent))
			return nil
		})
	ev := ProviderEvent{Type: "charge.dispute.created", ObjectID: "dp_1", Detail: "pi_1"}
	env.ExecuteWorkflow(DeliverProviderEvent, PendingProviderEvent{EventID: "evt_1", Event: ev})
	var dealID string
	if err := env.GetWorkflowResult(&dealID); err != nil || dealID != "d1" {
		t.Fatalf("delivered to %q: %v", dealID, err)
	}
	if idx.lookups.Load() != 4 || len(got) != 1 || got[0] != ev {
		t.Fatalf("%d lookups, signals %+v", idx.lookups.Load(), got)
	}
}
