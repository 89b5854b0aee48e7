-- What a buyer organization buys, for matching it with suppliers' offers:
-- on its first profile and on every change it gets 3 to 5 offers in its
-- inbox (internal/matching).
CREATE TABLE buyer_profiles (
    org_id             uuid PRIMARY KEY REFERENCES organizations (id),
    categories         text[] NOT NULL CHECK (cardinality(categories) BETWEEN 1 AND 10),
    -- The budget of one order in minor units of currency; 0 for none.
    budget_minor       bigint NOT NULL DEFAULT 0 CHECK (budget_minor >= 0),
    currency           char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- The lead time it needs at most, in days; 0 for any.
    max_lead_time_days integer NOT NULL DEFAULT 0 CHECK (max_lead_time_days BETWEEN 0 AND 365),
    regions            text[] NOT NULL DEFAULT '{}' CHECK (cardinality(regions) <= 20),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

---- create above / drop below ----

DROP TABLE buyer_profiles;
