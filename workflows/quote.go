package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/tier"
)

func (d *deal) inviteNext(ctx workflow.Context) {
	d.inviteNextAt(workflow.Now(ctx))
}

// inviteNextAt invites the next supplier on the dispatch list at now.
func (d *deal) inviteNextAt(now time.Time) {
	if d.nextInvite >= len(d.in.Suppliers) {
		return
	}
	s := d.in.Suppliers[d.nextInvite]
	d.nextInvite++
	d.state.Invitations = append(d.state.Invitations, Invitation{
		SupplierID: s.OrgID, Tier: s.Tier, Status: InvitationPending, InvitedAt: now, DueAt: now.Add(d.in.Policy.QuoteSLA),
	})
	detail := "quote due by " + now.Add(d.in.Policy.QuoteSLA).Format(time.RFC3339)
	if s.Reason != "" {
		detail = fmt.Sprintf("dispatch rank %d of %d (%s); %s", d.nextInvite, len(d.in.Suppliers), s.Reason, detail)
	}
	d.eventAt(now, EventSupplierInvited, s.OrgID, detail)
	facts := d.goods()
	facts.Within = d.in.Policy.QuoteSLA
	d.notify(s.OrgID, "invited_to_quote", facts)
}

// quoteSLAPassed marks every supplier whose quote is overdue as late and
// sends the inquiry to the next supplier on the dispatch list in its place.
// From dealRemindsQuotes on, a buyer without a quote yet is told.
func (d *deal) quoteSLAPassed(ctx workflow.Context) {
	now := workflow.Now(ctx)
	late, invited := 0, 0
	for i := range d.state.Invitations {
		inv := &d.state.Invitations[i]
		if inv.Status == InvitationPending && !inv.DueAt.After(now) {
			inv.Status = InvitationLate
			d.event(ctx, EventSupplierLate, inv.SupplierID, fmt.Sprintf("no quote within %s", d.in.Policy.QuoteSLA))
			late++
			before := d.nextInvite
			d.inviteNext(ctx)
			invited += d.nextInvite - before
		}
	}
	if late == 0 || d.features < dealRemindsQuotes || d.anyQuoted() {
		return
	}
	// With none invited in their place, the facts say until when the
	// inquiry stays open.
	facts := notice.Facts{Within: d.in.Policy.QuoteSLA, Count: invited}
	if invited == 0 {
		facts.Due = d.state.Deadlines[DeadlineInquiryExpires]
	}
	d.notify(d.in.Inquiry.BuyerOrgID, "inquiry_redispatched", facts)
}

// anyQuoted reports whether a supplier has quoted.
func (d *deal) anyQuoted() bool {
	for _, inv := range d.state.Invitations {
		if inv.Status == InvitationQuoted {
			return true
		}
	}
	return false
}

// deadlineQuoteReminder is the main loop's name for the next reminder of a
// supplier whose quote is due soon (dealRemindsQuotes).
const deadlineQuoteReminder = "quote_reminder"

// reminderAt is when inv's supplier is reminded of its quote, if it is:
// Policy.QuoteReminder before it is due, once, while it has not quoted,
// and only if the reminder falls after the invitation.
func (d *deal) reminderAt(inv Invitation) (time.Time, bool) {
	if d.features < dealRemindsQuotes || inv.Status != InvitationPending || inv.Reminded {
		return time.Time{}, false
	}
	at := inv.DueAt.Add(-d.in.Policy.QuoteReminder)
	return at, at.After(inv.InvitedAt)
}

// remindSuppliers reminds each supplier whose reminder is due that its
// quote is due soon.
func (d *deal) remindSuppliers(ctx workflow.Context) {
	now := workflow.Now(ctx)
	for i := range d.state.Invitations {
		inv := &d.state.Invitations[i]
		if at, ok := d.reminderAt(*inv); !ok || at.After(now) {
			continue
		}
		inv.Reminded = true
		facts := d.goods()
		facts.Due, facts.Left = inv.DueAt, inv.DueAt.Sub(now)
		d.notify(inv.SupplierID, "quote_due_soon", facts)
	}
}

// invitation returns the caller's invitation if it may still quote.
func (d *deal) invitation(a Actor) (*Invitation, error) {
	if d.state.Stage != StageQuoting {
		return nil, reject(RejectWrongStage, "the deal is %s, not taking quotes", d.state.Stage)
	}
	if a.Role != RoleSupplier {
		return nil, reject(RejectNotAllowed, "only an invited supplier may quote")
	}
	for i := range d.state.Invitations {
		inv := &d.state.Invitations[i]
		if inv.SupplierID != a.OrgID {
			continue
		}
		switch inv.Status {
		case InvitationPending, InvitationQuoted:
			return inv, nil
		case InvitationLate:
			return nil, reject(RejectWrongStage, "the quote deadline passed at %s", inv.DueAt.Format(time.RFC3339))
		default:
			return nil, reject(RejectWrongStage, "this supplier's invitation is %s", inv.Status)
		}
	}
	return nil, reject(RejectNotAllowed, "only an invited supplier may quote")
}

