// Package watchlist keeps the products and categories buyers follow and
// tells them what changed: a followed product's price at the buyer's
// usual quantity dropping by the buyer's threshold, or a new supplier
// listing in a followed category. Alerts are notifications in the outbox,
// queued in the transaction of the catalog change that caused them, so a
// change is never saved without its alerts nor alerted twice.
package watchlist

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// Limits of a watchlist.
const (
	// MaxWatches is how many products and categories one user follows.
	MaxWatches = 200
	// DefaultDropBP is the drop a product watch alerts at unless told:
	// 5 % (500 basis points).
	DefaultDropBP = 500
	// MaxDropBP is the largest threshold: 90 %.
	MaxDropBP = 9000
	// maxQuantity bounds a watch's usual quantity.
	maxQuantity = 1_000_000_000
)

// The kinds of notification the watchlist sends.
const (
	KindPriceDrop   = "price_drop"
	KindNewSupplier = "new_supplier_in_category"
)

// Errors.
var (
	// ErrNotFound is a watch or product that does not exist (or is
	// another user's watch).
	ErrNotFound = errors.New("no such watch or product")
	// ErrTooMany is a follow beyond MaxWatches.
	ErrTooMany = fmt.Errorf("a user follows at most %d products and categories", MaxWatches)
)

// FieldError says what is wrong with one field of a follow.
type FieldError struct{ Field, Message string }

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Watch is one product or category a user follows.
type Watch struct {
	ID uuid.UUID `json:"id"`
	// A product watch names the product; a category watch only the
	// category.
	ProductID   *uuid.UUID `json:"product_id,omitempty"`
	ProductName string     `json:"product_name,omitempty"`
	Category    string     `json:"category"`
	// A product watch: the quantity its price is read at, the drop that
	// is news (basis points: 500 is 5 %), the price now at that quantity
	// and the price the next drop is measured from (minor units of
	// Currency).
	Quantity  int64     `json:"quantity,omitempty"`
	Unit      string    `json:"unit,omitempty"`
	DropBP    int       `json:"drop_bp,omitempty"`
	UnitPrice int64     `json:"unit_price,omitempty"`
	Baseline  int64     `json:"baseline_unit_price,omitempty"`
	Currency  string    `json:"currency,omitempty"`
	Alerts    int       `json:"alerts"`
	CreatedAt time.Time `json:"created_at"`
}

// Follower is the user who follows, and its organization.
type Follower struct{ User, Org uuid.UUID }

// Service keeps the watchlists.
type Service struct{ db *pgxpool.Pool }

// New keeps watchlists in db.
func New(db *pgxpool.Pool) *Service { return &Service{db: db} }

// FollowProduct follows a product's price at quantity (0: the product's
// MOQ), alerting at a drop of dropBP basis points (0: DefaultDropBP);
// following it again changes how, and measures from the price now.
func (s *Service) FollowProduct(ctx context.Context, who Follower, product uuid.UUID, quantity int64, dropBP int) (Watch, bool, error) {
	if dropBP == 0 {
		dropBP = DefaultDropBP
	}
	if dropBP < 1 || dropBP > MaxDropBP {
		return Watch{}, false, &FieldError{"drop_bp", fmt.Sprintf("is between 1 and %d basis points (500 is 5 %%)", MaxDropBP)}
	}
	var created bool
	var id uuid.UUID
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		p, err := q.GetProduct(ctx, product)
		if errors.Is(err, pgx.ErrNoRows) {
			return &FieldError{"product_id", "no such product is listed"}
		}
		if err != nil {
			return fmt.Errorf("the product %s: %w", product, err)
		}
		if quantity == 0 {
			quantity = p.Moq
		}
		first := p.TierMinQty[0]
		if quantity < first || quantity > maxQuantity {
			return &FieldError{"quantity", fmt.Sprintf("is between the product's first price tier (%s) and %s", money.Count(first), money.Count(maxQuantity))}
		}
		if err := q.LockWatchlist(ctx, who.User.String()); err != nil {
			return fmt.Errorf("lock the watchlist: %w", err)
		}
		row, err := q.SaveProductWatch(ctx, store.SaveProductWatchParams{UserID: who.User, OrgID: who.Org,
			ProductID: product, Quantity: quantity, DropBp: int32(dropBP)})
		if err != nil {
			return fmt.Errorf("follow product %s: %w", product, err)
		}
		id, created = row.ID, row.Created
		return capped(ctx, q, who.User, created)
	})
	if err != nil {
		return Watch{}, false, err
	}
	w, err := s.get(ctx, who.User, id)
	return w, created, err
}

