-- name: ClaimIdempotencyKey :one
-- Returns a row when the caller now holds the key: it was new, or the same
-- request held it in progress past its lease (its process died).
INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, claim, locked_until)
VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => sqlc.arg(lease_secs)::float8))
ON CONFLICT (user_id, key) DO UPDATE SET claim = EXCLUDED.claim, locked_until = EXCLUDED.locked_until
WHERE idempotency_keys.status IS NULL AND idempotency_keys.locked_until < now()
  AND idempotency_keys.request_hash = EXCLUDED.request_hash
RETURNING (xmax <> 0)::boolean AS taken_over;

-- name: GetIdempotencyKey :one
SELECT *, greatest(extract(epoch FROM locked_until - now()), 0)::float8 AS lease_left_secs
FROM idempotency_keys WHERE user_id = $1 AND key = $2;

-- name: CompleteIdempotencyKey :exec
UPDATE idempotency_keys SET status = $3, response = $4 WHERE user_id = $1 AND key = $2 AND claim = $5;

-- name: ReleaseIdempotencyKey :exec
-- A request that failed on the server's side may be tried again.
DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND status IS NULL AND claim = $3;

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

-- name: PurgeIdempotencyKeys :execrows
-- Forgets kept responses older than the retention; a repeat after that runs
-- as a new request.
DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => sqlc.arg(retention_secs)::float8);
