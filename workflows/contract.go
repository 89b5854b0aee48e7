package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
)

// startContract renders the contract from the accepted quote and opens it
// for signature.
func (d *deal) startContract(ctx workflow.Context) {
	q := d.acceptedQuote()
	in := d.in.Inquiry
	terms := ContractTerms{
		DealID: d.in.DealID, BuyerOrgID: in.BuyerOrgID, SupplierOrgID: d.state.SupplierID,
		Product: in.Product, Specs: in.Specs, Quantity: in.Quantity, Unit: in.Unit,
		UnitPrice: q.UnitPrice, Total: d.state.Total, Currency: d.state.Currency,
		LeadTimeDays: q.LeadTimeDays, ShipBy: in.ShipBy, Incoterm: d.state.Inquiry.Incoterm, Destination: in.Destination,
		DepositPercent: money.DepositPercent, Deposit: d.state.Deposit, Balance: d.state.Balance,
		InspectionDays: int(d.in.Policy.InspectionWindow / (24 * time.Hour)),
		LateDeliveryRule: "If the goods are not ready to ship by the ship-by date, the buyer may extend it " +
			"or cancel the deal with a full refund of the deposit.",
	}
	if q.Trial {
		terms.TrialBelowMOQ = q.MOQ
	}
	// A struct without maps encodes the same bytes every time; workflowcheck
	// cannot see that through encoding/json's reflection.
	canonical, _ := json.Marshal(terms) //workflowcheck:ignore
	sum := sha256.Sum256(canonical)
	d.state.Contract = &Contract{Terms: terms, Text: renderContract(terms), TermsSHA256: hex.EncodeToString(sum[:])}
	d.state.Deadlines[DeadlineContractSignBy] = workflow.Now(ctx).Add(d.in.Policy.ContractSigning)
	d.event(ctx, EventContractReady, "", "terms sha256 "+d.state.Contract.TermsSHA256)
	d.notify(in.BuyerOrgID, "contract_ready", notice.Facts{})
	d.notify(d.state.SupplierID, "contract_ready", notice.Facts{})
	d.setStage(ctx, StageContract)
}

func renderContract(t ContractTerms) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("PURCHASE CONTRACT — deal %s\n\n", t.DealID))
	b.WriteString(fmt.Sprintf("Buyer: %s\nSupplier: %s\n\n", t.BuyerOrgID, t.SupplierOrgID))
	b.WriteString(fmt.Sprintf("Goods: %d %s of %s\n", t.Quantity, t.Unit, t.Product))
	if t.TrialBelowMOQ > 0 {
		b.WriteString(fmt.Sprintf("Trial order: %d %s, below the supplier's minimum order of %d, for the parties' first deal\n", t.Quantity, t.Unit, t.TrialBelowMOQ))
	}
	if t.Specs != "" {
		b.WriteString(fmt.Sprintf("Specifications: %s\n", t.Specs))
	}
	b.WriteString(fmt.Sprintf("Unit price: %d %s (minor units)\nTotal: %d %s\n", t.UnitPrice, t.Currency, t.Total, t.Currency))
	b.WriteString(fmt.Sprintf("Delivery: %s %s\n", t.Incoterm, t.Destination))
	if t.ShipBy.IsZero() {
		b.WriteString(fmt.Sprintf("Ready to ship within %d days of the deposit\n", t.LeadTimeDays))
	} else {
		b.WriteString(fmt.Sprintf("Ready to ship by %s (lead time %d days)\n", t.ShipBy.Format("2006-01-02"), t.LeadTimeDays))
	}
	b.WriteString(fmt.Sprintf("\nPayment through Tradeloop escrow: %d%% deposit (%d) before production, "+
		"the balance (%d) before shipment.\n", t.DepositPercent, t.Deposit, t.Balance))
	b.WriteString(fmt.Sprintf("Inspection: %d days after verified delivery; silence accepts the goods.\n", t.InspectionDays))
	b.WriteString(fmt.Sprintf("Late delivery: %s\n", t.LateDeliveryRule))
	return b.String()
}

func (d *deal) checkSign(_ workflow.Context, in SignInput) error {
	if err := d.needStage(StageContract); err != nil {
		return err
	}
	c := d.state.Contract
	switch {
	case d.isBuyer(in.Actor):
		if !c.BuyerSignedAt.IsZero() {
			return reject(RejectWrongStage, "the buyer has already signed")
		}
	case d.isAwardedSupplier(in.Actor):
		if !c.SupplierSignedAt.IsZero() {
			return reject(RejectWrongStage, "the supplier has already signed")
		}
	default:
		return reject(RejectNotAllowed, "only the buyer and the supplier sign the contract")
	}
	if in.TermsSHA256 != c.TermsSHA256 {
		return reject(RejectInvalid, "the signed terms hash %q is not the contract's %s", in.TermsSHA256, c.TermsSHA256)
	}
	return nil
}

func (d *deal) sign(ctx workflow.Context, in SignInput) {
	c := d.state.Contract
	now := workflow.Now(ctx)
	if d.isBuyer(in.Actor) {
		c.BuyerSignedAt = now
	} else {
		c.SupplierSignedAt = now
	}
	d.event(ctx, EventContractSigned, in.Actor.OrgID, string(in.Actor.Role))
	if c.BuyerSignedAt.IsZero() || c.SupplierSignedAt.IsZero() {
		return
	}
	delete(d.state.Deadlines, DeadlineContractSignBy)
	d.state.Deadlines[DeadlineDepositDue] = now.Add(d.in.Policy.DepositDue)
	d.event(ctx, EventContractSignedByBoth, "", c.TermsSHA256)
	d.notify(d.in.Inquiry.BuyerOrgID, "deposit_due", d.money(d.state.Deposit, notice.Facts{Within: d.in.Policy.DepositDue}))
	d.setStage(ctx, StageDeposit)
}
