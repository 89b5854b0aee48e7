package deals

import (
	"context"
	"sync"
	"time"

	"github.com/tradeloop/tradeloop/workflows"
)

// dealReads runs at most one state query per deal at a time. Readers that
// arrive while a deal's query runs wait for it; they take its answer only
// if it started after they arrived, and otherwise wait for (or start) the
// next one, so every reader sees the deal at least as it was when it asked:
// an action's effect is never hidden from a request that follows it. A
// crowd of readers, or of retries, thus costs the worker one query after
// another per deal, never a growing queue of them.
type dealReads struct {
	mu       sync.Mutex
	inflight map[string]*dealRead
}

// dealRead is one deal's query: its answer once done is closed.
type dealRead struct {
	started time.Time
	done    chan struct{}
	st      workflows.DealState
	err     error
}

// get returns the deal's state from a query that started no earlier than
// this call; query runs the query itself, detached from any one reader.
func (r *dealReads) get(ctx context.Context, dealID string, query func() (workflows.DealState, error)) (workflows.DealState, error) {
	arrived := time.Now()
	for {
		r.mu.Lock()
		if r.inflight == nil {
			r.inflight = map[string]*dealRead{}
		}
		cur := r.inflight[dealID]
		if cur == nil {
			cur = &dealRead{started: time.Now(), done: make(chan struct{})}
			r.inflight[dealID] = cur
			go func() {
				st, err := query()
				r.mu.Lock()
				delete(r.inflight, dealID)
				r.mu.Unlock()
				cur.st, cur.err = st, err
				close(cur.done)
			}()
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return workflows.DealState{}, &UnavailableError{cause: ctx.Err()}
		case <-cur.done:
		}
		if !cur.started.Before(arrived) {
			return cur.st, cur.err
		}
	}
}
