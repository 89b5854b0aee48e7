package workflows

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

// goldBook keeps a certification's steps as the workflow writes them (the
// first write of each fails once, so every step is retried) and says
// until when the supplier is verified.
type goldBook struct {
	mu       sync.Mutex
	events   []activities.GoldEvent
	tried    map[int]bool
	verified time.Time
}

func (b *goldBook) Record(_ context.Context, e activities.GoldEvent) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.tried[e.Seq] {
		b.tried[e.Seq] = true
		return errors.New("the database went away")
	}
	b.events = append(b.events, e)
	return nil
}

func (b *goldBook) VerifiedUntil(context.Context, string) (time.Time, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.verified, nil
}

// step is one step as a test expects it.
type step struct {
	Action string
	When   time.Time
	Status string
	Years  int
}

func (b *goldBook) steps() []step {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]step, len(b.events))
	for i, e := range b.events {
		out[i] = step{e.Action, e.At.UTC(), e.Status, e.Years}
	}
	return out
}

// goldRun is one run of a certification in the time-skipping environment.
type goldRun struct {
	t    *testing.T
	env  *testsuite.TestWorkflowEnvironment
	mem  *activities.Memory
	book *goldBook
	errs map[string]error
	out  map[string]GoldStatus
}

const goldFee = 120_000 // 1,200.00 a year

var goldStart = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

func newGoldRun(t *testing.T, mem *activities.Memory, book *goldBook, start time.Time, opts ...func(*activities.Activities)) *goldRun {
	var s testsuite.WorkflowTestSuite
	env := newTestEnv(&s)
	env.SetStartTime(start)
	RegisterGold(env)
	a := mem.Activities()
	a.Gold = book
	for _, o := range opts {
		o(a)
	}
	env.RegisterActivity(a)
	return &goldRun{t: t, env: env, mem: mem, book: book, errs: map[string]error{}, out: map[string]GoldStatus{}}
}

func (r *goldRun) update(after time.Duration, label, name string, arg any) {
	var args []any
	if arg != nil {
		args = append(args, arg)
	}
	r.env.RegisterDelayedCallback(func() {
		r.env.UpdateWorkflow(name, label, &testsuite.TestUpdateCallback{
			OnReject: func(err error) { r.errs[label] = err },
			OnAccept: func() {},
			OnComplete: func(res any, err error) {
				if err != nil {
					r.errs[label] = err
					return
				}
				r.out[label] = res.(GoldStatus)
			},
		}, args...)
	}, after)
}

var (
	goldSupplier = Actor{UserID: "u-a", OrgID: "sup-a", Role: RoleSupplier}
	goldRival    = Actor{UserID: "u-b", OrgID: "sup-b", Role: RoleSupplier}
)

func goldInput(carry *GoldCarry) GoldInput {
	return GoldInput{ID: "g-1", OrgID: "sup-a", RequestedBy: "u-a", Fee: goldFee, Currency: "USD", Carry: carry}
}

