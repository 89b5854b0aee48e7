// Package deposits keeps suppliers' security deposits. The platform
// (admin) marks categories whose suppliers must hold a deposit before
// they quote, with its amount and currency; a supplier pays one deposit
// per currency, which the SecurityDeposit workflow charges and holds in
// the deposit's own ledger account (activities.DepositAccount). It counts
// only while held: a deposit being returned, returned, failed or
// forfeited counts for nothing. It is returned when the supplier leaves
// in good standing (no deal running), and forfeited, in part or whole,
// only by a mediator's decision on a proven fraud. What a deposit holds is
// its account's balance, never a stored counter; the database keeps the
// account from going negative, so no forfeit or return takes more than it
// holds, whatever runs at once.
package deposits

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
	"github.com/tradeloop/tradeloop/workflows"
)

const (
	// NoticeKind is the supplier's notification of a forfeit.
	NoticeKind = "deposit_forfeited"
	// MaxStartsPerDay bounds the deposits an organization starts in a
	// day (each failed charge is one): the history stays bounded.
	MaxStartsPerDay = 10
	// MaxListed bounds a list of deposits, newest first.
	MaxListed = 100
)

var (
	// ErrNotFound is a deposit or category that does not exist, or a
	// deposit that is not the caller's.
	ErrNotFound = errors.New("no such deposit")
	// ErrNoCategory is a category that asks for no deposit.
	ErrNoCategory = errors.New("the category asks for no security deposit")
	// ErrNothingToPay is a currency no category asks a deposit in.
	ErrNothingToPay = errors.New("no category asks for a security deposit in this currency")
	// ErrLive is an organization that already has a deposit in the
	// currency being paid, held or returned.
	ErrLive = errors.New("the organization already has a security deposit in this currency")
	// ErrTooMany is an organization that started MaxStartsPerDay
	// deposits in the last day.
	ErrTooMany = fmt.Errorf("at most %d deposits may be started in a day", MaxStartsPerDay)
	// ErrInvalid is a value out of bounds; its message says which.
	ErrInvalid = errors.New("invalid")
	// ErrNotParty is a forfeit naming a deal the supplier took no part in.
	ErrNotParty = errors.New("the supplier took no part in this deal")
)

// Service keeps deposits and deposit categories in db.
type Service struct {
	db *pgxpool.Pool
}

var _ activities.Deposits = (*Service)(nil)

// New keeps deposits in db.
func New(db *pgxpool.Pool) *Service { return &Service{db: db} }

