-- Price trends per category: one row per (day, category, currency),
-- written by the daily snapshot (internal/pricetrend). Currencies are
-- never mixed. The index is the catalog's: the lower median of the listed
-- products' unit prices at their MOQ, as the catalog stood when the day
-- was taken. The quotes accepted that day are kept apart (their lower
-- median and count): they are priced at the deal's quantity, not the MOQ,
-- so mixing them in would move the index with the day's deal sizes. A
-- snapshot taken again replaces its day's row.
CREATE TABLE price_index (
    day                date NOT NULL,
    category           text NOT NULL CHECK (category ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- NULL when no product of the category was listed in the currency.
    index_minor        bigint CHECK (index_minor > 0),
    products           integer NOT NULL CHECK (products >= 0),
    -- NULL when no quote was accepted that day.
    quote_median_minor bigint CHECK (quote_median_minor > 0),
    quotes             integer NOT NULL CHECK (quotes >= 0),
    taken_at           timestamptz NOT NULL,
    PRIMARY KEY (category, currency, day),
    CHECK ((index_minor IS NULL) = (products = 0)),
    CHECK ((quote_median_minor IS NULL) = (quotes = 0))
);

-- The day's accepted quotes are found by their acceptance event.
CREATE INDEX deal_events_quote_accepted_idx ON deal_events (at) WHERE type = 'quote_accepted';

---- create above / drop below ----

DROP INDEX deal_events_quote_accepted_idx;
DROP TABLE price_index;
