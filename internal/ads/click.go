package ads

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/ledger"
)

// What became of a click: only OutcomeCharged costs the supplier.
const (
	OutcomeCharged     = "charged"
	OutcomeRepeat      = "repeat"       // the buyer's organization was charged for the ad within ClickWindow
	OutcomeNotBuyer    = "not_buyer"    // a supplier, mediator, finance or admin clicked
	OutcomeOwnAd       = "own_ad"       // the ad's own organization clicked
	OutcomeBudgetSpent = "budget_spent" // nothing left of today's budget
	OutcomePaused      = "paused"       // the ad was paused since the search
	OutcomeExpired     = "expired"      // the search was more than ClickWindow ago
)

// ErrBadToken is a click token the platform did not sign for this ad and
// this user.
var ErrBadToken = errors.New("not a click link of this ad for you")

// Click is a click recorded.
type Click struct {
	ID        uuid.UUID `json:"id"`
	ProductID uuid.UUID `json:"product_id"`
	Outcome   string    `json:"-"`
	Charged   int64     `json:"-"`
}

// Click records viewer v's click on ad through token, the link its
// search gave v, and charges it when it should be: a buyer's click, not
// on its own organization's ad, within ClickWindow of the search, the
// first of its organization on the ad in ClickWindow, on an active ad with
// budget left today. It is charged the price the auction fixed, at most
// the ad's maximum now and what is left of today's budget, as a ledger
// posting Account(supplier) → RevenueAccount in the transaction that
// records it. The ad's row is locked meanwhile, so clicks on one ad are
// charged one at a time and never overspend.
func (s *Service) Click(ctx context.Context, v Viewer, ad uuid.UUID, token string) (Click, error) {
	key, err := s.clickKey(ctx)
	if err != nil {
		return Click{}, err
	}
	claim, ok := verifyClick(key, token)
	if !ok || claim.Ad != ad || claim.User != v.User {
		return Click{}, ErrBadToken
	}
	now := s.now()
	c := Click{ID: uuid.New()}
	err = pgx.BeginTxFunc(ctx, s.db, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		q := store.New(tx)
		a, err := q.LockAdForClick(ctx, ad)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("lock ad %s: %w", ad, err)
		}
		c.ProductID = a.ProductID
		today := day(now)
		issued := time.Unix(claim.IssuedAt, 0)
		switch {
		case !a.Active:
			c.Outcome = OutcomePaused
		case a.SupplierOrgID == v.Org:
			c.Outcome = OutcomeOwnAd
		case !v.Buyer:
			c.Outcome = OutcomeNotBuyer
		case now.Sub(issued) > ClickWindow || issued.After(now.Add(time.Minute)):
			c.Outcome = OutcomeExpired
		}
		if c.Outcome == "" {
			repeat, err := q.ChargedClickSince(ctx, store.ChargedClickSinceParams{AdID: ad, OrgID: v.Org, Since: now.Add(-ClickWindow)})
			if err != nil {
				return fmt.Errorf("earlier clicks on ad %s: %w", ad, err)
			}
			spent, err := q.AdSpentOn(ctx, store.AdSpentOnParams{AdID: ad, Day: today})
			if err != nil {
				return fmt.Errorf("today's spend of ad %s: %w", ad, err)
			}
			switch left := a.DailyBudgetMinor - spent; {
			case repeat:
				c.Outcome = OutcomeRepeat
			case left <= 0:
				c.Outcome = OutcomeBudgetSpent
			default:
				c.Outcome, c.Charged = OutcomeCharged, min(claim.Price, a.MaxCpcMinor, left)
			}
		}
		if err := q.InsertAdClick(ctx, store.InsertAdClickParams{ID: c.ID, AdID: ad, UserID: v.User, OrgID: v.Org, ClickedAt: now,
			Day: today, PriceMinor: claim.Price, ChargedMinor: c.Charged, Outcome: c.Outcome}); err != nil {
			return fmt.Errorf("record the click on ad %s: %w", ad, err)
		}
		if c.Charged == 0 {
			return nil
		}
		return ledger.PostIn(ctx, tx, activities.Posting{
			IdempotencyKey: "ad-click/" + c.ID.String(), Kind: "ad_click",
			Memo: fmt.Sprintf("click on ad %s by organization %s", ad, v.Org),
			Lines: []activities.Line{
				{Account: Account(a.SupplierOrgID), Amount: -c.Charged, Currency: a.Currency},
				{Account: RevenueAccount, Amount: c.Charged, Currency: a.Currency},
			},
		})
	})
	if err != nil {
		return Click{}, ledger.Refused(err)
	}
	if c.Charged > 0 {
		s.logger.Debug("ad click charged", "ad", ad, "amount", c.Charged, "org", v.Org)
	}
	return c, nil
}
