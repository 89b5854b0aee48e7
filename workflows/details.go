package workflows

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
)

// DealDetails are the parts of a deal the read model keeps in tables of
// their own. A projection carries only those that changed since the deal's
// last projection, so a deal's history grows with its changes, not with
// their square; a tracking feed carries only its new events.
type DealDetails struct {
	Invitations []Invitation      `json:"invitations,omitempty"`
	Quotes      []Quote           `json:"quotes,omitempty"`
	Payments    []Payment         `json:"payments,omitempty"`
	Shipments   []ShipmentDetails `json:"shipments,omitempty"`
	Dispute     *DisputeDetails   `json:"dispute,omitempty"`
	Progress    *ProgressDetails  `json:"progress,omitempty"`
}

// ProgressDetails are production's progress reports from number
// FirstReport on (1-based): the production section itself goes without
// them, so a report is sent once, not again with every later one.
type ProgressDetails struct {
	FirstReport int              `json:"first_report"`
	Reports     []ProgressReport `json:"reports"`
}

// DisputeDetails is the dispute whose Evidence are its items from number
// FirstEvidence on (1-based) and whose Proposals are those that changed.
// With ProposalsOnly, nothing but proposals changed: Dispute holds them
// alone, and the rest of the dispute (its reasons, remedy and answer, a few
// thousand characters each) is not sent again with every proposal.
type DisputeDetails struct {
	FirstEvidence int     `json:"first_evidence"`
	ProposalsOnly bool    `json:"proposals_only,omitempty"`
	Dispute       Dispute `json:"dispute"`
}

// ShipmentDetails is a shipment (kind "sample" or "goods") whose Events
// are its tracking events from number FirstEvent on (1-based).
type ShipmentDetails struct {
	Kind       string   `json:"kind"`
	FirstEvent int      `json:"first_event"`
	Shipment   Shipment `json:"shipment"`
}

// Empty reports whether nothing changed.
func (d DealDetails) Empty() bool {
	return len(d.Invitations) == 0 && len(d.Quotes) == 0 && len(d.Payments) == 0 && len(d.Shipments) == 0 && d.Dispute == nil &&
		d.Progress == nil
}

// projectionMarks remember what the read model was last sent: a
// fingerprint per row, and the tracking events sent per shipment. A replay
// rebuilds them; a run that continues as new hands them to the next
// (ProjectedMarks), which would otherwise send every detail once more.
type projectionMarks struct {
	rows   map[string]uint64
	events map[string]int // tracking events by kind and tracking number; "evidence": dispute evidence; "progress": progress reports
}

// ProjectedMarks are a deal's projectionMarks as its next run takes them
// over.
type ProjectedMarks struct {
	Rows   map[string]uint64 `json:"rows"`
	Events map[string]int    `json:"events"`
}

func (m projectionMarks) export() *ProjectedMarks {
	if m.rows == nil && m.events == nil {
		return nil
	}
	return &ProjectedMarks{Rows: m.rows, Events: m.events}
}

func (m *ProjectedMarks) marks() projectionMarks {
	if m == nil {
		return projectionMarks{}
	}
	return projectionMarks{rows: m.Rows, events: m.Events}
}

// fingerprint hashes a row's JSON. encoding/json writes a struct, and a
// map's keys in sorted order, the same way every time.
func fingerprint(v any) uint64 {
	raw, err := json.Marshal(v) //workflowcheck:ignore
	if err != nil {
		panic(fmt.Sprintf("fingerprint a deal detail: %v", err))
	}
	h := fnv.New64a()
	_, _ = h.Write(raw)
	return h.Sum64()
}

// sectionsOf is the rest of the state, the part the read model keeps
// whole: its top-level fields as JSON, by their JSON names, without the
// timeline and the rows of DealDetails (the read model keeps those by
// themselves), the sample's shipment without its tracking events (its
// ShipmentDetails row carries them) and production without its progress
// reports (ProgressDetails carries them).
func sectionsOf(st *DealState) map[string]json.RawMessage {
	rest := *st
	rest.Timeline, rest.Invitations, rest.Quotes, rest.Payments, rest.Shipment, rest.Dispute = nil, nil, nil, nil, nil, nil
	if st.Production != nil {
		prod := *st.Production
		prod.Progress = nil
		rest.Production = &prod
	}
	if st.Sample != nil && st.Sample.Shipment != nil {
		sample := *st.Sample
		head := *sample.Shipment
		head.Events = nil
		sample.Shipment = &head
		rest.Sample = &sample
	}
	raw, err := json.Marshal(rest) //workflowcheck:ignore
	if err != nil {
		panic(fmt.Sprintf("encode the deal's sections: %v", err))
	}
	var out map[string]json.RawMessage
	err = json.Unmarshal(raw, &out) //workflowcheck:ignore
	if err != nil {
		panic(fmt.Sprintf("decode the deal's sections: %v", err))
	}
	for _, k := range rowFields {
		delete(out, k)
	}
	return out
}

