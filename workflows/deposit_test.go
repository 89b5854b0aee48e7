package workflows

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/tradeloop/tradeloop/activities"
)

// memDeposits keeps deposits as internal/deposits does, on the memory
// ledger: the statuses the workflow records, and a supplier's deals
// running or not.
type memDeposits struct {
	mem     *activities.Memory
	mu      sync.Mutex
	status  map[string]string
	reason  map[string]string
	running bool
}

func (d *memDeposits) set(id, status string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status[id] = status
}

func (d *memDeposits) get(id string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status[id]
}

func (d *memDeposits) Hold(ctx context.Context, in activities.DepositHold) error {
	if err := d.mem.Post(ctx, activities.Posting{IdempotencyKey: "deposit/" + in.ID + "/charge", Kind: "security_deposit", Lines: []activities.Line{
		{Account: activities.SupplierAccount(in.OrgID), Amount: -in.Amount, Currency: in.Currency},
		{Account: activities.DepositAccount(in.ID), Amount: in.Amount, Currency: in.Currency},
	}}); err != nil {
		return err
	}
	d.set(in.ID, activities.DepositHeld)
	return nil
}

func (d *memDeposits) Fail(_ context.Context, id, reason string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.status[id], d.reason[id] = activities.DepositFailed, reason
	return nil
}

func (d *memDeposits) BeginReturn(_ context.Context, id string) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.running {
		return 0, fmt.Errorf("%w: deals still running: d9 (PRODUCTION)", activities.ErrNotInGoodStanding)
	}
	d.status[id] = activities.DepositReturning
	return d.mem.Balance(activities.DepositAccount(id), "USD"), nil
}

func (d *memDeposits) FinishReturn(ctx context.Context, in activities.DepositReturn) error {
	if err := d.mem.Post(ctx, activities.Posting{IdempotencyKey: "deposit/" + in.ID + "/return", Lines: []activities.Line{
		{Account: activities.DepositAccount(in.ID), Amount: -in.Amount, Currency: in.Currency},
		{Account: activities.SupplierAccount(in.OrgID), Amount: in.Amount, Currency: in.Currency},
	}}); err != nil {
		return err
	}
	d.set(in.ID, activities.DepositReturned)
	return nil
}

func (d *memDeposits) Forfeit(ctx context.Context, in activities.DepositForfeit) (int64, error) {
	if err := d.mem.Post(ctx, activities.Posting{IdempotencyKey: fmt.Sprintf("deposit/%s/forfeit/%d", in.ID, in.Seq), Lines: []activities.Line{
		{Account: activities.DepositAccount(in.ID), Amount: -in.Amount, Currency: in.Currency},
		{Account: activities.ForfeitedDepositsAccount, Amount: in.Amount, Currency: in.Currency},
	}}); err != nil {
		return 0, err
	}
	return d.mem.Balance(activities.DepositAccount(in.ID), in.Currency), nil
}

// depositHarness runs one deposit of USD 500.00 by sup-a in the SDK's
// time-skipping environment.
type depositHarness struct {
	t    *testing.T
	env  *testsuite.TestWorkflowEnvironment
	mem  *activities.Memory
	deps *memDeposits
	errs map[string]error
	done map[string]bool
	got  map[string]DepositStatus
}

const depositID = "dep1"

func newDepositHarness(t *testing.T) *depositHarness {
	var s testsuite.WorkflowTestSuite
	env := newTestEnv(&s)
	mem := activities.NewMemory()
	deps := &memDeposits{mem: mem, status: map[string]string{}, reason: map[string]string{}}
	RegisterDeposits(env)
	acts := mem.Activities()
	acts.Deposits = deps
	env.RegisterActivity(acts)
	env.SetStartTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: DepositWorkflowID(depositID)})
	return &depositHarness{t: t, env: env, mem: mem, deps: deps, errs: map[string]error{}, done: map[string]bool{}, got: map[string]DepositStatus{}}
}

func (h *depositHarness) update(after time.Duration, label, name string, arg any) {
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(name, label, &testsuite.TestUpdateCallback{
			OnReject: func(err error) { h.errs[label], h.done[label] = err, true },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				if st, ok := v.(DepositStatus); ok {
					h.got[label] = st
				}
				h.errs[label], h.done[label] = err, true
			},
		}, arg)
	}, after)
}

func (h *depositHarness) run() string {
	h.env.ExecuteWorkflow(SecurityDeposit, DepositInput{ID: depositID, OrgID: supA.OrgID, Amount: 50_000, Currency: "USD"})
	require.True(h.t, h.env.IsWorkflowCompleted(), "the deposit's workflow did not end")
	var status string
	require.NoError(h.t, h.env.GetWorkflowResult(&status))
	return status
}

func (h *depositHarness) ok(labels ...string) {
	h.t.Helper()
	for _, l := range labels {
		require.True(h.t, h.done[l], "%s never answered", l)
		require.NoError(h.t, h.errs[l], l)
	}
}

func (h *depositHarness) rejected(label, code string) {
	h.t.Helper()
	require.True(h.t, h.done[label], "%s never answered", label)
	require.Equal(h.t, code, RejectionCode(h.errs[label]), "%s: %v", label, h.errs[label])
}

func (h *depositHarness) held() int64 {
	return h.mem.Balance(activities.DepositAccount(depositID), "USD")
}

