package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/internal/watchlist"
)

// Watching is the buyers' watchlist, through the API's own rules.
type Watching struct {
	// Follow follows a product's price at quantity (0: its MOQ), alerted
	// at a drop of dropBP basis points (0: the default), or a category;
	// a *Refused names the field.
	Follow func(ctx context.Context, w signin.Who, product, category string, quantity int64, dropBP int) (watchlist.Watch, error)
	// List is w's watches.
	List func(ctx context.Context, w signin.Who) ([]watchlist.Watch, error)
	// Unfollow removes one of w's watches, or ErrNotFound.
	Unfollow func(ctx context.Context, w signin.Who, id uuid.UUID) error
}

// watchesData is the watchlist page's.
type watchesData struct {
	Watches []watchlist.Watch
	// Via is the platform's link the buyer came by (a reactivation
	// message): its product links carry it, so the funnel credits it.
	Via marketplace.Channel
}

func (c *Console) watches(ec echo.Context) error {
	list, err := c.d.Watching.List(ec.Request().Context(), who(ec))
	if err != nil {
		return err
	}
	via, ok := marketplace.ParseChannel(ec.QueryParam("via"))
	if !ok {
		via = marketplace.ChannelDirect
	}
	return c.render(ec, http.StatusOK, "watches", "", watchesData{Watches: list, Via: via})
}

// reactivated is a reactivation message's link: it records the click and
// shows the buyer what it follows, its product links credited to the
// message.
func (c *Console) reactivated(ec echo.Context) error {
	id, err := uuid.Parse(ec.Param("mid"))
	if err != nil {
		return ErrNotFound
	}
	if err := c.d.Reactivated(ec.Request().Context(), who(ec), id); err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/watches?via="+string(marketplace.ChannelReactivation))
}

// followProduct follows the product page's price at the buyer's quantity
// and threshold (a percentage), or shows the page again with what is
// wrong at its field.
func (c *Console) followProduct(ec echo.Context) error {
	w := who(ec)
	data, err := c.productPage(ec)
	if err != nil {
		return err
	}
	for _, f := range []string{"watch_quantity", "drop_percent"} {
		data.Form[f] = strings.TrimSpace(ec.FormValue(f))
	}
	data.Form["quantity"] = strconv.FormatInt(data.Product.MOQ, 10)
	bad := func(field, msg string) error {
		data.Field, data.Error = field, msg
		return c.render(ec, http.StatusUnprocessableEntity, "product", data.Product.Name, data)
	}
	var qty int64
	if v := data.Form["watch_quantity"]; v != "" {
		if qty, err = strconv.ParseInt(strings.ReplaceAll(v, ",", ""), 10, 64); err != nil || qty < 1 {
			return bad("watch_quantity", say(w, "console.act.quantity.bad", nil))
		}
	}
	var drop int64
	if v := data.Form["drop_percent"]; v != "" {
		// A percentage with up to two decimals is a whole number of basis
		// points: read as an amount of a two-decimal currency.
		if drop, err = money.Parse(v, "USD"); err != nil || drop < 1 || drop > watchlist.MaxDropBP {
			return bad("drop_percent", say(w, "console.watch.drop.bad", nil))
		}
	}
	_, err = c.d.Watching.Follow(ec.Request().Context(), w, data.Product.ID.String(), "", qty, int(drop))
	var r *Refused
	if errors.As(err, &r) {
		field := map[string]string{"quantity": "watch_quantity", "drop_bp": "drop_percent"}[r.Field]
		return bad(field, say(w, "console.act.refused", r.Message))
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/watches")
}

// followCategory follows a category's new suppliers.
func (c *Console) followCategory(ec echo.Context) error {
	_, err := c.d.Watching.Follow(ec.Request().Context(), who(ec), "", strings.TrimSpace(ec.FormValue("category")), 0, 0)
	var r *Refused
	if errors.As(err, &r) {
		return c.fail(ec, http.StatusUnprocessableEntity, "console.watch.category.bad")
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/watches")
}

func (c *Console) unfollow(ec echo.Context) error {
	id, err := uuid.Parse(ec.Param("wid"))
	if err != nil {
		return ErrNotFound
	}
	if err := c.d.Watching.Unfollow(ec.Request().Context(), who(ec), id); err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/watches")
}
