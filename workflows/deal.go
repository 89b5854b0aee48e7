package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/internal/money"
)

// Register adds every workflow of this package to a worker.
func Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(Deal, workflowRegisterOptions())
}

func workflowRegisterOptions() workflow.RegisterOptions {
	return workflow.RegisterOptions{Name: DealWorkflowName}
}

// deal is the workflow's state and the handlers that change it. Handlers only
// change state and bump version; the main loop reacts to it.
type deal struct {
	in      DealInput
	state   DealState
	version int
	nextInv int // index in in.Suppliers of the next supplier to invite
	quoteNo int
}

// Deal carries one deal from inquiry to its end (DESIGN §2). This version
// covers quoting (per-supplier SLA with re-dispatch, inquiry expiry), the
// buyer's acceptance, and the contract-signing deadline.
func Deal(ctx workflow.Context, in DealInput) (DealState, error) {
	if err := validateInput(in); err != nil {
		return DealState{}, err
	}
	if in.Policy == (Policy{}) {
		in.Policy = DefaultPolicy()
	}
	d := &deal{in: in, state: DealState{
		DealID:    in.DealID,
		Stage:     StageQuoting,
		Inquiry:   in.Inquiry,
		Currency:  in.Inquiry.Currency,
		Deadlines: map[string]time.Time{},
	}}
	now := workflow.Now(ctx)
	d.event(ctx, "inquiry_created", in.Inquiry.BuyerOrgID, in.Inquiry.Product)
	d.state.Deadlines["inquiry_expires_at"] = now.Add(in.Policy.InquiryExpiry)
	if err := d.registerHandlers(ctx); err != nil {
		return DealState{}, err
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SearchAttrDealStage.ValueSet(string(StageQuoting)),
		SearchAttrBuyerID.ValueSet(in.Inquiry.BuyerOrgID),
		SearchAttrDealCurrency.ValueSet(in.Inquiry.Currency),
	)
	for range min(in.Policy.InitialInvites, len(in.Suppliers)) {
		d.inviteNext(ctx)
	}

	if err := d.quoting(ctx); err != nil {
		return d.state, err
	}
	if d.state.Stage == StageContract {
		if err := d.contract(ctx); err != nil {
			return d.state, err
		}
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return d.state, err
	}
	return d.state, nil
}

// quoting runs until a quote is accepted or the inquiry expires, marking late
// suppliers and inviting the next ones as their SLAs pass.
func (d *deal) quoting(ctx workflow.Context) error {
	for d.state.Stage == StageQuoting {
		now := workflow.Now(ctx)
		next := d.state.Deadlines["inquiry_expires_at"]
		for _, inv := range d.state.Invitations {
			if inv.Status == InvitationPending && inv.DueAt.Before(next) {
				next = inv.DueAt
			}
		}
		if wait := next.Sub(now); wait > 0 {
			seen := d.version
			if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return d.version != seen }); err != nil {
				return err
			}
			continue // re-evaluate: a handler ran, or a deadline is due
		}
		d.handleDueDeadlines(ctx)
	}
	return nil
}

func (d *deal) handleDueDeadlines(ctx workflow.Context) {
	now := workflow.Now(ctx)
	for i := range d.state.Invitations {
		inv := &d.state.Invitations[i]
		if inv.Status == InvitationPending && !inv.DueAt.After(now) {
			inv.Status = InvitationLate
			d.event(ctx, "supplier_late", inv.SupplierID, fmt.Sprintf("no quote within %s", d.in.Policy.QuoteSLA))
			d.inviteNext(ctx)
		}
	}
	if !d.state.Deadlines["inquiry_expires_at"].After(now) {
		d.setStage(ctx, StageExpired)
		d.closeOpen(ctx, "")
		d.event(ctx, "inquiry_expired", "", "no quote accepted before the inquiry expired")
	}
}

// contract waits for signatures until the signing deadline. Signing is not
// built yet, so an accepted deal is cancelled when the deadline passes.
func (d *deal) contract(ctx workflow.Context) error {
	due := workflow.Now(ctx).Add(d.in.Policy.ContractSigning)
	d.state.Deadlines["contract_sign_by"] = due
	seen := d.state.Stage
	ok, err := workflow.AwaitWithTimeout(ctx, d.in.Policy.ContractSigning, func() bool { return d.state.Stage != seen })
	if err != nil || ok {
		return err
	}
	d.setStage(ctx, StageCancelled)
	d.event(ctx, "contract_expired", "", "the contract was not signed by both parties in time")
	return nil
}

