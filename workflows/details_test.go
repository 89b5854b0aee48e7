package workflows

import (
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/activities"
)

// The marks send each detail when it changes and not again: a quote's
// revision sends that quote alone, a tracking feed only its new events, a
// corrected tracking number its shipment afresh.
func TestProjectionMarksSendOnlyWhatChanged(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ev := func(n int) activities.TrackEvent {
		return activities.TrackEvent{At: t0.Add(time.Duration(n) * time.Hour), Status: "in_transit", Location: "hub"}
	}
	st := DealState{Stage: StageQuoting, Quotes: []Quote{{ID: "q1", Status: QuoteOpen}, {ID: "q2", Status: QuoteOpen}}}
	var m projectionMarks

	d, money, next := m.changes(&st)
	if len(d.Quotes) != 2 || !money {
		t.Fatalf("first projection: %d quotes, money facts %v; want both quotes and the money facts", len(d.Quotes), money)
	}
	m = next
	if d, money, _ := m.changes(&st); !d.Empty() || money {
		t.Fatalf("nothing changed, yet %+v (money facts %v) would be sent", d, money)
	}

	st.Quotes[1].Revision, st.Quotes[1].MOQ = 2, 50
	d, money, m = m.changes(&st)
	if len(d.Quotes) != 1 || d.Quotes[0].ID != "q2" || d.Quotes[0].MOQ != 50 || money {
		t.Fatalf("revised q2: sent %+v, money facts %v; want q2's revision alone", d.Quotes, money)
	}

	st.Stage = StageShipping
	st.Shipment = &Shipment{Carrier: "dhl", TrackingNumber: "A1", Status: "in_transit", Events: []activities.TrackEvent{ev(1), ev(2), ev(3)}}
	d, money, m = m.changes(&st)
	if !money || len(d.Shipments) != 1 || d.Shipments[0].FirstEvent != 1 || len(d.Shipments[0].Shipment.Events) != 3 {
		t.Fatalf("shipped: %+v, money facts %v; want the shipment with events 1-3 and the money facts (new stage)", d.Shipments, money)
	}
	st.Shipment.Events = append(st.Shipment.Events, ev(4), ev(5))
	d, _, m = m.changes(&st)
	if len(d.Shipments) != 1 || d.Shipments[0].FirstEvent != 4 || !reflect.DeepEqual(d.Shipments[0].Shipment.Events, []activities.TrackEvent{ev(4), ev(5)}) {
		t.Fatalf("two more events: sent %+v, want events 4 and 5 alone", d.Shipments)
	}

	st.Shipment = &Shipment{Carrier: "dhl", TrackingNumber: "B2", Status: "in_transit", Events: []activities.TrackEvent{ev(6)}, Corrections: 1}
	d, _, _ = m.changes(&st)
	if len(d.Shipments) != 1 || d.Shipments[0].Shipment.TrackingNumber != "B2" || d.Shipments[0].FirstEvent != 1 || len(d.Shipments[0].Shipment.Events) != 1 {
		t.Fatalf("corrected tracking number: sent %+v, want B2 with its one event as event 1", d.Shipments)
	}
	if len(d.Quotes) != 0 || d.Dispute != nil || len(d.Payments) != 0 {
		t.Fatalf("unchanged details sent again: %+v", d)
	}

	// A dispute: its evidence once, then each new proposal alone.
	st.Dispute = &Dispute{Reason: "late", Evidence: []string{"e1", "e2"}, Proposals: []Proposal{{ID: "p1", ReleaseAmount: 10}}}
	d, _, m = m.changes(&st)
	if d.Dispute == nil || d.Dispute.FirstEvidence != 1 || len(d.Dispute.Dispute.Evidence) != 2 || len(d.Dispute.Dispute.Proposals) != 1 {
		t.Fatalf("opened dispute: sent %+v, want it with its 2 evidence items and its proposal", d.Dispute)
	}
	st.Dispute.Proposals = append(st.Dispute.Proposals, Proposal{ID: "p2", ReleaseAmount: 20})
	st.Dispute.Proposals[0].Status = "SUPERSEDED"
	d, _, _ = m.changes(&st)
	if d.Dispute == nil || len(d.Dispute.Dispute.Evidence) != 0 || len(d.Dispute.Dispute.Proposals) != 2 || d.Dispute.Dispute.Reason != "late" {
		t.Fatalf("a new proposal: sent %+v, want both changed proposals, the dispute's header and no evidence again", d.Dispute)
	}
}

