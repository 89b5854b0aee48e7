-- The landed-cost calculator's tables (internal/landedcost).

-- name: ShippingRate :one
SELECT mode, currency, per_kg_minor, minimum_minor, origin_fee_minor, insurance_bp
FROM shipping_rates WHERE mode = $1;

-- name: DutyRate :one
-- The country's rate for a category: the category's own where the
-- platform lists one, the country's default otherwise.
SELECT c.country, c.valuation, coalesce(d.rate_bp, c.default_rate_bp)::int4 AS rate_bp
FROM customs_countries c
LEFT JOIN duty_rates d ON d.country = c.country AND d.category = sqlc.arg(category)::text
WHERE c.country = sqlc.arg(country)::text;

-- name: CustomsCountries :many
SELECT country FROM customs_countries ORDER BY country;

-- name: ExchangeRates :many
SELECT currency, per_usd_micros, to_char(as_of, 'YYYY-MM-DD')::text AS as_of
FROM exchange_rates WHERE currency = ANY(sqlc.arg(currencies)::text[]);

-- name: ExchangeCurrencies :many
SELECT currency FROM exchange_rates ORDER BY currency;
