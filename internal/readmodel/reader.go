package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/keyset"
	"github.com/tradeloop/tradeloop/workflows"
)

// ErrNotFound means no deal has that ID.
var ErrNotFound = errors.New("deal not found")

// ErrBadCursor means a page cursor was not made by this package.
var ErrBadCursor = keyset.ErrBadCursor

// Kept is a deal as the read model keeps it.
type Kept struct {
	State workflows.DealState
	// Whole: the state is kept up to date with every projection. Deals
	// projected before that (state_format 1) had their state sent whole
	// only at their start and end: mid-deal, only their money facts,
	// timeline and rows are current.
	Whole bool
	// Version is the deal's row version this is (raised by every
	// projection written): the same version, the same deal.
	Version int64
}

// Deal returns a deal's state as the read model keeps it: the state as
// projected, with its timeline and its shipments' tracking events.
func (s *Store) Deal(ctx context.Context, id string) (workflows.DealState, error) {
	k, err := s.Kept(ctx, id)
	return k.State, err
}

// The reads of a kept deal, sent together in one read-only transaction
// that sees one snapshot: the row, its timeline and its tracking events
// are those of one version, whatever projection commits meanwhile.
const (
	keptBegin    = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	keptRow      = "SELECT state, state_format, version FROM deals WHERE id = $1"
	keptTimeline = "SELECT at, type, actor, about, detail FROM deal_events WHERE deal_id = $1 ORDER BY seq"
	keptTracking = "SELECT kind, tracking_number, at, status, location, description FROM tracking_events WHERE deal_id = $1 ORDER BY kind, tracking_number, seq"
)

// Kept returns the deal as the read model keeps it (Deal), whether its
// state is kept whole, and its version: one trip to PostgreSQL.
func (s *Store) Kept(ctx context.Context, id string) (Kept, error) {
	var b pgx.Batch
	b.Queue(keptBegin)
	b.Queue(keptRow, id)
	b.Queue(keptTimeline, id)
	b.Queue(keptTracking, id)
	b.Queue("COMMIT")
	// A connection left in the transaction by a failure is not given
	// back to the pool's idle ones (pgxpool closes it).
	res := s.pool.SendBatch(ctx, &b)
	k, err := readKept(res, id)
	if cerr := res.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("read deal %s: %w", id, cerr)
	}
	return k, err
}

func readKept(res pgx.BatchResults, id string) (Kept, error) {
	if _, err := res.Exec(); err != nil {
		return Kept{}, fmt.Errorf("read deal %s: %w", id, err)
	}
	var (
		raw    []byte
		format int16
		k      Kept
	)
	if err := res.QueryRow().Scan(&raw, &format, &k.Version); errors.Is(err, pgx.ErrNoRows) {
		return Kept{}, ErrNotFound
	} else if err != nil {
		return Kept{}, fmt.Errorf("read deal %s: %w", id, err)
	}
	if err := json.Unmarshal(raw, &k.State); err != nil {
		return Kept{}, fmt.Errorf("decode deal %s: %w", id, err)
	}
	k.Whole = format >= 2
	st := &k.State
	rows, err := res.Query()
	if err != nil {
		return Kept{}, fmt.Errorf("read timeline of %s: %w", id, err)
	}
	st.Timeline, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (workflows.Event, error) {
		var e workflows.Event
		err := r.Scan(&e.At, &e.Type, &e.Actor, &e.About, &e.Detail)
		return e, err
	})
	if err != nil {
		return Kept{}, fmt.Errorf("read timeline of %s: %w", id, err)
	}
	if st.Timeline == nil {
		st.Timeline = []workflows.Event{}
	}
	shipments := map[string]*workflows.Shipment{"goods": st.Shipment}
	if st.Sample != nil {
		shipments["sample"] = st.Sample.Shipment
	}
	rows, err = res.Query()
	if err != nil {
		return Kept{}, fmt.Errorf("read tracking events of %s: %w", id, err)
	}
	var kind, number string
	var e activities.TrackEvent
	_, err = pgx.ForEachRow(rows, []any{&kind, &number, &e.At, &e.Status, &e.Location, &e.Description}, func() error {
		if sh := shipments[kind]; sh != nil && sh.TrackingNumber == number {
			sh.Events = append(sh.Events, e)
		}
		return nil
	})
	if err != nil {
		return Kept{}, fmt.Errorf("read tracking events of %s: %w", id, err)
	}
	if _, err := res.Exec(); err != nil {
		return Kept{}, fmt.Errorf("read deal %s: %w", id, err)
	}
	return k, nil
}

// Version returns the deal's version and whether its state is kept
// whole (Kept), or ErrNotFound: what a view kept of it is checked against.
func (s *Store) Version(ctx context.Context, id string) (version int64, whole bool, err error) {
	row, err := store.New(s.pool).GetDealVersion(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, ErrNotFound
	}
	if err != nil {
		return 0, false, fmt.Errorf("read the version of deal %s: %w", id, err)
	}
	return row.Version, row.StateFormat >= 2, nil
}

// DealOfPayment names the deal that recorded a charge at the provider
// (its PaymentIntent), or activities.ErrPaymentUnknown.
func (s *Store) DealOfPayment(ctx context.Context, providerPaymentID string) (string, error) {
	id, err := store.New(s.pool).DealOfProviderPayment(ctx, providerPaymentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", activities.ErrPaymentUnknown
	}
	if err != nil {
		return "", fmt.Errorf("find the deal of payment %s: %w", providerPaymentID, err)
	}
	return id, nil
}

