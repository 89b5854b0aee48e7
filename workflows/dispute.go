package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/notice"
)

func (d *deal) checkOpenDispute(_ workflow.Context, in DisputeInput) error {
	if err := d.needStage(StageShipping, StageInspection); err != nil {
		return err
	}
	if err := d.needBuyer(in.Actor); err != nil {
		return err
	}
	if in.Reason == "" {
		return reject(RejectInvalid, "a dispute needs a reason")
	}
	return nil
}

func (d *deal) openDispute(ctx workflow.Context, in DisputeInput) {
	d.startDispute(ctx, in.Actor.OrgID, in.Reason, in.Remedy, in.Evidence)
}

// startDispute opens a dispute the supplier must answer in time.
func (d *deal) startDispute(ctx workflow.Context, by, reason, remedy string, evidence []string) {
	now := workflow.Now(ctx)
	d.state.Dispute = &Dispute{OpenedBy: by, Reason: reason, Remedy: remedy, Evidence: evidence, Status: DisputeOpen, OpenedAt: now}
	delete(d.state.Deadlines, DeadlineInspectionEnds)
	delete(d.state.Deadlines, DeadlineInspectionReminder)
	d.state.Deadlines[DeadlineDisputeAnswerDue] = now.Add(d.in.Policy.DisputeAnswer)
	d.event(ctx, EventDisputeOpened, by, reason)
	d.notify(d.state.SupplierID, "dispute_opened", notice.Facts{Reason: reason, Within: d.in.Policy.DisputeAnswer})
	d.setStage(ctx, StageDispute)
}

// buyerDefault sends the deposit to mediation when the balance is not paid.
func (d *deal) buyerDefault(ctx workflow.Context) {
	d.state.Dispute = &Dispute{OpenedBy: "system", Reason: "buyer_default", Remedy: "the balance was not paid in time", Status: DisputeMediation, OpenedAt: workflow.Now(ctx)}
	d.event(ctx, EventBuyerDefault, "", "the balance was not paid in time; the deposit goes to mediation")
	d.toMediation(ctx, "buyer_default")
}

func (d *deal) isParty(a Actor) bool { return d.isBuyer(a) || d.isAwardedSupplier(a) }

func (d *deal) checkAnswer(_ workflow.Context, in ActorInput) error {
	if err := d.needStage(StageDispute); err != nil {
		return err
	}
	if err := d.needSupplier(in.Actor); err != nil {
		return err
	}
	if d.state.Dispute.Status != DisputeOpen {
		return reject(RejectWrongStage, "the dispute is already answered")
	}
	if in.Note == "" {
		return reject(RejectInvalid, "an answer needs a text")
	}
	return nil
}

func (d *deal) answerDispute(ctx workflow.Context, in ActorInput) {
	d.state.Dispute.Answer = in.Note
	d.state.Dispute.Status = DisputeAnswered
	delete(d.state.Deadlines, DeadlineDisputeAnswerDue)
	d.state.Deadlines[DeadlineDisputeSettleBy] = workflow.Now(ctx).Add(d.in.Policy.DisputeSettlement)
	d.event(ctx, EventDisputeAnswered, in.Actor.OrgID, in.Note)
}

func (d *deal) checkPropose(_ workflow.Context, in ProposalInput) error {
	if err := d.needStage(StageDispute, StageMediation); err != nil {
		return err
	}
	if !d.isParty(in.Actor) {
		return reject(RejectNotAllowed, "only the buyer and the supplier propose settlements")
	}
	if held := d.goodsHeld(); in.ReleaseAmount < 0 || in.ReleaseAmount > held {
		return reject(RejectInvalid, "release amount %d must be between 0 and the %d held in escrow", in.ReleaseAmount, held)
	}
	n := 0
	for _, p := range d.state.Dispute.Proposals {
		if p.By == in.Actor.OrgID {
			n++
		}
	}
	if n >= MaxProposalsPerParty {
		return limitReached("each party may propose at most %d settlements", MaxProposalsPerParty)
	}
	return nil
}

