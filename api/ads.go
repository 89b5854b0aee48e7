package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/ads"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/workflows"
)

// AdRequest makes a search ad: a keyword for one of the caller's
// products, the most it pays per click and per UTC day (minor units of
// the product's currency), and whether it runs (true unless false).
type AdRequest struct {
	ProductID   string `json:"product_id"`
	Keyword     string `json:"keyword"`
	MaxCPC      int64  `json:"max_cpc"`
	DailyBudget int64  `json:"daily_budget"`
	Active      *bool  `json:"active"`
}

// AdChange changes an ad's bid, budget or state; a field left out keeps
// its value.
type AdChange struct {
	MaxCPC      *int64 `json:"max_cpc"`
	DailyBudget *int64 `json:"daily_budget"`
	Active      *bool  `json:"active"`
}

// AdClickRequest is a click on a sponsored result: the token its search
// gave.
type AdClickRequest struct {
	Token string `json:"token"`
}

// SearchPage is a page of products found, with the sponsored results
// above them on the first page.
type SearchPage struct {
	marketplace.Page
	Sponsored []ads.Sponsored `json:"sponsored"`
}

// adErr maps the ads' errors to API errors.
func adErr(err error) error {
	var fe *ads.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return invalid(fe.Field, "%s", fe.Message)
	case errors.Is(err, ads.ErrTooMany):
		return apiErr(http.StatusUnprocessableEntity, "too_many", "%v: delete some first", err)
	case errors.Is(err, ads.ErrNotFound):
		return apiErr(http.StatusNotFound, "item_not_found", "no such ad")
	case errors.Is(err, ads.ErrBadToken):
		return invalid("token", "%v: use the link of a search of yours from the last hour", err)
	}
	return err
}

func adID(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("aid"))
	if err != nil {
		return id, apiErr(http.StatusNotFound, "item_not_found", "no such ad")
	}
	return id, nil
}

func (s *Server) createAd(c echo.Context) error {
	var req AdRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	a, err := s.CreateAd(c.Request().Context(), principal(c), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

// CreateAd is createAd for callers other than the API's handlers (the
// console).
func (s *Server) CreateAd(ctx context.Context, p Principal, req AdRequest) (ads.Ad, error) {
	product, err := uuid.Parse(req.ProductID)
	if err != nil {
		return ads.Ad{}, invalid("product_id", "is one of your products' IDs")
	}
	a, err := s.ads.Create(ctx, p.OrgID, ads.NewAd{ProductID: product, Keyword: req.Keyword, MaxCPC: req.MaxCPC,
		DailyBudget: req.DailyBudget, Active: req.Active})
	return a, adErr(err)
}

func (s *Server) listAds(c echo.Context) error {
	list, err := s.ads.List(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"ads": list})
}

func (s *Server) getAd(c echo.Context) error {
	id, err := adID(c)
	if err != nil {
		return err
	}
	a, err := s.ads.Get(c.Request().Context(), principal(c).OrgID, id)
	if err != nil {
		return adErr(err)
	}
	return c.JSON(http.StatusOK, a)
}

func (s *Server) updateAd(c echo.Context) error {
	id, err := adID(c)
	if err != nil {
		return err
	}
	var req AdChange
	if err := decode(c, &req); err != nil {
		return err
	}
	a, err := s.UpdateAd(c.Request().Context(), principal(c), id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

// UpdateAd is updateAd for the console.
func (s *Server) UpdateAd(ctx context.Context, p Principal, id uuid.UUID, req AdChange) (ads.Ad, error) {
	a, err := s.ads.Update(ctx, p.OrgID, id, ads.Change{MaxCPC: req.MaxCPC, DailyBudget: req.DailyBudget, Active: req.Active})
	return a, adErr(err)
}

func (s *Server) deleteAd(c echo.Context) error {
	id, err := adID(c)
	if err != nil {
		return err
	}
	if err := adErr(s.ads.Delete(c.Request().Context(), principal(c).OrgID, id)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "deleted": true})
}

func (s *Server) clickAd(c echo.Context) error {
	id, err := adID(c)
	if err != nil {
		return err
	}
	var req AdClickRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	click, err := s.ClickAd(c.Request().Context(), principal(c), id, req.Token)
	if err != nil {
		return err
	}
	// What the click was charged is the supplier's business, not the
	// buyer's: the answer is where to go.
	return c.JSON(http.StatusOK, map[string]any{"click_id": click.ID, "product_id": click.ProductID,
		"url": "/v1/products/" + click.ProductID.String()})
}

// ClickAd records p's click on ad with the token of p's search.
func (s *Server) ClickAd(ctx context.Context, p Principal, ad uuid.UUID, token string) (ads.Click, error) {
	click, err := s.ads.Click(ctx, adViewer(p), ad, token)
	return click, adErr(err)
}

func adViewer(p Principal) ads.Viewer {
	return ads.Viewer{User: p.UserID, Org: p.OrgID, Buyer: p.Role == workflows.RoleBuyer}
}

// Sponsored is the auction of search p's first page for viewer pr, given
// its organic results: ads never fail a search, so a failure is logged
// and the page shows none.
func (s *Server) Sponsored(ctx context.Context, pr Principal, p marketplace.SearchParams, page marketplace.Page) []ads.Sponsored {
	first := uuid.Nil
	if len(page.Items) > 0 {
		first = page.Items[0].ID
	}
	shown, err := s.ads.Auction(ctx, p, first, adViewer(pr))
	if err != nil {
		s.logger.Warn("the ad auction failed: the search shows no ads", "err", err)
		return []ads.Sponsored{}
	}
	if shown == nil {
		shown = []ads.Sponsored{}
	}
	return shown
}
