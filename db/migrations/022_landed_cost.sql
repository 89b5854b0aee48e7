-- The tables the buyers' landed-cost calculator (internal/landedcost)
-- prices with, which the platform keeps: freight by shipping mode, customs
-- duty by destination country (a country's default, optionally a rate per
-- catalog category), and exchange rates against the US dollar. The rows
-- seeded here are the platform's defaults for estimates, round figures
-- near the published ones when they were written: not a tariff schedule
-- nor a carrier's offer. Amounts are integer minor units of their
-- currency; rates are basis points (1/100 of a percent).

-- Freight of a mode: per_kg_minor for each chargeable kilogram (the gross
-- weight rounded up to a whole kilogram), at least minimum_minor; the
-- origin fee (export clearance, loading) and the cargo insurance premium,
-- insurance_bp of the insured value.
CREATE TABLE shipping_rates (
    mode             text PRIMARY KEY CHECK (mode IN ('sea', 'rail', 'road', 'air', 'express')),
    currency         char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    per_kg_minor     bigint NOT NULL CHECK (per_kg_minor >= 0),
    minimum_minor    bigint NOT NULL CHECK (minimum_minor >= 0),
    origin_fee_minor bigint NOT NULL CHECK (origin_fee_minor >= 0),
    insurance_bp     integer NOT NULL CHECK (insurance_bp BETWEEN 0 AND 10000),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

INSERT INTO shipping_rates (mode, currency, per_kg_minor, minimum_minor, origin_fee_minor, insurance_bp) VALUES
    ('sea',     'USD',  25, 15000, 12000, 30),
    ('rail',    'USD', 120, 30000, 12000, 30),
    ('road',    'USD',  60, 10000,  8000, 25),
    ('air',     'USD', 450,  9000,  6000, 20),
    ('express', 'USD', 900,  3500,     0, 20);

-- A destination country the calculator knows (ISO 3166-1 alpha-2), how
-- its customs values goods (CIF: goods, freight and insurance; FOB: the
-- goods alone) and its duty rate for goods of no listed category.
CREATE TABLE customs_countries (
    country         char(2) PRIMARY KEY CHECK (country ~ '^[A-Z]{2}$'),
    valuation       text NOT NULL CHECK (valuation IN ('CIF', 'FOB')),
    default_rate_bp integer NOT NULL CHECK (default_rate_bp BETWEEN 0 AND 10000),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A country's duty rate for one catalog category, over its default.
CREATE TABLE duty_rates (
    country    char(2) NOT NULL REFERENCES customs_countries (country) ON DELETE CASCADE,
    category   text NOT NULL CHECK (category ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    rate_bp    integer NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (country, category)
);

INSERT INTO customs_countries (country, valuation, default_rate_bp) VALUES
    ('US', 'FOB', 350), ('CA', 'FOB', 400), ('AU', 'FOB', 500), ('NZ', 'FOB', 500),
    ('MX', 'CIF', 1000), ('BR', 'CIF', 1200), ('GB', 'CIF', 400), ('DE', 'CIF', 420),
    ('FR', 'CIF', 420), ('NL', 'CIF', 420), ('IT', 'CIF', 420), ('ES', 'CIF', 420),
    ('PL', 'CIF', 420), ('TR', 'CIF', 800), ('AE', 'CIF', 500), ('SA', 'CIF', 500),
    ('IN', 'CIF', 1000), ('CN', 'CIF', 750), ('JP', 'CIF', 250), ('KR', 'CIF', 800),
    ('SG', 'CIF', 0), ('VN', 'CIF', 800), ('ZA', 'CIF', 900);

INSERT INTO duty_rates (country, category, rate_bp) VALUES
    ('US', 'apparel', 1650), ('US', 'fasteners', 850),
    ('CA', 'apparel', 1800), ('GB', 'apparel', 1200),
    ('DE', 'apparel', 1200), ('DE', 'fasteners', 370),
    ('FR', 'apparel', 1200), ('FR', 'fasteners', 370),
    ('NL', 'apparel', 1200), ('NL', 'fasteners', 370),
    ('IT', 'apparel', 1200), ('IT', 'fasteners', 370),
    ('ES', 'apparel', 1200), ('ES', 'fasteners', 370),
    ('PL', 'apparel', 1200), ('PL', 'fasteners', 370),
    ('AU', 'apparel', 0), ('JP', 'apparel', 1000);

-- How many units of a currency one US dollar buys, in millionths
-- (7 100 000 is 7.1), as of a day. The calculator converts between two
-- currencies through these.
CREATE TABLE exchange_rates (
    currency       char(3) PRIMARY KEY CHECK (currency ~ '^[A-Z]{3}$'),
    per_usd_micros bigint NOT NULL CHECK (per_usd_micros > 0),
    as_of          date NOT NULL
);

INSERT INTO exchange_rates (currency, per_usd_micros, as_of) VALUES
    ('USD', 1000000, '2025-12-01'), ('EUR', 865000, '2025-12-01'), ('GBP', 760000, '2025-12-01'),
    ('CNY', 7100000, '2025-12-01'), ('JPY', 155000000, '2025-12-01'), ('KRW', 1465000000, '2025-12-01'),
    ('HKD', 7780000, '2025-12-01'), ('TWD', 31300000, '2025-12-01'), ('SGD', 1300000, '2025-12-01'),
    ('INR', 89000000, '2025-12-01'), ('IDR', 16650000000, '2025-12-01'), ('VND', 26350000000, '2025-12-01'),
    ('THB', 32300000, '2025-12-01'), ('MYR', 4130000, '2025-12-01'), ('PHP', 58900000, '2025-12-01'),
    ('AUD', 1530000, '2025-12-01'), ('NZD', 1750000, '2025-12-01'), ('CAD', 1400000, '2025-12-01'),
    ('MXN', 18400000, '2025-12-01'), ('BRL', 5350000, '2025-12-01'), ('CHF', 800000, '2025-12-01'),
    ('SEK', 9450000, '2025-12-01'), ('NOK', 10100000, '2025-12-01'), ('DKK', 6450000, '2025-12-01'),
    ('PLN', 3660000, '2025-12-01'), ('CZK', 20900000, '2025-12-01'), ('TRY', 42500000, '2025-12-01'),
    ('AED', 3672500, '2025-12-01'), ('SAR', 3750000, '2025-12-01'), ('ILS', 3250000, '2025-12-01'),
    ('ZAR', 17200000, '2025-12-01');

---- create above / drop below ----

DROP TABLE exchange_rates;
DROP TABLE duty_rates;
DROP TABLE customs_countries;
DROP TABLE shipping_rates;
