// Package workflows holds Tradeloop's deterministic workflow code: the deal
// workflow, its shipment-tracking child workflow and the types they exchange.
// Nothing here touches the network, the database or the wall clock.
//
// This file is the deal workflow's whole contract: its IDs, the names and
// payloads of its updates, signals and query, and the state it reports.
package workflows

import (
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/tradeloop/tradeloop/activities"
)

// TaskQueue is the task queue deal workflows and their activities run on.
const TaskQueue = "deals"

// DealWorkflowID is the workflow ID of the deal with the given ID.
func DealWorkflowID(dealID string) string { return "deal-" + dealID }

// Search attributes operations and finance filter deals by in the Temporal
// UI. They are not encrypted: nothing secret goes in them.
var (
	SearchAttrDealStage    = temporal.NewSearchAttributeKeyKeyword("DealStage")
	SearchAttrBuyerID      = temporal.NewSearchAttributeKeyKeyword("BuyerId")
	SearchAttrSupplierID   = temporal.NewSearchAttributeKeyKeyword("SupplierId")
	SearchAttrDealAmount   = temporal.NewSearchAttributeKeyInt64("DealAmount")
	SearchAttrDealCurrency = temporal.NewSearchAttributeKeyKeyword("DealCurrency")
)

// SearchAttributes lists the deal search attributes by name and type, for
// registering them on a namespace.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	keys := []temporal.SearchAttributeKey{
		SearchAttrDealStage, SearchAttrBuyerID, SearchAttrSupplierID, SearchAttrDealAmount, SearchAttrDealCurrency,
	}
	m := make(map[string]enumspb.IndexedValueType, len(keys))
	for _, k := range keys {
		m[k.GetName()] = k.GetValueType()
	}
	return m
}

// Workflow and handler names.
const (
	DealWorkflowName          = "Deal"
	TrackShipmentWorkflowName = "TrackShipment"
	QueryState                = "state"

	// Updates: party actions, validated before they enter history.
	UpdateSubmitQuote       = "submit-quote" // supplier; again to revise
	UpdateDeclineQuote      = "decline-quote"
	UpdateCounterOffer      = "counter-offer" // buyer
	UpdateAcceptQuote       = "accept-quote"
	UpdateRequestSample     = "request-sample" // buyer
	UpdateShipSample        = "ship-sample"    // supplier
	UpdateApproveSample     = "approve-sample" // buyer
	UpdateRejectSample      = "reject-sample"  // buyer
	UpdateSignContract      = "sign-contract"  // buyer, supplier
	UpdatePay               = "pay"            // buyer: sample, deposit, balance
	UpdateReportProgress    = "report-progress"
	UpdateMarkReady         = "mark-ready"
	UpdateExtendShipBy      = "extend-ship-by"   // buyer, once production is late
	UpdateAddShipment       = "add-shipment"     // supplier
	UpdateCorrectTracking   = "correct-tracking" // supplier: a wrong tracking number
	UpdateAcceptDelivery    = "accept-delivery"
	UpdateOpenDispute       = "open-dispute"
	UpdateAnswerDispute     = "answer-dispute"
	UpdateProposeSettlement = "propose-settlement"
	UpdateAcceptSettlement  = "accept-settlement"
	UpdateEscalateDispute   = "escalate-dispute"
	UpdateCancel            = "cancel"
	// UpdateAssignMediator gives a dispute in mediation to a mediator: an
	// admin assigns or reassigns it; a mediator takes one not assigned.
	UpdateAssignMediator = "assign-mediator"
	// UpdateReportTracking is a tracker's news (ShipmentUpdate), from its
	// FollowShipment activity, which writes the round it hands back; no
	// party sends it, and the API has no route to it.
	UpdateReportTracking = "report-tracking"

	// Signals: facts from outside that cannot be refused.
	SignalPaymentConfirmed = "payment-confirmed"
	SignalPaymentFailed    = "payment-failed"
	SignalMediatorDecision = "mediator-decision"
	SignalShipmentUpdate   = "shipment-update"
	SignalProviderEvent    = "provider-event"
)

// Stage is where a deal is in its lifecycle (the README's "Deals").
type Stage string