// Category is what a category asks a supplier to hold before it quotes.
type Category struct {
	Category  string    `json:"category"`
	Currency  string    `json:"currency"`
	Amount    int64     `json:"amount_minor"`
	SetBy     uuid.UUID `json:"set_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

func category(c store.DepositCategory) Category {
	return Category{Category: c.Category, Currency: c.Currency, Amount: c.AmountMinor, SetBy: c.SetBy, UpdatedAt: c.UpdatedAt}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// SetCategory makes category ask for amount of currency, set by an admin.
func (s *Service) SetCategory(ctx context.Context, cat, currency string, amount int64, by uuid.UUID) (Category, error) {
	if !marketplace.ValidCategory(cat) {
		return Category{}, invalid("category: a slug of lower-case letters, digits and hyphens, at most 64")
	}
	if !money.KnownCurrency(currency) {
		return Category{}, invalid("currency: one of %s", strings.Join(money.Currencies(), ", "))
	}
	if amount <= 0 || amount > workflows.MaxDepositMinor {
		return Category{}, invalid("amount_minor: between 1 and %d minor units", int64(workflows.MaxDepositMinor))
	}
	c, err := store.New(s.db).UpsertDepositCategory(ctx, store.UpsertDepositCategoryParams{Category: cat, Currency: currency, AmountMinor: amount, SetBy: by})
	if err != nil {
		return Category{}, fmt.Errorf("set the deposit of %s: %w", cat, err)
	}
	return category(c), nil
}

// Category is what cat asks for: ErrNoCategory when nothing.
func (s *Service) Category(ctx context.Context, cat string) (Category, error) {
	if !marketplace.ValidCategory(cat) {
		return Category{}, invalid("category: a slug of lower-case letters, digits and hyphens, at most 64")
	}
	c, err := store.New(s.db).DepositCategory(ctx, cat)
	if errors.Is(err, pgx.ErrNoRows) {
		return Category{}, ErrNoCategory
	}
	if err != nil {
		return Category{}, fmt.Errorf("deposit of %s: %w", cat, err)
	}
	return category(c), nil
}

// Categories are the categories that ask for a deposit.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	rows, err := store.New(s.db).DepositCategories(ctx)
	if err != nil {
		return nil, fmt.Errorf("deposit categories: %w", err)
	}
	out := make([]Category, len(rows))
	for i, r := range rows {
		out[i] = category(r)
	}
	return out, nil
}

// DeleteCategory makes cat ask for no deposit any more.
func (s *Service) DeleteCategory(ctx context.Context, cat string) error {
	if !marketplace.ValidCategory(cat) {
		return invalid("category: a slug of lower-case letters, digits and hyphens, at most 64")
	}
	n, err := store.New(s.db).DeleteDepositCategory(ctx, cat)
	if err != nil {
		return fmt.Errorf("delete the deposit of %s: %w", cat, err)
	}
	if n == 0 {
		return ErrNoCategory
	}
	return nil
}

// Posting is one movement of a deposit's account.
type Posting struct {
	Key      string    `json:"idempotency_key"`
	Kind     string    `json:"kind"`
	Memo     string    `json:"memo"`
	Amount   int64     `json:"amount_minor"`
	Currency string    `json:"currency"`
	At       time.Time `json:"posted_at"`
}

// Forfeit is a mediator's forfeit of part of a deposit: its audit record.
type Forfeit struct {
	Seq       int32     `json:"seq"`
	Amount    int64     `json:"amount_minor"`
	Reason    string    `json:"reason"`
	DealID    string    `json:"deal_id"`
	DecidedBy uuid.UUID `json:"decided_by"`
	At        time.Time `json:"decided_at"`
}

// Deposit is a supplier's deposit: what it was charged, where it stands,
// what its account holds now, and every movement of its account.
type Deposit struct {
	ID       uuid.UUID `json:"id"`
	OrgID    uuid.UUID `json:"org_id"`
	OrgName  string    `json:"org_name"`
	Currency string    `json:"currency"`
	Amount   int64     `json:"amount_minor"`
	// Held is its ledger account's balance.
	Held      int64     `json:"held_minor"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	Provider  string    `json:"provider,omitempty"`
	PaymentID string    `json:"provider_payment_id,omitempty"`
	RefundID  string    `json:"refund_id,omitempty"`
	Account   string    `json:"account"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Postings  []Posting `json:"postings"`
	Forfeits  []Forfeit `json:"forfeits"`
}

// Start records a new deposit of org, paid by user, in currency: as much
// as the category asking the most in that currency. The caller starts
// its workflow (workflows.SecurityDeposit).
func (s *Service) Start(ctx context.Context, org, user uuid.UUID, currency string) (workflows.DepositInput, error) {
	if !money.KnownCurrency(currency) {
		return workflows.DepositInput{}, invalid("currency: one of %s", strings.Join(money.Currencies(), ", "))
	}
	cats, err := s.Categories(ctx)
	if err != nil {
		return workflows.DepositInput{}, err
	}
	var amount int64
	for _, c := range cats {
		if c.Currency == currency {
			amount = max(amount, c.Amount)
		}
	}
	if amount == 0 {
		return workflows.DepositInput{}, ErrNothingToPay
	}
	var in workflows.DepositInput
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		n, err := q.DepositsStartedSince(ctx, store.DepositsStartedSinceParams{OrgID: org, Since: time.Now().Add(-24 * time.Hour)})
		if err != nil {
			return fmt.Errorf("deposits of %s: %w", org, err)
		}
		if n >= MaxStartsPerDay {
			return ErrTooMany
		}
		id := uuid.New()
		if _, err := q.InsertDeposit(ctx, store.InsertDepositParams{ID: id, OrgID: org, Currency: currency, AmountMinor: amount, PaidBy: user}); errors.Is(err, pgx.ErrNoRows) {
			return ErrLive
		} else if err != nil {
			return fmt.Errorf("record a deposit of %s: %w", org, err)
		}
		in = workflows.DepositInput{ID: id.String(), OrgID: org.String(), Amount: amount, Currency: currency}
		return nil
	})
	return in, err
}

// Withdraw marks a deposit whose workflow did not start as failed.
func (s *Service) Withdraw(ctx context.Context, id uuid.UUID, reason string) error {
	return s.Fail(ctx, id.String(), reason)
}

// Get is deposit id with its postings and forfeits.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Deposit, error) {
	q := store.New(s.db)
	r, err := q.Deposit(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Deposit{}, ErrNotFound
	}
	if err != nil {
		return Deposit{}, fmt.Errorf("deposit %s: %w", id, err)
	}
	return s.withMoves(ctx, q, store.DepositsRow(r))
}

// List is the deposits of org, or of every organization for uuid.Nil,
// newest first, MaxListed at most.
func (s *Service) List(ctx context.Context, org uuid.UUID) ([]Deposit, error) {
	q := store.New(s.db)
	arg := store.DepositsParams{MaxRows: MaxListed}
	if org != uuid.Nil {
		arg.OrgID = pgtype.UUID{Bytes: org, Valid: true}
	}
	rows, err := q.Deposits(ctx, arg)
	if err != nil {
		return nil, fmt.Errorf("deposits: %w", err)
	}
	out := make([]Deposit, 0, len(rows))
	for _, r := range rows {
		d, err := s.withMoves(ctx, q, r)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Service) withMoves(ctx context.Context, q *store.Queries, r store.DepositsRow) (Deposit, error) {
	d := Deposit{
		ID: r.ID, OrgID: r.OrgID, OrgName: r.OrgName, Currency: r.Currency, Amount: r.AmountMinor, Held: r.Held,
		Status: r.Status, Reason: r.Reason, Provider: r.Provider, PaymentID: r.ProviderPaymentID, RefundID: r.RefundID,
		Account: activities.DepositAccount(r.ID.String()), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		Postings: []Posting{}, Forfeits: []Forfeit{},
	}
	ps, err := q.DepositPostings(ctx, d.Account)
	if err != nil {
		return Deposit{}, fmt.Errorf("postings of deposit %s: %w", r.ID, err)
	}
	for _, p := range ps {
		d.Postings = append(d.Postings, Posting{Key: p.IdempotencyKey, Kind: p.Kind, Memo: p.Memo, Amount: p.Amount, Currency: p.Currency, At: p.PostedAt})
	}
	fs, err := q.DepositForfeits(ctx, r.ID)
	if err != nil {
		return Deposit{}, fmt.Errorf("forfeits of deposit %s: %w", r.ID, err)
	}
	for _, f := range fs {
		d.Forfeits = append(d.Forfeits, Forfeit{Seq: f.Seq, Amount: f.AmountMinor, Reason: f.Reason, DealID: f.DealID, DecidedBy: f.DecidedBy, At: f.DecidedAt})
	}
	return d, nil
}

// Shortfall is what a supplier lacks to quote in a category.
type Shortfall struct {
	Category string `json:"category"`
	Currency string `json:"currency"`
	Required int64  `json:"required_minor"`
	Held     int64  `json:"held_minor"`
}

// Need answers what org lacks to quote on deal: nil when the deal's
// category asks for no deposit, or org holds enough in deposits that
// count (held, not being returned).
func (s *Service) Need(ctx context.Context, dealID string, org uuid.UUID) (*Shortfall, error) {
	r, err := store.New(s.db).DealDepositNeed(ctx, store.DealDepositNeedParams{DealID: dealID, OrgID: org})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("the deposit deal %s needs: %w", dealID, err)
	}
	if r.Held >= r.Required {
		return nil, nil
	}
	return &Shortfall{Category: r.Category, Currency: r.Currency, Required: r.Required, Held: r.Held}, nil
}

// RunningDeals are up to 10 deals of org's not yet final: while it has
// any, it is not in good standing to leave.
func (s *Service) RunningDeals(ctx context.Context, org uuid.UUID) ([]string, error) {
	return runningDeals(ctx, store.New(s.db), org)
}

func runningDeals(ctx context.Context, q *store.Queries, org uuid.UUID) ([]string, error) {
	rows, err := q.SupplierRunningDeals(ctx, org.String())
	if err != nil {
		return nil, fmt.Errorf("running deals of %s: %w", org, err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%s (%s)", r.ID, r.Stage)
	}
	return out, nil
}

// NotInGoodStanding says why a supplier is not in good standing.
func NotInGoodStanding(deals []string) error {
	return fmt.Errorf("%w: deals still running: %s; the deposit is returned once they are completed, resolved, cancelled or expired",
		activities.ErrNotInGoodStanding, strings.Join(deals, ", "))
}

// PartyOf reports whether org supplied, or was invited to quote on, deal.
func (s *Service) PartyOf(ctx context.Context, dealID string, org uuid.UUID) (bool, error) {
	ok, err := store.New(s.db).SupplierOnDeal(ctx, store.SupplierOnDealParams{DealID: dealID, OrgID: org.String()})
	if err != nil {
		return false, fmt.Errorf("parties of deal %s: %w", dealID, err)
	}
	return ok, nil
}

// ---- activities.Deposits ----

func parseID(id string) (uuid.UUID, error) {
	u, err := uuid.Parse(id)
	if err != nil {
		return uuid.Nil, fmt.Errorf("%w: deposit %q", ErrNotFound, id)
	}
	return u, nil
}

// Hold implements activities.Deposits.
func (s *Service) Hold(ctx context.Context, in activities.DepositHold) error {
	id, err := parseID(in.ID)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if err := ledger.PostIn(ctx, tx, activities.Posting{
			IdempotencyKey: "deposit/" + in.ID + "/charge", Kind: "security_deposit",
			Memo: fmt.Sprintf("security deposit paid by %s (%s %s)", in.OrgID, in.Provider, in.PaymentID),
			Lines: []activities.Line{
				{Account: activities.SupplierAccount(in.OrgID), Amount: -in.Amount, Currency: in.Currency},
				{Account: activities.DepositAccount(in.ID), Amount: in.Amount, Currency: in.Currency},
			},
		}); err != nil {
			return err
		}
		return store.New(tx).SetDepositStatus(ctx, store.SetDepositStatusParams{
			ID: id, Status: activities.DepositHeld, Provider: in.Provider, ProviderPaymentID: in.PaymentID,
		})
	})
	return ledger.Refused(err)
}

// Fail implements activities.Deposits.
func (s *Service) Fail(ctx context.Context, id, reason string) error {
	u, err := parseID(id)
	if err != nil {
		return err
	}
	return store.New(s.db).SetDepositStatus(ctx, store.SetDepositStatusParams{ID: u, Status: activities.DepositFailed, Reason: reason})
}

// BeginReturn implements activities.Deposits: the deposit is locked, the
// supplier's running deals read, and the deposit marked returning, in
// one transaction.
func (s *Service) BeginReturn(ctx context.Context, id string) (int64, error) {
	u, err := parseID(id)
	if err != nil {
		return 0, err
	}
	var held int64
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		d, err := q.LockDeposit(ctx, u)
		if err != nil {
			return fmt.Errorf("deposit %s: %w", id, err)
		}
		switch d.Status {
		case activities.DepositReturning:
			held = d.Held
			return nil
		case activities.DepositHeld:
		default:
			return fmt.Errorf("%w: it is %s", activities.ErrDepositNotHeld, d.Status)
		}
		running, err := runningDeals(ctx, q, d.OrgID)
		if err != nil {
			return err
		}
		if len(running) > 0 {
			return NotInGoodStanding(running)
		}
		held = d.Held
		return q.SetDepositStatus(ctx, store.SetDepositStatusParams{ID: u, Status: activities.DepositReturning})
	})
	return held, err
}

// FinishReturn implements activities.Deposits.
func (s *Service) FinishReturn(ctx context.Context, in activities.DepositReturn) error {
	id, err := parseID(in.ID)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		if in.Amount > 0 {
			if err := ledger.PostIn(ctx, tx, activities.Posting{
				IdempotencyKey: "deposit/" + in.ID + "/return", Kind: "security_deposit_return",
				Memo: fmt.Sprintf("security deposit returned to %s (refund %s)", in.OrgID, in.RefundID),
				Lines: []activities.Line{
					{Account: activities.DepositAccount(in.ID), Amount: -in.Amount, Currency: in.Currency},
					{Account: activities.SupplierAccount(in.OrgID), Amount: in.Amount, Currency: in.Currency},
				},
			}); err != nil {
				return err
			}
		}
		return store.New(tx).SetDepositStatus(ctx, store.SetDepositStatusParams{ID: id, Status: activities.DepositReturned, RefundID: in.RefundID})
	})
	return ledger.Refused(err)
}

// Forfeit implements activities.Deposits: the audit record, the posting
// and the supplier's notice in one transaction, once per Seq.
func (s *Service) Forfeit(ctx context.Context, in activities.DepositForfeit) (int64, error) {
	id, err := parseID(in.ID)
	if err != nil {
		return 0, err
	}
	by, err := uuid.Parse(in.DecidedBy)
	if err != nil {
		return 0, fmt.Errorf("%w: decided by %q", activities.ErrLedgerRejected, in.DecidedBy)
	}
	var left int64
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		d, err := q.LockDeposit(ctx, id)
		if err != nil {
			return fmt.Errorf("deposit %s: %w", id, err)
		}
		n, err := q.InsertDepositForfeit(ctx, store.InsertDepositForfeitParams{
			DepositID: id, Seq: int32(in.Seq), AmountMinor: in.Amount, Reason: in.Reason, DealID: in.DealID, DecidedBy: by, DecidedAt: in.At.UTC(),
		})
		if err != nil {
			return fmt.Errorf("record the forfeit of deposit %s: %w", id, err)
		}
		if n == 0 { // a retry: booked before
			left = d.Held
			return nil
		}
		if d.Status != activities.DepositHeld {
			return fmt.Errorf("%w: it is %s", activities.ErrDepositNotHeld, d.Status)
		}
		if err := ledger.PostIn(ctx, tx, activities.Posting{
			IdempotencyKey: fmt.Sprintf("deposit/%s/forfeit/%d", in.ID, in.Seq), Kind: "security_deposit_forfeit",
			Memo: fmt.Sprintf("security deposit of %s forfeited for deal %s", in.OrgID, in.DealID),
			Lines: []activities.Line{
				{Account: activities.DepositAccount(in.ID), Amount: -in.Amount, Currency: in.Currency},
				{Account: activities.ForfeitedDepositsAccount, Amount: in.Amount, Currency: in.Currency},
			},
		}); err != nil {
			return err
		}
		left = d.Held - in.Amount
		if left <= 0 {
			if err := q.SetDepositStatus(ctx, store.SetDepositStatusParams{ID: id, Status: activities.DepositForfeited}); err != nil {
				return fmt.Errorf("deposit %s forfeited: %w", id, err)
			}
		}
		facts := notice.Facts{Amount: in.Amount, Currency: in.Currency, Reason: in.Reason, Deal: in.DealID, Was: d.Held}
		raw, err := json.Marshal(facts)
		if err != nil {
			return fmt.Errorf("encode a notice: %w", err)
		}
		if err := q.QueueNotice(ctx, store.QueueNoticeParams{
			Key: fmt.Sprintf("deposit/%s/forfeit/%d", in.ID, in.Seq), OrgID: in.OrgID, Kind: NoticeKind,
			Text: texts.Text(texts.Default, NoticeKind, facts, ""), Facts: raw,
		}); err != nil {
			return fmt.Errorf("queue the forfeit's notice: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, ledger.Refused(err)
	}
	return max(left, 0), nil
}
