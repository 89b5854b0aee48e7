-- name: ClaimIdempotencyKey :one
-- Returns a row only when the key was new; the caller then owns it.
INSERT INTO idempotency_keys (user_id, key, method, path, request_hash)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (user_id, key) DO NOTHING
RETURNING created_at;

-- name: GetIdempotencyKey :one
SELECT * FROM idempotency_keys WHERE user_id = $1 AND key = $2;

-- name: CompleteIdempotencyKey :exec
UPDATE idempotency_keys SET status = $3, response = $4 WHERE user_id = $1 AND key = $2;

-- name: ReleaseIdempotencyKey :exec
-- A request that failed on the server's side may be tried again.
DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL;

-- name: GetOrganization :one
SELECT * FROM organizations WHERE id = $1;

-- name: SupplierTier :one
SELECT tier FROM supplier_profiles WHERE org_id = $1;

-- name: UpsertSupplierProfile :exec
INSERT INTO supplier_profiles (org_id, categories, regions, tier)
VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id) DO UPDATE SET categories = EXCLUDED.categories, regions = EXCLUDED.regions, tier = EXCLUDED.tier, updated_at = now();

-- name: OrganizationHasRole :one
SELECT EXISTS (SELECT 1 FROM users WHERE org_id = $1 AND role = $2);
