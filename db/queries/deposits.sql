-- Security deposits (internal/deposits). A deposit's balance is always
-- its ledger account's (deposit:<id>), never stored.

-- name: UpsertDepositCategory :one
INSERT INTO deposit_categories (category, currency, amount_minor, set_by, updated_at)
VALUES (@category, @currency, @amount_minor, @set_by, now())
ON CONFLICT (category) DO UPDATE SET currency = EXCLUDED.currency, amount_minor = EXCLUDED.amount_minor,
    set_by = EXCLUDED.set_by, updated_at = EXCLUDED.updated_at
RETURNING category, currency, amount_minor, set_by, updated_at;

-- name: DepositCategory :one
SELECT category, currency, amount_minor, set_by, updated_at FROM deposit_categories WHERE category = $1;

-- name: DeleteDepositCategory :execrows
DELETE FROM deposit_categories WHERE category = $1;

-- name: DepositCategories :many
SELECT category, currency, amount_minor, set_by, updated_at FROM deposit_categories ORDER BY category LIMIT 1000;

-- name: DepositsStartedSince :one
-- How many deposits the organization started since @since (a cap on retries).
SELECT count(*) FROM security_deposits WHERE org_id = @org_id AND created_at >= @since;

-- name: InsertDeposit :one
-- Returns no row when the organization has a live deposit in the currency.
INSERT INTO security_deposits (id, org_id, currency, amount_minor, status, paid_by)
VALUES (@id, @org_id, @currency, @amount_minor, 'pending', @paid_by)
ON CONFLICT (org_id, currency) WHERE status IN ('pending', 'held', 'returning') DO NOTHING
RETURNING id, created_at;

-- name: LiveDeposit :one
SELECT id, status FROM security_deposits
WHERE org_id = @org_id AND currency = @currency AND status IN ('pending', 'held', 'returning');

-- name: Deposit :one
-- One deposit with what it holds.
SELECT d.id, d.org_id, o.name AS org_name, d.currency, d.amount_minor, d.status, d.reason, d.provider,
       d.provider_payment_id, d.refund_id, d.paid_by, d.created_at, d.updated_at,
       ledger_balance('deposit:' || d.id::text, d.currency) AS held
FROM security_deposits d JOIN organizations o ON o.id = d.org_id
WHERE d.id = $1;

-- name: LockDeposit :one
SELECT id, org_id, currency, amount_minor, status,
       ledger_balance('deposit:' || d.id::text, d.currency) AS held
FROM security_deposits d WHERE d.id = $1 FOR UPDATE;

-- name: Deposits :many
-- Deposits, newest first, of one organization or of all (@org_id NULL),
-- with what each holds; at most @max_rows.
SELECT d.id, d.org_id, o.name AS org_name, d.currency, d.amount_minor, d.status, d.reason, d.provider,
       d.provider_payment_id, d.refund_id, d.paid_by, d.created_at, d.updated_at,
       ledger_balance('deposit:' || d.id::text, d.currency) AS held
FROM security_deposits d JOIN organizations o ON o.id = d.org_id
WHERE (sqlc.narg(org_id)::uuid IS NULL OR d.org_id = sqlc.narg(org_id)::uuid)
ORDER BY d.created_at DESC, d.id
LIMIT @max_rows;

-- name: SetDepositStatus :exec
UPDATE security_deposits
SET status = @status, reason = @reason, provider = CASE WHEN @provider::text = '' THEN provider ELSE @provider::text END,
    provider_payment_id = CASE WHEN @provider_payment_id::text = '' THEN provider_payment_id ELSE @provider_payment_id::text END,
    refund_id = CASE WHEN @refund_id::text = '' THEN refund_id ELSE @refund_id::text END,
    updated_at = now()
WHERE id = @id;

-- name: DepositPostings :many
-- The postings of a deposit's account, oldest first (a deposit has at
-- most a charge, 20 forfeits and a return).
SELECT p.idempotency_key, p.kind, p.memo, p.posted_at, l.amount, l.currency
FROM ledger_lines l JOIN ledger_postings p ON p.id = l.posting_id
WHERE l.account = @account
ORDER BY p.posted_at, p.id
LIMIT 50;

-- name: DepositForfeits :many
SELECT seq, amount_minor, reason, deal_id, decided_by, decided_at FROM deposit_forfeits
WHERE deposit_id = $1 ORDER BY seq;

-- name: InsertDepositForfeit :execrows
-- A forfeit recorded before (a retry) inserts nothing.
INSERT INTO deposit_forfeits (deposit_id, seq, amount_minor, reason, deal_id, decided_by, decided_at)
VALUES (@deposit_id, @seq, @amount_minor, @reason, @deal_id, @decided_by, @decided_at)
ON CONFLICT (deposit_id, seq) DO NOTHING;

-- name: SupplierRunningDeals :many
-- The deals not yet final the organization supplies, has quoted on or was
-- awarded (a deal in dispute or mediation is not final); at most 10.
SELECT d.id, d.stage FROM deals d
WHERE d.stage NOT IN ('COMPLETED', 'RESOLVED', 'CANCELLED', 'EXPIRED')
  AND (d.supplier_org_id = @org_id::text
       OR EXISTS (SELECT 1 FROM deal_invitations i
                  WHERE i.deal_id = d.id AND i.supplier_id = @org_id::text AND i.status IN ('QUOTED', 'AWARDED')))
ORDER BY d.created_at, d.id
LIMIT 10;

-- name: DealDepositNeed :one
-- What the deal's category asks of a supplier, and what the organization
-- holds in its currency in deposits that count (held); no row when the
-- deal's category asks for none.
SELECT c.category, c.currency, c.amount_minor AS required,
       coalesce((SELECT sum(l.amount) FROM security_deposits s
                 JOIN ledger_lines l ON l.account = 'deposit:' || s.id::text AND l.currency = s.currency
                 WHERE s.org_id = @org_id::uuid AND s.currency = c.currency AND s.status = 'held'), 0)::bigint AS held
FROM deals d JOIN deposit_categories c ON c.category = d.category
WHERE d.id = @deal_id;

-- name: SuppliersWithoutDeposit :many
-- Of @org_ids, those that do not hold the deposit @category asks for
-- (none when it asks for none).
SELECT o.id::uuid AS org_id
FROM unnest(@org_ids::uuid[]) AS o(id)
JOIN deposit_categories c ON c.category = @category
WHERE coalesce((SELECT sum(l.amount) FROM security_deposits s
                JOIN ledger_lines l ON l.account = 'deposit:' || s.id::text AND l.currency = s.currency
                WHERE s.org_id = o.id AND s.currency = c.currency AND s.status = 'held'), 0) < c.amount_minor;

-- name: SupplierOnDeal :one
-- Whether the organization supplied, or was invited to quote on, the deal.
SELECT EXISTS (SELECT 1 FROM deals d WHERE d.id = @deal_id AND (d.supplier_org_id = @org_id::text
    OR EXISTS (SELECT 1 FROM deal_invitations i WHERE i.deal_id = d.id AND i.supplier_id = @org_id::text)))::bool AS party;
