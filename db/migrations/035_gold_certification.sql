-- Gold-supplier certification (internal/gold). A verified supplier pays a
-- yearly fee for a Gold badge of its own. Each certification is one
-- GoldCertification workflow: the first year's charge (the supplier's
-- client confirms it and the provider keeps the card), then each year a
-- charge of the saved card made without the supplier, 30 days' notice
-- before, 14 days to pay when the card is declined, and the end of the
-- badge when it is not paid, when the supplier stopped its renewal, or
-- when the supplier is no longer verified. Every step is an event here,
-- written once; each year's fee is a ledger posting from the supplier to
-- platform:gold-fees. The commission tiers do not read any of it.

CREATE TABLE gold_certifications (
    id           uuid PRIMARY KEY,
    org_id       uuid NOT NULL REFERENCES organizations (id),
    -- pending: the first charge is not paid yet; active: paid; past_due:
    -- a renewal was declined and the supplier has until pay_by; ended:
    -- the supplier stopped the renewal and the paid time ran out; lapsed:
    -- unpaid, or no longer verified, at a renewal; failed: the first
    -- charge failed.
    status       text NOT NULL CHECK (status IN ('pending', 'active', 'past_due', 'ended', 'lapsed', 'failed')),
    fee_minor    bigint NOT NULL CHECK (fee_minor > 0 AND fee_minor <= 100000000000),
    currency     char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    auto_renew   boolean NOT NULL DEFAULT true,
    -- The years paid, and when the last one ends.
    years        integer NOT NULL DEFAULT 0 CHECK (years >= 0),
    paid_until   timestamptz,
    pay_by       timestamptz,
    reason       text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    requested_by uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- A supplier has one live certification.
CREATE UNIQUE INDEX gold_certifications_live_idx ON gold_certifications (org_id)
    WHERE status IN ('pending', 'active', 'past_due');
CREATE INDEX gold_certifications_org_idx ON gold_certifications (org_id, created_at DESC);
CREATE INDEX gold_certifications_recent_idx ON gold_certifications (created_at DESC, id);

-- A certification's steps, numbered by its workflow: a retried step is
-- written once. A step that took money names its payment.
CREATE TABLE gold_events (
    certification_id    uuid NOT NULL REFERENCES gold_certifications (id),
    seq                 integer NOT NULL CHECK (seq >= 1),
    action              text NOT NULL CHECK (action ~ '^[a-z_]{1,40}$'),
    actor_user_id       uuid REFERENCES users (id),
    year                integer NOT NULL CHECK (year >= 0),
    amount_minor        bigint NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
    provider            text NOT NULL DEFAULT '',
    provider_payment_id text NOT NULL DEFAULT '',
    reason              text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    at                  timestamptz NOT NULL,
    PRIMARY KEY (certification_id, seq)
);

-- The badge: Gold while gold_until is ahead and the supplier is verified.
ALTER TABLE supplier_profiles ADD COLUMN gold_until timestamptz;

---- create above / drop below ----

ALTER TABLE supplier_profiles DROP COLUMN gold_until;
DROP TABLE gold_events;
DROP TABLE gold_certifications;
