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
	Dispute     *DisputeDetails   `json:"dispute,omitempty"`
}

// DisputeDetails is the dispute whose Evidence are its items from number
// FirstEvidence on (1-based) and whose Proposals are those that changed.
type DisputeDetails struct {
	FirstEvidence int     `json:"first_evidence"`
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
	return len(d.Invitations) == 0 && len(d.Quotes) == 0 && len(d.Payments) == 0 && len(d.Shipments) == 0 && d.Dispute == nil
}

// projectionMarks remember what the read model was last sent: a
// fingerprint per row, and the tracking events sent per shipment. They
// live only in the running workflow (a replay rebuilds them); a new run
// starts without them and sends every detail once.
type projectionMarks struct {
	rows   map[string]uint64
	events map[string]int // tracking events by kind and tracking number; "evidence": dispute evidence
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

// moneyFacts are the parts of the state an operator needs to settle a deal
// whose workflow is gone (SettlementState): the projection sends them when
// they change, and the read model writes them over its copy of the state.
// The JSON names are the state's own.
type moneyFacts struct {
	Stage           Stage       `json:"stage"`
	SupplierID      string      `json:"supplier_id,omitempty"`
	SupplierTier    string      `json:"supplier_tier,omitempty"`
	AcceptedQuoteID string      `json:"accepted_quote_id,omitempty"`
	CommissionBP    int64       `json:"commission_bp"`
	Total           int64       `json:"total"`
	Deposit         int64       `json:"deposit"`
	Balance         int64       `json:"balance"`
	Currency        string      `json:"currency"`
	Payments        []Payment   `json:"payments"`
	Escrow          Escrow      `json:"escrow"`
	Resolution      *Resolution `json:"resolution,omitempty"`
}

func moneyOf(st *DealState) moneyFacts {
	return moneyFacts{
		Stage: st.Stage, SupplierID: st.SupplierID, SupplierTier: st.SupplierTier, AcceptedQuoteID: st.AcceptedQuoteID,
		CommissionBP: st.CommissionBP, Total: st.Total, Deposit: st.Deposit, Balance: st.Balance, Currency: st.Currency,
		Payments: st.Payments, Escrow: st.Escrow, Resolution: st.Resolution,
	}
}

// changes returns the details that changed since m was last committed,
// whether the money facts changed, and the marks to commit once the read
// model has them.
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
		if headChanged || sent < len(dsp.Evidence) || len(head.Proposals) > 0 {
			head.Evidence = dsp.Evidence[min(sent, len(dsp.Evidence)):]
			out.Dispute = &DisputeDetails{FirstEvidence: sent + 1, Dispute: head}
		}
	}
	return out, changed("money", moneyOf(st)), next
}

// ended reports, once per run, that the deal has ended with its money
// settled: the projection that sends its whole state a last time.
func (m projectionMarks) ended(st *DealState, next projectionMarks) bool {
	if !st.Stage.Final() || (st.Resolution != nil && !st.Resolution.Done) {
		return false
	}
	_, sent := m.rows["ended"]
	next.rows["ended"] = 1
	return !sent
}
