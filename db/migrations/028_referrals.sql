-- Referral rewards (internal/referral). A buyer organization hands out its
-- referral code; a new organization that claims it before its first deal
-- is referred by it, once. When the referred organization completes its
-- first deal, the referrer gets a coupon worth a share of that deal, which
-- its next deal's deposit uses. A coupon is money the platform owes: its
-- balance is its ledger account's (coupon:<id>), issued from, and expired
-- back to, platform:referral-rewards; never stored here.

CREATE TABLE referral_codes (
    org_id     uuid PRIMARY KEY REFERENCES organizations (id),
    code       text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9]{16}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE referrals (
    referred_org_id uuid PRIMARY KEY REFERENCES organizations (id),
    referrer_org_id uuid NOT NULL REFERENCES organizations (id),
    claimed_by      uuid NOT NULL REFERENCES users (id),
    claimed_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (referred_org_id <> referrer_org_id)
);
CREATE INDEX referrals_referrer_idx ON referrals (referrer_org_id, claimed_at DESC);

CREATE TABLE coupons (
    id              uuid PRIMARY KEY,
    -- The referrer, whose deals may use it.
    org_id          uuid NOT NULL REFERENCES organizations (id),
    -- One coupon per referred organization: its first completed deal.
    referred_org_id uuid NOT NULL UNIQUE REFERENCES referrals (referred_org_id),
    earned_deal_id  text NOT NULL UNIQUE,
    currency        char(3) NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    value_minor     bigint NOT NULL CHECK (value_minor > 0),
    issued_at       timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL CHECK (expires_at > issued_at)
);
CREATE INDEX coupons_org_idx ON coupons (org_id, currency, expires_at);
CREATE INDEX coupons_expiry_idx ON coupons (expires_at);

-- A deal uses at most one coupon.
CREATE TABLE coupon_redemptions (
    deal_id      text PRIMARY KEY,
    coupon_id    uuid NOT NULL REFERENCES coupons (id),
    amount_minor bigint NOT NULL CHECK (amount_minor > 0),
    redeemed_at  timestamptz NOT NULL
);
CREATE INDEX coupon_redemptions_coupon_idx ON coupon_redemptions (coupon_id);

-- A deal's payments include the coupon that paid part of its deposit.
ALTER TABLE payments DROP CONSTRAINT payments_kind_check,
    ADD CONSTRAINT payments_kind_check CHECK (kind IN ('charge', 'refund', 'transfer', 'coupon'));

-- A referred organization's first inquiry is credited to the referral
-- (InsertDealOrigin), which looks for the organization's earlier ones.
CREATE INDEX deal_origins_buyer_idx ON deal_origins (buyer_org_id);

-- A coupon's account never goes negative, as an escrow's does not
-- (migration 002): a coupon is never used for more than it holds.
CREATE FUNCTION ledger_check_coupon() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    balance bigint;
BEGIN
    IF NEW.account NOT LIKE 'coupon:%' THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended(NEW.account, 0));
    SELECT coalesce(sum(amount), 0) INTO balance
    FROM ledger_lines WHERE account = NEW.account AND currency = NEW.currency;
    IF balance < 0 THEN
        RAISE EXCEPTION 'coupon account % would go negative (% %)', NEW.account, balance, NEW.currency
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_lines_coupon_non_negative
    AFTER INSERT ON ledger_lines DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_coupon();

---- create above / drop below ----

DROP INDEX deal_origins_buyer_idx;
ALTER TABLE payments DROP CONSTRAINT payments_kind_check,
    ADD CONSTRAINT payments_kind_check CHECK (kind IN ('charge', 'refund', 'transfer'));
DROP TRIGGER ledger_lines_coupon_non_negative ON ledger_lines;
DROP FUNCTION ledger_check_coupon();
DROP TABLE coupon_redemptions;
DROP TABLE coupons;
DROP TABLE referrals;
DROP TABLE referral_codes;
