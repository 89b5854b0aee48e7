-- Buyers' profiles and the offers matched to them.

-- name: SaveBuyerProfile :exec
INSERT INTO buyer_profiles (org_id, categories, budget_minor, currency, max_lead_time_days, regions, updated_at)
VALUES (@org_id, @categories, @budget_minor, @currency, @max_lead_time_days, @regions, now())
ON CONFLICT (org_id) DO UPDATE SET categories = EXCLUDED.categories, budget_minor = EXCLUDED.budget_minor,
    currency = EXCLUDED.currency, max_lead_time_days = EXCLUDED.max_lead_time_days, regions = EXCLUDED.regions,
    updated_at = now();

-- name: GetBuyerProfile :one
SELECT org_id, categories, budget_minor, currency, max_lead_time_days, regions, updated_at
FROM buyer_profiles WHERE org_id = @org_id;

-- name: OffersOf :many
-- Each supplier's cheapest product in the category (at its MOQ) that
-- fits: its lead time at most max_lead_time_days (0: any) and, with a
-- budget, in the budget's currency with its MOQ's cost within the budget.
SELECT DISTINCT ON (p.supplier_org_id) p.id, p.supplier_org_id, p.name, p.unit, p.moq, p.currency,
       p.from_unit_minor, p.lead_time_days, p.origin_region
FROM products p
WHERE p.supplier_org_id = ANY(@suppliers::uuid[]) AND p.category = @category
  AND (@max_lead_time_days::int = 0 OR p.lead_time_days <= @max_lead_time_days::int)
  AND (@budget_minor::bigint = 0 OR (p.currency = @currency::text AND p.moq::numeric * p.from_unit_minor <= @budget_minor::bigint))
ORDER BY p.supplier_org_id, p.from_unit_minor, p.id;

