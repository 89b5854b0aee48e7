package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/workflows"
)

// Refused is an action the platform refused, with its reason in words
// (the same as the API's).
type Refused struct {
	Status  int
	Message string
	// Field is the input the refusal is about, when it is about one.
	Field string
}

func (r *Refused) Error() string { return r.Message }

// Unavailable is a service that did not answer in time (the deal's
// workflow, Temporal): the page says to try again after RetryAfter
// seconds, as the API does.
type Unavailable struct {
	RetryAfter int
	Cause      error
}

func (u *Unavailable) Error() string { return "unavailable: " + u.Cause.Error() }
func (u *Unavailable) Unwrap() error { return u.Cause }

// Acting is how the console acts on deals, with the API's own rules.
type Acting struct {
	// Act applies the update that build makes for the acting party to
	// deal id as who, and answers with the deal as who now sees it; a
	// *Refused when the platform refuses it, ErrNotFound when who may
	// not see the deal.
	Act func(ctx context.Context, who signin.Who, id, update string, build func(workflows.Actor) any) (workflows.DealState, error)
	// Pay starts the payment of step (sample, deposit, balance) as the
	// deal's buyer, with the same answers, and with what the buyer's
	// browser needs when the payment waits for it at Stripe (nil: nothing).
	Pay func(ctx context.Context, who signin.Who, id, step string) (workflows.DealState, *Checkout, error)
	// Create sends who's inquiry and answers with the new deal, or a
	// *Refused.
	Create func(ctx context.Context, who signin.Who, in Inquiry) (workflows.DealState, error)
	// Rate keeps the buyer's rating (1 to 5 stars, a comment) of the
	// supplier of a finished deal, once, or a *Refused.
	Rate func(ctx context.Context, who signin.Who, id string, stars int, comment string) error
	// Decide sends mediator who's decision on the deal's dispute, with the
	// same answers as Act.
	Decide func(ctx context.Context, who signin.Who, id string, d Decision) (workflows.DealState, error)
}

// Checkout is how a buyer's browser completes a payment pending at
// Stripe: the PaymentIntent's client secret, shown once on the payment
// page and never kept, and the platform's publishable key ("": none, the
// buyer pays through an API client).
type Checkout struct {
	ClientSecret, PublishableKey string
}

// Decision is a mediator's ruling: Outcome is workflows.OutcomeRefund,
// OutcomeRelease or OutcomeSplit; ReleaseAmount (minor units) goes to the
// supplier in a split, the rest held back to the buyer.
type Decision struct {
	Outcome       string
	ReleaseAmount int64
	Note          string
}

// Inquiry is what a buyer asks for: the platform chooses the suppliers of
// Category (the dispatch ranking), as the API does for an inquiry that
// names none.
type Inquiry struct {
	Product, Category, Unit, Currency string
	Quantity                          int64
	// TargetUnitPrice is in minor units of Currency; 0 for none.
	TargetUnitPrice int64
	// Suppliers are the organizations invited to quote; none: the
	// platform's dispatch picks them.
	Suppliers []string
	// WantsSample asks for a sample before the contract.
	WantsSample bool
	// ProductID is the catalog product the buyer inquires from, if any.
	ProductID string
}

// actions are what the deal page offers its viewer now; the workflow
// decides, and refuses what the page offered too early or too late.
type actions struct {
	Quote, Accept, Sign, Ready, Ship, AcceptGoods bool
	// A dispute: the buyer opens it, the supplier answers it, either
	// proposes a settlement (and accepts the other's, on its line) or
	// sends it to a mediator, who decides.
	Dispute, Answer, Propose, Escalate, Decide bool
	// Take: a mediator may take a dispute assigned to no one.
	Take bool
	// Before the contract: the buyer's counter-offer to a quote, its
	// request for a sample; then the supplier ships the sample, the buyer
	// judges it; in production the supplier reports its progress.
	Counter, RequestSample, ShipSample, JudgeSample, Progress bool
	// Rate: the buyer rates the supplier of a finished deal.
	Rate bool
	// Pay is the payment step the buyer owes now ("" for none).
	Pay string
}

