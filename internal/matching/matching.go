// Package matching matches a buyer organization with suppliers' offers:
// the buyer states what it buys (categories, budget per order, the lead
// time it needs, regions it prefers), and on its first profile and on
// every change its inbox gets 3 to 5 offers from the catalog (fewer when
// the catalog has fewer that fit), ranked by the dispatch rules, each with
// why it was chosen and a link to its product page, where one step sends
// the inquiry.
package matching

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// Limits of a profile and of the offers.
const (
	MaxCategories   = 10
	MaxRegions      = 20
	MaxLeadTimeDays = 365
	// MaxOffers are the most offers a profile gets; the suppliers ranked
	// below are not sent.
	MaxOffers = 5
	// Kind is the offers' notification kind.
	Kind = "matched_offer"
	// perCategory is how many suppliers of each category are looked at.
	perCategory = 10
)

// Profile is what a buyer organization buys.
type Profile struct {
	Categories []string `json:"categories"`
	// Budget is one order's, in minor units of Currency; 0 for none.
	Budget   int64  `json:"budget_per_order"`
	Currency string `json:"currency"`
	// MaxLeadTimeDays is the longest lead time it can wait; 0 for any.
	MaxLeadTimeDays int      `json:"max_lead_time_days"`
	Regions         []string `json:"regions"`
}

