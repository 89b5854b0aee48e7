// Package readmodel keeps the deals users and finance read from: one row per
// deal with its latest state, the append-only timeline, and the quotes,
// payments, shipments and disputes in tables of their own. Only the deal
// workflow's projection activity writes here, and every write is an upsert
// or an insert-if-absent, so a replayed or retried projection changes
// nothing.
package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/workflows"
)

// Store reads and writes the read model.
type Store struct {
	pool   *pgxpool.Pool
	states StateSource
}

// StateSource reads a deal's current state (the deal workflow's query).
type StateSource interface {
	DealState(ctx context.Context, dealID string) (workflows.DealState, error)
}

// StateFunc adapts a function to StateSource.
type StateFunc func(ctx context.Context, dealID string) (workflows.DealState, error)

// DealState implements StateSource.
func (f StateFunc) DealState(ctx context.Context, dealID string) (workflows.DealState, error) {
	return f(ctx, dealID)
}

// New returns the read model on pool, for reading.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// WithStates returns the read model that projects deals, reading each deal's
// details through states.
func (s *Store) WithStates(states StateSource) *Store { return &Store{pool: s.pool, states: states} }

var (
	_ activities.Projection   = (*Store)(nil)
	_ activities.PaymentIndex = (*Store)(nil)
)

// Project writes one projection of a deal in one transaction: the summary
// and new events the workflow sent, and the details (invitations, quotes,
// payments, shipments, dispute, the state kept for after the workflow's
// retention) as the deal's query shows them now. The query may be ahead of
// the projection, never behind, so the details only move forward.
func (s *Store) Project(ctx context.Context, p activities.DealProjection) error {
	st, raw, err := s.stateOf(ctx, p)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		var supplier *string
		if p.SupplierOrgID != "" {
			supplier = &p.SupplierOrgID
		}
		now := p.CreatedAt
		if n := len(p.Events); n > 0 {
			now = p.Events[n-1].At
		}
		_, err := q.UpsertDeal(ctx, store.UpsertDealParams{
			ID: p.DealID, Stage: p.Stage, BuyerOrgID: p.BuyerOrgID, SupplierOrgID: supplier, Product: p.Product,
			Quantity: p.Quantity, TotalMinor: p.Total, Currency: p.Currency, State: raw,
			LastEventSeq: int32(p.LastSeq), CreatedAt: p.CreatedAt, UpdatedAt: now,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // a newer projection is already there
		}
		if err != nil {
			return fmt.Errorf("upsert deal %s: %w", p.DealID, err)
		}
		for _, e := range p.Events {
			if err := q.InsertDealEvent(ctx, store.InsertDealEventParams{
				DealID: p.DealID, Seq: int32(e.Seq), At: e.At, Type: e.Type, Actor: e.Actor, Detail: e.Detail,
			}); err != nil {
				return fmt.Errorf("insert event %d of deal %s: %w", e.Seq, p.DealID, err)
			}
		}
		return projectDetails(ctx, q, p, st)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") {
		// A data exception (a character or value PostgreSQL cannot store)
		// fails the same way every time.
		return fmt.Errorf("%w: %w", activities.ErrProjectionRefused, err)
	}
	return err
}

// stateOf is the deal's state for a projection: the one it carries (an
// operator's override), else the deal's query.
func (s *Store) stateOf(ctx context.Context, p activities.DealProjection) (workflows.DealState, []byte, error) {
	var st workflows.DealState
	if len(p.State) > 0 {
		if err := json.Unmarshal(p.State, &st); err != nil {
			return st, nil, fmt.Errorf("decode state of deal %s: %w", p.DealID, err)
		}
		return st, p.State, nil
	}
	if s.states == nil {
		return st, nil, errors.New("the read model projects only with a source of deal states")
	}
	st, err := s.states.DealState(ctx, p.DealID)
	if err != nil {
		return st, nil, fmt.Errorf("read state of deal %s: %w", p.DealID, err)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return st, nil, fmt.Errorf("encode state of deal %s: %w", p.DealID, err)
	}
	return st, raw, nil
}

