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
INSERT INTO api_keys (user_id, prefix, secret_hash, label) VALUES ($1, $2, $3, $4)
RETURNING id, user_id, prefix, label, created_at;

-- name: AuthenticateAPIKey :one
-- Resolves a presented key's hash to the user it acts as; revoked keys match nothing.
SELECT k.id AS key_id, u.id AS user_id, u.org_id, u.email, u.role
FROM api_keys k
JOIN users u ON u.id = k.user_id
WHERE k.secret_hash = $1 AND k.revoked_at IS NULL;

-- name: TouchAPIKey :exec
UPDATE api_keys SET last_used_at = now() WHERE id = $1;

-- name: APIKeyExistsByHash :one
SELECT EXISTS (SELECT 1 FROM api_keys WHERE secret_hash = $1 AND revoked_at IS NULL);
