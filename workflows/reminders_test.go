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
		if len(n) != 1 || !strings.Contains(n[0].Text, "due in 30 minutes") || !strings.Contains(n[0].Text, "11:00 UTC") || !strings.Contains(n[0].Text, "steel bolts M8") {
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
		if len(told) != 1 || !strings.Contains(told[0].Text, "1 more supplier") || !strings.Contains(told[0].Text, "2 hours") {
			t.Errorf("the buyer's notices: %+v", told)
		}
	})
	// supB, invited at 11:00, is due at 13:00: reminded at 12:30, once.
	h.check(211*m, func(DealState) {
		if n := notesTo(h, "quote_due_soon", supB.OrgID); len(n) != 1 || !strings.Contains(n[0].Text, "13:00 UTC") {
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
			if strings.Contains(n.Text, "no other supplier") && strings.Contains(n.Text, "2026-03-05 09:00 UTC") {
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