func projectDetails(ctx context.Context, q *store.Queries, p activities.DealProjection, st workflows.DealState) error {
	dealID := p.DealID
	for _, inv := range st.Invitations {
		if err := q.UpsertInvitation(ctx, store.UpsertInvitationParams{
			DealID: dealID, SupplierID: inv.SupplierID, Status: string(inv.Status), InvitedAt: inv.InvitedAt, DueAt: inv.DueAt,
			DealCreatedAt: p.CreatedAt,
		}); err != nil {
			return fmt.Errorf("upsert invitation: %w", err)
		}
	}
	for _, qu := range st.Quotes {
		tiers, _ := json.Marshal(qu.Tiers)
		if err := q.UpsertQuote(ctx, store.UpsertQuoteParams{
			DealID: dealID, QuoteID: qu.ID, SupplierID: qu.SupplierID, Revision: int32(qu.Revision), Tiers: tiers,
			Moq: qu.MOQ, LeadTimeDays: int32(qu.LeadTimeDays), ValidTill: qu.ValidTill, SampleMinor: qu.SamplePrice,
			UnitMinor: qu.UnitPrice, TotalMinor: qu.Total, Status: qu.Status, CreatedAt: qu.CreatedAt,
		}); err != nil {
			return fmt.Errorf("upsert quote: %w", err)
		}
	}
	updated := p.CreatedAt
	if n := len(st.Timeline); n > 0 {
		updated = st.Timeline[n-1].At
	}
	for _, pay := range st.Payments {
		if err := q.UpsertPayment(ctx, store.UpsertPaymentParams{
			DealID: dealID, PaymentID: pay.ID, Kind: pay.Kind, Step: pay.Step, Provider: pay.Provider,
			ProviderID: pay.ProviderID, AmountMinor: pay.Amount, Currency: pay.Currency, Status: pay.Status,
			IdempotencyKey: pay.IdempotencyKey, Reason: pay.Reason, CreatedAt: pay.CreatedAt, UpdatedAt: updated,
		}); err != nil {
			return fmt.Errorf("upsert payment %s: %w", pay.ID, err)
		}
	}
	if st.Sample != nil && st.Sample.Shipment != nil {
		if err := projectShipment(ctx, q, dealID, "sample", st.Sample.Shipment); err != nil {
			return err
		}
	}
	if st.Shipment != nil {
		if err := projectShipment(ctx, q, dealID, "goods", st.Shipment); err != nil {
			return err
		}
	}
	if st.Dispute != nil {
		if err := projectDispute(ctx, q, dealID, st.Dispute); err != nil {
			return err
		}
	}
	return nil
}

func projectShipment(ctx context.Context, q *store.Queries, dealID, kind string, sh *workflows.Shipment) error {
	params := store.UpsertShipmentParams{
		DealID: dealID, Kind: kind, Carrier: sh.Carrier, TrackingNumber: sh.TrackingNumber, Status: sh.Status, ShippedAt: sh.ShippedAt,
	}
	if !sh.DeliveredAt.IsZero() {
		params.DeliveredAt = &sh.DeliveredAt
	}
	if err := q.UpsertShipment(ctx, params); err != nil {
		return fmt.Errorf("upsert %s shipment: %w", kind, err)
	}
	for i, e := range sh.Events {
		if err := q.InsertTrackingEvent(ctx, store.InsertTrackingEventParams{
			DealID: dealID, Kind: kind, TrackingNumber: sh.TrackingNumber, Seq: int32(i + 1), At: e.At,
			Status: e.Status, Location: e.Location, Description: e.Description,
		}); err != nil {
			return fmt.Errorf("insert tracking event: %w", err)
		}
	}
	return nil
}

func projectDispute(ctx context.Context, q *store.Queries, dealID string, d *workflows.Dispute) error {
	if err := q.UpsertDispute(ctx, store.UpsertDisputeParams{
		DealID: dealID, OpenedBy: d.OpenedBy, Reason: d.Reason, Remedy: d.Remedy, Answer: d.Answer, Status: d.Status, OpenedAt: d.OpenedAt,
	}); err != nil {
		return fmt.Errorf("upsert dispute: %w", err)
	}
	for i, ref := range d.Evidence {
		if err := q.InsertEvidence(ctx, store.InsertEvidenceParams{DealID: dealID, Seq: int32(i + 1), Reference: ref}); err != nil {
			return fmt.Errorf("insert evidence: %w", err)
		}
	}
	for _, p := range d.Proposals {
		if err := q.UpsertProposal(ctx, store.UpsertProposalParams{
			DealID: dealID, ProposalID: p.ID, ProposedBy: p.By, ReleaseMinor: p.ReleaseAmount, Note: p.Note, Status: p.Status, At: p.At,
		}); err != nil {
			return fmt.Errorf("upsert proposal: %w", err)
		}
	}
	if dec := d.Decision; dec != nil {
		if err := q.UpsertDecision(ctx, store.UpsertDecisionParams{
			DealID: dealID, MediatorID: dec.MediatorID, Outcome: dec.Outcome, ReleaseMinor: dec.ReleaseAmount, Note: dec.Note, At: dec.At,
		}); err != nil {
			return fmt.Errorf("upsert decision: %w", err)
		}
	}
	return nil
}
