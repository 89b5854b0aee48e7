-- name: RaiseAlert :one
-- One open row per (kind, deal_id, subject): a repeat updates it.
INSERT INTO finance_alerts (kind, deal_id, subject, detail, currency, ledger_amount, deal_amount)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (kind, deal_id, subject) WHERE resolved_at IS NULL DO UPDATE SET
    detail = EXCLUDED.detail, currency = EXCLUDED.currency, ledger_amount = EXCLUDED.ledger_amount,
    deal_amount = EXCLUDED.deal_amount, last_seen_at = now(), times_seen = finance_alerts.times_seen + 1
RETURNING id, (xmax = 0)::boolean AS opened;

-- name: ResolveAlerts :many
-- Closes the open alerts of the kinds that were last seen before a check
-- began and are not among the keys it saw (kind|deal_id|subject).
UPDATE finance_alerts SET resolved_at = now()
WHERE resolved_at IS NULL
  AND kind = ANY (sqlc.arg(kinds)::text[])
  AND last_seen_at < sqlc.arg(before)
  AND NOT (kind || '|' || deal_id || '|' || subject = ANY (sqlc.arg(seen)::text[]))
RETURNING id, kind, deal_id, subject;

-- name: ListAlerts :many
-- Open alerts first, then resolved ones; the most recently seen first.
SELECT * FROM finance_alerts
WHERE (sqlc.narg(open)::boolean IS NULL OR (resolved_at IS NULL) = sqlc.narg(open))
  AND (cardinality(sqlc.arg(kinds)::text[]) = 0 OR kind = ANY (sqlc.arg(kinds)::text[]))
ORDER BY (resolved_at IS NOT NULL), last_seen_at DESC, id DESC
LIMIT sqlc.arg(page_size);

-- name: AlertFigures :many
-- Per kind, the open alerts and every report ever made, for /metrics.
SELECT kind, count(*) FILTER (WHERE resolved_at IS NULL) AS open, sum(times_seen)::bigint AS reported
FROM finance_alerts
GROUP BY kind
ORDER BY kind;

-- name: EscrowBalances :many
-- Every escrow account that does not stand at zero, by deal and currency.
SELECT substr(account, 8)::text AS deal_id, currency, sum(amount)::bigint AS balance
FROM ledger_lines
WHERE account LIKE 'escrow:%'
GROUP BY account, currency
HAVING sum(amount) <> 0
ORDER BY account, currency;

-- name: PostingsOfAccount :many
-- Every line of every posting that touches an account, oldest first.
SELECT p.id AS posting_id, p.idempotency_key, p.kind, p.memo, l.account, l.currency, l.amount
FROM ledger_postings p
JOIN ledger_lines l ON l.posting_id = p.id
WHERE p.id IN (SELECT posting_id FROM ledger_lines WHERE ledger_lines.account = sqlc.arg(account))
ORDER BY p.id, l.line_no;

-- name: DatabaseNow :one
SELECT now()::timestamptz AS now;

-- name: StartOverride :exec
INSERT INTO escrow_overrides (deal_id, workflow_id, run_id, operator_user_id, operator_org_id, operator_role,
                              outcome, release_requested, reason, status, requested_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'started', $10)
ON CONFLICT (workflow_id, run_id) DO NOTHING;

-- name: FinishOverride :exec
UPDATE escrow_overrides SET status = $3, currency = $4, released = $5, commission = $6, refunded = $7,
    error = $8, finished_at = coalesce(finished_at, now())
WHERE workflow_id = $1 AND run_id = $2 AND status = 'started';

-- name: ListOverrides :many
SELECT * FROM escrow_overrides WHERE deal_id = $1 ORDER BY id;
