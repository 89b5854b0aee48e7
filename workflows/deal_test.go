package workflows

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
)

func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(Deal, workflowRegisterOptions())
	return env
}

func input(suppliers ...string) DealInput {
	return DealInput{
		DealID: "d1",
		Inquiry: Inquiry{
			BuyerOrgID: "buyer-1", Product: "steel bolts", Quantity: 1000, Unit: "pcs", Currency: "USD",
		},
		Suppliers: suppliers,
		Policy:    Policy{QuoteSLA: 2 * time.Hour, InquiryExpiry: 72 * time.Hour, ContractSigning: 5 * 24 * time.Hour, InitialInvites: 1},
	}
}

var (
	buyer = Actor{UserID: "u-b", OrgID: "buyer-1", Role: RoleBuyer}
	supA  = Actor{UserID: "u-a", OrgID: "sup-a", Role: RoleSupplier}
	supB  = Actor{UserID: "u-b2", OrgID: "sup-b", Role: RoleSupplier}
)

// update sends an update from inside the test environment's clock and
// returns the rejection (or nil) it got.
func update(env *testsuite.TestWorkflowEnvironment, after time.Duration, name string, arg any, got *error) {
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { *got = err },
			OnAccept:   func() {},
			OnComplete: func(_ any, err error) { *got = err },
		}, arg)
	}, after)
}

func quote(a Actor, unit int64, validFor time.Duration, now time.Time) QuoteInput {
	return QuoteInput{Actor: a, Tiers: []PriceTier{{MinQuantity: 1, UnitPrice: unit + 10}, {MinQuantity: 500, UnitPrice: unit}},
		MOQ: 100, LeadTimeDays: 30, ValidTill: now.Add(validFor)}
}

func TestLateSupplierIsMarkedAndNextIsInvited(t *testing.T) {
	env := newEnv(t)
	start := env.Now()
	var errQuoteB, errLateA error
	// sup-a never answers; after 2 h sup-b is invited and quotes at 3 h.
	update(env, 3*time.Hour, UpdateSubmitQuote, quote(supB, 250, 48*time.Hour, start), &errQuoteB)
	update(env, 3*time.Hour+time.Minute, UpdateSubmitQuote, quote(supA, 200, 48*time.Hour, start), &errLateA)
	var errAccept error
	update(env, 4*time.Hour, UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q1"}, &errAccept)
	env.ExecuteWorkflow(Deal, input("sup-a", "sup-b"))

	if errQuoteB != nil || errAccept != nil {
		t.Fatalf("quote by invited sup-b: %v; accept: %v", errQuoteB, errAccept)
	}
	if RejectionCode(errLateA) != RejectWrongStage {
		t.Fatalf("late sup-a quoted anyway: %v", errLateA)
	}
	var st DealState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if st.Invitations[0].Status != InvitationLate || st.Invitations[1].SupplierID != "sup-b" {
		t.Fatalf("invitations %+v", st.Invitations)
	}
	if got := st.Invitations[1].InvitedAt.Sub(start); got != 2*time.Hour {
		t.Fatalf("sup-b invited %s after start, want 2h", got)
	}
	if st.Total != 250*1000 || st.SupplierID != "sup-b" {
		t.Fatalf("total %d supplier %s, want 250000 from sup-b", st.Total, st.SupplierID)
	}
	// Nobody signs: the deal is cancelled at the contract deadline.
	if st.Stage != StageCancelled {
		t.Fatalf("stage %s, want CANCELLED after the signing deadline", st.Stage)
	}
	if got := st.Deadlines["contract_sign_by"].Sub(start); got != 4*time.Hour+5*24*time.Hour {
		t.Fatalf("contract deadline at +%s", got)
	}
}

func TestInquiryExpiresWithoutAcceptedQuote(t *testing.T) {
	env := newEnv(t)
	start := env.Now()
	var errQuote error
	update(env, time.Hour, UpdateSubmitQuote, quote(supA, 100, 100*time.Hour, start), &errQuote)
	env.ExecuteWorkflow(Deal, input("sup-a"))
	var st DealState
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if errQuote != nil {
		t.Fatal(errQuote)
	}
	if st.Stage != StageExpired {
		t.Fatalf("stage %s, want EXPIRED", st.Stage)
	}
	if got := env.Now().Sub(start); got != 72*time.Hour {
		t.Fatalf("expired after %s, want 72h", got)
	}
	if st.Quotes[0].Status != "CLOSED" {
		t.Fatalf("open quote left after expiry: %+v", st.Quotes[0])
	}
}

func TestActionsOutOfTurnAreRejected(t *testing.T) {
	env := newEnv(t)
	start := env.Now()
	var wrongParty, notInvited, badTiers, expiredAccept, unknownQuote error
	update(env, time.Minute, UpdateAcceptQuote, AcceptInput{Actor: supA, QuoteID: "q1"}, &wrongParty)
	update(env, time.Minute, UpdateSubmitQuote, quote(supB, 100, time.Hour, start), &notInvited)
	bad := quote(supA, 100, time.Hour, start)
	bad.Tiers = []PriceTier{{MinQuantity: 500, UnitPrice: 1}, {MinQuantity: 100, UnitPrice: 2}}
	update(env, time.Minute, UpdateSubmitQuote, bad, &badTiers)
	var ok error
	update(env, 10*time.Minute, UpdateSubmitQuote, quote(supA, 100, time.Hour, start), &ok)
	update(env, 2*time.Hour, UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q1"}, &expiredAccept)
	update(env, 2*time.Hour, UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q9"}, &unknownQuote)
	env.ExecuteWorkflow(Deal, input("sup-a"))

	for name, c := range map[string]struct {
		err  error
		want string
	}{
		"supplier accepting": {wrongParty, RejectNotAllowed},
		"uninvited quote":    {notInvited, RejectNotAllowed},
		"unordered tiers":    {badTiers, RejectInvalid},
		"expired quote":      {expiredAccept, RejectWrongStage},
		"unknown quote":      {unknownQuote, RejectNotFound},
	} {
		if got := RejectionCode(c.err); got != c.want {
			t.Errorf("%s: rejection %q (%v), want %q", name, got, c.err, c.want)
		}
	}
	if ok != nil {
		t.Fatalf("valid quote rejected: %v", ok)
	}
}