// FollowCategory follows the suppliers listing in a category.
func (s *Service) FollowCategory(ctx context.Context, who Follower, category string) (Watch, bool, error) {
	var created bool
	var id uuid.UUID
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		if err := q.LockWatchlist(ctx, who.User.String()); err != nil {
			return fmt.Errorf("lock the watchlist: %w", err)
		}
		row, err := q.SaveCategoryWatch(ctx, store.SaveCategoryWatchParams{UserID: who.User, OrgID: who.Org, Category: &category})
		if err != nil {
			return fmt.Errorf("follow category %s: %w", category, err)
		}
		id, created = row.ID, row.Created
		return capped(ctx, q, who.User, created)
	})
	if err != nil {
		return Watch{}, false, err
	}
	w, err := s.get(ctx, who.User, id)
	return w, created, err
}

// capped refuses a new watch beyond the cap (its transaction, which
// holds the user's watchlist lock, then writes nothing); a follow the user
// had already changes it and counts once.
func capped(ctx context.Context, q *store.Queries, user uuid.UUID, created bool) error {
	if !created {
		return nil
	}
	n, err := q.CountWatches(ctx, user)
	if err != nil {
		return fmt.Errorf("count watches: %w", err)
	}
	if n > MaxWatches {
		return ErrTooMany
	}
	return nil
}

// List is user's watches, newest first, with each product's price now.
func (s *Service) List(ctx context.Context, user uuid.UUID) ([]Watch, error) {
	rows, err := store.New(s.db).ListWatches(ctx, user)
	if err != nil {
		return nil, fmt.Errorf("list watches: %w", err)
	}
	out := make([]Watch, len(rows))
	for i, r := range rows {
		w := Watch{ID: r.ID, Category: r.Category, ProductName: r.ProductName, Unit: r.Unit, Currency: r.Currency,
			UnitPrice: r.UnitPrice, Alerts: int(r.Alerts), CreatedAt: r.CreatedAt.UTC()}
		if r.ProductID.Valid {
			id := uuid.UUID(r.ProductID.Bytes)
			w.ProductID = &id
		}
		if r.Quantity != nil {
			w.Quantity, w.DropBP, w.Baseline = *r.Quantity, int(*r.DropBp), *r.BaselineUnitMinor
		}
		out[i] = w
	}
	return out, nil
}

func (s *Service) get(ctx context.Context, user, id uuid.UUID) (Watch, error) {
	all, err := s.List(ctx, user)
	if err != nil {
		return Watch{}, err
	}
	for _, w := range all {
		if w.ID == id {
			return w, nil
		}
	}
	return Watch{}, ErrNotFound
}

// Unfollow removes one of user's watches.
func (s *Service) Unfollow(ctx context.Context, user, id uuid.UUID) error {
	n, err := store.New(s.db).DeleteWatch(ctx, store.DeleteWatchParams{ID: id, UserID: user})
	if err != nil {
		return fmt.Errorf("unfollow %s: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Saved queues the alerts of a supplier's products just saved, on q (the
// saving transaction's): price drops to their watchers, and the supplier's
// first products in categories to those categories' watchers.
func Saved(ctx context.Context, q *store.Queries, supplier uuid.UUID, products []uuid.UUID, categories []string) error {
	moved, err := q.RepriceWatches(ctx, products)
	if err != nil {
		return fmt.Errorf("reprice watches: %w", err)
	}
	for _, m := range moved {
		if !m.Dropped {
			continue
		}
		facts := notice.Facts{Product: m.ProductName, Quantity: *m.Quantity, Unit: m.Unit, Amount: m.Price, Was: *m.Was,
			Currency: m.Currency, Ref: uuid.UUID(m.ProductID.Bytes).String()}
		raw, err := notice.Encode(&facts)
		if err != nil {
			return err
		}
		if err := q.QueueNotice(ctx, store.QueueNoticeParams{
			Key: fmt.Sprintf("%s/%s/%d", KindPriceDrop, m.ID, m.Alerts), OrgID: m.OrgID.String(), UserID: pgtype.UUID{Bytes: m.UserID, Valid: true},
			Kind: KindPriceDrop, Text: texts.Text(texts.Default, KindPriceDrop, facts, ""), Facts: raw,
		}); err != nil {
			return fmt.Errorf("queue a price drop alert: %w", err)
		}
	}
	fresh, err := q.NewCategorySuppliers(ctx, store.NewCategorySuppliersParams{SupplierOrgID: supplier, Categories: categories})
	if err != nil {
		return fmt.Errorf("the supplier's new categories: %w", err)
	}
	if len(fresh) == 0 {
		return nil
	}
	org, err := q.GetOrganization(ctx, supplier)
	if err != nil {
		return fmt.Errorf("the supplier %s: %w", supplier, err)
	}
	facts := notice.Facts{Supplier: org.Name}
	raw, err := notice.Encode(&facts)
	if err != nil {
		return err
	}
	if _, err := q.AlertCategoryWatchers(ctx, store.AlertCategoryWatchersParams{
		SupplierOrgID: supplier.String(), Text: texts.Title(texts.Default, KindNewSupplier), Facts: raw, Categories: fresh,
	}); err != nil {
		return fmt.Errorf("alert the categories' watchers: %w", err)
	}
	return nil
}