func (d *deal) inviteNext(ctx workflow.Context) {
	if d.nextInv >= len(d.in.Suppliers) {
		return
	}
	now := workflow.Now(ctx)
	s := d.in.Suppliers[d.nextInv]
	d.nextInv++
	d.state.Invitations = append(d.state.Invitations, Invitation{
		SupplierID: s, Status: InvitationPending, InvitedAt: now, DueAt: now.Add(d.in.Policy.QuoteSLA),
	})
	d.event(ctx, "supplier_invited", s, "")
}

func (d *deal) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (DealState, error) { return d.state, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSubmitQuote, d.submitQuote,
		workflow.UpdateHandlerOptions{Validator: d.validateQuote}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDeclineQuote, d.declineQuote,
		workflow.UpdateHandlerOptions{Validator: d.validateDecline}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateAcceptQuote, d.acceptQuote,
		workflow.UpdateHandlerOptions{Validator: d.validateAccept})
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

func (d *deal) validateQuote(ctx workflow.Context, q QuoteInput) error {
	if _, err := d.invitation(q.Actor); err != nil {
		return err
	}
	_, err := quoteTotal(d.in.Inquiry.Quantity, q)
	if err != nil {
		return err
	}
	if !q.ValidTill.After(workflow.Now(ctx)) {
		return reject(RejectInvalid, "valid_till must be in the future")
	}
	if q.LeadTimeDays < 0 || q.SamplePrice < 0 {
		return reject(RejectInvalid, "lead time and sample price must not be negative")
	}
	return nil
}

func (d *deal) submitQuote(ctx workflow.Context, q QuoteInput) (DealState, error) {
	inv, err := d.invitation(q.Actor)
	if err != nil {
		return d.state, err
	}
	total, err := quoteTotal(d.in.Inquiry.Quantity, q)
	if err != nil {
		return d.state, err
	}
	revision := 1
	for i := range d.state.Quotes {
		if old := &d.state.Quotes[i]; old.SupplierID == q.Actor.OrgID && old.Status == "OPEN" {
			old.Status = "CLOSED"
			revision = old.Revision + 1
		}
	}
	d.quoteNo++
	d.state.Quotes = append(d.state.Quotes, Quote{
		ID: fmt.Sprintf("q%d", d.quoteNo), SupplierID: q.Actor.OrgID, Revision: revision,
		Tiers: q.Tiers, MOQ: q.MOQ, LeadTimeDays: q.LeadTimeDays, ValidTill: q.ValidTill,
		SamplePrice: q.SamplePrice, Total: total, Status: "OPEN", CreatedAt: workflow.Now(ctx),
	})
	inv.Status = InvitationQuoted
	kind := "quote_submitted"
	if revision > 1 {
		kind = "quote_revised"
	}
	d.event(ctx, kind, q.Actor.OrgID, fmt.Sprintf("total %d %s", total, d.state.Currency))
	d.version++
	return d.state, nil
}

func (d *deal) validateDecline(_ workflow.Context, in DeclineInput) error {
	_, err := d.invitation(in.Actor)
	return err
}

func (d *deal) declineQuote(ctx workflow.Context, in DeclineInput) (DealState, error) {
	inv, err := d.invitation(in.Actor)
	if err != nil {
		return d.state, err
	}
	inv.Status = InvitationDeclined
	for i := range d.state.Quotes {
		if q := &d.state.Quotes[i]; q.SupplierID == in.Actor.OrgID && q.Status == "OPEN" {
			q.Status = "CLOSED"
		}
	}
	d.event(ctx, "quote_declined", in.Actor.OrgID, in.Reason)
	d.inviteNext(ctx)
	d.version++
	return d.state, nil
}

func (d *deal) findOpenQuote(ctx workflow.Context, in AcceptInput) (*Quote, error) {
	if d.state.Stage != StageQuoting {
		return nil, reject(RejectWrongStage, "the deal is %s, no quote can be accepted", d.state.Stage)
	}
	if in.Actor.Role != RoleBuyer || in.Actor.OrgID != d.in.Inquiry.BuyerOrgID {
		return nil, reject(RejectNotAllowed, "only the buyer may accept a quote")
	}
	for i := range d.state.Quotes {
		q := &d.state.Quotes[i]
		if q.ID != in.QuoteID {
			continue
		}
		if q.Status != "OPEN" {
			return nil, reject(RejectWrongStage, "quote %s is %s", q.ID, q.Status)
		}
		if !q.ValidTill.After(workflow.Now(ctx)) {
			return nil, reject(RejectWrongStage, "quote %s expired at %s", q.ID, q.ValidTill.Format(time.RFC3339))
		}
		return q, nil
	}
	return nil, reject(RejectNotFound, "no quote %q on this deal", in.QuoteID)
}

