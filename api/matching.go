package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/matching"
)

// Matches is a buyer's profile and the offers that match it.
type Matches struct {
	Profile matching.Profile `json:"profile"`
	Offers  []matching.Offer `json:"offers"`
}

func (s *Server) setBuyerProfile(c echo.Context) error {
	var p matching.Profile
	if err := decode(c, &p); err != nil {
		return err
	}
	m, err := s.SetBuyerProfile(c.Request().Context(), principal(c), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// SetBuyerProfile keeps what buyer p's organization buys and sends it the
// offers that match (setBuyerProfile, for the console too).
func (s *Server) SetBuyerProfile(ctx context.Context, p Principal, profile matching.Profile) (Matches, error) {
	saved, offers, err := s.matching.Save(ctx, p.OrgID, profile)
	if err != nil {
		return Matches{}, matchErr(err)
	}
	return Matches{Profile: saved, Offers: offers}, nil
}

func (s *Server) getBuyerProfile(c echo.Context) error {
	m, err := s.BuyerProfile(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// BuyerProfile is what buyer p's organization buys and the offers that
// match it now.
func (s *Server) BuyerProfile(ctx context.Context, p Principal) (Matches, error) {
	profile, offers, err := s.matching.Of(ctx, p.OrgID)
	if err != nil {
		return Matches{}, matchErr(err)
	}
	return Matches{Profile: profile, Offers: offers}, nil
}

// matchErr maps the matching's errors to API errors.
func matchErr(err error) error {
	var fe *matching.FieldError
	switch {
	case errors.As(err, &fe):
		return invalid(fe.Field, "%s", fe.Message)
	case errors.Is(err, matching.ErrNoProfile):
		return apiErr(http.StatusNotFound, "item_not_found", "the organization has not said what it buys: PUT its profile first")
	}
	return err
}
