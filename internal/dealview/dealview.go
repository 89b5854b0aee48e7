// Package dealview decides what each party sees of a deal: the one place
// every read route and every action's answer takes its deal from
// (the README's "Who sees what").
//
//   - The buyer sees its deal whole.
//   - An invited supplier sees the inquiry, its own invitation, its own
//     quotes, the counter-offers addressed to it and the timeline entries
//     it made or that concern it. Once another supplier is awarded, it sees
//     only that the inquiry closed (stage CLOSED).
//   - The awarded supplier sees the deal from the award on, without the
//     other suppliers' invitations, quotes, counter-offers and entries.
//   - A mediator sees a deal while its dispute is in mediation and
//     assigned to it (or to no one: a deal from before disputes were
//     assigned, or none could be chosen), and the mediator who decided it
//     sees it afterwards; neither sees the suppliers that were not
//     awarded.
//   - Finance sees the money (quotes, payments, escrow, ledger-relevant
//     entries) and no private text: notes, messages, contract text,
//     dispute statements and evidence.
package dealview

import (
	"slices"
	"time"

	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/workflows"
)

// StageClosed is the stage an invited supplier sees once another supplier
// was awarded the inquiry.
const StageClosed workflows.Stage = "CLOSED"

// Viewer is who looks at a deal.
type Viewer struct {
	Role   workflows.Role
	OrgID  string
	UserID string
}

// Of returns what v sees of st, and false when v may not see the deal.
func Of(st workflows.DealState, v Viewer) (workflows.DealState, bool) {
	switch v.Role {
	case workflows.RoleBuyer:
		if st.Inquiry.BuyerOrgID != v.OrgID {
			return workflows.DealState{}, false
		}
		return st, true
	case workflows.RoleSupplier:
		return forSupplier(st, v.OrgID)
	case workflows.RoleMediator:
		decidedByMe := st.Dispute != nil && st.Dispute.Decision != nil && st.Dispute.Decision.MediatorID == v.UserID
		mine := st.Stage == workflows.StageMediation && st.Dispute != nil && (st.Dispute.MediatorID == "" || st.Dispute.MediatorID == v.UserID)
		if !mine && !decidedByMe {
			return workflows.DealState{}, false
		}
		return awardedOnly(st), true
	case workflows.RoleFinance:
		return forFinance(st), true
	}
	return workflows.DealState{}, false
}

// Summary returns what v sees of one line of a deal list (the list's query
// already chose the deals v may see).
func Summary(s readmodel.Summary, v Viewer) readmodel.Summary {
	if v.Role == workflows.RoleSupplier && s.SupplierOrgID != "" && s.SupplierOrgID != v.OrgID {
		return readmodel.Summary{ID: s.ID, Stage: string(StageClosed), BuyerOrgID: s.BuyerOrgID, Product: s.Product,
			Quantity: s.Quantity, Currency: s.Currency, CreatedAt: s.CreatedAt}
	}
	return s
}

func forSupplier(st workflows.DealState, org string) (workflows.DealState, bool) {
	invited := slices.ContainsFunc(st.Invitations, func(i workflows.Invitation) bool { return i.SupplierID == org })
	if !invited {
		return workflows.DealState{}, false
	}
	if st.SupplierID == org {
		return ownOnly(st, org, awardAt(st.Timeline)), true
	}
	// Before an award, and for the suppliers not awarded: the inquiry and
	// the supplier's own part of it.
	v := workflows.DealState{
		DealID: st.DealID, Stage: st.Stage, Inquiry: st.Inquiry, Currency: st.Currency,
		Invitations:   keep(st.Invitations, func(i workflows.Invitation) bool { return i.SupplierID == org }),
		Quotes:        keep(st.Quotes, func(q workflows.Quote) bool { return q.SupplierID == org }),
		CounterOffers: keep(st.CounterOffers, func(c workflows.CounterOffer) bool { return c.SupplierID == org }),
		Timeline:      keep(st.Timeline[:awardAt(st.Timeline)], func(e workflows.Event) bool { return concerns(e, org) }),
		Deadlines:     map[string]time.Time{},
	}
	if st.SupplierID != "" {
		v.Stage = StageClosed
	} else if at, ok := st.Deadlines[workflows.DeadlineInquiryExpires]; ok {
		// The one deadline an invited supplier sees before the award.
		v.Deadlines[workflows.DeadlineInquiryExpires] = at
	}
	return v, true
}

