package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/workflows"
)

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

// A read answers from a view the API kept of the deal only while the
// deal's version in the read model is the one the view was made from, and
// only to the viewer it was made for: another party reads its own view,
// a party not on the deal reads 404 however often the deal was read, and
// a change written by another process (here straight into PostgreSQL, as
// a worker's bookkeeping or another API replica writes) shows on the
// next read.
func TestKeptViewsAreEachViewersOwnAndNeverOutlastAChange(t *testing.T) {
	p := newPlatform(t)
	id := p.newDeal(false, "supplier", "supplier2")
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody()))
	for range 3 {
		if st := p.deal("buyer", id); len(st.Quotes) != 1 {
			t.Fatalf("the buyer reads %d quotes, want 1", len(st.Quotes))
		}
		if st := p.deal("supplier2", id); len(st.Quotes) != 0 || len(st.Invitations) != 1 {
			t.Fatalf("the other invited supplier reads %d quotes and %d invitations, want only its own (0, 1)", len(st.Quotes), len(st.Invitations))
		}
		for _, who := range []string{"supplier3", "buyer2", "mediator"} {
			p.must(http.StatusNotFound, p.do(who, "GET", p.path(id, ""), nil))
		}
	}
	if _, err := p.pool.Exec(context.Background(),
		`UPDATE deals SET state = jsonb_set(state, '{inquiry,destination}', '"Rotterdam"'), version = version + 1 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"buyer", "supplier", "supplier2"} {
		if st := p.deal(who, id); st.Inquiry.Destination != "Rotterdam" {
			t.Fatalf("after another process's write the %s reads the destination %q", who, st.Inquiry.Destination)
		}
	}
}
