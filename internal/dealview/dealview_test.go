package dealview

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/workflows"
)

var t0 = time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)

// Every private figure and text of the fixture is unique, so a view leaks
// it exactly when its JSON contains it.
const (
	priceA, priceB          = 1_111_111, 2_222_222 // unit prices of A's and B's quotes
	noteA, noteB            = "NOTE-OF-A", "NOTE-OF-B"
	counterA, counterB      = 3_333_333, 4_444_444 // target prices of the counter-offers
	messageA, messageB      = "MSG-TO-A", "MSG-TO-B"
	contractText            = "CONTRACT-TEXT"
	progressNote            = "PROGRESS-NOTE"
	disputeReason           = "DISPUTE-REASON"
	evidence                = "EVIDENCE-REF"
	decisionNote            = "DECISION-NOTE"
	buyer, supA, supB, supC = "buyer-org", "sup-a", "sup-b", "sup-c"
)

// deal is an inquiry sent to A, B and C: A and B quoted, C never did, the
// buyer countered both and awarded A; then production, a dispute and, if
// decided, a mediator's decision.
func deal(stage workflows.Stage, decidedBy string) workflows.DealState {
	st := workflows.DealState{
		DealID: "d1", Stage: stage, Currency: "USD", SupplierID: supA, Total: 10 * priceA,
		Inquiry: workflows.Inquiry{BuyerOrgID: buyer, Product: "valves", Quantity: 10, Currency: "USD"},
		Invitations: []workflows.Invitation{
			{SupplierID: supA, Status: workflows.InvitationAwarded}, {SupplierID: supB, Status: workflows.InvitationClosed},
			{SupplierID: supC, Status: workflows.InvitationClosed},
		},
		Quotes: []workflows.Quote{
			{ID: "q1", SupplierID: supA, UnitPrice: priceA, Note: noteA, Status: workflows.QuoteAccepted},
			{ID: "q2", SupplierID: supB, UnitPrice: priceB, Note: noteB, Status: workflows.QuoteClosed},
		},
		CounterOffers: []workflows.CounterOffer{
			{SupplierID: supA, TargetUnitPrice: counterA, Message: messageA}, {SupplierID: supB, TargetUnitPrice: counterB, Message: messageB},
		},
		Contract:   &workflows.Contract{Text: contractText, TermsSHA256: "abc"},
		Payments:   []workflows.Payment{{ID: "deposit-1", Kind: workflows.PaymentCharge, Amount: 3 * priceA, Status: workflows.PaymentSucceeded}},
		Escrow:     workflows.Escrow{Held: 3 * priceA},
		Production: &workflows.Production{Progress: []workflows.ProgressReport{{Percent: 50, Note: progressNote}}},
		Dispute:    &workflows.Dispute{OpenedBy: buyer, Reason: disputeReason, Evidence: []string{evidence}, Status: workflows.DisputeMediation},
		Deadlines:  map[string]time.Time{"inquiry_expires_at": t0.Add(time.Hour)},
	}
	if decidedBy != "" {
		st.Dispute.Decision = &workflows.Decision{MediatorID: decidedBy, Outcome: workflows.OutcomeRefund, Note: decisionNote}
	}
	ev := func(typ workflows.EventType, actor, about, detail string) workflows.Event {
		return workflows.Event{At: t0, Type: typ, Actor: actor, About: about, Detail: detail}
	}
	st.Timeline = []workflows.Event{
		ev("inquiry_created", buyer, "", "10 of valves"),
		ev("suppliers_ranked", "", "", "sup-a, sup-b, sup-c"),
		ev("supplier_invited", supA, "", ""), ev("supplier_invited", supB, "", ""), ev("supplier_invited", supC, "", ""),
		ev("quote_submitted", supA, "", "q1: 1111111"), ev("quote_submitted", supB, "", "q2: 2222222"),
		ev("counter_offer", buyer, supA, "to sup-a: 3333333"), ev("counter_offer", buyer, supB, "to sup-b: 4444444"),
		ev("quote_accepted", buyer, supA, "q1 from sup-a: 11111110"),
		ev("invitation_closed", supB, "", ""), ev("invitation_closed", supC, "", ""),
		ev("stage_changed", "", "", "QUOTING → CONTRACT"),
		ev("production_progress", supA, "", "50%: "+progressNote),
		ev("dispute_opened", buyer, "", disputeReason),
		ev("provider_charge.dispute.created", "", "", "dp_1 pi_1"),
	}
	return st
}

