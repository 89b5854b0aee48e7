package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/promotion"
	"github.com/tradeloop/tradeloop/internal/signin"
)

// Promoting is suppliers' paid new-product notices, through the API's own
// rules.
type Promoting struct {
	// Send tells the buyers following product's category about it, at
	// most max of them, or a *Refused.
	Send func(ctx context.Context, w signin.Who, product uuid.UUID, max int) error
	// Sent is w's notice of product, nil before it sends one.
	Sent func(ctx context.Context, w signin.Who, product uuid.UUID) (*promotion.Notice, error)
	// Fee is one notice's price in currency.
	Fee func(currency string) int64
}

// productNotice is what the product page shows its supplier of the
// product's notice: the notice sent, or the form and its price.
type productNotice struct {
	Sent *promotion.Notice
	Fee  int64
}

// sendNotice sends the product's notice, with the API's checks, and shows
// the product page again.
func (c *Console) sendNotice(ec echo.Context) error {
	w := who(ec)
	data, err := c.productPage(ec)
	if err != nil {
		return err
	}
	if data.Product.SupplierID != w.OrgID || data.Notice == nil {
		return ErrNotFound
	}
	max, err := strconv.Atoi(ec.FormValue("max_notices"))
	if err != nil {
		max = 0 // refused with the API's words below
	}
	err = c.d.Promoting.Send(ec.Request().Context(), w, data.Product.ID, max)
	var r *Refused
	if errors.As(err, &r) {
		data.Field, data.Error = "max_notices", say(w, "console.act.refused", r.Message)
		data.Form["max_notices"] = ec.FormValue("max_notices")
		return c.render(ec, r.Status, "product", data.Product.Name, data)
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/products/"+data.Product.ID.String()+"#notice")
}
