package workflows

import (
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/activities"
)

func notesTo(h *harness, kind, org string) []activities.Notification {
	var out []activities.Notification
	for _, n := range h.mem.Notifications(kind) {
		if n.OrgID == org {
			out = append(out, n)
		}
	}
	return out
}

// An invited supplier that has not quoted is reminded 30 minutes before
// its quote is due, once; when it misses the deadline the next supplier
// is invited (and reminded in its turn) and the buyer, still without a
// quote, is told.
func TestAnInvitedSupplierIsRemindedHalfAnHourBeforeItsQuoteIsDue(t *testing.T) {
	h := newHarness(t)
	// supA is invited at 9:00 and due at 11:00.
	h.check(89*m, func(DealState) {
		if n := notesTo(h, "quote_due_soon", supA.OrgID); len(n) != 0 {
			t.Errorf("supA reminded 31 minutes before its quote is due: %v", n)
		}
	})
	h.check(91*m, func(st DealState) {
		n := notesTo(h, "quote_due_soon", supA.OrgID)
		if len(n) != 1 || !strings.Contains(said(n[0]), "due in 30 minutes") || !strings.Contains(said(n[0]), "11:00 UTC") || !strings.Contains(said(n[0]), "steel bolts M8") {
			t.Errorf("supA's reminders 29 minutes before: %+v", n)
		}
		if !st.Invitations[0].Reminded {
			t.Errorf("invitation not marked reminded: %+v", st.Invitations[0])
		}
		if len(notesTo(h, "inquiry_redispatched", buyer.OrgID)) != 0 {
			t.Error("the buyer was told of a re-dispatch before any deadline passed")
		}
	})
	h.check(121*m, func(st DealState) {
		if len(st.Invitations) != 2 || st.Invitations[0].Status != InvitationLate || st.Invitations[1].SupplierID != supB.OrgID {
			t.Fatalf("invitations after supA's deadline: %+v", st.Invitations)
		}
		told := notesTo(h, "inquiry_redispatched", buyer.OrgID)
		if len(told) != 1 || !strings.Contains(said(told[0]), "1 more supplier") || !strings.Contains(said(told[0]), "2 hours") {
			t.Errorf("the buyer's notices: %+v", told)
		}
	})
	// supB, invited at 11:00, is due at 13:00: reminded at 12:30, once.
	h.check(211*m, func(DealState) {
		if n := notesTo(h, "quote_due_soon", supB.OrgID); len(n) != 1 || !strings.Contains(said(n[0]), "13:00 UTC") {
			t.Errorf("supB's reminders: %+v", n)
		}
		if n := notesTo(h, "quote_due_soon", supA.OrgID); len(n) != 1 {
			t.Errorf("supA reminded %d times", len(n))
		}
	})
	// supB misses it too, and no supplier is left on the list.
	h.check(241*m, func(DealState) {
		told := notesTo(h, "inquiry_redispatched", buyer.OrgID)
		left := 0
		for _, n := range told {
			if strings.Contains(said(n), "no other supplier") && strings.Contains(said(n), "2026-03-05 09:00 UTC") {
				left++
			}
		}
		if len(told) != 2 || left != 1 {
			t.Errorf("the buyer's notices: %+v", told)
		}
	})
	h.update(250*m, "cancel", UpdateCancel, ActorInput{Actor: buyer, Note: "no quotes"})
	h.run(dealInput())
}

// A supplier that has quoted is not reminded, and a buyer that has a quote
// is not told when another invited supplier misses its deadline.
func TestASupplierThatQuotedIsNotReminded(t *testing.T) {
	h := newHarness(t)
	in := dealInput()
	in.Policy.InitialInvites = 2
	h.update(10*m, "quote", UpdateSubmitQuote, h.quote(supA))
	h.check(125*m, func(st DealState) {
		if n := notesTo(h, "quote_due_soon", supA.OrgID); len(n) != 0 {
			t.Errorf("supA reminded after it quoted: %+v", n)
		}
		if n := notesTo(h, "quote_due_soon", supB.OrgID); len(n) != 1 {
			t.Errorf("supB, which did not quote, reminded %d times", len(n))
		}
		if st.Invitations[1].Status != InvitationLate {
			t.Errorf("supB's invitation %+v", st.Invitations[1])
		}
		if n := notesTo(h, "inquiry_redispatched", buyer.OrgID); len(n) != 0 {
			t.Errorf("the buyer, who has a quote, was told: %+v", n)
		}
	})
	h.update(130*m, "cancel", UpdateCancel, ActorInput{Actor: buyer, Note: "enough"})
	h.run(in)
	h.ok("quote")
}

