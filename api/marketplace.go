package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/console"
	"github.com/tradeloop/tradeloop/internal/dealview"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/media"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/workflows"
)

// maxImportBody is the largest catalog file an import takes.
const maxImportBody = 16 << 20

// DefaultMaxImports is how many catalog imports an API process runs at
// once unless Deps.MaxImports says otherwise.
const DefaultMaxImports = 2

// importRetryAfter is the Retry-After, in seconds, of an import refused
// because others are running: a 25,000-row import takes a few seconds.
const importRetryAfter = 5

// marketErr maps the marketplace's errors to API errors.
func marketErr(err error) error {
	var inv *marketplace.InvalidError
	var fe marketplace.FieldError
	var file *marketplace.FileError
	switch {
	case errors.Is(err, marketplace.ErrNotFound):
		return apiErr(http.StatusNotFound, "item_not_found", "no such product or supplier")
	case errors.Is(err, marketplace.ErrBadCursor):
		return invalid("cursor", "is not a cursor of this search")
	case errors.As(err, &inv):
		e := invalid(inv.Fields[0].Field, "%s", inv.Fields[0].Message)
		e.Details = map[string]any{"field": inv.Fields[0].Field, "fields": inv.Fields}
		return e
	case errors.As(err, &fe):
		return invalid(fe.Field, "%s", fe.Message)
	case errors.As(err, &file):
		return apiErr(http.StatusBadRequest, "malformed", "%s", file.Reason)
	case errors.Is(err, sheet.ErrMalformed):
		return apiErr(http.StatusBadRequest, "malformed", "%v", err)
	}
	return err
}

func productID(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("pid"))
	if err != nil {
		return uuid.Nil, apiErr(http.StatusNotFound, "item_not_found", "no such product")
	}
	return id, nil
}

func (s *Server) saveProduct(c echo.Context) error {
	var in marketplace.ProductInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p, _, err := s.market.SaveProduct(c.Request().Context(), principal(c).OrgID, in)
	if err != nil {
		return marketErr(err)
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/products/"+p.ID.String())
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) getProduct(c echo.Context) error {
	id, err := productID(c)
	if err != nil {
		return err
	}
	via, ok := marketplace.ParseChannel(c.QueryParam("via"))
	if !ok {
		return invalid("via", "is direct, matching, reactivation or referral: the platform's link the buyer came by")
	}
	ctx := c.Request().Context()
	p, err := s.market.Product(ctx, id)
	if err != nil {
		return marketErr(err)
	}
	s.RecordView(ctx, principal(c), p, via)
	views, err := s.productMedia(ctx, id)
	if err != nil {
		return err
	}
	badges, err := s.market.Badges(ctx, p.SupplierID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ProductWithMedia{Product: p, Badges: badges, Media: views})
}

// RecordView logs buyer p's look at a product for the funnel figures (other
// roles' looks are not the funnel's). The product is shown even when the
// log cannot be written: the failure is logged.
func (s *Server) RecordView(ctx context.Context, p Principal, product marketplace.Product, via marketplace.Channel) {
	if p.Role != workflows.RoleBuyer {
		return
	}
	err := s.market.RecordView(ctx, marketplace.View{Product: product, ViewerOrg: p.OrgID, ViewerUser: p.UserID, Channel: via, At: time.Now()})
	if err != nil {
		s.logger.WarnContext(ctx, "a product view was not logged", "product_id", product.ID, "error", err)
	}
}

func (s *Server) deleteProduct(c echo.Context) error {
	id, err := productID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var files []media.Item
	if s.media != nil {
		// The product's media rows go with it; their blobs are deleted
		// once it is.
		if files, err = s.media.ForProduct(ctx, id); err != nil {
			return err
		}
	}
	if err := s.market.DeleteProduct(ctx, principal(c).OrgID, id); err != nil {
		return marketErr(err)
	}
	if s.media != nil {
		s.media.DeleteBlobs(ctx, files)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "deleted": true})
}

