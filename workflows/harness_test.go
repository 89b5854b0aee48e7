package workflows

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/activities"
)

// The parties of the test deals.
var (
	buyer = Actor{UserID: "u-buyer", OrgID: "buyer-1", Role: RoleBuyer}
	supA  = Actor{UserID: "u-a", OrgID: "sup-a", Role: RoleSupplier} // gold: 200 bp
	supB  = Actor{UserID: "u-b", OrgID: "sup-b", Role: RoleSupplier} // silver: 300 bp
	med   = Actor{UserID: "u-med", OrgID: "mediation", Role: RoleMediator}
)

// newTestEnv is the time-skipping environment every workflow unit test uses.
// Its deadlock detector allows a workflow task a minute instead of a
// second: on a loaded machine a task can be descheduled for longer than a
// second, and a test's verdict must not depend on the machine's speed.
func newTestEnv(s *testsuite.WorkflowTestSuite) *testsuite.TestWorkflowEnvironment {
	env := s.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: time.Minute})
	return env
}

// harness runs one deal in the SDK's time-skipping environment, with every
// party action scheduled at a time after the start.
type harness struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment
	mem *activities.Memory
	// coupons are the buyers' referral coupons, none unless a test gives
	// them, each worth 1 % of the deal that earns it.
	coupons *activities.MemoryCoupons
	start   time.Time
	errs    map[string]error
	done    map[string]bool
	state   DealState
	// dropBooks: the rounds of bookkeeping actions hand off are lost, as
	// if the API crashed before writing them.
	dropBooks bool
	// handedOff holds the numbers of the rounds actions handed off, paid
	// the last round a payment handed off.
	mu        sync.Mutex
	handedOff map[int]bool
	paid      *activities.Books
}

// handedOffRound reports whether round was handed off by an action.
func (h *harness) handedOffRound(round int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.handedOff[round]
}

// completed is what the API does with an action's outcome: it writes the
// round of bookkeeping the action hands it, then answers.
func (h *harness) completed(label string) func(any, error) {
	return func(v any, err error) {
		var books *activities.Books
		switch r := v.(type) {
		case ActionResult:
			books = r.Books
		case PayResult:
			books = r.Books
			if books != nil {
				h.mu.Lock()
				h.paid = books
				h.mu.Unlock()
			}
		}
		if books != nil {
			h.mu.Lock()
			if h.handedOff == nil {
				h.handedOff = map[int]bool{}
			}
			h.handedOff[books.Projection.Round] = true
			h.mu.Unlock()
			if !h.dropBooks {
				// A write that fails is the API's to log; the deal's next
				// round writes it.
				_ = h.mem.WriteBooks(context.Background(), *books)
			}
		}
		h.errs[label], h.done[label] = err, true
	}
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := newTestEnv(&s)
	mem := activities.NewMemory()
	coupons := activities.NewMemoryCoupons(mem, 100)
	Register(env)
	acts := mem.Activities()
	acts.Coupons = coupons
	env.RegisterActivity(acts)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: "deal-d1"})
	return &harness{t: t, env: env, mem: mem, coupons: coupons, start: start, errs: map[string]error{}, done: map[string]bool{}}
}

func dealInput() DealInput {
	return DealInput{
		DealID: "d1",
		Inquiry: Inquiry{
			BuyerOrgID: buyer.OrgID, Product: "steel bolts M8", Quantity: 1000, Unit: "pcs", Currency: "USD",
			Destination: "Rotterdam",
		},
		Suppliers: []Supplier{{OrgID: supA.OrgID, Tier: "gold"}, {OrgID: supB.OrgID, Tier: "silver"}},
		Policy:    Policy{InitialInvites: 1, TrackingPoll: time.Hour, TrackingPollNear: time.Hour},
	}
}

// quoteAt is a quote at 1000 per unit for the inquiry's 1000 units
// (1,000,000: deposit 300,000, balance 700,000), valid for two days.
func (h *harness) quote(a Actor) QuoteInput {
	return QuoteInput{
		Actor: a, Tiers: []PriceTier{{MinQuantity: 1, UnitPrice: 1200}, {MinQuantity: 500, UnitPrice: 1000}},
		MOQ: 100, LeadTimeDays: 20, ValidTill: h.start.Add(48 * time.Hour), SamplePrice: 5000,
	}
}

// update sends a named update at `after`; its outcome is kept under label.
func (h *harness) update(after time.Duration, label, name string, arg any) {
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(name, label, &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { h.errs[label], h.done[label] = err, true },
			OnAccept:   func() {},
			OnComplete: h.completed(label),
		}, arg)
	}, after)
}

func (h *harness) signal(after time.Duration, name string, arg any) {
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(name, arg) }, after)
}