func (d *deal) propose(ctx workflow.Context, in ProposalInput) {
	for i := range d.state.Dispute.Proposals {
		if p := &d.state.Dispute.Proposals[i]; p.By == in.Actor.OrgID && p.Status == ProposalOpen {
			p.Status = ProposalSuperseded
		}
	}
	d.proposals++
	id := fmt.Sprintf("p%d", d.proposals)
	d.state.Dispute.Proposals = append(d.state.Dispute.Proposals, Proposal{
		ID: id, By: in.Actor.OrgID, ReleaseAmount: in.ReleaseAmount, Note: in.Note, Status: ProposalOpen, At: workflow.Now(ctx),
	})
	d.event(ctx, EventSettlementProposed, in.Actor.OrgID, fmt.Sprintf("%s: release %d %s to the supplier", id, in.ReleaseAmount, d.state.Currency))
	other := d.state.SupplierID
	if in.Actor.OrgID == other {
		other = d.in.Inquiry.BuyerOrgID
	}
	d.notify(other, "settlement_proposed", notice.Facts{Ref: id})
}

func (d *deal) findProposal(in AcceptProposalInput) (*Proposal, error) {
	if err := d.needStage(StageDispute, StageMediation); err != nil {
		return nil, err
	}
	if !d.isParty(in.Actor) {
		return nil, reject(RejectNotAllowed, "only the buyer and the supplier settle")
	}
	for i := range d.state.Dispute.Proposals {
		p := &d.state.Dispute.Proposals[i]
		if p.ID != in.ProposalID {
			continue
		}
		if p.Status != ProposalOpen {
			return nil, reject(RejectWrongStage, "proposal %s is %s", p.ID, p.Status)
		}
		if p.By == in.Actor.OrgID {
			return nil, reject(RejectNotAllowed, "the other party must accept a proposal")
		}
		if p.ReleaseAmount > d.goodsHeld() {
			return nil, reject(RejectInvalid, "proposal %s releases more than the escrow holds", p.ID)
		}
		return p, nil
	}
	return nil, reject(RejectNotFound, "no proposal %q", in.ProposalID)
}

func (d *deal) checkAcceptProposal(_ workflow.Context, in AcceptProposalInput) error {
	_, err := d.findProposal(in)
	return err
}

func (d *deal) acceptProposal(ctx workflow.Context, in AcceptProposalInput) {
	p, _ := d.findProposal(in)
	p.Status = ProposalAccepted
	d.state.Dispute.Status = DisputeSettled
	delete(d.state.Deadlines, DeadlineDisputeAnswerDue)
	delete(d.state.Deadlines, DeadlineDisputeSettleBy)
	d.finish(ctx, StageResolved, EventDisputeSettled, fmt.Sprintf("%s accepted by %s", p.ID, in.Actor.OrgID), p.ReleaseAmount)
}

func (d *deal) checkEscalate(_ workflow.Context, in ActorInput) error {
	if err := d.needStage(StageDispute); err != nil {
		return err
	}
	if !d.isParty(in.Actor) {
		return reject(RejectNotAllowed, "only the buyer and the supplier escalate")
	}
	return nil
}

func (d *deal) escalateUpdate(ctx workflow.Context, in ActorInput) {
	d.escalate(ctx, in.Actor.OrgID, in.Note)
}

func (d *deal) escalate(ctx workflow.Context, by, why string) {
	d.state.Dispute.Status = DisputeMediation
	delete(d.state.Deadlines, DeadlineDisputeAnswerDue)
	delete(d.state.Deadlines, DeadlineDisputeSettleBy)
	d.event(ctx, EventDisputeEscalated, by, why)
	d.toMediation(ctx, "dispute")
}

// toMediation sends the dispute to mediation, and tells who mediates it:
// the mediator it is assigned to (dealAssignsMediators), or every
// mediator (the mediation desk) when none was chosen and for earlier
// deals, which told the desk before the stage changed.
func (d *deal) toMediation(ctx workflow.Context, why string) {
	if d.features < dealAssignsMediators {
		d.notify(mediationDesk, "mediation_needed", notice.Facts{Case: why})
		d.setStage(ctx, StageMediation)
		return
	}
	d.setStage(ctx, StageMediation)
	d.chooseMediator(ctx)
	d.notify(d.mediators(), "mediation_needed", notice.Facts{Case: why})
}

// mediationDesk addresses a notification to every mediator.
const mediationDesk = "mediation"

// mediators addresses a notification to whoever mediates the dispute: its
// mediator ("mediator:<user ID>", notification_recipients), or the desk.
func (d *deal) mediators() string {
	if id := d.state.Dispute.MediatorID; id != "" {
		return "mediator:" + id
	}
	return mediationDesk
}

// mediatorOptions: choosing a mediator is a read of the platform's users
// and cases, tried for a minute; a dispute whose choice fails stays
// unassigned, for any mediator to take.
var mediatorOptions = workflow.ActivityOptions{
	StartToCloseTimeout:    10 * time.Second,
	ScheduleToCloseTimeout: time.Minute,
	RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Second},
}

