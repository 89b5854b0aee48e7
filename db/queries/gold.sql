-- Gold-supplier certification (internal/gold).

-- name: InsertGoldCertification :one
-- Returns no row when the organization has a live certification.
INSERT INTO gold_certifications (id, org_id, status, fee_minor, currency, requested_by)
VALUES (@id, @org_id, 'pending', @fee_minor, @currency, @requested_by)
ON CONFLICT (org_id) WHERE status IN ('pending', 'active', 'past_due') DO NOTHING
RETURNING id, created_at;

-- name: GoldStartedSince :one
-- How many certifications the organization asked for since @since (a cap
-- on retries of a failing card).
SELECT count(*) FROM gold_certifications WHERE org_id = @org_id AND created_at >= @since;

-- name: GoldCertification :one
SELECT g.*, o.name AS org_name FROM gold_certifications g JOIN organizations o ON o.id = g.org_id WHERE g.id = $1;

-- name: LatestGoldCertification :one
-- The organization's live certification, else its latest.
SELECT g.*, o.name AS org_name FROM gold_certifications g JOIN organizations o ON o.id = g.org_id
WHERE g.org_id = $1
ORDER BY (g.status IN ('pending', 'active', 'past_due')) DESC, g.created_at DESC, g.id
LIMIT 1;

-- name: GoldCertifications :many
-- Certifications newest first, of every organization, at most @max_rows.
SELECT g.*, o.name AS org_name FROM gold_certifications g JOIN organizations o ON o.id = g.org_id
ORDER BY g.created_at DESC, g.id
LIMIT @max_rows;

-- name: LockGoldCertification :one
SELECT * FROM gold_certifications WHERE id = $1 FOR UPDATE;

-- name: InsertGoldEvent :execrows
INSERT INTO gold_events (certification_id, seq, action, actor_user_id, year, amount_minor, provider, provider_payment_id, reason, at)
VALUES (@certification_id, @seq, @action, @actor_user_id, @year, @amount_minor, @provider, @provider_payment_id, @reason, @at)
ON CONFLICT (certification_id, seq) DO NOTHING;

-- name: GoldEvents :many
SELECT e.*, coalesce(u.email, '')::text AS actor_email FROM gold_events e LEFT JOIN users u ON u.id = e.actor_user_id
WHERE e.certification_id = $1 ORDER BY e.seq;

-- name: UpdateGoldCertification :exec
UPDATE gold_certifications SET status = @status, auto_renew = @auto_renew, years = @years, paid_until = @paid_until,
    pay_by = @pay_by, reason = @reason, updated_at = @at
WHERE id = @id;

-- name: SetGoldUntil :exec
-- The supplier's Gold badge runs until @gold_until (NULL: none).
INSERT INTO supplier_profiles (org_id, gold_until) VALUES (@org_id, @gold_until)
ON CONFLICT (org_id) DO UPDATE SET gold_until = excluded.gold_until;

-- name: SupplierVerifiedUntil :one
-- When the supplier's verification badge ends (NULL, or no row: not
-- verified).
SELECT verified_until FROM supplier_profiles WHERE org_id = $1;