// Timeline returns a deal's events in order.
func (s *Store) Timeline(ctx context.Context, id string) ([]store.DealEvent, error) {
	evs, err := store.New(s.pool).ListDealEvents(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read timeline of %s: %w", id, err)
	}
	return evs, nil
}

// Payments returns a deal's payment history.
func (s *Store) Payments(ctx context.Context, id string) ([]store.Payment, error) {
	ps, err := store.New(s.pool).ListDealPayments(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read payments of %s: %w", id, err)
	}
	return ps, nil
}

// Viewer says whose deals a list shows.
type Viewer struct {
	Role  workflows.Role
	OrgID string
	// UserID is a mediator's: it lists the disputes assigned to it.
	UserID string
}

// Filter narrows a deal list. Zero fields do not filter.
type Filter struct {
	Stage        string
	Counterparty string
	From, To     time.Time
	Cursor       string
	Limit        int
}

// Summary is one line of a deal list.
type Summary struct {
	ID            string    `json:"id"`
	Stage         string    `json:"stage"`
	BuyerOrgID    string    `json:"buyer_org_id"`
	SupplierOrgID string    `json:"supplier_org_id,omitempty"`
	Product       string    `json:"product"`
	Quantity      int64     `json:"quantity"`
	Total         int64     `json:"total"`
	Currency      string    `json:"currency"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Page is one page of a deal list; Next is empty on the last page.
type Page struct {
	Deals []Summary `json:"deals"`
	Next  string    `json:"next,omitempty"`
}

// MaxPage bounds a page's size.
const MaxPage = 200

// List returns the deals the viewer may see, newest first, one page at a
// time: pass a page's Next as the following call's Cursor.
func (s *Store) List(ctx context.Context, v Viewer, f Filter) (Page, error) {
	if f.Limit <= 0 || f.Limit > MaxPage {
		f.Limit = 50
	}
	after, ok, err := keyset.Decode(f.Cursor, 1)
	if err != nil {
		return Page{}, err
	}
	var afterAt *time.Time
	var afterID *string
	if ok {
		afterAt, afterID = &after.At, &after.Keys[0]
	}
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	optTime := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	q := store.New(s.pool)
	limit := int32(f.Limit + 1) // one more tells whether there is a next page
	// The three queries return rows of the same columns; sqlc names each
	// its own type, which converts to the buyer's.
	var found []store.ListDealsForBuyerRow
	switch v.Role {
	case workflows.RoleBuyer:
		found, err = q.ListDealsForBuyer(ctx, store.ListDealsForBuyerParams{
			BuyerOrgID: v.OrgID, Stage: opt(f.Stage), Counterparty: opt(f.Counterparty),
			CreatedFrom: optTime(f.From), CreatedTo: optTime(f.To), AfterCreatedAt: afterAt, AfterID: afterID, PageSize: limit,
		})
	case workflows.RoleSupplier:
		var rs []store.ListDealsForSupplierRow
		rs, err = q.ListDealsForSupplier(ctx, store.ListDealsForSupplierParams{
			SupplierOrgID: v.OrgID, Stage: opt(f.Stage), Counterparty: opt(f.Counterparty),
			CreatedFrom: optTime(f.From), CreatedTo: optTime(f.To), AfterCreatedAt: afterAt, AfterID: afterID, PageSize: limit,
		})
		for _, r := range rs {
			found = append(found, store.ListDealsForBuyerRow(r))
		}
	case workflows.RoleMediator:
		var rs []store.ListDealsInDisputeRow
		rs, err = q.ListDealsInDispute(ctx, store.ListDealsInDisputeParams{
			MediatorID: v.UserID, Stage: opt(f.Stage), AfterCreatedAt: afterAt, AfterID: afterID, PageSize: limit,
		})
		for _, r := range rs {
			found = append(found, store.ListDealsForBuyerRow(r))
		}
	default:
		return Page{}, fmt.Errorf("no deal list for role %q", v.Role)
	}
	if err != nil {
		return Page{}, fmt.Errorf("list deals: %w", err)
	}
	rows := make([]Summary, len(found))
	for i, r := range found {
		rows[i] = Summary{r.ID, r.Stage, r.BuyerOrgID, deref(r.SupplierOrgID), r.Product, r.Quantity, r.TotalMinor, r.Currency, r.CreatedAt, r.UpdatedAt}
	}
	page := Page{Deals: rows}
	if len(rows) > f.Limit {
		page.Deals = rows[:f.Limit]
		last := page.Deals[f.Limit-1]
		page.Next = keyset.Encode(last.CreatedAt, last.ID)
	}
	return page, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// LeastBusyMediator implements activities.Mediators: the mediator with the
// fewest disputes in mediation assigned to it, "" when there is none.
func (s *Store) LeastBusyMediator(ctx context.Context) (string, error) {
	id, err := store.New(s.pool).LeastBusyMediator(ctx)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("least busy mediator: %w", err)
	}
	return id.String(), nil
}

// DealtWith is those of suppliers the buyer has been awarded a deal with
// already (a trial order is for a first deal).
func (s *Store) DealtWith(ctx context.Context, buyer string, suppliers []string) ([]string, error) {
	ids, err := store.New(s.pool).SuppliersDealtWith(ctx, store.SuppliersDealtWithParams{BuyerOrgID: buyer, Suppliers: suppliers})
	if err != nil {
		return nil, fmt.Errorf("the suppliers %s dealt with: %w", buyer, err)
	}
	return ids, nil
}

// ValidDealID reports whether id can name a deal: 1 to 64 letters, digits,
// '-' and '_'. Anything else is no deal's, and asks nothing of the
// database or Temporal.
func ValidDealID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