// run runs in and answers its result, or the input of the run it
// continued as.
func (r *goldRun) run(in GoldInput) (string, *GoldInput) {
	r.env.ExecuteWorkflow(GoldWorkflowName, in)
	require.True(r.t, r.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	if err := r.env.GetWorkflowError(); errors.As(err, &can) {
		var next GoldInput
		require.NoError(r.t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
		return "", &next
	}
	require.NoError(r.t, r.env.GetWorkflowError())
	var status string
	require.NoError(r.t, r.env.GetWorkflowResult(&status))
	return status, nil
}

const year = 365 * day

// The first year is charged with the supplier's client and its card kept;
// the supplier is told 30 days before the year ends, and the saved card is
// charged at its end, for a year that starts where the last ended. The
// second year the supplier stops the renewal (another supplier may not):
// it is told the certification ends, and it ends with nothing charged.
func TestGoldIsPaidRemindedAndRenewedThenEndsWhenTheSupplierStopsIt(t *testing.T) {
	mem, book := activities.NewMemory(), &goldBook{tried: map[int]bool{}, verified: goldStart.Add(3 * year)}
	r := newGoldRun(t, mem, book, goldStart)
	status, next := r.run(goldInput(nil))
	require.Empty(t, status)
	require.NotNil(t, next)
	end1 := goldStart.Add(year)
	require.Equal(t, []step{
		{activities.GoldActivated, goldStart, activities.GoldIsActive, 1},
		{activities.GoldRenewalReminder, end1.Add(-30 * day), activities.GoldIsActive, 1},
		{activities.GoldRenewed, end1, activities.GoldIsActive, 2},
	}, book.steps())
	c := next.Carry
	require.Equal(t, GoldCarry{Seq: 3, Years: 2, PaidUntil: end1.Add(year), AutoRenew: true, Payer: "memory_payer_sup-a", SavedBy: "pay_1"}, *c)
	charges := mem.Charges()
	require.Len(t, charges, 2)
	first, renewal := charges["gold/g-1/year-1/pay-1"], charges["gold/g-1/year-2/auto-1"]
	require.True(t, first.SaveForLater)
	require.Equal(t, int64(goldFee), first.Amount)
	require.Equal(t, int64(goldFee), renewal.Amount)
	require.False(t, renewal.SaveForLater)
	paid := book.events[0]
	require.Equal(t, "pay_1", paid.PaymentID)
	require.Equal(t, "pay_2", book.events[2].PaymentID)

	// Year two: the supplier stops the renewal in its fourth month.
	r = newGoldRun(t, mem, book, end1)
	r.update(day, "rival", UpdateGoldAutoRenew, GoldAutoRenewRequest{Actor: goldRival, AutoRenew: false})
	r.update(120*day, "stop", UpdateGoldAutoRenew, GoldAutoRenewRequest{Actor: goldSupplier, AutoRenew: false})
	r.update(121*day, "stop-again", UpdateGoldAutoRenew, GoldAutoRenewRequest{Actor: goldSupplier, AutoRenew: false})
	status, next = r.run(*next)
	require.Nil(t, next)
	require.Equal(t, activities.GoldHasEnded, status)
	require.ErrorContains(t, r.errs["rival"], "only the certified supplier")
	require.False(t, r.out["stop"].AutoRenew)
	require.False(t, r.out["stop-again"].AutoRenew)
	end2 := end1.Add(year)
	require.Equal(t, []step{
		{activities.GoldAutoRenewOff, end1.Add(120 * day), activities.GoldIsActive, 2},
		{activities.GoldRenewalReminder, end2.Add(-30 * day), activities.GoldIsActive, 2},
		{activities.GoldEnded, end2, activities.GoldHasEnded, 2},
	}, book.steps()[3:], "a second stop changes nothing and writes nothing")
	require.False(t, book.events[4].AutoRenew, "the reminder says the certification ends")
	require.Len(t, mem.Charges(), 2, "nothing charged for a year the supplier stopped")
}

// A renewal the saved card declines makes the certification past due: the
// card is tried again 3 days later, declined again; on day 4 the supplier
// pays with its client, the provider confirms it at the first poll, and
// the year runs from that payment. The saved card is not tried again.
func TestADeclinedRenewalIsPaidByTheSupplierWithinGrace(t *testing.T) {
	mem, book := activities.NewMemory(), &goldBook{tried: map[int]bool{}, verified: goldStart.Add(3 * year)}
	mem.Decline(activities.GoldStep, 2)
	mem.ChargesPending(true)
	paidUntil := goldStart.Add(40 * day)
	r := newGoldRun(t, mem, book, goldStart)
	r.update(day, "pay-early", UpdateGoldPay, GoldPayRequest{Actor: goldSupplier})
	r.update(40*day+4*day, "rival", UpdateGoldPay, GoldPayRequest{Actor: goldRival})
	r.update(40*day+4*day+time.Minute, "pay", UpdateGoldPay, GoldPayRequest{Actor: goldSupplier})
	r.update(40*day+4*day+time.Minute+10*time.Second, "pay-again", UpdateGoldPay, GoldPayRequest{Actor: goldSupplier})
	_, next := r.run(goldInput(&GoldCarry{Seq: 1, Years: 1, PaidUntil: paidUntil, AutoRenew: true, Payer: "cus_a", SavedBy: "pay_0"}))
	require.NotNil(t, next)
	require.ErrorContains(t, r.errs["pay-early"], "nothing is due")
	require.ErrorContains(t, r.errs["rival"], "only the certified supplier")
	pay := r.out["pay"]
	require.True(t, pay.Awaiting)
	require.Equal(t, activities.GoldIsPastDue, pay.Status)
	require.NotEmpty(t, pay.PaymentID)
	require.Equal(t, pay.PaymentID, r.out["pay-again"].PaymentID, "asking again answers the same payment")
	paidAt := paidUntil.Add(4*day + time.Minute + DefaultGoldPolicy.PollEvery)
	require.Equal(t, []step{
		{activities.GoldRenewalReminder, paidUntil.Add(-30 * day), activities.GoldIsActive, 1},
		{activities.GoldPaymentFailed, paidUntil, activities.GoldIsPastDue, 1},
		{activities.GoldPaymentFailed, paidUntil.Add(3 * day), activities.GoldIsPastDue, 1},
		{activities.GoldRenewed, paidAt, activities.GoldIsActive, 2},
	}, book.steps())
	require.Equal(t, paidUntil.Add(14*day), book.events[1].PayBy)
	require.Contains(t, book.events[1].Reason, "declined")
	require.Equal(t, paidAt.Add(year), next.Carry.PaidUntil, "a year paid late runs from its payment")
	require.Equal(t, pay.PaymentID, next.Carry.SavedBy, "the card the supplier paid with is the one kept")
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range mem.Charges() {
			if !yield(k) {
				return
			}
		}
	})
	require.Equal(t, []string{"gold/g-1/year-2/pay-1"}, keys, "declined charges take nothing; the year is charged once")
}