// rowFields are the state's fields the read model keeps as rows.
var rowFields = []string{"timeline", "invitations", "quotes", "payments", "shipment", "dispute"}

// changes returns the details that changed since m was last committed,
// the sections that changed (a section the state no longer has is null),
// and the marks to commit once the read model has them. The parts again
// names count as changed whatever their value.
func (m projectionMarks) changes(st *DealState, again map[string]bool) (DealDetails, map[string]json.RawMessage, projectionMarks) {
	next := projectionMarks{rows: make(map[string]uint64, len(m.rows)), events: make(map[string]int, len(m.events))}
	var out DealDetails
	changed := func(key string, row any) bool {
		f := fingerprint(row)
		next.rows[key] = f
		old, ok := m.rows[key]
		return !ok || old != f || again[key]
	}
	for _, inv := range st.Invitations {
		if changed("invitation/"+inv.SupplierID, inv) {
			out.Invitations = append(out.Invitations, inv)
		}
	}
	for _, q := range st.Quotes {
		if changed("quote/"+q.ID, q) {
			out.Quotes = append(out.Quotes, q)
		}
	}
	for _, p := range st.Payments {
		if changed("payment/"+p.ID, p) {
			out.Payments = append(out.Payments, p)
		}
	}
	shipment := func(kind string, sh *Shipment) {
		if sh == nil {
			return
		}
		head := *sh
		head.Events = nil
		eventsKey := kind + "/" + sh.TrackingNumber
		sent := m.events[eventsKey]
		next.events[eventsKey] = len(sh.Events)
		if !changed("shipment/"+kind, head) && sent >= len(sh.Events) {
			return
		}
		head.Events = sh.Events[min(sent, len(sh.Events)):]
		out.Shipments = append(out.Shipments, ShipmentDetails{Kind: kind, FirstEvent: sent + 1, Shipment: head})
	}
	if st.Sample != nil {
		shipment("sample", st.Sample.Shipment)
	}
	shipment("goods", st.Shipment)
	if dsp := st.Dispute; dsp != nil {
		head := *dsp
		head.Evidence, head.Proposals = nil, nil
		sent := m.events["evidence"]
		next.events["evidence"] = len(dsp.Evidence)
		headChanged := changed("dispute", head)
		for _, p := range dsp.Proposals {
			if changed("proposal/"+p.ID, p) {
				head.Proposals = append(head.Proposals, p)
			}
		}
		switch {
		case headChanged || sent < len(dsp.Evidence):
			head.Evidence = dsp.Evidence[min(sent, len(dsp.Evidence)):]
			out.Dispute = &DisputeDetails{FirstEvidence: sent + 1, Dispute: head}
		case len(head.Proposals) > 0:
			out.Dispute = &DisputeDetails{FirstEvidence: sent + 1, ProposalsOnly: true, Dispute: Dispute{Proposals: head.Proposals}}
		}
	}
	if pr := st.Production; pr != nil {
		sent := m.events["progress"]
		next.events["progress"] = len(pr.Progress)
		if sent > len(pr.Progress) {
			sent = 0 // fewer than sent: send them all again
		}
		if sent < len(pr.Progress) {
			out.Progress = &ProgressDetails{FirstReport: sent + 1, Reports: pr.Progress[sent:]}
		}
	}
	sections := map[string]json.RawMessage{}
	current := sectionsOf(st)
	// Both loops only fill maps: their order changes nothing.
	//workflowcheck:ignore
	for k, v := range current {
		if changed("section/"+k, v) {
			sections[k] = v
		}
	}
	//workflowcheck:ignore
	for k := range m.rows {
		if name, ok := strings.CutPrefix(k, "section/"); ok && current[name] == nil {
			sections[name] = json.RawMessage("null")
		}
	}
	//workflowcheck:ignore
	for k := range again {
		if name, ok := strings.CutPrefix(k, "section/"); ok && current[name] == nil {
			sections[name] = json.RawMessage("null")
		}
	}
	return out, sections, next
}

// differing adds to into the parts (rows and sections) whose marks differ
// between m and next, a part in only one of them included, and returns it.
func (m projectionMarks) differing(next projectionMarks, into map[string]bool) map[string]bool {
	add := func(k string) {
		if into == nil {
			into = map[string]bool{}
		}
		into[k] = true
	}
	// Both loops only fill a set: their order changes nothing.
	//workflowcheck:ignore
	for k, f := range next.rows {
		if old, ok := m.rows[k]; !ok || old != f {
			add(k)
		}
	}
	//workflowcheck:ignore
	for k := range m.rows {
		if _, ok := next.rows[k]; !ok {
			add(k)
		}
	}
	return into
}

// clone is a copy of m that forgetSections may change.
func (m projectionMarks) clone() projectionMarks {
	return projectionMarks{rows: maps.Clone(m.rows), events: maps.Clone(m.events)}
}

