// Package webhooks is the signed outbound webhook channel of notifications:
// an organization registers endpoints (here), the notification dispatcher
// adds a delivery per enabled endpoint of the organization a notification
// is addressed to (Put), and the Dispatcher posts each, signed with the
// endpoint's secret (Sign, Verify), at least once: again with growing gaps
// until the endpoint answers 2xx or the delivery is GiveUpAfter old, every
// attempt logged. An endpoint failing for DisableAfter is disabled, and
// its organization told (a notification).
package webhooks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/keyset"
)

// Limits on what an organization registers.
const (
	MaxEndpointsPerOrg = 10
	MaxDescription     = 200
	DefaultPage        = 20
	MaxPage            = 100
)

// Errors the service answers with.
var (
	ErrNotFound     = errors.New("no such webhook endpoint or delivery")
	ErrTooMany      = fmt.Errorf("at most %d webhook endpoints per organization", MaxEndpointsPerOrg)
	ErrBadCursor    = keyset.ErrBadCursor
	ErrDisabled     = errors.New("the endpoint is disabled: enable it first")
	ErrInvalidInput = errors.New("invalid webhook endpoint")
)

// InvalidError is an endpoint's field that is not acceptable.
type InvalidError struct {
	Field string
	Err   error
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *InvalidError) Unwrap() error { return ErrInvalidInput }

// Service keeps organizations' endpoints and shows their deliveries.
type Service struct {
	pool *pgxpool.Pool
	// allowLocal lets endpoints be http and private addresses (the dev
	// stack's receiver, tests).
	allowLocal bool
	now        func() time.Time
}

// New keeps endpoints in pool; allowLocal as for CheckURL.
func New(pool *pgxpool.Pool, allowLocal bool) *Service {
	return &Service{pool: pool, allowLocal: allowLocal, now: time.Now}
}

// Endpoint is a registered endpoint as its organization sees it (never
// its secret, but when it is made).
type Endpoint struct {
	ID           uuid.UUID  `json:"id"`
	URL          string     `json:"url"`
	Description  string     `json:"description"`
	Enabled      bool       `json:"enabled"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
	DisabledWhy  string     `json:"disabled_why,omitempty"`
	FailingSince *time.Time `json:"failing_since,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
}

func endpointOf(e store.WebhookEndpoint) Endpoint {
	return Endpoint{ID: e.ID, URL: e.Url, Description: e.Description, Enabled: e.Enabled, DisabledAt: e.DisabledAt,
		DisabledWhy: e.DisabledWhy, FailingSince: e.FailingSince, CreatedAt: e.CreatedAt}
}

// Create registers an endpoint for org and returns it with its signing
// secret, which is shown this once. A URL it refuses is an InvalidError, a
// description past its bounds a *bounds.Error.
func (s *Service) Create(ctx context.Context, org uuid.UUID, rawURL, description string) (Endpoint, string, error) {
	if err := CheckURL(rawURL, s.allowLocal); err != nil {
		return Endpoint{}, "", &InvalidError{Field: "url", Err: err}
	}
	if err := bounds.Line("description", description, MaxDescription); err != nil {
		return Endpoint{}, "", err // a *bounds.Error, which names the field
	}
	secret, err := NewSecret()
	if err != nil {
		return Endpoint{}, "", err
	}
	var made store.WebhookEndpoint
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		// One organization's registrations in turn, so two at once cannot
		// both pass the count.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('webhook_endpoints'), hashtext($1))", org.String()); err != nil {
			return fmt.Errorf("lock the organization's endpoints: %w", err)
		}
		n, err := q.CountWebhookEndpoints(ctx, org)
		if err != nil {
			return fmt.Errorf("count webhook endpoints: %w", err)
		}
		if n >= MaxEndpointsPerOrg {
			return ErrTooMany
		}
		made, err = q.CreateWebhookEndpoint(ctx, store.CreateWebhookEndpointParams{OrgID: org, Url: rawURL, Description: description, Secret: secret})
		if err != nil {
			return fmt.Errorf("register webhook endpoint: %w", err)
		}
		return nil
	})
	if err != nil {
		return Endpoint{}, "", err
	}
	return endpointOf(made), secret, nil
}

// RollOverlap is how long after a secret is rolled deliveries still carry
// a signature with the secret before it.
const RollOverlap = 24 * time.Hour

// Roll gives one of org's endpoints a new signing secret, shown this
// once; for RollOverlap its deliveries are signed with the old one too,
// so the receiver can switch without refusing any.
func (s *Service) Roll(ctx context.Context, org, id uuid.UUID) (Endpoint, string, error) {
	secret, err := NewSecret()
	if err != nil {
		return Endpoint{}, "", err
	}
	until := s.now().Add(RollOverlap)
	e, err := store.New(s.pool).RollWebhookSecret(ctx, store.RollWebhookSecretParams{PreviousUntil: &until, Secret: secret, ID: id, OrgID: org})
	if errors.Is(err, pgx.ErrNoRows) {
		return Endpoint{}, "", ErrNotFound
	}
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("roll webhook secret: %w", err)
	}
	return endpointOf(e), secret, nil
}

// List is org's endpoints, oldest first.
func (s *Service) List(ctx context.Context, org uuid.UUID) ([]Endpoint, error) {
	rows, err := store.New(s.pool).ListWebhookEndpoints(ctx, org)
	if err != nil {
		return nil, fmt.Errorf("list webhook endpoints: %w", err)
	}
	out := make([]Endpoint, 0, len(rows))
	for _, r := range rows {
		out = append(out, endpointOf(r))
	}
	return out, nil
}

