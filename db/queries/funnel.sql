-- The platform's figures: the funnel from product views to completed deals,
-- money, SLA misses, supplier activity, buyers' return and churn.

-- name: FunnelGMV :many
-- Completed deals of the inquiries created in [from, to), by currency.
SELECT d.currency, count(*) AS completed, sum(d.total_minor)::bigint AS gmv_minor
FROM deals d
WHERE d.created_at >= sqlc.arg(from_at) AND d.created_at < sqlc.arg(to_at) AND d.stage = 'COMPLETED'
GROUP BY d.currency ORDER BY d.currency;

-- name: CommissionRevenue :many
-- Commission the ledger booked in [from, to), by currency.
SELECT l.currency, sum(l.amount)::bigint AS amount_minor
FROM ledger_lines l JOIN ledger_postings p ON p.id = l.posting_id
WHERE l.account = 'platform:commission' AND p.posted_at >= sqlc.arg(from_at) AND p.posted_at < sqlc.arg(to_at)
GROUP BY l.currency ORDER BY l.currency;

-- name: SLABySupplier :many
-- Quote invitations sent in [from, to) and how many were answered late.
SELECT i.supplier_id, coalesce(o.name, '')::text AS name, count(*) AS invitations,
       count(*) FILTER (WHERE i.status = 'LATE') AS late
FROM deal_invitations i LEFT JOIN organizations o ON o.id::text = i.supplier_id
WHERE i.invited_at >= sqlc.arg(from_at) AND i.invited_at < sqlc.arg(to_at)
GROUP BY i.supplier_id, o.name ORDER BY late DESC, i.supplier_id;

-- name: SLAByCategory :many
SELECT coalesce(d.category, '')::text AS category, count(*) AS invitations,
       count(*) FILTER (WHERE i.status = 'LATE') AS late
FROM deal_invitations i JOIN deals d ON d.id = i.deal_id
WHERE i.invited_at >= sqlc.arg(from_at) AND i.invited_at < sqlc.arg(to_at)
GROUP BY 1 ORDER BY 1;


-- ---- the layers before the inquiry ----

-- name: RecordProductView :exec
-- A buyer's view of a product; a second view by the same user in the same
-- hour is the same view.
INSERT INTO product_views (product_id, viewer_org_id, viewer_user_id, category, channel, hour, viewed_at)
VALUES (sqlc.arg(product_id), sqlc.arg(viewer_org_id), sqlc.arg(viewer_user_id), sqlc.arg(category), sqlc.arg(channel),
        sqlc.arg(hour), sqlc.arg(viewed_at))
ON CONFLICT (product_id, viewer_user_id, hour) DO NOTHING;

-- name: RecordDealOrigin :one
-- What brought an inquiry: the channel of the buyer's latest view in the
-- deal's category in the 30 days before; else, for the first inquiry of an
-- organization another referred, the referral; else direct. A repeat of
-- the request keeps the first answer.
INSERT INTO deal_origins (deal_id, buyer_org_id, product_id, category, channel, created_at)
VALUES (sqlc.arg(deal_id), sqlc.arg(buyer_org_id), sqlc.narg(product_id), sqlc.arg(category),
        coalesce((SELECT v.channel FROM product_views v
                  WHERE v.viewer_org_id = sqlc.arg(buyer_org_id) AND v.category = sqlc.arg(category)
                    AND v.viewed_at > sqlc.arg(created_at)::timestamptz - interval '30 days' AND v.viewed_at <= sqlc.arg(created_at)
                  ORDER BY v.viewed_at DESC LIMIT 1),
                 (SELECT 'referral' FROM referrals r
                  WHERE r.referred_org_id = sqlc.arg(buyer_org_id)
                    AND NOT EXISTS (SELECT 1 FROM deal_origins o WHERE o.buyer_org_id = sqlc.arg(buyer_org_id))),
                 'direct'),
        sqlc.arg(created_at))
ON CONFLICT (deal_id) DO UPDATE SET deal_id = EXCLUDED.deal_id
RETURNING channel;

