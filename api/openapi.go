package api

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/dealview"
	"github.com/tradeloop/tradeloop/internal/landedcost"
	"github.com/tradeloop/tradeloop/internal/media"
	"github.com/tradeloop/tradeloop/workflows"
)

type obj = map[string]any

func str() obj              { return obj{"type": "string"} }
func integer() obj          { return obj{"type": "integer", "format": "int64"} }
func boolean() obj          { return obj{"type": "boolean"} }
func timestamp() obj        { return obj{"type": "string", "format": "date-time"} }
func date() obj             { return obj{"type": "string", "format": "date"} }
func arrayOf(items obj) obj { return obj{"type": "array", "items": items} }
func ref(name string) obj   { return obj{"$ref": "#/components/schemas/" + name} }

// enum is a string schema of the values vs.
func enum[T ~string](vs []T) obj {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return obj{"type": "string", "enum": out}
}
func object(props obj, required ...string) obj {
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// schemas are the request and response bodies. Request schemas are closed
// (the decoder refuses unknown fields too); the deal's state is open, so a
// field added to it is no breaking change.
func schemas() obj {
	tier := object(obj{"min_quantity": integer(), "unit_price": integer()}, "min_quantity", "unit_price")
	note := object(obj{"note": str()})
	shipment := object(obj{"carrier": str(), "tracking_number": str()}, "carrier", "tracking_number")
	var stages []string
	for _, st := range workflows.Stages {
		stages = append(stages, string(st))
	}
	stages = append(stages, string(dealview.StageClosed)) // what an invited supplier sees once another is awarded
	depositCategory := object(obj{"category": str(), "currency": str(), "amount_minor": integer(), "set_by": str(), "updated_at": timestamp()},
		"category", "currency", "amount_minor", "set_by", "updated_at")
	deposit := object(obj{"id": str(), "org_id": str(), "org_name": str(), "currency": str(), "amount_minor": integer(), "held_minor": integer(),
		"status": enum([]string{activities.DepositPending, activities.DepositHeld, activities.DepositFailed, activities.DepositReturning,
			activities.DepositReturned, activities.DepositForfeited}),
		"reason": str(), "provider": str(), "provider_payment_id": str(), "refund_id": str(), "account": str(),
		"client_secret": str(), "secret_withheld": str(),
		"created_at": timestamp(), "updated_at": timestamp(),
		"postings": arrayOf(object(obj{"idempotency_key": str(), "kind": str(), "memo": str(), "amount_minor": integer(), "currency": str(),
			"posted_at": timestamp()}, "idempotency_key", "kind", "memo", "amount_minor", "currency", "posted_at")),
		"forfeits": arrayOf(object(obj{"seq": integer(), "amount_minor": integer(), "reason": str(), "deal_id": str(), "decided_by": str(),
			"decided_at": timestamp()}, "seq", "amount_minor", "reason", "deal_id", "decided_by", "decided_at"))},
		"id", "org_id", "org_name", "currency", "amount_minor", "held_minor", "status", "account", "created_at", "updated_at", "postings", "forfeits")
	nullableTime := obj{"type": "string", "format": "date-time", "nullable": true}
	goldProps := obj{"id": str(), "org_id": str(), "org_name": str(),
		"status": enum([]string{activities.GoldIsPending, activities.GoldIsActive, activities.GoldIsPastDue, activities.GoldHasEnded,
			activities.GoldHasLapsed, activities.GoldHasFailed}),
		"fee_minor": integer(), "currency": str(), "auto_renew": boolean(), "years": integer(), "paid_until": nullableTime,
		"pay_by": timestamp(), "reason": str(), "badge": boolean(), "requested_by": str(), "created_at": timestamp(), "updated_at": timestamp(),
		"events": arrayOf(object(obj{"seq": integer(), "action": str(), "actor": str(), "year": integer(), "amount_minor": integer(),
			"provider": str(), "provider_payment_id": str(), "reason": str(), "at": timestamp()}, "seq", "action", "year", "at"))}
	goldRequired := []string{"id", "org_id", "org_name", "status", "fee_minor", "currency", "auto_renew", "years", "paid_until", "badge",
		"requested_by", "created_at", "updated_at", "events"}
	goldCertification := object(goldProps, goldRequired...)
	goldPaymentProps := obj{"provider": str(), "payment_id": str(), "awaiting_payment": boolean(), "client_secret": str(), "secret_withheld": str()}
	for k, v := range goldProps {
		goldPaymentProps[k] = v
	}
	goldPayment := object(goldPaymentProps, append(goldRequired, "awaiting_payment")...)
	event := obj{"type": "object", "required": []string{"at", "type"}, "properties": obj{"at": timestamp(), "type": str(), "actor": str(), "detail": str()}}
	payment := obj{"type": "object", "required": []string{"id", "kind", "step", "amount", "currency", "status", "idempotency_key"}, "properties": obj{
		"id": str(), "kind": obj{"type": "string", "enum": []string{string(workflows.PaymentCharge), string(workflows.PaymentRefund), string(workflows.PaymentTransfer), string(workflows.PaymentCoupon)}}, "step": str(),
		"amount": integer(), "currency": str(), "status": str(), "provider": str(), "provider_id": str(),
		"idempotency_key": str(), "reason": str(), "created_at": timestamp(), "posted": boolean(), "settled": boolean(),
	}}
	escrow := object(obj{"held": integer(), "released": integer(), "commission": integer(), "refunded": integer()}, "held", "released", "commission", "refunded")
	shipmentView := obj{"type": "object", "required": []string{"carrier", "tracking_number", "status"}, "properties": obj{
		"carrier": str(), "tracking_number": str(), "status": str(), "shipped_at": timestamp(), "delivered_at": timestamp(), "tracker": integer(),
		"events": obj{"type": "array", "nullable": true, "items": object(obj{"at": timestamp(), "status": str(), "location": str(), "description": str()}, "at", "status")},
	}}
	summary := object(obj{"id": str(), "stage": str(), "buyer_org_id": str(), "supplier_org_id": str(), "product": str(),
		"quantity": integer(), "total": integer(), "currency": str(), "created_at": timestamp(), "updated_at": timestamp()},
		"id", "stage", "buyer_org_id", "product", "quantity", "total", "currency", "created_at")
	product := obj{"type": "object", "properties": productProps(), "required": []string{"id", "supplier_id", "sku", "name", "category", "moq", "currency", "price_tiers", "from_unit_price"}}
	product["properties"].(obj)["id"] = str()
	product["properties"].(obj)["supplier_id"] = str()
	product["properties"].(obj)["from_unit_price"] = integer()
	mediaItem := object(obj{"id": str(), "kind": enum(media.Kinds), "name": str(), "content_type": enum(mediaTypes), "size": integer(),
		"sha256": str(), "created_at": timestamp(), "url": str(), "thumbnail_url": str()},
		"id", "kind", "name", "content_type", "size", "sha256", "created_at", "url")
	productNotice := object(obj{"id": str(), "product_id": str(), "product": str(), "category": str(), "currency": str(), "fee": integer(),
		"max_notices": integer(), "queued": integer(), "delivered": integer(), "charged": integer(), "created_at": timestamp()},
		"id", "product_id", "product", "category", "currency", "fee", "max_notices", "queued", "delivered", "charged", "created_at")
	verificationDocument := object(obj{"id": str(), "kind": enum(media.DocumentKinds), "title": str(), "name": str(), "content_type": enum(mediaTypes),
		"size": integer(), "sha256": str(), "expires_at": timestamp(), "round": integer(), "created_at": timestamp()},
		"id", "kind", "name", "content_type", "size", "sha256", "created_at")
	verificationStates := []string{"in_review", "revision_requested", "approved", "rejected", "lapsed", "expired", "superseded"}
	verificationView := object(obj{"id": str(), "supplier_org_id": str(), "supplier_name": str(), "status": enum(verificationStates), "round": integer(),
		"submitted_at": timestamp(), "review_due_at": timestamp(), "revise_by": timestamp(), "decided_at": timestamp(), "verified_until": timestamp(),
		"documents": arrayOf(verificationDocument),
		"trail":     arrayOf(object(obj{"seq": integer(), "action": str(), "by": str(), "note": str(), "at": timestamp()}, "seq", "action", "at"))},
		"id", "supplier_org_id", "status", "round", "submitted_at")
	verificationStatus := object(obj{"status": enum(verificationStates), "round": integer(), "review_due": timestamp(), "revise_by": timestamp(),
		"verified_until": timestamp()}, "status", "round")
	productWithMedia := obj{"type": "object", "properties": obj{"media": arrayOf(mediaItem), "supplier_verified": boolean(), "supplier_gold": boolean()}, "required": append([]string{"media"}, product["required"].([]string)...)}
	for k, v := range product["properties"].(obj) {
		productWithMedia["properties"].(obj)[k] = v
	}
	hit := obj{"type": "object", "properties": obj{"id": str(), "sku": str(), "supplier_id": str(), "supplier_name": str(), "supplier_tier": str(), "supplier_verified": boolean(), "supplier_gold": boolean(), "unit_price": integer(), "score": obj{"type": "number"}},
		"required": []string{"id", "sku", "supplier_id", "supplier_tier", "unit_price"}}
	// A sponsored result is a hit with its ad and the token its click
	// carries; it says it is sponsored.
	sponsored := obj{"type": "object", "properties": obj{"ad_id": str(), "sponsored": obj{"type": "boolean", "enum": []bool{true}}, "click_token": str()},
		"required": append([]string{"ad_id", "sponsored", "click_token"}, hit["required"].([]string)...)}
	for k, v := range hit["properties"].(obj) {
		sponsored["properties"].(obj)[k] = v
	}
	ad := object(obj{"id": str(), "product_id": str(), "product_name": str(), "keyword": str(), "currency": str(), "max_cpc": integer(),
		"daily_budget": integer(), "budget_left_today": integer(), "active": boolean(), "created_at": timestamp(), "updated_at": timestamp(),
		"impressions_today": integer(), "impressions": integer(), "clicks_today": integer(), "clicks": integer(), "unbilled_clicks": integer(),
		"spend_today": integer(), "spend": integer()},
		"id", "product_id", "product_name", "keyword", "currency", "max_cpc", "daily_budget", "budget_left_today", "active", "created_at",
		"impressions_today", "impressions", "clicks_today", "clicks", "unbilled_clicks", "spend_today", "spend")
	escrowKind := obj{"type": "string", "enum": []string{"escrow_without_deal", "escrow_mismatch"}}
	apiKey := object(obj{"id": str(), "prefix": str(), "label": str(), "role": str(), "created_at": timestamp(),
		"last_used_at": timestamp(), "expires_at": timestamp(), "revoked_at": timestamp()}, "id", "prefix", "label", "role", "created_at")
	webhookEndpoint := object(obj{"id": str(), "url": str(), "description": str(), "enabled": boolean(), "disabled_at": timestamp(),
		"disabled_why": str(), "failing_since": timestamp(), "created_at": timestamp()}, "id", "url", "description", "enabled", "created_at")
	watch := object(obj{"id": str(), "product_id": str(), "product_name": str(), "category": str(), "quantity": integer(), "unit": str(),
		"drop_bp": integer(), "unit_price": integer(), "baseline_unit_price": integer(), "currency": str(), "alerts": integer(), "created_at": timestamp()},
		"id", "category", "alerts", "created_at")
	buyerProfile := object(obj{"categories": arrayOf(str()), "budget_per_order": integer(), "currency": str(), "max_lead_time_days": integer(),
		"regions": arrayOf(str())}, "categories", "currency")
	rateSchema := object(obj{"count": integer(), "of": integer(), "rate": obj{"type": "number"}}, "count", "of", "rate")
	return obj{
		"Error": object(obj{"error": object(obj{"code": str(), "message": str(), "details": obj{"type": "object"}}, "code", "message")}, "error"),
		"Deal": obj{"type": "object", "required": []string{"deal_id", "stage", "inquiry", "timeline", "payments", "escrow"}, "properties": obj{
			"deal_id": str(), "stage": obj{"type": "string", "enum": stages}, "inquiry": obj{"type": "object"},
			"quotes": obj{"type": "array", "items": obj{"type": "object"}, "nullable": true}, "payments": obj{"type": "array", "items": payment, "nullable": true},
			"escrow": escrow, "timeline": obj{"type": "array", "items": event, "nullable": true},
			"deadlines": obj{"type": "object", "additionalProperties": timestamp()},
			"total":     integer(), "deposit": integer(), "balance": integer(), "currency": str(),
		}},
		"DealPage":     object(obj{"deals": arrayOf(summary), "next": str()}, "deals"),
		"Timeline":     object(obj{"deal_id": str(), "events": arrayOf(event)}, "deal_id", "events"),
		"Payments":     object(obj{"deal_id": str(), "escrow": escrow, "payments": arrayOf(payment)}, "deal_id", "escrow", "payments"),
		"PayResult":    object(obj{"deal": ref("Deal"), "payment": object(obj{"id": str(), "provider": str(), "status": str(), "sandbox": boolean(), "client_secret": str(), "secret_withheld": str()}, "id", "status", "sandbox")}, "deal", "payment"),
		"Account":      object(obj{"account": str(), "balances": arrayOf(object(obj{"currency": str(), "amount": integer(), "lines": integer()}, "currency", "amount"))}, "account", "balances"),
		"Organization": object(obj{"id": str(), "name": str()}, "id", "name"),
		"Me": object(obj{"user_id": str(), "org_id": str(), "email": str(), "name": str(), "role": str(),
			"language": obj{"type": "string", "enum": []string{"en", "zh"}}, "time_zone": str()}, "user_id", "org_id", "email", "name", "role", "language", "time_zone"),
		"SetReading":      object(obj{"language": str(), "time_zone": str()}),
		"SetPassword":     object(obj{"password": str()}, "password"),
		"PasswordSet":     object(obj{"password_set": boolean(), "sessions_ended": integer()}, "password_set", "sessions_ended"),
		"CreatedUser":     object(obj{"user_id": str(), "org_id": str(), "role": str(), "api_key": str(), "key_prefix": str(), "secret_withheld": str()}, "user_id", "org_id", "role", "key_prefix"),
		"CSV":             str(),
		"CorrectTracking": object(obj{"kind": obj{"type": "string", "enum": []string{"sample", "goods"}}, "carrier": str(), "tracking_number": str()}, "kind", "carrier", "tracking_number"),
		"Tracking":        object(obj{"deal_id": str(), "sample": shipmentView, "goods": shipmentView}, "deal_id"),
		"WebhookResult":   object(obj{"status": obj{"type": "string", "enum": []string{"delivered", "pending", "duplicate", "ignored", "refunded"}}}, "status"),
		"CreateDeal": object(obj{"product": str(), "category": str(), "quantity": integer(), "unit": str(),
			"target_unit_price": integer(), "currency": str(), "destination": str(), "incoterm": str(), "ship_by": timestamp(),
			"wants_sample": boolean(), "specs": str(), "suppliers": arrayOf(str()), "regions": arrayOf(str()),
			"certifications": arrayOf(str()), "product_id": str()}, "product", "quantity", "currency"),
		"ProductInput":     object(productProps(), "sku", "name", "category", "unit", "moq", "currency", "price_tiers", "lead_time_days", "origin_region"),
		"Product":          product,
		"ProductWithMedia": productWithMedia,
		"Media":            mediaItem,
		"MediaUpload":      object(obj{"file": obj{"type": "string", "format": "binary"}, "kind": enum(media.Kinds)}, "file", "kind"),
		"LandedCost": object(obj{"product_id": str(), "quantity": integer(), "unit_price": integer(), "product_currency": str(),
			"mode": enum(landedcost.Modes), "incoterm": enum(landedcost.Incoterms), "destination": str(), "chargeable_kg": integer(),
			"currency": str(), "insured_value": integer(), "customs_value": integer(),
			"valuation": enum([]landedcost.Valuation{landedcost.ValueCIF, landedcost.ValueFOB}), "duty_rate_bp": integer(), "domestic": boolean(),
			"lines": arrayOf(object(obj{"kind": enum(landedcost.Kinds), "cost": integer(), "paid_by": enum([]landedcost.Payer{landedcost.Buyer, landedcost.Supplier}),
				"amount": integer()}, "kind", "cost", "paid_by", "amount")),
			"total": integer(), "rates_as_of": obj{"type": "string", "format": "date"}},
			"product_id", "quantity", "unit_price", "product_currency", "mode", "incoterm", "destination", "chargeable_kg", "currency",
			"insured_value", "customs_value", "valuation", "duty_rate_bp", "domestic", "lines", "total"),
		"ProductPage":    object(obj{"items": arrayOf(hit), "next_cursor": str(), "sponsored": arrayOf(sponsored)}, "items", "sponsored"),
		"AdRequest":      object(obj{"product_id": str(), "keyword": str(), "max_cpc": integer(), "daily_budget": integer(), "active": boolean()}, "product_id", "keyword", "max_cpc", "daily_budget"),
		"AdChange":       object(obj{"max_cpc": integer(), "daily_budget": integer(), "active": boolean()}),
		"Ad":             ad,
		"AdList":         object(obj{"ads": arrayOf(ad)}, "ads"),
		"AdClick":        object(obj{"token": str()}, "token"),
		"AdClickResult":  object(obj{"click_id": str(), "product_id": str(), "url": str()}, "click_id", "product_id", "url"),
		"ProductList":    object(obj{"items": arrayOf(hit)}, "items"),
		"RecentSearches": object(obj{"searches": arrayOf(object(obj{"params": obj{"type": "object"}, "searched_at": timestamp()}, "params", "searched_at"))}, "searches"),
		"ImportReport": object(obj{"mode": obj{"type": "string", "enum": []string{"all", "partial"}}, "applied": boolean(), "rows": integer(),
			"created": integer(), "updated": integer(), "rejected": arrayOf(object(obj{"line": integer(), "sku": str(),
				"errors": arrayOf(object(obj{"field": str(), "message": str()}, "field", "message"))}, "line", "sku", "errors"))},
			"mode", "applied", "rows", "created", "updated", "rejected"),
		"DocumentUpload": object(obj{"file": obj{"type": "string", "format": "binary"}, "kind": enum(media.DocumentKinds), "title": str(),
			"expires_at": str()}, "file", "kind"),
		"VerificationDocument": verificationDocument,
		"MyVerification": object(obj{"verified_until": timestamp(), "drafts": arrayOf(verificationDocument), "verifications": arrayOf(verificationView),
			"current": verificationView, "policy": obj{"type": "object"}}, "drafts", "verifications", "policy"),
		"Verification":         verificationView,
		"VerificationList":     object(obj{"verifications": arrayOf(verificationView)}, "verifications"),
		"Submitted":            object(obj{"id": str(), "status": verificationStatus}, "id", "status"),
		"VerificationDecision": object(obj{"decision": enum([]string{workflows.DecisionApprove, workflows.DecisionRevise, workflows.DecisionReject}), "note": str()}, "decision"),
		"VerificationStatus":   verificationStatus,
		"ProductNoticeRequest": object(obj{"max_notices": integer()}, "max_notices"),
		"ProductNotice":        productNotice,
		"ProductNotices":       object(obj{"notices": arrayOf(productNotice)}, "notices"),
		"File":                 obj{"type": "string", "format": "binary"},
		"Deleted":              object(obj{"id": str(), "deleted": boolean()}, "id", "deleted"),
		"BuyerProfile":         buyerProfile,
		"Referrals": object(obj{"code": str(), "link": str(), "reward_bp": integer(), "coupon_valid_days": integer(),
			"referred": arrayOf(object(obj{"org_id": str(), "name": str(), "claimed_at": timestamp(), "rewarded": boolean()}, "org_id", "name", "claimed_at", "rewarded")),
			"coupons": arrayOf(object(obj{"id": str(), "currency": str(), "value_minor": integer(), "balance_minor": integer(), "issued_at": timestamp(),
				"expires_at": timestamp(), "status": obj{"type": "string", "enum": []string{"usable", "used", "expired"}}, "used_by": arrayOf(str())},
				"id", "currency", "value_minor", "balance_minor", "issued_at", "expires_at", "status", "used_by"))},
			"code", "link", "reward_bp", "coupon_valid_days", "referred", "coupons"),
		"ClaimReferral":         object(obj{"code": str()}, "code"),
		"ReferralClaim":         object(obj{"referrer": str()}, "referrer"),
		"DepositCategoryInput":  object(obj{"currency": str(), "amount_minor": integer()}, "currency", "amount_minor"),
		"DepositCategory":       depositCategory,
		"DepositCategoryList":   object(obj{"categories": arrayOf(depositCategory)}, "categories"),
		"PayDeposit":            object(obj{"currency": str()}, "currency"),
		"Deposit":               deposit,
		"GoldCertification":     goldCertification,
		"GoldCertificationList": object(obj{"certifications": arrayOf(goldCertification)}, "certifications"),
		"GoldPayment":           goldPayment,
		"GoldAutoRenew":         object(obj{"auto_renew": boolean()}, "auto_renew"),
		"GoldOverview": object(obj{
			"terms": object(obj{"fee_minor": integer(), "currency": str(), "period_days": integer(), "renewal_notice_days": integer(),
				"grace_days": integer(), "retry_every_days": integer()},
				"fee_minor", "currency", "period_days", "renewal_notice_days", "grace_days", "retry_every_days"),
			"verified_until": nullableTime, "eligible": boolean(),
			"certification": obj{"allOf": []any{goldCertification}, "nullable": true}},
			"terms", "verified_until", "eligible", "certification"),
		"DepositList":    object(obj{"deposits": arrayOf(deposit)}, "deposits"),
		"ForfeitDeposit": object(obj{"amount_minor": integer(), "reason": str(), "deal_id": str()}, "amount_minor", "reason", "deal_id"),
		"Matches": object(obj{"profile": buyerProfile, "offers": arrayOf(object(obj{"product_id": str(), "product": str(), "category": str(),
			"supplier_id": str(), "supplier": str(), "moq": integer(), "unit": str(), "unit_price": integer(), "currency": str(),
			"lead_time_days": integer(), "why": str()}, "product_id", "product", "category", "supplier_id", "supplier", "moq", "unit", "unit_price", "currency", "lead_time_days", "why"))},
			"profile", "offers"),
		"PriceTrend": object(obj{"category": str(), "currency": str(), "days": integer(), "from": date(), "to": date(),
			"series": arrayOf(object(obj{"day": date(), "index": integer(), "products": integer(), "quote_median": integer(), "quotes": integer()},
				"day", "products", "quotes")),
			"marks": object(obj{"historic_low": boolean(), "rising": boolean(), "falling": boolean(), "change_bp": integer(), "latest": date()},
				"historic_low", "rising", "falling")},
			"category", "currency", "days", "from", "to", "series", "marks"),
		"Follow":    object(obj{"product_id": str(), "quantity": integer(), "drop_bp": integer(), "category": str()}),
		"Watch":     watch,
		"WatchList": object(obj{"watches": arrayOf(watch)}, "watches"),

		"NotificationPage": object(obj{"notifications": arrayOf(object(obj{"id": str(), "deal_id": str(), "kind": str(), "title": str(), "text": str(),
			"facts": obj{"type": "object"}, "created_at": timestamp(), "read_at": timestamp()}, "id", "deal_id", "kind", "title", "text", "created_at")),
			"unread": integer(), "next": str()}, "notifications", "unread"),
		"MarkedRead":    object(obj{"id": str(), "read_at": timestamp()}, "id", "read_at"),
		"MarkedAllRead": object(obj{"marked": integer()}, "marked"),
		"EventStream":   obj{"type": "string", "description": "Server-Sent Events"},
		"NotificationPreferences": object(obj{"preferences": arrayOf(object(obj{"kind": str(), "class": str(), "mandatory": boolean(),
			"channels": obj{"type": "object", "additionalProperties": boolean()}}, "kind", "class", "mandatory", "channels"))}, "preferences"),
		"NotificationPreferenceChanges": object(obj{"changes": arrayOf(object(obj{"kind": str(), "channel": str(), "enabled": boolean()},
			"kind", "channel", "enabled"))}, "changes"),
		"CreateWebhookEndpoint":  object(obj{"url": str(), "description": str()}, "url"),
		"WebhookEndpoint":        webhookEndpoint,
		"CreatedWebhookEndpoint": object(obj{"endpoint": webhookEndpoint, "secret": str(), "secret_withheld": str()}, "endpoint"),
		"WebhookEndpointList":    object(obj{"endpoints": arrayOf(webhookEndpoint)}, "endpoints"),
		"DeletedWebhookEndpoint": object(obj{"id": str(), "deleted": boolean()}, "id", "deleted"),
		"WebhookDeliveryPage": object(obj{"deliveries": arrayOf(object(obj{"id": str(), "event_id": str(), "type": str(), "deal_id": str(),
			"status": str(), "attempts": arrayOf(object(obj{"attempt": integer(), "at": timestamp(), "status": integer(), "error": str(), "duration_ms": integer()},
				"attempt", "at", "duration_ms")),
			"next_attempt_at": timestamp(), "last_status": integer(), "last_error": str(), "created_at": timestamp(), "delivered_at": timestamp()},
			"id", "event_id", "type", "status", "attempts", "created_at")), "next": str()}, "deliveries"),
		"ReplayedWebhookDelivery": object(obj{"id": str(), "status": str()}, "id", "status"),
		"Supplier": obj{"type": "object", "required": []string{"org_id", "name", "tier", "categories", "regions", "certifications"},
			"description": "A supplier's public profile; figures only for the supplier itself and admins",
			"properties": obj{"org_id": str(), "name": str(), "joined_at": timestamp(), "tier": str(), "categories": arrayOf(str()),
				"regions": arrayOf(str()), "certifications": arrayOf(str()), "rating": obj{"type": "number"}, "ratings_count": integer(),
				"median_response_secs": obj{"type": "integer", "nullable": true}, "response_rating": obj{"type": "integer", "nullable": true},
				"verified_until": obj{"type": "string", "format": "date-time", "nullable": true},
				"gold_until":     obj{"type": "string", "format": "date-time", "nullable": true},
				"figures": obj{"type": "object", "properties": obj{"gmv_minor": integer(), "quotes_on_time": integer(), "quotes_late": integer(),
					"sla_misses_recent": integer(), "tier_reason": str(), "tier_computed_at": obj{"type": "string", "format": "date-time", "nullable": true}}}}},
		"SupplierOffer": object(obj{"categories": arrayOf(str()), "regions": arrayOf(str()), "certifications": arrayOf(str())}),
		"Rating":        object(obj{"stars": integer(), "comment": str()}, "stars"),
		"Rated":         object(obj{"deal_id": str(), "supplier_id": str(), "stars": integer()}, "deal_id", "supplier_id", "stars"),
		"QuoteComparison": object(obj{"deal_id": str(), "product": str(), "quantity": integer(), "currency": str(),
			"quotes": arrayOf(obj{"type": "object", "required": []string{"supplier_id", "tier", "total", "lead_time_days", "lowest_total", "shortest_lead_time", "best_rated"},
				"properties": obj{"supplier_id": str(), "supplier_name": str(), "tier": str(), "verified": boolean(), "gold": boolean(), "rating": obj{"type": "number", "nullable": true},
					"total": integer(), "lead_time_days": integer(), "lowest_total": boolean(), "shortest_lead_time": boolean(), "best_rated": boolean()}})},
			"deal_id", "product", "quantity", "currency", "quotes"),
		"Funnel": obj{"type": "object", "required": []string{"from", "to", "inquiries", "quote_rate", "acceptance_rate", "completion_rate", "dispute_rate", "money", "sla_miss_rate",
			"product_views", "unique_viewers", "inquiry_conversion", "by_category", "by_channel", "months", "churn", "quiet_buyers", "reactivation"},
			"properties": obj{"from": timestamp(), "to": timestamp(), "inquiries": integer(), "quote_rate": rateSchema, "acceptance_rate": rateSchema,
				"completion_rate": rateSchema, "dispute_rate": rateSchema, "sla_miss_rate": rateSchema,
				"money": arrayOf(object(obj{"currency": str(), "completed_deals": integer(), "gmv": integer(), "average_order_value": integer(), "commission_revenue": integer()},
					"currency", "completed_deals", "gmv", "average_order_value", "commission_revenue")),
				"product_views": integer(), "unique_viewers": integer(), "inquiry_conversion": rateSchema,
				"by_category": arrayOf(object(obj{"category": str(), "product_views": integer(), "unique_viewers": integer(), "inquiry_conversion": rateSchema,
					"inquiries": integer(), "quote_rate": rateSchema, "acceptance_rate": rateSchema, "completion_rate": rateSchema},
					"category", "product_views", "unique_viewers", "inquiry_conversion", "inquiries", "quote_rate", "acceptance_rate", "completion_rate")),
				"by_channel": arrayOf(object(obj{"channel": obj{"type": "string", "enum": []string{"direct", "matching", "reactivation", "referral"}},
					"product_views": integer(), "unique_viewers": integer(), "inquiries": integer(), "completion_rate": rateSchema},
					"channel", "product_views", "unique_viewers", "inquiries", "completion_rate")),
				"months": arrayOf(object(obj{"month": str(), "supplier_active_rate": rateSchema, "buyer_repeat_rate": rateSchema},
					"month", "supplier_active_rate", "buyer_repeat_rate")),
				"churn": obj{"type": "object", "required": []string{"quiet_since", "count", "of", "rate"},
					"properties": obj{"quiet_since": timestamp(), "count": integer(), "of": integer(), "rate": obj{"type": "number"}}},
				"reactivation": object(obj{"sent": integer(), "return_rate": rateSchema}, "sent", "return_rate"),
				"quiet_buyers": arrayOf(object(obj{"org_id": str(), "name": str(), "completed_deals": integer(),
					"gmv":             arrayOf(object(obj{"currency": str(), "amount": integer()}, "currency", "amount")),
					"last_inquiry_at": timestamp(),
					"last_deals": arrayOf(object(obj{"id": str(), "product": str(), "stage": str(), "total": integer(), "currency": str(), "created_at": timestamp()},
						"id", "product", "stage", "total", "currency", "created_at"))},
					"org_id", "completed_deals", "gmv", "last_inquiry_at", "last_deals")),
			}},
		"PaymentList": object(obj{
			"payments": arrayOf(object(obj{"deal_id": str(), "id": str(), "kind": payment["properties"].(obj)["kind"], "step": str(), "amount": integer(),
				"currency": str(), "status": str(), "provider": str(), "provider_id": str(), "reason": str(), "created_at": timestamp(), "updated_at": timestamp()},
				"deal_id", "id", "kind", "step", "amount", "currency", "status", "provider", "created_at", "updated_at")),
			"totals": arrayOf(object(obj{"kind": str(), "status": str(), "currency": str(), "payments": integer(), "amount": integer()},
				"kind", "status", "currency", "payments", "amount")),
			"next_cursor": str()}, "payments", "totals"),
		"Alerts": object(obj{"alerts": arrayOf(object(obj{"id": integer(), "kind": str(), "deal_id": str(), "subject": str(), "detail": str(),
			"currency": str(), "ledger_amount": integer(), "deal_amount": integer(), "first_seen_at": timestamp(), "last_seen_at": timestamp(),
			"times_seen": integer(), "open": boolean(), "resolved_at": timestamp()},
			"id", "kind", "detail", "first_seen_at", "last_seen_at", "times_seen", "open"))}, "alerts"),
		"EscrowFindings": object(obj{"findings": arrayOf(object(obj{"kind": escrowKind, "deal_id": str(), "currency": str(),
			"ledger_amount": integer(), "deal_amount": integer(), "detail": str(), "first_seen_at": timestamp(), "last_seen_at": timestamp(),
			"times_seen": integer()}, "kind", "deal_id", "currency", "ledger_amount", "deal_amount", "detail", "first_seen_at", "last_seen_at"))}, "findings"),
		"WatchdogReport": object(obj{"at": timestamp(), "checked": integer(), "unanswered": integer(), "suspects": integer(), "resolved": integer(),
			"findings": arrayOf(object(obj{"kind": escrowKind, "deal_id": str(), "currency": str(), "ledger_amount": integer(), "deal_amount": integer(),
				"detail": str()}, "kind", "deal_id", "currency", "ledger_amount", "deal_amount", "detail"))},
			"at", "checked", "suspects", "findings", "resolved"),
		"Override": object(obj{"outcome": obj{"type": "string", "enum": []string{"refund", "release", "split"}}, "release_amount": integer(),
			"reason": obj{"type": "string", "minLength": 1, "maxLength": 500}}, "outcome", "reason"),
		"OverrideResponse": object(obj{"deal_id": str(), "workflow_id": str(), "status": obj{"type": "string", "enum": []string{"settled", "running"}},
			"result": object(obj{"deal_id": str(), "outcome": str(), "stage": obj{"type": "string", "enum": stages}, "currency": str(),
				"released": integer(), "commission": integer(), "refunded": integer(), "escrow": escrow},
				"deal_id", "outcome", "stage", "currency", "released", "commission", "refunded", "escrow")},
			"deal_id", "workflow_id", "status"),
		"Quote": object(obj{"tiers": arrayOf(tier), "moq": integer(), "lead_time_days": integer(), "valid_till": timestamp(),
			"sample_price": integer(), "note": str(), "trial": boolean()}, "tiers", "lead_time_days", "valid_till"),
		"Reason":             object(obj{"reason": str()}),
		"Note":               note,
		"CounterOffer":       object(obj{"supplier_id": str(), "target_unit_price": integer(), "message": str()}, "supplier_id", "target_unit_price"),
		"Shipment":           shipment,
		"RejectSample":       object(obj{"reason": str(), "resample": boolean()}),
		"Sign":               object(obj{"terms_sha256": str()}, "terms_sha256"),
		"Progress":           object(obj{"percent": integer(), "note": str()}, "percent"),
		"Extend":             object(obj{"new_ship_by": timestamp()}, "new_ship_by"),
		"Dispute":            object(obj{"reason": str(), "remedy": str(), "evidence": arrayOf(str())}, "reason"),
		"Answer":             object(obj{"message": str()}, "message"),
		"Proposal":           object(obj{"release_amount": integer(), "note": str()}, "release_amount"),
		"AssignMediator":     object(obj{"mediator_id": str()}),
		"Assignment":         object(obj{"deal_id": str(), "mediator_id": str()}, "deal_id", "mediator_id"),
		"Decision":           object(obj{"outcome": obj{"type": "string", "enum": []string{"refund", "release", "split"}}, "release_amount": integer(), "note": str()}, "outcome"),
		"CreateOrganization": object(obj{"name": str()}, "name"),
		"CreateAPIKey":       object(obj{"label": str(), "expires_at": timestamp()}),
		"APIKey":             apiKey,
		"APIKeys":            object(obj{"items": arrayOf(apiKey)}, "items"),
		"CreatedAPIKey":      object(obj{"key": apiKey, "api_key": str(), "secret_withheld": str()}, "key"),
		"RotatedAPIKey":      object(obj{"key": apiKey, "previous": apiKey, "api_key": str(), "secret_withheld": str()}, "key", "previous"),
		"CreateUser":         object(obj{"email": str(), "name": str(), "role": str(), "tier": str(), "language": str(), "time_zone": str()}, "email", "role"),
	}
}

// productProps are a product's fields as a supplier lists them.
func productProps() obj {
	return obj{"sku": str(), "name": str(), "description": str(), "category": str(), "unit": str(), "moq": integer(),
		"currency": str(), "price_tiers": arrayOf(object(obj{"min_quantity": integer(), "unit_price": integer()}, "min_quantity", "unit_price")),
		"lead_time_days": integer(), "certifications": arrayOf(str()), "customizable": boolean(), "origin_region": str(),
		"sample_available": boolean(), "sample_price": integer()}
}

var paramRE = regexp.MustCompile(`:([a-z]+)`)

// fileTypes are the content types of the file downloads.
var fileTypes = []string{"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pdf"}

// mediaTypes are the content types product media are served in.
var mediaTypes = []string{media.TypeJPEG, media.TypePNG, media.TypeWebP, media.TypePDF, media.TypeMP4}

// documentTypes are the content types of the documents to print or edit
// (the contract template).
var documentTypes = []string{"application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}

// openAPIDocument describes the routes as they are registered, so the
// document cannot drift from the server.
func openAPIDocument(routes []route) []byte {
	errResp := obj{"description": "error", "content": obj{"application/json": obj{"schema": ref("Error")}}}
	paths := obj{}
	for _, r := range routes {
		path := "/v1" + paramRE.ReplaceAllString(r.path, "{$1}")
		var params []obj
		for _, m := range paramRE.FindAllStringSubmatch(r.path, -1) {
			params = append(params, obj{"name": m[1], "in": "path", "required": true, "schema": str()})
		}
		if r.method == http.MethodPost {
			params = append(params, obj{"name": "Idempotency-Key", "in": "header", "required": false, "schema": str(),
				"description": "repeats of the same request get the first response"})
		}
		if r.op == "listDeals" {
			for _, q := range []string{"stage", "counterparty", "from", "to", "cursor", "limit"} {
				params = append(params, obj{"name": q, "in": "query", "required": false, "schema": str()})
			}
		}
		if r.op == "exportLedger" {
			for _, q := range []string{"from", "to"} {
				params = append(params, obj{"name": q, "in": "query", "required": true, "schema": timestamp()})
			}
		}
		for _, q := range r.query {
			params = append(params, obj{"name": q, "in": "query", "required": false, "schema": str()})
		}
		content := obj{"application/json": obj{"schema": ref(r.response)}}
		switch r.response {
		case "CSV":
			content = obj{"text/csv": obj{"schema": ref(r.response)}}
		case "EventStream":
			content = obj{"text/event-stream": obj{"schema": ref(r.response)}}
		case "File":
			content = obj{}
			for _, t := range fileTypes {
				content[t] = obj{"schema": ref(r.response)}
			}
		case "Document":
			content = obj{}
			for _, t := range documentTypes {
				content[t] = obj{"schema": ref("File")}
			}
		case "MediaFile":
			content = obj{}
			for _, t := range mediaTypes {
				content[t] = obj{"schema": ref("File")}
			}
		}
		if r.op == "compareQuotes" {
			for _, t := range fileTypes {
				content[t] = obj{"schema": ref("File")}
			}
		}
		roles := "any authenticated caller"
		if strings.HasPrefix(r.path, "/deals/") {
			roles += " who can see the deal"
		}
		if len(r.roles) > 0 {
			names := make([]string, len(r.roles))
			for i, ro := range r.roles {
				names[i] = string(ro)
			}
			roles = strings.Join(names, ", ")
		}
		op := obj{
			"operationId": r.op, "summary": r.summary, "description": "Who: " + roles + ".",
			"responses": obj{
				fmt.Sprint(r.status): obj{"description": "success", "content": content},
				"400":                errResp, "401": errResp, "403": errResp, "404": errResp, "409": errResp,
				"413": errResp, "415": errResp, "422": errResp, "429": errResp, "500": errResp,
				// Temporal or the worker not answering in time, or every
				// catalog import slot taken: with Retry-After.
				"503": errResp,
			},
		}
		if r.response == "MediaFile" {
			op["responses"].(obj)["304"] = obj{"description": "not modified: the If-None-Match ETag is the file's"}
		}
		if len(params) > 0 {
			op["parameters"] = params // never null: client generators refuse it
		}
		if r.request == "MediaUpload" || r.request == "DocumentUpload" {
			op["requestBody"] = obj{"required": true, "content": obj{"multipart/form-data": obj{"schema": ref(r.request)}}}
		} else if r.request == "CatalogFile" {
			op["requestBody"] = obj{"required": true, "content": obj{
				"text/csv": obj{"schema": ref("File")}, fileTypes[1]: obj{"schema": ref("File")},
			}}
		} else if r.request != "" {
			op["requestBody"] = obj{"required": !r.optional, "content": obj{"application/json": obj{"schema": ref(r.request)}}}
		}
		if paths[path] == nil {
			paths[path] = obj{}
		}
		paths[path].(obj)[strings.ToLower(r.method)] = op
	}
	paths["/webhooks/stripe"] = obj{"post": obj{
		"operationId": "stripeWebhook", "summary": "Stripe's events (signature verified, each event ID handled once)",
		"security":    []obj{},
		"parameters":  []obj{{"name": "Stripe-Signature", "in": "header", "required": true, "schema": str()}},
		"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}},
		"responses": obj{
			"200": obj{"description": "handled, kept until its payment is recorded (pending), duplicate or ignored", "content": obj{"application/json": obj{"schema": ref("WebhookResult")}}},
			"400": errResp, "404": errResp, "413": errResp, "500": errResp,
		},
	}}
	doc := obj{
		"openapi": "3.0.3",
		"info": obj{"title": "Tradeloop API", "version": "1.0.0",
			"description": "B2B trade deals from inquiry to released escrow. Authenticate with Authorization: Bearer <API key>."},
		"servers":    []obj{{"url": "/"}},
		"security":   []obj{{"bearer": []string{}}},
		"paths":      paths,
		"components": obj{"schemas": schemas(), "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // a map of plain values always encodes
	}
	return b
}

// docsPage is a plain, self-contained reference of the routes.
func docsPage(routes []route) string {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><meta charset="utf-8"><title>Tradeloop API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code{background:#f3f3f3;padding:0 .3em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}</style>
</head><body><h1>Tradeloop API</h1><p>Every route below is under <code>/v1</code> and needs <code>Authorization: Bearer &lt;API key&gt;</code>.
POSTs accept an <code>Idempotency-Key</code>. Errors are <code>{"error":{"code","message","details"}}</code>.
The machine-readable description is <a href="/openapi.json">/openapi.json</a>.</p><table><tr><th>route</th><th>what</th><th>who</th><th>body</th></tr>`)
	for _, r := range routes {
		who := "parties who can see the deal"
		if len(r.roles) > 0 {
			var names []string
			for _, ro := range r.roles {
				names = append(names, string(ro))
			}
			who = strings.Join(names, ", ")
		}
		body := r.request
		if body == "" {
			body = "—"
		}
		fmt.Fprintf(&b, "<tr><td><code>%s /v1%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>",
			r.method, html.EscapeString(paramRE.ReplaceAllString(r.path, "{$1}")), html.EscapeString(r.summary), who, body)
	}
	b.WriteString("</table></body></html>")
	return b.String()
}
