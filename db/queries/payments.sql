-- name: SupplierStripeAccount :one
SELECT stripe_account_id FROM supplier_profiles WHERE org_id = $1;

-- name: SetSupplierStripeAccount :exec
UPDATE supplier_profiles SET stripe_account_id = $2, updated_at = now() WHERE org_id = $1;

-- name: ClaimStripeEvent :one
-- Returns a row only the first time an event ID is seen.
INSERT INTO stripe_events (id, type, deal_id) VALUES ($1, $2, $3)
ON CONFLICT (id) DO NOTHING
RETURNING id;

-- name: ForgetStripeEvent :exec
-- An event whose handling failed is forgotten, so Stripe's retry is handled.
DELETE FROM stripe_events WHERE id = $1;

-- name: CountStripeEvents :one
SELECT count(*) FROM stripe_events WHERE id = $1;

-- name: DealOfProviderPayment :one
SELECT deal_id FROM payments WHERE provider_id = $1 AND kind = 'charge' LIMIT 1;

-- name: ListPayments :many
-- Payments made in [from_at, to_at) across deals, newest first, matching
-- the filters given (NULL: any), after the row (after_at, after_deal,
-- after_payment) when after is set.
SELECT deal_id, payment_id, kind, step, provider, provider_id, amount_minor, currency, status, reason, created_at, updated_at
FROM payments
WHERE created_at >= @from_at AND created_at < @to_at
  AND (sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind))
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(step)::text IS NULL OR step = sqlc.narg(step))
  AND (sqlc.narg(currency)::text IS NULL OR currency = sqlc.narg(currency))
  AND (sqlc.narg(deal_id)::text IS NULL OR deal_id = sqlc.narg(deal_id))
  AND (NOT @after::bool OR (created_at, deal_id, payment_id) < (@after_at::timestamptz, @after_deal::text, @after_payment::text))
ORDER BY created_at DESC, deal_id DESC, payment_id DESC
LIMIT @max_count;

-- name: SumPayments :many
-- The totals of the payments ListPayments matches (every page), by kind,
-- status and currency.
SELECT kind, status, currency, count(*)::bigint AS payments, sum(amount_minor)::bigint AS amount_minor
FROM payments
WHERE created_at >= @from_at AND created_at < @to_at
  AND (sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind))
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(step)::text IS NULL OR step = sqlc.narg(step))
  AND (sqlc.narg(currency)::text IS NULL OR currency = sqlc.narg(currency))
  AND (sqlc.narg(deal_id)::text IS NULL OR deal_id = sqlc.narg(deal_id))
GROUP BY kind, status, currency
ORDER BY kind, status, currency;
