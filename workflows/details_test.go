package workflows

import (
	"encoding/json"
	"reflect"
	"strings"
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

	d, sections, next := m.changes(&st, nil)
	if len(d.Quotes) != 2 || string(sections["stage"]) != `"QUOTING"` || sections["quotes"] != nil || sections["timeline"] != nil {
		t.Fatalf("first projection: %d quotes, sections %s; want both quotes and every section but the rows", len(d.Quotes), sections)
	}
	m = next
	if d, sections, _ := m.changes(&st, nil); !d.Empty() || len(sections) > 0 {
		t.Fatalf("nothing changed, yet %+v (sections %s) would be sent", d, sections)
	}

	st.Quotes[1].Revision, st.Quotes[1].MOQ = 2, 50
	d, sections, m = m.changes(&st, nil)
	if len(d.Quotes) != 1 || d.Quotes[0].ID != "q2" || d.Quotes[0].MOQ != 50 || len(sections) > 0 {
		t.Fatalf("revised q2: sent %+v, sections %s; want q2's revision alone", d.Quotes, sections)
	}

	st.Stage = StageShipping
	st.Shipment = &Shipment{Carrier: "dhl", TrackingNumber: "A1", Status: "in_transit", Events: []activities.TrackEvent{ev(1), ev(2), ev(3)}}
	d, sections, m = m.changes(&st, nil)
	if len(sections) != 1 || string(sections["stage"]) != `"SHIPPING"` || len(d.Shipments) != 1 || d.Shipments[0].FirstEvent != 1 || len(d.Shipments[0].Shipment.Events) != 3 {
		t.Fatalf("shipped: %+v, sections %s; want the shipment with events 1-3 and the stage alone", d.Shipments, sections)
	}
	st.Shipment.Events = append(st.Shipment.Events, ev(4), ev(5))
	d, _, m = m.changes(&st, nil)
	if len(d.Shipments) != 1 || d.Shipments[0].FirstEvent != 4 || !reflect.DeepEqual(d.Shipments[0].Shipment.Events, []activities.TrackEvent{ev(4), ev(5)}) {
		t.Fatalf("two more events: sent %+v, want events 4 and 5 alone", d.Shipments)
	}

	st.Shipment = &Shipment{Carrier: "dhl", TrackingNumber: "B2", Status: "in_transit", Events: []activities.TrackEvent{ev(6)}, Corrections: 1}
	d, _, _ = m.changes(&st, nil)
	if len(d.Shipments) != 1 || d.Shipments[0].Shipment.TrackingNumber != "B2" || d.Shipments[0].FirstEvent != 1 || len(d.Shipments[0].Shipment.Events) != 1 {
		t.Fatalf("corrected tracking number: sent %+v, want B2 with its one event as event 1", d.Shipments)
	}
	if len(d.Quotes) != 0 || d.Dispute != nil || len(d.Payments) != 0 {
		t.Fatalf("unchanged details sent again: %+v", d)
	}

	// A dispute: its evidence once, then each new proposal alone.
	st.Dispute = &Dispute{Reason: "late", Evidence: []string{"e1", "e2"}, Proposals: []Proposal{{ID: "p1", ReleaseAmount: 10}}}
	d, _, m = m.changes(&st, nil)
	if d.Dispute == nil || d.Dispute.FirstEvidence != 1 || len(d.Dispute.Dispute.Evidence) != 2 || len(d.Dispute.Dispute.Proposals) != 1 {
		t.Fatalf("opened dispute: sent %+v, want it with its 2 evidence items and its proposal", d.Dispute)
	}
	st.Dispute.Proposals = append(st.Dispute.Proposals, Proposal{ID: "p2", ReleaseAmount: 20})
	st.Dispute.Proposals[0].Status = "SUPERSEDED"
	d, _, m = m.changes(&st, nil)
	if d.Dispute == nil || !d.Dispute.ProposalsOnly || len(d.Dispute.Dispute.Evidence) != 0 || len(d.Dispute.Dispute.Proposals) != 2 || d.Dispute.Dispute.Reason != "" {
		t.Fatalf("a new proposal: sent %+v, want both changed proposals alone, without the dispute's reasons or evidence again", d.Dispute)
	}
	st.Dispute.Answer = "shipped in full"
	d, _, m = m.changes(&st, nil)
	if d.Dispute == nil || d.Dispute.ProposalsOnly || d.Dispute.Dispute.Answer != "shipped in full" || len(d.Dispute.Dispute.Proposals) != 0 {
		t.Fatalf("answered dispute: sent %+v, want its header with the answer and no proposal again", d.Dispute)
	}

	// Production: each progress report once, and the section without them.
	st.Production = &Production{ShipBy: t0, Progress: []ProgressReport{{Percent: 10, Note: "cut"}, {Percent: 20, Note: "sewn"}}}
	d, sections, m = m.changes(&st, nil)
	if d.Progress == nil || d.Progress.FirstReport != 1 || len(d.Progress.Reports) != 2 || !strings.Contains(string(sections["production"]), `"progress":null`) {
		t.Fatalf("production with 2 reports: sent %+v, section %s; want reports 1-2 and the section without them", d.Progress, sections["production"])
	}
	st.Production.Progress = append(st.Production.Progress, ProgressReport{Percent: 30, Note: "packed"})
	d, sections, m = m.changes(&st, nil)
	if d.Progress == nil || d.Progress.FirstReport != 3 || len(d.Progress.Reports) != 1 || len(sections) > 0 {
		t.Fatalf("a third report: sent %+v, sections %s; want report 3 alone", d.Progress, sections)
	}

	// The marks a run hands to the next send nothing again there.
	carried := m.export()
	raw, err := json.Marshal(carried)
	if err != nil {
		t.Fatal(err)
	}
	var back *ProjectedMarks
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if d, sections, _ := back.marks().changes(&st, nil); !d.Empty() || len(sections) > 0 {
		t.Fatalf("the next run, with the marks carried, would send %+v, sections %s again", d, sections)
	}
	if d, _, _ := (*ProjectedMarks)(nil).marks().changes(&st, nil); d.Progress == nil || d.Dispute == nil || len(d.Quotes) != 2 {
		t.Fatalf("a run without marks sends %+v; want every detail once", d)
	}
}