// FieldError says what is wrong with one field of a profile.
type FieldError struct{ Field, Message string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// ErrNoProfile is an organization that has not said what it buys.
var ErrNoProfile = errors.New("no buyer profile")

// Validate checks a profile and puts it in its one form (categories and
// regions sorted and once each).
func (p *Profile) Validate() error {
	if len(p.Categories) < 1 || len(p.Categories) > MaxCategories {
		return &FieldError{"categories", fmt.Sprintf("name between 1 and %d categories", MaxCategories)}
	}
	for _, c := range p.Categories {
		if !marketplace.ValidCategory(c) {
			return &FieldError{"categories", fmt.Sprintf("%.70q is not a category slug such as \"led-lighting\"", c)}
		}
	}
	if len(p.Regions) > MaxRegions {
		return &FieldError{"regions", fmt.Sprintf("at most %d regions", MaxRegions)}
	}
	for _, r := range p.Regions {
		if !marketplace.ValidRegion(r) {
			return &FieldError{"regions", fmt.Sprintf("%.70q is not a region code such as CN or CN-ZJ", r)}
		}
	}
	if !money.KnownCurrency(p.Currency) {
		return &FieldError{"currency", fmt.Sprintf("%.10q is not a supported ISO-4217 currency", p.Currency)}
	}
	if p.Budget < 0 || p.Budget > 1<<53 {
		return &FieldError{"budget_per_order", "is 0 (none) or a positive amount in minor units"}
	}
	if p.MaxLeadTimeDays < 0 || p.MaxLeadTimeDays > MaxLeadTimeDays {
		return &FieldError{"max_lead_time_days", fmt.Sprintf("is 0 (any) or up to %d days", MaxLeadTimeDays)}
	}
	p.Categories, p.Regions = once(p.Categories), once(p.Regions)
	return nil
}

func once(v []string) []string {
	out := slices.Clone(v)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// Offer is one product matched to a buyer.
type Offer struct {
	ProductID    uuid.UUID `json:"product_id"`
	Product      string    `json:"product"`
	Category     string    `json:"category"`
	SupplierID   string    `json:"supplier_id"`
	Supplier     string    `json:"supplier"`
	MOQ          int64     `json:"moq"`
	Unit         string    `json:"unit"`
	UnitPrice    int64     `json:"unit_price"`
	Currency     string    `json:"currency"`
	LeadTimeDays int       `json:"lead_time_days"`
	// Why is why it was chosen: the dispatch ranking's reason and how it
	// fits the profile.
	Why string `json:"why"`
	// score orders offers across categories (the dispatch score).
	score int
}

// Service keeps profiles and matches them.
type Service struct {
	db     *pgxpool.Pool
	market *marketplace.Market
	// publicURL is the platform's address: offers link to its console.
	publicURL string
}

// New matches buyers of db with market's catalog, linking to publicURL.
func New(db *pgxpool.Pool, market *marketplace.Market, publicURL string) *Service {
	return &Service{db: db, market: market, publicURL: strings.TrimRight(publicURL, "/")}
}

// Save keeps org's profile and, in the same transaction, queues its
// offers to its inbox (one notification each): the offers of a profile
// already sent are not sent again, a changed profile's are.
func (s *Service) Save(ctx context.Context, org uuid.UUID, p Profile) (Profile, []Offer, error) {
	if err := p.Validate(); err != nil {
		return Profile{}, nil, err
	}
	offers, err := s.Match(ctx, p)
	if err != nil {
		return Profile{}, nil, err
	}
	version := p.version()
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.SaveBuyerProfile(ctx, store.SaveBuyerProfileParams{OrgID: org, Categories: p.Categories, BudgetMinor: p.Budget,
			Currency: p.Currency, MaxLeadTimeDays: int32(p.MaxLeadTimeDays), Regions: p.Regions}); err != nil {
			return fmt.Errorf("save the buyer profile of %s: %w", org, err)
		}
		for _, o := range offers {
			facts := notice.Facts{Product: o.Product, Supplier: o.Supplier, Amount: o.UnitPrice, Currency: o.Currency, Quantity: o.MOQ,
				Unit: o.Unit, Reason: o.Why, Ref: s.publicURL + "/app/products/" + o.ProductID.String() + "?via=" + string(marketplace.ChannelMatching)}
			raw, err := notice.Encode(&facts)
			if err != nil {
				return err
			}
			if err := q.QueueNotice(ctx, store.QueueNoticeParams{
				Key: "match/" + org.String() + "/" + version + "/" + o.ProductID.String(), OrgID: org.String(), Kind: Kind,
				Text: texts.Text(texts.Default, Kind, facts, ""), Facts: raw,
			}); err != nil {
				return fmt.Errorf("queue an offer: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return Profile{}, nil, err
	}
	return p, offers, nil
}

// version names a profile's content: the same profile saved again is the
// same version, so its offers are not sent twice.
func (p Profile) version() string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%q|%d|%s|%d|%q", p.Categories, p.Budget, p.Currency, p.MaxLeadTimeDays, p.Regions))
	return hex.EncodeToString(sum[:8])
}

// Of is org's profile and the offers that match it now.
func (s *Service) Of(ctx context.Context, org uuid.UUID) (Profile, []Offer, error) {
	row, err := store.New(s.db).GetBuyerProfile(ctx, org)
	if errors.Is(err, pgx.ErrNoRows) {
		return Profile{}, nil, ErrNoProfile
	}
	if err != nil {
		return Profile{}, nil, fmt.Errorf("the buyer profile of %s: %w", org, err)
	}
	p := Profile{Categories: row.Categories, Budget: row.BudgetMinor, Currency: row.Currency, MaxLeadTimeDays: int(row.MaxLeadTimeDays), Regions: row.Regions}
	offers, err := s.Match(ctx, p)
	return p, offers, err
}

// Match is the offers for a profile: in each category, the dispatch
// ranking's suppliers (preferring the profile's regions), each with its
// cheapest product that fits the budget and lead time; across categories
// by ranking score, at most MaxOffers, one per supplier.
func (s *Service) Match(ctx context.Context, p Profile) ([]Offer, error) {
	var all []Offer
	for _, c := range p.Categories {
		ranked, _, err := s.market.Dispatch(ctx, marketplace.DispatchCriteria{Category: c, Regions: p.Regions, Limit: perCategory})
		if err != nil {
			return nil, err
		}
		if len(ranked) == 0 {
			continue
		}
		ids := make([]uuid.UUID, 0, len(ranked))
		for _, r := range ranked {
			if id, err := uuid.Parse(r.OrgID); err == nil {
				ids = append(ids, id)
			}
		}
		rows, err := store.New(s.db).OffersOf(ctx, store.OffersOfParams{Suppliers: ids, Category: c,
			MaxLeadTimeDays: int32(p.MaxLeadTimeDays), BudgetMinor: p.Budget, Currency: p.Currency})
		if err != nil {
			return nil, fmt.Errorf("offers in %s: %w", c, err)
		}
		bySupplier := map[string]store.OffersOfRow{}
		for _, r := range rows {
			bySupplier[r.SupplierOrgID.String()] = r
		}
		for _, r := range ranked {
			row, ok := bySupplier[r.OrgID]
			if !ok {
				continue
			}
			all = append(all, Offer{ProductID: row.ID, Product: row.Name, Category: c, SupplierID: r.OrgID, Supplier: r.Name,
				MOQ: row.Moq, Unit: row.Unit, UnitPrice: row.FromUnitMinor, Currency: row.Currency, LeadTimeDays: int(row.LeadTimeDays),
				Why: why(r, row, p), score: r.Score})
		}
	}
	slices.SortStableFunc(all, func(a, b Offer) int { return b.score - a.score })
	var out []Offer
	seen := map[string]bool{}
	for _, o := range all {
		if len(out) == MaxOffers {
			break
		}
		if !seen[o.SupplierID] {
			seen[o.SupplierID] = true
			out = append(out, o)
		}
	}
	if out == nil {
		out = []Offer{}
	}
	return out, nil
}

// why says why an offer was chosen: the ranking's reason, then how it fits.
func why(r marketplace.Ranked, row store.OffersOfRow, p Profile) string {
	fits := []string{fmt.Sprintf("lead time %d days", row.LeadTimeDays)}
	if p.MaxLeadTimeDays > 0 {
		fits[0] += fmt.Sprintf(" (you need %d at most)", p.MaxLeadTimeDays)
	}
	if p.Budget > 0 {
		fits = append(fits, fmt.Sprintf("its MOQ of %s costs %s, within your %s budget", money.Count(row.Moq),
			money.Format(row.Moq*row.FromUnitMinor, row.Currency), money.Format(p.Budget, p.Currency)))
	}
	if slices.ContainsFunc(p.Regions, func(reg string) bool { return strings.HasPrefix(row.OriginRegion, reg) }) {
		fits = append(fits, "made in "+row.OriginRegion+", a region you prefer")
	}
	return r.Reason + "; " + strings.Join(fits, "; ")
}
