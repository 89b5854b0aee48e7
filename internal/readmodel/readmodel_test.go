package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/workflows"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// projection builds a projection of a deal with n events: its first, with
// the whole state and the supplier's invitation.
func projection(t *testing.T, id, buyer, supplier, stage string, created time.Time, n int) activities.DealProjection {
	t.Helper()
	st := workflows.DealState{DealID: id, Stage: workflows.Stage(stage), Currency: "USD", Total: 1000, SupplierID: supplier,
		Inquiry:     workflows.Inquiry{BuyerOrgID: buyer, Product: "bolts", Quantity: 10, Currency: "USD"},
		Invitations: []workflows.Invitation{{SupplierID: supplier, Status: workflows.InvitationQuoted, InvitedAt: created, DueAt: created.Add(2 * time.Hour)}},
	}
	var evs []activities.ProjectedEvent
	for i := range n {
		at := created.Add(time.Duration(i) * time.Minute)
		st.Timeline = append(st.Timeline, workflows.Event{At: at, Type: workflows.EventType(fmt.Sprintf("e%d", i+1))})
		evs = append(evs, activities.ProjectedEvent{Seq: i + 1, At: at, Type: fmt.Sprintf("e%d", i+1)})
	}
	state, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	details, err := json.Marshal(workflows.DealDetails{Invitations: st.Invitations})
	if err != nil {
		t.Fatal(err)
	}
	return activities.DealProjection{DealID: id, Stage: stage, BuyerOrgID: buyer, SupplierOrgID: supplier, Product: "bolts",
		Quantity: 10, Total: 1000, Currency: "USD", CreatedAt: created, LastSeq: n, Events: evs, Details: details, State: state}
}

func TestProjectionIsIdempotentAndNeverGoesBack(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Postgres(t))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	newer := projection(t, "d1", "b1", "s1", "CONTRACT", t0, 5)
	older := projection(t, "d1", "b1", "s1", "QUOTING", t0, 3)
	for _, p := range []activities.DealProjection{older, newer, newer, older} {
		if err := s.Project(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Deal(ctx, "d1")
	if err != nil || st.Stage != workflows.StageContract {
		t.Fatalf("stage %s (%v), want the newer CONTRACT", st.Stage, err)
	}
	evs, _ := s.Timeline(ctx, "d1")
	if len(evs) != 5 {
		t.Fatalf("%d events after replays, want 5", len(evs))
	}
	if _, err := s.Deal(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown deal: %v", err)
	}
}

// A deal's version rises with every projection written to it, and only
// then: one that arrives after a newer one writes nothing and leaves it.
// Kept reads the version with the state and timeline it goes with.
func TestEveryProjectionWrittenRaisesTheDealsVersion(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Postgres(t))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	older := projection(t, "d1", "b1", "s1", "QUOTING", t0, 3)
	newer := projection(t, "d1", "b1", "s1", "CONTRACT", t0, 5)
	for i, step := range []struct {
		p       activities.DealProjection
		version int64
		stage   workflows.Stage
		events  int
	}{{older, 1, workflows.StageQuoting, 3}, {newer, 2, workflows.StageContract, 5}, {newer, 3, workflows.StageContract, 5}, {older, 3, workflows.StageContract, 5}} {
		if err := s.Project(ctx, step.p); err != nil {
			t.Fatal(err)
		}
		v, whole, err := s.Version(ctx, "d1")
		if err != nil || v != step.version || !whole {
			t.Fatalf("after projection %d: version %d (whole %v, %v), want %d", i+1, v, whole, err, step.version)
		}
		k, err := s.Kept(ctx, "d1")
		if err != nil || k.Version != step.version || k.State.Stage != step.stage || len(k.State.Timeline) != step.events {
			t.Fatalf("after projection %d: kept version %d, stage %s, %d events (%v); want %d, %s, %d",
				i+1, k.Version, k.State.Stage, len(k.State.Timeline), err, step.version, step.stage, step.events)
		}
	}
	if _, _, err := s.Version(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("version of an unknown deal: %v", err)
	}
	if _, err := s.Kept(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown deal kept: %v", err)
	}
	for range 20 { // more reads than the pool has connections: none left in a transaction
		if k, err := s.Kept(ctx, "d1"); err != nil || k.Version != 3 {
			t.Fatalf("after unknown deals: version %d, %v", k.Version, err)
		}
	}
}