func (s *Server) similarProducts(c echo.Context) error {
	id, err := productID(c)
	if err != nil {
		return err
	}
	hits, err := s.market.Similar(c.Request().Context(), id, 10)
	if err != nil {
		return marketErr(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": hits})
}

// searchParams reads a search from the query string; lists are
// comma-separated.
func searchParams(q url.Values) (marketplace.SearchParams, error) {
	var p marketplace.SearchParams
	var bad error
	num := func(name string) int64 {
		v := q.Get(name)
		if v == "" || bad != nil {
			return 0
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			bad = invalid(name, "must be a whole number")
		}
		return n
	}
	list := func(name string) []string {
		var out []string
		for v := range strings.SplitSeq(q.Get(name), ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	p.Query, p.Category, p.Currency, p.Sort, p.Cursor = q.Get("q"), q.Get("category"), q.Get("currency"), q.Get("sort"), q.Get("cursor")
	p.Quantity, p.MinPrice, p.MaxPrice, p.MaxMOQ = num("quantity"), num("min_price"), num("max_price"), num("max_moq")
	p.MaxLeadTimeDays, p.MinResponseRating, p.Limit = int(num("max_lead_time_days")), int(num("min_response_rating")), int(num("limit"))
	p.Certifications, p.Regions, p.Tiers = list("certifications"), list("regions"), list("tiers")
	if v := q.Get("customizable"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return p, invalid("customizable", "true or false")
		}
		p.Customizable = &b
	}
	if bad != nil {
		return p, bad
	}
	if err := p.Validate(); err != nil {
		return p, marketErr(err)
	}
	return p, nil
}

// searchQueryParams are the query parameters of a product search.
var searchQueryParams = []string{"q", "category", "quantity", "min_price", "max_price", "currency", "max_moq",
	"max_lead_time_days", "certifications", "customizable", "regions", "tiers", "min_response_rating", "sort", "cursor", "limit"}

func (s *Server) searchProducts(c echo.Context) error {
	p, err := searchParams(c.QueryParams())
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	page, err := s.market.Search(ctx, p)
	if err != nil {
		return marketErr(err)
	}
	pr := principal(c)
	if pr.Role == workflows.RoleBuyer && p.Cursor == "" {
		if err := s.market.RecordSearch(ctx, pr.UserID, p); err != nil {
			s.logger.Warn("recording a search failed", "user", pr.UserID, "err", err)
		}
	}
	return c.JSON(http.StatusOK, SearchPage{Page: page, Sponsored: s.Sponsored(ctx, pr, p, page)})
}

func (s *Server) recentSearches(c echo.Context) error {
	out, err := s.market.RecentSearches(c.Request().Context(), principal(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"searches": out})
}

// fileFormat reads ?format=, accepting only the given formats.
func fileFormat(c echo.Context, allowed ...sheet.Format) (sheet.Format, error) {
	f := sheet.Format(c.QueryParam("format"))
	if f == "" {
		f = allowed[0]
	}
	if !slices.Contains(allowed, f) {
		return "", invalid("format", "one of %v", allowed)
	}
	return f, nil
}

func (s *Server) sendFile(c echo.Context, f sheet.Format, name string, d sheet.Document) error {
	var buf bytes.Buffer
	if err := s.sheets.Write(&buf, f, d); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s.%s"`, name, f))
	return c.Blob(http.StatusOK, f.ContentType(), buf.Bytes())
}

func (s *Server) exportProducts(c echo.Context) error {
	f, err := fileFormat(c, sheet.CSV, sheet.XLSX)
	if err != nil {
		return err
	}
	t, err := s.market.Export(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return err
	}
	return s.sendFile(c, f, "catalog", sheet.Document{Title: "Catalog", Table: t})
}

// importProducts takes a CSV or XLSX catalog file as the request body.
// ?mode=all (the default) writes nothing when a row is rejected and answers
// 422 with the report; ?mode=partial writes the valid rows and reports the
// rejected ones. At most cap(s.imports) imports run at once, their bodies
// read and held included; one more is a 503 import_busy with Retry-After
// (a 503, so that a repeat with the same Idempotency-Key runs again).
func (s *Server) importProducts(c echo.Context) error {
	f, ok := sheet.FormatFromContentType(c.Request().Header.Get(echo.HeaderContentType))
	if !ok {
		return apiErr(http.StatusUnsupportedMediaType, "unsupported_media_type",
			"send the catalog as text/csv or as an .xlsx file (%s)", sheet.XLSX.ContentType())
	}
	rep, err := s.ImportCatalog(c.Request().Context(), principal(c).OrgID, f, c.Request().Body, marketplace.ImportMode(c.QueryParam("mode")))
	if err != nil {
		return err
	}
	if !rep.Applied && len(rep.Rejected) > 0 {
		e := apiErr(http.StatusUnprocessableEntity, "import_rejected",
			"%d of %d rows are invalid: nothing was imported (fix them, or import with mode=partial)", len(rep.Rejected), rep.Rows)
		e.Details = map[string]any{"report": rep}
		return e
	}
	return c.JSON(http.StatusOK, rep)
}

// ImportCatalog lists or replaces supplier org's products from a catalog
// file in format f (marketplace.Import), for the API and the console: at
// most cap(s.imports) run at once, their files read and held included
// (one more is a 503 import_busy with Retry-After); a file too large or
// with too many rows is a 413. A file with rejected rows is a report, not
// an error.
func (s *Server) ImportCatalog(ctx context.Context, org uuid.UUID, f sheet.Format, file io.Reader, mode marketplace.ImportMode) (marketplace.ImportReport, error) {
	select {
	case s.imports <- struct{}{}:
		defer func() { <-s.imports }()
	default:
		e := apiErr(http.StatusServiceUnavailable, "import_busy",
			"%d catalog imports are running on this server, the most it runs at once: retry in a few seconds", cap(s.imports))
		e.RetryAfter = importRetryAfter
		return marketplace.ImportReport{}, e
	}
	body, err := io.ReadAll(io.LimitReader(file, maxImportBody+1))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return marketplace.ImportReport{}, apiErr(http.StatusRequestEntityTooLarge, "too_large", "the request body is too large")
		}
		return marketplace.ImportReport{}, apiErr(http.StatusBadRequest, "malformed", "could not read the catalog file")
	}
	if len(body) > maxImportBody {
		return marketplace.ImportReport{}, apiErr(http.StatusRequestEntityTooLarge, "too_large", "a catalog file may have at most %d MB", maxImportBody>>20)
	}
	t, err := sheet.Read(bytes.NewReader(body), f, marketplace.ImportLimits)
	switch {
	case errors.Is(err, sheet.ErrTooManyRows):
		return marketplace.ImportReport{}, apiErr(http.StatusRequestEntityTooLarge, "too_large", "a catalog file may have at most %d rows: split it", marketplace.MaxImportRows)
	case errors.Is(err, sheet.ErrTooLarge):
		return marketplace.ImportReport{}, apiErr(http.StatusRequestEntityTooLarge, "too_large", "%v", err)
	case err != nil:
		return marketplace.ImportReport{}, marketErr(err)
	}
	rep, err := s.market.Import(ctx, org, t, mode)
	if err != nil {
		return marketplace.ImportReport{}, marketErr(err)
	}
	return rep, nil
}

// importBodyLimit lets catalog imports be larger than other requests.
func importBodyLimit(path string) bool {
	return path == "/v1/products/import" || path == console.CatalogImportPath
}

// ---- suppliers ----

func (s *Server) getSupplier(c echo.Context) error {
	id, err := uuid.Parse(c.Param("org"))
	if err != nil {
		return apiErr(http.StatusNotFound, "item_not_found", "no such supplier")
	}
	prof, err := s.market.Supplier(c.Request().Context(), id)
	if errors.Is(err, marketplace.ErrNotFound) {
		return apiErr(http.StatusNotFound, "item_not_found", "no such supplier")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, supplierProfile(prof, principal(c)))
}

// SupplierProfile is a supplier's profile as anyone sees it: what it sells
// and how buyers rate it. Figures are its business: only the supplier
// itself and admins get them.
type SupplierProfile struct {
	OrgID              uuid.UUID `json:"org_id"`
	Name               string    `json:"name"`
	JoinedAt           time.Time `json:"joined_at"`
	Categories         []string  `json:"categories"`
	Regions            []string  `json:"regions"`
	Certifications     []string  `json:"certifications"`
	Tier               string    `json:"tier"`
	Rating             float64   `json:"rating"`
	RatingsCount       int32     `json:"ratings_count"`
	MedianResponseSecs *int32    `json:"median_response_secs"`
	ResponseRating     *int16    `json:"response_rating"`
	// VerifiedUntil is when its verification badge ends; null without
	// one.
	VerifiedUntil *time.Time `json:"verified_until"`
	// GoldUntil is when its Gold badge ends; null without one.
	GoldUntil *time.Time       `json:"gold_until"`
	Figures   *SupplierFigures `json:"figures,omitempty"`
}

// SupplierFigures are a supplier's sales volume and SLA record.
type SupplierFigures struct {
	GMVMinor        int64      `json:"gmv_minor"`
	QuotesOnTime    int32      `json:"quotes_on_time"`
	QuotesLate      int32      `json:"quotes_late"`
	SLAMissesRecent int32      `json:"sla_misses_recent"`
	TierReason      string     `json:"tier_reason"`
	TierComputedAt  *time.Time `json:"tier_computed_at"`
}

// supplierProfile is what p sees of a supplier's profile.
func supplierProfile(prof marketplace.Supplier, p Principal) SupplierProfile {
	out := SupplierProfile{
		OrgID: prof.OrgID, Name: prof.Name, JoinedAt: prof.JoinedAt, Categories: prof.Categories, Regions: prof.Regions, Certifications: prof.Certifications, Tier: prof.Tier,
		Rating: prof.Rating, RatingsCount: prof.RatingsCount, MedianResponseSecs: prof.MedianResponseSecs,
		ResponseRating: prof.ResponseRating, VerifiedUntil: prof.VerifiedUntil, GoldUntil: prof.GoldUntil,
	}
	if p.OrgID == prof.OrgID || p.Role == workflows.RoleAdmin {
		f := SupplierFigures(prof.Figures)
		out.Figures = &f
	}
	return out
}

// SupplierOffer is what a supplier says it sells.
type SupplierOffer struct {
	Categories     []string `json:"categories"`
	Regions        []string `json:"regions"`
	Certifications []string `json:"certifications"`
}

func (s *Server) updateSupplierOffer(c echo.Context) error {
	var in SupplierOffer
	if err := decode(c, &in); err != nil {
		return err
	}
	if len(in.Categories) > 50 || len(in.Regions) > 50 || len(in.Certifications) > 50 {
		return invalid("categories", "at most 50 categories, regions and certifications each")
	}
	for _, cat := range in.Categories {
		if !marketplace.ValidCategory(cat) {
			return invalid("categories", "%q is not a category slug", cat)
		}
	}
	for _, r := range in.Regions {
		if !marketplace.ValidRegion(r) {
			return invalid("regions", "%q is not a region code such as CN or CN-ZJ", r)
		}
	}
	for _, ce := range in.Certifications {
		if strings.TrimSpace(ce) == "" || len(ce) > 40 {
			return invalid("certifications", "each 1 to 40 characters")
		}
	}
	prof, err := s.market.UpdateOffer(c.Request().Context(), principal(c).OrgID, marketplace.Offer(in))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, supplierProfile(prof, principal(c)))
}

