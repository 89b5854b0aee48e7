package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/deals"
	"github.com/tradeloop/tradeloop/internal/finance"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/workflows"
)

// Finance's watch over escrow: alerts, the escrow watchdog's findings, a
// watchdog run on demand, and the operator override of a deal whose
// workflow is gone. Finance and admins only; both see every deal here.

// workflowWait bounds how long a request waits for the watchdog or an
// override to finish (the HTTP server writes for at most 60 s).
const workflowWait = 45 * time.Second

func (s *Server) listAlerts(c echo.Context) error {
	f := finance.AlertFilter{Limit: 100}
	switch c.QueryParam("status") {
	case "", "all":
	case "open", "resolved":
		open := c.QueryParam("status") == "open"
		f.Open = &open
	default:
		return invalid("status", "must be open, resolved or all")
	}
	if k := c.QueryParam("kind"); k != "" {
		if len(k) > 64 {
			return invalid("kind", "at most 64 characters")
		}
		f.Kinds = []string{k}
	}
	var err error
	if f.Limit, err = limitParam(c, finance.MaxAlerts); err != nil {
		return err
	}
	alerts, err := s.finance.Alerts(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"alerts": nonNil(alerts)})
}

func (s *Server) listEscrowFindings(c echo.Context) error {
	fs, err := s.finance.Findings(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"findings": nonNil(fs)})
}

// checkEscrow runs the escrow watchdog now and answers with its report.
func (s *Server) checkEscrow(c echo.Context) error {
	if err := decode(c, &struct{}{}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), workflowWait)
	defer cancel()
	rep, err := s.deals.CheckEscrow(ctx)
	if errors.Is(err, deals.ErrStillRunning) {
		e := apiErr(http.StatusServiceUnavailable, "unavailable", "the watchdog did not finish in time; its findings will be at GET /v1/escrow/findings")
		e.RetryAfter = 30
		return e
	}
	if err != nil {
		return err
	}
	rep.Findings = nonNil(rep.Findings)
	return c.JSON(http.StatusOK, rep)
}

// OverrideRequest is finance's or an admin's order to settle the escrow of a
// deal whose workflow is gone: refund it, release it, or split it
// (release_amount to the supplier, the rest back), with the reason.
type OverrideRequest struct {
	Outcome       string `json:"outcome"`
	ReleaseAmount int64  `json:"release_amount"`
	Reason        string `json:"reason"`
}

// OverrideResponse says whether the override has settled the deal
// ("settled", with what it moved) or is still moving money ("running";
// the deal's payments show its progress).
type OverrideResponse struct {
	DealID     string                    `json:"deal_id"`
	WorkflowID string                    `json:"workflow_id"`
	Status     string                    `json:"status"`
	Result     *workflows.OverrideResult `json:"result,omitempty"`
}

// overrideDeal checks the order against the ledger's figures, then starts
// the SettleEscrow workflow and waits for it. The deal's own workflow must
// not run; one override may settle a deal, and a failed one may be tried
// again.
func (s *Server) overrideDeal(c echo.Context) error {
	id := c.Param("id")
	if !readmodel.ValidDealID(id) {
		return errNotFound
	}
	var r OverrideRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	in := workflows.OverrideInput{DealID: id, Operator: principal(c).Actor(), Outcome: r.Outcome,
		ReleaseAmount: r.ReleaseAmount, Reason: r.Reason, RequestedAt: time.Now().UTC()}
	if err := in.Validate(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	f, err := s.finance.EscrowFigures(ctx, id)
	if errors.Is(err, activities.ErrNoSuchDeal) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	if f.Running {
		return apiErr(http.StatusConflict, workflows.RejectWrongStage, "the deal's workflow is running and settles its own escrow")
	}
	st, err := workflows.SettlementState(f)
	if err != nil {
		return apiErr(http.StatusConflict, "unreconciled", "%s", err.Error())
	}
	if st.Escrow.Held == 0 {
		return apiErr(http.StatusConflict, workflows.RejectWrongStage, "the deal holds nothing in escrow")
	}
	if _, err := in.Release(st.GoodsHeld()); err != nil {
		return err
	}

	wfID := workflows.OverrideWorkflowID(id)
	wctx, cancel := context.WithTimeout(ctx, workflowWait)
	defer cancel()
	res, err := s.deals.Override(wctx, in)
	var failed *deals.OverrideFailedError
	resp := OverrideResponse{DealID: id, WorkflowID: wfID, Status: "running"}
	switch {
	case err == nil:
		resp.Status, resp.Result = "settled", &res
	case errors.Is(err, deals.ErrStillRunning):
		// Still moving money (a provider retrying): the deal shows it.
	case errors.Is(err, deals.ErrAlreadyStarted):
		return apiErr(http.StatusConflict, "already_overridden", "an override of this deal is running or has settled it")
	case errors.As(err, &failed):
		return apiErr(http.StatusConflict, "override_failed", "the override could not settle the deal: %s (finance has an alert)", failed.Message)
	default:
		return err
	}
	return c.JSON(http.StatusOK, resp)
}

// settledByOverride is the read model's deal when an operator override has
// settled it: a deal workflow that was stopped short of its end still
// answers its query (while its history is kept), with the state it
// stopped in. Only an override makes the read model final while the
// workflow is not.
func (s *Server) settledByOverride(ctx context.Context, st workflows.DealState) workflows.DealState {
	if st.Stage.Final() {
		return st
	}
	rm, err := s.reads.Deal(ctx, st.DealID)
	if err != nil || !rm.Stage.Final() || rm.Resolution == nil || rm.Resolution.Reason != workflows.ResolutionOperatorOverride {
		return st
	}
	return rm
}