func (d *deal) validateAccept(ctx workflow.Context, in AcceptInput) error {
	_, err := d.findOpenQuote(ctx, in)
	return err
}

func (d *deal) acceptQuote(ctx workflow.Context, in AcceptInput) (DealState, error) {
	q, err := d.findOpenQuote(ctx, in)
	if err != nil {
		return d.state, err
	}
	q.Status = "ACCEPTED"
	d.state.AcceptedQuoteID = q.ID
	d.state.SupplierID = q.SupplierID
	d.state.Total = q.Total
	d.closeOpen(ctx, q.SupplierID)
	d.event(ctx, "quote_accepted", in.Actor.OrgID, fmt.Sprintf("%s from %s, total %d %s", q.ID, q.SupplierID, q.Total, d.state.Currency))
	d.setStage(ctx, StageContract)
	_ = workflow.UpsertTypedSearchAttributes(ctx,
		SearchAttrSupplierID.ValueSet(q.SupplierID),
		SearchAttrDealAmount.ValueSet(q.Total),
	)
	d.version++
	return d.state, nil
}

// closeOpen closes every open quote and pending invitation except the winner's.
func (d *deal) closeOpen(ctx workflow.Context, winner string) {
	for i := range d.state.Quotes {
		if q := &d.state.Quotes[i]; q.Status == "OPEN" {
			q.Status = "CLOSED"
		}
	}
	for i := range d.state.Invitations {
		inv := &d.state.Invitations[i]
		if inv.SupplierID != winner && (inv.Status == InvitationPending || inv.Status == InvitationQuoted) {
			inv.Status = InvitationClosed
			d.event(ctx, "invitation_closed", inv.SupplierID, "")
		}
	}
}

func (d *deal) setStage(ctx workflow.Context, s Stage) {
	d.state.Stage = s
	_ = workflow.UpsertTypedSearchAttributes(ctx, SearchAttrDealStage.ValueSet(string(s)))
	d.event(ctx, "stage_changed", "", string(s))
}

func (d *deal) event(ctx workflow.Context, typ, actor, detail string) {
	d.state.Timeline = append(d.state.Timeline, Event{At: workflow.Now(ctx), Type: typ, Actor: actor, Detail: detail})
}

// quoteTotal checks a quote's tiers against the inquiry's quantity and prices
// it: the unit price of the highest tier the quantity reaches, times quantity.
func quoteTotal(quantity int64, q QuoteInput) (int64, error) {
	if len(q.Tiers) == 0 {
		return 0, reject(RejectInvalid, "a quote needs at least one price tier")
	}
	unit := int64(-1)
	for i, t := range q.Tiers {
		if t.MinQuantity < 1 || t.UnitPrice < 1 {
			return 0, reject(RejectInvalid, "tier %d: quantity and unit price must be positive", i+1)
		}
		if i > 0 && t.MinQuantity <= q.Tiers[i-1].MinQuantity {
			return 0, reject(RejectInvalid, "tiers must be in increasing order of quantity")
		}
		if quantity >= t.MinQuantity {
			unit = t.UnitPrice
		}
	}
	if unit < 0 {
		return 0, reject(RejectInvalid, "no tier covers the inquiry's quantity %d", quantity)
	}
	if q.MOQ < 0 || q.MOQ > quantity {
		return 0, reject(RejectInvalid, "MOQ %d is above the inquiry's quantity %d", q.MOQ, quantity)
	}
	total, err := money.Mul(unit, quantity)
	if err != nil {
		return 0, reject(RejectInvalid, "total of %d × %d overflows", quantity, unit)
	}
	return total, nil
}

func validateInput(in DealInput) error {
	switch {
	case in.DealID == "":
		return reject(RejectInvalid, "deal ID is required")
	case in.Inquiry.BuyerOrgID == "":
		return reject(RejectInvalid, "buyer is required")
	case in.Inquiry.Quantity < 1:
		return reject(RejectInvalid, "quantity must be positive")
	case !money.ValidCurrency(in.Inquiry.Currency):
		return reject(RejectInvalid, "currency %q is not an ISO-4217 code", in.Inquiry.Currency)
	case len(in.Suppliers) == 0:
		return reject(RejectInvalid, "at least one supplier must be invited")
	}
	return nil
}
