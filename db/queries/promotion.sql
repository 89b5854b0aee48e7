-- name: InsertProductNotice :one
-- A product's notice, once: a second for the same product inserts
-- nothing (no row).
INSERT INTO product_notices (id, product_id, supplier_org_id, category, currency, fee_minor, max_notices, queued, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)
ON CONFLICT (product_id) DO NOTHING
RETURNING *;

-- name: QueueProductNotices :one
-- One new_product notification to each buyer following the category (not
-- of the supplier's organization, and not one who turned the inbox and
-- e-mail both off for new_product), up to max_notices, each with its
-- charge; answers how many were queued.
WITH followers AS (
    SELECT DISTINCT w.user_id, w.org_id FROM watches w JOIN users u ON u.id = w.user_id
    WHERE w.category = @category AND u.role = 'buyer' AND w.org_id <> @supplier_org_id
      AND (SELECT count(*) FROM notification_preferences p
           WHERE p.user_id = w.user_id AND p.kind = 'new_product' AND NOT p.enabled) < 2
    ORDER BY w.user_id
    LIMIT @max_notices
), queued AS (
    INSERT INTO notification_outbox (key, deal_id, org_id, user_id, kind, text, facts)
    SELECT @key_prefix::text || f.user_id::text, '', f.org_id::text, f.user_id, 'new_product', @text, @facts
    FROM followers f
    ON CONFLICT (key) DO NOTHING
    RETURNING key
), charged AS (
    INSERT INTO notification_charges (key, debit_account, credit_account, currency, amount_minor, memo, source)
    SELECT key, @debit_account, @credit_account, @currency, @fee_minor, @memo, @notice_id FROM queued
    RETURNING key
)
UPDATE product_notices pn SET queued = (SELECT count(*) FROM charged) WHERE pn.id = @notice_id
RETURNING queued;

-- name: SupplierProductNotices :many
-- A supplier's notices, newest first, with how many were delivered (and
-- so charged); one product's alone when product_id is given.
SELECT n.*, p.name AS product_name,
       (SELECT count(*) FROM notification_charges c WHERE c.source = n.id AND c.charged_at IS NOT NULL)::int AS delivered
FROM product_notices n JOIN products p ON p.id = n.product_id
WHERE n.supplier_org_id = @supplier_org_id AND (sqlc.narg(product_id)::uuid IS NULL OR n.product_id = sqlc.narg(product_id))
ORDER BY n.created_at DESC, n.id DESC
LIMIT 200;

-- name: ClaimNotificationCharge :one
-- The charge a notification being delivered carries, marked charged; no
-- row when it carries none or was charged before.
UPDATE notification_charges SET charged_at = @at WHERE key = @key AND charged_at IS NULL
RETURNING *;
