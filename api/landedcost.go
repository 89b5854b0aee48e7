package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/landedcost"
)

// landedCost prices a quantity of a product delivered (the query string
// names the quantity, mode, weight, incoterm, destination and currency:
// landedcost.Input), at the platform's rates.
func (s *Server) landedCost(c echo.Context) error {
	id, err := productID(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	for _, f := range landedcost.Fields {
		if len(q[f]) > 1 {
			return invalid(f, "give it once")
		}
	}
	e, err := s.landed.Estimate(c.Request().Context(), id, landedcost.Input{
		Quantity: q.Get("quantity"), Mode: q.Get("mode"), WeightKg: q.Get("weight_kg"), UnitWeightKg: q.Get("unit_weight_kg"),
		Incoterm: q.Get("incoterm"), Destination: q.Get("destination"), Currency: q.Get("currency"),
	})
	if err != nil {
		return landedErr(err)
	}
	return c.JSON(http.StatusOK, e)
}

// landedErr maps the calculator's errors to API errors: the first field
// refused in the message, every one in details.
func landedErr(err error) error {
	var inv *landedcost.InvalidError
	switch {
	case errors.Is(err, landedcost.ErrNotFound):
		return apiErr(http.StatusNotFound, "item_not_found", "no such product")
	case errors.As(err, &inv):
		e := invalid(inv.Fields[0].Field, "%s", inv.Fields[0].Message)
		e.Details = map[string]any{"field": inv.Fields[0].Field, "fields": inv.Fields}
		return e
	}
	return err
}
