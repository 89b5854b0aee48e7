-- The read model of deals (written only by the deal workflow's projection
-- activity) and the double-entry money ledger (written only by the ledger
-- activity). Temporal's history is deleted after the namespace's retention;
-- these tables are the permanent record.

CREATE TABLE supplier_profiles (
    org_id               uuid PRIMARY KEY REFERENCES organizations (id),
    categories           text[] NOT NULL DEFAULT '{}',
    regions              text[] NOT NULL DEFAULT '{}',
    certifications       text[] NOT NULL DEFAULT '{}',
    tier                 text NOT NULL DEFAULT 'bronze' CHECK (tier IN ('bronze', 'silver', 'gold', 'platinum')),
    rating               numeric(3, 2) CHECK (rating BETWEEN 0 AND 5),
    gmv_minor            bigint NOT NULL DEFAULT 0 CHECK (gmv_minor >= 0),
    quotes_on_time       integer NOT NULL DEFAULT 0,
    quotes_late          integer NOT NULL DEFAULT 0,
    median_response_secs integer,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- One row per deal, denormalised for listing. last_event_seq orders
-- projections: an older one never overwrites a newer one.
CREATE TABLE deals (
    id              text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    stage           text NOT NULL,
    buyer_org_id    text NOT NULL,
    supplier_org_id text,
    product         text NOT NULL,
    quantity        bigint NOT NULL CHECK (quantity > 0),
    total_minor     bigint NOT NULL DEFAULT 0 CHECK (total_minor >= 0),
    currency        char(3) NOT NULL,
    state           jsonb NOT NULL,
    last_event_seq  integer NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX deals_buyer_idx ON deals (buyer_org_id, created_at DESC, id DESC);
CREATE INDEX deals_supplier_idx ON deals (supplier_org_id, created_at DESC, id DESC) WHERE supplier_org_id IS NOT NULL;
CREATE INDEX deals_dispute_idx ON deals (created_at DESC, id DESC) WHERE stage IN ('DISPUTE', 'MEDIATION');

-- Suppliers invited to a deal see it before it is awarded. The deal's
-- creation time is copied here so a supplier's list reads in index order.
CREATE TABLE deal_invitations (
    deal_id         text NOT NULL REFERENCES deals (id),
    supplier_id     text NOT NULL,
    status          text NOT NULL,
    invited_at      timestamptz NOT NULL,
    due_at          timestamptz NOT NULL,
    deal_created_at timestamptz NOT NULL,
    PRIMARY KEY (deal_id, supplier_id)
);
CREATE INDEX deal_invitations_supplier_idx ON deal_invitations (supplier_id, deal_created_at DESC, deal_id DESC);

-- The timeline, append-only: (deal_id, seq) makes a replayed event a no-op.
CREATE TABLE deal_events (
    deal_id text NOT NULL REFERENCES deals (id),
    seq     integer NOT NULL CHECK (seq > 0),
    at      timestamptz NOT NULL,
    type    text NOT NULL,
    actor   text NOT NULL DEFAULT '',
    detail  text NOT NULL DEFAULT '',
    PRIMARY KEY (deal_id, seq)
);

CREATE TABLE quotes (
    deal_id        text NOT NULL REFERENCES deals (id),
    quote_id       text NOT NULL,
    supplier_id    text NOT NULL,
    revision       integer NOT NULL,
    tiers          jsonb NOT NULL,
    moq            bigint NOT NULL,
    lead_time_days integer NOT NULL,
    valid_till     timestamptz NOT NULL,
    sample_minor   bigint NOT NULL,
    unit_minor     bigint NOT NULL,
    total_minor    bigint NOT NULL,
    status         text NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (deal_id, quote_id)
);

CREATE TABLE payments (
    deal_id         text NOT NULL REFERENCES deals (id),
    payment_id      text NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('charge', 'refund', 'transfer')),
    step            text NOT NULL,
    provider        text NOT NULL DEFAULT '',
    provider_id     text NOT NULL DEFAULT '',
    amount_minor    bigint NOT NULL CHECK (amount_minor > 0),
    currency        char(3) NOT NULL,
    status          text NOT NULL,
    idempotency_key text NOT NULL UNIQUE,
    reason          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (deal_id, payment_id)
);

CREATE TABLE shipments (
    deal_id         text NOT NULL REFERENCES deals (id),
    kind            text NOT NULL CHECK (kind IN ('sample', 'goods')),
    carrier         text NOT NULL,
    tracking_number text NOT NULL,
    status          text NOT NULL,
    shipped_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    PRIMARY KEY (deal_id, kind, tracking_number)
);

CREATE TABLE tracking_events (
    deal_id         text NOT NULL,
    kind            text NOT NULL,
    tracking_number text NOT NULL,
    seq             integer NOT NULL,
    at              timestamptz NOT NULL,
    status          text NOT NULL,
    location        text NOT NULL DEFAULT '',
    description     text NOT NULL DEFAULT '',
    PRIMARY KEY (deal_id, kind, tracking_number, seq),
    FOREIGN KEY (deal_id, kind, tracking_number) REFERENCES shipments (deal_id, kind, tracking_number)
);

CREATE TABLE disputes (
    deal_id   text PRIMARY KEY REFERENCES deals (id),
    opened_by text NOT NULL,
    reason    text NOT NULL,
    remedy    text NOT NULL DEFAULT '',
    answer    text NOT NULL DEFAULT '',
    status    text NOT NULL,
    opened_at timestamptz NOT NULL
);

CREATE TABLE dispute_evidence (
    deal_id   text NOT NULL REFERENCES disputes (deal_id),
    seq       integer NOT NULL,
    reference text NOT NULL,
    PRIMARY KEY (deal_id, seq)
);

CREATE TABLE dispute_proposals (
    deal_id        text NOT NULL REFERENCES disputes (deal_id),
    proposal_id    text NOT NULL,
    proposed_by    text NOT NULL,
    release_minor  bigint NOT NULL CHECK (release_minor >= 0),
    note           text NOT NULL DEFAULT '',
    status         text NOT NULL,
    at             timestamptz NOT NULL,
    PRIMARY KEY (deal_id, proposal_id)
);

CREATE TABLE dispute_decisions (
    deal_id       text PRIMARY KEY REFERENCES disputes (deal_id),
    mediator_id   text NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('refund', 'release', 'split')),
    release_minor bigint NOT NULL CHECK (release_minor >= 0),
    note          text NOT NULL DEFAULT '',
    at            timestamptz NOT NULL
);