func (d *deal) checkQuote(ctx workflow.Context, q QuoteInput) error {
	if _, err := d.invitation(q.Actor); err != nil {
		return err
	}
	n := 0
	for _, old := range d.state.Quotes {
		if old.SupplierID == q.Actor.OrgID {
			n++
		}
	}
	if n >= MaxQuotesPerSupplier {
		return limitReached("a supplier may quote and revise at most %d times on one deal", MaxQuotesPerSupplier)
	}
	if _, _, err := d.priceQuote(q); err != nil {
		return err
	}
	switch {
	case !q.ValidTill.After(workflow.Now(ctx)):
		return reject(RejectInvalid, "valid_till must be in the future")
	case q.LeadTimeDays < 1:
		return reject(RejectInvalid, "lead time must be at least one day")
	case q.SamplePrice < 0:
		return reject(RejectInvalid, "sample price must not be negative")
	case q.Trial:
		return d.checkTrial(q)
	case q.MOQ < 0 || q.MOQ > d.in.Inquiry.Quantity:
		return reject(RejectInvalid, "MOQ %d must be between 0 and the inquiry's quantity %d", q.MOQ, d.in.Inquiry.Quantity)
	}
	return nil
}

// checkTrial checks a trial quote: the inquiry's quantity below the
// supplier's MOQ, at least the policy's share of it, on the first deal
// between the buyer and this supplier (as the platform knew when the
// inquiry was sent).
func (d *deal) checkTrial(q QuoteInput) error {
	first := false
	for _, s := range d.in.Suppliers {
		if s.OrgID == q.Actor.OrgID {
			first = s.FirstDeal
		}
	}
	pct := int64(d.in.Policy.TrialPercent)
	if pct <= 0 {
		pct = DefaultTrialPercent
	}
	qty := d.in.Inquiry.Quantity
	switch {
	case !first:
		return reject(RejectNotAllowed, "a trial order is for a first deal between a buyer and a supplier")
	case q.MOQ <= qty:
		return reject(RejectInvalid, "a trial is a quantity below the MOQ: %d is not above the inquiry's %d, so quote without trial", q.MOQ, qty)
	case q.MOQ > qty*100/pct:
		return reject(RejectInvalid, "a trial quantity is at least %d%% of the MOQ: %d is too little for an MOQ of %d", pct, qty, q.MOQ)
	}
	return nil
}

func (d *deal) priceQuote(q QuoteInput) (total, unit int64, err error) {
	if len(q.Tiers) == 0 {
		return 0, 0, reject(RejectInvalid, "a quote needs at least one price tier")
	}
	tiers := make([]money.Tier, len(q.Tiers))
	for i, t := range q.Tiers {
		tiers[i] = money.Tier{MinQuantity: t.MinQuantity, UnitPrice: t.UnitPrice}
	}
	total, unit, err = money.TieredTotal(d.in.Inquiry.Quantity, tiers)
	if err != nil {
		return 0, 0, reject(RejectInvalid, "%v", err)
	}
	return total, unit, nil
}

func (d *deal) submitQuote(ctx workflow.Context, q QuoteInput) {
	inv, _ := d.invitation(q.Actor)
	total, unit, _ := d.priceQuote(q)
	revision := 1
	for i := range d.state.Quotes {
		if old := &d.state.Quotes[i]; old.SupplierID == q.Actor.OrgID && old.Status == QuoteOpen {
			old.Status = QuoteClosed
			revision = old.Revision + 1
		}
	}
	d.quoteSeq++
	d.state.Quotes = append(d.state.Quotes, Quote{
		ID: fmt.Sprintf("q%d", d.quoteSeq), SupplierID: q.Actor.OrgID, Revision: revision,
		Tiers: q.Tiers, MOQ: q.MOQ, LeadTimeDays: q.LeadTimeDays, ValidTill: q.ValidTill,
		SamplePrice: q.SamplePrice, Note: q.Note, Trial: q.Trial, UnitPrice: unit, Total: total,
		Status: QuoteOpen, CreatedAt: workflow.Now(ctx),
	})
	inv.Status = InvitationQuoted
	kind := EventQuoteSubmitted
	if revision > 1 {
		kind = EventQuoteRevised
	}
	d.event(ctx, kind, q.Actor.OrgID, fmt.Sprintf("q%d: %d × %d = %d %s", d.quoteSeq, d.in.Inquiry.Quantity, unit, total, d.state.Currency))
	d.notify(d.in.Inquiry.BuyerOrgID, string(kind), d.money(total, notice.Facts{Ref: fmt.Sprintf("q%d", d.quoteSeq), Supplier: d.supplierName(q.Actor.OrgID)}))
}

func (d *deal) checkDecline(_ workflow.Context, in DeclineInput) error {
	_, err := d.invitation(in.Actor)
	return err
}

func (d *deal) declineQuote(ctx workflow.Context, in DeclineInput) {
	inv, _ := d.invitation(in.Actor)
	inv.Status = InvitationDeclined
	for i := range d.state.Quotes {
		if q := &d.state.Quotes[i]; q.SupplierID == in.Actor.OrgID && q.Status == QuoteOpen {
			q.Status = QuoteClosed
		}
	}
	d.event(ctx, EventQuoteDeclined, in.Actor.OrgID, in.Reason)
	d.inviteNext(ctx)
}

