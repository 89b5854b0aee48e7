// Package ads runs search ads: suppliers' keyword bids for their products
// (campaigns), the auction that picks the sponsored results of a search
// and fixes each one's price per click, the clicks charged against an
// ad's daily budget as ledger postings, and each ad's figures.
//
// Money is integer minor units of the ad's currency, the currency of the
// product it promotes. What an ad spent today is always the sum of its
// charged clicks' rows, written in the transaction of their ledger
// postings, never a counter.
package ads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/money"
)

// Limits and prices of the ads.
const (
	// MaxAdsPerSupplier is how many ads one supplier organization keeps.
	MaxAdsPerSupplier = 200
	// MaxKeywordLength is a keyword's length in characters, normalised.
	MaxKeywordLength = 80
	// MaxCPC bounds the maximum price per click, in minor units.
	MaxCPC = 1_000_000
	// MaxDailyBudget bounds the daily budget, in minor units.
	MaxDailyBudget = 100_000_000
	// Places is how many sponsored results a search shows.
	Places = 3
	// ReservePrice is what the last ad shown pays per click when no other
	// ad competed for its place, in minor units.
	ReservePrice = 1
	// QualityScale turns a product's relevance to a search (its search
	// score) into a whole quality: quality = max(1, round(score ×
	// QualityScale)), so the auction's arithmetic is exact.
	QualityScale = 1000
	// ClickWindow is how long a click link stays valid after its search,
	// and how long after a charged click the same buyer's further clicks
	// on the ad are not charged.
	ClickWindow = time.Hour
	// DefaultCurrency is the auction's currency when the search names none.
	DefaultCurrency = "USD"
)

// RevenueAccount is the ledger account ad clicks are charged to.
const RevenueAccount = "platform:ad-revenue"

// Account is the ledger account of what a supplier owes for its ads,
// settled by invoice: charged clicks take it below zero.
func Account(org uuid.UUID) string { return "ads:" + org.String() }

// Errors.
var (
	// ErrNotFound is an ad that does not exist or is another supplier's.
	ErrNotFound = errors.New("no such ad")
	// ErrTooMany is an ad beyond MaxAdsPerSupplier.
	ErrTooMany = fmt.Errorf("a supplier keeps at most %d ads", MaxAdsPerSupplier)
)

