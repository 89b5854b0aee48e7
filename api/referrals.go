package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/referral"
)

// Referrals is a buyer organization's referral link, what a referral
// earns, the organizations it referred and its coupons.
type Referrals struct {
	Code string `json:"code"`
	// Link is the console page a referred organization's user claims the
	// referral on.
	Link string `json:"link"`
	// RewardBP is what a coupon is worth, in basis points of the referred
	// organization's first completed deal; a coupon may be used for
	// CouponValidDays from its issue.
	RewardBP        int64               `json:"reward_bp"`
	CouponValidDays int                 `json:"coupon_valid_days"`
	Referred        []referral.Referred `json:"referred"`
	Coupons         []referral.Coupon   `json:"coupons"`
}

func (s *Server) getReferrals(c echo.Context) error {
	r, err := s.Referrals(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// Referrals answers buyer p's organization's referrals and coupons.
func (s *Server) Referrals(ctx context.Context, p Principal) (Referrals, error) {
	sum, err := s.referrals.Summary(ctx, p.OrgID, time.Now())
	if err != nil {
		return Referrals{}, err
	}
	cfg := s.referrals.Config()
	return Referrals{
		Code: sum.Code, Link: referral.Link(s.publicURL, sum.Code), RewardBP: cfg.RewardBP,
		CouponValidDays: int(cfg.ValidFor / (24 * time.Hour)), Referred: sum.Referred, Coupons: sum.Coupons,
	}, nil
}

// ClaimReferralRequest names the referral code a new organization was
// given.
type ClaimReferralRequest struct {
	Code string `json:"code"`
}

// ReferralClaim is the organization that referred the caller's.
type ReferralClaim struct {
	Referrer string `json:"referrer"`
}

func (s *Server) claimReferral(c echo.Context) error {
	var r ClaimReferralRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	out, err := s.ClaimReferral(c.Request().Context(), principal(c), r.Code)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

// ClaimReferral records that buyer p's organization was referred by the
// owner of code (claimReferral, and the console's join page).
func (s *Server) ClaimReferral(ctx context.Context, p Principal, code string) (ReferralClaim, error) {
	referrer, err := s.referrals.Claim(ctx, code, p.OrgID, p.UserID)
	switch {
	case errors.Is(err, referral.ErrUnknownCode):
		return ReferralClaim{}, invalid("code", "no organization has this referral code")
	case errors.Is(err, referral.ErrOwnCode):
		return ReferralClaim{}, invalid("code", "this is your own organization's referral code")
	case errors.Is(err, referral.ErrAlreadyReferred):
		return ReferralClaim{}, apiErr(http.StatusConflict, "already_referred", "your organization was referred before: a referral is claimed once")
	case errors.Is(err, referral.ErrHasDeals):
		return ReferralClaim{}, apiErr(http.StatusConflict, "has_deals", "your organization has deals already: only a new organization can be referred")
	case err != nil:
		return ReferralClaim{}, err
	}
	name, err := s.orgName(ctx, referrer)
	return ReferralClaim{Referrer: name}, err
}

// ReferrerName is the name of the organization whose referral code code
// is, or referral.ErrUnknownCode.
func (s *Server) ReferrerName(ctx context.Context, code string) (string, error) {
	org, err := s.referrals.Referrer(ctx, code)
	if err != nil {
		return "", err
	}
	return s.orgName(ctx, org)
}

func (s *Server) orgName(ctx context.Context, org uuid.UUID) (string, error) {
	names, err := s.identity.OrgNames(ctx, org.String())
	if err != nil {
		return "", fmt.Errorf("name of organization %s: %w", org, err)
	}
	return names[org.String()], nil
}