// Stages. COMPLETED, RESOLVED, CANCELLED and EXPIRED are final.
const (
	StageQuoting    Stage = "QUOTING"
	StageSample     Stage = "SAMPLE"
	StageContract   Stage = "CONTRACT"
	StageDeposit    Stage = "DEPOSIT"
	StageProduction Stage = "PRODUCTION"
	StageBalance    Stage = "BALANCE"
	StageShipping   Stage = "SHIPPING"
	StageInspection Stage = "INSPECTION"
	StageDispute    Stage = "DISPUTE"
	StageMediation  Stage = "MEDIATION"
	StageCompleted  Stage = "COMPLETED" // accepted: escrow released to the supplier
	StageResolved   Stage = "RESOLVED"  // dispute settled or decided
	StageCancelled  Stage = "CANCELLED"
	StageExpired    Stage = "EXPIRED"
)

// Stages lists every stage, in the order a deal can pass through them, the
// final ones last.
var Stages = []Stage{StageQuoting, StageSample, StageContract, StageDeposit, StageProduction, StageBalance,
	StageShipping, StageInspection, StageDispute, StageMediation, StageCompleted, StageResolved, StageCancelled, StageExpired}

// Final reports whether no action can change the deal any more.
func (s Stage) Final() bool {
	return s == StageCompleted || s == StageResolved || s == StageCancelled || s == StageExpired
}

// Role is the part a caller plays on the platform.
type Role string

// Roles.
const (
	RoleBuyer    Role = "buyer"
	RoleSupplier Role = "supplier"
	RoleMediator Role = "mediator"
	RoleFinance  Role = "finance"
	RoleAdmin    Role = "admin"
	RoleSystem   Role = "system"
)

// Actor is who performs an action; the API fills it from the caller's key.
type Actor struct {
	UserID string `json:"user_id"`
	OrgID  string `json:"org_id"`
	Role   Role   `json:"role"`
}

// Policy holds a deal's deadlines. Zero fields take DefaultPolicy's values.
type Policy struct {
	QuoteSLA time.Duration `json:"quote_sla"`
	// QuoteReminder is how long before its quote is due an invited
	// supplier that has not quoted is reminded (deals from versionDeal 3).
	QuoteReminder time.Duration `json:"quote_reminder"`
	// Reminders are how long before a payment, a contract signature or a
	// dispute answer is due its party is reminded, each once (deals from
	// versionDeal 3); a reminder as long as its window or longer is not
	// sent.
	Reminders     []time.Duration `json:"reminders,omitempty"`
	InquiryExpiry time.Duration   `json:"inquiry_expiry"`
	// InitialInvites suppliers of the dispatch list are invited at once; each
	// late or declining one is replaced by the next on the list.
	InitialInvites    int           `json:"initial_invites"`
	SampleShipping    time.Duration `json:"sample_shipping"`
	SampleAutoApprove time.Duration `json:"sample_auto_approve"`
	ContractSigning   time.Duration `json:"contract_signing"`
	DepositDue        time.Duration `json:"deposit_due"`
	BalanceDue        time.Duration `json:"balance_due"`
	PaymentGrace      time.Duration `json:"payment_grace"`
	// PaymentReconcile is how long a charge may wait for its confirmation
	// before the deal asks the provider itself, and then again.
	PaymentReconcile   time.Duration `json:"payment_reconcile"`
	InspectionWindow   time.Duration `json:"inspection_window"`
	InspectionReminder time.Duration `json:"inspection_reminder"`
	DisputeAnswer      time.Duration `json:"dispute_answer"`
	DisputeSettlement  time.Duration `json:"dispute_settlement"`
	// TrackingPoll is how often a shipment is polled on its way;
	// TrackingPollNear once it is out for delivery or at a pickup point.
	TrackingPoll        time.Duration `json:"tracking_poll"`
	TrackingPollNear    time.Duration `json:"tracking_poll_near"`
	TrackingStall       time.Duration `json:"tracking_stall"`
	TrackingPollsPerRun int           `json:"tracking_polls_per_run"`
	// HistoryEvents is the history length past which the deal continues
	// as new (sooner if Temporal suggests it); 0 takes the default.
	HistoryEvents int `json:"history_events,omitempty"`
	// HistoryBytes is how far a run's history may grow past the size it
	// started with before the deal continues as new: a worker that lost
	// the deal from its cache replays at most the carried state and this
	// much. 0 takes the default.
	HistoryBytes int `json:"history_bytes,omitempty"`
	// TrialPercent is the least trial quantity, as a percentage of the
	// supplier's MOQ, a supplier may quote on a first deal with a buyer;
	// 0 takes the default (DefaultTrialPercent).
	TrialPercent int `json:"trial_percent,omitempty"`
}