// Through a whole deal, the projections, applied one after the other as
// the read model does, add up to the deal's end, though none carries the
// whole state, and none sends a row again that is unchanged since the last
// round the deal saw written (a round an action hands off carries what
// changed since then, which the round confirming it sends once more).
func TestProjectionsAddUpToTheDeal(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(h *harness) DealState
	}{
		{"accepted", func(h *harness) DealState {
			h.toInspection()
			h.update(150*m, "progress again", UpdateReportProgress, ProgressInput{Actor: supA, Percent: 80, Note: "packing"})
			h.update(7*m*60, "accept goods", UpdateAcceptDelivery, ActorInput{Actor: buyer})
			st := h.run(dealInput())
			h.ok("quote", "accept", "pay deposit", "progress", "progress again", "pay balance", "ship", "accept goods")
			if n := len(st.Production.Progress); n != 2 {
				t.Fatalf("%d progress reports, want 2", n)
			}
			return st
		}},
		{"disputed", func(h *harness) DealState {
			h.toInspection()
			h.update(7*time.Hour, "dispute", UpdateOpenDispute, DisputeInput{Actor: buyer, Reason: "short", Remedy: "refund", Evidence: []string{"photo-1", "photo-2"}})
			h.update(8*time.Hour, "answer", UpdateAnswerDispute, ActorInput{Actor: supA, Note: "all shipped"})
			h.update(9*time.Hour, "propose", UpdateProposeSettlement, ProposalInput{Actor: supA, ReleaseAmount: 500_000, Note: "half"})
			h.update(9*time.Hour+10*m, "counter", UpdateProposeSettlement, ProposalInput{Actor: buyer, ReleaseAmount: 100_000, Note: "a tenth"})
			h.update(9*time.Hour+20*m, "propose again", UpdateProposeSettlement, ProposalInput{Actor: supA, ReleaseAmount: 400_000, Note: "less"})
			h.update(10*time.Hour, "accept proposal", UpdateAcceptSettlement, AcceptProposalInput{Actor: buyer, ProposalID: "p3"})
			st := h.run(dealInput())
			h.ok("dispute", "answer", "propose", "counter", "propose again", "accept proposal")
			return st
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
			st := tc.run(h)

			var kept DealState
			quotes, payments := map[string]Quote{}, map[string]Payment{}
			handedOff := 0
			for i, p := range sent {
				confirming := !h.handedOffRound(p.Round)
				if !confirming {
					handedOff++
				}
				if len(p.State) > 0 || len(p.Money) > 0 {
					t.Errorf("projection %d carries the whole state or money facts", i)
				}
				var d DealDetails
				if len(p.Details) > 0 {
					if err := json.Unmarshal(p.Details, &d); err != nil {
						t.Fatal(err)
					}
				}
				for _, q := range d.Quotes {
					if old, ok := quotes[q.ID]; ok && reflect.DeepEqual(old, q) {
						t.Errorf("projection %d sends quote %s again unchanged", i, q.ID)
					}
				}
				for _, pay := range d.Payments {
					if old, ok := payments[pay.ID]; ok && reflect.DeepEqual(old, pay) {
						t.Errorf("projection %d sends payment %s again unchanged", i, pay.ID)
					}
				}
				if confirming {
					for _, q := range d.Quotes {
						quotes[q.ID] = q
					}
					for _, pay := range d.Payments {
						payments[pay.ID] = pay
					}
				}
				var err error
				if kept, err = ApplyProjection(kept, nil, p.Sections, d); err != nil {
					t.Fatal(err)
				}
				// Applied twice (a retried projection), nothing changes.
				again, err := ApplyProjection(kept, nil, p.Sections, d)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(again, kept) {
					t.Fatalf("projection %d applied twice differs from once", i)
				}
			}
			if handedOff == 0 {
				t.Error("no action handed its round of bookkeeping off")
			}
			want := st
			want.Timeline = nil
			if want.Shipment != nil {
				sh := *want.Shipment
				sh.Events = nil
				want.Shipment = &sh
			}
			if want.Sample != nil && want.Sample.Shipment != nil {
				sample, sh := *want.Sample, *want.Sample.Shipment
				sh.Events = nil
				sample.Shipment = &sh
				want.Sample = &sample
			}
			got, _ := json.Marshal(kept)
			wantJSON, _ := json.Marshal(want)
			if string(got) != string(wantJSON) {
				t.Errorf("the projections add up to\n%s\nthe deal ends with\n%s", got, wantJSON)
			}
		})
	}
}

