// Package readmodel keeps the deals users and finance read from: one row per
// deal with its latest state, the append-only timeline, and the quotes,
// payments, shipments and disputes in tables of their own, and the outbox
// of the deals' notifications. Only the deal workflow's rounds of
// bookkeeping write here (WriteBooks: the API for the round an action
// hands it, the bookkeeping activity for the others), and every write is
// an upsert or an insert-if-absent, so a round written twice changes
// nothing.
package readmodel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/pgpipe"
	"github.com/tradeloop/tradeloop/internal/texts"
	"github.com/tradeloop/tradeloop/workflows"
)

// Store reads and writes the read model.
type Store struct {
	pool *pgxpool.Pool
}

// New returns the read model on pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

var (
	_ activities.Projection   = (*Store)(nil)
	_ activities.PaymentIndex = (*Store)(nil)
)

// Project writes one projection of a deal in one transaction: the summary,
// the new events, the details that changed, and the kept state brought up
// to date (workflows.ApplyProjection). A projection older than the one
// there changes nothing.
func (s *Store) Project(ctx context.Context, p activities.DealProjection) error {
	return refused(pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		pipe := pgpipe.New(tx)
		if err := project(ctx, store.New(pipe), p); err != nil {
			return err
		}
		if err := pipe.Flush(ctx); err != nil {
			return fmt.Errorf("project deal %s: %w", p.DealID, err)
		}
		return nil
	}))
}

// WriteBooks writes one round of a deal's bookkeeping in one transaction:
// its notifications into the outbox (each once by its key, however often
// the round is written) and its projection. The API writes the round an
// action hands it; the bookkeeping activity writes the others.
func (s *Store) WriteBooks(ctx context.Context, b activities.Books) error {
	return refused(pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The round's rows go out together (a few round trips, not one
		// per row).
		pipe := pgpipe.New(tx)
		q := store.New(pipe)
		for _, n := range b.Notifications {
			// The outbox keeps the facts, which each reader's text is
			// worded from, and an English text (webhooks, logs).
			facts, err := notice.Encode(n.Facts)
			if err != nil {
				return fmt.Errorf("queue notification %s: %w", n.Key, err)
			}
			text := n.Text
			if text == "" && n.Facts != nil {
				text = texts.Text(texts.Default, n.Kind, *n.Facts, "")
			}
			if err := q.InsertNotification(ctx, store.InsertNotificationParams{
				Key: n.Key, DealID: n.DealID, OrgID: n.OrgID, Kind: n.Kind, Text: text, Facts: facts,
			}); err != nil {
				return fmt.Errorf("queue notification %s: %w", n.Key, err)
			}
		}
		if b.Projection != nil {
			if err := project(ctx, q, *b.Projection); err != nil {
				return err
			}
		}
		if err := pipe.Flush(ctx); err != nil {
			return fmt.Errorf("write a round of bookkeeping: %w", err)
		}
		return nil
	}))
}

// refused marks a data exception (a character or value PostgreSQL cannot
// store), which fails the same way every time.
func refused(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "22") {
		return fmt.Errorf("%w: %w", activities.ErrProjectionRefused, err)
	}
	return err
}

