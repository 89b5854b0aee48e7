-- ---- catalog ----

-- name: GetProduct :one
SELECT id, supplier_org_id, sku, name, description, category, unit, moq, currency, tier_min_qty,
       tier_unit_minor, from_unit_minor, lead_time_days, certifications, customizable, origin_region,
       sample_available, sample_price_minor, created_at, updated_at
FROM products WHERE id = $1;

-- name: DeleteProduct :execrows
DELETE FROM products WHERE id = $1 AND supplier_org_id = $2;

-- name: ListSupplierProducts :many
-- A supplier's whole catalog in SKU order, for export.
SELECT id, supplier_org_id, sku, name, description, category, unit, moq, currency, tier_min_qty,
       tier_unit_minor, from_unit_minor, lead_time_days, certifications, customizable, origin_region,
       sample_available, sample_price_minor, created_at, updated_at
FROM products WHERE supplier_org_id = $1 ORDER BY sku;

-- name: CountSupplierProducts :one
SELECT count(*) FROM products WHERE supplier_org_id = $1;

-- ---- recent searches ----

-- name: InsertProductSearch :exec
INSERT INTO product_searches (user_id, params) VALUES ($1, $2);

-- name: TrimProductSearches :exec
-- Keeps a user's newest searches only.
DELETE FROM product_searches s
WHERE s.user_id = sqlc.arg(user_id) AND s.id NOT IN (
    SELECT k.id FROM product_searches k WHERE k.user_id = sqlc.arg(user_id)
    ORDER BY k.searched_at DESC, k.id DESC LIMIT sqlc.arg(keep)::int
);

-- name: RecentProductSearches :many
SELECT params, searched_at FROM product_searches
WHERE user_id = $1 ORDER BY searched_at DESC, id DESC LIMIT $2;

-- ---- suppliers ----

-- name: GetSupplierProfile :one
SELECT p.org_id, o.name, o.created_at AS joined_at, p.categories, p.regions, p.certifications, p.tier,
       coalesce(p.rating, 0)::float8 AS rating, p.ratings_count, p.gmv_minor, p.quotes_on_time, p.quotes_late,
       p.median_response_secs, p.sla_misses_recent, p.response_rating, p.tier_reason, p.tier_computed_at,
       p.verified_until, p.gold_until
FROM supplier_profiles p JOIN organizations o ON o.id = p.org_id
WHERE p.org_id = $1;

-- name: UpdateSupplierOffer :execrows
-- What a supplier says it sells: categories, regions and certifications.
UPDATE supplier_profiles SET categories = $2, regions = $3, certifications = $4, updated_at = now()
WHERE org_id = $1;

-- name: SupplierProfilesByID :many
-- The suppliers' names, and their profiles where they have one (a
-- supplier without one has no tier here, no rating and no certifications).
SELECT o.id AS org_id, o.name, p.tier, coalesce(p.rating, 0)::float8 AS rating,
       coalesce(p.ratings_count, 0)::int4 AS ratings_count, coalesce(p.certifications, '{}')::text[] AS certifications,
       p.response_rating, p.median_response_secs, coalesce(p.verified_until > now(), false)::bool AS verified,
       coalesce(p.gold_until > now() AND p.verified_until > now(), false)::bool AS gold
FROM organizations o LEFT JOIN supplier_profiles p ON p.org_id = o.id
WHERE o.id = ANY(sqlc.arg(ids)::uuid[]);

-- name: DispatchCandidates :many
-- Suppliers who sell in a category (by their profile or their catalog),
-- with what dispatch ranks them by. Quote statistics count invitations
-- sent since stats_since; SLA misses, those due since misses_since (a
-- shorter window).
SELECT p.org_id, o.name, o.created_at AS joined_at, p.tier, p.regions,
       (SELECT coalesce(array_agg(DISTINCT c), '{}')::text[] FROM (
            SELECT unnest(p.certifications) AS c
            UNION SELECT unnest(pr.certifications) FROM products pr
            WHERE pr.supplier_org_id = p.org_id AND pr.category = sqlc.arg(category)) certs) AS certifications,
       (SELECT coalesce(array_agg(DISTINCT r), '{}')::text[] FROM (
            SELECT unnest(p.regions) AS r
            UNION SELECT pr.origin_region FROM products pr
            WHERE pr.supplier_org_id = p.org_id AND pr.category = sqlc.arg(category)) regs) AS product_regions,
       coalesce(p.rating, 0)::float8 AS rating, p.ratings_count,
       count(i.*) FILTER (WHERE i.status IN ('QUOTED', 'AWARDED', 'CLOSED') AND i.invited_at >= sqlc.arg(stats_since)) AS answered,
       count(i.*) FILTER (WHERE i.status = 'LATE' AND i.invited_at >= sqlc.arg(stats_since)) AS late,
       count(i.*) FILTER (WHERE i.status = 'LATE' AND i.due_at >= sqlc.arg(misses_since)) AS recent_misses,
       p.median_response_secs, coalesce(p.verified_until > now(), false)::bool AS verified
