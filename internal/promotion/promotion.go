// Package promotion sells suppliers paid new-product notices: once per
// product, the buyers who follow its category are told of it through the
// notifications outbox (a buyer who turned the inbox and e-mail both off
// for new_product is not), each notice carrying a charge the outbox books
// to the ledger when it delivers it (outbox.DeliverDue), so a supplier
// pays per notice delivered, once.
package promotion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/ads"
	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
)

const (
	// NoticeKind is the buyers' notification of a new product.
	NoticeKind = "new_product"
	// FeeMinor is the price of one notice delivered, in minor units of
	// the product's currency: 0.10 in a currency with cents (Fee: one
	// unit in a currency without, such as JPY).
	FeeMinor = 10
	// MaxNotices bounds one product's notices.
	MaxNotices = 10_000
	// RevenueAccount is the ledger account the notices are charged to;
	// the supplier's side is what it owes for its paid visibility
	// (ads.Account), settled by invoice.
	RevenueAccount = "platform:notice-revenue"
	// PostingKind names the notices' postings in the ledger.
	PostingKind = "product_notice"
)

var (
	// ErrNotFound is a product that does not exist or is not the
	// supplier's.
	ErrNotFound = errors.New("no such product")
	// ErrSentAlready is a second notice of a product.
	ErrSentAlready = errors.New("this product's notice was sent already: a product is announced once")
)

// Fee is the price of one notice delivered in currency, in its minor
// units.
func Fee(currency string) int64 {
	if money.Decimals(currency) == 0 {
		return 1
	}
	return FeeMinor
}

// Service sends and lists notices.
type Service struct {
	db     *pgxpool.Pool
	market *marketplace.Market
}

// New sends notices through db's outbox, of market's products.
func New(db *pgxpool.Pool, market *marketplace.Market) *Service {
	return &Service{db: db, market: market}
}

// Notice is a product's paid notice as its supplier sees it.
type Notice struct {
	ID         uuid.UUID `json:"id"`
	ProductID  uuid.UUID `json:"product_id"`
	Product    string    `json:"product"`
	Category   string    `json:"category"`
	Currency   string    `json:"currency"`
	Fee        int64     `json:"fee"`
	MaxNotices int       `json:"max_notices"`
	Queued     int       `json:"queued"`
	Delivered  int       `json:"delivered"`
	Charged    int64     `json:"charged"`
	CreatedAt  time.Time `json:"created_at"`
}

// Send announces supplier org's product to the buyers following its
// category, at most max of them, and answers the notice; a product not
// org's is ErrNotFound, a second notice ErrSentAlready.
func (s *Service) Send(ctx context.Context, org, user, product uuid.UUID, max int) (Notice, error) {
	if max < 1 || max > MaxNotices {
		return Notice{}, &bounds.Error{Field: "max_notices", Problem: fmt.Sprintf("is between 1 and %d", MaxNotices)}
	}
	p, err := s.market.Product(ctx, product)
	if errors.Is(err, marketplace.ErrNotFound) || err == nil && p.SupplierID != org {
		return Notice{}, ErrNotFound
	}
	if err != nil {
		return Notice{}, err
	}
	sup, err := store.New(s.db).GetOrganization(ctx, org)
	if err != nil {
		return Notice{}, fmt.Errorf("supplier %s: %w", org, err)
	}
	facts := notice.Facts{Supplier: sup.Name, Product: p.Name, Amount: p.FromUnitPrice, Currency: p.Currency, Unit: p.Unit,
		Ref: "/app/products/" + p.ID.String()}
	raw, err := json.Marshal(facts)
	if err != nil {
		return Notice{}, fmt.Errorf("encode a notice: %w", err)
	}
	n := Notice{ID: uuid.New(), ProductID: p.ID, Product: p.Name, Category: p.Category, Currency: p.Currency, Fee: Fee(p.Currency), MaxNotices: max}
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		row, err := q.InsertProductNotice(ctx, store.InsertProductNoticeParams{ID: n.ID, ProductID: p.ID, SupplierOrgID: org, Category: p.Category,
			Currency: p.Currency, FeeMinor: n.Fee, MaxNotices: int32(max), CreatedBy: user})
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrSentAlready
		}
		if err != nil {
			return fmt.Errorf("insert the notice of %s: %w", p.ID, err)
		}
		n.CreatedAt = row.CreatedAt
		queued, err := q.QueueProductNotices(ctx, store.QueueProductNoticesParams{
			NoticeID: n.ID, Category: &p.Category, SupplierOrgID: org, MaxNotices: int32(max),
			KeyPrefix: "product-notice/" + n.ID.String() + "/", Text: texts.Text(texts.Default, NoticeKind, facts, ""), Facts: raw,
			DebitAccount: ads.Account(org), CreditAccount: RevenueAccount, Currency: p.Currency, FeeMinor: n.Fee,
			Memo: "new-product notice of " + p.ID.String(),
		})
		if err != nil {
			return fmt.Errorf("queue the notices of %s: %w", p.ID, err)
		}
		n.Queued = int(queued)
		return nil
	})
	return n, err
}

// ForSupplier lists org's notices, newest first, with how many were
// delivered and what they cost.
func (s *Service) ForSupplier(ctx context.Context, org uuid.UUID) ([]Notice, error) {
	return s.list(ctx, org, pgtype.UUID{})
}

func (s *Service) list(ctx context.Context, org uuid.UUID, product pgtype.UUID) ([]Notice, error) {
	rows, err := store.New(s.db).SupplierProductNotices(ctx, store.SupplierProductNoticesParams{SupplierOrgID: org, ProductID: product})
	if err != nil {
		return nil, fmt.Errorf("notices of %s: %w", org, err)
	}
	out := make([]Notice, len(rows))
	for i, r := range rows {
		out[i] = Notice{ID: r.ID, ProductID: r.ProductID, Product: r.ProductName, Category: r.Category, Currency: r.Currency, Fee: r.FeeMinor,
			MaxNotices: int(r.MaxNotices), Queued: int(r.Queued), Delivered: int(r.Delivered), Charged: int64(r.Delivered) * r.FeeMinor,
			CreatedAt: r.CreatedAt}
	}
	return out, nil
}

// OfProduct is org's notice of product, nil before it sends one.
func (s *Service) OfProduct(ctx context.Context, org, product uuid.UUID) (*Notice, error) {
	list, err := s.list(ctx, org, pgtype.UUID{Bytes: product, Valid: true})
	if err != nil || len(list) == 0 {
		return nil, err
	}
	return &list[0], nil
}
