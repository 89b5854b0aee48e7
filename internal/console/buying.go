package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/matching"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/signin"
)

// Buying is what a buyer organization buys and the offers that match it,
// through the API's own rules.
type Buying struct {
	// Profile is w's organization's profile and its offers now, or
	// matching.ErrNoProfile.
	Profile func(ctx context.Context, w signin.Who) (matching.Profile, []matching.Offer, error)
	// Save keeps the profile and sends its offers to the inbox; a
	// *Refused names the field.
	Save func(ctx context.Context, w signin.Who, p matching.Profile) (matching.Profile, []matching.Offer, error)
}

// buyingData is the "what we buy" page's: the form and the offers.
type buyingData struct {
	formState
	Offers []matching.Offer
	Saved  bool
}

// splitList reads a comma-separated list.
func splitList(v string) []string {
	var out []string
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (c *Console) buying(ec echo.Context) error {
	data := buyingData{formState: formState{Form: map[string]string{"currency": "USD"}}}
	p, offers, err := c.d.Buying.Profile(ec.Request().Context(), who(ec))
	switch {
	case errors.Is(err, matching.ErrNoProfile):
	case err != nil:
		return err
	default:
		data.Form = profileForm(p)
		data.Offers = offers
	}
	return c.render(ec, http.StatusOK, "buying", "", data)
}

// profileForm is a profile as the form shows it.
func profileForm(p matching.Profile) map[string]string {
	f := map[string]string{"categories": strings.Join(p.Categories, ", "), "currency": p.Currency, "regions": strings.Join(p.Regions, ", ")}
	if p.Budget > 0 {
		f["budget"] = money.Format(p.Budget, p.Currency)[len(p.Currency)+1:]
	}
	if p.MaxLeadTimeDays > 0 {
		f["max_lead_time_days"] = strconv.Itoa(p.MaxLeadTimeDays)
	}
	return f
}

// saveBuying keeps the profile the form states, or shows what is wrong at
// its field.
func (c *Console) saveBuying(ec echo.Context) error {
	w := who(ec)
	data := buyingData{formState: formState{Form: map[string]string{}}}
	for _, f := range []string{"categories", "budget", "currency", "max_lead_time_days", "regions"} {
		data.Form[f] = strings.TrimSpace(ec.FormValue(f))
	}
	bad := func(field, msg string) error {
		data.Field, data.Error = field, msg
		return c.render(ec, http.StatusUnprocessableEntity, "buying", "", data)
	}
	p := matching.Profile{Categories: splitList(data.Form["categories"]), Regions: splitList(data.Form["regions"]),
		Currency: strings.ToUpper(data.Form["currency"])}
	if p.Regions == nil {
		p.Regions = []string{}
	}
	if v := data.Form["budget"]; v != "" {
		amount, err := money.Parse(v, p.Currency)
		if err != nil || amount < 0 {
			return bad("budget", say(w, "console.act.amount.bad", money.Format(100_000, "USD")))
		}
		p.Budget = amount
	}
	if v := data.Form["max_lead_time_days"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return bad("max_lead_time_days", say(w, "console.buying.days.bad", nil))
		}
		p.MaxLeadTimeDays = n
	}
	saved, offers, err := c.d.Buying.Save(ec.Request().Context(), w, p)
	var r *Refused
	if errors.As(err, &r) {
		field := map[string]string{"budget_per_order": "budget"}[r.Field]
		if field == "" {
			field = r.Field
		}
		return bad(field, say(w, "console.act.refused", r.Message))
	}
	if err != nil {
		return err
	}
	data.Form, data.Offers, data.Saved = profileForm(saved), offers, true
	return c.render(ec, http.StatusOK, "buying", "", data)
}
