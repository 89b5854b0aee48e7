package ads

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/marketplace"
)

// Viewer is who searches or clicks: a user of an organization, and
// whether it buys (only buyers' searches count impressions, only their
// clicks are charged).
type Viewer struct {
	User, Org uuid.UUID
	Buyer     bool
}

// Sponsored is an ad shown with a search: its product as the search
// found it, and the signed token its click carries (the price its
// auction fixed, for this viewer, for ClickWindow).
type Sponsored struct {
	marketplace.Hit
	AdID       uuid.UUID `json:"ad_id"`
	Sponsored  bool      `json:"sponsored"`
	ClickToken string    `json:"click_token"`

	price   int64 // per click, minor units
	quality int64
	maxCPC  int64
}

// bid is an ad in an auction, best first.
type bid struct {
	maxCPC, quality int64
}

func (b bid) rank() int64 { return b.maxCPC * b.quality }

// Quality is the whole quality of a product whose search score is score.
func Quality(score float64) int64 {
	return max(1, int64(math.Floor(score*QualityScale+0.5)))
}

// secondPrices fixes the price per click of the first Places of bids
// (ranked best first): the least that would have kept each one's place,
// the next one's rank divided by its own quality plus one minor unit, at
// most its own maximum; the last one shown without a next pays
// ReservePrice.
func secondPrices(bids []bid) []int64 {
	n := min(len(bids), Places)
	out := make([]int64, n)
	for i := range n {
		if i+1 < len(bids) {
			out[i] = min(bids[i].maxCPC, bids[i+1].rank()/bids[i].quality+1)
		} else {
			out[i] = min(bids[i].maxCPC, ReservePrice)
		}
	}
	return out
}

// QueryTerms is the text of a search's query whose words ads match: its
// words but those excluded (-word).
func QueryTerms(q string) string {
	var kept []string
	for w := range strings.FieldsSeq(q) {
		if !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, `"-`) {
			kept = append(kept, w)
		}
	}
	return strings.Join(kept, " ")
}

// Auction picks the sponsored results of the first page of search p (a
// later page shows none): the active ads whose keyword's terms are all
// among the query's, with budget left today, in the search's currency
// (DefaultCurrency without one), whose product the search itself finds
// with every filter, but not organicFirst (the first organic result,
// uuid.Nil for none: it is already on top). One ad per supplier, its
// best. They rank by max CPC × quality; the first Places are shown, each
// at its second price. A buyer's search counts their impressions, in the
// same statement.
func (s *Service) Auction(ctx context.Context, p marketplace.SearchParams, organicFirst uuid.UUID, v Viewer) ([]Sponsored, error) {
	terms := QueryTerms(p.Query)
	if p.Cursor != "" || terms == "" {
		return nil, nil
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	sql, args := auctionSQL(p, terms, organicFirst, v.Buyer, day(s.now()))
	rows, err := s.db.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("ad auction: %w", err)
	}
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Sponsored, error) {
		var sp Sponsored
		var org uuid.UUID
		var created time.Time
		var rank int64
		h, err := marketplace.ScanHit(r, &sp.AdID, &org, &sp.maxCPC, &created, &rank)
		sp.Hit, sp.Sponsored = h, true
		sp.quality = Quality(h.Score)
		return sp, err
	})
	if err != nil {
		return nil, fmt.Errorf("ad auction: %w", err)
	}
	// The database ranked them to pick the few; the order and prices are
	// fixed here in whole numbers (the same ranks, stable for ties).
	slices.SortStableFunc(found, func(a, b Sponsored) int {
		return cmp.Compare(b.maxCPC*b.quality, a.maxCPC*a.quality)
	})
	bids := make([]bid, len(found))
	for i, f := range found {
		bids[i] = bid{maxCPC: f.maxCPC, quality: f.quality}
	}
	prices := secondPrices(bids)
	shown := found[:len(prices)]
	key, err := s.clickKey(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for i := range shown {
		shown[i].price = prices[i]
		shown[i].ClickToken = signClick(key, clickClaim{Ad: shown[i].AdID, User: v.User, Price: prices[i], IssuedAt: now.Unix()})
	}
	return shown, nil
}