// Declined every time, the saved card is tried on days 0, 3, 6, 9 and 12,
// the supplier told each time; on day 14 the certification lapses.
func TestAnUnpaidRenewalLapsesAfterTheGracePeriod(t *testing.T) {
	mem, book := activities.NewMemory(), &goldBook{tried: map[int]bool{}, verified: goldStart.Add(3 * year)}
	mem.Decline(activities.GoldStep, 100)
	paidUntil := goldStart.Add(10 * day)
	r := newGoldRun(t, mem, book, goldStart)
	r.update(10*day+15*day, "pay-late", UpdateGoldPay, GoldPayRequest{Actor: goldSupplier})
	status, next := r.run(goldInput(&GoldCarry{Seq: 4, Years: 3, PaidUntil: paidUntil, AutoRenew: true, Payer: "cus_a", SavedBy: "pay_0"}))
	require.Nil(t, next)
	require.Equal(t, activities.GoldHasLapsed, status)
	want := []step{{activities.GoldRenewalReminder, goldStart, activities.GoldIsActive, 3}}
	for d := 0; d <= 12; d += 3 {
		want = append(want, step{activities.GoldPaymentFailed, paidUntil.Add(time.Duration(d) * day), activities.GoldIsPastDue, 3})
	}
	want = append(want, step{activities.GoldLapsed, paidUntil.Add(14 * day), activities.GoldHasLapsed, 3})
	require.Equal(t, want, book.steps())
	require.Equal(t, 5, book.events[len(want)-1].Seq-book.events[0].Seq-1)
	require.Contains(t, book.events[len(want)-1].Reason, "grace")
	require.Empty(t, mem.Charges())
}

// slowBank answers "pending" to the first n questions of how a payment
// stands, as a card whose bank has not confirmed it yet.
type slowBank struct {
	activities.Payments
	mu sync.Mutex
	n  int
}

func (b *slowBank) Status(ctx context.Context, id string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n > 0 {
		b.n--
		return "pending", nil
	}
	return b.Payments.Status(ctx, id)
}