// DefaultTrialPercent is the least trial quantity unless the policy says:
// half the MOQ.
const DefaultTrialPercent = 50

// DefaultPolicy returns the platform's default deadlines (the README's "Deals").
func DefaultPolicy() Policy {
	const day = 24 * time.Hour
	return Policy{
		QuoteSLA:            2 * time.Hour,
		QuoteReminder:       30 * time.Minute,
		Reminders:           []time.Duration{day, 2 * time.Hour},
		InquiryExpiry:       72 * time.Hour,
		InitialInvites:      3,
		SampleShipping:      14 * day,
		SampleAutoApprove:   7 * day,
		ContractSigning:     5 * day,
		DepositDue:          3 * day,
		BalanceDue:          3 * day,
		PaymentGrace:        time.Hour,
		PaymentReconcile:    10 * time.Minute,
		InspectionWindow:    7 * day,
		InspectionReminder:  day,
		DisputeAnswer:       3 * day,
		DisputeSettlement:   7 * day,
		TrackingPoll:        4 * time.Hour,
		TrackingPollNear:    time.Hour,
		TrackingStall:       5 * day,
		TrackingPollsPerRun: 200,
		HistoryEvents:       10_000,
		HistoryBytes:        1 << 20,
	}
}

// Inquiry is what the buyer asks for.
type Inquiry struct {
	BuyerOrgID string `json:"buyer_org_id"`
	Product    string `json:"product"`
	Category   string `json:"category"`
	Quantity   int64  `json:"quantity"`
	Unit       string `json:"unit"`
	// TargetUnitPrice is in minor units of Currency; 0 means none given.
	TargetUnitPrice int64  `json:"target_unit_price"`
	Currency        string `json:"currency"`
	Destination     string `json:"destination"`
	Incoterm        string `json:"incoterm"`
	// ShipBy is when the goods must be ready to ship; zero means the
	// accepted quote's lead time decides.
	ShipBy      time.Time `json:"ship_by,omitzero"`
	WantsSample bool      `json:"wants_sample"`
	Specs       string    `json:"specs"`
}

// Supplier is one entry of the dispatch list, with the tier that sets its
// commission.
type Supplier struct {
	OrgID string `json:"org_id"`
	// Name is the organization's, for the texts people read (deals started
	// before it was carried show the ID).
	Name string `json:"name,omitempty"`
	Tier string `json:"tier"`
	// Reason is why dispatch ranked the supplier here, when the inquiry
	// named a category instead of suppliers.
	Reason string `json:"reason,omitempty"`
	// FirstDeal says the buyer has had no deal with this supplier yet: the
	// supplier may quote a trial quantity below its MOQ.
	FirstDeal bool `json:"first_deal,omitempty"`
}

// DealInput starts a deal workflow.
type DealInput struct {
	DealID  string  `json:"deal_id"`
	Inquiry Inquiry `json:"inquiry"`
	// Suppliers is the dispatch list, best match first.
	Suppliers []Supplier `json:"suppliers"`
	// Dispatch explains how the list was chosen when the platform chose it
	// (the inquiry named a category); empty when the buyer named suppliers.
	Dispatch string `json:"dispatch,omitempty"`
	Policy   Policy `json:"policy"`
	// OpenedAt is when the API took the inquiry: the deal opens at that
	// time (its first events, the quote SLA and the inquiry's expiry count
	// from it), so the API can answer the create with Opening's state
	// without asking the workflow. Zero, or further than OpeningSkew from
	// the workflow's clock (clocks apart, a deal started long after): the
	// deal opens when its workflow first runs.
	OpenedAt time.Time `json:"opened_at,omitzero"`
	// Resume carries a running deal into its next run when it continues
	// as new; nil when the deal starts.
	Resume *DealResume `json:"resume,omitempty"`
}