// project writes a projection with q, inside the caller's transaction.
func project(ctx context.Context, q *store.Queries, p activities.DealProjection) error {
	var details workflows.DealDetails
	if len(p.Details) > 0 {
		if err := json.Unmarshal(p.Details, &details); err != nil {
			return fmt.Errorf("decode details of deal %s: %w", p.DealID, err)
		}
	}
	var supplier *string
	if p.SupplierOrgID != "" {
		supplier = &p.SupplierOrgID
	}
	// The deal changed at its newest event, or, for a change the
	// timeline does not show, when the workflow projected it.
	now := p.CreatedAt
	if n := len(p.Events); n > 0 {
		now = p.Events[n-1].At
	} else if p.At.After(now) {
		now = p.At
	}
	row, err := q.UpsertDeal(ctx, store.UpsertDealParams{
		ID: p.DealID, Stage: p.Stage, BuyerOrgID: p.BuyerOrgID, SupplierOrgID: supplier, Product: p.Product,
		Quantity: p.Quantity, TotalMinor: p.Total, Currency: p.Currency,
		LastEventSeq: int32(p.LastSeq), ProjectionRound: int32(p.Round), CreatedAt: p.CreatedAt, UpdatedAt: now,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // a newer projection is already there
	}
	if err != nil {
		return fmt.Errorf("upsert deal %s: %w", p.DealID, err)
	}
	for _, e := range p.Events {
		if err := q.InsertDealEvent(ctx, store.InsertDealEventParams{
			DealID: p.DealID, Seq: int32(e.Seq), At: e.At, Type: e.Type, Actor: e.Actor, About: e.About, Detail: e.Detail,
		}); err != nil {
			return fmt.Errorf("insert event %d of deal %s: %w", e.Seq, p.DealID, err)
		}
	}
	if err := keepState(ctx, q, p, row.State, details); err != nil {
		return err
	}
	return projectDetails(ctx, q, p, details, now)
}

// keepState brings the deal's kept state up to the projection.
func keepState(ctx context.Context, q *store.Queries, p activities.DealProjection, kept []byte, details workflows.DealDetails) error {
	var st workflows.DealState
	if len(kept) > 0 {
		if err := json.Unmarshal(kept, &st); err != nil {
			return fmt.Errorf("decode the kept state of deal %s: %w", p.DealID, err)
		}
	}
	sections := p.Sections
	if len(sections) == 0 && len(p.Money) > 0 {
		// A projection recorded before sections: its money facts carry
		// the deal's payments too.
		var legacy struct {
			Payments []workflows.Payment `json:"payments"`
		}
		if err := json.Unmarshal(p.Money, &legacy); err != nil {
			return fmt.Errorf("decode the money facts of deal %s: %w", p.DealID, err)
		}
		sections, details.Payments = p.Money, append(legacy.Payments, details.Payments...)
	}
	st, err := workflows.ApplyProjection(st, p.State, sections, details)
	if err != nil {
		return fmt.Errorf("deal %s: %w", p.DealID, err)
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode the kept state of deal %s: %w", p.DealID, err)
	}
	if err := q.SetDealState(ctx, store.SetDealStateParams{ID: p.DealID, State: raw}); err != nil {
		return fmt.Errorf("keep the state of deal %s: %w", p.DealID, err)
	}
	return nil
}

func projectDetails(ctx context.Context, q *store.Queries, p activities.DealProjection, st workflows.DealDetails, updated time.Time) error {
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
			UnitMinor: qu.UnitPrice, TotalMinor: qu.Total, Status: string(qu.Status), CreatedAt: qu.CreatedAt,
		}); err != nil {
			return fmt.Errorf("upsert quote: %w", err)
		}
	}
	for _, pay := range st.Payments {
		if err := q.UpsertPayment(ctx, store.UpsertPaymentParams{
			DealID: dealID, PaymentID: pay.ID, Kind: string(pay.Kind), Step: pay.Step, Provider: pay.Provider,
			ProviderID: pay.ProviderID, AmountMinor: pay.Amount, Currency: pay.Currency, Status: string(pay.Status),
			IdempotencyKey: pay.IdempotencyKey, Reason: pay.Reason, CreatedAt: pay.CreatedAt, UpdatedAt: updated,
		}); err != nil {
			return fmt.Errorf("upsert payment %s: %w", pay.ID, err)
		}
	}
	for _, sh := range st.Shipments {
		if err := projectShipment(ctx, q, dealID, sh); err != nil {
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

func projectShipment(ctx context.Context, q *store.Queries, dealID string, d workflows.ShipmentDetails) error {
	kind, sh := d.Kind, d.Shipment
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
			DealID: dealID, Kind: kind, TrackingNumber: sh.TrackingNumber, Seq: int32(d.FirstEvent + i), At: e.At,
			Status: e.Status, Location: e.Location, Description: e.Description,
		}); err != nil {
			return fmt.Errorf("insert tracking event: %w", err)
		}
	}
	return nil
}

// projectDispute writes the dispute's row, unless only its proposals
// changed, then its new evidence, its changed proposals and its decision.
func projectDispute(ctx context.Context, q *store.Queries, dealID string, dd *workflows.DisputeDetails) error {
	d, firstEvidence := &dd.Dispute, dd.FirstEvidence
	if !dd.ProposalsOnly {
		if err := q.UpsertDispute(ctx, store.UpsertDisputeParams{
			DealID: dealID, OpenedBy: d.OpenedBy, Reason: d.Reason, Remedy: d.Remedy, Answer: d.Answer, Status: string(d.Status), OpenedAt: d.OpenedAt,
		}); err != nil {
			return fmt.Errorf("upsert dispute: %w", err)
		}
	}
	for i, ref := range d.Evidence {
		if err := q.InsertEvidence(ctx, store.InsertEvidenceParams{DealID: dealID, Seq: int32(firstEvidence + i), Reference: ref}); err != nil {
			return fmt.Errorf("insert evidence: %w", err)
		}
	}
	for _, p := range d.Proposals {
		if err := q.UpsertProposal(ctx, store.UpsertProposalParams{
			DealID: dealID, ProposalID: p.ID, ProposedBy: p.By, ReleaseMinor: p.ReleaseAmount, Note: p.Note, Status: string(p.Status), At: p.At,
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