func viewJSON(t *testing.T, st workflows.DealState, v Viewer) (string, bool) {
	t.Helper()
	view, ok := Of(st, v)
	raw, err := json.Marshal(view)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw), ok
}

// Each viewer of the fixture: whether it sees the deal, what it must see,
// and what must never reach it.
func TestEachViewerSeesItsOwnBusiness(t *testing.T) {
	secretsOfB := []string{"2222222", noteB, "4444444", messageB, `"q2"`}
	awardTerms := []string{"1111111", noteA, "3333333", messageA, contractText, progressNote, disputeReason, evidence}
	cases := []struct {
		name    string
		st      workflows.DealState
		v       Viewer
		visible bool
		has     []string
		hasNot  []string
	}{
		{"buyer", deal(workflows.StageMediation, ""), Viewer{Role: workflows.RoleBuyer, OrgID: buyer}, true,
			append(append([]string{}, awardTerms...), secretsOfB...), nil},
		{"another buyer", deal(workflows.StageMediation, ""), Viewer{Role: workflows.RoleBuyer, OrgID: "other"}, false, nil, nil},
		{"awarded supplier", deal(workflows.StageMediation, ""), Viewer{Role: workflows.RoleSupplier, OrgID: supA}, true,
			awardTerms, append(append([]string{}, secretsOfB...), supC)},
		{"supplier that lost", deal(workflows.StageMediation, ""), Viewer{Role: workflows.RoleSupplier, OrgID: supB}, true,
			[]string{noteB, "2222222", "4444444", messageB, `"stage":"CLOSED"`},
			append([]string{"1111111", noteA, "3333333", messageA, contractText, progressNote, disputeReason, evidence, "deposit-1", "sup-c", "ranked"}, `"supplier_id":"sup-a"`)},
		{"supplier that never quoted", deal(workflows.StageMediation, ""), Viewer{Role: workflows.RoleSupplier, OrgID: supC}, true,
			[]string{`"stage":"CLOSED"`, "valves"},
			append(append([]string{}, awardTerms...), append(secretsOfB, "sup-a", "sup-b")...)},
		{"supplier not invited", deal(workflows.StageMediation, ""), Viewer{Role: workflows.RoleSupplier, OrgID: "sup-d"}, false, nil, nil},
		{"mediator, in mediation", deal(workflows.StageMediation, ""), Viewer{Role: workflows.RoleMediator, UserID: "m1"}, true,
			awardTerms, secretsOfB},
		{"mediator the dispute is assigned to", assigned(deal(workflows.StageMediation, ""), "m1"), Viewer{Role: workflows.RoleMediator, UserID: "m1"}, true,
			awardTerms, secretsOfB},
		{"another mediator than the one assigned", assigned(deal(workflows.StageMediation, ""), "m1"), Viewer{Role: workflows.RoleMediator, UserID: "m2"}, false, nil, nil},
		{"mediator, before escalation", deal(workflows.StageDispute, ""), Viewer{Role: workflows.RoleMediator, UserID: "m1"}, false, nil, nil},
		{"mediator who decided", deal(workflows.StageResolved, "m1"), Viewer{Role: workflows.RoleMediator, UserID: "m1"}, true,
			[]string{decisionNote}, secretsOfB},
		{"another mediator, after the decision", deal(workflows.StageResolved, "m1"), Viewer{Role: workflows.RoleMediator, UserID: "m2"}, false, nil, nil},
		{"finance", deal(workflows.StageResolved, "m1"), Viewer{Role: workflows.RoleFinance}, true,
			[]string{"1111111", "2222222", "deposit-1", "q1 from sup-a: 11111110", "dp_1 pi_1"},
			[]string{noteA, noteB, messageA, messageB, contractText, progressNote, disputeReason, evidence, decisionNote}},
		{"admin", deal(workflows.StageResolved, ""), Viewer{Role: workflows.RoleAdmin}, false, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := viewJSON(t, c.st, c.v)
			if ok != c.visible {
				t.Fatalf("visible = %v, want %v", ok, c.visible)
			}
			if !ok {
				if got != string(mustJSON(t, workflows.DealState{})) {
					t.Fatalf("an invisible deal's view is not empty: %s", got)
				}
				return
			}
			for _, s := range c.has {
				if !strings.Contains(got, s) {
					t.Errorf("the view lacks %q", s)
				}
			}
			for _, s := range c.hasNot {
				if strings.Contains(got, s) {
					t.Errorf("the view shows %q", s)
				}
			}
		})
	}
}