// A supplier's payment made just before the grace ends, still waiting for
// its bank then, is awaited: the certification is renewed once it is
// confirmed, not lapsed under it, and the saved card is not tried
// meanwhile.
func TestAPaymentWaitingAtTheEndOfTheGraceIsAwaited(t *testing.T) {
	mem, book := activities.NewMemory(), &goldBook{tried: map[int]bool{}, verified: goldStart.Add(3 * year)}
	mem.Decline(activities.GoldStep, 5) // the saved card, on days 0, 3, 6, 9 and 12
	mem.ChargesPending(true)
	bank := &slowBank{Payments: mem, n: 20}
	paidUntil := goldStart.Add(10 * day)
	r := newGoldRun(t, mem, book, goldStart, func(a *activities.Activities) { a.Payments = bank })
	r.update(10*day+14*day-time.Hour, "pay", UpdateGoldPay, GoldPayRequest{Actor: goldSupplier})
	status, next := r.run(goldInput(&GoldCarry{Seq: 1, Years: 1, PaidUntil: paidUntil, AutoRenew: true, Payer: "cus_a", SavedBy: "pay_0"}))
	require.NoError(t, r.errs["pay"])
	require.True(t, r.out["pay"].Awaiting)
	require.NotNil(t, next, "renewed, not lapsed: %s", status)
	got := book.steps()
	last := got[len(got)-1]
	require.Equal(t, activities.GoldRenewed, last.Action)
	require.Equal(t, 2, last.Years)
	payBy := paidUntil.Add(14 * day)
	require.True(t, last.When.After(payBy), "confirmed after the grace ended: %s", last.When)
	require.True(t, last.When.Before(payBy.Add(DefaultGoldPolicy.ConfirmWithin)))
	for _, s := range got {
		require.NotEqual(t, activities.GoldLapsed, s.Action)
	}
	require.Zero(t, bank.n, "the provider was asked until it answered")
	keys := slices.Sorted(maps.Keys(mem.Charges()))
	require.Equal(t, []string{"gold/g-1/year-2/pay-1"}, keys, "the year is charged once")
}

// However often the supplier's client asks, a year's history holds at
// most MaxGoldChangesPerYear renewal changes and as many payments of its
// own: past them it is refused (limit_reached); asking for what already
// is costs nothing.
func TestAYearsChangesAndPaymentsAreBounded(t *testing.T) {
	mem, book := activities.NewMemory(), &goldBook{tried: map[int]bool{}, verified: goldStart.Add(3 * year)}
	mem.Decline(activities.GoldStep, 1_000) // every charge, the saved card's and the supplier's
	paidUntil := goldStart.Add(40 * day)
	r := newGoldRun(t, mem, book, goldStart)
	for i := range 2*MaxGoldChangesPerYear + 2 {
		r.update(day+time.Duration(i)*time.Minute, fmt.Sprintf("toggle-%d", i), UpdateGoldAutoRenew,
			GoldAutoRenewRequest{Actor: goldSupplier, AutoRenew: i%2 == 1})
	}
	r.update(2*day, "same", UpdateGoldAutoRenew, GoldAutoRenewRequest{Actor: goldSupplier, AutoRenew: true})
	for i := range MaxGoldChangesPerYear + 1 {
		r.update(40*day+day+time.Duration(i)*time.Minute, fmt.Sprintf("pay-%d", i), UpdateGoldPay, GoldPayRequest{Actor: goldSupplier})
	}
	status, _ := r.run(goldInput(&GoldCarry{Seq: 1, Years: 1, PaidUntil: paidUntil, AutoRenew: true, Payer: "cus_a", SavedBy: "pay_0"}))
	require.Equal(t, activities.GoldHasLapsed, status)
	for i := range 2*MaxGoldChangesPerYear + 2 {
		err := r.errs[fmt.Sprintf("toggle-%d", i)]
		switch {
		case i < MaxGoldChangesPerYear:
			require.NoError(t, err, "change %d", i)
		case i%2 == 1: // the renewal is on again after the tenth: nothing to change
			require.NoError(t, err, "change %d", i)
		default:
			require.Equal(t, RejectLimit, RejectionCode(err), "change %d: %v", i, err)
		}
	}
	require.NoError(t, r.errs["same"], "asking for what already is")
	for i := range MaxGoldChangesPerYear + 1 {
		err := r.errs[fmt.Sprintf("pay-%d", i)]
		if i < MaxGoldChangesPerYear {
			require.ErrorContains(t, err, "refused", "payment %d", i)
		} else {
			require.Equal(t, RejectLimit, RejectionCode(err), "payment %d: %v", i, err)
		}
	}
	changes := 0
	for _, s := range book.steps() {
		if s.Action == activities.GoldAutoRenewOff || s.Action == activities.GoldAutoRenewOn {
			changes++
		}
	}
	require.Equal(t, MaxGoldChangesPerYear, changes)
	pays := 0
	for k := range mem.Charges() {
		if strings.Contains(k, "/pay-") {
			pays++
		}
	}
	require.Zero(t, pays, "declined charges take nothing")
}

