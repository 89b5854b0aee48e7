package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/console"
	"github.com/tradeloop/tradeloop/internal/deals"
	"github.com/tradeloop/tradeloop/internal/gold"
	"github.com/tradeloop/tradeloop/workflows"
)

// goldWorkflow is the deals client's calls for Gold certifications.
func goldWorkflow() deals.Workflow {
	return deals.Workflow{Name: workflows.GoldWorkflowName, ID: workflows.GoldWorkflowID}
}

// goldErr maps the Gold service's errors to the API's.
func goldErr(err error) error {
	switch {
	case errors.Is(err, gold.ErrNotFound):
		return apiErr(http.StatusNotFound, "item_not_found", "you have no Gold certification: ask for one with POST /v1/gold")
	case errors.Is(err, gold.ErrNotVerified):
		return apiErr(http.StatusConflict, "not_verified", "%v: upload your documents (POST /v1/verification/documents) and submit them for verification (POST /v1/verification/submit) first", err)
	case errors.Is(err, gold.ErrLive):
		return apiErr(http.StatusConflict, "gold_exists", "%v: see it with GET /v1/gold", err)
	case errors.Is(err, gold.ErrTooMany):
		return apiErr(http.StatusConflict, workflows.RejectLimit, "%v", err)
	case errors.Is(err, deals.ErrClosed):
		return apiErr(http.StatusConflict, workflows.RejectWrongStage, "the Gold certification has ended and takes no more actions: ask for a new one with POST /v1/gold")
	}
	return err
}

// GoldPayment is a certification just asked for or paid, with the charge
// the supplier's client is to confirm and, at Stripe, its client secret.
type GoldPayment struct {
	gold.Certification
	Provider       string `json:"provider,omitempty"`
	PaymentID      string `json:"payment_id,omitempty"`
	Awaiting       bool   `json:"awaiting_payment"`
	ClientSecret   string `json:"client_secret,omitempty"`
	SecretWithheld string `json:"secret_withheld,omitempty"`
}

// GoldAutoRenewRequest turns the renewal of the caller's certification
// off or on.
type GoldAutoRenewRequest struct {
	AutoRenew *bool `json:"auto_renew"`
}

// Gold is supplier p's Gold page.
func (s *Server) Gold(ctx context.Context, p Principal) (gold.Overview, error) {
	return s.gold.Overview(ctx, p.OrgID, s.goldPolicy)
}

// AskForGold starts supplier p's Gold certification and answers it once
// its first charge has an outcome, or awaits the supplier's client.
func (s *Server) AskForGold(ctx context.Context, p Principal) (GoldPayment, error) {
	in, err := s.gold.Start(ctx, p.OrgID, p.UserID)
	if err != nil {
		return GoldPayment{}, goldErr(err)
	}
	in.Policy = s.goldPolicy
	id := uuid.MustParse(in.ID)
	wf := s.deals.For(goldWorkflow())
	if _, err := wf.StartWith(ctx, in.ID, in); err != nil {
		if werr := s.gold.Withdraw(context.WithoutCancel(ctx), id, "the certification's workflow did not start"); werr != nil {
			s.logger.Error("a Gold certification whose workflow did not start was not withdrawn", "certification", in.ID, "error", werr)
		}
		return GoldPayment{}, err
	}
	var st workflows.GoldStatus
	if err := wf.Act(ctx, in.ID, workflows.UpdateGoldOutcome, "", struct{}{}, &st); err != nil && !errors.Is(err, deals.ErrClosed) {
		// The certification goes on; its status is read from the database.
		s.logger.Warn("the outcome of a Gold certification's charge was not awaited", "certification", in.ID, "error", err)
	}
	return s.goldPayment(ctx, id, st)
}

func (s *Server) goldPayment(ctx context.Context, id uuid.UUID, st workflows.GoldStatus) (GoldPayment, error) {
	c, err := s.gold.Get(ctx, id)
	if err != nil {
		return GoldPayment{}, goldErr(err)
	}
	return GoldPayment{Certification: c, Provider: st.Provider, PaymentID: st.PaymentID, Awaiting: st.Awaiting}, nil
}