-- ---- the ledger ----

CREATE TABLE ledger_postings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,
    deal_id         text,
    kind            text NOT NULL,
    memo            text NOT NULL DEFAULT '',
    posted_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_postings_posted_at_idx ON ledger_postings (posted_at, id);
CREATE INDEX ledger_postings_deal_idx ON ledger_postings (deal_id) WHERE deal_id IS NOT NULL;

CREATE TABLE ledger_lines (
    posting_id bigint NOT NULL REFERENCES ledger_postings (id),
    line_no    smallint NOT NULL,
    account    text NOT NULL CHECK (account ~ '^[a-z]+:.+$'),
    currency   char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount     bigint NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (posting_id, line_no)
);
CREATE INDEX ledger_lines_account_idx ON ledger_lines (account, currency) INCLUDE (amount);

-- Each posting's lines sum to zero per currency, checked at commit so a
-- posting's lines can be inserted one by one in its transaction.
CREATE FUNCTION ledger_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT currency, sum(amount) AS total INTO bad
    FROM ledger_lines WHERE posting_id = NEW.posting_id
    GROUP BY currency HAVING sum(amount) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger posting % is unbalanced: % lines sum to %', NEW.posting_id, bad.currency, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_lines_balanced
    AFTER INSERT ON ledger_lines DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_balanced();

-- An escrow account never goes negative. The account's advisory lock makes
-- concurrent postings to one escrow check one after the other, each seeing
-- the ones committed before it.
CREATE FUNCTION ledger_check_escrow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    balance bigint;
BEGIN
    IF NEW.account NOT LIKE 'escrow:%' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended(NEW.account, 0));
    SELECT coalesce(sum(amount), 0) INTO balance
    FROM ledger_lines WHERE account = NEW.account AND currency = NEW.currency;
    IF balance < 0 THEN
        RAISE EXCEPTION 'escrow account % would go negative (% %)', NEW.account, balance, NEW.currency
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_lines_escrow_non_negative
    AFTER INSERT ON ledger_lines DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_escrow();

-- The ledger is append-only: a correction is a new posting.
CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: post a correcting entry instead'
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_lines_append_only BEFORE UPDATE OR DELETE ON ledger_lines
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

---- create above / drop below ----

DROP TABLE ledger_lines;
DROP TABLE ledger_postings;
DROP FUNCTION ledger_append_only();
DROP FUNCTION ledger_check_escrow();
DROP FUNCTION ledger_check_balanced();
DROP TABLE dispute_decisions;
DROP TABLE dispute_proposals;
DROP TABLE dispute_evidence;
DROP TABLE disputes;
DROP TABLE tracking_events;
DROP TABLE shipments;
DROP TABLE payments;
DROP TABLE quotes;
DROP TABLE deal_events;
DROP TABLE deal_invitations;
DROP TABLE deals;
DROP TABLE supplier_profiles;
