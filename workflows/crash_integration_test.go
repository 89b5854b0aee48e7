package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/workflows"
)

// countingPayments counts the provider's charges by idempotency key.
type countingPayments struct {
	activities.Payments
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingPayments) Charge(ctx context.Context, in activities.ChargeInput) (activities.ChargeResult, error) {
	c.mu.Lock()
	c.calls[in.IdempotencyKey]++
	c.mu.Unlock()
	return c.Payments.Charge(ctx, in)
}

// stallingLedger holds the first posting of the deposit until the worker
// running it is stopped, as a crash between the charge and its posting.
type stallingLedger struct {
	activities.Ledger
	once    sync.Once
	reached chan struct{}
}

func (l *stallingLedger) Post(ctx context.Context, p activities.Posting) error {
	stall := false
	if p.Kind == activities.StepDeposit {
		l.once.Do(func() { stall = true })
	}
	if stall {
		close(l.reached)
		<-ctx.Done() // the worker dies here
		return ctx.Err()
	}
	return l.Ledger.Post(ctx, p)
}

func TestWorkerKilledBetweenChargeAndPostingChargesOnceAndPostsOnce(t *testing.T) {
	tc := testenv.NewTemporal(t)
	mem := activities.NewMemory()
	pay := &countingPayments{Payments: mem, calls: map[string]int{}}
	led := &stallingLedger{Ledger: mem, reached: make(chan struct{})}
	acts := &activities.Activities{Payments: pay, Ledger: led, Projection: mem, Tracker: mem, Notifier: mem}
	newWorker := func() worker.Worker {
		w := worker.New(tc.Client, tc.TaskQueue, worker.Options{WorkerStopTimeout: 100 * time.Millisecond})
		workflows.Register(w)
		w.RegisterActivity(acts)
		require.NoError(t, w.Start())
		return w
	}
	w := newWorker()
	d := startDeal(t, tc, mem, "crash", nil)
	st := d.update(workflows.UpdateSubmitQuote, quote(supA))
	d.update(workflows.UpdateAcceptQuote, workflows.AcceptInput{Actor: buyer, QuoteID: st.Quotes[0].ID})
	d.signContract(buyer)
	d.signContract(supA)
	d.update(workflows.UpdatePay, workflows.PayInput{Actor: buyer, Step: activities.StepDeposit})

	select {
	case <-led.reached:
	case <-time.After(30 * time.Second):
		t.Fatal("the deposit's posting never started")
	}
	w.Stop() // killed with the posting in flight
	defer newWorker().Stop()

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		posted := 0
		for _, p := range mem.Postings() {
			if p.Kind == activities.StepDeposit {
				posted++
			}
		}
		assert.Equal(c, 1, posted, "deposit postings")
	}, 60*time.Second, 100*time.Millisecond)
	// A workflow task the stopped worker took as it stopped times out
	// first; a query waits for the task after it.
	var end workflows.DealState
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		var err error
		end, err = d.tryState()
		assert.NoError(c, err)
	}, 60*time.Second, 100*time.Millisecond)
	assert.Equal(t, map[string]int{workflows.DealWorkflowID(end.DealID) + "/deposit-1": 1}, pay.calls, "provider calls per idempotency key")
	assert.Equal(t, int64(234_000), mem.Balance(activities.EscrowAccount(end.DealID), "USD"))
	assert.Equal(t, workflows.StageProduction, end.Stage)
}
