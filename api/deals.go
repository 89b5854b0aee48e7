package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/deals"
	"github.com/tradeloop/tradeloop/internal/dealview"
	"github.com/tradeloop/tradeloop/internal/identity"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/internal/tracing"
	"github.com/tradeloop/tradeloop/workflows"
)

// CreateDealRequest is a buyer's inquiry.
type CreateDealRequest struct {
	Product         string    `json:"product"`
	Category        string    `json:"category"`
	Quantity        int64     `json:"quantity"`
	Unit            string    `json:"unit"`
	TargetUnitPrice int64     `json:"target_unit_price"`
	Currency        string    `json:"currency"`
	Destination     string    `json:"destination"`
	Incoterm        string    `json:"incoterm"`
	ShipBy          time.Time `json:"ship_by"`
	WantsSample     bool      `json:"wants_sample"`
	Specs           string    `json:"specs"`
	// Suppliers are the organizations invited to quote, best match first.
	// Without them the platform picks suppliers of Category (dispatch),
	// preferring Regions and requiring every one of Certifications.
	Suppliers      []string `json:"suppliers"`
	Regions        []string `json:"regions"`
	Certifications []string `json:"certifications"`
	// ProductID is the catalog product the buyer inquires from, if any: its
	// category is the inquiry's when the request names none, and the
	// funnel counts the inquiry as the product's.
	ProductID string `json:"product_id"`
}

// Limits of an inquiry's dispatch criteria; the inquiry's own text is held
// to the deal's limits (workflows/limits.go).
const (
	maxSuppliers      = workflows.MaxSuppliers
	maxRegions        = 20
	maxCertifications = 10
)

// boundedLine is one value held to bounds.Line.
type boundedLine struct {
	field, value string
	max          int
}

func (b boundedLine) Validate() error { return bounds.Line(b.field, b.value, b.max) }

// boundedText is one value held to bounds.Text.
type boundedText struct {
	field, value string
	max          int
}

func (b boundedText) Validate() error { return bounds.Text(b.field, b.value, b.max) }

// inquiry is the request as the deal's inquiry.
func (r CreateDealRequest) inquiry(buyer string) workflows.Inquiry {
	return workflows.Inquiry{
		BuyerOrgID: buyer, Product: r.Product, Category: r.Category, Quantity: r.Quantity, Unit: r.Unit,
		TargetUnitPrice: r.TargetUnitPrice, Currency: r.Currency, Destination: r.Destination, Incoterm: r.Incoterm,
		ShipBy: r.ShipBy, WantsSample: r.WantsSample, Specs: r.Specs,
	}
}

func (r CreateDealRequest) validate() error {
	switch {
	case strings.TrimSpace(r.Product) == "":
		return invalid("product", "is required")
	case r.Quantity < 1:
		return invalid("quantity", "must be a positive integer")
	case r.TargetUnitPrice < 0:
		return invalid("target_unit_price", "must not be negative")
	case !money.KnownCurrency(r.Currency):
		return invalid("currency", "%q is not a supported ISO-4217 currency", r.Currency)
	case len(r.Suppliers) == 0 && r.Category == "":
		return invalid("suppliers", "name the suppliers to invite, or a category for the platform to choose them")
	case r.Category != "" && !marketplace.ValidCategory(r.Category):
		return invalid("category", "a category slug such as \"led-lighting\"")
	case len(r.Suppliers) > maxSuppliers:
		return invalid("suppliers", "name between 1 and %d suppliers", maxSuppliers)
	case len(r.Regions) > maxRegions:
		return invalid("regions", "has %d entries; at most %d are allowed", len(r.Regions), maxRegions)
	case len(r.Certifications) > maxCertifications:
		return invalid("certifications", "has %d entries; at most %d are allowed", len(r.Certifications), maxCertifications)
	}
	if err := checkBounds(r.inquiry("")); err != nil {
		return err
	}
	for _, c := range r.Certifications {
		if err := checkBounds(boundedLine{"certifications", c, workflows.MaxCode}); err != nil {
			return err
		}
	}
	for _, reg := range r.Regions {
		if !marketplace.ValidRegion(reg) {
			return invalid("regions", "%q is not a region code such as CN or CN-ZJ", reg)
		}
	}
	if r.ProductID != "" {
		if _, err := uuid.Parse(r.ProductID); err != nil {
			return invalid("product_id", "is a product's ID")
		}
	}
	seen := map[string]bool{}
	for _, s := range r.Suppliers {
		if _, err := uuid.Parse(s); err != nil || seen[s] {
			return invalid("suppliers", "each supplier is an organization ID, named once")
		}
		seen[s] = true
	}
	return nil
}

func (s *Server) createDeal(c echo.Context) error {
	var req CreateDealRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	st, err := s.create(c.Request().Context(), principal(c), req, requestIdentity(c))
	if err != nil {
		return err
	}
	c.SetRequest(c.Request().WithContext(tracing.WithDeal(c.Request().Context(), st.DealID)))
	c.Response().Header().Set(echo.HeaderLocation, "/v1/deals/"+st.DealID)
	return c.JSON(http.StatusCreated, st)
}