// DealResume is what a deal's next run needs of the run before: its state
// (deadlines are absolute times in it, so they carry over as they stand)
// and the counters its IDs and idempotency keys are numbered by.
type DealResume struct {
	State      DealState `json:"state"`
	NextInvite int       `json:"next_invite"`
	QuoteSeq   int       `json:"quote_seq"`
	Proposals  int       `json:"proposals"`
	Trackers   int       `json:"trackers"`
	Projected  int       `json:"projected"`
	// Rounds is how many projections the deal's runs have made.
	Rounds   int `json:"rounds,omitempty"`
	Notified int `json:"notified"`
	// Reminded are the reminders sent (dealReminders' keys), in order.
	Reminded []string `json:"reminded,omitempty"`
	// Marks is what the read model was sent, so the next run sends only
	// what changes after it (nil: runs continued before they were kept).
	Marks *ProjectedMarks `json:"marks,omitempty"`
}

// ---- update payloads ----

// PriceTier is the unit price from a minimum quantity up.
type PriceTier struct {
	MinQuantity int64 `json:"min_quantity"`
	UnitPrice   int64 `json:"unit_price"`
}

// QuoteInput is a supplier's quote or revised quote.
type QuoteInput struct {
	Actor        Actor       `json:"actor"`
	Tiers        []PriceTier `json:"tiers"`
	MOQ          int64       `json:"moq"`
	LeadTimeDays int         `json:"lead_time_days"`
	ValidTill    time.Time   `json:"valid_till"`
	SamplePrice  int64       `json:"sample_price"`
	Note         string      `json:"note"`
	// Trial offers the inquiry's quantity, below the supplier's MOQ, as a
	// trial order: only on a first deal between the buyer and the
	// supplier, and for at least the policy's TrialPercent of the MOQ.
	Trial bool `json:"trial,omitempty"`
}

// DeclineInput is a supplier declining to quote.
type DeclineInput struct {
	Actor  Actor  `json:"actor"`
	Reason string `json:"reason"`
}

// CounterOfferInput is the buyer asking a supplier for a better quote.
type CounterOfferInput struct {
	Actor           Actor  `json:"actor"`
	SupplierID      string `json:"supplier_id"`
	TargetUnitPrice int64  `json:"target_unit_price"`
	Message         string `json:"message"`
}

// AcceptInput is the buyer accepting one quote.
type AcceptInput struct {
	Actor   Actor  `json:"actor"`
	QuoteID string `json:"quote_id"`
}

// ActorInput is an action that carries nothing but who does it.
type ActorInput struct {
	Actor Actor  `json:"actor"`
	Note  string `json:"note"`
}

// ShipmentInput names a carrier's shipment.
type ShipmentInput struct {
	Actor          Actor  `json:"actor"`
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
}

// RejectSampleInput rejects a sample, asking for another or ending the deal.
type RejectSampleInput struct {
	Actor    Actor  `json:"actor"`
	Reason   string `json:"reason"`
	Resample bool   `json:"resample"`
}

// SignInput signs the contract whose terms hash to TermsSHA256.
type SignInput struct {
	Actor       Actor  `json:"actor"`
	TermsSHA256 string `json:"terms_sha256"`
}

// PayInput starts the buyer's payment of one step.
type PayInput struct {
	Actor Actor  `json:"actor"`
	Step  string `json:"step"` // activities.StepSample, StepDeposit, StepBalance
}

// ActionResult is what every party action's update returns: the deal's
// stage after it. It is recorded in the deal's history, so it never carries
// the deal's state; the API reads the state it shows through the query.
type ActionResult struct {
	DealID string `json:"deal_id"`
	Stage  Stage  `json:"stage"`
	// Projected: the read model has the deal with this action, so a
	// client may read it there.
	Projected bool `json:"projected,omitempty"`
	// Books is the action's round of bookkeeping (versionHandOffBooks),
	// for the API to write before it answers; never shown to a client.
	Books *activities.Books `json:"books,omitempty"`
}

// PayResult is what the buyer's client needs to complete a payment. The
// provider's client secret is fetched by the API and never recorded.
type PayResult struct {
	ActionResult
	PaymentID         string        `json:"payment_id"`
	Provider          string        `json:"provider"`
	ProviderPaymentID string        `json:"provider_payment_id,omitempty"`
	Status            PaymentStatus `json:"status"`
}

