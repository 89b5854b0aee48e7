-- name: CreateWebhookEndpoint :one
INSERT INTO webhook_endpoints (org_id, url, description, secret)
VALUES (@org_id, @url, @description, @secret)
RETURNING *;

-- name: CountWebhookEndpoints :one
SELECT count(*) FROM webhook_endpoints WHERE org_id = @org_id;

-- name: ListWebhookEndpoints :many
SELECT * FROM webhook_endpoints WHERE org_id = @org_id ORDER BY created_at, id;

-- name: GetWebhookEndpoint :one
SELECT * FROM webhook_endpoints WHERE id = @id AND org_id = @org_id;

-- name: DeleteWebhookEndpoint :execrows
DELETE FROM webhook_endpoints WHERE id = @id AND org_id = @org_id;

-- name: EnableWebhookEndpoint :one
UPDATE webhook_endpoints SET enabled = true, disabled_at = NULL, disabled_why = '', failing_since = NULL
WHERE id = @id AND org_id = @org_id
RETURNING *;

-- name: PutWebhookDeliveries :exec
-- One delivery per enabled endpoint of the organization the notification
-- is addressed to; a repeat adds nothing.
INSERT INTO webhook_deliveries (endpoint_id, key, next_attempt_at, created_at)
SELECT e.id, n.key, @now::timestamptz, @now::timestamptz
FROM notification_outbox n
JOIN webhook_endpoints e ON e.enabled
  AND e.org_id = (CASE WHEN n.org_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN n.org_id::uuid END)
WHERE n.key = @key
ON CONFLICT (endpoint_id, key) DO NOTHING;

-- name: ClaimWebhookDeliveries :many
-- The deliveries due now at enabled endpoints, oldest due first, each
-- taken for the lease (a dispatcher that dies mid-delivery leaves it to be
-- tried again when the lease ends) and counted as an attempt.
WITH due AS (
    SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= sqlc.arg(now)::timestamptz AND e.enabled
    ORDER BY d.next_attempt_at
    LIMIT sqlc.arg(max_count)
    FOR NO KEY UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
SET next_attempt_at = sqlc.arg(now)::timestamptz + make_interval(secs => sqlc.arg(lease_secs)::float8), attempts = d.attempts + 1
FROM due, webhook_endpoints e, notification_outbox n
WHERE d.id = due.id AND e.id = d.endpoint_id AND n.key = d.key
RETURNING d.id, d.attempts, d.created_at, e.id AS endpoint_id, e.url, e.secret,
          coalesce(CASE WHEN e.previous_until > sqlc.arg(now)::timestamptz THEN e.previous_secret END, '')::text AS previous_secret,
          n.key, n.deal_id, n.org_id, n.kind, n.text, n.facts, n.created_at AS notified_at;

-- name: RecordWebhookAttempt :exec
INSERT INTO webhook_attempts (delivery_id, attempt, at, status, error, duration_ms)
VALUES (@delivery_id, @attempt, @at, @status, @error, @duration_ms)
ON CONFLICT (delivery_id, attempt) DO NOTHING;

-- name: MarkWebhookDelivered :exec
UPDATE webhook_deliveries SET status = 'succeeded', delivered_at = @at, last_status = @status, last_error = ''
WHERE id = @id;

-- name: MarkWebhookAttemptFailed :exec
-- A failed attempt: tried again at next_attempt_at, or given up.
UPDATE webhook_deliveries
SET status = CASE WHEN @give_up::bool THEN 'failed' ELSE 'pending' END,
    next_attempt_at = @next_attempt_at, last_status = @status, last_error = @error
WHERE id = @id;

-- name: WebhookEndpointAnswered :exec
UPDATE webhook_endpoints SET failing_since = NULL WHERE id = @id AND failing_since IS NOT NULL;

-- name: WebhookEndpointFailed :one
-- Notes a failed attempt; returns since when the endpoint has failed.
UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, @at::timestamptz)
WHERE id = @id
RETURNING failing_since, enabled, org_id, url;

-- name: DisableWebhookEndpoint :execrows
UPDATE webhook_endpoints SET enabled = false, disabled_at = @at, disabled_why = @why
WHERE id = @id AND enabled;

-- name: ListWebhookDeliveries :many
-- An endpoint's deliveries, newest first, after the cursor's.
SELECT d.id, d.key, d.status, d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at,
       n.kind, n.deal_id
FROM webhook_deliveries d JOIN notification_outbox n ON n.key = d.key
WHERE d.endpoint_id = @endpoint_id
  AND (NOT @after::bool OR (d.created_at, d.id) < (@after_at::timestamptz, @after_id::uuid))
ORDER BY d.created_at DESC, d.id DESC
LIMIT @max_count;

-- name: ListWebhookAttempts :many
SELECT * FROM webhook_attempts WHERE delivery_id = ANY (@ids::uuid[]) ORDER BY delivery_id, attempt;

-- name: ReplayWebhookDelivery :one
-- Sends a delivery again now, whatever became of it.
UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = @now::timestamptz
FROM webhook_endpoints e
WHERE d.id = @id AND d.endpoint_id = @endpoint_id AND e.id = d.endpoint_id AND e.org_id = @org_id
RETURNING d.id, d.key, d.status, d.attempts, d.next_attempt_at;

-- name: RollWebhookSecret :one
-- A new secret; the one before still signs until previous_until.
UPDATE webhook_endpoints SET previous_secret = secret, previous_until = @previous_until, secret = @secret
WHERE id = @id AND org_id = @org_id
RETURNING *;
