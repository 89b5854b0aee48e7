package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/landedcost"
	"github.com/tradeloop/tradeloop/workflows"
)

// route is one operation under /v1: how it is served, who may call it, and
// how the OpenAPI document describes it.
type route struct {
	method   string
	path     string // Echo syntax, relative to /v1
	op       string // OpenAPI operationId
	summary  string
	roles    []workflows.Role // nil: any authenticated caller
	request  string           // schema of the JSON body, "" for none
	optional bool             // the body may be omitted
	response string           // schema of the success body
	status   int              // success status
	query    []string         // query parameters, all optional
	update   string           // the deal update the route sends, "" for none
	handler  echo.HandlerFunc
}

// UpdateRoutes maps each route that sends a deal update (its path, in
// Echo's syntax relative to /v1) to the update's name: the one table the
// bench's baseline reads too.
func UpdateRoutes() map[string]string {
	out := map[string]string{}
	for _, r := range (&Server{}).routeTable() {
		if r.update != "" {
			out[r.path] = r.update
		}
	}
	return out
}

var (
	buyerOnly    = []workflows.Role{workflows.RoleBuyer}
	supplierOnly = []workflows.Role{workflows.RoleSupplier}
	parties      = []workflows.Role{workflows.RoleBuyer, workflows.RoleSupplier}
	lister       = []workflows.Role{workflows.RoleBuyer, workflows.RoleSupplier, workflows.RoleMediator}
	financeOnly  = []workflows.Role{workflows.RoleFinance}
	adminOnly    = []workflows.Role{workflows.RoleAdmin}
	mediatorOnly = []workflows.Role{workflows.RoleMediator}
	analysts     = []workflows.Role{workflows.RoleAdmin, workflows.RoleFinance}
)

