package ads

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestSecondPricesAreExactInMinorUnits(t *testing.T) {
	for _, c := range []struct {
		name string
		bids []bid
		want []int64
	}{
		{"one ad pays the reserve", []bid{{500, 800}}, []int64{ReservePrice}},
		{"equal qualities: the next bid plus one", []bid{{500, 1000}, {400, 1000}, {300, 1000}}, []int64{401, 301, 1}},
		// Ranks 360,000 / 300,000 / 200,000 / 100,000: the first pays
		// ⌊300,000 / 1,200⌋ + 1 = 251, the second ⌊200,000 / 500⌋ + 1 =
		// 401, the third ⌊100,000 / 1,000⌋ + 1 = 101; the fourth is not
		// shown.
		{"relevance counts", []bid{{300, 1200}, {600, 500}, {200, 1000}, {1000, 100}}, []int64{251, 401, 101}},
		// A tie keeps its place at its own maximum, never above it.
		{"a tie pays its maximum", []bid{{500, 1000}, {500, 1000}}, []int64{500, 1}},
		// ⌊1,000 / 3⌋ + 1 = 334: the least whole price whose rank, 334 ×
		// 3 = 1,002, still beats 1,000.
		{"rounding down then one more", []bid{{400, 3}, {100, 10}}, []int64{334, 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.want, secondPrices(c.bids))
		})
	}
	assert.Equal(t, int64(1), Quality(0), "a product found has a quality of at least 1")
	assert.Equal(t, int64(1235), Quality(1.2345))
}

func TestKeywordsAreNormalisedAndBounded(t *testing.T) {
	k, err := NormaliseKeyword("  LED   Panel ")
	require.NoError(t, err)
	assert.Equal(t, "led panel", k)
	k, err = NormaliseKeyword("节能 灯")
	require.NoError(t, err)
	assert.Equal(t, "节能 灯", k)
	for name, in := range map[string]string{
		"empty": " ", "NUL": "led\x00panel", "newline": "led\npanel", "tab": "led\tpanel", "escape": "led\x1b[31m",
		"invalid UTF-8": "led\xffpanel", "too long": strings.Repeat("a", MaxKeywordLength+1), "DEL": "led\x7f",
	} {
		_, err := NormaliseKeyword(in)
		var fe *FieldError
		if assert.ErrorAs(t, err, &fe, name) {
			assert.Equal(t, "keyword", fe.Field, name)
		}
	}
	_, err = NormaliseKeyword(strings.Repeat("灯", MaxKeywordLength))
	assert.NoError(t, err, "the limit is in characters, not bytes")
}

func TestClickTokensCannotBeForged(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	c := clickClaim{Ad: uuid.New(), User: uuid.New(), Price: 301, IssuedAt: 1_700_000_000}
	tok := signClick(key, c)
	got, ok := verifyClick(key, tok)
	require.True(t, ok)
	assert.Equal(t, c, got)
	// The price changed in the token, another key, garbage, truncation.
	raw := []byte(tok)
	raw[45] ^= 1
	for name, bad := range map[string]string{"altered": string(raw), "": "", "garbage": "!!!", "short": tok[:40], "long": tok + tok} {
		_, ok := verifyClick(key, bad)
		assert.False(t, ok, name)
	}
	_, ok = verifyClick([]byte(strings.Repeat("x", 32)), tok)
	assert.False(t, ok, "signed with another key")
}

// env is a database with a marketplace and the ads.
type env struct {
	pool *pgxpool.Pool
	m    *marketplace.Market
	s    *Service
	now  time.Time
}