// Through a whole deal, the projections carry every detail and the money
// facts as the deal ends, while sending the whole state only at its start
// and after its end.
func TestProjectionsAddUpToTheDeal(t *testing.T) {
	h := newHarness(t)
	var (
		mu   sync.Mutex
		sent []activities.DealProjection
	)
	h.mem.FailProjections(func(p activities.DealProjection) error {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, p)
		return nil
	})
	h.toInspection()
	h.update(7*m*60, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
	st := h.run(dealInput())
	h.ok("quote", "accept", "pay deposit", "pay balance", "ship", "accept goods")

	quotes, payments := map[string]Quote{}, map[string]Payment{}
	var goods *Shipment
	wholes := 0
	var last DealState
	var money moneyFacts
	for i, p := range sent {
		if len(p.State) > 0 {
			wholes++
			var s DealState
			if err := json.Unmarshal(p.State, &s); err != nil {
				t.Fatal(err)
			}
			if i > 0 && !s.Stage.Final() {
				t.Errorf("projection %d carries the whole state at stage %s, mid-deal", i, s.Stage)
			}
			last = s
		}
		if len(p.Money) > 0 {
			if err := json.Unmarshal(p.Money, &money); err != nil {
				t.Fatal(err)
			}
		}
		if len(p.Details) == 0 {
			continue
		}
		var d DealDetails
		if err := json.Unmarshal(p.Details, &d); err != nil {
			t.Fatal(err)
		}
		for _, q := range d.Quotes {
			if old, ok := quotes[q.ID]; ok && reflect.DeepEqual(old, q) {
				t.Errorf("projection %d sends quote %s again unchanged", i, q.ID)
			}
			quotes[q.ID] = q
		}
		for _, pay := range d.Payments {
			if old, ok := payments[pay.ID]; ok && reflect.DeepEqual(old, pay) {
				t.Errorf("projection %d sends payment %s again unchanged", i, pay.ID)
			}
			payments[pay.ID] = pay
		}
		for _, sh := range d.Shipments {
			if sh.Kind == "goods" {
				events := []activities.TrackEvent(nil)
				if goods != nil {
					events = goods.Events[:sh.FirstEvent-1]
				}
				s := sh.Shipment
				s.Events = append(events, s.Events...)
				goods = &s
			}
		}
	}
	if wholes == 0 || wholes >= len(sent) {
		t.Errorf("%d of %d projections carry the whole state; want some, not all", wholes, len(sent))
	}
	if !reflect.DeepEqual(last, st) {
		t.Errorf("the last whole state sent differs from the deal's end")
	}
	if !reflect.DeepEqual(money, moneyOf(&st)) {
		t.Errorf("the money facts projected last %+v, the deal ends with %+v", money, moneyOf(&st))
	}
	if len(quotes) != len(st.Quotes) || len(payments) != len(st.Payments) {
		t.Fatalf("projected %d quotes and %d payments, the deal has %d and %d", len(quotes), len(payments), len(st.Quotes), len(st.Payments))
	}
	for _, q := range st.Quotes {
		if !reflect.DeepEqual(quotes[q.ID], q) {
			t.Errorf("quote %s projected as %+v, the deal ends with %+v", q.ID, quotes[q.ID], q)
		}
	}
	for _, p := range st.Payments {
		if !reflect.DeepEqual(payments[p.ID], p) {
			t.Errorf("payment %s projected as %+v, the deal ends with %+v", p.ID, payments[p.ID], p)
		}
	}
	if goods == nil || goods.Status != st.Shipment.Status || !goods.DeliveredAt.Equal(st.Shipment.DeliveredAt) {
		t.Errorf("goods shipment projected as %+v, the deal ends with %+v", goods, st.Shipment)
	}
}
