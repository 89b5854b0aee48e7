package api

import (
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/finance"
	"github.com/tradeloop/tradeloop/internal/ledger"
)

var accountRE = regexp.MustCompile(`^[a-z]+:[A-Za-z0-9_-]+$`)

func (s *Server) getAccount(c echo.Context) error {
	acct := c.Param("account")
	if !accountRE.MatchString(acct) {
		return invalid("account", "must look like escrow:<deal>, buyer:<org>, supplier:<org> or platform:commission")
	}
	bs, err := s.ledger.Balances(c.Request().Context(), acct)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"account": acct, "balances": nonNil(bs)})
}

const maxExportRange = 366 * 24 * time.Hour

// timeRange reads the query's from and to, both required, as RFC 3339
// times.
func timeRange(c echo.Context) (from, to time.Time, err error) {
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if *p.dst, err = time.Parse(time.RFC3339, c.QueryParam(p.name)); err != nil {
			return time.Time{}, time.Time{}, invalid(p.name, "is required, as an RFC 3339 time")
		}
	}
	return from, to, nil
}

// exportLedger streams every ledger line posted in [from, to) as CSV.
func (s *Server) exportLedger(c echo.Context) error {
	from, to, err := timeRange(c)
	if err != nil {
		return err
	}
	if !to.After(from) || to.Sub(from) > maxExportRange {
		return invalid("to", "must be after from, at most 366 days later")
	}
	rows, err := s.ledger.Export(c.Request().Context(), from, to)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="ledger.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	return ledger.WriteCSV(c.Response(), rows)
}

// listPayments lists the payments across deals that match the query, a
// page at a time, with the totals of all of them.
func (s *Server) listPayments(c echo.Context) error {
	f := finance.PaymentFilter{Kind: c.QueryParam("kind"), Status: c.QueryParam("status"), Step: c.QueryParam("step"),
		Currency: c.QueryParam("currency"), DealID: c.QueryParam("deal"), Cursor: c.QueryParam("cursor")}
	var err error
	if f.From, f.To, err = timeRange(c); err != nil {
		return err
	}
	if f.Limit, err = limitParam(c, finance.MaxPayments); err != nil {
		return err
	}
	page, err := s.finance.Payments(c.Request().Context(), f)
	if fe := (*finance.FilterError)(nil); errors.As(err, &fe) {
		return invalid(fe.Field, "%s", fe.Rule)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}
