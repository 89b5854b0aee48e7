-- name: CreateOrganization :one
INSERT INTO organizations (name) VALUES ($1)
RETURNING *;

-- name: GetOrganizationByName :one
SELECT * FROM organizations WHERE name = $1 ORDER BY created_at LIMIT 1;

-- name: CreateUser :one
INSERT INTO users (org_id, email, name, role) VALUES ($1, $2, $3, $4)
RETURNING *;

-- name: GetUserByEmail :one
SELECT * FROM users WHERE lower(email) = lower(sqlc.arg(email));

-- name: CreateAPIKey :one
INSERT INTO api_keys (user_id, prefix, secret_hash, label, expires_at)
VALUES ($1, $2, $3, $4, sqlc.narg(expires_at))
RETURNING id, user_id, prefix, label, created_at;

-- name: AuthenticateAPIKey :one
-- Resolves a presented key's hash to the user it acts as; revoked and
-- expired keys match nothing. stale says last_used_at is a minute old or
-- more, so the caller records this use (TouchAPIKey) only then.
SELECT k.id AS key_id, u.id AS user_id, u.org_id, u.email, u.role,
       (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute')::boolean AS stale
FROM api_keys k
JOIN users u ON u.id = k.user_id
WHERE k.secret_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());

-- name: TouchAPIKey :exec
-- Records a use at most once a minute per key, whatever the request rate.
UPDATE api_keys SET last_used_at = now()
WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');

-- name: ListAPIKeys :many
-- A user's keys, newest first: what identifies them, never their hash.
SELECT id, prefix, label, created_at, last_used_at, expires_at, revoked_at
FROM api_keys WHERE user_id = $1
ORDER BY created_at DESC, id
LIMIT sqlc.arg(max_keys)::int;

-- name: CountLiveAPIKeys :one
-- Keys that still authenticate, for the cap on a user's keys.
SELECT count(*) FROM api_keys
WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now());

-- name: GetAPIKey :one
SELECT id, prefix, label, created_at, last_used_at, expires_at, revoked_at
FROM api_keys WHERE id = $1 AND user_id = $2;

-- name: RevokeAPIKey :one
-- Revokes one of a user's keys; a key already revoked keeps its first time.
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE id = $1 AND user_id = $2
RETURNING id, prefix, label, created_at, last_used_at, expires_at, revoked_at;

-- name: RetireAPIKey :one
-- The old key of a rotation: it expires after the grace period, or sooner
-- if it was to expire sooner anyway. Only a live key can be rotated.
UPDATE api_keys
SET expires_at = least(coalesce(expires_at, 'infinity'::timestamptz), now() + make_interval(secs => sqlc.arg(grace_secs)::float8))
WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
RETURNING id, prefix, label, created_at, last_used_at, expires_at, revoked_at;

-- name: GetUser :one
SELECT * FROM users WHERE id = $1;

-- name: APIKeyExistsByHash :one
SELECT EXISTS (SELECT 1 FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL);

-- name: SetUserReading :one
-- The language and time zone a user reads notifications in.
UPDATE users SET language = @language, time_zone = @time_zone WHERE id = @id
RETURNING *;

-- name: ListOrganizations :many
-- Organizations by name, with how many users each has (the admin's list).
SELECT o.id, o.name, o.created_at, (SELECT count(*) FROM users u WHERE u.org_id = o.id) AS users
FROM organizations o ORDER BY o.name, o.id LIMIT @max_count;

-- name: ListOrgUsers :many
-- An organization's users, and whether each has a password yet.
SELECT id, email, name, role, created_at, (password_hash IS NOT NULL)::boolean AS has_password
FROM users WHERE org_id = $1 ORDER BY email;