func (s *Server) routeTable() []route {
	act := func(method, path, op, summary string, roles []workflows.Role, request string, optional bool, update string, build builder) route {
		return route{method: method, path: path, op: op, summary: summary, roles: roles, request: request, optional: optional,
			response: "Deal", status: http.StatusOK, update: update, handler: s.action(update, build)}
	}
	return []route{
		{method: http.MethodPost, path: "/deals", op: "createDeal", summary: "Send an inquiry: starts the deal",
			roles: buyerOnly, request: "CreateDeal", response: "Deal", status: http.StatusCreated, handler: s.createDeal},
		{method: http.MethodGet, path: "/deals", op: "listDeals", summary: "The caller's deals, newest first (keyset pages)",
			roles: lister, response: "DealPage", status: http.StatusOK, handler: s.listDeals},
		{method: http.MethodGet, path: "/deals/:id", op: "getDeal", summary: "One deal's whole state",
			response: "Deal", status: http.StatusOK, handler: s.getDeal},
		{method: http.MethodGet, path: "/deals/:id/timeline", op: "getTimeline", summary: "A deal's events",
			response: "Timeline", status: http.StatusOK, handler: s.getTimeline},
		{method: http.MethodGet, path: "/deals/:id/payments", op: "getPayments", summary: "A deal's payments, refunds and transfers",
			response: "Payments", status: http.StatusOK, handler: s.getPayments},
		act(http.MethodPost, "/deals/:id/quotes", "submitQuote", "Quote, or revise a quote", supplierOnly, "Quote", false, workflows.UpdateSubmitQuote, quoteInput),
		act(http.MethodPost, "/deals/:id/quotes/decline", "declineQuote", "Decline to quote", supplierOnly, "Reason", true, workflows.UpdateDeclineQuote, declineInput),
		act(http.MethodPost, "/deals/:id/counter-offers", "counterOffer", "Ask a supplier for a better price", buyerOnly, "CounterOffer", false, workflows.UpdateCounterOffer, counterInput),
		act(http.MethodPost, "/deals/:id/quotes/:qid/accept", "acceptQuote", "Accept a quote", buyerOnly, "", false, workflows.UpdateAcceptQuote, acceptInput),
		act(http.MethodPost, "/deals/:id/sample/request", "requestSample", "Ask for a sample before the contract", buyerOnly, "Note", true, workflows.UpdateRequestSample, noteInput),
		act(http.MethodPost, "/deals/:id/sample/ship", "shipSample", "Ship the sample", supplierOnly, "Shipment", false, workflows.UpdateShipSample, shipmentInput),
		act(http.MethodPost, "/deals/:id/sample/approve", "approveSample", "Approve the sample", buyerOnly, "Note", true, workflows.UpdateApproveSample, noteInput),
		act(http.MethodPost, "/deals/:id/sample/reject", "rejectSample", "Reject the sample", buyerOnly, "RejectSample", false, workflows.UpdateRejectSample, rejectSampleInput),
		act(http.MethodPost, "/deals/:id/contract/sign", "signContract", "Sign the contract", parties, "Sign", false, workflows.UpdateSignContract, signInput),
		{method: http.MethodPost, path: "/deals/:id/payments/:step", op: "pay", summary: "Start the payment of sample, deposit or balance",
			roles: buyerOnly, response: "PayResult", status: http.StatusOK, update: workflows.UpdatePay, handler: s.pay},
		act(http.MethodPost, "/deals/:id/production", "reportProgress", "Report production progress", supplierOnly, "Progress", false, workflows.UpdateReportProgress, progressInput),
		act(http.MethodPost, "/deals/:id/ready", "markReady", "Mark the goods ready to ship", supplierOnly, "Note", true, workflows.UpdateMarkReady, noteInput),
		act(http.MethodPost, "/deals/:id/ship-by", "extendShipBy", "Extend a late ship-by date", buyerOnly, "Extend", false, workflows.UpdateExtendShipBy, extendInput),
		act(http.MethodPost, "/deals/:id/shipment", "addShipment", "Give the carrier and tracking number", supplierOnly, "Shipment", false, workflows.UpdateAddShipment, shipmentInput),
		act(http.MethodPost, "/deals/:id/shipment/tracking", "correctTracking", "Correct a wrong tracking number (tracking restarts)", supplierOnly, "CorrectTracking", false, workflows.UpdateCorrectTracking, correctTrackingInput),
		{method: http.MethodGet, path: "/deals/:id/tracking", op: "getTracking", summary: "The sample's and the goods' shipments with their carrier events",
			response: "Tracking", status: http.StatusOK, handler: s.getTracking},
		act(http.MethodPost, "/deals/:id/accept", "acceptDelivery", "Accept the delivered goods", buyerOnly, "Note", true, workflows.UpdateAcceptDelivery, noteInput),
		act(http.MethodPost, "/deals/:id/dispute", "openDispute", "Open a dispute", buyerOnly, "Dispute", false, workflows.UpdateOpenDispute, disputeInput),
		act(http.MethodPost, "/deals/:id/dispute/answer", "answerDispute", "Answer a dispute", supplierOnly, "Answer", false, workflows.UpdateAnswerDispute, answerInput),
		act(http.MethodPost, "/deals/:id/dispute/proposals", "proposeSettlement", "Propose a settlement", parties, "Proposal", false, workflows.UpdateProposeSettlement, proposalInput),
		act(http.MethodPost, "/deals/:id/dispute/proposals/:pid/accept", "acceptSettlement", "Accept the other party's proposal", parties, "", false, workflows.UpdateAcceptSettlement, acceptProposalInput),
		act(http.MethodPost, "/deals/:id/dispute/escalate", "escalateDispute", "Send the dispute to a mediator", parties, "Note", true, workflows.UpdateEscalateDispute, noteInput),
		{method: http.MethodPost, path: "/deals/:id/dispute/decision", op: "decideDispute", summary: "The mediator's decision",
			roles: mediatorOnly, request: "Decision", response: "Deal", status: http.StatusOK, handler: s.decide},
		{method: http.MethodPost, path: "/deals/:id/dispute/mediator", op: "assignMediator",
			summary: "Assign a dispute in mediation to a mediator (admin), or take one assigned to no one (mediator)",
			roles:   []workflows.Role{workflows.RoleAdmin, workflows.RoleMediator}, request: "AssignMediator", optional: true, response: "Assignment",
			status: http.StatusOK, update: workflows.UpdateAssignMediator, handler: s.assignMediator},
		act(http.MethodPost, "/deals/:id/cancel", "cancelDeal", "Cancel the deal (rules by stage)", parties, "Note", true, workflows.UpdateCancel, noteInput),
		{method: http.MethodGet, path: "/ledger/accounts/:account", op: "getAccount", summary: "A ledger account's balances",
			roles: financeOnly, response: "Account", status: http.StatusOK, handler: s.getAccount},
		{method: http.MethodGet, path: "/ledger/export.csv", op: "exportLedger", summary: "Ledger lines posted in [from, to), as CSV",
			roles: financeOnly, response: "CSV", status: http.StatusOK, handler: s.exportLedger},
		{method: http.MethodPost, path: "/deals/:id/rating", op: "rateDeal", summary: "Rate the supplier of a finished deal (once)",
			roles: buyerOnly, request: "Rating", response: "Rated", status: http.StatusCreated, handler: s.rateDeal},
		{method: http.MethodGet, path: "/deals/:id/quotes/comparison", op: "compareQuotes",
			summary: "The inquiry's quotes side by side (format=json, csv, xlsx or pdf)",
			roles:   buyerOnly, response: "QuoteComparison", status: http.StatusOK, query: []string{"format"}, handler: s.compareQuotes},
		{method: http.MethodGet, path: "/contract-template", op: "getContractTemplate",
			summary:  "The platform's contract template with its standard clauses and blanks to fill in (format=pdf or docx; lang=en or zh, else the caller's language)",
			response: "Document", status: http.StatusOK, query: []string{"format", "lang"}, handler: s.contractTemplate},
		{method: http.MethodGet, path: "/deals/:id/contract-template", op: "getDealContractTemplate",
			summary:  "The contract template filled from the deal: parties, goods, price, delivery, inspection and its contract's SHA-256 (format=pdf or docx; lang=en or zh)",
			response: "Document", status: http.StatusOK, query: []string{"format", "lang"}, handler: s.dealContractTemplate},
		{method: http.MethodPost, path: "/products", op: "saveProduct", summary: "List a product, or replace the one with the same SKU",
			roles: supplierOnly, request: "ProductInput", response: "Product", status: http.StatusCreated, handler: s.saveProduct},
		{method: http.MethodGet, path: "/products", op: "searchProducts", summary: "Search products by keywords and B2B filters (keyset pages)",
			response: "ProductPage", status: http.StatusOK, query: searchQueryParams, handler: s.searchProducts},
		{method: http.MethodGet, path: "/products/searches/recent", op: "recentSearches", summary: "The caller's recent searches",
			response: "RecentSearches", status: http.StatusOK, handler: s.recentSearches},
		{method: http.MethodPost, path: "/products/import", op: "importProducts",
			summary: "Import a catalog file (CSV or XLSX; mode=all writes nothing if a row is invalid, mode=partial writes the valid rows)",
			roles:   supplierOnly, request: "CatalogFile", response: "ImportReport", status: http.StatusOK, query: []string{"mode"}, handler: s.importProducts},
		{method: http.MethodGet, path: "/products/export", op: "exportProducts", summary: "The caller's catalog as a file (format=csv or xlsx)",
			roles: supplierOnly, response: "File", status: http.StatusOK, query: []string{"format"}, handler: s.exportProducts},
		{method: http.MethodGet, path: "/products/:pid", op: "getProduct", summary: "One product (a buyer's look counts in the funnel; via names the platform's link it came by)",
			response: "ProductWithMedia", status: http.StatusOK, query: []string{"via"}, handler: s.getProduct},
		{method: http.MethodDelete, path: "/products/:pid", op: "deleteProduct", summary: "Remove one of the caller's products",
			roles: supplierOnly, response: "Deleted", status: http.StatusOK, handler: s.deleteProduct},
		{method: http.MethodPost, path: "/products/:pid/media", op: "uploadMedia",
			summary: "Add a file to one of the caller's products (multipart: file, and kind image, spec_sheet, certificate, factory_photo or factory_video); its type is read from its bytes",
			roles:   supplierOnly, request: "MediaUpload", response: "Media", status: http.StatusCreated, handler: s.uploadMedia},
		{method: http.MethodDelete, path: "/products/:pid/media/:mid", op: "deleteMedia", summary: "Remove a file of one of the caller's products",
			roles: supplierOnly, response: "Deleted", status: http.StatusOK, handler: s.deleteMedia},
		{method: http.MethodGet, path: "/media/:mid", op: "getMedia",
			summary:  "A product's file (ETag and If-None-Match; images inline, PDFs and videos as attachments)",
			response: "MediaFile", status: http.StatusOK, handler: s.getMedia},
		{method: http.MethodGet, path: "/media/:mid/thumbnail", op: "getMediaThumbnail", summary: "An image's thumbnail (JPEG, 320 pixels on its long side)",
			response: "MediaFile", status: http.StatusOK, handler: s.getThumbnail},
		{method: http.MethodGet, path: "/verification", op: "getMyVerification",
			summary: "The caller's verification: its badge, the documents uploaded and not yet submitted, its verifications and the latest one's documents and audit trail",
			roles:   supplierOnly, response: "MyVerification", status: http.StatusOK, handler: s.getMyVerification},
		{method: http.MethodPost, path: verificationDocumentsPath, op: "uploadVerificationDocument",
			summary: "Upload a verification document (multipart: file; kind business_licence, certificate, factory_photo or factory_video; title, a certificate's name; expires_at, required for a certificate, a date or RFC 3339); its type is read from its bytes",
			roles:   supplierOnly, request: "DocumentUpload", response: "VerificationDocument", status: http.StatusCreated, handler: s.uploadDocument},
		{method: http.MethodDelete, path: verificationDocumentsPath + "/:did", op: "deleteVerificationDocument", summary: "Remove a document not yet submitted",
			roles: supplierOnly, response: "Deleted", status: http.StatusOK, handler: s.deleteDocument},
		{method: http.MethodGet, path: verificationDocumentsPath + "/:did", op: "getVerificationDocument",
			summary:  "A verification document's file: its supplier's, or any for staff (admin)",
			response: "MediaFile", status: http.StatusOK, roles: []workflows.Role{workflows.RoleSupplier, workflows.RoleAdmin}, handler: s.getDocument},
		{method: http.MethodPost, path: "/verification/submit", op: "submitVerification",
			summary: "Submit the documents uploaded: a new verification (it needs a business licence and a factory photo or video, none expired), or the next round of the one whose revision staff asked for (the revised documents alone)",
			roles:   supplierOnly, response: "Submitted", status: http.StatusCreated, handler: s.submitVerification},
		{method: http.MethodGet, path: "/verifications", op: "listVerifications", summary: "The verifications in review, the most urgent first (staff)",
			roles: adminOnly, response: "VerificationList", status: http.StatusOK, handler: s.listVerifications},
		{method: http.MethodGet, path: "/verifications/:vid", op: "getVerification",
			summary:  "One verification with its documents and audit trail: its supplier's, or any for staff (admin)",
			response: "Verification", status: http.StatusOK, roles: []workflows.Role{workflows.RoleSupplier, workflows.RoleAdmin}, handler: s.getVerification},
		{method: http.MethodPost, path: "/verifications/:vid/decision", op: "decideVerification",
			summary: "Staff's decision on a verification in review: approve, revise (a note says what to change) or reject (a note says why)",
			roles:   adminOnly, request: "VerificationDecision", response: "VerificationStatus", status: http.StatusOK, handler: s.decideVerification},
		{method: http.MethodGet, path: "/products/:pid/landed-cost", op: "landedCost",
			summary:  "What a quantity of the product costs delivered to a destination: each cost line (goods, origin, freight, insurance, duty), who pays it under the incoterm, and the total",
			response: "LandedCost", status: http.StatusOK, query: landedcost.Fields, handler: s.landedCost},
		{method: http.MethodGet, path: "/products/:pid/similar", op: "similarProducts", summary: "Products like this one",
			response: "ProductList", status: http.StatusOK, handler: s.similarProducts},
		{method: http.MethodPut, path: "/buyers/me/profile", op: "setBuyerProfile",
			summary: "Say what the caller's organization buys (categories, budget per order, lead time, regions): its inbox gets 3 to 5 matching offers",
			roles:   buyerOnly, request: "BuyerProfile", response: "Matches", status: http.StatusOK, handler: s.setBuyerProfile},
		{method: http.MethodGet, path: "/buyers/me/profile", op: "getBuyerProfile", summary: "What the caller's organization buys, and the offers that match it now",
			roles: buyerOnly, response: "Matches", status: http.StatusOK, handler: s.getBuyerProfile},
		{method: http.MethodGet, path: "/referrals", op: "getReferrals",
			summary: "The caller's organization's referral link, what a referral earns (a coupon of reward_bp of the referred organization's first completed deal, taken off a later deposit), the organizations it referred and its coupons",
			roles:   buyerOnly, response: "Referrals", status: http.StatusOK, handler: s.getReferrals},
		{method: http.MethodPost, path: "/referrals/claim", op: "claimReferral",
			summary: "Say which organization referred the caller's, by its referral code: once, and before the caller's organization's first deal",
			roles:   buyerOnly, request: "ClaimReferral", response: "ReferralClaim", status: http.StatusCreated, handler: s.claimReferral},
		{method: http.MethodGet, path: "/deposit-categories", op: "listDepositCategories",
			summary:  "The categories whose suppliers must hold a security deposit before they quote, and how much",
			response: "DepositCategoryList", status: http.StatusOK, handler: s.listDepositCategories},
		{method: http.MethodPut, path: "/deposit-categories/:category", op: "setDepositCategory",
			summary: "Make a category ask its suppliers to hold a security deposit (amount_minor of currency, at most 100,000,000,000 minor units) before they quote",
			roles:   adminOnly, request: "DepositCategoryInput", response: "DepositCategory", status: http.StatusOK, handler: s.putDepositCategory},
		{method: http.MethodGet, path: "/deposit-categories/:category", op: "getDepositCategory", summary: "The security deposit a category asks for (404: none)",
			response: "DepositCategory", status: http.StatusOK, handler: s.getDepositCategory},
		{method: http.MethodDelete, path: "/deposit-categories/:category", op: "deleteDepositCategory", summary: "Make a category ask for no security deposit",
			roles: adminOnly, response: "Deleted", status: http.StatusOK, handler: s.deleteDepositCategory},
		{method: http.MethodPost, path: "/deposits", op: "payDeposit",
			summary: "Pay the caller's security deposit in a currency (as much as the category asking the most in it): charged like any payment, held in the deposit's own ledger account; answers once the charge has an outcome (pending if the provider confirms later)",
			roles:   supplierOnly, request: "PayDeposit", response: "Deposit", status: http.StatusCreated, handler: s.payDeposit},
		{method: http.MethodGet, path: "/deposits", op: "listDeposits",
			summary: "Security deposits, newest first (100 at most): a supplier's own; every supplier's for admin, finance and mediators; each with what its ledger account holds, its postings and forfeits",
			roles:   []workflows.Role{workflows.RoleSupplier, workflows.RoleAdmin, workflows.RoleFinance, workflows.RoleMediator}, response: "DepositList", status: http.StatusOK, handler: s.listDeposits},
		{method: http.MethodGet, path: "/deposits/:did", op: "getDeposit", summary: "One security deposit (a supplier's own; any for admin, finance and mediators)",
			roles: []workflows.Role{workflows.RoleSupplier, workflows.RoleAdmin, workflows.RoleFinance, workflows.RoleMediator}, response: "Deposit", status: http.StatusOK, handler: s.getDeposit},
		{method: http.MethodPost, path: "/deposits/:did/return", op: "returnDeposit",
			summary: "Ask for the caller's security deposit back on leaving in good standing (no deal running, none in dispute): 409 not_in_good_standing names the deals in the way; the provider refunds what the deposit holds",
			roles:   supplierOnly, status: http.StatusOK, response: "Deposit", handler: s.returnDeposit},
		{method: http.MethodPost, path: "/deposits/:did/forfeit", op: "forfeitDeposit",
			summary: "A mediator's decision on a proven fraud: forfeit amount_minor (at most what the deposit holds) of a supplier's security deposit for deal_id, with a reason (at most 2,000 characters; audited, the supplier notified)",
			roles:   mediatorOnly, request: "ForfeitDeposit", response: "Deposit", status: http.StatusOK, handler: s.forfeitDeposit},
		{method: http.MethodGet, path: "/categories/:category/price-trend", op: "priceTrend",
			summary:  "A category's daily price index in one currency (currency, required) over days=30, 90 (the default) or 365 ending today: the lower median unit price at the MOQ of the products listed, the accepted quotes' beside it, and the marks historic_low, rising and falling",
			response: "PriceTrend", status: http.StatusOK, query: []string{"currency", "days"}, handler: s.priceTrend},
		{method: http.MethodPost, path: "/watches", op: "follow",
			summary: "Follow a product's price at a quantity (alerted at a drop of drop_bp basis points, 500 by default) or a category's new suppliers; following again changes how",
			roles:   buyerOnly, request: "Follow", response: "Watch", status: http.StatusCreated, handler: s.follow},
		{method: http.MethodGet, path: "/watches", op: "listWatches", summary: "The products and categories the caller follows, with each price now",
			roles: buyerOnly, response: "WatchList", status: http.StatusOK, handler: s.listWatches},
		{method: http.MethodDelete, path: "/watches/:wid", op: "unfollow", summary: "Stop following",
			roles: buyerOnly, response: "Deleted", status: http.StatusOK, handler: s.unfollow},
		{method: http.MethodGet, path: "/suppliers/:org", op: "getSupplier", summary: "A supplier's profile: tier, rating, response statistics",
			response: "Supplier", status: http.StatusOK, handler: s.getSupplier},
		{method: http.MethodPut, path: "/suppliers/me", op: "updateSupplierOffer", summary: "Say what the caller's organization sells",
			roles: supplierOnly, request: "SupplierOffer", response: "Supplier", status: http.StatusOK, handler: s.updateSupplierOffer},
		{method: http.MethodGet, path: "/metrics/funnel", op: "funnel", summary: "Funnel and platform figures over [from, to)",
			roles: analysts, response: "Funnel", status: http.StatusOK, query: []string{"from", "to"}, handler: s.funnel},
		{method: http.MethodGet, path: "/payments", op: "listPayments",
			summary: "Payments across deals made in [from, to), newest first (kind, status, step, currency, deal; keyset pages), with their totals",
			roles:   analysts, response: "PaymentList", status: http.StatusOK,
			query: []string{"from", "to", "kind", "status", "step", "currency", "deal", "cursor", "limit"}, handler: s.listPayments},
		{method: http.MethodGet, path: "/alerts", op: "listAlerts", summary: "Finance alerts, open first (status=open|resolved|all, kind, limit)",
			roles: analysts, response: "Alerts", status: http.StatusOK, query: []string{"status", "kind", "limit"}, handler: s.listAlerts},
		{method: http.MethodGet, path: "/escrow/findings", op: "listEscrowFindings", summary: "The escrow watchdog's open findings",
			roles: analysts, response: "EscrowFindings", status: http.StatusOK, handler: s.listEscrowFindings},
		{method: http.MethodPost, path: "/escrow/check", op: "checkEscrow", summary: "Run the escrow watchdog now and return its findings",
			roles: analysts, response: "WatchdogReport", status: http.StatusOK, handler: s.checkEscrow},
		{method: http.MethodPost, path: "/deals/:id/override", op: "overrideDeal",
			summary: "Settle the escrow of a deal whose workflow is gone: refund, release or split, with a reason (audited)",
			roles:   analysts, request: "Override", response: "OverrideResponse", status: http.StatusOK, handler: s.overrideDeal},
		{method: http.MethodPost, path: "/organizations", op: "createOrganization", summary: "Create an organization",
			roles: adminOnly, request: "CreateOrganization", response: "Organization", status: http.StatusCreated, handler: s.createOrganization},
		{method: http.MethodGet, path: "/users/:user/keys", op: "listKeys", summary: "A user's API keys, without their secrets (user: me, or an ID for an admin)",
			response: "APIKeys", status: http.StatusOK, handler: s.listKeys},
		{method: http.MethodPost, path: "/users/:user/keys", op: "createKey", summary: "Make an API key, with an optional expiry (its secret shown once)",
			request: "CreateAPIKey", optional: true, response: "CreatedAPIKey", status: http.StatusCreated, handler: s.createKey},
		{method: http.MethodDelete, path: "/users/:user/keys/:key", op: "revokeKey", summary: "Revoke an API key: it stops working at once",
			response: "APIKey", status: http.StatusOK, handler: s.revokeKey},
		{method: http.MethodPost, path: "/users/:user/keys/:key/rotate", op: "rotateKey",
			summary:  "Replace an API key: the new one's secret shown once, the old one works for the grace period",
			response: "RotatedAPIKey", status: http.StatusCreated, handler: s.rotateKey},
		{method: http.MethodGet, path: "/users/me", op: "getMe", summary: "The caller: its user, organization, role, and the language and time zone it reads notifications in",
			response: "Me", status: http.StatusOK, handler: s.getMe},
		{method: http.MethodPut, path: "/users/me/reading", op: "setReading",
			summary: "Set the language (en, zh) and IANA time zone the caller reads its notifications in (a field left out keeps its value)",
			request: "SetReading", response: "Me", status: http.StatusOK, handler: s.setReading},
		{method: http.MethodPut, path: "/users/me/password", op: "setPassword",
			summary: "Set the password the caller signs in to the console (/app) with (10 to 256 characters); ends the caller's console sessions",
			request: "SetPassword", response: "PasswordSet", status: http.StatusOK, handler: s.setPassword},
		{method: http.MethodGet, path: "/notifications", op: "listNotifications",
			summary:  "The caller's inbox: unread first, then read, each newest first (keyset pages)",
			response: "NotificationPage", status: http.StatusOK, query: []string{"cursor", "limit"}, handler: s.listNotifications},
		{method: http.MethodGet, path: "/notifications/stream", op: "streamNotifications",
			summary:  "The caller's new notifications as they arrive (Server-Sent Events: unread, notification, resync)",
			response: "EventStream", status: http.StatusOK, handler: s.streamNotifications},
		{method: http.MethodGet, path: "/notifications/preferences", op: "getNotificationPreferences",
			summary:  "The caller's channels per notification kind (money and legal kinds always reach every channel)",
			response: "NotificationPreferences", status: http.StatusOK, handler: s.getNotificationPreferences},
		{method: http.MethodPut, path: "/notifications/preferences", op: "setNotificationPreferences",
			summary: "Turn channels of notification kinds on or off for the caller (all changes or none)",
			request: "NotificationPreferenceChanges", response: "NotificationPreferences", status: http.StatusOK, handler: s.setNotificationPreferences},
		{method: http.MethodPost, path: "/notifications/read", op: "markAllNotificationsRead", summary: "Mark every unread notification of the caller's read",
			response: "MarkedAllRead", status: http.StatusOK, handler: s.markAllNotificationsRead},
		{method: http.MethodPost, path: "/notifications/:nid/read", op: "markNotificationRead", summary: "Mark one of the caller's notifications read",
			response: "MarkedRead", status: http.StatusOK, handler: s.markNotificationRead},
		{method: http.MethodPost, path: "/webhooks", op: "createWebhookEndpoint",
			summary: "Register a webhook endpoint of the caller's organization (its signing secret shown once)",
			roles:   parties, request: "CreateWebhookEndpoint", response: "CreatedWebhookEndpoint", status: http.StatusCreated, handler: s.createWebhookEndpoint},
		{method: http.MethodGet, path: "/webhooks", op: "listWebhookEndpoints", summary: "The webhook endpoints of the caller's organization",
			roles: parties, response: "WebhookEndpointList", status: http.StatusOK, handler: s.listWebhookEndpoints},
		{method: http.MethodGet, path: "/webhooks/:wid", op: "getWebhookEndpoint", summary: "One webhook endpoint of the caller's organization",
			roles: parties, response: "WebhookEndpoint", status: http.StatusOK, handler: s.getWebhookEndpoint},
		{method: http.MethodDelete, path: "/webhooks/:wid", op: "deleteWebhookEndpoint", summary: "Remove a webhook endpoint and its delivery log",
			roles: parties, response: "DeletedWebhookEndpoint", status: http.StatusOK, handler: s.deleteWebhookEndpoint},
		{method: http.MethodPost, path: "/webhooks/:wid/enable", op: "enableWebhookEndpoint",
			summary: "Turn a disabled webhook endpoint on again: its waiting deliveries go out",
			roles:   parties, response: "WebhookEndpoint", status: http.StatusOK, handler: s.enableWebhookEndpoint},
		{method: http.MethodPost, path: "/webhooks/:wid/roll-secret", op: "rollWebhookSecret",
			summary: "Give a webhook endpoint a new signing secret (shown once); for a day deliveries are signed with the old one too",
			roles:   parties, response: "CreatedWebhookEndpoint", status: http.StatusCreated, handler: s.rollWebhookSecret},
		{method: http.MethodGet, path: "/webhooks/:wid/deliveries", op: "listWebhookDeliveries",
			summary: "A webhook endpoint's delivery log, newest first, each delivery with its attempts (keyset pages)",
			roles:   parties, response: "WebhookDeliveryPage", status: http.StatusOK, query: []string{"cursor", "limit"}, handler: s.listWebhookDeliveries},
		{method: http.MethodPost, path: "/webhooks/:wid/deliveries/:did/replay", op: "replayWebhookDelivery",
			summary: "Send one delivery again now (its event ID unchanged)",
			roles:   parties, response: "ReplayedWebhookDelivery", status: http.StatusAccepted, handler: s.replayWebhookDelivery},
		{method: http.MethodPost, path: "/organizations/:org/users", op: "createUser", summary: "Create a user and its API key (shown once)",
			roles: adminOnly, request: "CreateUser", response: "CreatedUser", status: http.StatusCreated, handler: s.createUser},
	}
}
