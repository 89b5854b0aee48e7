package workflows

import (
	"fmt"
	"strings"

	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
)

// legacyText is the English text a notification of kind stating facts
// carried in deals before dealCarriesFacts, when the workflow worded its
// notifications itself. Those deals still carry it: its length counts in
// their rounds' sizes, which steer when they confirm their books, so a
// replay must make the same text. It is frozen: the words people read
// live in internal/texts's catalogs, which may change freely.
func legacyText(kind string, f notice.Facts) string {
	amount := money.Format(f.Amount, f.Currency)
	left := fmt.Sprintf("in %s (%s UTC)", inWords(f.Left), f.Due.UTC().Format("2006-01-02 15:04"))
	switch kind {
	case "contract_ready":
		return "The contract is ready to sign."
	case "deposit_due":
		return fmt.Sprintf("Pay the %s deposit within %s.", amount, inWords(f.Within))
	case "production_late":
		return "The supplier missed the ship-by date: extend it or cancel for a full refund."
	case "inspection_reminder":
		return "The goods will be accepted automatically unless you accept or dispute them first."
	case "dispute_opened":
		return "A dispute was opened (" + f.Reason + "): answer within " + inWords(f.Within) + "."
	case "mediation_needed":
		if f.Case == "buyer_default" {
			return "Buyer default on deal " + f.Deal + ": decide on the deposit."
		}
		return "Deal " + f.Deal + " needs a mediator's decision."
	case "settlement_proposed":
		return "A settlement was proposed: " + f.Ref
	case "sample_paid":
		return "The sample is paid: ship it."
	case "balance_paid":
		return "The balance is in escrow: ship the goods and add the tracking number."
	case "payment_mismatch":
		return "Payment " + f.Ref + " needs review."
	case "card_dispute":
		return "A card dispute was opened on deal " + f.Deal + ": " + f.Ref
	case "payment_failed":
		return "Your " + f.Step + " payment failed (" + f.Reason + "): please pay again."
	case "stage_changed":
		return "The deal for " + f.Product + " is now " + legacyStageWords(Stage(f.Stage)) + "."
	case "deposit_secured":
		return "The deposit is in escrow: start production. Ready to ship by " + f.Due.Format("2006-01-02") + "."
	case "balance_due":
		return fmt.Sprintf("The goods are ready: pay the %s balance within %s.", amount, inWords(f.Within))
	case "ship_by_extended":
		return "The buyer extended the ship-by date to " + f.Due.Format("2006-01-02") + "."
	case "invited_to_quote":
		return fmt.Sprintf("New inquiry: %d %s of %s. Quote within %s.", f.Quantity, f.Unit, f.Product, inWords(f.Within))
	case "inquiry_redispatched":
		if f.Count == 0 {
			return fmt.Sprintf("No supplier quoted within %s, and no other supplier on the dispatch list is left: the inquiry stays open until it expires (%s UTC).",
				inWords(f.Within), f.Due.UTC().Format("2006-01-02 15:04"))
		}
		more := "1 more supplier"
		if f.Count != 1 {
			more = fmt.Sprintf("%d more suppliers", f.Count)
		}
		return fmt.Sprintf("No supplier quoted within %s: your inquiry went to %s on the dispatch list.", inWords(f.Within), more)
	case "quote_due_soon":
		return fmt.Sprintf("Your quote for %d %s of %s is due in %s (%s UTC); after that the inquiry goes to another supplier.",
			f.Quantity, f.Unit, f.Product, inWords(f.Left), f.Due.UTC().Format("2006-01-02 15:04"))
	case string(EventQuoteSubmitted), string(EventQuoteRevised):
		return fmt.Sprintf("Quote %s from %s: total %s.", f.Ref, f.Supplier, amount)
	case "counter_offer":
		return fmt.Sprintf("The buyer asks for %s per unit: revise your quote.", amount)
	case "quote_accepted":
		return fmt.Sprintf("Your quote %s was accepted.", f.Ref)
	case "invitation_closed":
		return "The inquiry was closed."
	case "contract_sign_soon":
		return "Sign the contract " + left + ", or the deal is cancelled."
	case "deposit_due_soon":
		return fmt.Sprintf("Pay the %s deposit %s, or the deal is cancelled.", amount, left)
	case "balance_due_soon":
		return fmt.Sprintf("Pay the %s balance %s, or the deposit goes to mediation.", amount, left)
	case "dispute_answer_soon":
		return "Answer the dispute " + left + ", or it goes to a mediator."
	case "sample_requested":
		return "The buyer asks for a sample before the contract."
	case "sample_shipped":
		return "The sample is on its way: " + f.Carrier + " " + f.Tracking
	case "sample_delivered":
		return "The sample was delivered: approve or reject it."
	case "sample_shipment_failed":
		return "The sample shipment failed (" + f.Reason + "): ship another."
	case "resample_requested":
		return "The buyer rejected the sample and asks for another: " + f.Reason
	case "goods_shipped":
		return "Your goods are on their way: " + f.Carrier + " " + f.Tracking
	case "goods_delivered":
		return "Your goods were delivered: inspect them, then accept or open a dispute."
	}
	return ""
}

// legacyStageWords is a stage as legacyText said it.
func legacyStageWords(s Stage) string {
	switch s {
	case StageSample:
		return "at the sample"
	case StageContract:
		return "at the contract, to be signed"
	case StageDeposit:
		return "waiting for the deposit"
	case StageProduction:
		return "in production"
	case StageBalance:
		return "waiting for the balance"
	case StageShipping:
		return "shipping"
	case StageInspection:
		return "delivered, in inspection"
	case StageDispute:
		return "in dispute"
	case StageMediation:
		return "with a mediator"
	case StageCompleted:
		return "completed"
	case StageResolved:
		return "resolved"
	case StageCancelled:
		return "cancelled"
	case StageExpired:
		return "expired"
	}
	return strings.ToLower(string(s))
}