// ProgressInput is a supplier's production report.
type ProgressInput struct {
	Actor   Actor  `json:"actor"`
	Percent int    `json:"percent"`
	Note    string `json:"note"`
}

// ExtendInput moves the ship-by date of a late production.
type ExtendInput struct {
	Actor     Actor     `json:"actor"`
	NewShipBy time.Time `json:"new_ship_by"`
}

// DisputeInput opens a dispute.
type DisputeInput struct {
	Actor    Actor    `json:"actor"`
	Reason   string   `json:"reason"`
	Remedy   string   `json:"remedy"`
	Evidence []string `json:"evidence"`
}

// ProposalInput proposes to settle by releasing ReleaseAmount to the
// supplier and refunding the rest of the escrow to the buyer.
type ProposalInput struct {
	Actor         Actor  `json:"actor"`
	ReleaseAmount int64  `json:"release_amount"`
	Note          string `json:"note"`
}

// AcceptProposalInput accepts the other party's proposal.
type AcceptProposalInput struct {
	Actor      Actor  `json:"actor"`
	ProposalID string `json:"proposal_id"`
}

// ---- signal payloads ----

// PaymentConfirmed says the provider captured a payment.
type PaymentConfirmed struct {
	ProviderPaymentID string `json:"provider_payment_id"`
	Amount            int64  `json:"amount"`
	Currency          string `json:"currency"`
}

// PaymentFailed says the provider could not take a payment.
type PaymentFailed struct {
	ProviderPaymentID string `json:"provider_payment_id"`
	Reason            string `json:"reason"`
}

// ProviderEvent is a payment provider's news about a deal's money that needs
// no decision from the deal (a refund or transfer settled, a card dispute
// opened): it goes on the timeline, and finance is told of card disputes.
type ProviderEvent struct {
	Type     string `json:"type"`
	ObjectID string `json:"object_id"`
	Detail   string `json:"detail"`
}

// Mediator outcomes.
const (
	OutcomeRefund  = "refund"  // everything in escrow back to the buyer
	OutcomeRelease = "release" // everything to the supplier, minus commission
	OutcomeSplit   = "split"   // ReleaseAmount to the supplier, the rest refunded
)

// AssignMediatorInput gives a dispute in mediation to the mediator
// MediatorID (a user ID).
type AssignMediatorInput struct {
	Actor      Actor  `json:"actor"`
	MediatorID string `json:"mediator_id"`
}

// MediatorDecision is a mediator's ruling on a dispute in mediation.
type MediatorDecision struct {
	Actor         Actor  `json:"actor"`
	Outcome       string `json:"outcome"`
	ReleaseAmount int64  `json:"release_amount"`
	Note          string `json:"note"`
}

// ShipmentUpdate is what the tracking child, or its FollowShipment
// activity, reports to its deal: the shipment's status and the carrier
// events it had not reported yet.
type ShipmentUpdate = activities.TrackReport

// CorrectTrackingInput replaces a wrong tracking number; tracking restarts.
type CorrectTrackingInput struct {
	Actor          Actor  `json:"actor"`
	Kind           string `json:"kind"` // "sample" or "goods"
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
}

// ---- state ----

// InvitationStatus is where an invited supplier stands.
type InvitationStatus string

// Invitation statuses.
const (
	InvitationPending  InvitationStatus = "PENDING"
	InvitationQuoted   InvitationStatus = "QUOTED"
	InvitationDeclined InvitationStatus = "DECLINED"
	InvitationLate     InvitationStatus = "LATE"
	InvitationClosed   InvitationStatus = "CLOSED"
	InvitationAwarded  InvitationStatus = "AWARDED"
)

// Invitation is one supplier's invitation to quote.
type Invitation struct {
	SupplierID string           `json:"supplier_id"`
	Tier       string           `json:"tier"`
	Status     InvitationStatus `json:"status"`
	InvitedAt  time.Time        `json:"invited_at"`
	DueAt      time.Time        `json:"due_at"`
	// Reminded: the supplier was reminded that its quote is due soon.
	Reminded bool `json:"reminded,omitempty"`
}

// QuoteStatus is where a quote stands.
type QuoteStatus string