// RatingRequest is a buyer's rating of a finished deal's supplier.
type RatingRequest struct {
	Stars   int    `json:"stars"`
	Comment string `json:"comment"`
}

func (s *Server) rateDeal(c echo.Context) error {
	var in RatingRequest
	if err := decode(c, &in); err != nil {
		return err
	}
	st, err := s.RateDeal(c.Request().Context(), principal(c), c.Param("id"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"deal_id": st.DealID, "supplier_id": st.SupplierID, "stars": in.Stars})
}

// RateDeal keeps buyer p's rating of the supplier of deal id, once the deal
// is completed or resolved, once (for the API and the console).
func (s *Server) RateDeal(ctx context.Context, p Principal, id string, in RatingRequest) (workflows.DealState, error) {
	st, err := s.DealFor(ctx, viewerOf(p), id)
	if err != nil {
		return workflows.DealState{}, err
	}
	if in.Stars < 1 || in.Stars > 5 {
		return workflows.DealState{}, invalid("stars", "1 to 5")
	}
	if err := checkBounds(boundedText{"comment", in.Comment, workflows.MaxNote}); err != nil {
		return workflows.DealState{}, err
	}
	if st.Stage != workflows.StageCompleted && st.Stage != workflows.StageResolved {
		return workflows.DealState{}, apiErr(http.StatusConflict, "wrong_stage", "a deal can be rated once it is completed or resolved; it is %s", st.Stage)
	}
	supplier, err := uuid.Parse(st.SupplierID)
	if err != nil {
		return workflows.DealState{}, apiErr(http.StatusConflict, "wrong_stage", "the deal has no supplier to rate")
	}
	err = s.market.Rate(ctx, marketplace.Rating{
		DealID: st.DealID, Supplier: supplier, Buyer: p.OrgID, Stars: in.Stars, Comment: in.Comment,
	})
	if errors.Is(err, marketplace.ErrRatedAlready) {
		return workflows.DealState{}, apiErr(http.StatusConflict, "already_rated", "this deal was rated already")
	}
	if err != nil {
		return workflows.DealState{}, err
	}
	return st, nil
}