-- name: ViewLayers :many
-- Views in [from, to), the organizations that viewed, and those of them
-- that sent an inquiry in a category they had viewed, after first viewing
-- it and before to: in all (layer "all"), by category, and by channel
-- (views and viewers). The views are read once, into one row per viewer
-- and category; everything else comes from those rows.
WITH first_views AS MATERIALIZED (
    SELECT v.viewer_org_id, v.category, min(v.viewed_at) AS first_at, count(*) AS views,
           count(*) FILTER (WHERE v.channel = 'direct') AS direct,
           count(*) FILTER (WHERE v.channel = 'matching') AS matching,
           count(*) FILTER (WHERE v.channel = 'reactivation') AS reactivation,
           count(*) FILTER (WHERE v.channel = 'referral') AS referral
    FROM product_views v
    WHERE v.viewed_at >= sqlc.arg(from_at) AND v.viewed_at < sqlc.arg(to_at)
    GROUP BY 1, 2
), latest AS (
    SELECT d.buyer_org_id, d.category, max(d.created_at) AS last_at
    FROM deals d
    WHERE d.created_at >= sqlc.arg(from_at) AND d.created_at < sqlc.arg(to_at)
    GROUP BY 1, 2
), converted AS MATERIALIZED (
    -- A viewer converted in a category when its last inquiry of the range
    -- in it came after its first view of it.
    SELECT f.viewer_org_id, f.category
    FROM first_views f JOIN latest l ON l.buyer_org_id = f.viewer_org_id::text AND l.category = f.category
    WHERE l.last_at >= f.first_at
), viewers AS MATERIALIZED (
    SELECT f.viewer_org_id, sum(f.views) AS views, sum(f.direct) AS direct, sum(f.matching) AS matching,
           sum(f.reactivation) AS reactivation, sum(f.referral) AS referral
    FROM first_views f GROUP BY 1
), by_category AS (
    SELECT f.category, sum(f.views)::bigint AS views, count(*) AS viewers FROM first_views f GROUP BY 1
), converted_by_category AS (
    SELECT c.category, count(*) AS converted FROM converted c GROUP BY 1
)
SELECT 'all'::text AS layer, ''::text AS key, coalesce(sum(v.views), 0)::bigint AS views, count(*) AS viewers,
       (SELECT count(DISTINCT c.viewer_org_id) FROM converted c) AS converted
FROM viewers v
UNION ALL
SELECT 'category', b.category, b.views, b.viewers, coalesce(c.converted, 0)
FROM by_category b LEFT JOIN converted_by_category c ON c.category = b.category
UNION ALL
SELECT 'channel', 'direct', coalesce(sum(v.direct), 0)::bigint, count(*) FILTER (WHERE v.direct > 0), 0 FROM viewers v
UNION ALL
SELECT 'channel', 'matching', coalesce(sum(v.matching), 0)::bigint, count(*) FILTER (WHERE v.matching > 0), 0 FROM viewers v
UNION ALL
SELECT 'channel', 'reactivation', coalesce(sum(v.reactivation), 0)::bigint, count(*) FILTER (WHERE v.reactivation > 0), 0 FROM viewers v
UNION ALL
SELECT 'channel', 'referral', coalesce(sum(v.referral), 0)::bigint, count(*) FILTER (WHERE v.referral > 0), 0 FROM viewers v;

-- name: InquiriesByCategory :many
-- The inquiries created in [from, to) by category, and how far they went.
-- A deal's quotes come after it, so the quotes of the range are all its
-- inquiries' quotes.
WITH quoted AS (
    SELECT DISTINCT q.deal_id FROM quotes q WHERE q.created_at >= sqlc.arg(from_at)
)
SELECT coalesce(d.category, '')::text AS category, count(*) AS inquiries,
       count(*) FILTER (WHERE q.deal_id IS NOT NULL) AS quoted,
       count(*) FILTER (WHERE d.supplier_org_id IS NOT NULL) AS accepted,
       count(*) FILTER (WHERE d.stage = 'COMPLETED') AS completed,
       count(*) FILTER (WHERE x.deal_id IS NOT NULL) AS disputed
FROM deals d
LEFT JOIN quoted q ON q.deal_id = d.id
LEFT JOIN disputes x ON x.deal_id = d.id
WHERE d.created_at >= sqlc.arg(from_at) AND d.created_at < sqlc.arg(to_at)
GROUP BY 1 ORDER BY 1;

-- name: InquiriesByChannel :many
-- The inquiries created in [from, to) by the channel that brought them,
-- and how far they went (an inquiry with no recorded origin, from before
-- channels were recorded, is direct).
SELECT coalesce((SELECT o.channel FROM deal_origins o WHERE o.deal_id = d.id), 'direct')::text AS channel,
       count(*) AS inquiries,
       count(*) FILTER (WHERE d.supplier_org_id IS NOT NULL) AS accepted,
       count(*) FILTER (WHERE d.stage = 'COMPLETED') AS completed
FROM deals d
WHERE d.created_at >= sqlc.arg(from_at) AND d.created_at < sqlc.arg(to_at)
GROUP BY 1 ORDER BY 1;

-- ---- months ----

-- name: SupplierActivityByMonth :many
-- For each month [start, end): the suppliers on the platform by its end,
-- and those of them that quoted or shipped goods in it.
WITH months AS (
    SELECT (sqlc.arg(starts)::timestamptz[])[i] AS start_at, (sqlc.arg(ends)::timestamptz[])[i] AS end_at
    FROM generate_series(1, cardinality(sqlc.arg(starts)::timestamptz[])) AS i
), suppliers AS (
    SELECT sp.org_id::text AS org, o.created_at FROM supplier_profiles sp JOIN organizations o ON o.id = sp.org_id
), acts AS (
    SELECT DISTINCT date_trunc('month', q.created_at AT TIME ZONE 'UTC') AS month, q.supplier_id AS org
    FROM quotes q WHERE q.created_at >= sqlc.arg(from_at) AND q.created_at < sqlc.arg(to_at)
    UNION
    SELECT date_trunc('month', s.shipped_at AT TIME ZONE 'UTC'), d.supplier_org_id
    FROM shipments s JOIN deals d ON d.id = s.deal_id
    WHERE s.kind = 'goods' AND s.shipped_at >= sqlc.arg(from_at) AND s.shipped_at < sqlc.arg(to_at)
)
SELECT m.start_at::timestamptz AS month,
       (SELECT count(*) FROM suppliers s WHERE s.created_at < m.end_at) AS suppliers,
       (SELECT count(*) FROM acts a JOIN suppliers s ON s.org = a.org
         WHERE a.month = (m.start_at AT TIME ZONE 'UTC') AND s.created_at < m.end_at) AS active
