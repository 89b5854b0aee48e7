// Package activities holds every side effect the deal workflow asks for:
// payments, ledger postings, the read-model projection, carrier tracking and
// notifications. Each is a method on Activities, which holds the providers it
// needs; the workflow refers to the methods through a typed nil pointer, so
// the compiler checks every name.
//
// Money activities carry an idempotency key made from the workflow ID and the
// step, never the attempt, so a retried activity moves money at most once.
package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tradeloop/tradeloop/internal/notice"
)

// Payments moves money at the payment provider (Stripe, or the sandbox).
type Payments interface {
	Charge(ctx context.Context, in ChargeInput) (ChargeResult, error)
	Refund(ctx context.Context, in RefundInput) (RefundResult, error)
	Transfer(ctx context.Context, in TransferInput) (TransferResult, error)
	// Status asks the provider how a charge stands ("succeeded", "failed"
	// or "pending"), for when its confirmation is late.
	Status(ctx context.Context, providerPaymentID string) (string, error)
	// ChargeSaved charges a payer again without them (off-session), with
	// the payment method an earlier charge of theirs confirmed with
	// SaveForLater kept at the provider: a yearly fee's renewal. A card
	// the provider refuses, or one whose bank asks for the payer to
	// authenticate, is Declined.
	ChargeSaved(ctx context.Context, in SavedChargeInput) (ChargeResult, error)
}

// Ledger records money movements as balanced double-entry postings.
type Ledger interface {
	Post(ctx context.Context, p Posting) error
}

// Projection keeps the read model (deal rows and timelines) up to date.
type Projection interface {
	Project(ctx context.Context, p DealProjection) error
	// WriteBooks writes a round of bookkeeping at once: its notifications
	// into the outbox, each once by its key, and its projection.
	WriteBooks(ctx context.Context, b Books) error
}

// PaymentIndex tells which deal a payment at the provider belongs to, as
// the read model has recorded it. A provider's event about a charge or a
// card dispute names only the PaymentIntent.
type PaymentIndex interface {
	// DealOfPayment returns ErrPaymentUnknown while no deal has recorded
	// the payment.
	DealOfPayment(ctx context.Context, providerPaymentID string) (dealID string, err error)
}

// ErrPaymentUnknown means no deal has recorded this provider payment (yet).
var ErrPaymentUnknown = errors.New("no deal has recorded this payment")

// ErrPaymentNotRecorded is the type of the retryable error DealOfPayment
// fails with while the payment is unknown, so the Temporal UI says what
// the activity waits for.
const ErrPaymentNotRecorded = "PaymentNotRecorded"

// Tracker reads a shipment's status from a carrier or tracking aggregator.
type Tracker interface {
	Track(ctx context.Context, in TrackInput) (TrackResult, error)
}

// Notifier tells a party that something needs its attention.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Activities are the deal workflow's side effects.
type Activities struct {
	Payments   Payments
	Ledger     Ledger
	Projection Projection
	Tracker    Tracker
	Notifier   Notifier
	// Deals takes trackers' news to their deals (FollowShipment);
	// without it, the trackers signal it themselves.
	Deals DealUpdater
	// Tiers recalculates supplier tiers; only the daily tier workflow uses it.
	Tiers Tiers
	// Alerts keeps finance's alerts (RaiseAlert); Escrows serves the escrow
	// watchdog and operator overrides (activities/finance.go).
	Alerts  Alerts
	Escrows Escrows
	// Logger logs alerts; nil means slog's default.
	Logger *slog.Logger
	// PaymentIndex finds a payment's deal; only the delivery of provider
	// events uses it.
	PaymentIndex PaymentIndex
	// Mediators chooses the mediator of a dispute that reaches mediation
	// (ChooseMediator); without it, disputes reach mediation unassigned.
	Mediators Mediators
	// Idempotency purges the API's kept responses older than
	// IdempotencyRetention; only the scheduled purge uses them.
	Idempotency          IdempotencyPurger
	IdempotencyRetention time.Duration
	// Reactivate messages the buyers gone quiet; only the scheduled
	// reactivation uses it.
	Reactivate Reactivator
	// PriceIndex takes a day of the price index per category; only the
	// scheduled snapshot uses it.
	PriceIndex PriceIndexer
	// Coupons keeps referral coupons: a deal's deposit uses its buyer's,
	// and a referred buyer's first completed deal issues its referrer's
	// (activities/coupons.go). Without it, deals use and issue none.
	Coupons Coupons
	// ExpireCoupons expires the coupons past their date; only the
	// scheduled expiry uses it.
	CouponExpiry CouponExpirer
	// Verifications keeps suppliers' verifications
	// (activities/verification.go); only their workflow uses it.
	Verifications Verifications
	// Deposits keeps suppliers' security deposits (activities/deposits.go);
	// only their workflow uses it.
	Deposits Deposits
	// Gold keeps suppliers' Gold certifications (activities/gold.go);
	// only their workflow uses it.
	Gold Gold
}