func actionsFor(w signin.Who, st workflows.DealState) actions {
	buyer, supplier := w.Role == string(workflows.RoleBuyer), w.Role == string(workflows.RoleSupplier)
	var a actions
	party := buyer || supplier && st.SupplierID == w.OrgID.String()
	switch st.Stage {
	case workflows.StageQuoting:
		a.Accept = buyer && len(st.Quotes) > 0
		a.Counter = a.Accept
		for _, inv := range st.Invitations {
			a.Quote = a.Quote || supplier && inv.SupplierID == w.OrgID.String() &&
				(inv.Status == workflows.InvitationPending || inv.Status == workflows.InvitationQuoted)
		}
	case workflows.StageContract:
		if c := st.Contract; c != nil {
			a.Sign = buyer && c.BuyerSignedAt.IsZero() || supplier && c.SupplierSignedAt.IsZero()
			a.RequestSample = buyer && st.Sample == nil && c.BuyerSignedAt.IsZero() && c.SupplierSignedAt.IsZero()
		}
	case workflows.StageSample:
		if sm := st.Sample; sm != nil {
			if buyer && !sm.Paid && sm.Status == workflows.SampleRequested {
				a.Pay = "sample"
			}
			a.ShipSample = supplier && sm.Paid && sm.Status == workflows.SampleRequested
			a.JudgeSample = buyer && (sm.Status == workflows.SampleShipped || sm.Status == workflows.SampleDelivered)
		}
	case workflows.StageDeposit:
		if buyer {
			a.Pay = "deposit"
		}
	case workflows.StageBalance:
		if buyer {
			a.Pay = "balance"
		}
	case workflows.StageProduction:
		a.Ready, a.Progress = supplier, supplier
	case workflows.StageShipping:
		a.Ship = supplier && st.Shipment == nil
		a.Dispute = buyer && st.Shipment != nil
	case workflows.StageInspection:
		a.AcceptGoods, a.Dispute = buyer, buyer
	case workflows.StageDispute:
		a.Answer = supplier && st.Dispute != nil && st.Dispute.Status == workflows.DisputeOpen
		a.Propose, a.Escalate = party, party
	case workflows.StageCompleted, workflows.StageResolved:
		a.Rate = buyer && st.SupplierID != ""
	case workflows.StageMediation:
		a.Propose = party
		a.Decide = w.Role == string(workflows.RoleMediator)
		a.Take = a.Decide && st.Dispute != nil && st.Dispute.MediatorID == ""
	}
	return a
}

// quoteValidDays is how long a quote from the console stays valid unless
// its supplier says otherwise.
const quoteValidDays = 14

// act runs one of the deal page's forms: build makes the update's input
// from the form, or says which field is wrong.
func (c *Console) act(update string, build func(ec echo.Context, st workflows.DealState) (func(workflows.Actor) any, *fieldError)) echo.HandlerFunc {
	return c.onDeal(func(ec echo.Context, w signin.Who, st workflows.DealState) error {
		input, bad := build(ec, st)
		if bad != nil {
			return bad
		}
		_, err := c.d.Acting.Act(ec.Request().Context(), w, st.DealID, update, input)
		return err
	})
}

// pay starts the payment the form names; one that waits for the buyer
// at Stripe goes on in Stripe's payment form (checkoutPage).
func (c *Console) pay(ec echo.Context, w signin.Who, st workflows.DealState) error {
	now, checkout, err := c.d.Acting.Pay(ec.Request().Context(), w, st.DealID, ec.Param("step"))
	if err != nil || checkout == nil {
		return err
	}
	page := checkoutPage{Checkout: *checkout, Step: ec.Param("step"), Currency: now.Currency,
		Back: Root + "/deals/" + st.DealID, BackText: "console.pay.back",
		ReturnURL: strings.TrimSuffix(c.d.PublicURL, "/") + Root + "/deals/" + st.DealID}
	for _, p := range now.Payments {
		if p.Kind == workflows.PaymentCharge && p.Step == page.Step {
			page.Amount = p.Amount
		}
	}
	return &page
}