// sign signs the contract as it stands at that moment.
func (h *harness) sign(after time.Duration, label string, a Actor) {
	h.env.RegisterDelayedCallback(func() {
		st := h.query()
		if st.Contract == nil {
			h.t.Errorf("%s: no contract to sign at stage %s", label, st.Stage)
			return
		}
		h.env.UpdateWorkflow(UpdateSignContract, label, &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { h.errs[label], h.done[label] = err, true },
			OnAccept:   func() {},
			OnComplete: h.completed(label),
		}, SignInput{Actor: a, TermsSHA256: st.Contract.TermsSHA256})
	}, after)
}

// check runs fn against the deal's state at `after`.
func (h *harness) check(after time.Duration, fn func(DealState)) {
	h.env.RegisterDelayedCallback(func() { fn(h.query()) }, after)
}

func (h *harness) query() DealState {
	v, err := h.env.QueryWorkflow(QueryState)
	if err != nil {
		h.t.Fatalf("query: %v", err)
	}
	var st DealState
	if err := v.Get(&st); err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *harness) run(in DealInput) DealState {
	h.t.Helper()
	h.env.ExecuteWorkflow(Deal, in)
	if !h.env.IsWorkflowCompleted() {
		h.t.Fatal("deal did not complete")
	}
	if err := h.env.GetWorkflowError(); err != nil {
		h.t.Fatalf("deal failed: %v", err)
	}
	if err := h.env.GetWorkflowResult(&h.state); err != nil {
		h.t.Fatal(err)
	}
	return h.state
}

// ok fails the test unless every labelled action ran and succeeded.
func (h *harness) ok(labels ...string) {
	h.t.Helper()
	for _, l := range labels {
		if !h.done[l] {
			h.t.Errorf("%s: never ran", l)
		} else if h.errs[l] != nil {
			h.t.Errorf("%s: %v", l, h.errs[l])
		}
	}
}

// rejected fails the test unless the labelled action was refused with code.
func (h *harness) rejected(label, code string) {
	h.t.Helper()
	if got := RejectionCode(h.errs[label]); !h.done[label] || got != code {
		h.t.Errorf("%s: got %q (%v), want rejection %q", label, got, h.errs[label], code)
	}
}

// balances asserts the ledger's balances for the deal's accounts.
func (h *harness) balances(escrow, supplier, commission, buyer int64, supplierOrg string) {
	h.t.Helper()
	got := []int64{
		h.mem.Balance(activities.EscrowAccount("d1"), "USD"),
		h.mem.Balance(activities.SupplierAccount(supplierOrg), "USD"),
		h.mem.Balance(activities.CommissionAccount, "USD"),
		h.mem.Balance(activities.BuyerAccount("buyer-1"), "USD"),
	}
	want := []int64{escrow, supplier, commission, buyer}
	if got != nil && (got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3]) {
		h.t.Errorf("ledger escrow/supplier/commission/buyer = %v, want %v", got, want)
	}
}

func (h *harness) hasEvent(typ EventType) bool {
	for _, e := range h.state.Timeline {
		if e.Type == typ {
			return true
		}
	}
	return false
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Standard steps up to a given stage, each a few minutes apart.

const m = time.Minute

func (h *harness) toContract() {
	h.update(10*m, "quote", UpdateSubmitQuote, h.quote(supA))
	h.update(20*m, "accept", UpdateAcceptQuote, AcceptInput{Actor: buyer, QuoteID: "q1"})
}

func (h *harness) toDeposit() {
	h.toContract()
	h.sign(30*m, "sign buyer", buyer)
	h.sign(40*m, "sign supplier", supA)
}

func (h *harness) toProduction() {
	h.toDeposit()
	h.update(60*m, "pay deposit", UpdatePay, PayInput{Actor: buyer, Step: "deposit"})
}

func (h *harness) toBalance() {
	h.toProduction()
	h.update(120*m, "progress", UpdateReportProgress, ProgressInput{Actor: supA, Percent: 50, Note: "half done"})
	h.update(180*m, "ready", UpdateMarkReady, ActorInput{Actor: supA})
}

// toShipping pays the balance; the goods ship at 5 h with tracking number
// "TRK1", which the memory tracker reports as in transit, then delivered.
func (h *harness) toInspection() {
	h.toBalance()
	h.update(240*m, "pay balance", UpdatePay, PayInput{Actor: buyer, Step: "balance"})
	h.mem.Script("TRK1", activities.TrackInTransit, activities.TrackDelivered)
	h.update(300*m, "ship", UpdateAddShipment, ShipmentInput{Actor: supA, Carrier: "dhl", TrackingNumber: "TRK1"})
}
