-- Search ads (internal/ads): suppliers' keyword bids, their impressions
-- and clicks. The auction itself is built in internal/ads, as it takes
-- the search's filters.

-- name: LockSupplierAds :exec
-- Serialises one supplier's new ads, so their count stays under the cap.
SELECT pg_advisory_xact_lock(hashtextextended('ads/' || @supplier_org_id::text, 0));

-- name: CountSupplierAds :one
SELECT count(*) FROM ads WHERE supplier_org_id = @supplier_org_id;

-- name: KeywordTerms :one
-- A keyword's English lexemes, as a search's terms are read.
SELECT tsvector_to_array(to_tsvector('english', @keyword::text))::text[] AS terms;

-- name: InsertAd :one
INSERT INTO ads (id, supplier_org_id, product_id, keyword, terms, currency, max_cpc_minor, daily_budget_minor, active)
VALUES (@id, @supplier_org_id, @product_id, @keyword, @terms::text[], @currency, @max_cpc_minor, @daily_budget_minor, @active)
ON CONFLICT (supplier_org_id, keyword, product_id) DO NOTHING
RETURNING id;

-- name: UpdateAd :execrows
UPDATE ads SET max_cpc_minor = @max_cpc_minor, daily_budget_minor = @daily_budget_minor, active = @active, updated_at = now()
WHERE id = @id AND supplier_org_id = @supplier_org_id;

-- name: DeleteAd :execrows
DELETE FROM ads WHERE id = @id AND supplier_org_id = @supplier_org_id;

-- name: GetOwnAd :one
-- One of a supplier's ads, locked until the transaction ends (a change
-- waits for a click being charged).
SELECT * FROM ads WHERE id = @id AND supplier_org_id = @supplier_org_id FOR UPDATE;

-- name: ListAdStats :many
-- A supplier's ads, oldest first, with their product and their
-- impressions, clicks and spend on day (today, UTC) and in total.
SELECT a.id, a.product_id, p.name AS product_name, a.keyword, a.currency, a.max_cpc_minor, a.daily_budget_minor,
       a.active, a.created_at, a.updated_at,
       coalesce(i.today, 0)::bigint AS impressions_today, coalesce(i.total, 0)::bigint AS impressions_total,
       coalesce(c.clicks_today, 0)::bigint AS clicks_today, coalesce(c.clicks_total, 0)::bigint AS clicks_total,
       coalesce(c.unbilled_total, 0)::bigint AS unbilled_clicks_total,
       coalesce(c.spend_today, 0)::bigint AS spend_today, coalesce(c.spend_total, 0)::bigint AS spend_total
FROM ads a
JOIN products p ON p.id = a.product_id
LEFT JOIN LATERAL (
    SELECT sum(impressions) FILTER (WHERE day = @day::date) AS today, sum(impressions) AS total
    FROM ad_impressions WHERE ad_id = a.id
) i ON true
LEFT JOIN LATERAL (
    SELECT count(*) FILTER (WHERE outcome = 'charged' AND day = @day::date) AS clicks_today,
           count(*) FILTER (WHERE outcome = 'charged') AS clicks_total,
           count(*) FILTER (WHERE outcome <> 'charged') AS unbilled_total,
           sum(charged_minor) FILTER (WHERE day = @day::date) AS spend_today,
           sum(charged_minor) AS spend_total
    FROM ad_clicks WHERE ad_id = a.id
) c ON true
WHERE a.supplier_org_id = @supplier_org_id
  AND (sqlc.narg(id)::uuid IS NULL OR a.id = sqlc.narg(id)::uuid)
ORDER BY a.created_at, a.id;

-- name: LockAdForClick :one
-- The ad clicked, locked: its clicks are charged one at a time, so two at
-- once never spend more than its budget.
SELECT id, supplier_org_id, product_id, currency, max_cpc_minor, daily_budget_minor, active
FROM ads WHERE id = @id FOR UPDATE;

-- name: AdSpentOn :one
SELECT coalesce(sum(charged_minor), 0)::bigint FROM ad_clicks WHERE ad_id = @ad_id AND day = @day::date;

-- name: ChargedClickSince :one
-- Whether an organization's click on the ad was charged since a time.
SELECT EXISTS (
    SELECT 1 FROM ad_clicks WHERE ad_id = @ad_id AND org_id = @org_id AND outcome = 'charged' AND clicked_at > @since
);

-- name: InsertAdClick :exec
INSERT INTO ad_clicks (id, ad_id, user_id, org_id, clicked_at, day, price_minor, charged_minor, outcome)
VALUES (@id, @ad_id, @user_id, @org_id, @clicked_at, @day::date, @price_minor, @charged_minor, @outcome);

-- name: AdClickKey :one
SELECT key FROM ad_click_key;