// Get is one of org's endpoints; another organization's is ErrNotFound.
func (s *Service) Get(ctx context.Context, org, id uuid.UUID) (Endpoint, error) {
	e, err := store.New(s.pool).GetWebhookEndpoint(ctx, store.GetWebhookEndpointParams{ID: id, OrgID: org})
	if errors.Is(err, pgx.ErrNoRows) {
		return Endpoint{}, ErrNotFound
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("read webhook endpoint: %w", err)
	}
	return endpointOf(e), nil
}

// Delete removes one of org's endpoints with its deliveries.
func (s *Service) Delete(ctx context.Context, org, id uuid.UUID) error {
	n, err := store.New(s.pool).DeleteWebhookEndpoint(ctx, store.DeleteWebhookEndpointParams{ID: id, OrgID: org})
	if err != nil {
		return fmt.Errorf("delete webhook endpoint: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Enable turns a disabled endpoint on again: its pending deliveries go out
// from now on (a no-op for an enabled one).
func (s *Service) Enable(ctx context.Context, org, id uuid.UUID) (Endpoint, error) {
	e, err := store.New(s.pool).EnableWebhookEndpoint(ctx, store.EnableWebhookEndpointParams{ID: id, OrgID: org})
	if errors.Is(err, pgx.ErrNoRows) {
		return Endpoint{}, ErrNotFound
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("enable webhook endpoint: %w", err)
	}
	return endpointOf(e), nil
}

// Delivery is one notification's delivery to one endpoint, with every
// attempt.
type Delivery struct {
	ID            uuid.UUID  `json:"id"`
	EventID       string     `json:"event_id"`
	Type          string     `json:"type"`
	DealID        string     `json:"deal_id,omitempty"`
	Status        string     `json:"status"`
	Attempts      []Attempt  `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastStatus    *int32     `json:"last_status,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

// Attempt is one try of a delivery.
type Attempt struct {
	Attempt    int32     `json:"attempt"`
	At         time.Time `json:"at"`
	Status     *int32    `json:"status,omitempty"`
	Error      string    `json:"error,omitempty"`
	DurationMS int32     `json:"duration_ms"`
}

// DeliveryPage is a page of an endpoint's delivery log, newest first.
type DeliveryPage struct {
	Deliveries []Delivery `json:"deliveries"`
	Next       string     `json:"next,omitempty"`
}

// Deliveries is a page of the log of one of org's endpoints, after the
// cursor a previous page gave ("" for the first); limit 0 means
// DefaultPage, and it is at most MaxPage.
func (s *Service) Deliveries(ctx context.Context, org, endpoint uuid.UUID, cursor string, limit int) (DeliveryPage, error) {
	if limit <= 0 {
		limit = DefaultPage
	}
	limit = min(limit, MaxPage)
	q := store.New(s.pool)
	if _, err := s.Get(ctx, org, endpoint); err != nil {
		return DeliveryPage{}, err
	}
	p := store.ListWebhookDeliveriesParams{EndpointID: endpoint, MaxCount: int32(limit + 1)}
	if cursor != "" {
		after, _, err := keyset.Decode(cursor, 1)
		if err != nil {
			return DeliveryPage{}, err
		}
		id, err := uuid.Parse(after.Keys[0])
		if err != nil {
			return DeliveryPage{}, ErrBadCursor
		}
		p.After, p.AfterAt, p.AfterID = true, after.At, id
	}
	rows, err := q.ListWebhookDeliveries(ctx, p)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("list webhook deliveries: %w", err)
	}
	page := DeliveryPage{Deliveries: []Delivery{}}
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		page.Next = keyset.Encode(last.CreatedAt, last.ID.String())
	}
	ids := make([]uuid.UUID, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	attempts, err := q.ListWebhookAttempts(ctx, ids)
	if err != nil {
		return DeliveryPage{}, fmt.Errorf("list webhook attempts: %w", err)
	}
	byDelivery := map[uuid.UUID][]Attempt{}
	for _, a := range attempts {
		byDelivery[a.DeliveryID] = append(byDelivery[a.DeliveryID], Attempt{Attempt: a.Attempt, At: a.At, Status: a.Status, Error: a.Error, DurationMS: a.DurationMs})
	}
	for _, r := range rows {
		d := Delivery{ID: r.ID, EventID: EventID(r.Key), Type: r.Kind, DealID: r.DealID, Status: r.Status, Attempts: byDelivery[r.ID],
			LastStatus: r.LastStatus, LastError: r.LastError, CreatedAt: r.CreatedAt, DeliveredAt: r.DeliveredAt}
		if d.Attempts == nil {
			d.Attempts = []Attempt{}
		}
		if r.Status == "pending" {
			next := r.NextAttemptAt
			d.NextAttemptAt = &next
		}
		page.Deliveries = append(page.Deliveries, d)
	}
	return page, nil
}

// Replay sends one of the endpoint's deliveries again now, whatever
// became of it; a disabled endpoint must be enabled first.
func (s *Service) Replay(ctx context.Context, org, endpoint, delivery uuid.UUID) error {
	e, err := s.Get(ctx, org, endpoint)
	if err != nil {
		return err
	}
	if !e.Enabled {
		return ErrDisabled
	}
	_, err = store.New(s.pool).ReplayWebhookDelivery(ctx, store.ReplayWebhookDeliveryParams{Now: s.now(), ID: delivery, EndpointID: endpoint, OrgID: org})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("replay webhook delivery: %w", err)
	}
	return nil
}