// Gold requires verification: a supplier no longer verified when its year
// ends is not charged, and the certification lapses.
func TestGoldLapsesWhenTheSupplierIsNoLongerVerified(t *testing.T) {
	mem, book := activities.NewMemory(), &goldBook{tried: map[int]bool{}, verified: goldStart.Add(20 * day)}
	r := newGoldRun(t, mem, book, goldStart)
	status, _ := r.run(goldInput(&GoldCarry{Seq: 1, Years: 1, PaidUntil: goldStart.Add(60 * day), AutoRenew: true, Payer: "cus_a", SavedBy: "pay_0"}))
	require.Equal(t, activities.GoldHasLapsed, status)
	got := book.steps()
	require.Equal(t, activities.GoldLapsed, got[len(got)-1].Action)
	require.Equal(t, goldStart.Add(60*day), got[len(got)-1].When)
	require.True(t, strings.Contains(book.events[len(got)-1].Reason, "verif"))
	require.Empty(t, mem.Charges())
}

// A first charge the supplier's client confirms late is activated at the
// poll that finds it paid; a declined one fails the certification, and
// nothing is held against the supplier.
func TestTheFirstYearsChargeIsAwaitedOrFails(t *testing.T) {
	mem, book := activities.NewMemory(), &goldBook{tried: map[int]bool{}, verified: goldStart.Add(year)}
	mem.ChargesPending(true)
	r := newGoldRun(t, mem, book, goldStart)
	r.update(time.Second, "outcome", UpdateGoldOutcome, nil)
	r.env.RegisterDelayedCallback(func() { r.env.CancelWorkflow() }, 2*day)
	r.env.ExecuteWorkflow(GoldWorkflowName, goldInput(nil))
	require.True(t, r.out["outcome"].Awaiting)
	require.Equal(t, activities.GoldIsPending, r.out["outcome"].Status)
	require.Equal(t, []step{{activities.GoldActivated, goldStart.Add(DefaultGoldPolicy.PollEvery), activities.GoldIsActive, 1}}, book.steps())

	mem, book = activities.NewMemory(), &goldBook{tried: map[int]bool{}, verified: goldStart.Add(year)}
	mem.Decline(activities.GoldStep, 1)
	r = newGoldRun(t, mem, book, goldStart)
	r.update(0, "outcome", UpdateGoldOutcome, nil)
	status, _ := r.run(goldInput(nil))
	require.Equal(t, activities.GoldHasFailed, status)
	require.Equal(t, activities.GoldHasFailed, r.out["outcome"].Status)
	require.Equal(t, []step{{activities.GoldFailed, goldStart, activities.GoldHasFailed, 0}}, book.steps())
	require.Contains(t, book.events[0].Reason, "declined")
}

func TestGoldPolicyDefaultsAndBounds(t *testing.T) {
	p := GoldPolicy{Period: 3 * time.Second, Grace: time.Second}.WithDefaults()
	require.Equal(t, 3*time.Second, p.RenewalNotice, "the notice is within the year")
	require.Equal(t, time.Second, p.RetryEvery, "the retries are within the grace")
	require.Equal(t, DefaultGoldPolicy, GoldPolicy{}.WithDefaults())
}