// ---- funnel ----

// parseDay reads a date (2026-01-31) or an RFC 3339 time.
func parseDay(v string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, v)
}

func (s *Server) funnel(c echo.Context) error {
	now := time.Now().UTC()
	to, from := now, now.AddDate(0, 0, -30)
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := c.QueryParam(name); v != "" {
			t, err := parseDay(v)
			if err != nil {
				return invalid(name, "a date (2026-01-31) or an RFC 3339 time")
			}
			*dst = t
		}
	}
	if !to.After(from) || to.Sub(from) > 367*24*time.Hour {
		return invalid("to", "must be after from, at most a year later")
	}
	f, err := s.market.Funnel(c.Request().Context(), from, to)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

// ---- quote comparison ----

func (s *Server) compareQuotes(c echo.Context) error {
	f, err := fileFormat(c, "json", sheet.CSV, sheet.XLSX, sheet.PDF)
	if err != nil {
		return err
	}
	st, err := s.visibleDeal(c)
	if err != nil {
		return err
	}
	cmp, err := s.market.CompareQuotes(c.Request().Context(), st)
	if err != nil {
		return err
	}
	if f == "json" {
		return c.JSON(http.StatusOK, cmp)
	}
	return s.sendFile(c, f, "quotes-"+st.DealID, marketplace.ComparisonDocument(cmp, time.Now()))
}

// Comparison is deal id's quote comparison as a document (the one
// compareQuotes sends as CSV, XLSX or PDF), for a viewer who may see the
// deal, or errNotFound.
func (s *Server) Comparison(ctx context.Context, viewer dealview.Viewer, id string) (sheet.Document, error) {
	st, err := s.DealFor(ctx, viewer, id)
	if err != nil {
		return sheet.Document{}, err
	}
	cmp, err := s.market.CompareQuotes(ctx, st)
	if err != nil {
		return sheet.Document{}, err
	}
	return marketplace.ComparisonDocument(cmp, time.Now()), nil
}
