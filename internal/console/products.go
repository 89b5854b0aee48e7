package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/ads"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/internal/tier"
)

// searchFields are the product search's filters, as its form names them.
var searchFields = []string{"q", "category", "quantity", "currency", "min_price", "max_price", "max_moq",
	"max_lead_time_days", "certifications", "regions", "customizable", "min_response_rating", "sort"}

// searchData is the product search page's: the filters as typed, the
// hits, and the next page's address.
type searchData struct {
	formState
	Tiers      []tier.Tier
	Chosen     map[tier.Tier]bool
	Currencies []string
	Searched   bool
	Hits       []marketplace.Hit
	// Sponsored are the ads the search's first page shows above its
	// results, labelled so.
	Sponsored []ads.Sponsored
	Next      string
}

// products searches the catalog with every filter of the API's search:
// prices typed as people write them in the chosen currency, lists
// comma-separated; a page of hits at a time.
func (c *Console) products(ec echo.Context) error {
	w := who(ec)
	q := ec.QueryParams()
	data := searchData{formState: formState{Form: map[string]string{}}, Tiers: tier.All, Chosen: map[tier.Tier]bool{}, Currencies: money.Currencies()}
	for _, f := range searchFields {
		data.Form[f] = strings.TrimSpace(q.Get(f))
	}
	for _, t := range q["tiers"] {
		if v, ok := tier.Parse(t); ok {
			data.Chosen[v] = true
		}
	}
	if len(q) == 0 {
		return c.render(ec, http.StatusOK, "products", "", data)
	}
	p, bad := searchFrom(w, q, data.Form)
	if bad == nil {
		p.Cursor = q.Get("cursor")
		page, err := c.d.Market.Search(ec.Request().Context(), p)
		var fe marketplace.FieldError
		switch {
		case errors.As(err, &fe):
			bad = &fieldError{fe.Field, say(w, "console.act.refused", fe.Message)}
		case errors.Is(err, marketplace.ErrBadCursor):
			return echo.NewHTTPError(http.StatusNotFound)
		case err != nil:
			return err
		default:
			data.Searched, data.Hits = true, page.Items
			if c.d.Advertising.Sponsored != nil {
				data.Sponsored = c.d.Advertising.Sponsored(ec.Request().Context(), w, p, page)
			}
			if page.NextCursor != "" {
				next := url.Values{}
				for k, v := range q {
					next[k] = v
				}
				next.Set("cursor", page.NextCursor)
				data.Next = Root + "/products?" + next.Encode()
			}
		}
	}
	if bad != nil {
		data.Field, data.Error = bad.field, bad.msg
		return c.render(ec, http.StatusUnprocessableEntity, "products", "", data)
	}
	return c.render(ec, http.StatusOK, "products", "", data)
}

// searchFrom reads the search form into the API's search.
func searchFrom(w signin.Who, q url.Values, form map[string]string) (marketplace.SearchParams, *fieldError) {
	p := marketplace.SearchParams{Query: form["q"], Category: form["category"], Currency: strings.ToUpper(form["currency"]), Sort: form["sort"]}
	whole := func(name string) (int64, *fieldError) {
		v := strings.ReplaceAll(form[name], ",", "")
		if v == "" {
			return 0, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, &fieldError{name, say(w, "console.search.whole.bad", nil)}
		}
		return n, nil
	}
	var bad *fieldError
	pick := func(n int64, e *fieldError) int64 {
		if bad == nil {
			bad = e
		}
		return n
	}
	p.Quantity, p.MaxMOQ = pick(whole("quantity")), pick(whole("max_moq"))
	p.MaxLeadTimeDays, p.MinResponseRating = int(pick(whole("max_lead_time_days"))), int(pick(whole("min_response_rating")))
	for _, name := range []string{"min_price", "max_price"} {
		if v := form[name]; v != "" && bad == nil {
			if p.Currency == "" {
				bad = &fieldError{"currency", say(w, "console.search.currency.needed", nil)}
				break
			}
			amount, err := money.Parse(v, p.Currency)
			if err != nil || amount < 0 {
				bad = &fieldError{name, say(w, "console.act.amount.bad", money.Format(390, p.Currency))}
				break
			}
			if name == "min_price" {
				p.MinPrice = amount
			} else {
				p.MaxPrice = amount
			}
		}
	}
	p.Certifications, p.Regions = splitList(form["certifications"]), splitList(form["regions"])
	p.Tiers = append(p.Tiers, q["tiers"]...)
	switch form["customizable"] {
	case "yes":
		yes := true
		p.Customizable = &yes
	case "no":
		no := false
		p.Customizable = &no
	}
	return p, bad
}