func newEnv(t *testing.T) *env {
	e := &env{pool: testenv.Postgres(t), now: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	e.m = marketplace.New(e.pool)
	e.s = New(e.pool, nil)
	e.s.now = func() time.Time { return e.now }
	return e
}

// org makes an organization with one user of the role.
func (e *env) org(t *testing.T, name, role string) Viewer {
	t.Helper()
	ctx := context.Background()
	v := Viewer{Buyer: role == "buyer"}
	require.NoError(t, e.pool.QueryRow(ctx, `INSERT INTO organizations (name) VALUES ($1) RETURNING id`, name).Scan(&v.Org))
	require.NoError(t, e.pool.QueryRow(ctx, `INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, $3, $4) RETURNING id`,
		v.Org, fmt.Sprintf("%s@%s.example", role, v.Org), name, role).Scan(&v.User))
	return v
}

func (e *env) product(t *testing.T, sup Viewer, sku, name, description, category string) uuid.UUID {
	t.Helper()
	p, _, err := e.m.SaveProduct(context.Background(), sup.Org, marketplace.ProductInput{SKU: sku, Name: name, Description: description,
		Category: category, Unit: "piece", MOQ: 100, Currency: "USD", LeadTimeDays: 20, OriginRegion: "CN",
		PriceTiers: []marketplace.PriceTier{{MinQuantity: 100, UnitPrice: 1250}}})
	require.NoError(t, err)
	return p.ID
}

func (e *env) ad(t *testing.T, sup Viewer, product uuid.UUID, keyword string, maxCPC, budget int64) Ad {
	t.Helper()
	a, err := e.s.Create(context.Background(), sup.Org, NewAd{ProductID: product, Keyword: keyword, MaxCPC: maxCPC, DailyBudget: budget})
	require.NoError(t, err)
	return a
}

// ledgerSum is the sum of every ledger line per currency: zero when the
// ledger balances.
func (e *env) ledgerSum(t *testing.T) map[string]int64 {
	rows, err := e.pool.Query(context.Background(), `SELECT currency, sum(amount)::bigint FROM ledger_lines GROUP BY currency`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var c string
		var n int64
		require.NoError(t, rows.Scan(&c, &n))
		out[c] = n
	}
	return out
}

// TestTheAuctionRanksByBidTimesQualityAtSecondPrices: four suppliers bid
// on "led panel"; the search's organic first is left out, one supplier's
// second ad does not compete with its first, a filter excludes the
// products it excludes, and the three shown pay the prices their
// neighbours' ranks fix.
func TestTheAuctionRanksByBidTimesQualityAtSecondPrices(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	top := e.org(t, "Top Lights", "supplier")
	a := e.org(t, "Alpha", "supplier")
	b := e.org(t, "Bravo", "supplier")
	c := e.org(t, "Charlie", "supplier")
	d := e.org(t, "Delta", "supplier")
	buyer := e.org(t, "Buyer", "buyer")
	// The organic first: the best text match, and bidding too.
	first := e.product(t, top, "T1", "LED panel LED panel light", "LED panel", "led-lighting")
	pa := e.product(t, a, "A1", "LED panel", "", "led-lighting")
	pb := e.product(t, b, "B1", "Ceiling light", "an LED panel for offices", "led-lighting")
	pb2 := e.product(t, b, "B2", "LED panel slim", "", "led-lighting")
	pc := e.product(t, c, "C1", "Office LED panel", "", "led-lighting")
	pd := e.product(t, d, "D1", "LED panel driver", "", "power-supplies")
	e.ad(t, top, first, "led panel", 900, 10_000)
	adA := e.ad(t, a, pa, "LED Panel", 300, 10_000)
	adB := e.ad(t, b, pb, "panel", 2000, 10_000)
	e.ad(t, b, pb2, "led panel", 10, 10_000) // Bravo's weaker ad
	adC := e.ad(t, c, pc, "led panels", 200, 10_000)
	e.ad(t, d, pd, "led panel", 1000, 10_000)
	e.ad(t, a, pa, "outdoor", 1000, 10_000) // another keyword: not in this auction

	p := marketplace.SearchParams{Query: "LED panel", Category: "led-lighting"}
	page, err := e.m.Search(ctx, p)
	require.NoError(t, err)
	require.Equal(t, first, page.Items[0].ID)
	shown, err := e.s.Auction(ctx, p, page.Items[0].ID, buyer)
	require.NoError(t, err)
	require.Len(t, shown, 3)
	for _, s := range shown {
		assert.True(t, s.Sponsored)
		t.Logf("%s %q bid %d quality %d price %d", s.AdID, s.Name, s.maxCPC, s.quality, s.price)
	}
	// Each product's quality is its organic score × 1000, rounded.
	score := map[uuid.UUID]float64{}
	for _, h := range page.Items {
		score[h.ID] = h.Score
	}
	q := func(id uuid.UUID) int64 { return Quality(score[id]) }
	ranked := []struct {
		ad      uuid.UUID
		product uuid.UUID
		bid     int64
	}{{adA.ID, pa, 300}, {adB.ID, pb, 2000}, {adC.ID, pc, 200}}
	// Alpha's exact match outranks Bravo's higher bid on a description
	// match; Charlie's lower bid comes last; Delta's product is in
	// another category, Top Lights' is the organic first.
	require.Greater(t, 300*q(pa), 2000*q(pb), "the test's premise: relevance outweighs Bravo's bid")
	require.Greater(t, 2000*q(pb), 200*q(pc), "the test's premise")
	for i, r := range ranked {
		assert.Equal(t, r.ad, shown[i].AdID, "place %d", i+1)
		assert.Equal(t, r.product, shown[i].ID, "place %d", i+1)
	}
	assert.Equal(t, min(int64(300), 2000*q(pb)/q(pa)+1), shown[0].price)
	assert.Equal(t, min(int64(2000), 200*q(pc)/q(pb)+1), shown[1].price)
	assert.Equal(t, int64(ReservePrice), shown[2].price, "no fourth bidder: the reserve")

	// A second page shows no ads; a search without Bravo's word neither
	// shows Bravo's "panel" ad.
	p2 := p
	p2.Cursor = "x"
	none, err := e.s.Auction(ctx, p2, uuid.Nil, buyer)
	require.NoError(t, err)
	assert.Empty(t, none)
	// A filter the ad's product fails keeps the ad out: Delta's driver
	// only shows when the category is not filtered, and then it is first.
	all, err := e.s.Auction(ctx, marketplace.SearchParams{Query: "LED panel"}, first, buyer)
	require.NoError(t, err)
	require.NotEmpty(t, all)
	assert.Equal(t, pd, all[0].ID)
	// A price filter the products fail keeps every ad out; so does a
	// query that excludes one of the keyword's words.
	cheap, err := e.s.Auction(ctx, marketplace.SearchParams{Query: "LED panel", MaxPrice: 1000, Currency: "USD"}, uuid.Nil, buyer)
	require.NoError(t, err)
	assert.Empty(t, cheap, "every product costs 12.50, above the search's 10.00")
	excluded, err := e.s.Auction(ctx, marketplace.SearchParams{Query: "LED -panel"}, uuid.Nil, buyer)
	require.NoError(t, err)
	assert.Empty(t, excluded)
	// Another currency's search shows no USD ad.
	eur, err := e.s.Auction(ctx, marketplace.SearchParams{Query: "LED panel", Currency: "EUR"}, uuid.Nil, buyer)
	require.NoError(t, err)
	assert.Empty(t, eur)

	// The buyer's two searches counted an impression on each ad shown;
	// a supplier's search counts none.
	_, err = e.s.Auction(ctx, p, first, c)
	require.NoError(t, err)
	st, err := e.s.Get(ctx, a.Org, adA.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(2), st.ImpressionsToday, "the buyer's two searches showed Alpha, the supplier's does not count")
}

// TestConcurrentClicksStopExactlyAtTheBudget: 24 buyers click an ad at
// 3.00 a click with a budget of 10.00 at once: 3.00, 3.00, 3.00 and the
// 1.00 left are charged, nothing more, and the ad leaves the auction for
// the day.
func TestConcurrentClicksStopExactlyAtTheBudget(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sup := e.org(t, "Panels", "supplier")
	rival := e.org(t, "Rival", "supplier")
	pid := e.product(t, sup, "P1", "LED panel", "", "led-lighting")
	rid := e.product(t, rival, "R1", "LED panel", "", "led-lighting")
	ad := e.ad(t, sup, pid, "led panel", 300, 1000)
	e.ad(t, rival, rid, "led panel", 400, 100_000)

	buyers := make([]Viewer, 24)
	tokens := make([]string, len(buyers))
	p := marketplace.SearchParams{Query: "led panel"}
	for i := range buyers {
		buyers[i] = e.org(t, fmt.Sprintf("Buyer %d", i), "buyer")
		shown, err := e.s.Auction(ctx, p, uuid.Nil, buyers[i])
		require.NoError(t, err)
		for _, s := range shown {
			if s.AdID == ad.ID {
				tokens[i] = s.ClickToken
				// The rival outbids: second place pays the reserve; first
				// place would pay ⌊300 × q / q⌋ + 1 = 301 at most 400.
				assert.Equal(t, int64(ReservePrice), s.price)
			}
		}
		require.NotEmpty(t, tokens[i])
	}
	// Make the price 3.00 as in the issue: re-sign the tokens at 300.
	key, err := e.s.clickKey(ctx)
	require.NoError(t, err)
	for i := range tokens {
		tokens[i] = signClick(key, clickClaim{Ad: ad.ID, User: buyers[i].User, Price: 300, IssuedAt: e.now.Unix()})
	}

	clicks := make([]Click, len(buyers))
	errs := make([]error, len(buyers))
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Go(func() { clicks[i], errs[i] = e.s.Click(ctx, buyers[i], ad.ID, tokens[i]) })
	}
	wg.Wait()
	var charged []int64
	var total int64
	for i, c := range clicks {
		require.NoError(t, errs[i])
		if c.Charged > 0 {
			charged = append(charged, c.Charged)
			total += c.Charged
		} else {
			assert.Equal(t, OutcomeBudgetSpent, c.Outcome)
		}
	}
	assert.ElementsMatch(t, []int64{300, 300, 300, 100}, charged)
	assert.Equal(t, int64(1000), total)
	st, err := e.s.Get(ctx, sup.Org, ad.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(1000), st.SpendToday)
	assert.Equal(t, int64(0), st.BudgetLeftToday)
	assert.Equal(t, int64(4), st.Clicks)
	assert.Equal(t, int64(20), st.UnbilledClicks)
	var owed int64
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT coalesce(sum(amount), 0)::bigint FROM ledger_lines WHERE account = $1`, Account(sup.Org)).Scan(&owed))
	assert.Equal(t, int64(-1000), owed)
	assert.Equal(t, map[string]int64{"USD": 0}, e.ledgerSum(t))

	// Spent: the ad is out of today's auctions, back tomorrow (UTC).
	shown, err := e.s.Auction(ctx, p, uuid.Nil, buyers[0])
	require.NoError(t, err)
	for _, s := range shown {
		assert.NotEqual(t, ad.ID, s.AdID)
	}
	e.now = e.now.Add(14 * time.Hour)
	shown, err = e.s.Auction(ctx, p, uuid.Nil, buyers[0])
	require.NoError(t, err)
	require.Len(t, shown, 2)
}

// TestOnlyABuyersFirstClickInAnHourIsCharged, and never a supplier's,
// a forged one or another user's link.
func TestOnlyABuyersFirstClickInAnHourIsCharged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sup := e.org(t, "Panels", "supplier")
	other := e.org(t, "Other", "supplier")
	buyer := e.org(t, "Buyer", "buyer")
	thief := e.org(t, "Thief", "buyer")
	pid := e.product(t, sup, "P1", "LED panel", "", "led-lighting")
	ad := e.ad(t, sup, pid, "led panel", 300, 100_000)
	p := marketplace.SearchParams{Query: "led panel"}
	token := func(v Viewer) string {
		shown, err := e.s.Auction(ctx, p, uuid.Nil, v)
		require.NoError(t, err)
		require.Len(t, shown, 1)
		return shown[0].ClickToken
	}
	click := func(v Viewer, tok string) Click {
		c, err := e.s.Click(ctx, v, ad.ID, tok)
		require.NoError(t, err)
		return c
	}
	tok := token(buyer)
	assert.Equal(t, OutcomeCharged, click(buyer, tok).Outcome)
	assert.Equal(t, OutcomeRepeat, click(buyer, tok).Outcome, "a replay within the hour is not charged")
	e.now = e.now.Add(59 * time.Minute)
	assert.Equal(t, OutcomeRepeat, click(buyer, token(buyer)).Outcome)
	e.now = e.now.Add(2 * time.Minute)
	assert.Equal(t, OutcomeExpired, click(buyer, tok).Outcome, "the first link is older than an hour")
	assert.Equal(t, OutcomeCharged, click(buyer, token(buyer)).Outcome, "a new search an hour after the charged click")

	assert.Equal(t, OutcomeOwnAd, click(sup, token(sup)).Outcome)
	assert.Equal(t, OutcomeNotBuyer, click(other, token(other)).Outcome)
	_, err := e.s.Click(ctx, thief, ad.ID, tok)
	assert.ErrorIs(t, err, ErrBadToken, "another user's link")
	_, err = e.s.Click(ctx, buyer, uuid.New(), tok)
	assert.ErrorIs(t, err, ErrBadToken, "the link of another ad")
	_, err = e.s.Click(ctx, buyer, ad.ID, "forged")
	assert.ErrorIs(t, err, ErrBadToken)

	_, err = e.s.Update(ctx, sup.Org, ad.ID, Change{Active: new(false)})
	require.NoError(t, err)
	thiefTok := signClick(e.s.key, clickClaim{Ad: ad.ID, User: thief.User, Price: 300, IssuedAt: e.now.Unix()})
	assert.Equal(t, OutcomePaused, click(thief, thiefTok).Outcome)

	st, err := e.s.Get(ctx, sup.Org, ad.ID)
	require.NoError(t, err)
	assert.Equal(t, int64(2*ReservePrice), st.Spend, "the only bidder pays the reserve")
	assert.Equal(t, int64(2), st.Clicks)
	assert.Equal(t, map[string]int64{"USD": 0}, e.ledgerSum(t))
}

func TestAdsAreBoundedAndOwned(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sup := e.org(t, "Panels", "supplier")
	other := e.org(t, "Other", "supplier")
	pid := e.product(t, sup, "P1", "LED panel", "", "led-lighting")
	oid := e.product(t, other, "O1", "LED panel", "", "led-lighting")
	field := func(err error) string {
		var fe *FieldError
		if errors.As(err, &fe) {
			return fe.Field
		}
		return fmt.Sprint(err)
	}
	for _, c := range []struct {
		in   NewAd
		want string
	}{
		{NewAd{ProductID: oid, Keyword: "led", MaxCPC: 10, DailyBudget: 100}, "product_id"},
		{NewAd{ProductID: uuid.New(), Keyword: "led", MaxCPC: 10, DailyBudget: 100}, "product_id"},
		{NewAd{ProductID: pid, Keyword: "the and", MaxCPC: 10, DailyBudget: 100}, "keyword"},
		{NewAd{ProductID: pid, Keyword: "led", MaxCPC: 0, DailyBudget: 100}, "max_cpc"},
		{NewAd{ProductID: pid, Keyword: "led", MaxCPC: -5, DailyBudget: 100}, "max_cpc"},
		{NewAd{ProductID: pid, Keyword: "led", MaxCPC: MaxCPC + 1, DailyBudget: MaxDailyBudget}, "max_cpc"},
		{NewAd{ProductID: pid, Keyword: "led", MaxCPC: 100, DailyBudget: 99}, "daily_budget"},
		{NewAd{ProductID: pid, Keyword: "led", MaxCPC: 100, DailyBudget: MaxDailyBudget + 1}, "daily_budget"},
	} {
		_, err := e.s.Create(ctx, sup.Org, c.in)
		assert.Equal(t, c.want, field(err), "%+v", c.in)
	}
	a := e.ad(t, sup, pid, "led", 10, 100)
	_, err := e.s.Create(ctx, sup.Org, NewAd{ProductID: pid, Keyword: " LED ", MaxCPC: 10, DailyBudget: 100})
	assert.Equal(t, "keyword", field(err), "the same keyword and product twice")
	_, err = e.s.Update(ctx, other.Org, a.ID, Change{Active: new(false)})
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, e.s.Delete(ctx, other.Org, a.ID), ErrNotFound)
	_, err = e.s.Get(ctx, other.Org, a.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = e.s.Update(ctx, sup.Org, a.ID, Change{DailyBudget: new(int64(5))})
	assert.Equal(t, "daily_budget", field(err))

	// The cap holds with creations at once.
	errs := make([]error, MaxAdsPerSupplier+20)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = e.s.Create(ctx, sup.Org, NewAd{ProductID: pid, Keyword: fmt.Sprintf("word%d", i), MaxCPC: 10, DailyBudget: 100})
		})
	}
	wg.Wait()
	tooMany := 0
	for _, err := range errs {
		if errors.Is(err, ErrTooMany) {
			tooMany++
		} else {
			require.NoError(t, err)
		}
	}
	assert.Equal(t, 21, tooMany, "one ad was there before")
	list, err := e.s.List(ctx, sup.Org)
	require.NoError(t, err)
	assert.Len(t, list, MaxAdsPerSupplier)
}