// Quote statuses.
const (
	QuoteOpen     QuoteStatus = "OPEN"
	QuoteAccepted QuoteStatus = "ACCEPTED"
	QuoteClosed   QuoteStatus = "CLOSED"
)

// Quote is a supplier's offer as the deal holds it.
type Quote struct {
	ID           string      `json:"id"`
	SupplierID   string      `json:"supplier_id"`
	Revision     int         `json:"revision"`
	Tiers        []PriceTier `json:"tiers"`
	MOQ          int64       `json:"moq"`
	LeadTimeDays int         `json:"lead_time_days"`
	ValidTill    time.Time   `json:"valid_till"`
	SamplePrice  int64       `json:"sample_price"`
	Note         string      `json:"note,omitempty"`
	// Trial marks a trial order: the inquiry's quantity below the MOQ.
	Trial bool `json:"trial,omitempty"`
	// UnitPrice and Total price the inquiry's quantity at this quote's tiers.
	UnitPrice int64       `json:"unit_price"`
	Total     int64       `json:"total"`
	Status    QuoteStatus `json:"status"`
	CreatedAt time.Time   `json:"created_at"`
}

// CounterOffer is the buyer's answer to a quote.
type CounterOffer struct {
	SupplierID      string    `json:"supplier_id"`
	TargetUnitPrice int64     `json:"target_unit_price"`
	Message         string    `json:"message"`
	At              time.Time `json:"at"`
}

// SampleStatus is where the sample stands.
type SampleStatus string

// Sample statuses.
const (
	SampleRequested SampleStatus = "REQUESTED"
	SampleShipped   SampleStatus = "SHIPPED"
	SampleDelivered SampleStatus = "DELIVERED"
	SampleApproved  SampleStatus = "APPROVED"
	SampleRejected  SampleStatus = "REJECTED"
)

// SampleState follows the optional sample.
type SampleState struct {
	Status   SampleStatus `json:"status"`
	Price    int64        `json:"price"`
	Paid     bool         `json:"paid"`
	Rounds   int          `json:"rounds"`
	Shipment *Shipment    `json:"shipment,omitempty"`
	Verdict  string       `json:"verdict,omitempty"`
}

// ContractTerms are the accepted terms both parties sign; their canonical
// JSON is what TermsSHA256 hashes.
type ContractTerms struct {
	DealID           string    `json:"deal_id"`
	BuyerOrgID       string    `json:"buyer_org_id"`
	SupplierOrgID    string    `json:"supplier_org_id"`
	Product          string    `json:"product"`
	Specs            string    `json:"specs"`
	Quantity         int64     `json:"quantity"`
	Unit             string    `json:"unit"`
	UnitPrice        int64     `json:"unit_price"`
	Total            int64     `json:"total"`
	Currency         string    `json:"currency"`
	LeadTimeDays     int       `json:"lead_time_days"`
	ShipBy           time.Time `json:"ship_by"`
	Incoterm         string    `json:"incoterm"`
	Destination      string    `json:"destination"`
	DepositPercent   int       `json:"deposit_percent"`
	Deposit          int64     `json:"deposit"`
	Balance          int64     `json:"balance"`
	InspectionDays   int       `json:"inspection_days"`
	LateDeliveryRule string    `json:"late_delivery_rule"`
	// TrialBelowMOQ is the supplier's MOQ when the order is a trial below
	// it (0: not a trial; absent from the terms, and their hash, then).
	TrialBelowMOQ int64 `json:"trial_below_moq,omitempty"`
}

// Contract is the rendered contract and its signatures.
type Contract struct {
	Terms            ContractTerms `json:"terms"`
	Text             string        `json:"text"`
	TermsSHA256      string        `json:"terms_sha256"`
	BuyerSignedAt    time.Time     `json:"buyer_signed_at,omitzero"`
	SupplierSignedAt time.Time     `json:"supplier_signed_at,omitzero"`
}

// PaymentKind is what a money movement does: take the buyer's money,
// give it back, or pay it out.
type PaymentKind string

// Payment kinds.
const (
	PaymentCharge   PaymentKind = "charge"
	PaymentRefund   PaymentKind = "refund"
	PaymentTransfer PaymentKind = "transfer"
	// PaymentCoupon is a buyer's referral coupon paying part of a step:
	// money the platform puts into escrow for the buyer (its ProviderID
	// is the coupon's ID).
	PaymentCoupon PaymentKind = "coupon"
)

