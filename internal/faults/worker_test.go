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
// the money moved, the activity will run again), twice at random. Every
// deal must complete, each payment must have been made once at the
// provider, and the ledger must balance per deal.
func TestWorkerKilledMidDeals(t *testing.T) {
	ctx := testContext(t, 4*time.Minute)
	p := newPlatform(t, ctx, setup{stripe: true})
	c := &crasher{t: t, proc: p.worker}
	defer c.report()

	// Two crashes inside provider calls, at random among the first objects
	// the provider makes (a deal makes about five).
	first := 2 + rand.N(int32(10))
	second := first + 10 + rand.N(int32(30))
	var created atomic.Int32
	p.stripe.Created = func(kind, key string) {
		if n := created.Add(1); n == first || n == second {
			c.crash("after the provider made "+kind+" "+key, time.Duration(rand.N(500))*time.Millisecond)
		}
	}
	// Two crashes at random moments of the deals.
	stop := make(chan struct{})
	defer close(stop)
	began := time.Now()
	go func() {
		for _, at := range randomDurations(2, time.Second, 12*time.Second) {
			select {
			case <-stop:
				return
			case <-time.After(time.Until(began.Add(at))):
			}
			c.crash("at random", time.Duration(rand.N(1000))*time.Millisecond)
		}
	}()

	kinds := mix(20)
	results := p.runDeals(kinds, p.parties(len(kinds)))
	t.Logf("20 deals ended in %s with %d worker kills", time.Since(began).Truncate(time.Second), c.kills.Load())
	deals := p.final(results)
	p.checkProvider(deals)
	p.checkLedger(deals)
	if c.kills.Load() < 3 {
		t.Errorf("only %d kills happened", c.kills.Load())
	}
	if p.stripe.Replays() == 0 {
		t.Error("no provider call was repeated: the kills missed every payment")
	}
}