// checkoutPage is the page where a buyer completes a payment pending at
// Stripe, in Stripe's own form (static/stripe-pay.js); it comes back to
// the deal's page (ReturnURL), which learns of the payment from Stripe's
// webhook.
type checkoutPage struct {
	Checkout
	Step, Currency, ReturnURL string
	Amount                    int64
	// Back is the page the payment is for, BackText its link's words.
	Back, BackText string
}

func (p *checkoutPage) Error() string { return "the payment continues at Stripe" }

// stripeCSP lets the payment page load Stripe.js and its frames, and
// nothing else beyond the console's own.
const stripeCSP = "default-src 'self'; script-src 'self' https://js.stripe.com; frame-src https://js.stripe.com https://hooks.stripe.com; " +
	"connect-src 'self' https://api.stripe.com; img-src 'self' data: https://*.stripe.com; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// showCheckout shows the payment page: never cached (it holds the
// payment's client secret), its CSP open to Stripe.js alone.
func (c *Console) showCheckout(ec echo.Context, p *checkoutPage) error {
	h := ec.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", stripeCSP)
	return c.render(ec, http.StatusOK, "pay", "", p)
}

// onDeal runs an action on the deal of the request's path, as its viewer
// sees it, and shows the deal again: after it, or with why a field or the
// action was refused.
func (c *Console) onDeal(action func(ec echo.Context, w signin.Who, st workflows.DealState) error) echo.HandlerFunc {
	return func(ec echo.Context) error {
		w := who(ec)
		st, err := c.d.Deal(ec.Request().Context(), viewerOf(w), ec.Param("id"))
		if err != nil {
			return err
		}
		err = action(ec, w, st)
		var bad *fieldError
		var review *reviewDecision
		var checkout *checkoutPage
		switch {
		case errors.As(err, &checkout):
			return c.showCheckout(ec, checkout)
		case errors.As(err, &review):
			return c.showDealWith(ec, http.StatusOK, st, func(d *dealData) { d.Review = &review.decisionReview })
		case errors.As(err, &bad):
			return c.showDeal(ec, http.StatusUnprocessableEntity, st, bad.msg, bad.field)
		case err != nil:
			return c.refused(ec, st, err)
		}
		return ec.Redirect(http.StatusSeeOther, Root+"/deals/"+st.DealID)
	}
}

// refused shows the deal page again with why the action was refused.
func (c *Console) refused(ec echo.Context, st workflows.DealState, err error) error {
	var r *Refused
	if !errors.As(err, &r) {
		return err
	}
	if now, err := c.d.Deal(ec.Request().Context(), viewerOf(who(ec)), st.DealID); err == nil {
		st = now
	}
	// Next to its field when the page has that field, above the page
	// otherwise.
	field := r.Field
	if !slices.Contains(dealFormFields, field) {
		field = ""
	}
	return c.showDeal(ec, r.Status, st, say(who(ec), "console.act.refused", r.Message), field)
}

// fieldError is a form field the console cannot read.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func quoteForm(ec echo.Context, st workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	w := who(ec)
	price, err := money.Parse(ec.FormValue("unit_price"), st.Currency)
	if err != nil || price < 1 {
		return nil, &fieldError{"unit_price", say(w, "console.act.amount.bad", money.Format(390, st.Currency))}
	}
	days, err := strconv.Atoi(strings.TrimSpace(ec.FormValue("lead_time_days")))
	if err != nil || days < 1 || days > 3650 {
		return nil, &fieldError{"lead_time_days", say(w, "console.act.days.bad", nil)}
	}
	tiers, ferr := volumeTiers(ec, st.Currency, price)
	if ferr != nil {
		return nil, ferr
	}
	var sample int64
	if v := strings.TrimSpace(ec.FormValue("sample_price")); v != "" {
		if sample, err = money.Parse(v, st.Currency); err != nil || sample < 0 {
			return nil, &fieldError{"sample_price", say(w, "console.act.amount.bad", money.Format(2500, st.Currency))}
		}
	}
	var moq int64
	if v := strings.ReplaceAll(strings.TrimSpace(ec.FormValue("moq")), ",", ""); v != "" {
		if moq, err = strconv.ParseInt(v, 10, 64); err != nil || moq < 0 {
			return nil, &fieldError{"moq", say(w, "console.act.quantity.bad", nil)}
		}
	}
	trial := ec.FormValue("trial") == "1"
	note := ec.FormValue("note")
	validTill := time.Now().Add(quoteValidDays * 24 * time.Hour).UTC().Truncate(time.Second)
	return func(a workflows.Actor) any {
		return workflows.QuoteInput{Actor: a, Tiers: tiers, MOQ: moq, LeadTimeDays: days, ValidTill: validTill, SamplePrice: sample, Note: note, Trial: trial}
	}, nil
}