// Create sends buyer p's inquiry as createDeal does, for callers other
// than the API's handlers (the console), and answers with the new deal as
// p sees it.
func (s *Server) Create(ctx context.Context, p Principal, req CreateDealRequest) (workflows.DealState, error) {
	return s.create(ctx, p, req, "")
}

// create checks the inquiry, lines up its suppliers (those it names, or
// the dispatch ranking's for its category) and starts the deal; a request
// identity (its Idempotency-Key) makes a repeat find the deal its first
// run started.
func (s *Server) create(ctx context.Context, p Principal, req CreateDealRequest, identity string) (workflows.DealState, error) {
	if err := req.validate(); err != nil {
		return workflows.DealState{}, err
	}
	var product *uuid.UUID
	if req.ProductID != "" {
		id := uuid.MustParse(req.ProductID)
		listed, err := s.market.Product(ctx, id)
		if errors.Is(err, marketplace.ErrNotFound) {
			return workflows.DealState{}, invalid("product_id", "no product %s is listed", id)
		}
		if err != nil {
			return workflows.DealState{}, err
		}
		if req.Category == "" {
			req.Category = listed.Category
		}
		product = &id
	}
	if len(req.Suppliers) == 0 {
		ranked, why, err := s.market.Dispatch(ctx, marketplace.DispatchCriteria{
			Category: req.Category, Regions: req.Regions, Certifications: req.Certifications, Limit: dispatchListLength,
		})
		if err != nil {
			return workflows.DealState{}, err
		}
		if len(ranked) == 0 {
			return workflows.DealState{}, apiErr(http.StatusUnprocessableEntity, "no_suppliers", "no supplier on the platform matches: %s", why)
		}
		return s.startDeal(ctx, p, req, product, ranked, why, identity)
	}
	ranked := make([]marketplace.Ranked, len(req.Suppliers))
	for i, id := range req.Suppliers {
		sup, err := s.market.Named(ctx, uuid.MustParse(id))
		if errors.Is(err, marketplace.ErrNotSupplier) {
			return workflows.DealState{}, invalid("suppliers", "%s is not a supplier on the platform", id)
		}
		if err != nil {
			return workflows.DealState{}, err
		}
		ranked[i] = sup
	}
	return s.startDeal(ctx, p, req, product, ranked, "", identity)
}

// dealIDSpace is the UUID namespace of deal IDs derived from a request's
// Idempotency-Key.
var dealIDSpace = uuid.MustParse("0b9f4a52-6c1e-4f55-9a0e-3d0c2f6f7e11")

// dispatchListLength is how many suppliers dispatch lines up: the first
// ones are invited, the rest replace those who decline or miss the SLA.
const dispatchListLength = 10

// startDeal starts the deal's workflow with its dispatch list, having
// recorded what brought the inquiry (product is the catalog product it
// came from, if any).
func (s *Server) startDeal(ctx context.Context, p Principal, req CreateDealRequest, product *uuid.UUID, ranked []marketplace.Ranked, dispatch, identity string) (workflows.DealState, error) {
	ids := make([]string, len(ranked))
	for i, r := range ranked {
		ids[i] = r.OrgID
	}
	// A supplier the buyer has had a deal with may not offer a trial.
	dealt, err := s.reads.DealtWith(ctx, p.OrgID.String(), ids)
	if err != nil {
		return workflows.DealState{}, err
	}
	suppliers := make([]workflows.Supplier, len(ranked))
	for i, r := range ranked {
		suppliers[i] = workflows.Supplier{OrgID: r.OrgID, Name: r.Name, Tier: r.Tier, Reason: r.Reason, FirstDeal: !slices.Contains(dealt, r.OrgID)}
	}
	dealID := uuid.NewString()
	if identity != "" {
		// A repeat of this request (its first run's process died) starts
		// nothing new: it finds the deal the first run started.
		dealID = uuid.NewSHA1(dealIDSpace, []byte(identity)).String()
	}
	ctx = tracing.WithDeal(ctx, dealID)
	in := workflows.DealInput{
		DealID:    dealID,
		Inquiry:   req.inquiry(p.OrgID.String()),
		Suppliers: suppliers,
		Dispatch:  dispatch,
		Policy:    s.policy,
		OpenedAt:  time.Now().UTC().Round(0),
	}
	if err := checkBounds(in); err != nil {
		return workflows.DealState{}, err
	}
	if err := workflows.ValidateDealInput(in); err != nil {
		return workflows.DealState{}, err
	}
	// What brought the inquiry, for the funnel: recorded before the deal
	// starts, so no started deal lacks it (a row whose deal did not start
	// joins no deal). A failure costs the figures one inquiry's channel,
	// not the buyer its inquiry.
	if _, err := s.market.RecordOrigin(ctx, marketplace.Origin{
		DealID: dealID, BuyerOrg: p.OrgID, Product: product, Category: req.Category, At: in.OpenedAt,
	}); err != nil {
		s.logger.WarnContext(ctx, "an inquiry's origin was not recorded", "deal_id", dealID, "error", err)
	}
	// One trip: the deal opens at in.OpenedAt, so its first state is
	// Opening's and the answer needs nothing from the workflow.
	// (Update-with-start measured slower under load on the embedded
	// server; start-then-query waited for the deal's first task.)
	repeat, err := s.deals.Start(ctx, in)
	if err != nil {
		return workflows.DealState{}, err
	}
	if repeat {
		// A repeat of a request whose first run started the deal: the
		// deal is what its workflow holds by now.
		st, err := s.deals.State(ctx, dealID)
		if err != nil {
			return workflows.DealState{}, err
		}
		return view(viewerOf(p), st)
	}
	// The opening round of bookkeeping, as the workflow hands it off: the
	// suppliers' invitations and the deal in the read model.
	if books, err := workflows.OpeningBooks(in, in.OpenedAt); err != nil {
		s.logger.ErrorContext(ctx, "make the opening round", "deal_id", dealID, "error", err)
	} else {
		s.writeBooks(ctx, dealID, &books)
	}
	return view(viewerOf(p), workflows.Opening(in, in.OpenedAt))
}

