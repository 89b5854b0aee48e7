package console

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/deposits"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/signin"
)

// Depositing is suppliers' security deposits, through the API's own
// rules: each call answers a *Refused for what the API refuses.
type Depositing struct {
	// Categories are the categories that ask for a deposit.
	Categories func(ctx context.Context) ([]deposits.Category, error)
	// List is the deposits w may see (a supplier's own; everyone's for
	// mediators, finance and admins).
	List func(ctx context.Context, w signin.Who) ([]deposits.Deposit, error)
	// Get is deposit id as w may see it, or ErrNotFound.
	Get func(ctx context.Context, w signin.Who, id uuid.UUID) (deposits.Deposit, error)
	// Pay pays w's deposit in currency.
	Pay func(ctx context.Context, w signin.Who, currency string) (deposits.Deposit, error)
	// Return asks for w's deposit id back.
	Return func(ctx context.Context, w signin.Who, id uuid.UUID) error
	// Forfeit is mediator w's forfeit of amount of deposit id for the
	// fraud of deal dealID.
	Forfeit func(ctx context.Context, w signin.Who, id uuid.UUID, amount int64, reason, dealID string) error
}

// depositsData is what the security deposits page shows.
type depositsData struct {
	Categories []deposits.Category
	Deposits   []deposits.Deposit
	// Currencies are those a supplier may pay a deposit in.
	Currencies []string
	// Error says why the last action was refused, Done what it did.
	Error, Done string
}

func (c *Console) depositsPage(ec echo.Context, status int, data depositsData) error {
	ctx, w := ec.Request().Context(), who(ec)
	var err error
	if data.Categories, err = c.d.Depositing.Categories(ctx); err != nil {
		return err
	}
	for _, cat := range data.Categories {
		if !slices.Contains(data.Currencies, cat.Currency) {
			data.Currencies = append(data.Currencies, cat.Currency)
		}
	}
	slices.Sort(data.Currencies)
	if data.Deposits, err = c.d.Depositing.List(ctx, w); err != nil {
		return err
	}
	return c.render(ec, status, "deposits", "", data)
}

func (c *Console) deposits(ec echo.Context) error {
	return c.depositsPage(ec, http.StatusOK, depositsData{})
}

// depositDone shows the page again after an action: what it did, or why
// it was refused.
func (c *Console) depositDone(ec echo.Context, err error, done string) error {
	var r *Refused
	if errors.As(err, &r) {
		return c.depositsPage(ec, r.Status, depositsData{Error: say(who(ec), "console.act.refused", r.Message)})
	}
	if err != nil {
		return err
	}
	return c.depositsPage(ec, http.StatusOK, depositsData{Done: done})
}

func (c *Console) payDeposit(ec echo.Context) error {
	w := who(ec)
	d, err := c.d.Depositing.Pay(ec.Request().Context(), w, ec.FormValue("currency"))
	return c.depositDone(ec, err, say(w, "console.deposits.paid", struct{ Amount, Status string }{money.Format(d.Amount, d.Currency), d.Status}))
}

func (c *Console) returnDeposit(ec echo.Context) error {
	w := who(ec)
	id, err := uuid.Parse(ec.Param("did"))
	if err != nil {
		return ErrNotFound
	}
	return c.depositDone(ec, c.d.Depositing.Return(ec.Request().Context(), w, id), say(w, "console.deposits.returning", nil))
}

func (c *Console) forfeitDeposit(ec echo.Context) error {
	ctx, w := ec.Request().Context(), who(ec)
	id, err := uuid.Parse(ec.Param("did"))
	if err != nil {
		return ErrNotFound
	}
	d, err := c.d.Depositing.Get(ctx, w, id)
	if err != nil {
		return err
	}
	amount, err := money.Parse(ec.FormValue("amount"), d.Currency)
	if err != nil || amount <= 0 {
		return c.depositsPage(ec, http.StatusUnprocessableEntity, depositsData{Error: say(w, "console.deposits.amount.bad", d.Currency)})
	}
	err = c.d.Depositing.Forfeit(ctx, w, id, amount, ec.FormValue("reason"), ec.FormValue("deal_id"))
	return c.depositDone(ec, err, say(w, "console.deposits.forfeited", money.Format(amount, d.Currency)))
}
