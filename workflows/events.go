package workflows

import "strings"

// EventType names an entry of a deal's timeline. The entries a deal writes
// are these, and two families named by what they report: "provider_" and
// the payment provider's event type (EventProvider), "shipment_" and the
// status that ended a shipment's tracking (EventShipmentEnded).
type EventType string

// Timeline entries: the inquiry and its quotes.
const (
	EventInquiryCreated   EventType = "inquiry_created"
	EventSuppliersRanked  EventType = "suppliers_ranked"
	EventSupplierInvited  EventType = "supplier_invited"
	EventSupplierLate     EventType = "supplier_late"
	EventInvitationClosed EventType = "invitation_closed"
	EventQuoteSubmitted   EventType = "quote_submitted"
	EventQuoteRevised     EventType = "quote_revised"
	EventQuoteDeclined    EventType = "quote_declined"
	EventCounterOffer     EventType = "counter_offer"
	EventQuoteAccepted    EventType = "quote_accepted"
	EventInquiryExpired   EventType = "inquiry_expired"
)

// Timeline entries: the sample.
const (
	EventSampleRequested      EventType = "sample_requested"
	EventSampleShipped        EventType = "sample_shipped"
	EventSampleTracking       EventType = "sample_tracking"
	EventSampleDelivered      EventType = "sample_delivered"
	EventSampleApproved       EventType = "sample_approved"
	EventSampleRejected       EventType = "sample_rejected"
	EventSampleNotShipped     EventType = "sample_not_shipped"
	EventSampleShipmentFailed EventType = "sample_shipment_failed"
)

// Timeline entries: the contract.
const (
	EventContractReady        EventType = "contract_ready"
	EventContractSigned       EventType = "contract_signed"
	EventContractSignedByBoth EventType = "contract_signed_by_both"
	EventContractExpired      EventType = "contract_expired"
)

// Timeline entries: money.
const (
	EventPaymentStarted     EventType = "payment_started"
	EventPaymentSucceeded   EventType = "payment_succeeded"
	EventPaymentDeclined    EventType = "payment_declined"
	EventPaymentFailed      EventType = "payment_failed"
	EventPaymentUnconfirmed EventType = "payment_unconfirmed"
	EventPaymentUnknown     EventType = "payment_unknown"
	EventPaymentGrace       EventType = "payment_grace"
	EventPaymentReconciled  EventType = "payment_reconciled"
	EventPaymentMismatch    EventType = "payment_mismatch"
	EventPaymentAfterStage  EventType = "payment_after_stage"
	EventDepositNotPaid     EventType = "deposit_not_paid"
	EventBuyerDefault       EventType = "buyer_default"
	EventPayout             EventType = "payout"
	EventEscrowSettled      EventType = "escrow_settled"
	EventCouponRedeemed     EventType = "coupon_redeemed"
)

// Timeline entries: production and shipping.
const (
	EventProductionProgress EventType = "production_progress"
	EventProductionLate     EventType = "production_late"
	EventReadyToShip        EventType = "ready_to_ship"
	EventShipByExtended     EventType = "ship_by_extended"
	EventGoodsShipped       EventType = "goods_shipped"
	EventShipmentTracking   EventType = "shipment_tracking"
	EventTrackingCorrected  EventType = "tracking_corrected"
	EventGoodsDelivered     EventType = "goods_delivered"
	EventInspectionReminder EventType = "inspection_reminder"
	EventGoodsAccepted      EventType = "goods_accepted"
	EventAccepted           EventType = "accepted"
	EventAutoAccepted       EventType = "auto_accepted"
)

// Timeline entries: disputes.
const (
	EventDisputeOpened      EventType = "dispute_opened"
	EventDisputeAnswered    EventType = "dispute_answered"
	EventDisputeEscalated   EventType = "dispute_escalated"
	EventSettlementProposed EventType = "settlement_proposed"
	EventDisputeSettled     EventType = "dispute_settled"
	EventMediatorAssigned   EventType = "mediator_assigned"
	EventMediatorUnchosen   EventType = "mediator_unchosen" // no mediator could be chosen: any may take it
	EventMediatorDecision   EventType = "mediator_decision"
	EventDecisionIgnored    EventType = "decision_ignored"
)

// Timeline entries: the deal as a whole.
const (
	EventStageChanged     EventType = "stage_changed"
	EventCancelRequested  EventType = "cancel_requested"
	EventCancelled        EventType = "cancelled"
	EventOperatorOverride EventType = "operator_override"
)

// EventProvider is the entry for an event of the payment provider's that
// the deal only records (a dispute opened at the card network, …).
func EventProvider(providerType string) EventType { return EventType(providerPrefix + providerType) }

const providerPrefix = "provider_"

// FromProvider reports whether t is an EventProvider entry.
func (t EventType) FromProvider() bool { return strings.HasPrefix(string(t), providerPrefix) }

// EventShipmentEnded is the entry for a shipment whose tracking ended
// without delivery: an exception, an expired number, a stall.
func EventShipmentEnded(status string) EventType { return EventType("shipment_" + status) }