// visibleDeal returns the deal if the caller may see it, and 404 otherwise,
// so a deal ID tells nobody else whether it exists. The read model
// answers: an action answers once its change is projected there (its
// handler waits for the deal's bookkeeping), so a party reads its own
// writes without a trip to the workflow. Only a
// deal not projected yet (just started), or kept from before the read
// model kept whole states, is asked of its workflow.
func (s *Server) visibleDeal(c echo.Context) (workflows.DealState, error) {
	return s.DealFor(c.Request().Context(), viewerOf(principal(c)), c.Param("id"))
}

// DealFor is the deal id as viewer sees it, or errNotFound: visibleDeal for
// callers other than the JSON API's handlers (the console).
func (s *Server) DealFor(ctx context.Context, viewer dealview.Viewer, id string) (workflows.DealState, error) {
	if _, err := uuid.Parse(id); err != nil && !readmodel.ValidDealID(id) {
		return workflows.DealState{}, errNotFound
	}
	kept, err := s.reads.Kept(ctx, id)
	if err == nil && kept.Whole {
		return view(viewer, kept.State)
	}
	if err != nil && !errors.Is(err, readmodel.ErrNotFound) {
		return workflows.DealState{}, err
	}
	return s.freshDealFor(ctx, viewer, id)
}

// freshDealFor is the deal as viewer sees it, asked of the workflow
// first, for a decision that must not act on a read model that is behind
// (its projection failing while a party's action went through): the read
// model answers only once the workflow is gone.
func (s *Server) freshDealFor(ctx context.Context, viewer dealview.Viewer, id string) (workflows.DealState, error) {
	if _, err := uuid.Parse(id); err != nil && !readmodel.ValidDealID(id) {
		return workflows.DealState{}, errNotFound
	}
	st, err := s.deals.State(ctx, id)
	if err == nil {
		st = s.settledByOverride(ctx, st)
	}
	if errors.Is(err, deals.ErrNotFound) {
		st, err = s.reads.Deal(ctx, id)
		if errors.Is(err, readmodel.ErrNotFound) {
			return workflows.DealState{}, errNotFound
		}
	}
	if err != nil {
		return workflows.DealState{}, err
	}
	return view(viewer, st)
}

// viewerOf is the deal viewer p is.
func viewerOf(p Principal) dealview.Viewer {
	return dealview.Viewer{Role: p.Role, OrgID: p.OrgID.String(), UserID: p.UserID.String()}
}

// view is what viewer sees of st, or 404.
func view(viewer dealview.Viewer, st workflows.DealState) (workflows.DealState, error) {
	v, ok := dealview.Of(st, viewer)
	if !ok {
		return workflows.DealState{}, errNotFound
	}
	return v, nil
}

// dealAfter is the deal after an action: from the read model when it has
// the action (projected), from the workflow otherwise.
func (s *Server) dealAfter(ctx context.Context, dealID string, projected bool) (workflows.DealState, error) {
	if projected {
		kept, err := s.reads.Kept(ctx, dealID)
		if err == nil && kept.Whole {
			return kept.State, nil
		}
	}
	return s.deals.State(ctx, dealID)
}

// writeBooks writes the round of bookkeeping an action handed off (its
// notifications and projection) and reports whether the read model has
// it. The action has happened whatever comes of this: a write that fails
// is logged, and the deal's next round writes it (workflows'
// versionHandOffBooks). A client that goes away does not stop it.
func (s *Server) writeBooks(ctx context.Context, dealID string, b *activities.Books) bool {
	if b == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), booksWriteTimeout)
	defer cancel()
	// A span under the request's, when it is traced (a no-op otherwise).
	ctx, span := trace.SpanFromContext(ctx).TracerProvider().Tracer(tracing.TracerName).Start(ctx, "WriteBooks")
	defer span.End()
	if err := s.reads.WriteBooks(ctx, *b); err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "write failed")
		s.logger.ErrorContext(ctx, "write the books an action handed off", "deal_id", dealID, "error", err)
		return false
	}
	return true
}