// A part the deal changed in a round since the confirmed one and brought
// back is sent again: differing names it (a row, a section, a section
// gone), and changes sends what it names whatever its value, a section
// the state no longer has as null.
func TestPartsThatChangedSinceTheConfirmedRoundAreSentAgain(t *testing.T) {
	contract := &Contract{TermsSHA256: "abc"}
	confirmedState := DealState{Stage: StageContract, Contract: contract, Quotes: []Quote{{ID: "q1", Status: QuoteAccepted}}}
	var none projectionMarks
	_, _, confirmed := none.changes(&confirmedState, nil)

	away := DealState{Stage: StageSample, Quotes: confirmedState.Quotes, Sample: &SampleState{Status: SampleRequested}}
	_, sections, made := confirmed.changes(&away, nil)
	if string(sections["stage"]) != `"SAMPLE"` || string(sections["contract"]) != "null" {
		t.Fatalf("the round away: %s", sections)
	}
	resend := confirmed.differing(made, nil)
	for _, k := range []string{"section/stage", "section/contract", "section/sample"} {
		if !resend[k] {
			t.Errorf("%s changed in a round made and is not to be sent again (%v)", k, resend)
		}
	}
	if resend["quote/q1"] {
		t.Error("an unchanged quote is to be sent again")
	}

	back := DealState{Stage: StageContract, Contract: contract, Quotes: confirmedState.Quotes}
	if _, sections, _ := confirmed.changes(&back, nil); sections["stage"] != nil {
		t.Fatalf("without resend the stage back at its confirmed value is not sent (the fault this guards): %s", sections)
	}
	d, sections, _ := confirmed.changes(&back, resend)
	if string(sections["stage"]) != `"CONTRACT"` || !strings.Contains(string(sections["contract"]), "abc") || string(sections["sample"]) != "null" {
		t.Fatalf("the round back: %s", sections)
	}
	if len(d.Quotes) != 0 {
		t.Errorf("the round back sends %d unchanged quotes", len(d.Quotes))
	}
}
