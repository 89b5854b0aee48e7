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