// liveGold is supplier p's live certification: a 404 when it has none, a
// 409 when its latest has ended.
func (s *Server) liveGold(ctx context.Context, p Principal) (gold.Certification, error) {
	c, err := s.gold.Latest(ctx, p.OrgID)
	if err != nil {
		return c, goldErr(err)
	}
	if !c.Live() {
		return c, apiErr(http.StatusConflict, workflows.RejectWrongStage, "your Gold certification is %s: ask for a new one with POST /v1/gold", c.Status)
	}
	return c, nil
}

// SetGoldAutoRenew stops or resumes the renewal of supplier p's
// certification.
func (s *Server) SetGoldAutoRenew(ctx context.Context, p Principal, on bool, updateID string) (gold.Certification, error) {
	c, err := s.liveGold(ctx, p)
	if err != nil {
		return c, err
	}
	var st workflows.GoldStatus
	if err := s.deals.For(goldWorkflow()).Act(ctx, c.ID.String(), workflows.UpdateGoldAutoRenew, updateID,
		workflows.GoldAutoRenewRequest{Actor: p.Actor(), AutoRenew: on}, &st); err != nil {
		return c, goldErr(err)
	}
	c, err = s.gold.Get(ctx, c.ID)
	return c, goldErr(err)
}

// PayGold makes the charge of supplier p's past-due year, which its
// client confirms; asking again answers the same charge.
func (s *Server) PayGold(ctx context.Context, p Principal, updateID string) (GoldPayment, error) {
	c, err := s.liveGold(ctx, p)
	if err != nil {
		return GoldPayment{}, err
	}
	var st workflows.GoldStatus
	if err := s.deals.For(goldWorkflow()).Act(ctx, c.ID.String(), workflows.UpdateGoldPay, updateID,
		workflows.GoldPayRequest{Actor: p.Actor()}, &st); err != nil {
		return GoldPayment{}, goldErr(err)
	}
	return s.goldPayment(ctx, c.ID, st)
}

// ---- the routes ----

func (s *Server) getGold(c echo.Context) error {
	g, err := s.Gold(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}

// goldCheckout is what the console needs of a Gold charge: the
// certification, and the checkout of a charge waiting at Stripe.
func (s *Server) goldCheckout(ctx context.Context, g GoldPayment, err error, logger *slog.Logger) (gold.Certification, *console.Checkout, error) {
	if err != nil {
		return g.Certification, nil, forConsole(err, logger)
	}
	secret, err := s.awaitingSecret(ctx, g.Provider, g.PaymentID, g.Awaiting)
	if err != nil || secret == "" {
		return g.Certification, nil, forConsole(err, logger)
	}
	return g.Certification, &console.Checkout{ClientSecret: secret, PublishableKey: s.publishableKey}, nil
}

// answerGoldPayment answers a charge with its client secret, if it needs
// one, kept out of the response kept for a repeat of the request.
func (s *Server) answerGoldPayment(c echo.Context, status int, g GoldPayment) error {
	secret, err := s.awaitingSecret(c.Request().Context(), g.Provider, g.PaymentID, g.Awaiting)
	if err != nil {
		return err
	}
	if secret != "" {
		kept := g
		kept.SecretWithheld = secretWithheld
		if err := keepWithoutSecret(c, kept); err != nil {
			return err
		}
		g.ClientSecret = secret
	}
	return c.JSON(status, g)
}

func (s *Server) askForGold(c echo.Context) error {
	if err := decode(c, &struct{}{}); err != nil {
		return err
	}
	g, err := s.AskForGold(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return s.answerGoldPayment(c, http.StatusCreated, g)
}

func (s *Server) setGoldAutoRenew(c echo.Context) error {
	var r GoldAutoRenewRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	if r.AutoRenew == nil {
		return apiErr(http.StatusUnprocessableEntity, workflows.RejectInvalid, "auto_renew: true or false is required")
	}
	g, err := s.SetGoldAutoRenew(c.Request().Context(), principal(c), *r.AutoRenew, updateID(c, workflows.UpdateGoldAutoRenew))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, g)
}

func (s *Server) payGold(c echo.Context) error {
	if err := decode(c, &struct{}{}); err != nil {
		return err
	}
	g, err := s.PayGold(c.Request().Context(), principal(c), updateID(c, workflows.UpdateGoldPay))
	if err != nil {
		return err
	}
	return s.answerGoldPayment(c, http.StatusOK, g)
}

func (s *Server) listGold(c echo.Context) error {
	cs, err := s.gold.List(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"certifications": nonNil(cs)})
}