// booksWriteTimeout bounds the write of an action's round of bookkeeping.
const booksWriteTimeout = 10 * time.Second

// getDeal answers with the deal as the caller sees it: the view it kept
// of the deal at its current version when it has one (dealViews), or the
// view made now and kept.
func (s *Server) getDeal(c echo.Context) error {
	ctx, id, viewer := c.Request().Context(), c.Param("id"), viewerOf(principal(c))
	if !readmodel.ValidDealID(id) {
		return errNotFound
	}
	version, whole, err := s.reads.Version(ctx, id)
	if err != nil && !errors.Is(err, readmodel.ErrNotFound) {
		return err
	}
	if err != nil || !whole {
		// Not projected yet, or kept from before whole states: asked of
		// its workflow, never kept.
		st, err := s.freshDealFor(ctx, viewer, id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, st)
	}
	key := viewKey{deal: id, viewer: viewer}
	if body, visible, ok := s.views.get(key, version); ok {
		if !visible {
			return errNotFound
		}
		return c.JSONBlob(http.StatusOK, body)
	}
	kept, err := s.reads.Kept(ctx, id)
	if errors.Is(err, readmodel.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	st, err := view(viewer, kept.State)
	if errors.Is(err, errNotFound) {
		s.views.put(key, kept.Version, nil)
		return err
	}
	body, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode deal %s: %w", id, err)
	}
	s.views.put(key, kept.Version, body)
	return c.JSONBlob(http.StatusOK, body)
}

func (s *Server) getTimeline(c echo.Context) error {
	st, err := s.visibleDeal(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"deal_id": st.DealID, "events": nonNil(st.Timeline)})
}

func (s *Server) getPayments(c echo.Context) error {
	st, err := s.visibleDeal(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"deal_id": st.DealID, "escrow": st.Escrow, "payments": nonNil(st.Payments)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) listDeals(c echo.Context) error {
	p := principal(c)
	f := readmodel.Filter{Stage: c.QueryParam("stage"), Counterparty: c.QueryParam("counterparty"), Cursor: c.QueryParam("cursor")}
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if v := c.QueryParam(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return invalid(name, "must be an RFC 3339 time")
			}
			*dst = t
		}
	}
	var err error
	if f.Limit, err = limitParam(c, readmodel.MaxPage); err != nil {
		return err
	}
	page, err := s.reads.List(c.Request().Context(), readmodel.Viewer{Role: p.Role, OrgID: p.OrgID.String(), UserID: p.UserID.String()}, f)
	if errors.Is(err, readmodel.ErrBadCursor) {
		return invalid("cursor", "is not a cursor this API gave out")
	}
	if err != nil {
		return err
	}
	viewer := dealview.Viewer{Role: p.Role, OrgID: p.OrgID.String(), UserID: p.UserID.String()}
	for i, d := range page.Deals {
		page.Deals[i] = dealview.Summary(d, viewer)
	}
	return c.JSON(http.StatusOK, page)
}

// builder turns a request into the update's argument, acting as actor.
type builder func(c echo.Context, a workflows.Actor) (any, error)

// action serves a party action: the deal must be visible to the caller,
// then the workflow validates and applies the update, the API writes the
// round of bookkeeping the update hands it (the read model and the
// notifications), and the caller gets the deal as it now stands: from the
// read model when it has the action (one trip through Temporal in all),
// from the workflow otherwise.
func (s *Server) action(update string, build builder) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := s.visibleDeal(c); err != nil {
			return err
		}
		arg, err := build(c, principal(c).Actor())
		if err != nil {
			return err
		}
		st, err := s.act(c.Request().Context(), principal(c), c.Param("id"), update, updateID(c, update), arg)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, st)
	}
}

// Act applies a party's action (the update update with its input arg) to
// the deal id as the action routes do, for callers other than the API's
// handlers (the console): the deal must be visible to p; the answer is
// the deal as p now sees it.
func (s *Server) Act(ctx context.Context, p Principal, id, update string, arg any) (workflows.DealState, error) {
	if _, err := s.DealFor(ctx, viewerOf(p), id); err != nil {
		return workflows.DealState{}, err
	}
	return s.act(ctx, p, id, update, "", arg)
}

