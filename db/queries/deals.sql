-- name: UpsertDeal :one
-- Writes the deal's row unless a newer projection is already there, and
-- returns its kept state (locked until the transaction ends) for the
-- projection to bring up to date (SetDealState). A new row is kept whole
-- from its first projection on (state_format 2, the column's default).
INSERT INTO deals (id, stage, buyer_org_id, supplier_org_id, product, quantity, total_minor, currency,
                   state, last_event_seq, projection_round, created_at, updated_at)
VALUES (@id, @stage, @buyer_org_id, @supplier_org_id, @product, @quantity, @total_minor, @currency, '{}'::jsonb, @last_event_seq, @projection_round, @created_at, @updated_at)
ON CONFLICT (id) DO UPDATE SET
    stage = EXCLUDED.stage, supplier_org_id = EXCLUDED.supplier_org_id, total_minor = EXCLUDED.total_minor,
    last_event_seq = EXCLUDED.last_event_seq, projection_round = EXCLUDED.projection_round, updated_at = EXCLUDED.updated_at,
    version = deals.version + 1
WHERE (deals.last_event_seq, deals.projection_round) <= (EXCLUDED.last_event_seq, EXCLUDED.projection_round)
RETURNING state, state_format;

-- name: GetDealVersion :one
-- The deal's version (raised by every projection written) and whether its
-- state is kept whole: what a reader checks a view it kept against.
SELECT version, state_format FROM deals WHERE id = $1;

-- name: SetDealState :exec
UPDATE deals SET state = @state WHERE id = @id;

-- name: InsertDealEvent :exec
INSERT INTO deal_events (deal_id, seq, at, type, actor, about, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (deal_id, seq) DO NOTHING;

-- name: UpsertInvitation :exec
INSERT INTO deal_invitations (deal_id, supplier_id, status, invited_at, due_at, deal_created_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (deal_id, supplier_id) DO UPDATE SET status = EXCLUDED.status;

-- name: UpsertQuote :exec
INSERT INTO quotes (deal_id, quote_id, supplier_id, revision, tiers, moq, lead_time_days, valid_till,
                    sample_minor, unit_minor, total_minor, status, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (deal_id, quote_id) DO UPDATE SET status = EXCLUDED.status;

-- name: UpsertPayment :exec
INSERT INTO payments (deal_id, payment_id, kind, step, provider, provider_id, amount_minor, currency,
                      status, idempotency_key, reason, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (deal_id, payment_id) DO UPDATE SET
    provider = EXCLUDED.provider, provider_id = EXCLUDED.provider_id, status = EXCLUDED.status,
    reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at
WHERE (payments.status, payments.provider_id, payments.reason)
      IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.provider_id, EXCLUDED.reason);

-- name: UpsertShipment :exec
INSERT INTO shipments (deal_id, kind, carrier, tracking_number, status, shipped_at, delivered_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (deal_id, kind, tracking_number) DO UPDATE SET
    status = EXCLUDED.status, delivered_at = EXCLUDED.delivered_at;

-- name: InsertTrackingEvent :exec
INSERT INTO tracking_events (deal_id, kind, tracking_number, seq, at, status, location, description)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT DO NOTHING;

-- name: UpsertDispute :exec
INSERT INTO disputes (deal_id, opened_by, reason, remedy, answer, status, opened_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (deal_id) DO UPDATE SET answer = EXCLUDED.answer, status = EXCLUDED.status;

-- name: InsertEvidence :exec
INSERT INTO dispute_evidence (deal_id, seq, reference) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING;

-- name: UpsertProposal :exec
INSERT INTO dispute_proposals (deal_id, proposal_id, proposed_by, release_minor, note, status, at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (deal_id, proposal_id) DO UPDATE SET status = EXCLUDED.status;

-- name: UpsertDecision :exec
INSERT INTO dispute_decisions (deal_id, mediator_id, outcome, release_minor, note, at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (deal_id) DO NOTHING;

-- name: GetDeal :one
SELECT * FROM deals WHERE id = $1;

-- name: ListDealEvents :many
SELECT * FROM deal_events WHERE deal_id = $1 ORDER BY seq;

-- name: ListDealPayments :many
SELECT * FROM payments WHERE deal_id = $1 ORDER BY created_at, payment_id;

-- name: ListDealsForBuyer :many
-- Newest first, keyset-paginated on (created_at, id).
SELECT id, stage, buyer_org_id, supplier_org_id, product, quantity, total_minor, currency, created_at, updated_at
FROM deals
WHERE buyer_org_id = sqlc.arg(buyer_org_id)
  AND (sqlc.narg(stage)::text IS NULL OR stage = sqlc.narg(stage))
  AND (sqlc.narg(counterparty)::text IS NULL OR supplier_org_id = sqlc.narg(counterparty))
  AND (sqlc.narg(created_from)::timestamptz IS NULL OR created_at >= sqlc.narg(created_from))
  AND (sqlc.narg(created_to)::timestamptz IS NULL OR created_at < sqlc.narg(created_to))
  AND (sqlc.narg(after_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_id)::text))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- name: ListDealsForSupplier :many
-- Deals the supplier was invited to or awarded, newest first.
SELECT d.id, d.stage, d.buyer_org_id, d.supplier_org_id, d.product, d.quantity, d.total_minor, d.currency, d.created_at, d.updated_at
FROM deal_invitations i
JOIN deals d ON d.id = i.deal_id
WHERE i.supplier_id = sqlc.arg(supplier_org_id)
  AND (sqlc.narg(stage)::text IS NULL OR d.stage = sqlc.narg(stage))
  AND (sqlc.narg(counterparty)::text IS NULL OR d.buyer_org_id = sqlc.narg(counterparty))
  AND (sqlc.narg(created_from)::timestamptz IS NULL OR i.deal_created_at >= sqlc.narg(created_from))
  AND (sqlc.narg(created_to)::timestamptz IS NULL OR i.deal_created_at < sqlc.narg(created_to))
  AND (sqlc.narg(after_created_at)::timestamptz IS NULL
       OR (i.deal_created_at, i.deal_id) < (sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_id)::text))
ORDER BY i.deal_created_at DESC, i.deal_id DESC
LIMIT sqlc.arg(page_size);

-- name: ListDealsInDispute :many
-- What a mediator works on: deals whose dispute was escalated to
-- mediation and is not decided yet, assigned to that mediator or to no
-- one, newest first.
SELECT id, stage, buyer_org_id, supplier_org_id, product, quantity, total_minor, currency, created_at, updated_at
FROM deals
WHERE stage = 'MEDIATION'
  AND COALESCE(state->'dispute'->>'mediator_id', '') IN ('', @mediator_id::text)
  AND (sqlc.narg(stage)::text IS NULL OR stage = sqlc.narg(stage))
  AND (sqlc.narg(after_created_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(after_created_at)::timestamptz, sqlc.narg(after_id)::text))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- name: InsertNotification :exec
INSERT INTO notification_outbox (key, deal_id, org_id, kind, text, facts)
VALUES (@key, @deal_id, @org_id, @kind, @text, @facts)
ON CONFLICT (key) DO NOTHING;

-- name: QueueNotice :exec
-- A notification outside any deal (the watchlist's alerts, matched offers,
-- reactivation messages): to one user, or to every user of org when
-- user_id is NULL. A repeat of its key is a no-op.
INSERT INTO notification_outbox (key, deal_id, org_id, user_id, kind, text, facts)
VALUES (@key, '', @org_id, sqlc.narg(user_id), @kind, @text, @facts)
ON CONFLICT (key) DO NOTHING;

-- name: ClaimNotifications :many
SELECT key, deal_id, org_id, kind, text, facts, attempts FROM notification_outbox
WHERE delivered_at IS NULL AND next_attempt_at <= @now
ORDER BY next_attempt_at, created_at
LIMIT @max_count
-- NO KEY UPDATE: exclusive among dispatchers, but a channel that records
-- its own deliveries on another connection (mail_sent, whose key
-- references this row) is not blocked by the claim it runs under.
FOR NO KEY UPDATE SKIP LOCKED;

-- name: MarkNotificationDelivered :exec
UPDATE notification_outbox SET delivered_at = @at, next_attempt_at = NULL, attempts = attempts + 1, last_error = ''
WHERE key = @key;

-- name: MarkNotificationFailed :exec
UPDATE notification_outbox SET attempts = attempts + 1, last_error = @last_error, next_attempt_at = @next_attempt_at
WHERE key = @key;

-- name: DealNotifications :many
SELECT key, org_id, kind, text, facts, attempts, delivered_at FROM notification_outbox
WHERE deal_id = @deal_id ORDER BY created_at, key;

-- name: LeastBusyMediator :one
-- The mediator with the fewest disputes in mediation assigned to it, the
-- longest-standing first among equals.
SELECT u.id FROM users u
WHERE u.role = 'mediator'
ORDER BY (SELECT count(*) FROM deals d WHERE d.stage = 'MEDIATION' AND d.state->'dispute'->>'mediator_id' = u.id::text), u.created_at, u.id
LIMIT 1;

-- name: SuppliersDealtWith :many
-- Those of the suppliers a buyer has been awarded a deal with already: a
-- trial order is for a first deal.
SELECT DISTINCT supplier_org_id::text AS supplier_org_id FROM deals
WHERE buyer_org_id = @buyer_org_id AND supplier_org_id = ANY(@suppliers::text[]);