FROM months m
ORDER BY 1;

-- name: BuyerReturnByMonth :many
-- For each month [start, end): the buyers that sent an inquiry in it, and
-- those of them that had sent one before it.
WITH months AS (
    SELECT (sqlc.arg(starts)::timestamptz[])[i] AS start_at, (sqlc.arg(ends)::timestamptz[])[i] AS end_at
    FROM generate_series(1, cardinality(sqlc.arg(starts)::timestamptz[])) AS i
), active AS (
    SELECT DISTINCT m.start_at, d.buyer_org_id
    FROM months m JOIN deals d ON d.created_at >= m.start_at AND d.created_at < m.end_at
)
SELECT m.start_at::timestamptz AS month, count(a.buyer_org_id) AS buyers,
       count(a.buyer_org_id) FILTER (WHERE EXISTS (
           SELECT 1 FROM deals e WHERE e.buyer_org_id = a.buyer_org_id AND e.created_at < m.start_at)) AS returning
FROM months m LEFT JOIN active a ON a.start_at = m.start_at
GROUP BY 1 ORDER BY 1;

-- ---- churn ----

-- name: BuyerActivity :many
-- Buyers with an inquiry before the cut (to): how many, how many have had
-- neither an inquiry nor a product view since quiet_since (churned), and
-- the churned ones with completed deals, most completed first (at most
-- max_buyers; every row carries the two counts, and a row with no buyer
-- carries them when none is listed).
WITH last AS (
    SELECT d.buyer_org_id, max(d.created_at) AS last_at
    FROM deals d WHERE d.created_at < sqlc.arg(to_at)
    GROUP BY 1
), quiet AS MATERIALIZED (
    SELECT l.buyer_org_id, l.last_at,
           (SELECT count(*) FROM deals d WHERE d.buyer_org_id = l.buyer_org_id AND d.stage = 'COMPLETED' AND d.created_at < sqlc.arg(to_at)) AS completed
    FROM last l
    -- One look per candidate at its views since (LIMIT keeps it a probe of
    -- the viewer's index, not a join with every view of the period).
    WHERE l.last_at < sqlc.arg(quiet_since)::timestamptz AND (
        SELECT 1 FROM product_views v
        WHERE l.buyer_org_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
          AND v.viewer_org_id = l.buyer_org_id::uuid
          AND v.viewed_at >= sqlc.arg(quiet_since) AND v.viewed_at < sqlc.arg(to_at)
        LIMIT 1) IS NULL
), counts AS (
    SELECT (SELECT count(*) FROM last) AS buyers, (SELECT count(*) FROM quiet) AS churned
), listed AS (
    SELECT q.buyer_org_id, q.last_at, q.completed FROM quiet q WHERE q.completed > 0
    ORDER BY q.completed DESC, q.last_at DESC, q.buyer_org_id
    LIMIT sqlc.arg(max_buyers)
)
SELECT c.buyers, c.churned, coalesce(l.buyer_org_id, '')::text AS buyer_org_id, coalesce(o.name, '')::text AS name,
       coalesce(l.last_at, 'epoch')::timestamptz AS last_at, coalesce(l.completed, 0)::bigint AS completed
FROM counts c
LEFT JOIN listed l ON true
LEFT JOIN organizations o ON o.id::text = l.buyer_org_id
ORDER BY l.completed DESC NULLS LAST, l.last_at DESC, l.buyer_org_id;

-- name: BuyersLastDeals :many
-- The latest deals (at most per_buyer each) of some buyers, created
-- before to, with each buyer's completed GMV by currency alongside.
SELECT b.buyer_org_id::text AS buyer_org_id, d.id, d.product, d.stage, d.total_minor, d.currency, d.created_at
FROM unnest(sqlc.arg(buyers)::text[]) AS b(buyer_org_id),
LATERAL (SELECT d.id, d.product, d.stage, d.total_minor, d.currency, d.created_at FROM deals d
         WHERE d.buyer_org_id = b.buyer_org_id AND d.created_at < sqlc.arg(to_at)
         ORDER BY d.created_at DESC, d.id DESC LIMIT sqlc.arg(per_buyer)) d
ORDER BY 1, d.created_at DESC, d.id DESC;

-- name: BuyersCompletedGMV :many
SELECT d.buyer_org_id, d.currency, sum(d.total_minor)::bigint AS gmv_minor
FROM deals d
WHERE d.buyer_org_id = ANY(sqlc.arg(buyers)::text[]) AND d.stage = 'COMPLETED' AND d.created_at < sqlc.arg(to_at)
GROUP BY 1, 2 ORDER BY 1, 2;