// act applies an action to a deal p may see: the input held to the deal's
// limits, the update sent, the round of bookkeeping it hands back written,
// and the deal as p now sees it.
func (s *Server) act(ctx context.Context, p Principal, id, update, updateID string, arg any) (workflows.DealState, error) {
	if v, ok := arg.(interface{ Validate() error }); ok {
		if err := checkBounds(v); err != nil {
			return workflows.DealState{}, err
		}
	}
	if update == workflows.UpdateSubmitQuote {
		if err := s.checkQuoteDeposit(ctx, p, id); err != nil {
			return workflows.DealState{}, err
		}
	}
	var res workflows.ActionResult
	if err := s.send(ctx, id, update, updateID, arg, &res); err != nil {
		return workflows.DealState{}, err
	}
	projected := res.Projected || s.writeBooks(ctx, id, res.Books)
	st, err := s.dealAfter(ctx, res.DealID, projected)
	if err != nil {
		return workflows.DealState{}, err
	}
	return view(viewerOf(p), st)
}

// updateID names a request's update after its Idempotency-Key: the
// workflow applies an update ID once, and a repeat gets the first
// outcome. Without a key it is "" (a new update).
func updateID(c echo.Context, name string) string {
	if id := requestIdentity(c); id != "" {
		return name + "/" + id
	}
	return ""
}

// send sends the update name with arg to deal id and waits for its
// outcome in result.
func (s *Server) send(ctx context.Context, id, name, updateID string, arg, result any) error {
	if raw, err := json.Marshal(arg); err != nil || len(raw) > maxActionBytes {
		// The limits keep every action far below this; it guards the
		// workflow's payload limit against any the limits missed.
		return apiErr(http.StatusRequestEntityTooLarge, "too_large", "the action is too large for a deal")
	}
	err := s.deals.Act(ctx, id, name, updateID, arg, result)
	if errors.Is(err, deals.ErrClosed) {
		return apiErr(http.StatusConflict, workflows.RejectWrongStage, "the deal is closed and takes no more actions")
	}
	return err
}

// maxActionBytes bounds one party action as sent to the workflow.
const maxActionBytes = 256 << 10

// The request bodies of party actions.
type (
	NoteRequest struct {
		Note string `json:"note"`
	}
	ReasonRequest struct {
		Reason string `json:"reason"`
	}
	QuoteRequest struct {
		Tiers        []workflows.PriceTier `json:"tiers"`
		MOQ          int64                 `json:"moq"`
		LeadTimeDays int                   `json:"lead_time_days"`
		ValidTill    time.Time             `json:"valid_till"`
		SamplePrice  int64                 `json:"sample_price"`
		Note         string                `json:"note"`
		// Trial quotes the inquiry's quantity below the MOQ as a trial
		// order (a first deal between the buyer and the supplier only).
		Trial bool `json:"trial"`
	}
	CounterOfferRequest struct {
		SupplierID      string `json:"supplier_id"`
		TargetUnitPrice int64  `json:"target_unit_price"`
		Message         string `json:"message"`
	}
	ShipmentRequest struct {
		Carrier        string `json:"carrier"`
		TrackingNumber string `json:"tracking_number"`
	}
	RejectSampleRequest struct {
		Reason   string `json:"reason"`
		Resample bool   `json:"resample"`
	}
	SignRequest struct {
		TermsSHA256 string `json:"terms_sha256"`
	}
	ProgressRequest struct {
		Percent int    `json:"percent"`
		Note    string `json:"note"`
	}
	ExtendRequest struct {
		NewShipBy time.Time `json:"new_ship_by"`
	}
	DisputeRequest struct {
		Reason   string   `json:"reason"`
		Remedy   string   `json:"remedy"`
		Evidence []string `json:"evidence"`
	}
	AnswerRequest struct {
		Message string `json:"message"`
	}
	ProposalRequest struct {
		ReleaseAmount int64  `json:"release_amount"`
		Note          string `json:"note"`
	}
	DecisionRequest struct {
		Outcome       string `json:"outcome"`
		ReleaseAmount int64  `json:"release_amount"`
		Note          string `json:"note"`
	}
)

func noteInput(c echo.Context, a workflows.Actor) (any, error) {
	var r NoteRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	return workflows.ActorInput{Actor: a, Note: r.Note}, nil
}

func declineInput(c echo.Context, a workflows.Actor) (any, error) {
	var r ReasonRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	return workflows.DeclineInput{Actor: a, Reason: r.Reason}, nil
}

func quoteInput(c echo.Context, a workflows.Actor) (any, error) {
	var r QuoteRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	if len(r.Tiers) == 0 || len(r.Tiers) > 20 {
		return nil, invalid("tiers", "give between 1 and 20 price tiers")
	}
	for _, t := range r.Tiers {
		if t.MinQuantity < 1 || t.UnitPrice < 1 {
			return nil, invalid("tiers", "quantities and unit prices must be positive")
		}
	}
	if r.MOQ < 0 || r.SamplePrice < 0 || r.LeadTimeDays < 1 {
		return nil, invalid("quote", "moq and sample_price must not be negative, lead_time_days must be positive")
	}
	return workflows.QuoteInput{Actor: a, Tiers: r.Tiers, MOQ: r.MOQ, LeadTimeDays: r.LeadTimeDays,
		ValidTill: r.ValidTill, SamplePrice: r.SamplePrice, Note: r.Note, Trial: r.Trial}, nil
}

