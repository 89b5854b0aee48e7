package console

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/referral"
	"github.com/tradeloop/tradeloop/internal/signin"
)

// Referring is the buyers' referrals, through the API's own rules.
type Referring struct {
	// Summary is w's organization's referral link, what a referral earns,
	// the organizations it referred and its coupons.
	Summary func(ctx context.Context, w signin.Who) (Referrals, error)
	// Referrer is the name of the organization a code is, or ErrNotFound.
	Referrer func(ctx context.Context, code string) (string, error)
	// Claim records that w's organization was referred by code's; a
	// *Refused says why not.
	Claim func(ctx context.Context, w signin.Who, code string) (referrer string, err error)
	// Next is what is left on the coupon w's organization's next deposit
	// in currency would use (0: none).
	Next func(ctx context.Context, w signin.Who, currency string) (int64, error)
}

// Referrals is what the referrals page shows.
type Referrals struct {
	Link string
	// RewardBP is a coupon's worth in basis points of the deal that earns
	// it; ValidDays how long it may be used.
	RewardBP  int
	ValidDays int
	Referred  []referral.Referred
	Coupons   []referral.Coupon
}

func (c *Console) referrals(ec echo.Context) error {
	r, err := c.d.Referring.Summary(ec.Request().Context(), who(ec))
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "referrals", "", r)
}

// joinData is the page a referral link opens.
type joinData struct {
	Code, Referrer string
	// Claimed is set once the organization's referral is recorded; Error
	// says why it was not.
	Claimed bool
	Error   string
}

// join shows whose referral link a buyer followed, with the button that
// claims it.
func (c *Console) join(ec echo.Context) error {
	code := ec.Param("code")
	if !referral.ValidCode(code) {
		return ErrNotFound
	}
	name, err := c.d.Referring.Referrer(ec.Request().Context(), code)
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "join", "", joinData{Code: code, Referrer: name})
}

// claim records the referral. The organization's first inquiry is then
// credited to the referral in the funnel (unless a product link of
// another channel brought it).
func (c *Console) claim(ec echo.Context) error {
	w, code := who(ec), ec.Param("code")
	if !referral.ValidCode(code) {
		return ErrNotFound
	}
	name, err := c.d.Referring.Claim(ec.Request().Context(), w, code)
	var r *Refused
	if errors.As(err, &r) {
		name, nerr := c.d.Referring.Referrer(ec.Request().Context(), code)
		if nerr != nil {
			return nerr
		}
		return c.render(ec, r.Status, "join", "", joinData{Code: code, Referrer: name, Error: say(w, "console.act.refused", r.Message)})
	}
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "join", "", joinData{Code: code, Referrer: name, Claimed: true})
}