// HoldsEscrow reports whether a payment of kind k, once it succeeded, puts
// money into the deal's escrow: a charge or a coupon.
func (k PaymentKind) HoldsEscrow() bool { return k == PaymentCharge || k == PaymentCoupon }

// PaymentStatus is where a money movement stands at its provider.
type PaymentStatus string

// Payment statuses.
const (
	PaymentInitiating PaymentStatus = "initiating"
	PaymentPending    PaymentStatus = "pending"
	PaymentSucceeded  PaymentStatus = "succeeded"
	PaymentDeclined   PaymentStatus = "failed"
)

// Payment is one money movement at the provider.
type Payment struct {
	ID             string        `json:"id"`
	Kind           PaymentKind   `json:"kind"`
	Step           string        `json:"step"`
	Amount         int64         `json:"amount"`
	Currency       string        `json:"currency"`
	Status         PaymentStatus `json:"status"`
	Provider       string        `json:"provider,omitempty"`
	ProviderID     string        `json:"provider_id,omitempty"`
	IdempotencyKey string        `json:"idempotency_key"`
	Reason         string        `json:"reason,omitempty"`
	CreatedAt      time.Time     `json:"created_at"`
	// CheckedAt is when the provider was last asked about a pending charge.
	CheckedAt time.Time `json:"checked_at,omitzero"`
	// Excess marks captured money the deal did not ask for (a second
	// payment of a step, or one it never started): it is refunded in full.
	Excess bool `json:"excess,omitempty"`
	// Posted is set once the ledger holds the charge; Settled once it has
	// been paid out or refunded.
	Posted  bool `json:"posted"`
	Settled bool `json:"settled"`
}

// nextCheck is when a pending charge is next asked about at its provider.
func (p Payment) nextCheck(every time.Duration) time.Time {
	last := p.CreatedAt
	if p.CheckedAt.After(last) {
		last = p.CheckedAt
	}
	return last.Add(every)
}

// GoodsHeld is the deposit and balance still in escrow: what a dispute's
// settlement or a mediator's decision divides (the sample is settled apart).
func (s DealState) GoodsHeld() int64 {
	var held int64
	for _, p := range s.Payments {
		if p.Kind.HoldsEscrow() && p.Status == PaymentSucceeded && !p.Settled && !p.Excess && p.Step != activities.StepSample {
			held += p.Amount
		}
	}
	return held
}

// Escrow sums the money the deal holds and has paid out.
type Escrow struct {
	Held       int64 `json:"held"`
	Released   int64 `json:"released"`
	Commission int64 `json:"commission"`
	Refunded   int64 `json:"refunded"`
}

// Production follows manufacturing.
type Production struct {
	ShipBy     time.Time        `json:"ship_by"`
	Progress   []ProgressReport `json:"progress"`
	Late       bool             `json:"late"`
	Extensions int              `json:"extensions"`
	ReadyAt    time.Time        `json:"ready_at,omitzero"`
}

// ProgressReport is one production update.
type ProgressReport struct {
	Percent int       `json:"percent"`
	Note    string    `json:"note"`
	At      time.Time `json:"at"`
}

// Shipment follows a carrier shipment.
type Shipment struct {
	Carrier        string                  `json:"carrier"`
	TrackingNumber string                  `json:"tracking_number"`
	Status         string                  `json:"status"`
	Events         []activities.TrackEvent `json:"events"`
	ShippedAt      time.Time               `json:"shipped_at"`
	DeliveredAt    time.Time               `json:"delivered_at,omitzero"`
	// tracker is the child workflow's run number for this shipment.
	Tracker int `json:"tracker"`
	// Corrections counts the supplier's corrections of the tracking number.
	Corrections int `json:"corrections,omitempty"`
}

// DisputeStatus is where a dispute stands.
type DisputeStatus string

// Dispute statuses.
const (
	DisputeOpen      DisputeStatus = "OPEN"
	DisputeAnswered  DisputeStatus = "ANSWERED"
	DisputeMediation DisputeStatus = "MEDIATION"
	DisputeSettled   DisputeStatus = "SETTLED"
	DisputeDecided   DisputeStatus = "DECIDED"
)