func (d *deal) checkCounterOffer(_ workflow.Context, in CounterOfferInput) error {
	if err := d.needStage(StageQuoting); err != nil {
		return err
	}
	if err := d.needBuyer(in.Actor); err != nil {
		return err
	}
	if in.TargetUnitPrice < 1 {
		return reject(RejectInvalid, "target unit price must be positive")
	}
	if len(d.state.CounterOffers) >= MaxCounterOffers {
		return limitReached("a deal takes at most %d counter-offers", MaxCounterOffers)
	}
	for _, q := range d.state.Quotes {
		if q.SupplierID == in.SupplierID && q.Status == QuoteOpen {
			return nil
		}
	}
	return reject(RejectNotFound, "supplier %q has no open quote to counter", in.SupplierID)
}

func (d *deal) counterOffer(ctx workflow.Context, in CounterOfferInput) {
	d.state.CounterOffers = append(d.state.CounterOffers, CounterOffer{
		SupplierID: in.SupplierID, TargetUnitPrice: in.TargetUnitPrice, Message: in.Message, At: workflow.Now(ctx),
	})
	d.eventAbout(ctx, EventCounterOffer, in.Actor.OrgID, in.SupplierID, fmt.Sprintf("to %s: %d per unit", in.SupplierID, in.TargetUnitPrice))
	d.notify(in.SupplierID, "counter_offer", d.money(in.TargetUnitPrice, notice.Facts{}))
}

func (d *deal) openQuote(ctx workflow.Context, in AcceptInput) (*Quote, error) {
	if err := d.needStage(StageQuoting); err != nil {
		return nil, err
	}
	if err := d.needBuyer(in.Actor); err != nil {
		return nil, err
	}
	for i := range d.state.Quotes {
		q := &d.state.Quotes[i]
		if q.ID != in.QuoteID {
			continue
		}
		if q.Status != QuoteOpen {
			return nil, reject(RejectWrongStage, "quote %s is %s", q.ID, q.Status)
		}
		if !q.ValidTill.After(workflow.Now(ctx)) {
			return nil, reject(RejectWrongStage, "quote %s expired at %s", q.ID, q.ValidTill.Format(time.RFC3339))
		}
		return q, nil
	}
	return nil, reject(RejectNotFound, "no quote %q on this deal", in.QuoteID)
}

func (d *deal) checkAccept(ctx workflow.Context, in AcceptInput) error {
	_, err := d.openQuote(ctx, in)
	return err
}

func (d *deal) acceptQuote(ctx workflow.Context, in AcceptInput) {
	q, _ := d.openQuote(ctx, in)
	q.Status = QuoteAccepted
	deposit, balance, _ := money.SplitDeposit(q.Total) // q.Total ≥ 0
	d.state.AcceptedQuoteID = q.ID
	d.state.SupplierID = q.SupplierID
	d.state.Total, d.state.Deposit, d.state.Balance = q.Total, deposit, balance
	for i := range d.state.Invitations {
		if inv := &d.state.Invitations[i]; inv.SupplierID == q.SupplierID {
			inv.Status = InvitationAwarded
			d.state.SupplierTier = inv.Tier
		}
	}
	d.state.CommissionBP = tier.Of(d.state.SupplierTier).CommissionBasisPoints()
	d.closeOpenQuotes(ctx, q.SupplierID)
	delete(d.state.Deadlines, DeadlineInquiryExpires)
	d.eventAbout(ctx, EventQuoteAccepted, in.Actor.OrgID, q.SupplierID, fmt.Sprintf("%s from %s: %d %s (deposit %d, balance %d)",
		q.ID, q.SupplierID, q.Total, d.state.Currency, deposit, balance))
	d.notify(q.SupplierID, "quote_accepted", notice.Facts{Ref: q.ID})
	if d.in.Inquiry.WantsSample {
		d.startSample(ctx)
		return
	}
	d.startContract(ctx)
}

// closeOpenQuotes closes every open quote and every invitation but the
// winner's, and tells the others.
func (d *deal) closeOpenQuotes(ctx workflow.Context, winner string) {
	for i := range d.state.Quotes {
		if q := &d.state.Quotes[i]; q.Status == QuoteOpen {
			q.Status = QuoteClosed
		}
	}
	for i := range d.state.Invitations {
		inv := &d.state.Invitations[i]
		if inv.SupplierID != winner && (inv.Status == InvitationPending || inv.Status == InvitationQuoted) {
			inv.Status = InvitationClosed
			d.event(ctx, EventInvitationClosed, inv.SupplierID, "")
			d.notify(inv.SupplierID, "invitation_closed", notice.Facts{})
		}
	}
}

// supplierName is the name of the supplier org as the dispatch list has
// it, or its ID.
func (d *deal) supplierName(org string) string {
	for _, s := range d.in.Suppliers {
		if s.OrgID == org && s.Name != "" {
			return s.Name
		}
	}
	return org
}
