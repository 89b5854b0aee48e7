package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/readmodel"
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
	var unav *unavailableError
	if err := <-first; !errors.As(err, &unav) {
		t.Fatalf("a reader that gave up: %v, want unavailable", err)
	}
	close(release)
	if st, err := reads.get(context.Background(), "d1", query); err != nil || st.DealID != "d1" {
		t.Fatalf("the next reader: %+v %v", st, err)
	}
}

// Reads come from the read model, and a party reads its own writes: the
// deal a created inquiry and each action answer with already shows the
// change, and so does a read sent right after, by either party; nothing
// waits for a later projection.
func TestActionsAnswerAndReadTheirOwnWrites(t *testing.T) {
	p := newPlatform(t)
	id := p.newDeal(false, "supplier")
	if st := p.deal("supplier", id); len(st.Invitations) != 1 || st.Stage != workflows.StageQuoting {
		t.Fatalf("the invited supplier reads the new deal as %s with %d invitations", st.Stage, len(st.Invitations))
	}
	var st workflows.DealState
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
	if len(st.Quotes) != 1 {
		t.Fatalf("the quote's answer shows %d quotes", len(st.Quotes))
	}
	supplier := p.orgs["supplier"].String()
	for i := range 10 {
		before := len(p.deal("buyer", id).Timeline)
		p.must(200, p.do("buyer", "POST", p.path(id, "/counter-offers"), map[string]any{
			"supplier_id": supplier, "target_unit_price": 380 - i, "message": fmt.Sprintf("offer %d", i),
		})).json(t, &st)
		if len(st.CounterOffers) != i+1 || len(st.Timeline) <= before {
			t.Fatalf("counter-offer %d answered with %d counter-offers, timeline %d entries (was %d)", i+1, len(st.CounterOffers), len(st.Timeline), before)
		}
		for _, who := range []string{"buyer", "supplier"} {
			if got := p.deal(who, id); len(got.CounterOffers) != i+1 || len(got.Timeline) < len(st.Timeline) {
				t.Fatalf("right after counter-offer %d the %s reads %d counter-offers and %d timeline entries", i+1, who, len(got.CounterOffers), len(got.Timeline))
			}
		}
	}
}

// A create is answered without asking the deal's workflow: the answer is
// the deal's opening state, which the workflow then holds too.
func TestCreateAnswersWithTheStateTheWorkflowHolds(t *testing.T) {
	p := newPlatform(t)
	var created workflows.DealState
	r := p.must(http.StatusCreated, p.do("buyer", "POST", "/v1/deals", map[string]any{
		"product": "cotton t-shirts", "quantity": 2000, "unit": "pcs", "currency": "USD", "destination": "Hamburg",
		"suppliers": []string{p.orgs["supplier"].String(), p.orgs["supplier2"].String()},
	}))
	r.json(t, &created)
	if loc := r.header.Get("Location"); loc != "/v1/deals/"+created.DealID {
		t.Fatalf("Location %q", loc)
	}
	// The API wrote the deal's opening round as it answered: the read
	// model holds the deal, and the outbox the suppliers' invitations.
	kept, err := readmodel.New(p.pool).Kept(context.Background(), created.DealID)
	if err != nil || !kept.Whole || len(kept.State.Invitations) != len(created.Invitations) {
		t.Fatalf("the read model right after the create: %+v (%v)", kept, err)
	}
	notes, err := store.New(p.pool).DealNotifications(context.Background(), created.DealID)
	if err != nil || len(notes) != len(created.Invitations) {
		t.Fatalf("the outbox right after the create: %+v (%v), want one invitation per supplier invited", notes, err)
	}
	held := p.deal("buyer", created.DealID) // the read model
	v, err := p.tc.Client.QueryWorkflow(context.Background(), workflows.DealWorkflowID(created.DealID), "", workflows.QueryState)
	if err != nil {
		t.Fatal(err)
	}
	var wf workflows.DealState
	if err := v.Get(&wf); err != nil {
		t.Fatal(err)
	}
	for _, other := range []workflows.DealState{wf, held} {
		if created.Stage != other.Stage || created.Inquiry != other.Inquiry || len(created.Timeline) != len(other.Timeline) ||
			len(created.Invitations) != len(other.Invitations) || len(created.Deadlines) != len(other.Deadlines) {
			t.Fatalf("created %+v\nheld %+v", created, other)
		}
		// The read model keeps microseconds.
		same := func(a, b time.Time) bool { return a.Sub(b).Abs() < time.Microsecond }
		for i, e := range created.Timeline {
			if e.Type != other.Timeline[i].Type || !same(e.At, other.Timeline[i].At) || e.Detail != other.Timeline[i].Detail {
				t.Errorf("timeline %d: created %+v, held %+v", i, e, other.Timeline[i])
			}
		}
		for i, inv := range created.Invitations {
			if inv.SupplierID != other.Invitations[i].SupplierID || !same(inv.DueAt, other.Invitations[i].DueAt) {
				t.Errorf("invitation %d: created %+v, held %+v", i, inv, other.Invitations[i])
			}
		}
		for k, at := range created.Deadlines {
			if !same(at, other.Deadlines[k]) {
				t.Errorf("deadline %s: created %s, held %s", k, at, other.Deadlines[k])
			}
		}
	}
	if time.Since(created.Timeline[0].At).Abs() > time.Minute {
		t.Errorf("the deal opened at %s", created.Timeline[0].At)
	}
}
