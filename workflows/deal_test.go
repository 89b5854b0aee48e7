package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/activities"
)

const day = 24 * time.Hour

func TestHappyPathWithoutSampleReleasesEscrowMinusCommission(t *testing.T) {
	h := newHarness(t)
	h.toInspection()
	h.update(7*time.Hour, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	st := h.run(dealInput())
	h.ok("quote", "accept", "sign buyer", "sign supplier", "pay deposit", "progress", "ready", "pay balance", "ship", "accept goods")

	if st.Stage != StageCompleted {
		t.Fatalf("stage %s, want COMPLETED", st.Stage)
	}
	if st.Total != 1_000_000 || st.Deposit != 300_000 || st.Balance != 700_000 || st.CommissionBP != 200 {
		t.Fatalf("total %d deposit %d balance %d bp %d", st.Total, st.Deposit, st.Balance, st.CommissionBP)
	}
	if want := (Escrow{Held: 0, Released: 1_000_000, Commission: 20_000, Refunded: 0}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	h.balances(0, 980_000, 20_000, -1_000_000, "sup-a")
	tr := h.mem.Transfers()
	if tr["deal-d1/deposit-1/transfer"].Amount != 294_000 || tr["deal-d1/balance-1/transfer"].Amount != 686_000 {
		t.Fatalf("transfers %+v", tr)
	}
	if len(h.mem.Refunds()) != 0 {
		t.Fatalf("refunds on a completed deal: %+v", h.mem.Refunds())
	}
	if c := h.mem.Charges()["deal-d1/deposit-1"]; c.Amount != 300_000 || c.Step != "deposit" {
		t.Fatalf("deposit charge %+v", c)
	}
	if st.Shipment.Status != activities.TrackDelivered || st.Shipment.DeliveredAt.IsZero() {
		t.Fatalf("shipment %+v", st.Shipment)
	}
	if st.Contract.TermsSHA256 == "" || st.Contract.BuyerSignedAt.IsZero() || st.Contract.SupplierSignedAt.IsZero() {
		t.Fatalf("contract %+v", st.Contract)
	}
	proj, events := h.mem.Projected("d1")
	if proj.Stage != string(StageCompleted) || len(events) != len(st.Timeline) || events[len(events)-1].Seq != len(st.Timeline) {
		t.Fatalf("projection stage %s with %d events, timeline has %d", proj.Stage, len(events), len(st.Timeline))
	}
	if len(st.Deadlines) != 0 {
		t.Fatalf("deadlines left on a completed deal: %v", st.Deadlines)
	}
}

func TestHappyPathWithSample(t *testing.T) {
	h := newHarness(t)
	in := dealInput()
	in.Inquiry.WantsSample = true
	h.mem.Script("S1", activities.TrackDelivered)
	h.update(10*m, "quote", UpdateSubmitQuote, h.quote(supA))
	h.update(20*m, "accept", UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q1"})
	h.update(25*m, "ship unpaid", UpdateShipSample, ShipmentInput{Actor: supA, Carrier: "ups", TrackingNumber: "S1"})
	h.update(30*m, "pay sample", UpdatePay, PayInput{Actor: buyer, Step: "sample"})
	h.update(40*m, "ship sample", UpdateShipSample, ShipmentInput{Actor: supA, Carrier: "ups", TrackingNumber: "S1"})
	h.check(50*m, func(st DealState) {
		if st.Sample.Status != SampleDelivered {
			t.Errorf("sample %s at 50m, want DELIVERED", st.Sample.Status)
		}
	})
	h.update(2*time.Hour, "approve", UpdateApproveSample, ActorInput{Actor: buyer, Note: "good"})
	h.sign(3*time.Hour, "sign buyer", buyer)
	h.sign(3*time.Hour+m, "sign supplier", supA)
	h.update(4*time.Hour, "pay deposit", UpdatePay, PayInput{Actor: buyer, Step: "deposit"})
	h.update(5*time.Hour, "ready", UpdateMarkReady, ActorInput{Actor: supA})
	h.update(6*time.Hour, "pay balance", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.mem.Script("TRK1", activities.TrackDelivered)
	h.update(7*time.Hour, "ship", UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "TRK1"})
	h.update(8*time.Hour, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	st := h.run(in)
	h.ok("quote", "accept", "pay sample", "ship sample", "approve", "sign buyer", "sign supplier", "pay deposit", "ready", "pay balance", "ship", "accept goods")
	h.rejected("ship unpaid", RejectWrongStage)

	if st.Stage != StageCompleted || st.Sample.Status != SampleApproved {
		t.Fatalf("stage %s sample %s", st.Stage, st.Sample.Status)
	}
	// Sample 5,000 + goods 1,000,000, all released at 200 bp.
	if want := (Escrow{Released: 1_005_000, Commission: 20_100}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	h.balances(0, 984_900, 20_100, -1_005_000, "sup-a")
}

func TestLateSupplierIsMarkedAndNextIsInvited(t *testing.T) {
	h := newHarness(t)
	h.update(3*time.Hour, "quote b", UpdateSubmitQuote, h.quote(supB))
	h.update(3*time.Hour+m, "late a", UpdateSubmitQuote, h.quote(supA))
	h.update(4*time.Hour, "accept", UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q1"})
	st := h.run(dealInput())
	h.ok("quote b", "accept")
	h.rejected("late a", RejectWrongStage)

	if st.Invitations[0].Status != InvitationLate || st.Invitations[1].SupplierID != "sup-b" || st.Invitations[1].Status != InvitationAwarded {
		t.Fatalf("invitations %+v", st.Invitations)
	}
	if got := st.Invitations[1].InvitedAt.Sub(h.start); got != 2*time.Hour {
		t.Fatalf("sup-b invited %s after start, want 2h", got)
	}
	if st.SupplierID != "sup-b" || st.CommissionBP != 300 {
		t.Fatalf("supplier %s at %d bp", st.SupplierID, st.CommissionBP)
	}
	// Nobody signs: cancelled at the contract deadline, 5 days after acceptance.
	if st.Stage != StageCancelled || !h.hasEvent("contract_expired") {
		t.Fatalf("stage %s, want CANCELLED by contract expiry", st.Stage)
	}
	if got := h.env.Now().Sub(h.start); got != 4*time.Hour+5*day {
		t.Fatalf("cancelled at +%s", got)
	}
	if len(h.mem.Charges()) != 0 || len(h.mem.Postings()) != 0 {
		t.Fatal("money moved on a deal that never had a deposit")
	}
}

func TestAllSuppliersLateThenInquiryExpires(t *testing.T) {
	h := newHarness(t)
	st := h.run(dealInput())
	if st.Stage != StageExpired {
		t.Fatalf("stage %s, want EXPIRED", st.Stage)
	}
	if len(st.Invitations) != 2 || st.Invitations[0].Status != InvitationLate || st.Invitations[1].Status != InvitationLate {
		t.Fatalf("invitations %+v", st.Invitations)
	}
	if got := h.env.Now().Sub(h.start); got != 72*time.Hour {
		t.Fatalf("expired after %s, want 72h", got)
	}
	if n := len(h.mem.Notifications("invited_to_quote")); n != 2 {
		t.Fatalf("%d invitations sent, want 2", n)
	}
}

func TestQuoteRulesAndNegotiation(t *testing.T) {
	h := newHarness(t)
	in := dealInput()
	in.Policy.InitialInvites = 2
	short := h.quote(supA)
	short.ValidTill = h.start.Add(time.Hour)
	h.update(10*m, "quote a", UpdateSubmitQuote, short)
	h.update(11*m, "quote b", UpdateSubmitQuote, h.quote(supB))
	h.update(20*m, "counter", UpdateCounterOffer, CounterOfferInput{Actor: buyer, SupplierID: "sup-b", TargetUnitPrice: 900})
	revised := h.quote(supB)
	revised.Tiers = []PriceTier{{MinQuantity: 1, UnitPrice: 950}}
	h.update(30*m, "revise b", UpdateSubmitQuote, revised)
	h.update(2*time.Hour, "accept expired", UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q1"})
	h.update(2*time.Hour, "accept superseded", UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q2"})
	h.update(2*time.Hour, "accept as supplier", UpdateAcceptQuote, AcceptInput{Actor: supB, QuoteID: "q3"})
	h.update(2*time.Hour, "accept unknown", UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q9"})
	h.update(2*time.Hour+m, "accept revised", UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q3"})
	h.update(2*time.Hour+2*m, "quote after close", UpdateSubmitQuote, h.quote(supA))
	st := h.run(in)
	h.ok("quote a", "quote b", "counter", "revise b", "accept revised")
	h.rejected("accept expired", RejectWrongStage)
	h.rejected("accept superseded", RejectWrongStage)
	h.rejected("accept as supplier", RejectNotAllowed)
	h.rejected("accept unknown", RejectNotFound)
	h.rejected("quote after close", RejectWrongStage)
	if st.Total != 950_000 || st.Quotes[2].Revision != 2 || st.Quotes[1].Status != QuoteClosed {
		t.Fatalf("total %d, quotes %+v", st.Total, st.Quotes)
	}
	if st.Quotes[0].Status != QuoteClosed || st.Invitations[0].Status != InvitationClosed {
		t.Fatalf("the losing supplier's quote/invitation stayed open: %+v %+v", st.Quotes[0], st.Invitations[0])
	}
	if len(st.CounterOffers) != 1 || st.CounterOffers[0].TargetUnitPrice != 900 {
		t.Fatalf("counter offers %+v", st.CounterOffers)
	}
}

func TestSampleRejectedThenResampled(t *testing.T) {
	h := newHarness(t)
	in := dealInput()
	in.Inquiry.WantsSample = true
	h.mem.Script("S1", activities.TrackDelivered)
	h.mem.Script("S2", activities.TrackInTransit, activities.TrackDelivered)
	h.toContract()
	h.update(30*m, "pay sample", UpdatePay, PayInput{Actor: buyer, Step: "sample"})
	h.update(40*m, "ship 1", UpdateShipSample, ShipmentInput{Actor: supA, Carrier: "ups", TrackingNumber: "S1"})
	h.update(2*time.Hour, "reject", UpdateRejectSample, RejectSampleInput{Actor: buyer, Reason: "wrong finish", Resample: true})
	h.update(3*time.Hour, "ship 2", UpdateShipSample, ShipmentInput{Actor: supA, Carrier: "ups", TrackingNumber: "S2"})
	h.check(4*time.Hour+m, func(st DealState) {
		if st.Sample.Status != SampleDelivered || st.Sample.Rounds != 2 {
			t.Errorf("second sample %s round %d", st.Sample.Status, st.Sample.Rounds)
		}
	})
	h.update(5*time.Hour, "approve", UpdateApproveSample, ActorInput{Actor: buyer})
	st := h.run(in)
	h.ok("pay sample", "ship 1", "reject", "ship 2", "approve")
	if st.Sample.Status != SampleApproved || st.Sample.Shipment.TrackingNumber != "S2" {
		t.Fatalf("sample %+v", st.Sample)
	}
	// Nobody signs: cancelled; the approved sample's payment went to the supplier.
	if st.Stage != StageCancelled || !h.hasEvent("contract_expired") {
		t.Fatalf("stage %s", st.Stage)
	}
	h.balances(0, 4_900, 100, -5_000, "sup-a")
}

func TestSampleAutoApprovedAfterSilence(t *testing.T) {
	h := newHarness(t)
	in := dealInput()
	in.Inquiry.WantsSample = true
	h.mem.Script("S1", activities.TrackDelivered)
	h.toContract()
	h.update(30*m, "pay sample", UpdatePay, PayInput{Actor: buyer, Step: "sample"})
	h.update(40*m, "ship", UpdateShipSample, ShipmentInput{Actor: supA, Carrier: "ups", TrackingNumber: "S1"})
	h.check(40*m+7*day+time.Hour, func(st DealState) {
		if st.Stage != StageContract || st.Sample.Status != SampleApproved {
			t.Errorf("a week after delivery: stage %s sample %s, want CONTRACT/APPROVED", st.Stage, st.Sample.Status)
		}
	})
	h.run(in)
	h.ok("pay sample", "ship")
}

func TestContractNotSignedInTime(t *testing.T) {
	h := newHarness(t)
	h.toContract()
	h.sign(30*m, "sign buyer", buyer)
	h.sign(31*m, "sign again", buyer)
	h.update(32*m, "sign wrong hash", UpdateSignContract, SignInput{Actor: supA, TermsSHA256: "00"})
	h.sign(33*m, "sign by stranger", supB)
	st := h.run(dealInput())
	h.ok("sign buyer")
	h.rejected("sign again", RejectWrongStage)
	h.rejected("sign wrong hash", RejectInvalid)
	h.rejected("sign by stranger", RejectNotAllowed)
	if st.Stage != StageCancelled || !h.hasEvent("contract_expired") {
		t.Fatalf("stage %s", st.Stage)
	}
	if got := h.env.Now().Sub(h.start); got != 20*m+5*day {
		t.Fatalf("cancelled at +%s, want 5 days after acceptance", got)
	}
}

func TestDepositNotPaid(t *testing.T) {
	h := newHarness(t)
	h.toDeposit()
	h.update(time.Hour, "pay balance early", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.update(time.Hour, "pay as supplier", UpdatePay, PayInput{Actor: supA, Step: "deposit"})
	st := h.run(dealInput())
	h.rejected("pay balance early", RejectWrongStage)
	h.rejected("pay as supplier", RejectNotAllowed)
	if st.Stage != StageCancelled || !h.hasEvent("deposit_not_paid") {
		t.Fatalf("stage %s", st.Stage)
	}
	if got := h.env.Now().Sub(h.start); got != 40*m+3*day {
		t.Fatalf("cancelled at +%s, want 3 days after signing", got)
	}
}

func TestLateProductionExtendedThenAutoAcceptedAfterSilence(t *testing.T) {
	h := newHarness(t)
	h.toProduction()
	// Ready to ship 20 days after the deposit at 1 h; nothing by then.
	lateAt := time.Hour + 20*day
	h.update(lateAt-time.Hour, "extend early", UpdateExtendShipBy, ExtendInput{Actor: buyer, NewShipBy: h.start.Add(30 * day)})
	h.check(lateAt+m, func(st DealState) {
		if !st.Production.Late {
			t.Error("production not late after the ship-by date")
		}
	})
	h.update(lateAt+time.Hour, "extend", UpdateExtendShipBy, ExtendInput{Actor: buyer, NewShipBy: h.start.Add(25 * day)})
	h.update(22*day, "ready", UpdateMarkReady, ActorInput{Actor: supA})
	h.update(22*day+time.Hour, "pay balance", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.mem.Script("TRK1", activities.TrackDelivered)
	h.update(22*day+2*time.Hour, "ship", UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "TRK1"})
	st := h.run(dealInput())
	h.ok("extend", "ready", "pay balance", "ship")
	h.rejected("extend early", RejectWrongStage)
	if st.Stage != StageCompleted || !h.hasEvent("auto_accepted") || st.Production.Extensions != 1 {
		t.Fatalf("stage %s extensions %d", st.Stage, st.Production.Extensions)
	}
	if got := h.env.Now().Sub(st.Shipment.DeliveredAt); got != 7*day {
		t.Fatalf("auto-accepted %s after delivery, want 7 days", got)
	}
	if n := len(h.mem.Notifications("inspection_reminder")); n != 1 {
		t.Fatalf("%d inspection reminders, want 1", n)
	}
	h.balances(0, 980_000, 20_000, -1_000_000, "sup-a")
}

func TestLateProductionCancelledByBuyerRefundsDepositInFull(t *testing.T) {
	h := newHarness(t)
	h.toProduction()
	h.update(2*time.Hour, "cancel on time", UpdateCancel, ActorInput{Actor: buyer, Note: "changed my mind"})
	h.update(20*day+2*time.Hour, "cancel late", UpdateCancel, ActorInput{Actor: buyer, Note: "too late"})
	st := h.run(dealInput())
	h.rejected("cancel on time", RejectWrongStage)
	h.ok("cancel late")
	if st.Stage != StageCancelled {
		t.Fatalf("stage %s", st.Stage)
	}
	if want := (Escrow{Refunded: 300_000}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	if r := h.mem.Refunds()["deal-d1/deposit-1/refund"]; r.Amount != 300_000 {
		t.Fatalf("refunds %+v", h.mem.Refunds())
	}
	h.balances(0, 0, 0, 0, "sup-a")
}

func TestBalanceDefaultGoesToMediationAndSplits(t *testing.T) {
	h := newHarness(t)
	h.toBalance()
	// Ready at 3 h; balance due 3 days later; then the mediator splits the deposit.
	h.signal(3*time.Hour+3*day+time.Hour, SignalMediatorDecision, MediatorDecision{Actor: med, Outcome: OutcomeSplit, ReleaseAmount: 400_000})
	h.signal(3*time.Hour+3*day+2*time.Hour, SignalMediatorDecision, MediatorDecision{Actor: buyer, Outcome: OutcomeRefund})
	h.signal(3*time.Hour+3*day+3*time.Hour, SignalMediatorDecision, MediatorDecision{Actor: med, Outcome: OutcomeSplit, ReleaseAmount: 100_000})
	st := h.run(dealInput())
	if st.Stage != StageResolved || st.Dispute.Reason != "buyer_default" || st.Dispute.Decision.ReleaseAmount != 100_000 {
		t.Fatalf("stage %s dispute %+v", st.Stage, st.Dispute)
	}
	ignored := 0
	for _, e := range st.Timeline {
		if e.Type == "decision_ignored" {
			ignored++
		}
	}
	if ignored != 2 {
		t.Fatalf("%d decisions ignored, want 2 (over the held amount, not a mediator)", ignored)
	}
	if want := (Escrow{Released: 100_000, Commission: 2_000, Refunded: 200_000}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	h.balances(0, 98_000, 2_000, -100_000, "sup-a")
}

func TestShipmentExceptionOpensDisputeThatEscalatesAndRefunds(t *testing.T) {
	h := newHarness(t)
	h.toBalance()
	h.update(240*m, "pay balance", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.mem.Script("TRK1", activities.TrackInTransit, activities.TrackException)
	h.update(300*m, "ship", UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "TRK1"})
	h.check(300*m+2*time.Hour, func(st DealState) {
		if st.Stage != StageDispute || st.Dispute.OpenedBy != "system" {
			t.Errorf("after the exception: stage %s", st.Stage)
		}
	})
	// The supplier never answers: mediation 3 days later; the mediator refunds.
	h.signal(300*m+4*day, SignalMediatorDecision, MediatorDecision{Actor: med, Outcome: OutcomeRefund})
	st := h.run(dealInput())
	h.ok("pay balance", "ship")
	if st.Stage != StageResolved || st.Dispute.Reason != "shipment_exception" || !h.hasEvent("dispute_escalated") {
		t.Fatalf("stage %s dispute %+v", st.Stage, st.Dispute)
	}
	if want := (Escrow{Refunded: 1_000_000}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	h.balances(0, 0, 0, 0, "sup-a")
}

func TestDisputeSettledByTheParties(t *testing.T) {
	h := newHarness(t)
	h.toInspection()
	h.update(7*time.Hour, "dispute", UpdateOpenDispute, DisputeInput{Actor: buyer, Reason: "10% rusty", Remedy: "partial refund", Evidence: []string{"photo-1"}})
	h.update(8*time.Hour, "answer", UpdateAnswerDispute, ActorInput{Actor: supA, Note: "we accept a partial refund"})
	h.update(9*time.Hour, "propose too much", UpdateProposeSettlement, ProposalInput{Actor: supA, ReleaseAmount: 1_000_001})
	h.update(9*time.Hour+m, "propose", UpdateProposeSettlement, ProposalInput{Actor: supA, ReleaseAmount: 800_000})
	h.update(10*time.Hour, "accept own", UpdateAcceptSettlement, AcceptProposalInput{Actor: supA, ProposalID: "p1"})
	h.update(10*time.Hour+m, "settle", UpdateAcceptSettlement, AcceptProposalInput{Actor: buyer, ProposalID: "p1"})
	st := h.run(dealInput())
	h.ok("dispute", "answer", "propose", "settle")
	h.rejected("propose too much", RejectInvalid)
	h.rejected("accept own", RejectNotAllowed)
	if st.Stage != StageResolved || st.Dispute.Status != DisputeSettled {
		t.Fatalf("stage %s dispute %s", st.Stage, st.Dispute.Status)
	}
	// 800,000 released: all 300,000 of the deposit and 500,000 of the balance.
	if want := (Escrow{Released: 800_000, Commission: 16_000, Refunded: 200_000}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	h.balances(0, 784_000, 16_000, -800_000, "sup-a")
}

func TestDisputeDecidedByMediatorWithSplit(t *testing.T) {
	h := newHarness(t)
	h.toInspection()
	h.update(7*time.Hour, "dispute", UpdateOpenDispute, DisputeInput{Actor: buyer, Reason: "short shipment"})
	h.update(8*time.Hour, "answer", UpdateAnswerDispute, ActorInput{Actor: supA, Note: "all units were shipped"})
	h.update(9*time.Hour, "escalate", UpdateEscalateDispute, ActorInput{Actor: buyer})
	h.update(9*time.Hour+m, "accept goods in mediation", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	h.signal(10*time.Hour, SignalMediatorDecision, MediatorDecision{Actor: med, Outcome: OutcomeSplit, ReleaseAmount: 600_000, Note: "40% short"})
	st := h.run(dealInput())
	h.ok("dispute", "answer", "escalate")
	h.rejected("accept goods in mediation", RejectWrongStage)
	if st.Stage != StageResolved || st.Dispute.Decision == nil || st.Dispute.Decision.Outcome != OutcomeSplit {
		t.Fatalf("stage %s dispute %+v", st.Stage, st.Dispute)
	}
	// Commission only on the 600,000 released: 6,000 + 6,000.
	if want := (Escrow{Released: 600_000, Commission: 12_000, Refunded: 400_000}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	tr, rf := h.mem.Transfers(), h.mem.Refunds()
	if tr["deal-d1/deposit-1/transfer"].Amount != 294_000 || tr["deal-d1/balance-1/transfer"].Amount != 294_000 || rf["deal-d1/balance-1/refund"].Amount != 400_000 {
		t.Fatalf("transfers %+v refunds %+v", tr, rf)
	}
	h.balances(0, 588_000, 12_000, -600_000, "sup-a")
}

func TestRejectedUpdatesLeaveStateUnchanged(t *testing.T) {
	h := newHarness(t)
	h.toProduction()
	var before string
	h.check(2*time.Hour, func(st DealState) { before = mustJSON(t, st) })
	bad := map[string]struct {
		name string
		arg  any
		code string
	}{
		"quote at production":    {UpdateSubmitQuote, h.quote(supA), RejectWrongStage},
		"ready by buyer":         {UpdateMarkReady, ActorInput{Actor: buyer}, RejectNotAllowed},
		"ready by other":         {UpdateMarkReady, ActorInput{Actor: supB}, RejectNotAllowed},
		"progress over 100":      {UpdateReportProgress, ProgressInput{Actor: supA, Percent: 101}, RejectInvalid},
		"pay deposit again":      {UpdatePay, PayInput{Actor: buyer, Step: "deposit"}, RejectWrongStage},
		"pay unknown step":       {UpdatePay, PayInput{Actor: buyer, Step: "tip"}, RejectInvalid},
		"dispute in production":  {UpdateOpenDispute, DisputeInput{Actor: buyer, Reason: "x"}, RejectWrongStage},
		"propose in production":  {UpdateProposeSettlement, ProposalInput{Actor: buyer, ReleaseAmount: -1}, RejectWrongStage},
		"cancel by supplier":     {UpdateCancel, ActorInput{Actor: supA}, RejectNotAllowed},
		"extend when not late":   {UpdateExtendShipBy, ExtendInput{Actor: buyer, NewShipBy: h.start.Add(40 * day)}, RejectWrongStage},
		"ship before ready":      {UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "X"}, RejectWrongStage},
		"accept before delivery": {UpdateAcceptDelivery, ActorInput{Actor: buyer}, RejectWrongStage},
	}
	for label, b := range bad {
		h.update(2*time.Hour, label, b.name, b.arg)
	}
	h.check(2*time.Hour+m, func(st DealState) {
		if after := mustJSON(t, st); after != before {
			t.Errorf("state changed by rejected updates:\nbefore %s\nafter  %s", before, after)
		}
	})
	h.update(3*time.Hour, "cancel on time", UpdateCancel, ActorInput{Actor: buyer})
	h.update(21*day+time.Hour, "cancel late", UpdateCancel, ActorInput{Actor: buyer})
	h.run(dealInput())
	for label, b := range bad {
		h.rejected(label, b.code)
	}
	h.rejected("cancel on time", RejectWrongStage)
	h.ok("cancel late")
}

func TestPaymentsConfirmedBySignalOnceAndRetriedAfterFailure(t *testing.T) {
	h := newHarness(t)
	h.mem.ChargesPending(true)
	h.toDeposit()
	h.update(time.Hour, "pay 1", UpdatePay, PayInput{Actor: buyer, Step: "deposit"})
	h.update(time.Hour+m, "pay while pending", UpdatePay, PayInput{Actor: buyer, Step: "deposit"})
	h.signal(2*time.Hour, SignalPaymentFailed, PaymentFailed{ProviderPaymentID: "pay_1", Reason: "insufficient funds"})
	h.update(3*time.Hour, "pay 2", UpdatePay, PayInput{Actor: buyer, Step: "deposit"})
	h.signal(4*time.Hour, SignalPaymentConfirmed, PaymentConfirmed{ProviderPaymentID: "pay_2", Amount: 1, Currency: "USD"})
	h.check(4*time.Hour+m, func(st DealState) {
		if st.Stage != StageDeposit {
			t.Errorf("a confirmation for the wrong amount moved the deal to %s", st.Stage)
		}
	})
	h.signal(5*time.Hour, SignalPaymentConfirmed, PaymentConfirmed{ProviderPaymentID: "pay_2", Amount: 300_000, Currency: "USD"})
	h.signal(5*time.Hour+m, SignalPaymentConfirmed, PaymentConfirmed{ProviderPaymentID: "pay_2", Amount: 300_000, Currency: "USD"})
	h.update(6*time.Hour, "cancel after deposit", UpdateCancel, ActorInput{Actor: buyer})
	h.update(5*time.Hour+21*day, "cancel late", UpdateCancel, ActorInput{Actor: buyer})
	in := dealInput()
	in.Policy.PaymentReconcile = 60 * day // this test is about the webhook's signals
	st := h.run(in)
	h.ok("pay 1", "pay 2")
	h.rejected("pay while pending", RejectWrongStage)
	h.rejected("cancel after deposit", RejectWrongStage)
	charges := h.mem.Charges()
	if len(charges) != 2 || charges["deal-d1/deposit-1"].Amount != 300_000 || charges["deal-d1/deposit-2"].Amount != 300_000 {
		t.Fatalf("charges %+v", charges)
	}
	if st.Payments[0].Status != PaymentDeclined || st.Payments[1].Status != PaymentSucceeded {
		t.Fatalf("payments %+v", st.Payments)
	}
	if !h.hasEvent("payment_mismatch") {
		t.Fatal("wrong-amount confirmation not recorded")
	}
	// Production then runs late and the buyer cancels: the deposit, counted
	// once despite the repeated confirmation, is refunded once.
	if want := (Escrow{Refunded: 300_000}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	if len(h.mem.Refunds()) != 1 {
		t.Fatalf("refunds %+v", h.mem.Refunds())
	}
	h.balances(0, 0, 0, 0, "sup-a")
}

func TestDeclinedPaymentCanBeRetried(t *testing.T) {
	h := newHarness(t)
	h.mem.Decline("deposit", 1)
	h.toDeposit()
	h.update(time.Hour, "declined", UpdatePay, PayInput{Actor: buyer, Step: "deposit"})
	h.update(2*time.Hour, "retry", UpdatePay, PayInput{Actor: buyer, Step: "deposit"})
	h.update(3*time.Hour, "ready", UpdateMarkReady, ActorInput{Actor: supA})
	h.update(4*time.Hour, "pay balance", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.mem.Script("TRK1", activities.TrackDelivered)
	h.update(5*time.Hour, "ship", UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "TRK1"})
	h.update(7*time.Hour, "accept", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	st := h.run(dealInput())
	h.ok("declined", "retry", "ready", "pay balance", "ship", "accept")
	if st.Payments[0].Status != PaymentDeclined || st.Payments[0].Reason == "" {
		t.Fatalf("declined payment %+v", st.Payments[0])
	}
	if st.Stage != StageCompleted {
		t.Fatalf("stage %s", st.Stage)
	}
	h.balances(0, 980_000, 20_000, -1_000_000, "sup-a")
}

func TestSampleNotShippedCancelsAndRefundsTheSamplePayment(t *testing.T) {
	h := newHarness(t)
	in := dealInput()
	in.Inquiry.WantsSample = true
	h.toContract()
	h.update(30*m, "pay sample", UpdatePay, PayInput{Actor: buyer, Step: "sample"})
	st := h.run(in)
	h.ok("pay sample")
	if st.Stage != StageCancelled || !h.hasEvent("sample_not_shipped") {
		t.Fatalf("stage %s", st.Stage)
	}
	if got := h.env.Now().Sub(h.start); got != 20*m+14*day {
		t.Fatalf("cancelled at +%s, want 14 days after the request", got)
	}
	if want := (Escrow{Refunded: 5_000}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	h.balances(0, 0, 0, 0, "sup-a")
}

func TestLostWebhookIsReconciledByAskingTheProvider(t *testing.T) {
	h := newHarness(t)
	h.mem.ChargesPending(true)
	h.toDeposit()
	h.update(time.Hour, "pay", UpdatePay, PayInput{Actor: buyer, Step: "deposit"})
	h.check(time.Hour+5*m, func(st DealState) {
		if st.Stage != StageDeposit {
			t.Errorf("stage %s before reconciliation", st.Stage)
		}
	})
	h.check(time.Hour+11*m, func(st DealState) {
		if st.Stage != StageProduction {
			t.Errorf("stage %s 11 minutes after an unconfirmed payment, want PRODUCTION", st.Stage)
		}
	})
	h.update(21*day+2*time.Hour, "cancel late", UpdateCancel, ActorInput{Actor: buyer})
	st := h.run(dealInput())
	h.ok("pay", "cancel late")
	if !h.hasEvent("payment_reconciled") {
		t.Fatal("no reconciliation recorded")
	}
	if want := (Escrow{Refunded: 300_000}); st.Escrow != want {
		t.Fatalf("escrow %+v", st.Escrow)
	}
}

func TestWrongTrackingNumberIsCorrectedAndTrackingRestarts(t *testing.T) {
	h := newHarness(t)
	h.toBalance()
	h.update(240*m, "pay balance", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.mem.Script("WRONG-1", activities.TrackPending)
	h.mem.Script("TRK1", activities.TrackInTransit, activities.TrackDelivered)
	h.update(300*m, "ship", UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "WRONG-1"})
	h.update(8*time.Hour, "correct as buyer", UpdateCorrectTracking, CorrectTrackingInput{Actor: buyer, Kind: "goods", Carrier: "dhl", TrackingNumber: "TRK1"})
	h.update(8*time.Hour, "correct the sample", UpdateCorrectTracking, CorrectTrackingInput{Actor: supA, Kind: "sample", Carrier: "dhl", TrackingNumber: "TRK1"})
	h.update(8*time.Hour+m, "correct", UpdateCorrectTracking, CorrectTrackingInput{Actor: supA, Kind: "goods", Carrier: "dhl", TrackingNumber: "TRK1"})
	h.check(11*time.Hour, func(st DealState) {
		if st.Stage != StageInspection || st.Shipment.TrackingNumber != "TRK1" || st.Shipment.Tracker != 2 {
			t.Errorf("after the correction: stage %s shipment %+v", st.Stage, st.Shipment)
		}
	})
	h.update(12*time.Hour, "accept", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	st := h.run(dealInput())
	h.ok("pay balance", "ship", "correct", "accept")
	h.rejected("correct as buyer", RejectNotAllowed)
	h.rejected("correct the sample", RejectWrongStage)
	if !h.hasEvent("tracking_corrected") || st.Stage != StageCompleted {
		t.Fatalf("stage %s", st.Stage)
	}
}

// A payment attempt marked failed that succeeds after all, and a payment the
// deal never started, are both refunded in full: the supplier is paid for
// one deposit and one balance only.
func TestExcessPaymentsAreRefundedNotPaidOut(t *testing.T) {
	h := newHarness(t)
	h.mem.ChargesPending(true)
	h.toDeposit()
	h.update(time.Hour, "pay 1", UpdatePay, PayInput{Actor: buyer, Step: "deposit"})
	h.signal(time.Hour+m, SignalPaymentFailed, PaymentFailed{ProviderPaymentID: "pay_1", Reason: "3-D Secure timed out"})
	h.update(time.Hour+2*m, "pay 2", UpdatePay, PayInput{Actor: buyer, Step: "deposit"})
	h.signal(time.Hour+3*m, SignalPaymentConfirmed, PaymentConfirmed{ProviderPaymentID: "pay_2", Amount: 300_000, Currency: "USD"})
	h.signal(time.Hour+4*m, SignalPaymentConfirmed, PaymentConfirmed{ProviderPaymentID: "pay_1", Amount: 300_000, Currency: "USD"})
	h.signal(time.Hour+5*m, SignalPaymentConfirmed, PaymentConfirmed{ProviderPaymentID: "pi_stray", Amount: 1_234, Currency: "USD"})
	h.signal(time.Hour+6*m, SignalPaymentConfirmed, PaymentConfirmed{ProviderPaymentID: "pi_stray", Amount: 1_234, Currency: "USD"})
	h.update(2*time.Hour, "ready", UpdateMarkReady, ActorInput{Actor: supA})
	h.update(3*time.Hour, "pay balance", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.signal(3*time.Hour+m, SignalPaymentConfirmed, PaymentConfirmed{ProviderPaymentID: "pay_3", Amount: 700_000, Currency: "USD"})
	h.mem.Script("TRK1", activities.TrackDelivered)
	h.update(4*time.Hour, "ship", UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "TRK1"})
	h.update(6*time.Hour, "accept", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	in := dealInput()
	in.Policy.PaymentReconcile = 60 * day
	st := h.run(in)
	h.ok("pay 1", "pay 2", "ready", "pay balance", "ship", "accept")
	if st.Stage != StageCompleted {
		t.Fatalf("stage %s", st.Stage)
	}
	if want := (Escrow{Released: 1_000_000, Commission: 20_000, Refunded: 301_234}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
	rf := h.mem.Refunds()
	if rf["deal-d1/deposit-1/refund"].Amount != 300_000 || rf["deal-d1/unknown-pi_stray/refund"].Amount != 1_234 || len(rf) != 2 {
		t.Fatalf("refunds %+v", rf)
	}
	// The buyer paid 1,301,234 and got 301,234 back; escrow is empty.
	h.balances(0, 980_000, 20_000, -1_000_000, "sup-a")
}

// A deal opens at the time the API took it when the clocks agree, so the
// API can answer a create with Opening's state; a time too far from the
// workflow's clock is not taken, and the deal opens when it first runs.
func TestDealOpensAtTheTimeTheAPITookIt(t *testing.T) {
	for name, c := range map[string]struct {
		offset time.Duration
		taken  bool
	}{
		"30 s before":               {-30 * time.Second, true},
		"20 s after, clock ahead":   {20 * time.Second, true},
		"2 h before, started late":  {-2 * time.Hour, false},
		"5 min after, clock ahead":  {5 * time.Minute, false},
		"unset, an older API":       {0, false},
		"a minute before, the edge": {-OpeningSkew, true},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			in := dealInput()
			in.Dispatch = "ranked by tier"
			if c.offset != 0 {
				in.OpenedAt = h.start.Add(c.offset)
			}
			var first DealState
			h.check(time.Second, func(st DealState) { first = st })
			h.env.ExecuteWorkflow(Deal, in)
			at := h.start
			if c.taken {
				at = in.OpenedAt
			}
			want := Opening(in, at)
			if got, want := mustJSON(t, first), mustJSON(t, want); got != want {
				t.Fatalf("the deal's first state\n%s\nis not Opening's\n%s", got, want)
			}
			if !first.Timeline[0].At.Equal(at) || !first.Deadlines[DeadlineInquiryExpires].Equal(at.Add(DefaultPolicy().InquiryExpiry)) ||
				!first.Invitations[0].DueAt.Equal(at.Add(DefaultPolicy().QuoteSLA)) {
				t.Fatalf("opened at %s: timeline %v, deadlines %v, invitations %v", at, first.Timeline, first.Deadlines, first.Invitations)
			}
		})
	}
}

// A deal settles only in a currency the platform supports: the workflow
// applies the API's rule (money.KnownCurrency), not a looser one of its
// own, so a deal started past the API cannot hold an amount in "XYZ".
func TestADealStartsOnlyInASupportedCurrency(t *testing.T) {
	for _, c := range []string{"XYZ", "usd", "US", "USDT", ""} {
		in := dealInput()
		in.Inquiry.Currency = c
		if err := ValidateDealInput(in); RejectionCode(err) != RejectInvalid {
			t.Errorf("currency %q: %v, want refused as invalid", c, err)
		}
	}
	for _, c := range []string{"USD", "EUR", "JPY"} {
		in := dealInput()
		in.Inquiry.Currency = c
		if err := ValidateDealInput(in); err != nil {
			t.Errorf("currency %q refused: %v", c, err)
		}
	}
}

// A dispute that reaches mediation goes to one mediator, the least busy:
// another mediator can neither take nor decide it; an admin reassigns it,
// and then only the new mediator's decision counts.
func TestADisputeInMediationIsAssignedToOneMediator(t *testing.T) {
	h := newHarness(t)
	h.mem.SetMediators(med.UserID, "u-med2")
	med2 := Actor{UserID: "u-med2", OrgID: "mediation", Role: RoleMediator}
	admin := Actor{UserID: "u-admin", OrgID: "platform", Role: RoleAdmin}
	h.toInspection()
	h.update(7*time.Hour, "dispute", UpdateOpenDispute, DisputeInput{Actor: buyer, Reason: "short shipment"})
	h.update(9*time.Hour, "escalate", UpdateEscalateDispute, ActorInput{Actor: buyer})
	h.check(9*time.Hour+m, func(st DealState) {
		if st.Stage != StageMediation || st.Dispute.MediatorID != med.UserID {
			t.Errorf("after escalation: stage %s, assigned to %q", st.Stage, st.Dispute.MediatorID)
		}
	})
	h.update(9*time.Hour+2*m, "take another's", UpdateAssignMediator, AssignMediatorInput{Actor: med2, MediatorID: med2.UserID})
	h.update(9*time.Hour+3*m, "assign by a buyer", UpdateAssignMediator, AssignMediatorInput{Actor: buyer, MediatorID: buyer.UserID})
	h.update(9*time.Hour+4*m, "assign hostile", UpdateAssignMediator, AssignMediatorInput{Actor: admin, MediatorID: strings.Repeat("u", 41)})
	h.signal(10*time.Hour, SignalMediatorDecision, MediatorDecision{Actor: med2, Outcome: OutcomeRelease})
	h.update(11*time.Hour, "reassign", UpdateAssignMediator, AssignMediatorInput{Actor: admin, MediatorID: med2.UserID})
	h.signal(12*time.Hour, SignalMediatorDecision, MediatorDecision{Actor: med, Outcome: OutcomeRelease})
	h.signal(13*time.Hour, SignalMediatorDecision, MediatorDecision{Actor: med2, Outcome: OutcomeRefund})
	st := h.run(dealInput())
	h.ok("dispute", "escalate", "reassign")
	h.rejected("take another's", RejectNotAllowed)
	h.rejected("assign by a buyer", RejectNotAllowed)
	h.rejected("assign hostile", RejectInvalid)
	if st.Stage != StageResolved || st.Dispute.Decision == nil || st.Dispute.Decision.MediatorID != med2.UserID || st.Dispute.Decision.Outcome != OutcomeRefund {
		t.Fatalf("stage %s dispute %+v", st.Stage, st.Dispute)
	}
	assigned, ignored := 0, 0
	for _, e := range st.Timeline {
		switch e.Type {
		case EventMediatorAssigned:
			assigned++
		case EventDecisionIgnored:
			ignored++
		}
	}
	if assigned != 2 || ignored != 2 {
		t.Fatalf("%d assignments (want the choice and the admin's), %d decisions ignored (want both of the mediator not assigned)", assigned, ignored)
	}
	if want := (Escrow{Refunded: 1_000_000}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
}

// A deal that reaches mediation when no mediator can be chosen (here a
// buyer who never paid its balance, on a platform without mediators) is
// assigned to no one: the first mediator to take it has it, and the
// others may then neither take it nor decide it.
func TestADisputeNoMediatorWasChosenForIsTakenByOne(t *testing.T) {
	h := newHarness(t)
	med2 := Actor{UserID: "u-med2", OrgID: "mediation", Role: RoleMediator}
	h.toBalance()
	due := 3*time.Hour + 3*day
	h.check(due+time.Hour, func(st DealState) {
		if st.Stage != StageMediation || st.Dispute.MediatorID != "" {
			t.Errorf("after the default: stage %s, assigned to %q", st.Stage, st.Dispute.MediatorID)
		}
	})
	h.update(due+time.Hour+m, "take", UpdateAssignMediator, AssignMediatorInput{Actor: med2, MediatorID: med2.UserID})
	h.update(due+time.Hour+2*m, "take too", UpdateAssignMediator, AssignMediatorInput{Actor: med, MediatorID: med.UserID})
	h.update(due+time.Hour+3*m, "take for another", UpdateAssignMediator, AssignMediatorInput{Actor: med, MediatorID: "u-med3"})
	h.signal(due+2*time.Hour, SignalMediatorDecision, MediatorDecision{Actor: med, Outcome: OutcomeRelease})
	h.signal(due+3*time.Hour, SignalMediatorDecision, MediatorDecision{Actor: med2, Outcome: OutcomeRefund})
	st := h.run(dealInput())
	h.ok("take")
	h.rejected("take too", RejectNotAllowed)
	h.rejected("take for another", RejectNotAllowed)
	if !h.hasEvent(EventMediatorUnchosen) || st.Stage != StageResolved || st.Dispute.Decision.MediatorID != med2.UserID {
		t.Fatalf("stage %s dispute %+v", st.Stage, st.Dispute)
	}
	if want := (Escrow{Refunded: 300_000}); st.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", st.Escrow, want)
	}
}

// A trial order: on a first deal with the buyer a supplier may quote the
// inquiry's 1,000 units below its MOQ, down to half of it; the quote and
// the contract say it is a trial. Another supplier, with earlier deals
// with the buyer, may not; too small a share, or a "trial" at or above
// the MOQ, is refused.
func TestATrialOrderBelowTheMOQOnAFirstDeal(t *testing.T) {
	h := newHarness(t)
	in := dealInput()
	in.Policy.InitialInvites = 2
	in.Suppliers[0].FirstDeal = true
	trial := func(a Actor, moq int64) QuoteInput {
		q := h.quote(a)
		q.MOQ, q.Trial = moq, true
		return q
	}
	h.update(5*m, "trial not first", UpdateSubmitQuote, trial(supB, 2_000))
	h.update(6*m, "trial too small", UpdateSubmitQuote, trial(supA, 2_001))
	h.update(7*m, "trial at the MOQ", UpdateSubmitQuote, trial(supA, 1_000))
	plain := h.quote(supA)
	plain.MOQ = 2_000
	h.update(8*m, "over the MOQ without trial", UpdateSubmitQuote, plain)
	h.update(10*m, "trial", UpdateSubmitQuote, trial(supA, 2_000))
	h.update(20*m, "accept", UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q1"})
	st := h.run(in)
	h.ok("trial", "accept")
	h.rejected("trial not first", RejectNotAllowed)
	h.rejected("trial too small", RejectInvalid)
	h.rejected("trial at the MOQ", RejectInvalid)
	h.rejected("over the MOQ without trial", RejectInvalid)
	if len(st.Quotes) != 1 || !st.Quotes[0].Trial || st.Quotes[0].MOQ != 2_000 || st.Total != 1_000_000 {
		t.Fatalf("quotes %+v, total %d", st.Quotes, st.Total)
	}
	if st.Contract == nil || st.Contract.Terms.TrialBelowMOQ != 2_000 ||
		!strings.Contains(st.Contract.Text, "Trial order: 1000 pcs, below the supplier's minimum order of 2000, for the parties' first deal") {
		t.Fatalf("contract %+v", st.Contract)
	}
}