func counterInput(c echo.Context, a workflows.Actor) (any, error) {
	var r CounterOfferRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	if r.TargetUnitPrice < 1 {
		return nil, invalid("target_unit_price", "must be positive")
	}
	return workflows.CounterOfferInput{Actor: a, SupplierID: r.SupplierID, TargetUnitPrice: r.TargetUnitPrice, Message: r.Message}, nil
}

func acceptInput(c echo.Context, a workflows.Actor) (any, error) {
	if err := decode(c, &struct{}{}); err != nil {
		return nil, err
	}
	return workflows.AcceptInput{Actor: a, QuoteID: c.Param("qid")}, nil
}

func shipmentInput(c echo.Context, a workflows.Actor) (any, error) {
	var r ShipmentRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.Carrier) == "" || strings.TrimSpace(r.TrackingNumber) == "" {
		return nil, invalid("shipment", "carrier and tracking_number are required")
	}
	return workflows.ShipmentInput{Actor: a, Carrier: r.Carrier, TrackingNumber: r.TrackingNumber}, nil
}

// CorrectTrackingRequest replaces a shipment's wrong tracking number.
type CorrectTrackingRequest struct {
	Kind           string `json:"kind"`
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
}

func correctTrackingInput(c echo.Context, a workflows.Actor) (any, error) {
	var r CorrectTrackingRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	if r.Kind != "sample" && r.Kind != "goods" {
		return nil, invalid("kind", "must be sample or goods")
	}
	if strings.TrimSpace(r.Carrier) == "" || strings.TrimSpace(r.TrackingNumber) == "" {
		return nil, invalid("shipment", "carrier and tracking_number are required")
	}
	return workflows.CorrectTrackingInput{Actor: a, Kind: r.Kind, Carrier: r.Carrier, TrackingNumber: r.TrackingNumber}, nil
}

func (s *Server) getTracking(c echo.Context) error {
	st, err := s.visibleDeal(c)
	if err != nil {
		return err
	}
	out := map[string]any{"deal_id": st.DealID}
	if st.Sample != nil && st.Sample.Shipment != nil {
		out["sample"] = st.Sample.Shipment
	}
	if st.Shipment != nil {
		out["goods"] = st.Shipment
	}
	return c.JSON(http.StatusOK, out)
}

func rejectSampleInput(c echo.Context, a workflows.Actor) (any, error) {
	var r RejectSampleRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	return workflows.RejectSampleInput{Actor: a, Reason: r.Reason, Resample: r.Resample}, nil
}

func signInput(c echo.Context, a workflows.Actor) (any, error) {
	var r SignRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	if len(r.TermsSHA256) != 64 {
		return nil, invalid("terms_sha256", "must be the contract's 64-character SHA-256")
	}
	return workflows.SignInput{Actor: a, TermsSHA256: r.TermsSHA256}, nil
}

func progressInput(c echo.Context, a workflows.Actor) (any, error) {
	var r ProgressRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	if r.Percent < 0 || r.Percent > 100 {
		return nil, invalid("percent", "must be between 0 and 100")
	}
	return workflows.ProgressInput{Actor: a, Percent: r.Percent, Note: r.Note}, nil
}

func extendInput(c echo.Context, a workflows.Actor) (any, error) {
	var r ExtendRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	if r.NewShipBy.IsZero() {
		return nil, invalid("new_ship_by", "is required")
	}
	return workflows.ExtendInput{Actor: a, NewShipBy: r.NewShipBy}, nil
}

func disputeInput(c echo.Context, a workflows.Actor) (any, error) {
	var r DisputeRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.Reason) == "" {
		return nil, invalid("reason", "is required")
	}
	return workflows.DisputeInput{Actor: a, Reason: r.Reason, Remedy: r.Remedy, Evidence: r.Evidence}, nil
}

func answerInput(c echo.Context, a workflows.Actor) (any, error) {
	var r AnswerRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	if err := checkBounds(boundedText{"message", r.Message, workflows.MaxNote}); err != nil {
		return nil, err
	}
	if strings.TrimSpace(r.Message) == "" {
		return nil, invalid("message", "is required")
	}
	return workflows.ActorInput{Actor: a, Note: r.Message}, nil
}

func proposalInput(c echo.Context, a workflows.Actor) (any, error) {
	var r ProposalRequest
	if err := decode(c, &r); err != nil {
		return nil, err
	}
	if r.ReleaseAmount < 0 {
		return nil, invalid("release_amount", "must not be negative")
	}
	return workflows.ProposalInput{Actor: a, ReleaseAmount: r.ReleaseAmount, Note: r.Note}, nil
}

func acceptProposalInput(c echo.Context, a workflows.Actor) (any, error) {
	if err := decode(c, &struct{}{}); err != nil {
		return nil, err
	}
	return workflows.AcceptProposalInput{Actor: a, ProposalID: c.Param("pid")}, nil
}