// volumeRows are the suffixes of the quote form's volume price rows
// (tier_quantity, tier_price; tier_quantity_2, …).
var volumeRows = []string{"", "_2", "_3"}

// volumeTiers are a quote's price tiers: price from one unit, then each
// volume row filled in, from a larger quantity on at a lower price than
// the row before. A row left empty is skipped.
func volumeTiers(ec echo.Context, currency string, price int64) ([]workflows.PriceTier, *fieldError) {
	w := who(ec)
	tiers := []workflows.PriceTier{{MinQuantity: 1, UnitPrice: price}}
	for _, row := range volumeRows {
		q, p := strings.TrimSpace(ec.FormValue("tier_quantity"+row)), strings.TrimSpace(ec.FormValue("tier_price"+row))
		if q == "" && p == "" {
			continue
		}
		last := tiers[len(tiers)-1]
		qty, err := strconv.ParseInt(strings.ReplaceAll(q, ",", ""), 10, 64)
		if err != nil || qty <= last.MinQuantity || qty > maxUnits {
			if len(tiers) == 1 {
				return nil, &fieldError{"tier_quantity" + row, say(w, "console.act.quote.tier_quantity.bad", nil)}
			}
			return nil, &fieldError{"tier_quantity" + row, say(w, "console.act.quote.tier_quantity.more", money.Count(last.MinQuantity))}
		}
		tp, err := money.Parse(p, currency)
		if err != nil || tp < 1 || tp >= last.UnitPrice {
			return nil, &fieldError{"tier_price" + row, say(w, "console.act.quote.tier_price.bad", money.Format(last.UnitPrice, currency))}
		}
		tiers = append(tiers, workflows.PriceTier{MinQuantity: qty, UnitPrice: tp})
	}
	return tiers, nil
}

// maxUnits bounds a quantity typed into a form (a billion units).
const maxUnits = 1_000_000_000

// takeForm: the mediator signed in takes the dispute for itself.
func takeForm(echo.Context, workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	return func(a workflows.Actor) any { return workflows.AssignMediatorInput{Actor: a, MediatorID: a.UserID} }, nil
}

func acceptForm(ec echo.Context, _ workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	id := ec.Param("qid")
	return func(a workflows.Actor) any { return workflows.AcceptInput{Actor: a, QuoteID: id} }, nil
}

func signForm(ec echo.Context, _ workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	hash := ec.FormValue("terms_sha256")
	return func(a workflows.Actor) any { return workflows.SignInput{Actor: a, TermsSHA256: hash} }, nil
}

func noteForm(ec echo.Context, _ workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	note := ec.FormValue("note")
	return func(a workflows.Actor) any { return workflows.ActorInput{Actor: a, Note: note} }, nil
}

func shipmentForm(ec echo.Context, _ workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	w := who(ec)
	carrier, tracking := strings.TrimSpace(ec.FormValue("carrier")), strings.TrimSpace(ec.FormValue("tracking_number"))
	if carrier == "" {
		return nil, &fieldError{"carrier", say(w, "console.act.required", nil)}
	}
	if tracking == "" {
		return nil, &fieldError{"tracking_number", say(w, "console.act.required", nil)}
	}
	return func(a workflows.Actor) any {
		return workflows.ShipmentInput{Actor: a, Carrier: carrier, TrackingNumber: tracking}
	}, nil
}