func TestADepositIsHeldThenRefundedOnItsSuppliersReturn(t *testing.T) {
	h := newDepositHarness(t)
	h.deps.running = true
	h.env.RegisterDelayedCallback(func() {
		require.Equal(t, activities.DepositHeld, h.deps.get(depositID))
		require.Equal(t, int64(50_000), h.held(), "the deposit's account holds what was charged")
	}, time.Minute)
	h.update(2*time.Minute, "return while a deal runs", UpdateReturnDeposit, DepositReturnRequest{Actor: supA})
	h.update(3*time.Minute, "return by another supplier", UpdateReturnDeposit, DepositReturnRequest{Actor: supB})
	h.env.RegisterDelayedCallback(func() { h.deps.running = false }, 4*time.Minute)
	h.update(5*time.Minute, "return", UpdateReturnDeposit, DepositReturnRequest{Actor: supA})
	// Sent with the first, as a double click does: the workflow ends
	// once the deposit is returned, and the API answers a later one 409.
	h.update(5*time.Minute, "return again", UpdateReturnDeposit, DepositReturnRequest{Actor: supA})

	require.Equal(t, activities.DepositReturned, h.run())
	h.rejected("return while a deal runs", RejectWrongStage)
	require.Contains(t, h.errs["return while a deal runs"].Error(), "d9 (PRODUCTION)", "the supplier is told which deal stands in the way")
	h.rejected("return by another supplier", RejectNotAllowed)
	h.ok("return")
	h.rejected("return again", RejectWrongStage)

	charge := h.mem.Charges()["deposit/dep1/charge"]
	require.Equal(t, int64(50_000), charge.Amount)
	require.Equal(t, activities.DepositStep, charge.Step)
	require.Len(t, h.mem.Charges(), 1, "charged once")
	refund := h.mem.Refunds()["deposit/dep1/return"]
	require.Equal(t, int64(50_000), refund.Amount, "the whole deposit is refunded")
	require.NotEmpty(t, refund.PaymentID, "refunded on the original charge")
	require.Equal(t, int64(0), h.held())
	require.Equal(t, int64(0), h.mem.Balance(activities.SupplierAccount(supA.OrgID), "USD"), "the supplier is square")
	require.Equal(t, activities.DepositReturned, h.deps.get(depositID))
}

func TestADeclinedDepositChargeHoldsNothing(t *testing.T) {
	h := newDepositHarness(t)
	h.mem.Decline(activities.DepositStep, 1)
	require.Equal(t, activities.DepositFailed, h.run())
	require.Equal(t, activities.DepositFailed, h.deps.get(depositID))
	require.Contains(t, h.deps.reason[depositID], "declined")
	require.Equal(t, int64(0), h.held())
	require.Empty(t, h.mem.Postings(), "nothing reaches the ledger")
}

func TestAPendingDepositChargeIsHeldOnceTheProviderConfirmsIt(t *testing.T) {
	h := newDepositHarness(t)
	h.mem.ChargesPending(true)
	h.update(time.Second, "outcome", UpdateDepositOutcome, nil)
	h.update(2*time.Hour, "return", UpdateReturnDeposit, DepositReturnRequest{Actor: supA})
	require.Equal(t, activities.DepositReturned, h.run())
	h.ok("outcome", "return")
	require.Equal(t, activities.DepositPending, h.got["outcome"].Status, "the outcome says pending as soon as the provider has answered so")
	require.Equal(t, activities.DepositReturned, h.deps.get(depositID))
	require.Len(t, h.mem.Refunds(), 1)
}

func TestMediatorsForfeitPartOfADepositAndTheRestIsReturned(t *testing.T) {
	h := newDepositHarness(t)
	forfeit := func(a Actor, amount int64, reason string) DepositForfeitRequest {
		return DepositForfeitRequest{Actor: a, Amount: amount, Reason: reason, DealID: "d7"}
	}
	h.update(time.Minute, "supplier forfeits", UpdateForfeitDeposit, forfeit(supA, 1_000, "fraud"))
	h.update(2*time.Minute, "forfeit 200", UpdateForfeitDeposit, forfeit(med, 20_000, "counterfeit goods proven in deal d7"))
	h.update(3*time.Minute, "forfeit more than held", UpdateForfeitDeposit, forfeit(med, 30_001, "more"))
	h.update(4*time.Minute, "forfeit without reason", UpdateForfeitDeposit, forfeit(med, 1_000, " "))
	h.update(5*time.Minute, "forfeit with a control character", UpdateForfeitDeposit, forfeit(med, 1_000, "bad\x00"))
	h.update(6*time.Minute, "return", UpdateReturnDeposit, DepositReturnRequest{Actor: supA})
	h.update(6*time.Minute, "forfeit after return", UpdateForfeitDeposit, forfeit(med, 1_000, "late"))

	require.Equal(t, activities.DepositReturned, h.run())
	h.rejected("supplier forfeits", RejectNotAllowed)
	h.ok("forfeit 200", "return")
	require.Equal(t, int64(30_000), h.got["forfeit 200"].Held)
	h.rejected("forfeit more than held", RejectWrongStage)
	h.rejected("forfeit without reason", RejectInvalid)
	h.rejected("forfeit with a control character", RejectInvalid)
	h.rejected("forfeit after return", RejectWrongStage)

	require.Equal(t, int64(20_000), h.mem.Balance(activities.ForfeitedDepositsAccount, "USD"))
	require.Equal(t, int64(30_000), h.mem.Refunds()["deposit/dep1/return"].Amount, "the rest is refunded")
	require.Equal(t, int64(0), h.held())
}