// ErrLedgerRejected marks a posting the ledger refuses for good (unbalanced,
// or an escrow account going negative): a bug or a double payout to stop,
// not a transient failure to retry.
var ErrLedgerRejected = errors.New("ledger rejected the posting")

// ErrPaymentDeclined is the type of a non-retryable business failure of a
// payment (card declined, invalid request): the workflow lets the buyer try
// again instead of retrying the same request.
const ErrPaymentDeclined = "PaymentDeclined"

// Declined wraps a provider's business refusal as a non-retryable error.
func Declined(reason string) error {
	return temporal.NewNonRetryableApplicationError(reason, ErrPaymentDeclined, nil)
}

// ---- payments ----

// Payment steps, also the suffix of idempotency keys.
const (
	StepSample  = "sample"
	StepDeposit = "deposit"
	StepBalance = "balance"
)

// ChargeInput asks the provider to take a payment from the buyer into escrow.
type ChargeInput struct {
	DealID         string `json:"deal_id"`
	Step           string `json:"step"`
	BuyerOrgID     string `json:"buyer_org_id"`
	Amount         int64  `json:"amount"`
	Currency       string `json:"currency"`
	IdempotencyKey string `json:"idempotency_key"`
	// SaveForLater asks the provider to keep the payment method the payer
	// confirms this charge with, for later charges made without them
	// (ChargeSaved). The provider records the payer (ChargeResult.Payer).
	SaveForLater bool `json:"save_for_later,omitempty"`
}

// SavedChargeInput is a charge made without the payer, with the payment
// method their earlier charge SavedBy (confirmed with SaveForLater) kept
// at the provider for Payer.
type SavedChargeInput struct {
	ChargeInput
	Payer   string `json:"payer"`
	SavedBy string `json:"saved_by"`
}

// ChargeResult is what the provider answered. Status is "succeeded" when the
// money is already captured (the sandbox), or "pending" when confirmation
// will arrive later as a signal (the Stripe webhook).
type ChargeResult struct {
	Provider     string `json:"provider"`
	PaymentID    string `json:"payment_id"`
	Status       string `json:"status"`
	ClientSecret string `json:"-"` // handed to the buyer's client only, never recorded
	// Payer is the provider's record of the payer (Stripe's customer),
	// set for a charge that saves its payment method.
	Payer string `json:"payer,omitempty"`
}

// RefundInput returns (part of) a captured charge to the buyer.
type RefundInput struct {
	DealID         string `json:"deal_id"`
	PaymentID      string `json:"payment_id"`
	Amount         int64  `json:"amount"`
	Currency       string `json:"currency"`
	IdempotencyKey string `json:"idempotency_key"`
}

// RefundResult names the provider's refund.
type RefundResult struct {
	Provider string `json:"provider"`
	RefundID string `json:"refund_id"`
}

// TransferInput pays a supplier out of one captured charge.
type TransferInput struct {
	DealID          string `json:"deal_id"`
	SupplierOrgID   string `json:"supplier_org_id"`
	SourcePaymentID string `json:"source_payment_id"`
	Amount          int64  `json:"amount"`
	Currency        string `json:"currency"`
	IdempotencyKey  string `json:"idempotency_key"`
}

// TransferResult names the provider's transfer.
type TransferResult struct {
	Provider   string `json:"provider"`
	TransferID string `json:"transfer_id"`
}

// ---- ledger ----