func counterForm(ec echo.Context, st workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	w := who(ec)
	supplier := ec.FormValue("supplier_id")
	if !slices.ContainsFunc(st.Quotes, func(q workflows.Quote) bool { return q.SupplierID == supplier && q.Status == workflows.QuoteOpen }) {
		return nil, &fieldError{"supplier_id", say(w, "console.counter.supplier.bad", nil)}
	}
	target, err := money.Parse(ec.FormValue("target_unit_price"), st.Currency)
	if err != nil || target < 1 {
		return nil, &fieldError{"target_unit_price", say(w, "console.act.amount.bad", money.Format(370, st.Currency))}
	}
	msg := ec.FormValue("message")
	return func(a workflows.Actor) any {
		return workflows.CounterOfferInput{Actor: a, SupplierID: supplier, TargetUnitPrice: target, Message: msg}
	}, nil
}

func rejectSampleForm(ec echo.Context, _ workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	reason := strings.TrimSpace(ec.FormValue("reason"))
	if reason == "" {
		return nil, &fieldError{"reason", say(who(ec), "console.act.required", nil)}
	}
	resample := ec.FormValue("resample") == "1"
	return func(a workflows.Actor) any {
		return workflows.RejectSampleInput{Actor: a, Reason: reason, Resample: resample}
	}, nil
}

func progressForm(ec echo.Context, _ workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	pct, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(ec.FormValue("percent")), "%"))
	if err != nil || pct < 0 || pct > 100 {
		return nil, &fieldError{"percent", say(who(ec), "console.production.percent.bad", nil)}
	}
	note := ec.FormValue("note")
	return func(a workflows.Actor) any { return workflows.ProgressInput{Actor: a, Percent: pct, Note: note} }, nil
}

func disputeForm(ec echo.Context, _ workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	reason, remedy := strings.TrimSpace(ec.FormValue("reason")), strings.TrimSpace(ec.FormValue("remedy"))
	if reason == "" {
		return nil, &fieldError{"reason", say(who(ec), "console.act.required", nil)}
	}
	// One piece of evidence a line: a link to a photo, a report, a
	// description.
	var evidence []string
	for line := range strings.Lines(ec.FormValue("evidence")) {
		if line = strings.TrimSpace(line); line != "" {
			evidence = append(evidence, line)
		}
	}
	return func(a workflows.Actor) any {
		return workflows.DisputeInput{Actor: a, Reason: reason, Remedy: remedy, Evidence: evidence}
	}, nil
}

func answerForm(ec echo.Context, _ workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	msg := strings.TrimSpace(ec.FormValue("message"))
	if msg == "" {
		return nil, &fieldError{"message", say(who(ec), "console.act.required", nil)}
	}
	return func(a workflows.Actor) any { return workflows.ActorInput{Actor: a, Note: msg} }, nil
}

func proposalForm(ec echo.Context, st workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	release, bad := releaseAmount(ec, st)
	if bad != nil {
		return nil, bad
	}
	note := ec.FormValue("note")
	return func(a workflows.Actor) any {
		return workflows.ProposalInput{Actor: a, ReleaseAmount: release, Note: note}
	}, nil
}

// releaseAmount is the form's release_amount: what goes to the supplier,
// between nothing and all the escrow holds for the goods.
func releaseAmount(ec echo.Context, st workflows.DealState) (int64, *fieldError) {
	held := st.GoodsHeld()
	amount, err := money.Parse(ec.FormValue("release_amount"), st.Currency)
	if err != nil || amount < 0 || amount > held {
		return 0, &fieldError{"release_amount", say(who(ec), "console.dispute.release.bad", money.Format(held, st.Currency))}
	}
	return amount, nil
}

func acceptProposalForm(ec echo.Context, _ workflows.DealState) (func(workflows.Actor) any, *fieldError) {
	id := ec.Param("pid")
	return func(a workflows.Actor) any { return workflows.AcceptProposalInput{Actor: a, ProposalID: id} }, nil
}

