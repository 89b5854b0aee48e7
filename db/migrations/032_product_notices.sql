-- Paid new-product notices (internal/promotion). A supplier pays to tell
-- the buyers who follow a product's category about it, once per product:
-- one notification per follower through the outbox (none to a follower
-- who turned both the inbox and e-mail off for new_product), each with a
-- charge the outbox books when, and only when, it delivers it.

CREATE TABLE product_notices (
    id              uuid PRIMARY KEY,
    product_id      uuid NOT NULL UNIQUE REFERENCES products (id) ON DELETE CASCADE,
    supplier_org_id uuid NOT NULL REFERENCES organizations (id),
    category        text NOT NULL,
    currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- The price of one notice delivered, in minor units of currency.
    fee_minor       bigint NOT NULL CHECK (fee_minor > 0),
    -- At most this many notices (the supplier's budget), and how many
    -- were queued.
    max_notices     integer NOT NULL CHECK (max_notices BETWEEN 1 AND 10000),
    queued          integer NOT NULL CHECK (queued BETWEEN 0 AND max_notices),
    created_by      uuid NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX product_notices_supplier_idx ON product_notices (supplier_org_id, created_at DESC, id);

-- A charge a notification carries: the outbox posts it to the ledger in
-- the transaction that marks the notification delivered, once
-- (charged_at, and the posting's idempotency key).
CREATE TABLE notification_charges (
    key            text PRIMARY KEY,
    debit_account  text NOT NULL,
    credit_account text NOT NULL,
    currency       char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor   bigint NOT NULL CHECK (amount_minor > 0),
    memo           text NOT NULL DEFAULT '',
    -- What the charge is for (a product notice's id), to count them.
    source         uuid NOT NULL,
    charged_at     timestamptz
);
CREATE INDEX notification_charges_source_idx ON notification_charges (source);

---- create above / drop below ----

DROP TABLE notification_charges;
DROP TABLE product_notices;