// Line is one account's side of a posting: positive adds to the account's
// balance, negative takes from it. A posting's lines sum to zero per currency.
type Line struct {
	Account  string `json:"account"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Posting is one balanced money movement.
type Posting struct {
	IdempotencyKey string `json:"idempotency_key"`
	DealID         string `json:"deal_id"`
	Kind           string `json:"kind"` // sample, deposit, balance, release, commission, refund
	Memo           string `json:"memo"`
	Lines          []Line `json:"lines"`
}

// Validate checks that the posting balances per currency and moves something.
func (p Posting) Validate() error {
	if p.IdempotencyKey == "" {
		return errors.New("posting without idempotency key")
	}
	if len(p.Lines) < 2 {
		return fmt.Errorf("posting %s: fewer than two lines", p.IdempotencyKey)
	}
	sums := map[string]int64{}
	for _, l := range p.Lines {
		if l.Account == "" || l.Currency == "" {
			return fmt.Errorf("posting %s: line without account or currency", p.IdempotencyKey)
		}
		sums[l.Currency] += l.Amount
	}
	for cur, s := range sums {
		if s != 0 {
			return fmt.Errorf("posting %s: %s lines sum to %d, not zero", p.IdempotencyKey, cur, s)
		}
	}
	return nil
}

// BuyerAccount and the functions after it name the ledger's accounts.
func BuyerAccount(org string) string    { return "buyer:" + org }
func SupplierAccount(org string) string { return "supplier:" + org }
func EscrowAccount(deal string) string  { return "escrow:" + deal }

const CommissionAccount = "platform:commission"

// ---- projection ----

// ProjectedEvent is one timeline entry with its position, so a replayed
// projection writes each event once.
type ProjectedEvent struct {
	Seq    int       `json:"seq"`
	At     time.Time `json:"at"`
	Type   string    `json:"type"`
	Actor  string    `json:"actor,omitempty"`
	About  string    `json:"about,omitempty"`
	Detail string    `json:"detail,omitempty"`
}

// DealProjection is what the deal workflow tells the read model after a
// change: the deal's summary, the timeline events not yet projected, and
// the details (workflows.DealDetails: invitations, quotes, payments,
// shipments, dispute) and sections that changed since the last
// projection. It never
// carries the deal's whole state with every change, which would grow the
// history with the square of the deal's actions.
type DealProjection struct {
	DealID        string    `json:"deal_id"`
	Stage         string    `json:"stage"`
	BuyerOrgID    string    `json:"buyer_org_id"`
	SupplierOrgID string    `json:"supplier_org_id,omitempty"`
	Product       string    `json:"product"`
	Quantity      int64     `json:"quantity"`
	Total         int64     `json:"total"`
	Currency      string    `json:"currency"`
	CreatedAt     time.Time `json:"created_at"`
	LastSeq       int       `json:"last_seq"`
	// Round numbers the deal's projections in the order it made them, so
	// an attempt that lingered never writes over a later projection with
	// the same LastSeq (0: made before rounds were numbered).
	Round  int              `json:"round,omitempty"`
	Events []ProjectedEvent `json:"events"`
	// At is when the workflow made the projection.
	At time.Time `json:"at,omitzero"`
	// Details is the JSON of the workflows.DealDetails that changed, if any.
	Details json.RawMessage `json:"details,omitempty"`
	// Sections is a JSON object of the top-level fields of
	// workflows.DealState, under their JSON names, that changed and that
	// the read model keeps whole (all but the timeline and the rows of
	// Details); null for a field the state no longer has.
	Sections json.RawMessage `json:"sections,omitempty"`
	// Money is what projections recorded before Sections sent: a JSON
	// object of fields of the state written over the read model's copy.
	Money json.RawMessage `json:"money,omitempty"`
	// State is the whole deal state (JSON of workflows.DealState), sent
	// by an operator's override, and by deals' projections recorded before
	// Sections: the read model takes it whole, then applies the rest.
	State json.RawMessage `json:"state,omitempty"`
}

// ErrProjectionRejected is the type of a projection the read model refuses
// for good (a value the database cannot store): retrying cannot cure it.
const ErrProjectionRejected = "ProjectionRejected"

// ---- tracking ----

// Shipment statuses, normalised across carriers.
const (
	TrackPending        = "pending"
	TrackInfoReceived   = "info_received"
	TrackInTransit      = "in_transit"
	TrackOutForDelivery = "out_for_delivery"
	TrackDelivered      = "delivered"
	TrackException      = "exception"
	TrackAttemptFailed  = "attempt_failed"
	TrackAtPickup       = "available_for_pickup"
	TrackExpired        = "expired" // the carrier stopped tracking the number
	// TrackStalled is no carrier's: the tracker reports it when a shipment
	// made no progress for the policy's stall time.
	TrackStalled = "stalled"
)

// TrackInput names a shipment.
type TrackInput struct {
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
}

// TrackEvent is one scan or status change reported by the carrier.
type TrackEvent struct {
	At          time.Time `json:"at"`
	Status      string    `json:"status"`
	Location    string    `json:"location,omitempty"`
	Description string    `json:"description,omitempty"`
}

// TrackResult is a shipment's current status.
type TrackResult struct {
	Status            string       `json:"status"`
	Events            []TrackEvent `json:"events"`
	EstimatedDelivery time.Time    `json:"estimated_delivery,omitzero"`
}

// ---- notifications ----

// Notification is a message to one organization about one deal.
type Notification struct {
	DealID string `json:"deal_id"`
	OrgID  string `json:"org_id"`
	Kind   string `json:"kind"`
	// Facts are what it says, worded for each reader (internal/texts);
	// nil in notifications made before they carried facts, which carry
	// Text alone.
	Facts *notice.Facts `json:"facts,omitempty"`
	// Text is its English text (the outbox's own copy, for webhooks and
	// logs); the bookkeeping writes it from the facts when it is empty.
	Text string `json:"text,omitempty"`
	// Key makes a retried notification go out once.
	Key string `json:"key"`
}

// ---- the activities ----

// Charge starts a payment into escrow.
func (a *Activities) Charge(ctx context.Context, in ChargeInput) (ChargeResult, error) {
	if in.Amount <= 0 {
		return ChargeResult{}, Declined(fmt.Sprintf("charge of %d: amount must be positive", in.Amount))
	}
	return a.Payments.Charge(ctx, in)
}

// PaymentStatusInput names a charge at its provider.
type PaymentStatusInput struct {
	DealID            string `json:"deal_id"`
	ProviderPaymentID string `json:"provider_payment_id"`
}

// PaymentStatus asks the provider how a charge stands, so a lost webhook
// never stalls a deal.
func (a *Activities) PaymentStatus(ctx context.Context, in PaymentStatusInput) (string, error) {
	return a.Payments.Status(ctx, in.ProviderPaymentID)
}

// ChargeSaved charges a payer without them, with the payment method an
// earlier charge saved (Payments.ChargeSaved).
func (a *Activities) ChargeSaved(ctx context.Context, in SavedChargeInput) (ChargeResult, error) {
	if in.Amount <= 0 {
		return ChargeResult{}, Declined(fmt.Sprintf("charge of %d: amount must be positive", in.Amount))
	}
	if in.Payer == "" || in.SavedBy == "" {
		return ChargeResult{}, Declined("no saved payment method to charge")
	}
	return a.Payments.ChargeSaved(ctx, in)
}

// Refund returns money from escrow to the buyer.
func (a *Activities) Refund(ctx context.Context, in RefundInput) (RefundResult, error) {
	return a.Payments.Refund(ctx, in)
}

// Transfer pays the supplier out of escrow.
func (a *Activities) Transfer(ctx context.Context, in TransferInput) (TransferResult, error) {
	return a.Payments.Transfer(ctx, in)
}

// PostLedger records a balanced posting; an unbalanced one is a bug, not a
// transient failure, so it is not retried.
func (a *Activities) PostLedger(ctx context.Context, p Posting) error {
	if err := p.Validate(); err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), "LedgerRejected", nil)
	}
	if err := a.Ledger.Post(ctx, p); err != nil {
		if errors.Is(err, ErrLedgerRejected) {
			return temporal.NewNonRetryableApplicationError(err.Error(), "LedgerRejected", err)
		}
		return err
	}
	return nil
}

// ErrProjectionRefused is what a Projection returns, wrapped, for a write
// it refuses for good.
var ErrProjectionRefused = errors.New("the read model refused the projection")

// ProjectDeal writes the deal's summary and new events to the read model.
func (a *Activities) ProjectDeal(ctx context.Context, p DealProjection) error {
	err := a.Projection.Project(ctx, p)
	if errors.Is(err, ErrProjectionRefused) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrProjectionRejected, err)
	}
	return err
}

// DealOfPayment names the deal that recorded a provider payment. While no
// deal has, it fails with a retryable error: the provider event waiting
// for it is delivered once the deal's projection records the payment.
func (a *Activities) DealOfPayment(ctx context.Context, providerPaymentID string) (string, error) {
	id, err := a.PaymentIndex.DealOfPayment(ctx, providerPaymentID)
	if errors.Is(err, ErrPaymentUnknown) {
		return "", temporal.NewApplicationError("payment "+providerPaymentID+" is not recorded by any deal yet", ErrPaymentNotRecorded)
	}
	return id, err
}

// TrackShipment asks the tracker for a shipment's status.
func (a *Activities) TrackShipment(ctx context.Context, in TrackInput) (TrackResult, error) {
	return a.Tracker.Track(ctx, in)
}

// Notify sends a notification.
func (a *Activities) Notify(ctx context.Context, n Notification) error {
	return a.Notifier.Notify(ctx, n)
}

// Books is one round of a deal's bookkeeping: the notifications its
// changes raised, in order, and its projection, if the read model has
// something to learn.
type Books struct {
	Notifications []Notification  `json:"notifications,omitempty"`
	Projection    *DealProjection `json:"projection,omitempty"`
}

// KeepBooks writes a round of bookkeeping: its notifications into the
// outbox, whose dispatcher delivers them, and its projection, in one
// transaction: one activity per round of changes instead of one per
// notification and one per projection. Each part is idempotent (a
// notification by its key, a projection by its round), so a retried round
// changes nothing twice.
func (a *Activities) KeepBooks(ctx context.Context, b Books) error {
	err := a.Projection.WriteBooks(ctx, b)
	if errors.Is(err, ErrProjectionRefused) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrProjectionRejected, err)
	}
	if err != nil {
		return fmt.Errorf("keep the books of deal %s: %w", b.dealID(), err)
	}
	return nil
}

func (b Books) dealID() string {
	if b.Projection != nil {
		return b.Projection.DealID
	}
	if len(b.Notifications) > 0 {
		return b.Notifications[0].DealID
	}
	return ""
}
