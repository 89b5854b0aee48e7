package workflows

import (
	"testing"
	"time"
)

func TestDurationsInWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		72 * time.Hour:                  "3 days",
		36 * time.Hour:                  "1 day 12 hours",
		2 * time.Hour:                   "2 hours",
		150 * time.Minute:               "2 hours 30 minutes",
		time.Minute:                     "1 minute",
		90 * time.Second:                "1 minute 30 seconds",
		250 * time.Millisecond:          "250 milliseconds",
		5*24*time.Hour + 59*time.Second: "5 days",
		0:                               "no time",
		-time.Hour:                      "no time",
	} {
		if got := inWords(d); got != want {
			t.Errorf("inWords(%s) = %q, want %q", d, got, want)
		}
	}
}

// The notices say amounts in their currency, windows in words and
// suppliers by name, not minor units, Go's duration syntax and IDs
// ("234000 USD", "72h0m0s", "sup-a"); a deal whose dispatch list has no
// names (started before they were carried) says the ID.
func TestNoticesSayMoneyAndTimeAsPeopleWriteThem(t *testing.T) {
	h := newHarness(t)
	h.toInspection()
	h.update(7*time.Hour, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	in := dealInput()
	in.Suppliers[0].Name = "Ningbo Fasteners Co."
	h.run(in)
	for kind, want := range map[string]string{
		"invited_to_quote": "New inquiry: 1000 pcs of steel bolts M8. Quote within 2 hours.",
		"quote_submitted":  "Quote q1 from Ningbo Fasteners Co.: total USD 10,000.00.",
		"deposit_due":      "Pay the USD 3,000.00 deposit within 3 days.",
		"balance_due":      "The goods are ready: pay the USD 7,000.00 balance within 3 days.",
	} {
		ns := h.mem.Notifications(kind)
		if len(ns) == 0 {
			t.Errorf("no %s notice", kind)
			continue
		}
		if ns[0].Text != want {
			t.Errorf("%s notice %q, want %q", kind, ns[0].Text, want)
		}
	}
}

func TestAQuoteFromASupplierWithoutANameSaysItsID(t *testing.T) {
	h := newHarness(t)
	h.update(10*m, "quote", UpdateSubmitQuote, h.quote(supA))
	h.update(20*m, "cancel", UpdateCancel, ActorInput{Actor: buyer, Note: "changed plans"})
	h.run(dealInput())
	if ns := h.mem.Notifications("quote_submitted"); len(ns) != 1 || ns[0].Text != "Quote q1 from sup-a: total USD 10,000.00." {
		t.Fatalf("%+v", ns)
	}
}

func TestTimerSummariesNameDeadlinesAndReminders(t *testing.T) {
	for name, want := range map[string]string{
		DeadlineDepositDue: "deposit due",
		reminderPrefix + DeadlineContractSignBy + "@1796592768858/24h0m0s": "remind: contract sign-by in 1 day",
		reminderPrefix + DeadlineBalanceDue + "@1/2h0m0s":                  "remind: balance due in 2 hours",
		deadlineQuoteReminder: "quote reminder",
	} {
		if got := deadlineSummary(name); got != want {
			t.Errorf("%q: %q, want %q", name, got, want)
		}
	}
}