// chooseMediator assigns a dispute that reached mediation to the least
// busy mediator (dealAssignsMediators): from then on only that mediator
// sees and decides it, unless an admin reassigns it.
func (d *deal) chooseMediator(ctx workflow.Context) {
	if d.features < dealAssignsMediators {
		return
	}
	var id string
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(withSummary(ctx, "choose a mediator"), mediatorOptions), acts.ChooseMediator, d.in.DealID).Get(ctx, &id)
	if err != nil || id == "" {
		why := "no mediator on the platform"
		if err != nil {
			why = err.Error()
		}
		workflow.GetLogger(ctx).Warn("dispute in mediation not assigned", "deal_id", d.in.DealID, "why", why)
		d.event(ctx, EventMediatorUnchosen, "", "no mediator chosen: any mediator may take the dispute")
		return
	}
	d.assignMediator(ctx, id, "")
}

func (d *deal) assignMediator(ctx workflow.Context, mediatorID, by string) {
	d.state.Dispute.MediatorID = mediatorID
	d.event(ctx, EventMediatorAssigned, by, mediatorID)
}

// checkAssignMediator: a dispute in mediation, not decided; an admin
// assigns it to any mediator (the API checks the user is one), a
// mediator takes one assigned to no one, for itself.
func (d *deal) checkAssignMediator(_ workflow.Context, in AssignMediatorInput) error {
	if err := d.needStage(StageMediation); err != nil {
		return err
	}
	switch {
	case in.Actor.Role == RoleAdmin:
	case in.Actor.Role == RoleMediator && in.MediatorID == in.Actor.UserID && d.state.Dispute.MediatorID == "":
	case in.Actor.Role == RoleMediator && in.MediatorID == in.Actor.UserID:
		return reject(RejectNotAllowed, "the dispute is assigned to another mediator")
	default:
		return reject(RejectNotAllowed, "an admin assigns a dispute; a mediator takes one assigned to no one, for itself")
	}
	if d.state.Dispute.MediatorID == in.MediatorID {
		return reject(RejectWrongStage, "the dispute is already assigned to that mediator")
	}
	return nil
}

func (d *deal) assignMediatorUpdate(ctx workflow.Context, in AssignMediatorInput) {
	d.assignMediator(ctx, in.MediatorID, in.Actor.UserID)
	if in.MediatorID != in.Actor.UserID {
		// An admin gave it to a mediator, who learns of it.
		d.notify(d.mediators(), "mediation_needed", notice.Facts{Case: "dispute"})
	}
}

// mediatorDecision applies a mediator's ruling. A signal cannot be refused,
// so a ruling that does not fit (wrong stage, not a mediator, bad amount; the
// API checks these before signalling) is recorded and ignored.
func (d *deal) mediatorDecision(ctx workflow.Context, m MediatorDecision) {
	m.Note = bounds.Clean(m.Note, MaxDecisionNote)
	held := d.goodsHeld()
	release, problem := int64(0), ""
	switch {
	case d.state.Stage != StageMediation:
		problem = "the deal is " + string(d.state.Stage)
	case m.Actor.Role != RoleMediator:
		problem = "not from a mediator"
	case d.state.Dispute.MediatorID != "" && m.Actor.UserID != d.state.Dispute.MediatorID:
		problem = "not from the mediator the dispute is assigned to"
	case m.Outcome == OutcomeRefund:
		release = 0
	case m.Outcome == OutcomeRelease:
		release = held
	case m.Outcome == OutcomeSplit && m.ReleaseAmount > 0 && m.ReleaseAmount < held:
		release = m.ReleaseAmount
	default:
		problem = fmt.Sprintf("outcome %q with release %d of %d held", m.Outcome, m.ReleaseAmount, held)
	}
	if problem != "" {
		d.event(ctx, EventDecisionIgnored, m.Actor.UserID, problem)
		return
	}
	d.state.Dispute.Status = DisputeDecided
	d.state.Dispute.Decision = &Decision{MediatorID: m.Actor.UserID, Outcome: m.Outcome, ReleaseAmount: release, Note: m.Note, At: workflow.Now(ctx)}
	d.finish(ctx, StageResolved, EventMediatorDecision, fmt.Sprintf("%s: release %d of %d %s", m.Outcome, release, held, d.state.Currency), release)
}
