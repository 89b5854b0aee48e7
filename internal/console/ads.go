package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/ads"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/signin"
)

// Advertising is the search ads, through the API's own rules.
type Advertising struct {
	// Sponsored is the sponsored results of search p's first page for who,
	// given its organic page (none when the auction fails).
	Sponsored func(ctx context.Context, who signin.Who, p marketplace.SearchParams, page marketplace.Page) []ads.Sponsored
	// Click records who's click on ad with the token of its search, or a
	// *Refused (a token not its own), or ErrNotFound.
	Click func(ctx context.Context, who signin.Who, ad uuid.UUID, token string) (ads.Click, error)
	// List is who's organization's ads with their figures.
	List func(ctx context.Context, who signin.Who) ([]ads.Ad, error)
	// Create makes an ad, or a *Refused naming the field.
	Create func(ctx context.Context, who signin.Who, product, keyword string, maxCPC, dailyBudget int64) (ads.Ad, error)
	// SetActive pauses or resumes an ad, or ErrNotFound.
	SetActive func(ctx context.Context, who signin.Who, id uuid.UUID, active bool) error
	// Delete deletes an ad, or ErrNotFound.
	Delete func(ctx context.Context, who signin.Who, id uuid.UUID) error
}

// adsData is the supplier's ads page's: its ads with their figures, its
// products to advertise, and the form to add one.
type adsData struct {
	formState
	Ads      []ads.Ad
	Products []marketplace.Product
}

func (c *Console) adsPage(ec echo.Context, status int, data adsData) error {
	ctx := ec.Request().Context()
	w := who(ec)
	var err error
	if data.Ads, err = c.d.Advertising.List(ctx, w); err != nil {
		return err
	}
	if data.Products, err = c.d.Market.Catalog(ctx, w.OrgID); err != nil {
		return err
	}
	return c.render(ec, status, "ads", "", data)
}

func (c *Console) ads(ec echo.Context) error {
	return c.adsPage(ec, http.StatusOK, adsData{formState: formState{Form: map[string]string{}}})
}

// createAd adds an ad from the form: prices typed as people write them
// in the product's currency.
func (c *Console) createAd(ec echo.Context) error {
	ctx := ec.Request().Context()
	w := who(ec)
	data := adsData{formState: formState{Form: map[string]string{}}}
	for _, f := range []string{"product_id", "keyword", "max_cpc", "daily_budget"} {
		data.Form[f] = strings.TrimSpace(ec.FormValue(f))
	}
	bad := func(field, msg string) error {
		data.Field, data.Error = field, msg
		return c.adsPage(ec, http.StatusUnprocessableEntity, data)
	}
	id, err := uuid.Parse(data.Form["product_id"])
	if err != nil {
		return bad("product_id", say(w, "console.ads.product.bad", nil))
	}
	p, err := c.d.Market.Product(ctx, id)
	if err != nil || p.SupplierID != w.OrgID {
		return bad("product_id", say(w, "console.ads.product.bad", nil))
	}
	amounts := map[string]int64{}
	for _, f := range []string{"max_cpc", "daily_budget"} {
		n, err := money.Parse(data.Form[f], p.Currency)
		if err != nil || n < 1 {
			return bad(f, say(w, "console.act.amount.bad", money.Format(390, p.Currency)))
		}
		amounts[f] = n
	}
	_, err = c.d.Advertising.Create(ctx, w, id.String(), data.Form["keyword"], amounts["max_cpc"], amounts["daily_budget"])
	var r *Refused
	if errors.As(err, &r) {
		field := r.Field
		if field == "" {
			field = "keyword"
		}
		return bad(field, say(w, "console.act.refused", r.Message))
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/ads")
}

func (c *Console) setAdActive(active bool) echo.HandlerFunc {
	return func(ec echo.Context) error {
		id, err := uuid.Parse(ec.Param("aid"))
		if err != nil {
			return ErrNotFound
		}
		if err := c.d.Advertising.SetActive(ec.Request().Context(), who(ec), id, active); err != nil {
			return err
		}
		return ec.Redirect(http.StatusSeeOther, Root+"/ads")
	}
}

func (c *Console) deleteAd(ec echo.Context) error {
	id, err := uuid.Parse(ec.Param("aid"))
	if err != nil {
		return ErrNotFound
	}
	if err := c.d.Advertising.Delete(ec.Request().Context(), who(ec), id); err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/ads")
}

// adClick is a sponsored result's link: the click is recorded (and
// charged when it should be) and the product's page opens. A link that
// is not the viewer's is a page not found.
func (c *Console) adClick(ec echo.Context) error {
	id, err := uuid.Parse(ec.Param("aid"))
	if err != nil {
		return ErrNotFound
	}
	click, err := c.d.Advertising.Click(ec.Request().Context(), who(ec), id, ec.QueryParam("t"))
	var r *Refused
	if errors.As(err, &r) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/products/"+click.ProductID.String())
}
