-- The daily price index per category and currency.

-- name: SnapshotPriceIndex :execrows
-- Takes day: for each category and currency, the catalog's lower median
-- unit price at the MOQ over the products listed now, and the lower median
-- unit price of the quotes accepted in [from_at, to_at) (a deal's first
-- acceptance counts, in the deal's category and currency). A day taken
-- again is replaced.
WITH catalog AS (
    SELECT p.category, p.currency::text AS currency, count(*)::int AS n,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY coalesce(product_unit_price_at(p.tier_min_qty, p.tier_unit_minor, p.moq), p.from_unit_minor))::bigint AS median
    FROM products p
    GROUP BY 1, 2
), accepted AS (
    SELECT d.category, d.currency::text AS currency, count(*)::int AS n,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY q.unit_minor)::bigint AS median
    FROM deal_events e
    JOIN deals d ON d.id = e.deal_id
    JOIN quotes q ON q.deal_id = e.deal_id AND q.status = 'ACCEPTED'
    WHERE e.type = 'quote_accepted' AND e.at >= @from_at::timestamptz AND e.at < @to_at::timestamptz
      AND NOT EXISTS (SELECT 1 FROM deal_events f WHERE f.deal_id = e.deal_id AND f.type = 'quote_accepted' AND f.seq < e.seq)
      AND d.category ~ '^[a-z0-9][a-z0-9-]{0,63}$' AND q.unit_minor > 0
    GROUP BY 1, 2
), taken AS (
    SELECT coalesce(c.category, a.category) AS category, coalesce(c.currency, a.currency) AS currency,
           c.median AS index_minor, coalesce(c.n, 0) AS products, a.median AS quote_median_minor, coalesce(a.n, 0) AS quotes
    FROM catalog c FULL JOIN accepted a ON a.category = c.category AND a.currency = c.currency
), replaced AS (
    -- A pair with a row for the day but nothing now (its last product
    -- gone since) loses the row: the day reads as a gap.
    DELETE FROM price_index i WHERE i.day = @day::date
      AND NOT EXISTS (SELECT 1 FROM taken t WHERE t.category = i.category AND t.currency = i.currency)
)
INSERT INTO price_index (day, category, currency, index_minor, products, quote_median_minor, quotes, taken_at)
SELECT @day::date, t.category, t.currency, t.index_minor, t.products, t.quote_median_minor, t.quotes, @taken_at::timestamptz
FROM taken t
ON CONFLICT (category, currency, day) DO UPDATE SET
    index_minor = EXCLUDED.index_minor, products = EXCLUDED.products,
    quote_median_minor = EXCLUDED.quote_median_minor, quotes = EXCLUDED.quotes, taken_at = EXCLUDED.taken_at;

-- name: PriceIndexSeries :many
-- A category's days in one currency within [from_day, to_day], oldest
-- first.
SELECT day, index_minor, products, quote_median_minor, quotes
FROM price_index
WHERE category = @category AND currency = @currency AND day >= @from_day::date AND day <= @to_day::date
ORDER BY day;