// forgetSections makes the next projection send every section again, and
// the progress reports, which the read model keeps with them.
func (m projectionMarks) forgetSections() {
	// Deletes only: the order changes nothing.
	//workflowcheck:ignore
	for k := range m.rows {
		if strings.HasPrefix(k, "section/") {
			delete(m.rows, k)
		}
	}
	delete(m.events, "progress")
}

// ApplyProjection brings a deal as the read model keeps it (its state
// without the timeline and the tracking events, which it keeps in tables
// of their own) up to a projection: whole (a state sent whole replaces
// it), then the sections written over the state's fields, then the rows.
// Applying a projection twice changes nothing more.
func ApplyProjection(kept DealState, whole, sections json.RawMessage, details DealDetails) (DealState, error) {
	var keptProgress []ProgressReport
	if kept.Production != nil {
		keptProgress = kept.Production.Progress
	}
	fields := map[string]json.RawMessage{}
	if len(whole) > 0 {
		if err := json.Unmarshal(whole, &fields); err != nil {
			return kept, fmt.Errorf("decode the whole state: %w", err)
		}
	} else {
		raw, err := json.Marshal(kept)
		if err != nil {
			return kept, fmt.Errorf("encode the kept state: %w", err)
		}
		if err := json.Unmarshal(raw, &fields); err != nil {
			return kept, fmt.Errorf("decode the kept state: %w", err)
		}
	}
	if len(sections) > 0 {
		var changed map[string]json.RawMessage
		if err := json.Unmarshal(sections, &changed); err != nil {
			return kept, fmt.Errorf("decode the sections: %w", err)
		}
		for name, v := range changed {
			if slices.Contains(rowFields, name) {
				continue // rows come as rows
			}
			fields[name] = v
		}
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return kept, fmt.Errorf("encode the state: %w", err)
	}
	var st DealState
	if err := json.Unmarshal(raw, &st); err != nil {
		return kept, fmt.Errorf("decode the state: %w", err)
	}
	if len(whole) == 0 && st.Production != nil && st.Production.Progress == nil {
		// A production section comes without its reports: the kept ones
		// stay, and ProgressDetails adds the new.
		st.Production.Progress = keptProgress
	}
	details.applyTo(&st)
	st.Timeline = nil
	if st.Shipment != nil {
		st.Shipment.Events = nil
	}
	if st.Sample != nil && st.Sample.Shipment != nil {
		st.Sample.Shipment.Events = nil
	}
	return st, nil
}

// applyTo writes the rows over st's: each by its key, the dispute's
// evidence from its first new item on.
func (d DealDetails) applyTo(st *DealState) {
	for _, inv := range d.Invitations {
		st.Invitations = upsert(st.Invitations, inv, func(x Invitation) bool { return x.SupplierID == inv.SupplierID })
	}
	for _, q := range d.Quotes {
		st.Quotes = upsert(st.Quotes, q, func(x Quote) bool { return x.ID == q.ID })
	}
	for _, p := range d.Payments {
		st.Payments = upsert(st.Payments, p, func(x Payment) bool { return x.ID == p.ID })
	}
	for _, sh := range d.Shipments {
		if sh.Kind == "goods" {
			head := sh.Shipment
			head.Events = nil
			st.Shipment = &head
		}
	}
	if pd := d.Progress; pd != nil {
		if st.Production == nil {
			st.Production = &Production{}
		}
		kept := st.Production.Progress
		st.Production.Progress = append(slices.Clone(kept[:min(max(pd.FirstReport-1, 0), len(kept))]), pd.Reports...)
	}
	if dd := d.Dispute; dd != nil && dd.ProposalsOnly && st.Dispute != nil {
		head := *st.Dispute
		head.Proposals = slices.Clone(head.Proposals)
		for _, p := range dd.Dispute.Proposals {
			head.Proposals = upsert(head.Proposals, p, func(x Proposal) bool { return x.ID == p.ID })
		}
		st.Dispute = &head
	} else if dd != nil {
		var evidence []string
		var proposals []Proposal
		if st.Dispute != nil {
			evidence, proposals = st.Dispute.Evidence, st.Dispute.Proposals
		}
		head := dd.Dispute
		head.Evidence = append(slices.Clone(evidence[:min(max(dd.FirstEvidence-1, 0), len(evidence))]), dd.Dispute.Evidence...)
		head.Proposals = slices.Clone(proposals)
		for _, p := range dd.Dispute.Proposals {
			head.Proposals = upsert(head.Proposals, p, func(x Proposal) bool { return x.ID == p.ID })
		}
		st.Dispute = &head
	}
}

// upsert replaces the element of list that is v's, or appends v.
func upsert[T any](list []T, v T, same func(T) bool) []T {
	if i := slices.IndexFunc(list, same); i >= 0 {
		list[i] = v
		return list
	}
	return append(list, v)
}
