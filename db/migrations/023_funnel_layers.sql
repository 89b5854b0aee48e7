-- The buyers' funnel before and around the deal: who looked at which
-- product, and what brought each inquiry.

-- Product views by buyers (GET /v1/products/:id, the console's product
-- page). One row per user, product and hour: reloading a page a thousand
-- times is one view, and the table grows with people, not with requests.
-- Channel is how the buyer came to the page: a link from a matching
-- offer, a reactivation message, a referral, or none of those (direct).
CREATE TABLE product_views (
    product_id     uuid NOT NULL,
    viewer_org_id  uuid NOT NULL,
    viewer_user_id uuid NOT NULL,
    category       text NOT NULL CHECK (category ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    channel        text NOT NULL CHECK (channel IN ('direct', 'matching', 'reactivation', 'referral')),
    hour           timestamptz NOT NULL,
    viewed_at      timestamptz NOT NULL CHECK (viewed_at >= hour AND viewed_at < hour + interval '1 hour'),
    PRIMARY KEY (product_id, viewer_user_id, hour)
);
-- The funnel reads a range of views; a deal's channel reads the buyer's
-- latest view in the deal's category.
CREATE INDEX product_views_at_idx ON product_views (viewed_at) INCLUDE (viewer_org_id, category, channel);
CREATE INDEX product_views_viewer_idx ON product_views (viewer_org_id, category, viewed_at DESC) INCLUDE (channel);

-- What brought each inquiry, recorded by the API as it starts the deal
-- (the deal's own state is the workflow's; this is marketing's): the
-- product the buyer came from, when it named one, and the channel of the
-- buyer's latest view in the deal's category in the 30 days before, or
-- direct. A row whose deal never started joins no deal and counts nowhere.
CREATE TABLE deal_origins (
    deal_id      text PRIMARY KEY CHECK (deal_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    buyer_org_id uuid NOT NULL,
    product_id   uuid,
    category     text NOT NULL DEFAULT '',
    channel      text NOT NULL CHECK (channel IN ('direct', 'matching', 'reactivation', 'referral')),
    created_at   timestamptz NOT NULL
);

-- Supplier activity by month: quotes made and goods shipped in a range.
CREATE INDEX quotes_created_idx ON quotes (created_at) INCLUDE (supplier_id);
CREATE INDEX shipments_shipped_idx ON shipments (shipped_at) WHERE kind = 'goods';

---- create above / drop below ----

DROP INDEX shipments_shipped_idx;
DROP INDEX quotes_created_idx;
DROP TABLE deal_origins;
DROP TABLE product_views;
