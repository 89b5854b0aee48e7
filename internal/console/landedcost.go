package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/landedcost"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/signin"
)

// landedData is the landed-cost page's: the product, the form as typed
// with what the platform offers in it, and the estimate once computed.
type landedData struct {
	Product marketplace.Product
	formState
	Modes      []landedcost.Mode
	Incoterms  []landedcost.Incoterm
	Countries  []string
	Currencies []string
	Estimate   *landedcost.Estimate
}

// landedCost is the calculator of a product's landed cost: a form sent
// by GET (so an estimate is a link), priced by the API's calculator.
func (c *Console) landedCost(ec echo.Context) error {
	w := who(ec)
	page, err := c.productPage(ec)
	if err != nil {
		return err
	}
	p := page.Product
	ctx := ec.Request().Context()
	opts, err := c.d.LandedCost.Options(ctx)
	if err != nil {
		return err
	}
	data := landedData{Product: p, formState: formState{Form: map[string]string{}}, Modes: landedcost.Modes,
		Incoterms: landedcost.Incoterms, Countries: opts.Countries, Currencies: opts.Currencies}
	q := ec.QueryParams()
	if len(q) == 0 {
		data.Form["quantity"] = money.Count(p.MOQ)
		data.Form["mode"], data.Form["incoterm"] = string(landedcost.Sea), string(landedcost.FOB)
		return c.render(ec, http.StatusOK, "landedcost", p.Name, data)
	}
	for _, f := range landedcost.Fields {
		data.Form[f] = strings.TrimSpace(q.Get(f))
	}
	e, err := c.d.LandedCost.Estimate(ctx, p.ID, landedcost.Input{
		Quantity: data.Form["quantity"], Mode: data.Form["mode"], WeightKg: data.Form["weight_kg"], UnitWeightKg: data.Form["unit_weight_kg"],
		Incoterm: data.Form["incoterm"], Destination: data.Form["destination"], Currency: data.Form["currency"],
	})
	var inv *landedcost.InvalidError
	switch {
	case errors.As(err, &inv):
		data.Field, data.Error = inv.Fields[0].Field, refusal(w, p, inv.Fields[0])
		return c.render(ec, http.StatusUnprocessableEntity, "landedcost", p.Name, data)
	case errors.Is(err, landedcost.ErrNotFound):
		return ErrNotFound
	case err != nil:
		return err
	}
	data.Estimate = &e
	return c.render(ec, http.StatusOK, "landedcost", p.Name, data)
}

// refusal is a refused field in the reader's words.
func refusal(w signin.Who, p marketplace.Product, fe landedcost.FieldError) string {
	switch fe.Code {
	case landedcost.BelowMOQ:
		return say(w, "console.product.moq.bad", money.Count(p.MOQ)+" "+p.Unit)
	case landedcost.SeaOnly:
		return say(w, "console.landed.sea_only", nil)
	case landedcost.TooLarge:
		return say(w, "console.landed.too_large", nil)
	case landedcost.NoRate:
		return say(w, "console.landed.no_rate", nil)
	}
	return say(w, "console.landed.bad."+fe.Field, money.Count(landedcost.MaxQuantity))
}

// DutyPercent is the estimate's duty rate as a percentage: "3.70 %".
func (d landedData) DutyPercent() string {
	if d.Estimate == nil {
		return ""
	}
	bp := d.Estimate.DutyRateBP
	return fmt.Sprintf("%d.%02d %%", bp/100, bp%100)
}
