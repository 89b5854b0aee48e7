package marketplace

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/tier"
)

// Sort orders of a search.
const (
	SortRelevance = "relevance" // best text match, boosted by supplier tier
	SortPrice     = "price"     // lowest unit price at the quantity first
	SortLeadTime  = "lead_time" // shortest lead time first
)

// SearchParams are a buyer's keywords and filters. Zero values filter
// nothing.
type SearchParams struct {
	Query    string `json:"q,omitempty"`
	Category string `json:"category,omitempty"`
	// Quantity prices each product at this quantity and keeps only the
	// products orderable at it (MOQ ≤ quantity); without it, prices are
	// the MOQ's.
	Quantity int64 `json:"quantity,omitempty"`
	// MinPrice and MaxPrice bound the unit price in minor units of
	// Currency, which they require.
	MinPrice          int64    `json:"min_price,omitempty"`
	MaxPrice          int64    `json:"max_price,omitempty"`
	Currency          string   `json:"currency,omitempty"`
	MaxMOQ            int64    `json:"max_moq,omitempty"`
	MaxLeadTimeDays   int      `json:"max_lead_time_days,omitempty"`
	Certifications    []string `json:"certifications,omitempty"` // all of them
	Customizable      *bool    `json:"customizable,omitempty"`
	Regions           []string `json:"regions,omitempty"` // any; "CN" also matches "CN-ZJ"
	Tiers             []string `json:"tiers,omitempty"`   // any
	MinResponseRating int      `json:"min_response_rating,omitempty"`
	Sort              string   `json:"sort,omitempty"`
	Limit             int      `json:"-"`
	Cursor            string   `json:"-"`
}

// Search page sizes.
const (
	DefaultSearchLimit = 20
	MaxSearchLimit     = 100
)

// Validate checks the filters, naming the first bad one.
func (p *SearchParams) Validate() error {
	p.Query = strings.TrimSpace(p.Query)
	p.Currency = strings.ToUpper(p.Currency)
	switch {
	case len(p.Query) > 200:
		return FieldError{"q", "at most 200 characters"}
	case p.Category != "" && !ValidCategory(p.Category):
		return FieldError{"category", "a category slug such as \"led-lighting\""}
	case p.Quantity < 0:
		return FieldError{"quantity", "must be positive"}
	case p.MinPrice < 0 || p.MaxPrice < 0 || (p.MaxPrice > 0 && p.MinPrice > p.MaxPrice):
		return FieldError{"min_price", "prices must be positive, min_price ≤ max_price"}
	case (p.MinPrice > 0 || p.MaxPrice > 0) && !money.KnownCurrency(p.Currency):
		return FieldError{"currency", "a price range needs a supported currency"}
	case p.Currency != "" && !money.KnownCurrency(p.Currency):
		return FieldError{"currency", fmt.Sprintf("%q is not a supported currency", p.Currency)}
	case p.MaxMOQ < 0:
		return FieldError{"max_moq", "must be positive"}
	case p.MaxLeadTimeDays < 0:
		return FieldError{"max_lead_time_days", "must be positive"}
	case len(p.Certifications) > 10 || len(p.Regions) > 20:
		return FieldError{"certifications", "at most 10 certifications and 20 regions"}
	case p.MinResponseRating < 0 || p.MinResponseRating > 5:
		return FieldError{"min_response_rating", "between 1 and 5"}
	case p.Limit < 0 || p.Limit > MaxSearchLimit:
		return FieldError{"limit", fmt.Sprintf("between 1 and %d", MaxSearchLimit)}
	}
	for _, r := range p.Regions {
		if !ValidRegion(r) {
			return FieldError{"regions", fmt.Sprintf("%q is not a region code such as CN or CN-ZJ", r)}
		}
	}
	for _, t := range p.Tiers {
		if _, ok := tier.Parse(t); !ok {
			return FieldError{"tiers", fmt.Sprintf("%q: want one of %v", t, tier.All)}
		}
	}
	switch p.Sort {
	case "":
		p.Sort = SortRelevance
	case SortRelevance, SortPrice, SortLeadTime:
	default:
		return FieldError{"sort", "relevance, price or lead_time"}
	}
	if p.Limit == 0 {
		p.Limit = DefaultSearchLimit
	}
	return nil
}

