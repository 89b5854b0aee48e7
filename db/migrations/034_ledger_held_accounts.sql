-- One check for every ledger account that holds money for someone and may
-- never go negative: a deal's escrow (002), a referral coupon (028) and a
-- security deposit (033). Each had a trigger of its own running the same
-- function with another prefix, so every ledger line ran three; now it
-- runs one, and the next such account is one more prefix here. And one
-- function reads an account's balance.
CREATE FUNCTION ledger_check_held() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    balance bigint;
BEGIN
    IF NOT (NEW.account LIKE 'escrow:%' OR NEW.account LIKE 'coupon:%' OR NEW.account LIKE 'deposit:%') THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended(NEW.account, 0));
    SELECT coalesce(sum(amount), 0) INTO balance
    FROM ledger_lines WHERE account = NEW.account AND currency = NEW.currency;
    IF balance < 0 THEN
        RAISE EXCEPTION '% account % would go negative (% %)', split_part(NEW.account, ':', 1), NEW.account, balance, NEW.currency
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

-- An account's balance in a currency: the sum of its lines, as the
-- ledger never stores it (coupons' and deposits' are read so in
-- db/queries).
CREATE FUNCTION ledger_balance(account_name text, currency_code text) RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(sum(amount), 0)::bigint FROM ledger_lines WHERE account = account_name AND currency = currency_code
$$;

DROP TRIGGER ledger_lines_escrow_non_negative ON ledger_lines;
DROP TRIGGER ledger_lines_coupon_non_negative ON ledger_lines;
DROP TRIGGER ledger_lines_deposit_non_negative ON ledger_lines;
DROP FUNCTION ledger_check_escrow();
DROP FUNCTION ledger_check_coupon();
DROP FUNCTION ledger_check_deposit();

CREATE CONSTRAINT TRIGGER ledger_lines_held_non_negative
    AFTER INSERT ON ledger_lines DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION ledger_check_held();

---- create above / drop below ----

DROP TRIGGER ledger_lines_held_non_negative ON ledger_lines;
DROP FUNCTION ledger_check_held();
DROP FUNCTION ledger_balance(text, text);
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