// Reminders are on the deal's own clock: a scaled policy reminds as much
// earlier as it is shorter.
func TestTheReminderScalesWithThePolicy(t *testing.T) {
	p := DefaultPolicy().Scaled(0.01)
	if p.QuoteReminder != 18*time.Second || p.QuoteSLA != 72*time.Second {
		t.Fatalf("scaled policy: reminder %v, SLA %v", p.QuoteReminder, p.QuoteSLA)
	}
}

// The buyer is counted down to the deposit: reminded 24 hours and 2 hours
// before it is due, each once, and not at all once it has paid.
func TestTheBuyerIsCountedDownToTheDeposit(t *testing.T) {
	h := newHarness(t)
	h.toDeposit() // both signed at 40 minutes: the deposit is due 3 days later
	due := 40*m + 72*time.Hour
	h.check(due-24*time.Hour-time.Minute, func(DealState) {
		if n := notesTo(h, "deposit_due_soon", buyer.OrgID); len(n) != 0 {
			t.Errorf("reminded a day and a minute before: %+v", n)
		}
	})
	h.check(due-24*time.Hour+time.Minute, func(DealState) {
		n := notesTo(h, "deposit_due_soon", buyer.OrgID)
		if len(n) != 1 || !strings.Contains(said(n[0]), "in 1 day") || !strings.Contains(said(n[0]), "USD 3,000.00") || !strings.Contains(said(n[0]), "2026-03-05 09:40 UTC") {
			t.Errorf("a day before: %+v", n)
		}
	})
	h.check(due-2*time.Hour+time.Minute, func(DealState) {
		n := notesTo(h, "deposit_due_soon", buyer.OrgID)
		if len(n) != 2 || !strings.Contains(said(n[0])+said(n[1]), "in 2 hours") {
			t.Errorf("two hours before: %+v", n)
		}
		if n := notesTo(h, "deposit_due_soon", supA.OrgID); len(n) != 0 {
			t.Errorf("the supplier was told to pay: %+v", n)
		}
	})
	st := h.run(dealInput())
	if st.Stage != StageCancelled {
		t.Fatalf("stage %s after the deposit window", st.Stage)
	}
	if n := notesTo(h, "deposit_due_soon", buyer.OrgID); len(n) != 2 {
		t.Fatalf("%d deposit reminders in all, want 2", len(n))
	}
}