// ProposalStatus is where a settlement proposal stands.
type ProposalStatus string

// Proposal statuses.
const (
	ProposalOpen       ProposalStatus = "OPEN"
	ProposalAccepted   ProposalStatus = "ACCEPTED"
	ProposalSuperseded ProposalStatus = "SUPERSEDED" // a newer proposal of the same party
)

// Dispute follows a disagreement over a delivery or a default.
type Dispute struct {
	OpenedBy  string        `json:"opened_by"`
	Reason    string        `json:"reason"`
	Remedy    string        `json:"remedy"`
	Evidence  []string      `json:"evidence"`
	Answer    string        `json:"answer,omitempty"`
	Status    DisputeStatus `json:"status"`
	Proposals []Proposal    `json:"proposals"`
	Decision  *Decision     `json:"decision,omitempty"`
	OpenedAt  time.Time     `json:"opened_at"`
	// MediatorID is the mediator (a user) the dispute is assigned to once
	// in mediation, who alone sees and decides it. Empty: not assigned (a
	// deal from before versionDeal 6, or no mediator could be chosen), and
	// any mediator may take it (UpdateAssignMediator).
	MediatorID string `json:"mediator_id,omitempty"`
}

// Proposal is one party's offer to settle.
type Proposal struct {
	ID            string         `json:"id"`
	By            string         `json:"by"` // org ID
	ReleaseAmount int64          `json:"release_amount"`
	Note          string         `json:"note"`
	Status        ProposalStatus `json:"status"`
	At            time.Time      `json:"at"`
}

// Decision is the mediator's ruling.
type Decision struct {
	MediatorID    string    `json:"mediator_id"`
	Outcome       string    `json:"outcome"`
	ReleaseAmount int64     `json:"release_amount"`
	Note          string    `json:"note"`
	At            time.Time `json:"at"`
}

// Resolution is how the deal's escrow is finally divided.
type Resolution struct {
	Reason  string `json:"reason"`
	Release int64  `json:"release"` // to the supplier side, before commission
	Done    bool   `json:"done"`    // the money has moved
	// Note says who settled the deal outside its own course, and why (an
	// operator override); the ledger's settlement memos carry it.
	Note string `json:"note,omitempty"`
}

// Event is one entry of a deal's timeline.
type Event struct {
	At     time.Time `json:"at"`
	Type   EventType `json:"type"`
	Actor  string    `json:"actor,omitempty"`
	Detail string    `json:"detail,omitempty"`
	// About is the supplier an entry concerns when another party made it
	// (a counter-offer, an award): the views show it to that supplier.
	About string `json:"about,omitempty"`
}

// DealState is the whole deal view the state query returns.
type DealState struct {
	DealID          string         `json:"deal_id"`
	Stage           Stage          `json:"stage"`
	Inquiry         Inquiry        `json:"inquiry"`
	Invitations     []Invitation   `json:"invitations"`
	Quotes          []Quote        `json:"quotes"`
	CounterOffers   []CounterOffer `json:"counter_offers"`
	AcceptedQuoteID string         `json:"accepted_quote_id,omitempty"`
	SupplierID      string         `json:"supplier_id,omitempty"`
	SupplierTier    string         `json:"supplier_tier,omitempty"`
	CommissionBP    int64          `json:"commission_bp"`
	Total           int64          `json:"total"`
	Deposit         int64          `json:"deposit"`
	Balance         int64          `json:"balance"`
	Currency        string         `json:"currency"`
	Sample          *SampleState   `json:"sample,omitempty"`
	Contract        *Contract      `json:"contract,omitempty"`
	Payments        []Payment      `json:"payments"`
	Escrow          Escrow         `json:"escrow"`
	Production      *Production    `json:"production,omitempty"`
	Shipment        *Shipment      `json:"shipment,omitempty"`
	Dispute         *Dispute       `json:"dispute,omitempty"`
	Resolution      *Resolution    `json:"resolution,omitempty"`
	// Deadlines are absolute times, by name; a passed one is removed.
	Deadlines map[string]time.Time `json:"deadlines"`
	Timeline  []Event              `json:"timeline"`
}