// pay starts a payment and tells the client how to complete it.
func (s *Server) pay(c echo.Context) error {
	if _, err := s.visibleDeal(c); err != nil {
		return err
	}
	if err := decode(c, &struct{}{}); err != nil {
		return err
	}
	r, st, err := s.payStep(c.Request().Context(), principal(c), c.Param("id"), c.Param("step"), updateID(c, workflows.UpdatePay))
	if err != nil {
		return err
	}
	payment := map[string]any{"id": r.PaymentID, "provider": r.Provider, "status": r.Status, "sandbox": r.Provider != "stripe"}
	secret, err := s.clientSecret(c.Request().Context(), r)
	if err != nil {
		return err
	}
	if secret != "" {
		// The secret goes to the buyer's client only: never into history,
		// nor into the response kept for a repeat of this request.
		withheld := map[string]any{"id": r.PaymentID, "provider": r.Provider, "status": r.Status, "sandbox": false, "secret_withheld": secretWithheld}
		if err := keepWithoutSecret(c, map[string]any{"deal": st, "payment": withheld}); err != nil {
			return err
		}
		payment["client_secret"] = secret
	}
	return c.JSON(http.StatusOK, map[string]any{"deal": st, "payment": payment})
}

// clientSecret is what the buyer's client needs to complete a payment
// pending at Stripe, or "" for one that needs nothing more.
func (s *Server) clientSecret(ctx context.Context, r workflows.PayResult) (string, error) {
	return s.awaitingSecret(ctx, r.Provider, r.ProviderPaymentID, r.Status == workflows.PaymentPending)
}

// awaitingSecret is the client secret the payer's client completes a
// charge awaiting it at Stripe with (a deal's, a security deposit's, a
// Gold fee's), fetched from Stripe so it never enters a workflow's
// history; "" for a charge that waits for nobody.
func (s *Server) awaitingSecret(ctx context.Context, provider, paymentID string, awaiting bool) (string, error) {
	if provider != "stripe" || !awaiting || s.stripe == nil {
		return "", nil
	}
	return s.stripe.ClientSecret(ctx, paymentID)
}

// Pay starts the payment of step (sample, deposit, balance) of deal id as
// its buyer p, for callers other than the API's handlers (the console):
// the deal must be visible to p; the answer is the deal as p now sees it,
// with the client secret its browser needs to complete a payment pending
// at Stripe ("" for one that needs nothing more).
func (s *Server) Pay(ctx context.Context, p Principal, id, step string) (workflows.DealState, string, error) {
	if _, err := s.DealFor(ctx, viewerOf(p), id); err != nil {
		return workflows.DealState{}, "", err
	}
	r, st, err := s.payStep(ctx, p, id, step, "")
	if err != nil {
		return workflows.DealState{}, "", err
	}
	secret, err := s.clientSecret(ctx, r)
	return st, secret, err
}

// payStep starts a payment of a deal p may see and returns its outcome and
// the deal as p now sees it.
func (s *Server) payStep(ctx context.Context, p Principal, id, step, updateID string) (workflows.PayResult, workflows.DealState, error) {
	if step != activities.StepSample && step != activities.StepDeposit && step != activities.StepBalance {
		return workflows.PayResult{}, workflows.DealState{}, invalid("step", "must be sample, deposit or balance")
	}
	var r workflows.PayResult
	if err := s.send(ctx, id, workflows.UpdatePay, updateID, workflows.PayInput{Actor: p.Actor(), Step: step}, &r); err != nil {
		return r, workflows.DealState{}, err
	}
	st, err := s.dealAfter(ctx, r.DealID, s.writeBooks(ctx, id, r.Books))
	if err != nil {
		return r, workflows.DealState{}, err
	}
	st, err = view(viewerOf(p), st)
	return r, st, err
}