// Before an award every invited supplier sees the inquiry and its own part
// only, with the inquiry's real stage; the buyer's counter-offer to one is
// nobody else's.
func TestInvitedSuppliersBeforeTheAward(t *testing.T) {
	st := deal(workflows.StageQuoting, "")
	st.SupplierID, st.Contract, st.Payments, st.Production, st.Dispute, st.Escrow = "", nil, nil, nil, nil, workflows.Escrow{}
	st.Timeline = st.Timeline[:9] // up to the counter-offers
	st.Quotes[0].Status = workflows.QuoteOpen
	for _, c := range []struct {
		org         string
		mine, never []string
	}{
		{supA, []string{"1111111", noteA, "3333333", messageA}, []string{"2222222", noteB, "4444444", messageB, "sup-b", "sup-c"}},
		{supB, []string{"2222222", noteB, "4444444", messageB}, []string{"1111111", noteA, "3333333", messageA, "sup-a", "sup-c"}},
		{supC, []string{"valves", "inquiry_expires_at"}, []string{"1111111", "2222222", "3333333", "4444444", "sup-a", "sup-b"}},
	} {
		got, ok := viewJSON(t, st, Viewer{Role: workflows.RoleSupplier, OrgID: c.org})
		if !ok || !strings.Contains(got, `"stage":"QUOTING"`) {
			t.Fatalf("%s: visible %v, view %s; want the inquiry in QUOTING", c.org, ok, got)
		}
		for _, s := range c.mine {
			if !strings.Contains(got, s) {
				t.Errorf("%s does not see %q", c.org, s)
			}
		}
		for _, s := range c.never {
			if strings.Contains(got, s) {
				t.Errorf("%s sees %q", c.org, s)
			}
		}
	}
}

// The awarded supplier's timeline keeps its own entries and, from the
// award on, the deal's; never another supplier's.
func TestAwardedSuppliersTimeline(t *testing.T) {
	v, _ := Of(deal(workflows.StageMediation, ""), Viewer{Role: workflows.RoleSupplier, OrgID: supA})
	var types []string
	for _, e := range v.Timeline {
		types = append(types, string(e.Type)+"/"+e.Actor)
	}
	want := "inquiry_created/buyer-org supplier_invited/sup-a quote_submitted/sup-a counter_offer/buyer-org quote_accepted/buyer-org " +
		"stage_changed/ production_progress/sup-a dispute_opened/buyer-org provider_charge.dispute.created/"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("timeline\n got %s\nwant %s", got, want)
	}
}

// A list line of a deal awarded to someone else says only that it closed.
func TestListLinesOfDealsAwardedElsewhere(t *testing.T) {
	line := readmodel.Summary{ID: "d1", Stage: "PRODUCTION", BuyerOrgID: buyer, SupplierOrgID: supA, Product: "valves", Total: 10 * priceA, Currency: "USD"}
	if got := Summary(line, Viewer{Role: workflows.RoleSupplier, OrgID: supB}); got.Stage != "CLOSED" || got.Total != 0 || got.SupplierOrgID != "" {
		t.Fatalf("the losing supplier's line %+v, want CLOSED without total or winner", got)
	}
	for _, v := range []Viewer{{Role: workflows.RoleSupplier, OrgID: supA}, {Role: workflows.RoleBuyer, OrgID: buyer}} {
		if got := Summary(line, v); got != line {
			t.Fatalf("%s's line %+v, want it whole", v.OrgID, got)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// assigned is st with its dispute assigned to the mediator id.
func assigned(st workflows.DealState, id string) workflows.DealState {
	d := *st.Dispute
	d.MediatorID = id
	st.Dispute = &d
	return st
}