// A deposit paid in time is not reminded of; the balance is, in its turn.
func TestAPaidDepositIsNotRemindedOf(t *testing.T) {
	h := newHarness(t)
	h.toBalance() // deposit paid at 60 minutes, goods ready at 3 hours
	due := 3*time.Hour + 72*time.Hour
	h.check(due-2*time.Hour+time.Minute, func(DealState) {
		if n := notesTo(h, "deposit_due_soon", buyer.OrgID); len(n) != 0 {
			t.Errorf("reminded of a paid deposit: %+v", n)
		}
		if n := notesTo(h, "balance_due_soon", buyer.OrgID); len(n) != 2 || !strings.Contains(said(n[0])+said(n[1]), "USD 7,000.00") {
			t.Errorf("balance reminders: %+v", n)
		}
	})
	h.update(due-time.Hour, "pay balance", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.mem.Script("TRK1", activities.TrackInTransit, activities.TrackDelivered)
	h.update(due, "ship", UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "TRK1"})
	h.update(due+7*time.Hour, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	h.run(dealInput())
	h.ok("pay deposit", "pay balance", "ship", "accept goods")
	if n := notesTo(h, "balance_due_soon", buyer.OrgID); len(n) != 2 {
		t.Fatalf("%d balance reminders in all", len(n))
	}
}

// Only the party that has not signed is reminded to sign.
func TestOnlyThePartyThatHasNotSignedIsReminded(t *testing.T) {
	h := newHarness(t)
	h.toContract() // the contract is ready at 20 minutes, to sign within 5 days
	h.sign(30*m, "sign buyer", buyer)
	h.check(20*m+5*24*time.Hour-2*time.Hour+time.Minute, func(DealState) {
		if n := notesTo(h, "contract_sign_soon", supA.OrgID); len(n) != 2 {
			t.Errorf("the supplier's signing reminders: %+v", n)
		}
		if n := notesTo(h, "contract_sign_soon", buyer.OrgID); len(n) != 0 {
			t.Errorf("the buyer, who signed, reminded: %+v", n)
		}
	})
	h.run(dealInput())
	h.ok("sign buyer")
}

// The supplier is reminded to answer a dispute before it goes to a
// mediator, and not once it has answered.
func TestTheSupplierIsRemindedToAnswerADispute(t *testing.T) {
	h := newHarness(t)
	h.toInspection()
	h.update(7*time.Hour, "dispute", UpdateOpenDispute, DisputeInput{Actor: buyer, Reason: "short shipment"})
	due := 7*time.Hour + 72*time.Hour
	h.check(due-2*time.Hour+time.Minute, func(st DealState) {
		n := notesTo(h, "dispute_answer_soon", supA.OrgID)
		if len(n) != 2 || !strings.Contains(said(n[0])+said(n[1]), "in 1 day") {
			t.Errorf("the supplier's dispute reminders: %+v", n)
		}
		if n := notesTo(h, "dispute_answer_soon", buyer.OrgID); len(n) != 0 {
			t.Errorf("the buyer, who opened it, reminded: %+v", n)
		}
	})
	h.update(due-time.Hour, "answer", UpdateAnswerDispute, ActorInput{Actor: supA, Note: "all units were shipped"})
	h.update(due, "escalate", UpdateEscalateDispute, ActorInput{Actor: buyer})
	h.signal(due+time.Hour, SignalMediatorDecision, MediatorDecision{Actor: med, Outcome: OutcomeRelease, Note: "shipped in full"})
	h.run(dealInput())
	h.ok("dispute", "answer", "escalate")
	if n := notesTo(h, "dispute_answer_soon", supA.OrgID); len(n) != 2 {
		t.Fatalf("%d dispute reminders in all", len(n))
	}
}

// Every stage change reaches both parties: by the change's own
// notification, or else by a stage_changed one.
func TestEveryStageChangeReachesBothParties(t *testing.T) {
	h := newHarness(t)
	h.toInspection()
	h.update(7*m*60, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	h.run(dealInput())
	h.ok("pay deposit", "pay balance", "ship", "accept goods")
	told := func(org, words string) int {
		n := 0
		for _, note := range notesTo(h, "stage_changed", org) {
			if strings.Contains(said(note), words) {
				n++
			}
		}
		return n
	}
	// The deposit due goes to the buyer; the supplier is told the stage.
	if told(supA.OrgID, "waiting for the deposit") != 1 || told(buyer.OrgID, "waiting for the deposit") != 0 {
		t.Errorf("deposit stage: supplier %v, buyer %v", notesTo(h, "stage_changed", supA.OrgID), notesTo(h, "stage_changed", buyer.OrgID))
	}
	// contract_ready reaches both: no stage_changed for the contract.
	if told(supA.OrgID, "contract") != 0 || told(buyer.OrgID, "contract") != 0 {
		t.Error("a stage_changed for the contract, which contract_ready already told")
	}
	// Nothing else tells of the end: both parties are told, once.
	if told(supA.OrgID, "completed") != 1 || told(buyer.OrgID, "completed") != 1 {
		t.Errorf("completion: supplier %v, buyer %v", notesTo(h, "stage_changed", supA.OrgID), notesTo(h, "stage_changed", buyer.OrgID))
	}
	for _, note := range notesTo(h, "stage_changed", supB.OrgID) {
		t.Errorf("supB, never awarded, told %q", said(note))
	}
}
