-- Buyers' watchlists and the alerts a catalog change sends them.

-- name: SaveProductWatch :one
-- Follows a product, or changes how: the price is measured from now.
INSERT INTO watches (user_id, org_id, product_id, quantity, drop_bp, baseline_unit_minor)
SELECT @user_id, @org_id, p.id, @quantity::bigint, @drop_bp::int, product_unit_price_at(p.tier_min_qty, p.tier_unit_minor, @quantity::bigint)
FROM products p WHERE p.id = @product_id
ON CONFLICT (user_id, product_id) WHERE product_id IS NOT NULL DO UPDATE SET
    quantity = EXCLUDED.quantity, drop_bp = EXCLUDED.drop_bp, baseline_unit_minor = EXCLUDED.baseline_unit_minor
RETURNING id, (xmax = 0)::boolean AS created;

-- name: SaveCategoryWatch :one
INSERT INTO watches (user_id, org_id, category) VALUES (@user_id, @org_id, @category)
ON CONFLICT (user_id, category) WHERE category IS NOT NULL DO UPDATE SET category = EXCLUDED.category
RETURNING id, (xmax = 0)::boolean AS created;

-- name: CountWatches :one
SELECT count(*) FROM watches WHERE user_id = @user_id;

-- name: ListWatches :many
-- A user's watches, newest first, with each product's name and price now.
SELECT w.id, w.product_id, coalesce(w.category, p.category, '')::text AS category, w.quantity, w.drop_bp, w.baseline_unit_minor,
       w.alerts, w.created_at, coalesce(p.name, '')::text AS product_name, coalesce(p.currency, '')::text AS currency,
       coalesce(p.unit, '')::text AS unit,
       coalesce(product_unit_price_at(p.tier_min_qty, p.tier_unit_minor, w.quantity), 0)::bigint AS unit_price
FROM watches w LEFT JOIN products p ON p.id = w.product_id
WHERE w.user_id = @user_id
ORDER BY w.created_at DESC, w.id DESC;

-- name: DeleteWatch :execrows
DELETE FROM watches WHERE id = @id AND user_id = @user_id;

-- name: RepriceWatches :many
-- After products were saved: each watch of them reads the price at its
-- quantity. A drop of at least its threshold from its baseline is alerted
-- and becomes the baseline; a rise raises the baseline; smaller drops
-- leave it, so drops add up until they are news.
WITH priced AS (
    SELECT w.id, w.baseline_unit_minor AS was,
           product_unit_price_at(p.tier_min_qty, p.tier_unit_minor, w.quantity) AS price,
           p.name, p.currency, p.unit
    FROM watches w JOIN products p ON p.id = w.product_id
    WHERE w.product_id = ANY(@products::uuid[])
), judged AS (
    SELECT pr.*, (pr.price <= pr.was - floor(pr.was::numeric * w.drop_bp / 10000)) AS dropped
    FROM priced pr JOIN watches w ON w.id = pr.id
    WHERE pr.price IS NOT NULL AND pr.price <> pr.was
)
UPDATE watches w SET
    baseline_unit_minor = CASE WHEN j.dropped THEN j.price ELSE greatest(w.baseline_unit_minor, j.price) END,
    alerts = w.alerts + CASE WHEN j.dropped THEN 1 ELSE 0 END
FROM judged j
WHERE w.id = j.id
RETURNING w.id, w.user_id, w.org_id, w.product_id, w.quantity, w.alerts, j.dropped, j.was, j.price,
          j.name::text AS product_name, j.currency::text AS currency, j.unit::text AS unit;

-- name: NewCategorySuppliers :many
-- The categories a supplier lists in for the first time.
INSERT INTO category_suppliers (category, supplier_org_id)
SELECT DISTINCT c, @supplier_org_id::uuid FROM unnest(@categories::text[]) AS c
ON CONFLICT DO NOTHING
RETURNING category;

-- name: AlertCategoryWatchers :execrows
-- Tells each watcher of the categories that the supplier lists in them
-- now (once per watcher, category and supplier).
INSERT INTO notification_outbox (key, deal_id, org_id, user_id, kind, text, facts)
SELECT 'new_supplier/' || w.category || '/' || @supplier_org_id::text || '/' || w.user_id::text, '', w.org_id::text, w.user_id,
       'new_supplier_in_category', @text, @facts::jsonb || jsonb_build_object('ref', w.category)
FROM watches w
WHERE w.category = ANY(@categories::text[])
ON CONFLICT (key) DO NOTHING;


-- name: LockWatchlist :exec
-- Serialises one user's follows, so its count stays under the cap.
SELECT pg_advisory_xact_lock(hashtextextended('watches/' || @user_id::text, 0));
