// Package workflows holds Tradeloop's deterministic workflow code: the deal
// workflow, its child workflows and the types they exchange. Nothing here
// touches the network, the database or the wall clock.
package workflows

import (
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
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

// Names of the deal workflow's handlers. Party actions are Updates with
// validators; the deal's view is a Query.
const (
	DealWorkflowName   = "Deal"
	UpdateSubmitQuote  = "submit-quote"
	UpdateDeclineQuote = "decline-quote"
	UpdateAcceptQuote  = "accept-quote"
	QueryState         = "state"
)

// Stage is where a deal is in its lifecycle.
type Stage string

// The stages a deal goes through (DESIGN §2).
const (
	StageQuoting   Stage = "QUOTING"
	StageContract  Stage = "CONTRACT"
	StageExpired   Stage = "EXPIRED"
	StageCancelled Stage = "CANCELLED"
)

// Role is the part a caller plays on the platform.
type Role string

// Roles.
const (
	RoleBuyer    Role = "buyer"
	RoleSupplier Role = "supplier"
	RoleMediator Role = "mediator"
	RoleFinance  Role = "finance"
	RoleAdmin    Role = "admin"
)

// Actor is who performs an action: the API fills it from the caller's key.
type Actor struct {
	UserID string `json:"user_id"`
	OrgID  string `json:"org_id"`
	Role   Role   `json:"role"`
}

// Policy holds a deal's deadlines; DefaultPolicy has the platform's.
type Policy struct {
	QuoteSLA        time.Duration `json:"quote_sla"`
	InquiryExpiry   time.Duration `json:"inquiry_expiry"`
	ContractSigning time.Duration `json:"contract_signing"`
	// InitialInvites is how many suppliers of the dispatch list are invited
	// at once; each late one is replaced by the next on the list.
	InitialInvites int `json:"initial_invites"`
}

// DefaultPolicy returns the platform's default deadlines (DESIGN §2).
func DefaultPolicy() Policy {
	return Policy{
		QuoteSLA:        2 * time.Hour,
		InquiryExpiry:   72 * time.Hour,
		ContractSigning: 5 * 24 * time.Hour,
		InitialInvites:  3,
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
	TargetUnitPrice int64     `json:"target_unit_price"`
	Currency        string    `json:"currency"`
	Destination     string    `json:"destination"`
	ShipBy          time.Time `json:"ship_by"`
	WantsSample     bool      `json:"wants_sample"`
	Specs           string    `json:"specs"`
}

// DealInput starts a deal workflow.
type DealInput struct {
	DealID  string  `json:"deal_id"`
	Inquiry Inquiry `json:"inquiry"`
	// Suppliers is the dispatch list, best match first (organization IDs).
	Suppliers []string `json:"suppliers"`
	Policy    Policy   `json:"policy"`
}

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
}

// DeclineInput is a supplier declining to quote.
type DeclineInput struct {
	Actor  Actor  `json:"actor"`
	Reason string `json:"reason"`
}

// AcceptInput is the buyer accepting one quote.
type AcceptInput struct {
	Actor   Actor  `json:"actor"`
	QuoteID string `json:"quote_id"`
}

// InvitationStatus is where an invited supplier stands.
type InvitationStatus string

// Invitation statuses.
const (
	InvitationPending  InvitationStatus = "PENDING"
	InvitationQuoted   InvitationStatus = "QUOTED"
	InvitationDeclined InvitationStatus = "DECLINED"
	InvitationLate     InvitationStatus = "LATE"
	InvitationClosed   InvitationStatus = "CLOSED"
)

// Invitation is one supplier's invitation to quote.
type Invitation struct {
	SupplierID string           `json:"supplier_id"`
	Status     InvitationStatus `json:"status"`
	InvitedAt  time.Time        `json:"invited_at"`
	DueAt      time.Time        `json:"due_at"`
}

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
	// Total is the price of the inquiry's quantity at this quote's tiers.
	Total     int64     `json:"total"`
	Status    string    `json:"status"` // OPEN, ACCEPTED, CLOSED
	CreatedAt time.Time `json:"created_at"`
}

// Event is one entry of a deal's timeline.
type Event struct {
	At     time.Time `json:"at"`
	Type   string    `json:"type"`
	Actor  string    `json:"actor,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// DealState is the whole deal view the state query returns.
type DealState struct {
	DealID          string       `json:"deal_id"`
	Stage           Stage        `json:"stage"`
	Inquiry         Inquiry      `json:"inquiry"`
	Invitations     []Invitation `json:"invitations"`
	Quotes          []Quote      `json:"quotes"`
	AcceptedQuoteID string       `json:"accepted_quote_id,omitempty"`
	SupplierID      string       `json:"supplier_id,omitempty"`
	Total           int64        `json:"total"`
	Currency        string       `json:"currency"`
	// Deadlines are absolute times, by name.
	Deadlines map[string]time.Time `json:"deadlines"`
	Timeline  []Event              `json:"timeline"`
}