// Hit is one product found, with its supplier and its price at the
// searched quantity.
type Hit struct {
	Product
	SupplierName   string `json:"supplier_name"`
	SupplierTier   string `json:"supplier_tier"`
	ResponseRating *int16 `json:"response_rating"`
	// SupplierVerified is the supplier's verification badge;
	// SupplierGold its Gold badge.
	SupplierVerified bool `json:"supplier_verified"`
	SupplierGold     bool `json:"supplier_gold"`
	// UnitPrice is the price at the searched quantity (at the MOQ without one).
	UnitPrice int64   `json:"unit_price"`
	Score     float64 `json:"score"`
}

// Page is one page of results; NextCursor is empty on the last.
type Page struct {
	Items      []Hit  `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// cursor is the sort key of the last hit of a page.
type cursor struct {
	Sort  string  `json:"s"`
	Score float64 `json:"v,omitempty"`
	Key   int64   `json:"k,omitempty"`
	ID    string  `json:"id"`
}

// ErrBadCursor is a cursor this search did not issue.
var ErrBadCursor = errors.New("invalid cursor")

const hitColumns = `p.id, p.supplier_org_id, p.sku, p.name, p.description, p.category, p.unit, p.moq, p.currency,
	p.tier_min_qty, p.tier_unit_minor, p.from_unit_minor, p.lead_time_days, p.certifications, p.customizable,
	p.origin_region, p.sample_available, p.sample_price_minor, p.created_at, p.updated_at,
	o.name AS supplier_name, s.tier AS supplier_tier, s.response_rating, coalesce(s.verified_until > now(), false) AS supplier_verified,
	coalesce(s.gold_until > now() AND s.verified_until > now(), false) AS supplier_gold`

// boostSQL is the supplier's tier's search boost in SQL.
var boostSQL = tier.BoostSQL("s.tier")

// Search finds products by keywords and filters, one page at a time.
func (m *Market) Search(ctx context.Context, p SearchParams) (Page, error) {
	if err := p.Validate(); err != nil {
		return Page{}, err
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	f := p.Filters(arg)
	price, score, where, outer := f.Price, f.Score, f.Where, f.Outer

	// The scores and prices are computed in a subquery and filtered, paged
	// and sorted outside it. When every matching row must be scored or
	// priced anyway (relevance, price at a quantity), OFFSET 0 keeps
	// PostgreSQL from inlining the subquery and computing each value once
	// per use; otherwise inlining lets an index give the order.
	key, desc, fence := score, true, true
	switch p.Sort {
	case SortPrice:
		key, desc, fence = price, false, p.Quantity > 0
	case SortLeadTime:
		key, desc, fence = "p.lead_time_days", false, false
	}
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor)
		if err != nil || c.Sort != p.Sort {
			return Page{}, ErrBadCursor
		}
		id, err := uuid.Parse(c.ID)
		if err != nil {
			return Page{}, ErrBadCursor
		}
		if desc {
			outer = append(outer, "(h.sort_key, h.id) < ("+arg(c.Score)+"::float8, "+arg(id)+"::uuid)")
		} else {
			outer = append(outer, "(h.sort_key, h.id) > ("+arg(c.Key)+"::bigint, "+arg(id)+"::uuid)")
		}
	}
	sql := "SELECT " + hitColumns + ", " + price + " AS unit_price, " + score + " AS score, " + key + " AS sort_key" +
		" FROM products p JOIN supplier_profiles s ON s.org_id = p.supplier_org_id JOIN organizations o ON o.id = p.supplier_org_id"
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	if fence {
		sql += " OFFSET 0"
	}
	sql = "SELECT h.* FROM (" + sql + ") h"
	if len(outer) > 0 {
		sql += " WHERE " + strings.Join(outer, " AND ")
	}
	if desc {
		sql += " ORDER BY h.sort_key DESC, h.id DESC"
	} else {
		sql += " ORDER BY h.sort_key, h.id"
	}
	sql += " LIMIT " + arg(p.Limit+1)

	rows, err := m.db.Query(ctx, sql, args...)
	if err != nil {
		return Page{}, fmt.Errorf("search products: %w", err)
	}
	var sortKeys []any
	hits, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Hit, error) {
		var sortKey any
		h, err := scanHit(r, &sortKey)
		sortKeys = append(sortKeys, sortKey)
		return h, err
	})
	if err != nil {
		return Page{}, fmt.Errorf("search products: %w", err)
	}
	page := Page{Items: hits}
	if len(hits) > p.Limit {
		page.Items = hits[:p.Limit]
		last := page.Items[p.Limit-1]
		c := cursor{Sort: p.Sort, ID: last.ID.String()}
		switch k := sortKeys[p.Limit-1].(type) {
		case float64:
			c.Score = k
		case int64:
			c.Key = k
		case int32:
			c.Key = int64(k)
		}
		page.NextCursor = encodeCursor(c)
	}
	return page, nil
}

// Filters is a search's conditions in SQL over products p, supplier
// profiles s and organizations o, their arguments added with arg: Where
// on the rows, Outer on the computed columns of the subquery h (its
// unit_price), Price the unit price at the searched quantity, Score the
// relevance (text rank times the supplier's tier boost), TSQuery the text
// query ("" without keywords). The search ads' auction (internal/ads)
// holds its ads' products to the same conditions.
type Filters struct {
	Price, Score, TSQuery string
	Where, Outer          []string
}

// Filters builds p's conditions (p validated).
func (p SearchParams) Filters(arg func(any) string) Filters {
	price := "p.from_unit_minor"
	if p.Quantity > 0 {
		price = "product_unit_price_at(p.tier_min_qty, p.tier_unit_minor, " + arg(p.Quantity) + ")"
	}
	score := boostSQL
	var where []string
	tsq := ""
	if p.Query != "" {
		tsq = "websearch_to_tsquery('english', " + arg(p.Query) + ")"
		where = append(where, "p.search @@ "+tsq)
		score = "(ts_rank_cd(p.search, " + tsq + ", 1)::float8 * " + boostSQL + ")"
	}
	if p.Category != "" {
		where = append(where, "p.category = "+arg(p.Category))
	}
	if p.Quantity > 0 {
		where = append(where, "p.moq <= "+arg(p.Quantity))
	}
	if p.Currency != "" {
		where = append(where, "p.currency = "+arg(p.Currency))
	}
	var outer []string // on the computed columns of h
	if p.MinPrice > 0 {
		outer = append(outer, "h.unit_price >= "+arg(p.MinPrice))
	}
	if p.MaxPrice > 0 {
		outer = append(outer, "h.unit_price <= "+arg(p.MaxPrice))
	}
	if p.MaxMOQ > 0 {
		where = append(where, "p.moq <= "+arg(p.MaxMOQ))
	}
	if p.MaxLeadTimeDays > 0 {
		where = append(where, "p.lead_time_days <= "+arg(p.MaxLeadTimeDays))
	}
	if len(p.Certifications) > 0 {
		where = append(where, "p.certifications @> "+arg(p.Certifications)+"::text[]")
	}
	if p.Customizable != nil {
		where = append(where, "p.customizable = "+arg(*p.Customizable))
	}
	if len(p.Regions) > 0 {
		r := arg(p.Regions)
		where = append(where, "(p.origin_region = ANY("+r+"::text[]) OR split_part(p.origin_region, '-', 1) = ANY("+r+"::text[]))")
	}
	if len(p.Tiers) > 0 {
		where = append(where, "s.tier = ANY("+arg(p.Tiers)+"::text[])")
	}
	if p.MinResponseRating > 0 {
		where = append(where, "s.response_rating >= "+arg(p.MinResponseRating))
	}

	return Filters{Price: price, Score: score, TSQuery: tsq, Where: where, Outer: outer}
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(b, &c)
}

// RecordSearch remembers a user's search (its first page) among their
// recent ones.
func (m *Market) RecordSearch(ctx context.Context, user uuid.UUID, p SearchParams) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, m.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.InsertProductSearch(ctx, store.InsertProductSearchParams{UserID: user, Params: b}); err != nil {
			return fmt.Errorf("record search: %w", err)
		}
		return q.TrimProductSearches(ctx, store.TrimProductSearchesParams{UserID: user, Keep: recentSearchesKept})
	})
}

const recentSearchesKept = 10

// RecentSearch is a search a user made.
type RecentSearch struct {
	Params     SearchParams `json:"params"`
	SearchedAt string       `json:"searched_at"`
}

// RecentSearches returns a user's last searches, newest first.
func (m *Market) RecentSearches(ctx context.Context, user uuid.UUID) ([]RecentSearch, error) {
	rows, err := store.New(m.db).RecentProductSearches(ctx, store.RecentProductSearchesParams{UserID: user, Limit: recentSearchesKept})
	if err != nil {
		return nil, fmt.Errorf("recent searches of %s: %w", user, err)
	}
	out := make([]RecentSearch, 0, len(rows))
	for _, r := range rows {
		var p SearchParams
		if err := json.Unmarshal(r.Params, &p); err != nil {
			return nil, fmt.Errorf("recent search: %w", err)
		}
		out = append(out, RecentSearch{Params: p, SearchedAt: r.SearchedAt.UTC().Format("2006-01-02T15:04:05Z")})
	}
	return out, nil
}

// Similar returns up to limit products like the given one: the same
// category, ranked by how many words of its name they share, then by how
// close their price is in the same currency.
func (m *Market) Similar(ctx context.Context, id uuid.UUID, limit int) ([]Hit, error) {
	if _, err := m.Product(ctx, id); err != nil {
		return nil, err
	}
	const sql = `WITH src AS (
	SELECT category, currency, from_unit_minor,
	       nullif(replace(plainto_tsquery('english', name)::text, ' & ', ' | '), '')::tsquery AS words
	FROM products WHERE id = $1)
SELECT ` + hitColumns + `, p.from_unit_minor, coalesce(ts_rank(p.search, src.words), 0)::float8 AS score
FROM products p CROSS JOIN src
JOIN supplier_profiles s ON s.org_id = p.supplier_org_id JOIN organizations o ON o.id = p.supplier_org_id
WHERE p.category = src.category AND p.id <> $1
ORDER BY coalesce(ts_rank(p.search, src.words), 0) DESC,
         (p.currency = src.currency) DESC, abs(p.from_unit_minor - src.from_unit_minor), p.id
LIMIT $2`
	rows, err := m.db.Query(ctx, sql, id, limit)
	if err != nil {
		return nil, fmt.Errorf("similar products of %s: %w", id, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Hit, error) { return scanHit(r) })
}

// scanHit reads a row of hitColumns, the unit price and the score, then
// any further columns into extra.
func scanHit(r pgx.CollectableRow, extra ...any) (Hit, error) {
	var h Hit
	var g store.GetProductRow
	err := r.Scan(append([]any{&g.ID, &g.SupplierOrgID, &g.Sku, &g.Name, &g.Description, &g.Category, &g.Unit, &g.Moq,
		&g.Currency, &g.TierMinQty, &g.TierUnitMinor, &g.FromUnitMinor, &g.LeadTimeDays, &g.Certifications,
		&g.Customizable, &g.OriginRegion, &g.SampleAvailable, &g.SamplePriceMinor, &g.CreatedAt, &g.UpdatedAt,
		&h.SupplierName, &h.SupplierTier, &h.ResponseRating, &h.SupplierVerified, &h.SupplierGold, &h.UnitPrice, &h.Score}, extra...)...)
	h.Product = productFromRow(g)
	return h, err
}

// HitColumns are the columns ScanHit reads first, over products p,
// supplier profiles s and organizations o; the unit price and the score
// follow them.
const HitColumns = hitColumns

// ScanHit reads a row of HitColumns, the unit price and the score, then
// any further columns into extra.
func ScanHit(r pgx.CollectableRow, extra ...any) (Hit, error) { return scanHit(r, extra...) }