// auctionSQL is the auction of search p (validated) whose query's terms
// are terms: the best Places+1 ads' products as the search finds them,
// with each ad's ID, organization, maximum, creation and rank; counting
// the first Places' impressions on today when count is true.
func auctionSQL(p marketplace.SearchParams, terms string, organicFirst uuid.UUID, count bool, today pgtype.Date) (string, []any) {
	currency := p.Currency
	if currency == "" {
		currency = DefaultCurrency
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	f := p.Filters(arg)
	dayArg := arg(today)
	cur := arg(currency)
	// The candidates come from the ads (few), each product then looked up
	// by its key and held to the search's filters: the products' text
	// index, which the organic search has just used, is not scanned again.
	cand := "SELECT a.id, a.supplier_org_id, a.product_id, a.max_cpc_minor, a.created_at FROM ads a" +
		" WHERE a.active AND a.currency = " + cur + " AND a.product_id <> " + arg(organicFirst) +
		" AND a.terms <@ (SELECT tsvector_to_array(to_tsvector('english', " + arg(terms) + ")))" +
		" AND a.daily_budget_minor > (SELECT coalesce(sum(c.charged_minor), 0) FROM ad_clicks c WHERE c.ad_id = a.id AND c.day = " + dayArg + "::date)"
	where := append([]string{"p.id = cand.product_id", "p.currency = " + cur}, f.Where...)
	product := "SELECT " + marketplace.HitColumns + ", " + f.Price + " AS unit_price, " + f.Score + " AS score" +
		" FROM products p JOIN supplier_profiles s ON s.org_id = p.supplier_org_id JOIN organizations o ON o.id = p.supplier_org_id" +
		" WHERE " + strings.Join(where, " AND ")
	ranked := "SELECT DISTINCT ON (h.ad_org) h.*, h.max_cpc_minor * greatest(1, floor(h.score * " +
		strconv.Itoa(QualityScale) + " + 0.5))::bigint AS rank" +
		" FROM (SELECT x.*, cand.id AS ad_id, cand.supplier_org_id AS ad_org, cand.max_cpc_minor, cand.created_at AS ad_created" +
		" FROM cand, LATERAL (" + product + ") x) h"
	if len(f.Outer) > 0 {
		ranked += " WHERE " + strings.Join(f.Outer, " AND ")
	}
	ranked += " ORDER BY h.ad_org, rank DESC, h.ad_created, h.ad_id"
	sql := "WITH cand AS MATERIALIZED (" + cand + ")" +
		", top AS (SELECT * FROM (" + ranked + ") r ORDER BY r.rank DESC, r.ad_created, r.ad_id LIMIT " + strconv.Itoa(Places+1) + ")"
	if count {
		sql += ", shown AS (SELECT ad_id FROM top ORDER BY rank DESC, ad_created, ad_id LIMIT " + strconv.Itoa(Places) + ")" +
			", counted AS (INSERT INTO ad_impressions (ad_id, day, impressions)" +
			" SELECT ad_id, " + dayArg + "::date, 1 FROM shown ORDER BY ad_id" +
			" ON CONFLICT (ad_id, day) DO UPDATE SET impressions = ad_impressions.impressions + 1)"
	}
	sql += " SELECT * FROM top ORDER BY rank DESC, ad_created, ad_id"

	return sql, args
}

// clickClaim is what a click token says: who may click which ad, at what
// price, since when.
type clickClaim struct {
	Ad, User uuid.UUID
	Price    int64
	IssuedAt int64 // Unix seconds
}

const claimSize = 16 + 16 + 8 + 8

func signClick(key []byte, c clickClaim) string {
	b := make([]byte, 0, claimSize+sha256.Size)
	b = append(b, c.Ad[:]...)
	b = append(b, c.User[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(c.Price))
	b = binary.BigEndian.AppendUint64(b, uint64(c.IssuedAt))
	m := hmac.New(sha256.New, key)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(b))
}

// verifyClick reads a token signClick made with key, or says it is not one.
func verifyClick(key []byte, token string) (clickClaim, bool) {
	if len(token) > 2*(claimSize+sha256.Size) {
		return clickClaim{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != claimSize+sha256.Size {
		return clickClaim{}, false
	}
	m := hmac.New(sha256.New, key)
	m.Write(b[:claimSize])
	if !hmac.Equal(m.Sum(nil), b[claimSize:]) {
		return clickClaim{}, false
	}
	var c clickClaim
	copy(c.Ad[:], b[0:16])
	copy(c.User[:], b[16:32])
	c.Price = int64(binary.BigEndian.Uint64(b[32:40]))
	c.IssuedAt = int64(binary.BigEndian.Uint64(b[40:48]))
	return c, c.Price > 0
}

// clickKey is the database's click-signing key, read once.
func (s *Service) clickKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key == nil {
		k, err := store.New(s.db).AdClickKey(ctx)
		if err != nil {
			return nil, fmt.Errorf("the ads' click key: %w", err)
		}
		s.key = k
	}
	return s.key, nil
}