func TestListsArePerViewerFilteredAndPaged(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Postgres(t))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 7 {
		stage, supplier := "QUOTING", "s1"
		if i%2 == 1 {
			stage, supplier = "MEDIATION", "s2"
		}
		if err := s.Project(ctx, projection(t, fmt.Sprintf("d%d", i), "b1", supplier, stage, t0.Add(time.Duration(i)*time.Hour), 1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Project(ctx, projection(t, "other", "b2", "s1", "QUOTING", t0, 1)); err != nil {
		t.Fatal(err)
	}
	// A dispute the parties still settle between them is no mediator's.
	if err := s.Project(ctx, projection(t, "talks", "b3", "s3", "DISPUTE", t0, 1)); err != nil {
		t.Fatal(err)
	}
	var ids []string
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := s.List(ctx, Viewer{Role: workflows.RoleBuyer, OrgID: "b1"}, Filter{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range page.Deals {
			ids = append(ids, d.ID)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if fmt.Sprint(ids) != "[d6 d5 d4 d3 d2 d1 d0]" {
		t.Fatalf("buyer pages %v, want newest first, each once, and not another buyer's", ids)
	}
	page, _ := s.List(ctx, Viewer{Role: workflows.RoleBuyer, OrgID: "b1"}, Filter{Stage: "MEDIATION", Counterparty: "s2", From: t0.Add(2 * time.Hour)})
	if len(page.Deals) != 2 || page.Deals[0].ID != "d5" || page.Deals[1].ID != "d3" {
		t.Fatalf("filtered %+v, want d5 and d3 (d1 is before From)", page.Deals)
	}
	page, _ = s.List(ctx, Viewer{Role: workflows.RoleSupplier, OrgID: "s1"}, Filter{})
	if len(page.Deals) != 5 {
		t.Fatalf("supplier s1 sees %d deals, want its 5 invitations", len(page.Deals))
	}
	page, _ = s.List(ctx, Viewer{Role: workflows.RoleMediator}, Filter{})
	if len(page.Deals) != 3 {
		t.Fatalf("mediator sees %d deals, want the 3 in mediation", len(page.Deals))
	}
	if _, err := s.List(ctx, Viewer{Role: workflows.RoleBuyer, OrgID: "b1"}, Filter{Cursor: "!!"}); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
}

// Projections recorded before sections (a deal in flight when the read
// model began keeping whole states): the whole state of the first, the
// money facts sent since written over it, and the timeline as its table
// holds it; a projection with neither keeps what is there.
func TestStateKeepsTheInquiryTakesMoneyAndTheWholeTimeline(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Postgres(t))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	first := projection(t, "d1", "b1", "s1", "QUOTING", t0, 1)
	if err := s.Project(ctx, first); err != nil {
		t.Fatal(err)
	}
	later := projection(t, "d1", "b1", "s1", "PRODUCTION", t0, 4)
	later.State, later.Details = nil, nil
	later.Money = []byte(`{"stage":"PRODUCTION","supplier_id":"s1","payments":[{"id":"deposit-1","kind":"charge","amount":300,"status":"succeeded"}],"escrow":{"held":300}}`)
	if err := s.Project(ctx, later); err != nil {
		t.Fatal(err)
	}
	quiet := projection(t, "d1", "b1", "s1", "PRODUCTION", t0, 5)
	quiet.State, quiet.Details = nil, nil
	if err := s.Project(ctx, quiet); err != nil {
		t.Fatal(err)
	}
	st, err := s.Deal(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if st.Inquiry.Product != "bolts" || st.Stage != workflows.StageProduction || st.Escrow.Held != 300 || len(st.Payments) != 1 || st.Payments[0].ID != "deposit-1" {
		t.Fatalf("kept state: inquiry %q stage %s escrow %+v payments %+v; want the first projection's inquiry with the money facts over it",
			st.Inquiry.Product, st.Stage, st.Escrow, st.Payments)
	}
	if len(st.Timeline) != 5 || st.Timeline[4].Type != "e5" {
		t.Fatalf("timeline of %d entries, want the 5 projected", len(st.Timeline))
	}
}

// The state the read model keeps from projections that carry only what
// changed: sections written over their fields, rows by their keys, a
// retried projection changing nothing, and the timeline (with whom each
// entry concerns) and tracking events from their own tables.
func TestStateIsKeptWholeFromWhatChanged(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Postgres(t))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	raw := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	base := func(stage string, n int) activities.DealProjection {
		p := projection(t, "d1", "b1", "s1", stage, t0, n)
		p.State, p.Details, p.Events = nil, nil, p.Events[len(p.Events)-1:]
		return p
	}
	first := base("QUOTING", 1)
	first.Sections = raw(map[string]any{"deal_id": "d1", "stage": "QUOTING", "inquiry": workflows.Inquiry{BuyerOrgID: "b1", Product: "bolts", Quantity: 10}, "currency": "USD", "counter_offers": nil})
	first.Details = raw(workflows.DealDetails{Quotes: []workflows.Quote{{ID: "q1", SupplierID: "s1", Revision: 1, UnitPrice: 10}, {ID: "q2", SupplierID: "s2", UnitPrice: 12}}})
	first.Events[0].About = "s2"
	second := base("SHIPPING", 2)
	second.Sections = raw(map[string]any{"stage": "SHIPPING", "escrow": workflows.Escrow{Held: 300}})
	second.Details = raw(workflows.DealDetails{
		Quotes:    []workflows.Quote{{ID: "q1", SupplierID: "s1", Revision: 2, UnitPrice: 9}},
		Payments:  []workflows.Payment{{ID: "deposit-1", Kind: workflows.PaymentCharge, Amount: 300, Status: workflows.PaymentSucceeded}},
		Shipments: []workflows.ShipmentDetails{{Kind: "goods", FirstEvent: 1, Shipment: workflows.Shipment{Carrier: "dhl", TrackingNumber: "T1", Status: "in_transit", ShippedAt: t0, Events: []activities.TrackEvent{{At: t0, Status: "picked_up"}}}}},
		Dispute:   &workflows.DisputeDetails{FirstEvidence: 1, Dispute: workflows.Dispute{Reason: "late", Evidence: []string{"e1", "e2"}}},
	})
	third := base("SHIPPING", 2) // a tracking event and evidence, no timeline entry
	third.Details = raw(workflows.DealDetails{
		Shipments: []workflows.ShipmentDetails{{Kind: "goods", FirstEvent: 2, Shipment: workflows.Shipment{Carrier: "dhl", TrackingNumber: "T1", Status: "delivered", ShippedAt: t0, Events: []activities.TrackEvent{{At: t0.Add(time.Hour), Status: "delivered"}}}}},
		Dispute:   &workflows.DisputeDetails{FirstEvidence: 3, Dispute: workflows.Dispute{Reason: "late", Evidence: []string{"e3"}, Answer: "on its way", Status: "ANSWERED"}},
	})
	// Production's section without its reports, which come once each; a
	// proposal alone, without the dispute's reasons again.
	fourth := base("SHIPPING", 2)
	fourth.Sections = raw(map[string]any{"production": workflows.Production{ShipBy: t0, Extensions: 1}})
	fourth.Details = raw(workflows.DealDetails{
		Progress: &workflows.ProgressDetails{FirstReport: 1, Reports: []workflows.ProgressReport{{Percent: 10, Note: "cut"}, {Percent: 20, Note: "sewn"}}},
		Dispute:  &workflows.DisputeDetails{FirstEvidence: 4, ProposalsOnly: true, Dispute: workflows.Dispute{Proposals: []workflows.Proposal{{ID: "p1", By: "s1", ReleaseAmount: 100, Status: "OPEN"}}}},
	})
	fifth := base("SHIPPING", 2)
	fifth.Sections = raw(map[string]any{"production": workflows.Production{ShipBy: t0, Extensions: 2}})
	fifth.Details = raw(workflows.DealDetails{
		Progress: &workflows.ProgressDetails{FirstReport: 3, Reports: []workflows.ProgressReport{{Percent: 30, Note: "packed"}}},
		Dispute: &workflows.DisputeDetails{FirstEvidence: 4, ProposalsOnly: true, Dispute: workflows.Dispute{Proposals: []workflows.Proposal{
			{ID: "p1", By: "s1", ReleaseAmount: 100, Status: "SUPERSEDED"}, {ID: "p2", By: "s1", ReleaseAmount: 90, Status: "OPEN"},
		}}},
	})
	first.Round, second.Round, third.Round, fourth.Round, fifth.Round = 1, 2, 3, 4, 5
	// third retried, and second's attempt that lingered landing last.
	for _, p := range []activities.DealProjection{first, second, third, third, fourth, fifth, fifth, second} {
		if err := s.Project(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	k, err := s.Kept(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	st := k.State
	if !k.Whole || st.Stage != workflows.StageShipping || st.Inquiry.Product != "bolts" || st.Escrow.Held != 300 || st.Currency != "USD" {
		t.Fatalf("kept whole %v: stage %s inquiry %+v escrow %+v", k.Whole, st.Stage, st.Inquiry, st.Escrow)
	}
	if len(st.Quotes) != 2 || st.Quotes[0].Revision != 2 || st.Quotes[0].UnitPrice != 9 || st.Quotes[1].ID != "q2" {
		t.Fatalf("quotes %+v, want q1's revision 2 in its place and q2", st.Quotes)
	}
	if len(st.Payments) != 1 || st.Payments[0].Amount != 300 {
		t.Fatalf("payments %+v", st.Payments)
	}
	if sh := st.Shipment; sh == nil || sh.Status != "delivered" || len(sh.Events) != 2 || sh.Events[1].Status != "delivered" {
		t.Fatalf("shipment %+v, want delivered with both tracking events", sh)
	}
	if d := st.Dispute; d == nil || fmt.Sprint(d.Evidence) != "[e1 e2 e3]" || d.Reason != "late" || d.Answer != "on its way" ||
		len(d.Proposals) != 2 || d.Proposals[0].Status != "SUPERSEDED" || d.Proposals[1].ID != "p2" {
		t.Fatalf("dispute %+v, want evidence e1 to e3 once each, its reason and answer, p1 superseded by p2", d)
	}
	if pr := st.Production; pr == nil || pr.Extensions != 2 || len(pr.Progress) != 3 || pr.Progress[2].Note != "packed" {
		t.Fatalf("production %+v, want the last section with reports 1 to 3", pr)
	}
	var answer, status string
	var proposals int
	if err := s.pool.QueryRow(ctx, `SELECT answer, status, (SELECT count(*) FROM dispute_proposals WHERE deal_id = 'd1') FROM disputes WHERE deal_id = 'd1'`).Scan(&answer, &status, &proposals); err != nil {
		t.Fatal(err)
	}
	if answer != "on its way" || status != "ANSWERED" || proposals != 2 {
		t.Fatalf("disputes row: answer %q status %q with %d proposals; a proposal alone must leave the dispute's row as it was", answer, status, proposals)
	}
	if len(st.Timeline) != 2 || st.Timeline[0].About != "s2" || st.Timeline[1].Type != "e2" {
		t.Fatalf("timeline %+v, want both entries, the first about s2", st.Timeline)
	}
}

// A round of bookkeeping written twice, and out of order with a later
// one, queues each notification once and leaves the newer projection; a
// round the read model refuses writes none of its notifications.
func TestWriteBooksQueuesEachNotificationOnceWithItsProjection(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	s := New(pool)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	note := func(n int) activities.Notification {
		return activities.Notification{DealID: "d1", OrgID: "b1", Kind: "quote_submitted", Text: fmt.Sprintf("quote %d", n), Key: fmt.Sprintf("deal-d1/notify/%d", n)}
	}
	first := projection(t, "d1", "b1", "s1", "QUOTING", t0, 3)
	first.Round = 1
	second := projection(t, "d1", "b1", "s1", "CONTRACT", t0, 5)
	second.Round = 2
	one := activities.Books{Notifications: []activities.Notification{note(1)}, Projection: &first}
	// Cumulative, as a round handed off is: it carries the first's too.
	two := activities.Books{Notifications: []activities.Notification{note(1), note(2)}, Projection: &second}
	for _, b := range []activities.Books{two, one, two, one} {
		if err := s.WriteBooks(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	st, err := s.Deal(ctx, "d1")
	if err != nil || st.Stage != workflows.StageContract {
		t.Fatalf("stage %s (%v), want the newer CONTRACT", st.Stage, err)
	}
	notes, err := store.New(pool).DealNotifications(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 2 || notes[0].Text != "quote 1" || notes[1].Text != "quote 2" || notes[0].DeliveredAt != nil {
		t.Fatalf("outbox %+v, want quote 1 and quote 2 once each, not yet delivered", notes)
	}

	bad := projection(t, "d2", "b1", "s1", "QUOTING", t0, 1)
	bad.Events[0].Detail = "nul \x00 byte"
	n := note(1)
	n.DealID, n.Key = "d2", "deal-d2/notify/1"
	err = s.WriteBooks(ctx, activities.Books{Notifications: []activities.Notification{n}, Projection: &bad})
	if !errors.Is(err, activities.ErrProjectionRefused) {
		t.Fatalf("a projection PostgreSQL cannot store: %v, want it refused", err)
	}
	if notes, _ := store.New(pool).DealNotifications(ctx, "d2"); len(notes) != 0 {
		t.Fatalf("outbox of a refused round %+v, want empty", notes)
	}
}

// A notification that carries facts is kept with them, and with its
// English text worded from them for webhooks and logs; one that carries
// a text of its own (a deal from before facts) keeps that text.
func TestTheOutboxKeepsFactsAndTheirEnglishText(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	s := New(pool)
	facts := &notice.Facts{Amount: 300000, Currency: "USD", Within: 72 * time.Hour, Deal: "d1"}
	if err := s.WriteBooks(ctx, activities.Books{Notifications: []activities.Notification{
		{DealID: "d1", OrgID: "b1", Kind: "deposit_due", Facts: facts, Key: "deal-d1/notify/1"},
		{DealID: "d1", OrgID: "b1", Kind: "deposit_due", Facts: facts, Text: "Pay the deposit (as said then).", Key: "deal-d1/notify/2"},
	}}); err != nil {
		t.Fatal(err)
	}
	notes, err := store.New(pool).DealNotifications(ctx, "d1")
	if err != nil || len(notes) != 2 {
		t.Fatalf("%+v %v", notes, err)
	}
	if notes[0].Text != "Pay the USD 3,000.00 deposit within 3 days." || notes[1].Text != "Pay the deposit (as said then)." {
		t.Errorf("texts %q, %q", notes[0].Text, notes[1].Text)
	}
	for _, n := range notes {
		got, err := notice.Decode(n.Facts)
		if err != nil || got == nil || *got != *facts {
			t.Errorf("facts %s: %+v %v", n.Facts, got, err)
		}
	}
}
