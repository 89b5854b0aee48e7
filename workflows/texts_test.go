package workflows

import (
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// said is a notification's text as an English reader in UTC reads it.
func said(n activities.Notification) string {
	if n.Facts == nil {
		return n.Text
	}
	return texts.Text(texts.Default, n.Kind, *n.Facts, n.Text)
}

// The timers' summaries say durations in English words.
func TestDurationsInWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		72 * time.Hour:                  "3 days",
		36 * time.Hour:                  "1 day 12 hours",
		150 * time.Minute:               "2 hours 30 minutes",
		time.Minute:                     "1 minute",
		5*24*time.Hour + 59*time.Second: "5 days",
		0:                               "no time",
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
		if said(ns[0]) != want {
			t.Errorf("%s notice %q, want %q", kind, said(ns[0]), want)
		}
	}
}

func TestAQuoteFromASupplierWithoutANameSaysItsID(t *testing.T) {
	h := newHarness(t)
	h.update(10*m, "quote", UpdateSubmitQuote, h.quote(supA))
	h.update(20*m, "cancel", UpdateCancel, ActorInput{Actor: buyer, Note: "changed plans"})
	h.run(dealInput())
	if ns := h.mem.Notifications("quote_submitted"); len(ns) != 1 || said(ns[0]) != "Quote q1 from sup-a: total USD 10,000.00." {
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

// Deals before dealCarriesFacts carry the English text they carried then,
// word for word (its length steers their rounds, so replays need it).
func TestLegacyTextsAreTheWordsDealsCarriedBefore(t *testing.T) {
	due := time.Date(2026, 3, 5, 9, 40, 0, 0, time.UTC)
	for _, c := range []struct {
		kind  string
		facts notice.Facts
		want  string
	}{
		{"invited_to_quote", notice.Facts{Quantity: 1000, Unit: "pcs", Product: "steel bolts M8", Within: 2 * time.Hour}, "New inquiry: 1000 pcs of steel bolts M8. Quote within 2 hours."},
		{"quote_submitted", notice.Facts{Ref: "q1", Supplier: "sup-a", Amount: 1000000, Currency: "USD"}, "Quote q1 from sup-a: total USD 10,000.00."},
		{"deposit_due", notice.Facts{Amount: 300000, Currency: "USD", Within: 72 * time.Hour}, "Pay the USD 3,000.00 deposit within 3 days."},
		{"deposit_due_soon", notice.Facts{Amount: 300000, Currency: "USD", Due: due, Left: 24 * time.Hour}, "Pay the USD 3,000.00 deposit in 1 day (2026-03-05 09:40 UTC), or the deal is cancelled."},
		{"balance_due_soon", notice.Facts{Amount: 700000, Currency: "USD", Due: due, Left: 2 * time.Hour}, "Pay the USD 7,000.00 balance in 2 hours (2026-03-05 09:40 UTC), or the deposit goes to mediation."},
		{"inquiry_redispatched", notice.Facts{Within: 2 * time.Hour, Count: 1}, "No supplier quoted within 2 hours: your inquiry went to 1 more supplier on the dispatch list."},
		{"inquiry_redispatched", notice.Facts{Within: 2 * time.Hour, Due: due}, "No supplier quoted within 2 hours, and no other supplier on the dispatch list is left: the inquiry stays open until it expires (2026-03-05 09:40 UTC)."},
		{"stage_changed", notice.Facts{Product: "steel bolts M8", Stage: string(StageInspection)}, "The deal for steel bolts M8 is now delivered, in inspection."},
		{"mediation_needed", notice.Facts{Case: "buyer_default", Deal: "d1"}, "Buyer default on deal d1: decide on the deposit."},
		{"deposit_secured", notice.Facts{Due: due}, "The deposit is in escrow: start production. Ready to ship by 2026-03-05."},
	} {
		if got := legacyText(c.kind, c.facts); got != c.want {
			t.Errorf("%s: %q, want %q", c.kind, got, c.want)
		}
	}
}
