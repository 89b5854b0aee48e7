package faults

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// Twenty deals run at once while the worker process is killed (SIGKILL)
// four times: twice the moment the payment provider has made a payment,
// transfer or refund and before the worker hears of it (the worst moment:
// the money moved, the activity will run again), twice at random moments
// of the deals. Every deal must complete, each payment must have been made
// once at the provider, and the ledger must balance per deal.
func workerKilledMidDeals(t *testing.T) {
	ctx := testContext(t)
	p := newPlatform(t, ctx, setup{stripe: true})
	c := &crasher{t: t, proc: p.worker}
	defer c.report()
	var faults schedule

	// Two crashes inside provider calls, at random among the first objects
	// the provider makes (a deal makes four to six, twenty deals at least
	// eighty).
	first := int64(2 + rand.N(10))
	second := first + 10 + rand.N(int64(30))
	var created atomic.Int64
	for _, at := range []int64{first, second} {
		faults.add(at, func() {
			c.crash("after the provider made its object number "+itoa(at), time.Duration(rand.N(500))*time.Millisecond)
		})
	}
	p.onCreated = func(kind, key string) {
		// The kill happens before the fake answers: the object exists, the
		// worker never learns of it.
		faults.reached(created.Add(1))
	}
	// Two crashes at random moments of the deals: after a random number of
	// the parties' requests have been answered (the twenty deals make 244).
	var moments schedule
	at := int64(5 + rand.N(40))
	for _, mark := range []int64{at, at + 20 + rand.N(int64(60))} {
		moments.add(mark, func() {
			c.crash("after "+itoa(mark)+" answers to the parties", time.Duration(rand.N(1000))*time.Millisecond)
		})
	}
	p.onAnswer = moments.reached

	kinds := mix(20)
	began := time.Now()
	results := p.runDeals(kinds, p.parties(len(kinds)))
	t.Logf("20 deals ended in %s with %d worker kills", time.Since(began).Truncate(time.Second), c.kills.Load())
	faults.check(t)
	moments.check(t)
	deals := p.final(results)
	p.checkProvider(deals)
	p.checkLedger(deals)
	if c.kills.Load() != 4 {
		t.Errorf("the worker was killed %d times, want 4", c.kills.Load())
	}
	if p.stripe.Replays() == 0 {
		t.Error("no provider call was repeated: the kills missed every payment")
	}
}