// rate keeps the buyer's rating of the deal's supplier.
func (c *Console) rate(ec echo.Context, w signin.Who, st workflows.DealState) error {
	stars, err := strconv.Atoi(ec.FormValue("stars"))
	if err != nil || stars < 1 || stars > 5 {
		return &fieldError{"stars", say(w, "console.rate.stars.bad", nil)}
	}
	return c.d.Acting.Rate(ec.Request().Context(), w, st.DealID, stars, ec.FormValue("comment"))
}

// decisionReview is a mediator's decision shown in money before it is
// sent: what goes to the supplier and what back to the buyer.
type decisionReview struct {
	Decision
	Release, Refund int64
	// Words say it in the mediator's language.
	Words string
}

// decide reviews the mediator's decision (the form's first send), then
// sends it (the review's confirmation).
func (c *Console) decide(ec echo.Context, w signin.Who, st workflows.DealState) error {
	d := Decision{Outcome: ec.FormValue("outcome"), Note: ec.FormValue("note")}
	held := st.GoodsHeld()
	review := decisionReview{Decision: d}
	switch d.Outcome {
	case workflows.OutcomeRefund:
		review.Refund = held
	case workflows.OutcomeRelease:
		review.Release = held
	case workflows.OutcomeSplit:
		amount, bad := releaseAmount(ec, st)
		if bad == nil && (amount == 0 || amount == held) {
			bad = &fieldError{"release_amount", say(w, "console.dispute.split.bad", money.Format(held, st.Currency))}
		}
		if bad != nil {
			return bad
		}
		review.ReleaseAmount, review.Release, review.Refund = amount, amount, held-amount
	default:
		return &fieldError{"outcome", say(w, "console.dispute.outcome.bad", nil)}
	}
	if ec.FormValue("confirm") != "1" {
		review.Words = say(w, "console.dispute.review", struct{ Release, Refund string }{
			money.Format(review.Release, st.Currency), money.Format(review.Refund, st.Currency)})
		return &reviewDecision{review}
	}
	_, err := c.d.Acting.Decide(ec.Request().Context(), w, st.DealID, review.Decision)
	return err
}

// reviewDecision asks the deal page to show the decision for its
// mediator to confirm.
type reviewDecision struct{ decisionReview }

func (*reviewDecision) Error() string { return "review the decision" }

// inquiryData is the inquiry form's: what the buyer typed, and what is
// wrong with it.
type inquiryData struct {
	formState
	Currencies []string
}

func (c *Console) inquiryForm(ec echo.Context) error {
	return c.render(ec, http.StatusOK, "inquiry", "", inquiryData{formState: formState{Form: map[string]string{"currency": "USD", "unit": "pcs"}}, Currencies: money.Currencies()})
}

func (c *Console) sendInquiry(ec echo.Context) error {
	w := who(ec)
	data := inquiryData{formState: formState{Form: map[string]string{}}, Currencies: money.Currencies()}
	for _, f := range []string{"product", "category", "quantity", "unit", "currency", "target_unit_price"} {
		data.Form[f] = strings.TrimSpace(ec.FormValue(f))
	}
	bad := func(field, msg string) error {
		data.Field, data.Error = field, msg
		return c.render(ec, http.StatusUnprocessableEntity, "inquiry", "", data)
	}
	qty, err := strconv.ParseInt(data.Form["quantity"], 10, 64)
	if err != nil || qty < 1 {
		return bad("quantity", say(w, "console.act.quantity.bad", nil))
	}
	in := Inquiry{Product: data.Form["product"], Category: data.Form["category"], Quantity: qty, Unit: data.Form["unit"], Currency: data.Form["currency"]}
	if t := data.Form["target_unit_price"]; t != "" {
		if in.TargetUnitPrice, err = money.Parse(t, in.Currency); err != nil {
			return bad("target_unit_price", say(w, "console.act.amount.bad", money.Format(390, in.Currency)))
		}
	}
	st, err := c.d.Acting.Create(ec.Request().Context(), w, in)
	var r *Refused
	if errors.As(err, &r) {
		return bad(r.Field, say(w, "console.act.refused", r.Message))
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/deals/"+st.DealID)
}
