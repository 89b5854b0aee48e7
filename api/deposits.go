package api

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/deals"
	"github.com/tradeloop/tradeloop/internal/deposits"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/workflows"
)

// depositWorkflow is the deals client's calls for security deposits.
func depositWorkflow() deals.Workflow {
	return deals.Workflow{Name: workflows.DepositWorkflowName, ID: workflows.DepositWorkflowID}
}

// depositReaders see every organization's deposits; a supplier sees its
// own.
var depositReaders = []workflows.Role{workflows.RoleAdmin, workflows.RoleFinance, workflows.RoleMediator}

// depositErr maps the deposit service's errors to the API's.
func depositErr(err error) error {
	switch {
	case errors.Is(err, deposits.ErrNotFound):
		return apiErr(http.StatusNotFound, "item_not_found", "no such deposit")
	case errors.Is(err, deposits.ErrNoCategory):
		return apiErr(http.StatusNotFound, "item_not_found", "the category asks for no security deposit")
	case errors.Is(err, deposits.ErrInvalid):
		return apiErr(http.StatusUnprocessableEntity, "invalid", "%v", err)
	case errors.Is(err, deposits.ErrNothingToPay):
		return apiErr(http.StatusConflict, "no_deposit_required", "%v", err)
	case errors.Is(err, deposits.ErrLive):
		return apiErr(http.StatusConflict, "deposit_exists", "%v: return it before paying another", err)
	case errors.Is(err, deposits.ErrTooMany):
		return apiErr(http.StatusConflict, workflows.RejectLimit, "%v", err)
	case errors.Is(err, deposits.ErrNotParty):
		return apiErr(http.StatusUnprocessableEntity, "invalid", "deal_id: %v", err)
	case errors.Is(err, activities.ErrNotInGoodStanding):
		return apiErr(http.StatusConflict, "not_in_good_standing", "%v", err)
	case errors.Is(err, deals.ErrClosed):
		return apiErr(http.StatusConflict, workflows.RejectWrongStage, "the deposit has ended and takes no more actions")
	}
	return err
}

// ---- categories ----

// DepositCategoryRequest is what a category asks its suppliers to hold.
type DepositCategoryRequest struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount_minor"`
}

func (s *Server) putDepositCategory(c echo.Context) error {
	var r DepositCategoryRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	cat, err := s.deposits.SetCategory(c.Request().Context(), c.Param("category"), r.Currency, r.Amount, principal(c).UserID)
	if err != nil {
		return depositErr(err)
	}
	return c.JSON(http.StatusOK, cat)
}

func (s *Server) getDepositCategory(c echo.Context) error {
	cat, err := s.deposits.Category(c.Request().Context(), c.Param("category"))
	if err != nil {
		return depositErr(err)
	}
	return c.JSON(http.StatusOK, cat)
}

func (s *Server) listDepositCategories(c echo.Context) error {
	cats, err := s.deposits.Categories(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"categories": nonNil(cats)})
}

