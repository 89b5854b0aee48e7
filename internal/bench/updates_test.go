package bench

import (
	"testing"

	"github.com/tradeloop/tradeloop/workflows"
)

// The baseline's handler names each action the bench's clients send by the
// update the API sends for it, read from the API's route table.
func TestBaselineSendsTheAPIsUpdateForEachAction(t *testing.T) {
	want := map[string]string{
		"quotes":           workflows.UpdateSubmitQuote,
		"quotes/accept":    workflows.UpdateAcceptQuote,
		"sample/request":   workflows.UpdateRequestSample,
		"sample/ship":      workflows.UpdateShipSample,
		"sample/approve":   workflows.UpdateApproveSample,
		"contract/sign":    workflows.UpdateSignContract,
		"payments":         workflows.UpdatePay,
		"production":       workflows.UpdateReportProgress,
		"ready":            workflows.UpdateMarkReady,
		"shipment":         workflows.UpdateAddShipment,
		"accept":           workflows.UpdateAcceptDelivery,
		"dispute":          workflows.UpdateOpenDispute,
		"dispute/answer":   workflows.UpdateAnswerDispute,
		"dispute/escalate": workflows.UpdateEscalateDispute,
	}
	for action, update := range want {
		if got := updateOf[action]; got != update {
			t.Errorf("action %q sends %q, want %q", action, got, update)
		}
	}
	if _, ok := updateOf["dispute/decision"]; ok {
		t.Error("the mediator's decision is a signal, not an update")
	}
}
