package deals

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tradeloop/tradeloop/workflows"
)

// Many readers of one deal: never two queries of it at once, and every
// reader gets the answer of a query that started after it asked, so an
// action's effect is never hidden from the request that follows it.
func TestDealReadsRunOneQueryAtATimeAndNeverAnswerStale(t *testing.T) {
	var (
		reads            dealReads
		started, running atomic.Int32
		maxRunning       atomic.Int32
		release          = make(chan struct{})
	)
	query := func() (workflows.DealState, error) {
		n := started.Add(1)
		if r := running.Add(1); r > maxRunning.Load() {
			maxRunning.Store(r)
		}
		<-release
		running.Add(-1)
		return workflows.DealState{DealID: fmt.Sprint(n)}, nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			before := started.Load() // queries started before this reader asked
			st, err := reads.get(context.Background(), "d1", query)
			if err != nil {
				errs <- err
				return
			}
			var n int32
			fmt.Sscan(st.DealID, &n)
			if n <= before {
				errs <- fmt.Errorf("answered by query %d, which started before the reader asked (%d had)", n, before)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for {
		select {
		case release <- struct{}{}:
			continue
		case <-done:
		}
		break
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if maxRunning.Load() != 1 {
		t.Fatalf("%d queries of one deal ran at once, want 1", maxRunning.Load())
	}
	t.Logf("50 readers, %d queries", started.Load())
}

// A reader that gives up gets 503's error at once; the query it started
// still answers the readers that wait for it.
func TestDealReadsReaderGivingUpLeavesTheQueryToOthers(t *testing.T) {
	var reads dealReads
	release := make(chan struct{})
	query := func() (workflows.DealState, error) {
		<-release
		return workflows.DealState{DealID: "d1"}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := reads.get(ctx, "d1", query)
		first <- err
	}()
	cancel()
	var unav *UnavailableError
	if err := <-first; !errors.As(err, &unav) {
		t.Fatalf("a reader that gave up: %v, want unavailable", err)
	}
	close(release)
	if st, err := reads.get(context.Background(), "d1", query); err != nil || st.DealID != "d1" {
		t.Fatalf("the next reader: %+v %v", st, err)
	}
}
