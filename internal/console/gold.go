package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/gold"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/workflows"
)

// Certifying is suppliers' Gold certification, through the API's own
// rules: each call answers a *Refused for what the API refuses.
type Certifying struct {
	// Page is supplier w's Gold page.
	Page func(ctx context.Context, w signin.Who) (gold.Overview, error)
	// List is every supplier's certifications, for finance and admins.
	List func(ctx context.Context, w signin.Who) ([]gold.Certification, error)
	// Ask starts w's certification, with what its browser needs when the
	// first charge waits for it at Stripe (nil: nothing).
	Ask func(ctx context.Context, w signin.Who) (gold.Certification, *Checkout, error)
	// AutoRenew turns the renewal of w's certification off or on.
	AutoRenew func(ctx context.Context, w signin.Who, on bool) error
	// Pay makes the charge of w's past-due year, with its checkout.
	Pay func(ctx context.Context, w signin.Who) (gold.Certification, *Checkout, error)
}

// goldData is what the Gold page shows: a supplier's own page, or every
// certification for finance and admins.
type goldData struct {
	Overview       gold.Overview
	Certifications []gold.Certification
	// Error says why the last action was refused, Done what it did.
	Error, Done string
}

func (c *Console) goldPage(ec echo.Context, status int, data goldData) error {
	ctx, w := ec.Request().Context(), who(ec)
	var err error
	if w.Role == string(workflows.RoleSupplier) {
		data.Overview, err = c.d.Certifying.Page(ctx, w)
	} else {
		data.Certifications, err = c.d.Certifying.List(ctx, w)
	}
	if err != nil {
		return err
	}
	return c.render(ec, status, "gold", "", data)
}

func (c *Console) gold(ec echo.Context) error { return c.goldPage(ec, http.StatusOK, goldData{}) }

// goldDone shows the page again after an action: what it did, or why it
// was refused; a charge waiting at Stripe goes on in Stripe's form.
func (c *Console) goldDone(ec echo.Context, cert gold.Certification, checkout *Checkout, err error, done string) error {
	var r *Refused
	if errors.As(err, &r) {
		return c.goldPage(ec, r.Status, goldData{Error: say(who(ec), "console.act.refused", r.Message)})
	}
	if err != nil {
		return err
	}
	if checkout != nil {
		return c.showCheckout(ec, &checkoutPage{Checkout: *checkout, Step: "gold", Currency: cert.Currency, Amount: cert.Fee,
			Back: Root + "/gold", BackText: "console.gold.back", ReturnURL: strings.TrimSuffix(c.d.PublicURL, "/") + Root + "/gold"})
	}
	return c.goldPage(ec, http.StatusOK, goldData{Done: done})
}

func (c *Console) askForGold(ec echo.Context) error {
	w := who(ec)
	cert, checkout, err := c.d.Certifying.Ask(ec.Request().Context(), w)
	var done string
	if err == nil {
		// What became of it: active, awaiting its payment, or failed.
		done = say(w, "console.gold.asked."+cert.Status, nil)
	}
	return c.goldDone(ec, cert, checkout, err, done)
}

func (c *Console) payGold(ec echo.Context) error {
	w := who(ec)
	cert, checkout, err := c.d.Certifying.Pay(ec.Request().Context(), w)
	return c.goldDone(ec, cert, checkout, err, say(w, "console.gold.paying", nil))
}

func (c *Console) setGoldAutoRenew(ec echo.Context) error {
	w := who(ec)
	var on bool
	switch ec.FormValue("auto_renew") {
	case "on":
		on = true
	case "off":
	default:
		return c.goldPage(ec, http.StatusUnprocessableEntity, goldData{Error: say(w, "console.gold.auto_renew.bad", nil)})
	}
	done := "console.gold.auto_renew.stopped"
	if on {
		done = "console.gold.auto_renew.resumed"
	}
	err := c.d.Certifying.AutoRenew(ec.Request().Context(), w, on)
	return c.goldDone(ec, gold.Certification{}, nil, err, say(w, done, nil))
}