// ownOnly is the deal as its awarded supplier sees it: the other
// suppliers' invitations, quotes, counter-offers and entries removed, and
// the entries before the award only those that concern org.
func ownOnly(st workflows.DealState, org string, award int) workflows.DealState {
	v := st
	v.Invitations = keep(st.Invitations, func(i workflows.Invitation) bool { return i.SupplierID == org })
	v.Quotes = keep(st.Quotes, func(q workflows.Quote) bool { return q.SupplierID == org })
	v.CounterOffers = keep(st.CounterOffers, func(c workflows.CounterOffer) bool { return c.SupplierID == org })
	others := map[string]bool{}
	for _, inv := range st.Invitations {
		if inv.SupplierID != org {
			others[inv.SupplierID] = true
		}
	}
	v.Timeline = nil
	for i, e := range st.Timeline {
		switch {
		case i < award && !concerns(e, org):
		case others[e.Actor] || others[e.About]:
		default:
			v.Timeline = append(v.Timeline, e)
		}
	}
	return v
}

// awardedOnly is the deal without the suppliers that were not awarded.
func awardedOnly(st workflows.DealState) workflows.DealState {
	if st.SupplierID == "" {
		v := st
		v.Invitations, v.Quotes, v.CounterOffers = nil, nil, nil
		return v
	}
	return ownOnly(st, st.SupplierID, 0)
}

// concerns reports whether a timeline entry before the award is the
// supplier's business: the inquiry, its own entries, and those about it.
func concerns(e workflows.Event, org string) bool {
	return e.Type == workflows.EventInquiryCreated || e.Actor == org || e.About == org
}

// awardAt is the index of the award's timeline entry, or the timeline's
// length before an award.
func awardAt(tl []workflows.Event) int {
	for i, e := range tl {
		if e.Type == workflows.EventQuoteAccepted {
			return i
		}
	}
	return len(tl)
}

// moneyEntries are the timeline entries whose detail finance reads.
var moneyEntries = map[workflows.EventType]bool{
	workflows.EventQuoteAccepted: true, workflows.EventPaymentStarted: true, workflows.EventPaymentSucceeded: true,
	workflows.EventPaymentDeclined: true, workflows.EventPaymentFailed: true, workflows.EventPaymentUnconfirmed: true,
	workflows.EventPaymentReconciled: true, workflows.EventPaymentMismatch: true, workflows.EventPaymentUnknown: true,
	workflows.EventPaymentAfterStage: true, workflows.EventPayout: true, workflows.EventEscrowSettled: true,
	workflows.EventStageChanged: true, workflows.EventOperatorOverride: true,
}

// forFinance is the deal without private text.
func forFinance(st workflows.DealState) workflows.DealState {
	v := st
	v.Quotes = slices.Clone(st.Quotes)
	for i := range v.Quotes {
		v.Quotes[i].Note = ""
	}
	v.CounterOffers = slices.Clone(st.CounterOffers)
	for i := range v.CounterOffers {
		v.CounterOffers[i].Message = ""
	}
	if st.Contract != nil {
		c := *st.Contract
		c.Text = ""
		v.Contract = &c
	}
	if st.Production != nil {
		p := *st.Production
		p.Progress = slices.Clone(p.Progress)
		for i := range p.Progress {
			p.Progress[i].Note = ""
		}
		v.Production = &p
	}
	if st.Sample != nil {
		s := *st.Sample
		s.Verdict = ""
		v.Sample = &s
	}
	if st.Dispute != nil {
		d := *st.Dispute
		d.Reason, d.Remedy, d.Answer, d.Evidence = "", "", "", nil
		d.Proposals = slices.Clone(d.Proposals)
		for i := range d.Proposals {
			d.Proposals[i].Note = ""
		}
		if d.Decision != nil {
			dec := *d.Decision
			dec.Note = ""
			d.Decision = &dec
		}
		v.Dispute = &d
	}
	v.Timeline = slices.Clone(st.Timeline)
	for i := range v.Timeline {
		// A payment provider's own events (a card dispute, a refund at the
		// provider) are money too.
		if t := v.Timeline[i].Type; !moneyEntries[t] && !t.FromProvider() {
			v.Timeline[i].Detail = ""
		}
	}
	return v
}

func keep[T any](in []T, ok func(T) bool) []T {
	out := []T{}
	for _, x := range in {
		if ok(x) {
			out = append(out, x)
		}
	}
	return out
}
