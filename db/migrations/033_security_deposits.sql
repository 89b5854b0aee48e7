-- Security deposits (internal/deposits). The platform marks categories
-- whose suppliers must hold a deposit before they quote; a supplier pays
-- its deposit like any payment (the SecurityDeposit workflow charges it),
-- and the money is held in the deposit's own ledger account
-- (deposit:<id>), returned to the supplier when it leaves in good
-- standing, or forfeited, in part or whole, to
-- platform:forfeited-deposits by a mediator's decision on a proven fraud.
-- What a deposit holds is its account's balance, never stored here.

CREATE TABLE deposit_categories (
    category     text PRIMARY KEY CHECK (category ~ '^[a-z0-9][a-z0-9-]{0,63}$'),
    currency     char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0 AND amount_minor <= 100000000000),
    set_by       uuid NOT NULL REFERENCES users (id),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE security_deposits (
    id                  uuid PRIMARY KEY,
    org_id              uuid NOT NULL REFERENCES organizations (id),
    currency            char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    -- What the supplier was asked to pay (and, once held, paid).
    amount_minor        bigint NOT NULL CHECK (amount_minor > 0 AND amount_minor <= 100000000000),
    -- pending: being charged; held: paid and counted; failed: the charge
    -- failed (nothing held); returning: the supplier is leaving, it no
    -- longer counts; returned; forfeited: nothing left after forfeits.
    status              text NOT NULL CHECK (status IN ('pending', 'held', 'failed', 'returning', 'returned', 'forfeited')),
    reason              text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),
    provider            text NOT NULL DEFAULT '',
    provider_payment_id text NOT NULL DEFAULT '',
    refund_id           text NOT NULL DEFAULT '',
    paid_by             uuid NOT NULL REFERENCES users (id),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
-- A supplier has one live deposit per currency.
CREATE UNIQUE INDEX security_deposits_live_idx ON security_deposits (org_id, currency)
    WHERE status IN ('pending', 'held', 'returning');
CREATE INDEX security_deposits_org_idx ON security_deposits (org_id, created_at DESC);
CREATE INDEX security_deposits_recent_idx ON security_deposits (created_at DESC, id);

-- A mediator's forfeits of a deposit, each its audit record: who, when,
-- why, and the deal whose fraud it answers.
CREATE TABLE deposit_forfeits (
    deposit_id   uuid NOT NULL REFERENCES security_deposits (id),
    seq          integer NOT NULL CHECK (seq BETWEEN 1 AND 20),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    deal_id      text NOT NULL CHECK (deal_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    decided_by   uuid NOT NULL REFERENCES users (id),
    decided_at   timestamptz NOT NULL,
    PRIMARY KEY (deposit_id, seq)
);

-- A deposit's account never goes negative, as an escrow's does not
-- (migration 002): no forfeit or return takes more than it holds, whatever
-- runs at once.
CREATE FUNCTION ledger_check_deposit() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    balance bigint;
BEGIN
    IF NEW.account NOT LIKE 'deposit:%' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended(NEW.account, 0));
    SELECT coalesce(sum(amount), 0) INTO balance
    FROM ledger_lines WHERE account = NEW.account AND currency = NEW.currency;
    IF balance < 0 THEN
        RAISE EXCEPTION 'deposit account % would go negative (% %)', NEW.account, balance, NEW.currency
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_lines_deposit_non_negative
    AFTER INSERT ON ledger_lines DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_deposit();

---- create above / drop below ----

DROP TRIGGER ledger_lines_deposit_non_negative ON ledger_lines;
DROP FUNCTION ledger_check_deposit();
DROP TABLE deposit_forfeits;
DROP TABLE security_deposits;
DROP TABLE deposit_categories;
