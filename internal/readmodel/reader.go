package readmodel

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/workflows"
)

// ErrNotFound means no deal has that ID.
var ErrNotFound = errors.New("deal not found")

// ErrBadCursor means a page cursor was not made by this package.
var ErrBadCursor = errors.New("malformed page cursor")

// Kept is a deal as the read model keeps it.
type Kept struct {
	State workflows.DealState
	// Whole: the state is kept up to date with every projection. Deals
	// projected before that (state_format 1) had their state sent whole
	// only at their start and end: mid-deal, only their money facts,
	// timeline and rows are current.
	Whole bool
}

// Deal returns a deal's state as the read model keeps it: the state as
// projected, with its timeline and its shipments' tracking events.
func (s *Store) Deal(ctx context.Context, id string) (workflows.DealState, error) {
	k, err := s.Kept(ctx, id)
	return k.State, err
}

// Kept returns the deal as the read model keeps it (Deal), and whether
// its state is kept whole.
func (s *Store) Kept(ctx context.Context, id string) (Kept, error) {
	q := store.New(s.pool)
	row, err := q.GetDeal(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Kept{}, ErrNotFound
	}
	if err != nil {
		return Kept{}, fmt.Errorf("read deal %s: %w", id, err)
	}
	var st workflows.DealState
	if err := json.Unmarshal(row.State, &st); err != nil {
		return Kept{}, fmt.Errorf("decode deal %s: %w", id, err)
	}
	evs, err := q.ListDealEvents(ctx, id)
	if err != nil {
		return Kept{}, fmt.Errorf("read timeline of %s: %w", id, err)
	}
	st.Timeline = make([]workflows.Event, 0, len(evs))
	for _, e := range evs {
		st.Timeline = append(st.Timeline, workflows.Event{At: e.At, Type: workflows.EventType(e.Type), Actor: e.Actor, About: e.About, Detail: e.Detail})
	}
	tracked, err := q.ListTrackingEvents(ctx, id)
	if err != nil {
		return Kept{}, fmt.Errorf("read tracking events of %s: %w", id, err)
	}
	shipments := map[string]*workflows.Shipment{"goods": st.Shipment}
	if st.Sample != nil {
		shipments["sample"] = st.Sample.Shipment
	}
	for _, e := range tracked {
		if sh := shipments[e.Kind]; sh != nil && sh.TrackingNumber == e.TrackingNumber {
			sh.Events = append(sh.Events, activities.TrackEvent{At: e.At, Status: e.Status, Location: e.Location, Description: e.Description})
		}
	}
	return Kept{State: st, Whole: row.StateFormat >= 2}, nil
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
	afterAt, afterID, err := decodeCursor(f.Cursor)
	if err != nil {
		return Page{}, err
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
			Stage: opt(f.Stage), AfterCreatedAt: afterAt, AfterID: afterID, PageSize: limit,
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
		page.Next = encodeCursor(last.CreatedAt, last.ID)
	}
	return page, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func encodeCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "|" + id))
}

func decodeCursor(c string) (*time.Time, *string, error) {
	if c == "" {
		return nil, nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, nil, ErrBadCursor
	}
	micros, id, ok := strings.Cut(string(b), "|")
	us, err := strconv.ParseInt(micros, 10, 64)
	if !ok || err != nil || id == "" {
		return nil, nil, ErrBadCursor
	}
	at := time.UnixMicro(us).UTC()
	return &at, &id, nil
}
