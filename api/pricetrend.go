package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/pricetrend"
)

// priceTrend answers a category's price index in one currency over a
// window ending today, with its marks; any signed-in role may read it.
func (s *Server) priceTrend(c echo.Context) error {
	q := c.QueryParams()
	for _, f := range []string{"currency", "days"} {
		if len(q[f]) > 1 {
			return invalid(f, "give it once")
		}
	}
	t, err := s.trends.Trend(c.Request().Context(),
		pricetrend.Query{Category: c.Param("category"), Currency: q.Get("currency"), Days: q.Get("days")}, time.Now())
	if err != nil {
		return trendErr(err)
	}
	return c.JSON(http.StatusOK, t)
}

// trendErr maps the price index's refusals to API errors.
func trendErr(err error) error {
	var fe *pricetrend.FieldError
	if errors.As(err, &fe) {
		return invalid(fe.Field, "%s", fe.Message)
	}
	return err
}
