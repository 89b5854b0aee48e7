package workflows

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

// OrphanPaymentWorkflowName refunds money that arrived for a deal that had
// already closed (its payment window passed while the buyer's payment was
// still being confirmed).
const OrphanPaymentWorkflowName = "RefundOrphanPayment"

// OrphanPaymentWorkflowID makes one refund per provider payment.
func OrphanPaymentWorkflowID(providerPaymentID string) string {
	return "orphan-payment-" + providerPaymentID
}

// OrphanPayment is a captured payment whose deal no longer runs.
type OrphanPayment struct {
	DealID            string `json:"deal_id"`
	BuyerOrgID        string `json:"buyer_org_id"`
	ProviderPaymentID string `json:"provider_payment_id"`
	Amount            int64  `json:"amount"`
	Currency          string `json:"currency"`
}

// RefundOrphanPayment returns the whole payment to the buyer and records the
// money passing through the deal's escrow, so the ledger shows it.
func RefundOrphanPayment(ctx workflow.Context, in OrphanPayment) (activities.RefundResult, error) {
	actx := workflow.WithActivityOptions(ctx, moneyOptions)
	key := "orphan/" + in.ProviderPaymentID
	escrow := activities.EscrowAccount(in.DealID)
	buyer := activities.BuyerAccount(in.BuyerOrgID)
	if err := workflow.ExecuteActivity(actx, acts.PostLedger, activities.Posting{
		IdempotencyKey: key + "/escrow", DealID: in.DealID, Kind: "orphan",
		Memo:  "payment " + in.ProviderPaymentID + " arrived after the deal closed",
		Lines: []activities.Line{{Account: buyer, Amount: -in.Amount, Currency: in.Currency}, {Account: escrow, Amount: in.Amount, Currency: in.Currency}},
	}).Get(ctx, nil); err != nil {
		return activities.RefundResult{}, fmt.Errorf("post orphan payment: %w", err)
	}
	var rf activities.RefundResult
	if err := workflow.ExecuteActivity(actx, acts.Refund, activities.RefundInput{
		DealID: in.DealID, PaymentID: in.ProviderPaymentID, Amount: in.Amount, Currency: in.Currency, IdempotencyKey: key + "/refund",
	}).Get(ctx, &rf); err != nil {
		return activities.RefundResult{}, fmt.Errorf("refund orphan payment: %w", err)
	}
	if err := workflow.ExecuteActivity(actx, acts.PostLedger, activities.Posting{
		IdempotencyKey: key + "/refund", DealID: in.DealID, Kind: "refund",
		Memo:  "refund " + rf.RefundID + " of late payment " + in.ProviderPaymentID,
		Lines: []activities.Line{{Account: escrow, Amount: -in.Amount, Currency: in.Currency}, {Account: buyer, Amount: in.Amount, Currency: in.Currency}},
	}).Get(ctx, nil); err != nil {
		return activities.RefundResult{}, fmt.Errorf("post orphan refund: %w", err)
	}
	return rf, nil
}
