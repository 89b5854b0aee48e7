package workflows

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
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
	Dispute     *Dispute          `json:"dispute,omitempty"`
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
	return len(d.Invitations) == 0 && len(d.Quotes) == 0 && len(d.Payments) == 0 && len(d.Shipments) == 0 && d.Dispute == nil
}

// projectionMarks remember what the read model was last sent: a
// fingerprint per row, and the tracking events sent per shipment. They
// live only in the running workflow (a replay rebuilds them); a new run
// starts without them and sends every detail once.
type projectionMarks struct {
	rows   map[string]uint64
	events map[string]int // by kind and tracking number
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

// moneyFacts are what the read model's copy of the whole state must not
// miss: an operator settles a deal whose workflow is gone from it.
type moneyFacts struct {
	Stage      Stage       `json:"stage"`
	SupplierID string      `json:"supplier_id"`
	Payments   []Payment   `json:"payments"`
	Escrow     Escrow      `json:"escrow"`
	Resolution *Resolution `json:"resolution"`
}

// changes returns the details that changed since m was last committed,
// whether the whole state should go with them (the deal's first
// projection, a change of stage or of its money, and every one once the
// deal has ended), and the marks to commit
// once the read model has them.
func (m projectionMarks) changes(st *DealState) (DealDetails, bool, projectionMarks) {
	next := projectionMarks{rows: make(map[string]uint64, len(m.rows)), events: make(map[string]int, len(m.events))}
	var out DealDetails
	changed := func(key string, row any) bool {
		f := fingerprint(row)
		next.rows[key] = f
		old, ok := m.rows[key]
		return !ok || old != f
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
	if st.Dispute != nil && changed("dispute", st.Dispute) {
		out.Dispute = st.Dispute
	}
	whole := changed("money", moneyFacts{Stage: st.Stage, SupplierID: st.SupplierID, Payments: st.Payments, Escrow: st.Escrow, Resolution: st.Resolution})
	return out, whole || st.Stage.Final(), next
}