// decide sends the mediator's decision. A signal cannot be refused by the
// workflow, so the API checks it first against the deal's state, then waits
// for the deal to show it.
func (s *Server) decide(c echo.Context) error {
	var r DecisionRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	st, err := s.Decide(c.Request().Context(), principal(c), c.Param("id"), r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

// Decide sends mediator p's decision r on the dispute of deal id and
// answers with the deal as p then sees it, once the workflow has taken
// the decision (or after 10 s, as it then stands). A repeat of p's own
// decision answers as the first did.
func (s *Server) Decide(ctx context.Context, p Principal, id string, r DecisionRequest) (workflows.DealState, error) {
	if err := checkBounds(workflows.MediatorDecision{Note: r.Note}); err != nil {
		return workflows.DealState{}, err
	}
	st, err := s.freshDealFor(ctx, viewerOf(p), id)
	if err != nil {
		return workflows.DealState{}, err
	}
	if d := st.Dispute; d != nil && d.Decision != nil && d.Decision.MediatorID == p.UserID.String() {
		// This mediator's decision is taken: a repeat of it (its first
		// answer was lost) gets the deal as it now stands.
		if d.Decision.Outcome == r.Outcome && (r.Outcome != workflows.OutcomeSplit || d.Decision.ReleaseAmount == r.ReleaseAmount) {
			return st, nil
		}
		return workflows.DealState{}, apiErr(http.StatusConflict, workflows.RejectWrongStage, "you decided this dispute already (%s)", d.Decision.Outcome)
	}
	if st.Stage != workflows.StageMediation {
		return workflows.DealState{}, apiErr(http.StatusConflict, workflows.RejectWrongStage, "the deal is %s, not in mediation", st.Stage)
	}
	held := st.GoodsHeld()
	switch {
	case r.Outcome == workflows.OutcomeRefund || r.Outcome == workflows.OutcomeRelease:
	case r.Outcome == workflows.OutcomeSplit && r.ReleaseAmount > 0 && r.ReleaseAmount < held:
	case r.Outcome == workflows.OutcomeSplit:
		return workflows.DealState{}, invalid("release_amount", "a split releases more than 0 and less than the %d held", held)
	default:
		return workflows.DealState{}, invalid("outcome", "must be refund, release or split")
	}
	dec := workflows.MediatorDecision{Actor: p.Actor(), Outcome: r.Outcome, ReleaseAmount: r.ReleaseAmount, Note: r.Note}
	if err := s.deals.Signal(ctx, st.DealID, workflows.SignalMediatorDecision, dec); err != nil {
		return workflows.DealState{}, err
	}
	st, err = s.awaitDecision(ctx, st.DealID)
	if err != nil {
		return workflows.DealState{}, err
	}
	return view(viewerOf(p), st)
}

// AssignMediatorRequest names the mediator a dispute goes to; a mediator
// taking a dispute may leave it empty (itself).
type AssignMediatorRequest struct {
	MediatorID string `json:"mediator_id"`
}

// assignMediator gives a dispute in mediation to a mediator: an admin to
// any mediator (checked to be one), a mediator to itself when the dispute
// is assigned to no one (it sees only those and its own). The workflow's
// validator holds the stage and who may.
func (s *Server) assignMediator(c echo.Context) error {
	ctx, p, id := c.Request().Context(), principal(c), c.Param("id")
	var r AssignMediatorRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	if !readmodel.ValidDealID(id) {
		return errNotFound
	}
	if p.Role == workflows.RoleMediator {
		if r.MediatorID == "" {
			r.MediatorID = p.UserID.String()
		}
		if r.MediatorID != p.UserID.String() {
			return apiErr(http.StatusForbidden, workflows.RejectNotAllowed, "a mediator takes a dispute for itself; an admin assigns it to another")
		}
		if _, err := s.DealFor(ctx, viewerOf(p), id); err != nil {
			return err
		}
	} else {
		uid, err := uuid.Parse(r.MediatorID)
		if err != nil {
			return invalid("mediator_id", "must be a mediator's user ID")
		}
		u, err := s.identity.User(ctx, uid)
		if errors.Is(err, identity.ErrNotFound) || err == nil && u.Role != identity.Role(workflows.RoleMediator) {
			return invalid("mediator_id", "must be a mediator's user ID")
		}
		if err != nil {
			return err
		}
		// An admin sees no deal: the read model tells one that exists.
		if _, _, err := s.reads.Version(ctx, id); errors.Is(err, readmodel.ErrNotFound) {
			return errNotFound
		} else if err != nil {
			return err
		}
	}
	in := workflows.AssignMediatorInput{Actor: p.Actor(), MediatorID: r.MediatorID}
	var res workflows.ActionResult
	if err := s.send(ctx, id, workflows.UpdateAssignMediator, updateID(c, workflows.UpdateAssignMediator), in, &res); err != nil {
		return err
	}
	s.writeBooks(ctx, id, res.Books)
	return c.JSON(http.StatusOK, map[string]string{"deal_id": id, "mediator_id": r.MediatorID})
}

// awaitDecision is the deal once the read model has the mediator's
// decision. A decision is a signal (DESIGN §4), whose change the deal's
// bookkeeping activity writes, not the API: the mediator's answer waits
// for it there, so the mediator, and the console's next page, read the
// decision they made, as a party reads an action's. A read model that has
// not got it within decisionWait (the worker or PostgreSQL slow, or the
// signal ignored) gives way to the workflow's own state.
func (s *Server) awaitDecision(ctx context.Context, dealID string) (workflows.DealState, error) {
	deadline := time.Now().Add(decisionWait)
	for {
		st, err := s.dealAfter(ctx, dealID, true)
		if err != nil {
			return workflows.DealState{}, err
		}
		if st.Dispute != nil && st.Dispute.Decision != nil {
			return st, nil
		}
		if time.Now().After(deadline) {
			return s.deals.State(ctx, dealID)
		}
		select {
		case <-ctx.Done():
			return workflows.DealState{}, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// decisionWait bounds how long a decision's answer waits for the read
// model.
const decisionWait = 10 * time.Second
