-- The marketplace around the deal workflow: suppliers' catalogs (searched
-- with PostgreSQL full text), buyers' recent searches, buyers' ratings of
-- finished deals, and what the daily tier recalculation derives for each
-- supplier.

-- A product's price tiers are parallel arrays, ascending by minimum
-- quantity: the unit price at a quantity is the one of the largest minimum
-- not above it. from_unit_minor is the price at the MOQ, kept for sorting
-- and for the price filter when the buyer names no quantity.
CREATE TABLE products (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    supplier_org_id    uuid NOT NULL REFERENCES organizations (id),
    sku                text NOT NULL CHECK (sku ~ '^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$'),
    name               text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    description        text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    category           text NOT NULL CHECK (category ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    unit               text NOT NULL CHECK (length(btrim(unit)) BETWEEN 1 AND 20),
    moq                bigint NOT NULL CHECK (moq > 0),
    currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    tier_min_qty       bigint[] NOT NULL CHECK (cardinality(tier_min_qty) BETWEEN 1 AND 20),
    tier_unit_minor    bigint[] NOT NULL CHECK (cardinality(tier_unit_minor) = cardinality(tier_min_qty)),
    from_unit_minor    bigint NOT NULL CHECK (from_unit_minor > 0),
    lead_time_days     integer NOT NULL CHECK (lead_time_days BETWEEN 1 AND 365),
    certifications     text[] NOT NULL DEFAULT '{}',
    customizable       boolean NOT NULL DEFAULT false,
    origin_region      text NOT NULL CHECK (origin_region ~ '^[A-Z]{2}(-[A-Z0-9]{1,3})?$'),
    sample_available   boolean NOT NULL DEFAULT false,
    sample_price_minor bigint NOT NULL DEFAULT 0 CHECK (sample_price_minor >= 0),
    search             tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', name), 'A') ||
        setweight(to_tsvector('english', replace(category, '-', ' ')), 'B') ||
        setweight(to_tsvector('english', sku), 'B') ||
        setweight(to_tsvector('english', description), 'C')
    ) STORED,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (supplier_org_id, sku)
);
CREATE INDEX products_search_idx ON products USING gin (search);
CREATE INDEX products_category_price_idx ON products (category, from_unit_minor, id);
CREATE INDEX products_certifications_idx ON products USING gin (certifications);
CREATE INDEX products_lead_time_idx ON products (lead_time_days, id);
CREATE INDEX products_price_idx ON products (from_unit_minor, id);

-- The unit price of a tiered product at quantity q; NULL below the first
-- tier. width_bucket counts the (ascending) minimums not above q, which is
-- the index of the tier q reaches; a one-expression SQL function is inlined.
CREATE FUNCTION product_unit_price_at(min_qty bigint[], unit_minor bigint[], q bigint)
RETURNS bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT unit_minor[width_bucket(q, min_qty)]
$$;

-- A buyer's searches, newest first; the API keeps the last few per user.
CREATE TABLE product_searches (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    params     jsonb NOT NULL,
    searched_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_searches_user_idx ON product_searches (user_id, searched_at DESC, id DESC);

-- A buyer rates the supplier of a finished deal once.
CREATE TABLE supplier_ratings (
    deal_id         text PRIMARY KEY REFERENCES deals (id),
    supplier_org_id uuid NOT NULL REFERENCES organizations (id),
    buyer_org_id    uuid NOT NULL REFERENCES organizations (id),
    stars           smallint NOT NULL CHECK (stars BETWEEN 1 AND 5),
    comment         text NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    rated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX supplier_ratings_supplier_idx ON supplier_ratings (supplier_org_id);

-- What the tier recalculation derives; dispatch and search read it.
ALTER TABLE supplier_profiles
    ADD COLUMN ratings_count     integer NOT NULL DEFAULT 0,
    ADD COLUMN sla_misses_recent integer NOT NULL DEFAULT 0,
    ADD COLUMN response_rating   smallint CHECK (response_rating BETWEEN 1 AND 5),
    ADD COLUMN tier_reason       text NOT NULL DEFAULT '',
    ADD COLUMN tier_computed_at  timestamptz;

-- The deal's category, for metrics by category.
ALTER TABLE deals ADD COLUMN category text GENERATED ALWAYS AS (state #>> '{inquiry,category}') STORED;
CREATE INDEX deals_created_idx ON deals (created_at, id);
CREATE INDEX deal_invitations_due_idx ON deal_invitations (supplier_id, due_at) WHERE status = 'LATE';

---- create above / drop below ----

DROP INDEX deal_invitations_due_idx;
DROP INDEX deals_created_idx;
ALTER TABLE deals DROP COLUMN category;
ALTER TABLE supplier_profiles
    DROP COLUMN ratings_count,
    DROP COLUMN sla_misses_recent,
    DROP COLUMN response_rating,
    DROP COLUMN tier_reason,
    DROP COLUMN tier_computed_at;
DROP TABLE supplier_ratings;
DROP TABLE product_searches;
DROP FUNCTION product_unit_price_at;
DROP TABLE products;