FROM supplier_profiles p
JOIN organizations o ON o.id = p.org_id
LEFT JOIN deal_invitations i ON i.supplier_id = p.org_id::text AND i.invited_at >= sqlc.arg(stats_since)
WHERE (sqlc.arg(category) = ANY(p.categories)
       OR EXISTS (SELECT 1 FROM products pr WHERE pr.supplier_org_id = p.org_id AND pr.category = sqlc.arg(category)))
  AND EXISTS (SELECT 1 FROM users u WHERE u.org_id = p.org_id AND u.role = 'supplier')
GROUP BY p.org_id, o.name, o.created_at;

-- name: RateDeal :execrows
INSERT INTO supplier_ratings (deal_id, supplier_org_id, buyer_org_id, stars, comment)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (deal_id) DO NOTHING;

-- ---- tiers ----

-- name: SupplierTierStats :many
-- Everything the tier rules read, per supplier: completed GMV in the
-- currency tiers are measured in, buyers' ratings, quote punctuality and
-- response time over the window, and recent SLA misses.
SELECT p.org_id, p.tier,
       coalesce((SELECT sum(d.total_minor) FROM deals d
                 WHERE d.supplier_org_id = p.org_id::text AND d.stage = 'COMPLETED'
                   AND d.currency = sqlc.arg(currency) AND d.updated_at >= sqlc.arg(since)), 0)::bigint AS gmv_minor,
       coalesce((SELECT avg(r.stars) FROM supplier_ratings r WHERE r.supplier_org_id = p.org_id), 0)::float8 AS rating,
       (SELECT count(*) FROM supplier_ratings r WHERE r.supplier_org_id = p.org_id)::int AS ratings_count,
       (SELECT count(*) FROM deal_invitations i WHERE i.supplier_id = p.org_id::text
          AND i.status IN ('QUOTED', 'AWARDED', 'CLOSED') AND i.invited_at >= sqlc.arg(since))::int AS quotes_on_time,
       (SELECT count(*) FROM deal_invitations i WHERE i.supplier_id = p.org_id::text
          AND i.status = 'LATE' AND i.invited_at >= sqlc.arg(since))::int AS quotes_late,
       (SELECT count(*) FROM deal_invitations i WHERE i.supplier_id = p.org_id::text
          AND i.status = 'LATE' AND i.due_at >= sqlc.arg(misses_since))::int AS sla_misses_recent,
       -- -1: no quote in the window.
       coalesce((SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM q.created_at - i.invited_at))
          FROM quotes q JOIN deal_invitations i ON i.deal_id = q.deal_id AND i.supplier_id = q.supplier_id
          WHERE q.supplier_id = p.org_id::text AND q.revision = 1 AND i.invited_at >= sqlc.arg(since)), -1)::int AS median_response_secs
FROM supplier_profiles p
ORDER BY p.org_id;

-- name: SetSupplierTier :exec
UPDATE supplier_profiles SET
    tier = sqlc.arg(tier), tier_reason = sqlc.arg(tier_reason), gmv_minor = sqlc.arg(gmv_minor),
    rating = sqlc.narg(rating)::float8::numeric(3, 2), ratings_count = sqlc.arg(ratings_count),
    quotes_on_time = sqlc.arg(quotes_on_time), quotes_late = sqlc.arg(quotes_late),
    median_response_secs = sqlc.narg(median_response_secs)::int,
    sla_misses_recent = sqlc.arg(sla_misses_recent), response_rating = sqlc.narg(response_rating)::smallint,
    tier_computed_at = sqlc.arg(computed_at), updated_at = now()
WHERE org_id = sqlc.arg(org_id);

-- name: UpsertProductBatch :batchone
-- Creates products, or replaces the supplier's product with the same SKU,
-- one round trip for many (a single save is a batch of one).
INSERT INTO products (supplier_org_id, sku, name, description, category, unit, moq, currency,
                      tier_min_qty, tier_unit_minor, from_unit_minor, lead_time_days, certifications,
                      customizable, origin_region, sample_available, sample_price_minor)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
ON CONFLICT (supplier_org_id, sku) DO UPDATE SET
    name = EXCLUDED.name, description = EXCLUDED.description, category = EXCLUDED.category,
    unit = EXCLUDED.unit, moq = EXCLUDED.moq, currency = EXCLUDED.currency,
    tier_min_qty = EXCLUDED.tier_min_qty, tier_unit_minor = EXCLUDED.tier_unit_minor,
    from_unit_minor = EXCLUDED.from_unit_minor, lead_time_days = EXCLUDED.lead_time_days,
    certifications = EXCLUDED.certifications, customizable = EXCLUDED.customizable,
    origin_region = EXCLUDED.origin_region, sample_available = EXCLUDED.sample_available,
    sample_price_minor = EXCLUDED.sample_price_minor, updated_at = now()
RETURNING id, (xmax = 0)::boolean AS created;

-- name: EnsureSupplierProfile :exec
-- A supplier that lists products has a profile (bronze until recalculated).
INSERT INTO supplier_profiles (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING;

-- name: SupplierBadges :one
-- The supplier's badges now: verified while its verification runs; Gold
-- while its paid Gold time runs and it is verified.
SELECT coalesce(bool_or(verified_until > now()), false)::bool AS verified,
       coalesce(bool_or(gold_until > now() AND verified_until > now()), false)::bool AS gold
FROM supplier_profiles WHERE org_id = $1;