// productData is the product page's.
type productData struct {
	Product  marketplace.Product
	Supplier marketplace.Supplier
	// Trend is the price trend of the product's category in its currency.
	Trend *trendView
	// Files are the product's media, and the upload form's kinds.
	Files productMedia
	// Notice is the product's paid notice to its category's followers,
	// for its own supplier: Sent once it was.
	Notice *productNotice
	// The inquiry form's: what the buyer typed, what is wrong.
	formState
}

func (c *Console) product(ec echo.Context) error {
	data, err := c.productPage(ec)
	if err != nil {
		return err
	}
	data.Form["quantity"] = strconv.FormatInt(data.Product.MOQ, 10)
	// A link the platform sent (a matching offer, a reactivation message)
	// names its channel; anything else is a direct look.
	via, ok := marketplace.ParseChannel(ec.QueryParam("via"))
	if !ok {
		via = marketplace.ChannelDirect
	}
	c.d.RecordView(ec.Request().Context(), who(ec), data.Product, via)
	return c.render(ec, http.StatusOK, "product", data.Product.Name, data)
}

func (c *Console) productPage(ec echo.Context) (productData, error) {
	id, err := uuid.Parse(ec.Param("pid"))
	if err != nil {
		return productData{}, ErrNotFound
	}
	ctx := ec.Request().Context()
	p, err := c.d.Market.Product(ctx, id)
	if errors.Is(err, marketplace.ErrNotFound) {
		return productData{}, ErrNotFound
	}
	if err != nil {
		return productData{}, err
	}
	s, err := c.d.Market.Supplier(ctx, p.SupplierID)
	if err != nil && !errors.Is(err, marketplace.ErrNotFound) {
		return productData{}, err
	}
	trend, err := c.trendOf(ec, p.Category, p.Currency)
	if err != nil {
		return productData{}, err
	}
	files, err := c.mediaOf(ec, p.ID, p.SupplierID)
	if err != nil {
		return productData{}, err
	}
	data := productData{Product: p, Supplier: s, Trend: trend, Files: files, formState: formState{Form: map[string]string{}}}
	if who(ec).OrgID == p.SupplierID && c.d.Promoting.Sent != nil {
		sent, err := c.d.Promoting.Sent(ctx, who(ec), p.ID)
		if err != nil {
			return productData{}, err
		}
		data.Notice = &productNotice{Sent: sent, Fee: c.d.Promoting.Fee(p.Currency)}
	}
	return data, nil
}

// inquireProduct sends the buyer's inquiry for a product to its supplier
// alone.
func (c *Console) inquireProduct(ec echo.Context) error {
	w := who(ec)
	data, err := c.productPage(ec)
	if err != nil {
		return err
	}
	p := data.Product
	for _, f := range []string{"quantity", "target_unit_price", "wants_sample"} {
		data.Form[f] = strings.TrimSpace(ec.FormValue(f))
	}
	bad := func(field, msg string) error {
		data.Field, data.Error = field, msg
		return c.render(ec, http.StatusUnprocessableEntity, "product", p.Name, data)
	}
	qty, err := strconv.ParseInt(strings.ReplaceAll(data.Form["quantity"], ",", ""), 10, 64)
	if err != nil || qty < 1 {
		return bad("quantity", say(w, "console.act.quantity.bad", nil))
	}
	if qty < p.MOQ {
		return bad("quantity", say(w, "console.product.moq.bad", strconv.FormatInt(p.MOQ, 10)))
	}
	in := Inquiry{Product: p.Name, Category: p.Category, Quantity: qty, Unit: p.Unit, Currency: p.Currency,
		Suppliers: []string{p.SupplierID.String()}, WantsSample: data.Form["wants_sample"] == "1" && p.SampleAvailable,
		ProductID: p.ID.String()}
	if t := data.Form["target_unit_price"]; t != "" {
		if in.TargetUnitPrice, err = money.Parse(t, p.Currency); err != nil || in.TargetUnitPrice < 1 {
			return bad("target_unit_price", say(w, "console.act.amount.bad", money.Format(p.FromUnitPrice, p.Currency)))
		}
	}
	st, err := c.d.Acting.Create(ec.Request().Context(), w, in)
	var r *Refused
	if errors.As(err, &r) {
		return bad(r.Field, say(w, "console.act.refused", r.Message))
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/deals/"+st.DealID)
}
