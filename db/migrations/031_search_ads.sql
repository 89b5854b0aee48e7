-- Search ads (internal/ads). A supplier bids on a keyword for one of its
-- products: a maximum price per click and a daily budget, in the product's
-- currency. A search whose terms include the keyword's runs an auction
-- among the matching ads; the three best are shown above the organic
-- results, each charged per click at a second price. What an ad spends is
-- a ledger posting per charged click (ads:<org> → platform:ad-revenue) in
-- the transaction that writes the click's row here, so the day's spend is
-- derived from the clicks, never kept as a counter.

CREATE TABLE ads (
    id                 uuid PRIMARY KEY,
    supplier_org_id    uuid NOT NULL REFERENCES organizations (id),
    product_id         uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    -- Normalised by internal/ads: lower case, single spaces, no control
    -- characters, 1 to 80 characters.
    keyword            text NOT NULL CHECK (char_length(keyword) BETWEEN 1 AND 80),
    -- The keyword's English lexemes (to_tsvector), never empty: an ad
    -- matches a search whose terms' lexemes include all of them.
    terms              text[] NOT NULL CHECK (cardinality(terms) > 0),
    -- The product's currency when the ad was made: an ad whose product
    -- changed currency no longer shows.
    currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    max_cpc_minor      bigint NOT NULL CHECK (max_cpc_minor > 0),
    daily_budget_minor bigint NOT NULL CHECK (daily_budget_minor >= max_cpc_minor),
    active             boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (supplier_org_id, keyword, product_id)
);
CREATE INDEX ads_terms_idx ON ads USING gin (terms) WHERE active;
CREATE INDEX ads_supplier_idx ON ads (supplier_org_id, created_at, id);

-- Impressions per ad and UTC day: one row a day, counted by the search
-- that showed the ad.
CREATE TABLE ad_impressions (
    ad_id       uuid NOT NULL REFERENCES ads (id) ON DELETE CASCADE,
    day         date NOT NULL,
    impressions bigint NOT NULL CHECK (impressions > 0),
    PRIMARY KEY (ad_id, day)
);

-- Every click on a shown ad, charged or not. outcome says why a click was
-- not charged; charged_minor is what the ledger posting took (0 unless
-- charged), price_minor the price the auction fixed.
CREATE TABLE ad_clicks (
    id            uuid PRIMARY KEY,
    ad_id         uuid NOT NULL REFERENCES ads (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id),
    org_id        uuid NOT NULL REFERENCES organizations (id),
    clicked_at    timestamptz NOT NULL,
    day           date NOT NULL,
    price_minor   bigint NOT NULL CHECK (price_minor > 0),
    charged_minor bigint NOT NULL CHECK (charged_minor >= 0 AND charged_minor <= price_minor),
    outcome       text NOT NULL CHECK (outcome IN ('charged', 'repeat', 'not_buyer', 'own_ad', 'budget_spent', 'paused', 'expired')),
    CHECK ((outcome = 'charged') = (charged_minor > 0))
);
CREATE INDEX ad_clicks_day_idx ON ad_clicks (ad_id, day) INCLUDE (charged_minor);
CREATE INDEX ad_clicks_buyer_idx ON ad_clicks (ad_id, org_id, clicked_at) WHERE outcome = 'charged';

-- The key that signs the click links of shown ads (HMAC-SHA256), so a
-- click carries the price its auction fixed and no one can choose
-- another. Random per database, shared by every API process.
CREATE TABLE ad_click_key (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    key bytea NOT NULL CHECK (octet_length(key) >= 32)
);
INSERT INTO ad_click_key (key)
VALUES (decode(replace(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex'));

---- create above / drop below ----

DROP TABLE ad_click_key;
DROP TABLE ad_clicks;
DROP TABLE ad_impressions;
DROP TABLE ads;