func (s *Server) deleteDepositCategory(c echo.Context) error {
	cat := c.Param("category")
	if err := s.deposits.DeleteCategory(c.Request().Context(), cat); err != nil {
		return depositErr(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": cat, "deleted": true})
}

// ---- deposits ----

// PayDepositRequest names the currency whose deposit the supplier pays:
// as much as the category asking the most in it.
type PayDepositRequest struct {
	Currency string `json:"currency"`
}

// PayDeposit starts supplier p's deposit in currency and answers it as it
// stands once the charge has an outcome (or still pending, if the
// provider confirms later).
func (s *Server) PayDeposit(ctx context.Context, p Principal, currency string) (deposits.Deposit, error) {
	in, err := s.deposits.Start(ctx, p.OrgID, p.UserID, currency)
	if err != nil {
		return deposits.Deposit{}, depositErr(err)
	}
	in.PollEvery = s.depositPoll
	id := uuid.MustParse(in.ID)
	wf := s.deals.For(depositWorkflow())
	if _, err := wf.StartWith(ctx, in.ID, in); err != nil {
		if werr := s.deposits.Withdraw(context.WithoutCancel(ctx), id, "the deposit's workflow did not start"); werr != nil {
			s.logger.Error("a deposit whose workflow did not start was not withdrawn", "deposit", in.ID, "error", werr)
		}
		return deposits.Deposit{}, err
	}
	var st workflows.DepositStatus
	if err := wf.Act(ctx, in.ID, workflows.UpdateDepositOutcome, "", struct{}{}, &st); err != nil && !errors.Is(err, deals.ErrClosed) {
		// The deposit goes on; its status is read from the database.
		s.logger.Warn("the outcome of a deposit's charge was not awaited", "deposit", in.ID, "error", err)
	}
	d, err := s.deposits.Get(ctx, id)
	if err == nil && d.PaymentID == "" {
		d.Provider, d.PaymentID = st.Provider, st.PaymentID // booked once held
	}
	return d, depositErr(err)
}

// Deposit is deposit id as p may see it: its supplier's own, or any for
// admin, finance and mediators; another supplier's is not found, never
// confirmed.
func (s *Server) Deposit(ctx context.Context, p Principal, id uuid.UUID) (deposits.Deposit, error) {
	d, err := s.deposits.Get(ctx, id)
	if err == nil && !slices.Contains(depositReaders, p.Role) && d.OrgID != p.OrgID {
		err = deposits.ErrNotFound
	}
	return d, depositErr(err)
}

// Deposits are the deposits p may see, newest first.
func (s *Server) Deposits(ctx context.Context, p Principal) ([]deposits.Deposit, error) {
	org := p.OrgID
	if slices.Contains(depositReaders, p.Role) {
		org = uuid.Nil
	}
	return s.deposits.List(ctx, org)
}

// ReturnDeposit asks for supplier p's deposit id back: refused while the
// supplier has a deal running.
func (s *Server) ReturnDeposit(ctx context.Context, p Principal, id uuid.UUID, updateID string) (deposits.Deposit, error) {
	d, err := s.Deposit(ctx, p, id)
	if err != nil {
		return d, err
	}
	if d.Status == activities.DepositHeld {
		// Said here with the deals that stand in the way; the workflow
		// checks again as it marks the deposit returning.
		running, err := s.deposits.RunningDeals(ctx, p.OrgID)
		if err != nil {
			return d, err
		}
		if len(running) > 0 {
			return d, depositErr(deposits.NotInGoodStanding(running))
		}
	}
	var st workflows.DepositStatus
	if err := s.deals.For(depositWorkflow()).Act(ctx, id.String(), workflows.UpdateReturnDeposit, updateID,
		workflows.DepositReturnRequest{Actor: p.Actor()}, &st); err != nil {
		return d, depositErr(err)
	}
	d, err = s.deposits.Get(ctx, id)
	return d, depositErr(err)
}

// ForfeitDepositRequest is a mediator's decision on a proven fraud.
type ForfeitDepositRequest struct {
	Amount int64  `json:"amount_minor"`
	Reason string `json:"reason"`
	DealID string `json:"deal_id"`
}

// ForfeitDeposit forfeits part or all of deposit id by mediator p's
// decision on the fraud of deal r.DealID, which the deposit's supplier
// must have taken part in.
func (s *Server) ForfeitDeposit(ctx context.Context, p Principal, id uuid.UUID, r ForfeitDepositRequest, updateID string) (deposits.Deposit, error) {
	req := workflows.DepositForfeitRequest{Actor: p.Actor(), Amount: r.Amount, Reason: r.Reason, DealID: r.DealID}
	if err := req.Validate(); err != nil {
		return deposits.Deposit{}, err
	}
	d, err := s.Deposit(ctx, p, id)
	if err != nil {
		return d, err
	}
	party, err := s.deposits.PartyOf(ctx, r.DealID, d.OrgID)
	if err != nil {
		return d, err
	}
	if !party {
		return d, depositErr(deposits.ErrNotParty)
	}
	var st workflows.DepositStatus
	if err := s.deals.For(depositWorkflow()).Act(ctx, id.String(), workflows.UpdateForfeitDeposit, updateID, req, &st); err != nil {
		return d, depositErr(err)
	}
	d, err = s.deposits.Get(ctx, id)
	return d, depositErr(err)
}

// checkQuoteDeposit refuses supplier p's quote on deal id when the deal's
// category asks for a security deposit p does not hold.
func (s *Server) checkQuoteDeposit(ctx context.Context, p Principal, id string) error {
	if s.deposits == nil || p.Role != workflows.RoleSupplier {
		return nil
	}
	need, err := s.deposits.Need(ctx, id, p.OrgID)
	if err != nil || need == nil {
		return err
	}
	e := apiErr(http.StatusConflict, "deposit_required",
		"category %s asks its suppliers to hold a security deposit of %s before they quote; you hold %s: pay it with POST /v1/deposits {\"currency\": %q}",
		need.Category, money.Format(need.Required, need.Currency), money.Format(need.Held, need.Currency), need.Currency)
	e.Details = map[string]any{"category": need.Category, "currency": need.Currency, "required_minor": need.Required, "held_minor": need.Held}
	return e
}

// ---- the routes ----

func depositID(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("did"))
	if err != nil {
		return uuid.Nil, apiErr(http.StatusNotFound, "item_not_found", "no such deposit")
	}
	return id, nil
}

func (s *Server) payDeposit(c echo.Context) error {
	var r PayDepositRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	d, err := s.PayDeposit(c.Request().Context(), principal(c), r.Currency)
	if err != nil {
		return err
	}
	out := PaidDeposit{Deposit: d}
	secret, err := s.awaitingSecret(c.Request().Context(), d.Provider, d.PaymentID, d.Status == activities.DepositPending)
	if err != nil {
		return err
	}
	if secret != "" {
		// Not in the response kept for a repeat of this request.
		if err := keepWithoutSecret(c, PaidDeposit{Deposit: d, SecretWithheld: secretWithheld}); err != nil {
			return err
		}
		out.ClientSecret = secret
	}
	return c.JSON(http.StatusCreated, out)
}

// PaidDeposit is a deposit just paid, with the client secret the
// supplier's client needs to complete a charge pending at Stripe.
type PaidDeposit struct {
	deposits.Deposit
	ClientSecret   string `json:"client_secret,omitempty"`
	SecretWithheld string `json:"secret_withheld,omitempty"`
}

func (s *Server) listDeposits(c echo.Context) error {
	ds, err := s.Deposits(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"deposits": nonNil(ds)})
}

func (s *Server) getDeposit(c echo.Context) error {
	id, err := depositID(c)
	if err != nil {
		return err
	}
	d, err := s.Deposit(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) returnDeposit(c echo.Context) error {
	id, err := depositID(c)
	if err != nil {
		return err
	}
	if err := decode(c, &struct{}{}); err != nil {
		return err
	}
	d, err := s.ReturnDeposit(c.Request().Context(), principal(c), id, updateID(c, workflows.UpdateReturnDeposit))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) forfeitDeposit(c echo.Context) error {
	id, err := depositID(c)
	if err != nil {
		return err
	}
	var r ForfeitDepositRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	d, err := s.ForfeitDeposit(c.Request().Context(), principal(c), id, r, updateID(c, workflows.UpdateForfeitDeposit))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}