// FieldError says what is wrong with one field of an ad.
type FieldError struct{ Field, Message string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Stats are an ad's figures: today's (the UTC day) and all time's.
type Stats struct {
	ImpressionsToday int64 `json:"impressions_today"`
	Impressions      int64 `json:"impressions"`
	ClicksToday      int64 `json:"clicks_today"`
	// Clicks are the charged clicks; UnbilledClicks the others (repeats
	// within the hour, clicks by non-buyers, after the budget ran out).
	Clicks         int64 `json:"clicks"`
	UnbilledClicks int64 `json:"unbilled_clicks"`
	SpendToday     int64 `json:"spend_today"`
	Spend          int64 `json:"spend"`
}

// Ad is one of a supplier's keyword bids, with its figures.
type Ad struct {
	ID          uuid.UUID `json:"id"`
	ProductID   uuid.UUID `json:"product_id"`
	ProductName string    `json:"product_name"`
	Keyword     string    `json:"keyword"`
	Currency    string    `json:"currency"`
	MaxCPC      int64     `json:"max_cpc"`
	DailyBudget int64     `json:"daily_budget"`
	// BudgetLeftToday is what the ad may still spend today.
	BudgetLeftToday int64     `json:"budget_left_today"`
	Active          bool      `json:"active"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	Stats
}

// NewAd is an ad to make. Active nil is true.
type NewAd struct {
	ProductID   uuid.UUID
	Keyword     string
	MaxCPC      int64
	DailyBudget int64
	Active      *bool
}

// Change changes an ad's bid, budget or state; nil leaves a value.
type Change struct {
	MaxCPC      *int64
	DailyBudget *int64
	Active      *bool
}

// Service keeps the ads.
type Service struct {
	db     *pgxpool.Pool
	logger *slog.Logger
	now    func() time.Time

	keyMu sync.Mutex
	key   []byte // the click links' HMAC key, read once
}

// New keeps ads in db.
func New(db *pgxpool.Pool, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{db: db, logger: logger, now: time.Now}
}

// NormaliseKeyword is a keyword as ads keep it: lower case, words
// separated by single spaces. It refuses invalid UTF-8, control
// characters (NUL, tab and newline too: a keyword is one line) and
// keywords empty or longer than MaxKeywordLength characters.
func NormaliseKeyword(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", &FieldError{"keyword", "is not valid UTF-8"}
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", &FieldError{"keyword", "has a control character"}
		}
		if r == utf8.RuneError {
			// What a JSON decoder makes of bytes that are not UTF-8.
			return "", &FieldError{"keyword", "is not valid UTF-8"}
		}
	}
	k := strings.Join(strings.Fields(strings.ToLower(s)), " ")
	if k == "" {
		return "", &FieldError{"keyword", "is required"}
	}
	if n := utf8.RuneCountInString(k); n > MaxKeywordLength {
		return "", &FieldError{"keyword", fmt.Sprintf("is at most %d characters (%d)", MaxKeywordLength, n)}
	}
	return k, nil
}

func checkBid(maxCPC, budget int64) error {
	if maxCPC < 1 || maxCPC > MaxCPC {
		return &FieldError{"max_cpc", fmt.Sprintf("is between 1 and %s minor units", money.Count(MaxCPC))}
	}
	if budget < maxCPC || budget > MaxDailyBudget {
		return &FieldError{"daily_budget", fmt.Sprintf("is at least max_cpc and at most %s minor units", money.Count(MaxDailyBudget))}
	}
	return nil
}

// Create makes an ad of supplier org for one of its own products.
func (s *Service) Create(ctx context.Context, org uuid.UUID, in NewAd) (Ad, error) {
	keyword, err := NormaliseKeyword(in.Keyword)
	if err != nil {
		return Ad{}, err
	}
	if err := checkBid(in.MaxCPC, in.DailyBudget); err != nil {
		return Ad{}, err
	}
	active := in.Active == nil || *in.Active
	id := uuid.New()
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		p, err := q.GetProduct(ctx, in.ProductID)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && p.SupplierOrgID != org) {
			// Another supplier's product reads as none: an ad does not
			// confirm what others list.
			return &FieldError{"product_id", "is not one of your products"}
		}
		if err != nil {
			return fmt.Errorf("the product %s: %w", in.ProductID, err)
		}
		terms, err := q.KeywordTerms(ctx, keyword)
		if err != nil {
			return fmt.Errorf("the terms of %q: %w", keyword, err)
		}
		if len(terms) == 0 {
			return &FieldError{"keyword", "has no searchable word (only words such as \"the\" or \"and\", or punctuation)"}
		}
		if err := q.LockSupplierAds(ctx, org.String()); err != nil {
			return fmt.Errorf("lock the supplier's ads: %w", err)
		}
		n, err := q.CountSupplierAds(ctx, org)
		if err != nil {
			return fmt.Errorf("count the supplier's ads: %w", err)
		}
		if n >= MaxAdsPerSupplier {
			return ErrTooMany
		}
		_, err = q.InsertAd(ctx, store.InsertAdParams{ID: id, SupplierOrgID: org, ProductID: p.ID, Keyword: keyword, Terms: terms,
			Currency: p.Currency, MaxCpcMinor: in.MaxCPC, DailyBudgetMinor: in.DailyBudget, Active: active})
		if errors.Is(err, pgx.ErrNoRows) {
			return &FieldError{"keyword", fmt.Sprintf("you already have an ad for %q on this product: change that one", keyword)}
		}
		if err != nil {
			return fmt.Errorf("insert ad: %w", err)
		}
		return nil
	})
	if err != nil {
		return Ad{}, err
	}
	return s.Get(ctx, org, id)
}

// Update changes one of supplier org's ads.
func (s *Service) Update(ctx context.Context, org, id uuid.UUID, ch Change) (Ad, error) {
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		a, err := q.GetOwnAd(ctx, store.GetOwnAdParams{ID: id, SupplierOrgID: org})
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("ad %s: %w", id, err)
		}
		if ch.MaxCPC != nil {
			a.MaxCpcMinor = *ch.MaxCPC
		}
		if ch.DailyBudget != nil {
			a.DailyBudgetMinor = *ch.DailyBudget
		}
		if ch.Active != nil {
			a.Active = *ch.Active
		}
		if err := checkBid(a.MaxCpcMinor, a.DailyBudgetMinor); err != nil {
			return err
		}
		if _, err := q.UpdateAd(ctx, store.UpdateAdParams{ID: id, SupplierOrgID: org, MaxCpcMinor: a.MaxCpcMinor,
			DailyBudgetMinor: a.DailyBudgetMinor, Active: a.Active}); err != nil {
			return fmt.Errorf("update ad %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return Ad{}, err
	}
	return s.Get(ctx, org, id)
}

// Delete removes one of supplier org's ads with its figures; the ledger
// keeps what its clicks were charged.
func (s *Service) Delete(ctx context.Context, org, id uuid.UUID) error {
	n, err := store.New(s.db).DeleteAd(ctx, store.DeleteAdParams{ID: id, SupplierOrgID: org})
	if err != nil {
		return fmt.Errorf("delete ad %s: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// List is supplier org's ads, oldest first, with their figures.
func (s *Service) List(ctx context.Context, org uuid.UUID) ([]Ad, error) {
	return s.list(ctx, org, pgtype.UUID{})
}

// Get is one of supplier org's ads with its figures.
func (s *Service) Get(ctx context.Context, org, id uuid.UUID) (Ad, error) {
	list, err := s.list(ctx, org, pgtype.UUID{Bytes: id, Valid: true})
	if err != nil {
		return Ad{}, err
	}
	if len(list) == 0 {
		return Ad{}, ErrNotFound
	}
	return list[0], nil
}

func (s *Service) list(ctx context.Context, org uuid.UUID, id pgtype.UUID) ([]Ad, error) {
	rows, err := store.New(s.db).ListAdStats(ctx, store.ListAdStatsParams{Day: day(s.now()), SupplierOrgID: org, ID: id})
	if err != nil {
		return nil, fmt.Errorf("ads of %s: %w", org, err)
	}
	out := make([]Ad, len(rows))
	for i, r := range rows {
		out[i] = Ad{ID: r.ID, ProductID: r.ProductID, ProductName: r.ProductName, Keyword: r.Keyword, Currency: r.Currency,
			MaxCPC: r.MaxCpcMinor, DailyBudget: r.DailyBudgetMinor, BudgetLeftToday: max(0, r.DailyBudgetMinor-r.SpendToday),
			Active: r.Active, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
			Stats: Stats{ImpressionsToday: r.ImpressionsToday, Impressions: r.ImpressionsTotal, ClicksToday: r.ClicksToday,
				Clicks: r.ClicksTotal, UnbilledClicks: r.UnbilledClicksTotal, SpendToday: r.SpendToday, Spend: r.SpendTotal}}
	}
	return out, nil
}

// day is t's UTC date, the day budgets and figures are counted by.
func day(t time.Time) pgtype.Date {
	y, m, d := t.UTC().Date()
	return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}
}
