-- name: ReferralCode :one
-- The organization's referral code, made on its first ask.
WITH made AS (
    INSERT INTO referral_codes (org_id, code) VALUES (@org_id, @code)
    ON CONFLICT (org_id) DO NOTHING
    RETURNING code
)
SELECT code FROM made
UNION ALL
SELECT code FROM referral_codes WHERE org_id = @org_id
LIMIT 1;

-- name: ReferrerByCode :one
SELECT org_id FROM referral_codes WHERE code = $1;

-- name: OrgHasDeals :one
-- Whether the organization has asked for a deal (the read model).
SELECT EXISTS (SELECT 1 FROM deals WHERE buyer_org_id = @org_id::text) AS has;

-- name: InsertReferral :one
-- Returns no row when the organization was referred before.
INSERT INTO referrals (referred_org_id, referrer_org_id, claimed_by)
VALUES (@referred_org_id, @referrer_org_id, @claimed_by)
ON CONFLICT (referred_org_id) DO NOTHING
RETURNING claimed_at;

-- name: ReferrerOf :one
SELECT referrer_org_id FROM referrals WHERE referred_org_id = $1;

-- name: InsertCoupon :one
-- Returns no row when the referred organization's coupon was issued before.
INSERT INTO coupons (id, org_id, referred_org_id, earned_deal_id, currency, value_minor, issued_at, expires_at)
VALUES (@id, @org_id, @referred_org_id, @earned_deal_id, @currency, @value_minor, @issued_at, @expires_at)
ON CONFLICT (referred_org_id) DO NOTHING
RETURNING id;

-- name: CouponOfReferred :one
SELECT id, org_id, currency, value_minor, issued_at, expires_at FROM coupons WHERE referred_org_id = $1;

-- name: RedemptionOfDeal :one
SELECT coupon_id, amount_minor FROM coupon_redemptions WHERE deal_id = $1;

-- name: UsableCoupons :many
-- The organization's coupons in a currency still valid at @now with money
-- on them, the one expiring first first, locked against another deal's use.
SELECT c.id, b.balance::bigint AS balance
FROM coupons c
CROSS JOIN LATERAL (SELECT ledger_balance('coupon:' || c.id::text, c.currency) AS balance) b
WHERE c.org_id = @org_id AND c.currency = @currency AND c.expires_at > @now AND b.balance > 0
ORDER BY c.expires_at, c.issued_at, c.id
FOR UPDATE OF c;

-- name: InsertRedemption :exec
INSERT INTO coupon_redemptions (deal_id, coupon_id, amount_minor, redeemed_at)
VALUES (@deal_id, @coupon_id, @amount_minor, @redeemed_at);

-- name: ExpiredCoupons :many
-- Coupons past their expiry with money on them (never used, or given back
-- by a deal since), locked, at most @max_coupons.
SELECT c.id, c.currency, b.balance::bigint AS balance,
       (SELECT count(*) FROM ledger_lines x WHERE x.account = 'coupon:' || c.id::text AND x.amount < 0) AS debits
FROM coupons c
CROSS JOIN LATERAL (SELECT ledger_balance('coupon:' || c.id::text, c.currency) AS balance) b
WHERE c.expires_at <= @now AND b.balance > 0
ORDER BY c.expires_at, c.id
LIMIT @max_coupons
FOR UPDATE OF c SKIP LOCKED;

-- name: OrgCoupons :many
-- The organization's coupons, newest first, with their balance and what
-- used them.
SELECT c.id, c.currency, c.value_minor, c.issued_at, c.expires_at, c.earned_deal_id,
       b.balance::bigint AS balance,
       coalesce((SELECT array_agg(r.deal_id ORDER BY r.redeemed_at) FROM coupon_redemptions r WHERE r.coupon_id = c.id), '{}')::text[] AS used_by
FROM coupons c
CROSS JOIN LATERAL (SELECT ledger_balance('coupon:' || c.id::text, c.currency) AS balance) b
WHERE c.org_id = $1
ORDER BY c.issued_at DESC, c.id
LIMIT 200;

-- name: OrgReferrals :many
-- The organizations the organization referred, newest first, and whether
-- each has earned it its coupon.
SELECT r.referred_org_id, o.name, r.claimed_at, (c.id IS NOT NULL)::bool AS rewarded
FROM referrals r
JOIN organizations o ON o.id = r.referred_org_id
LEFT JOIN coupons c ON c.referred_org_id = r.referred_org_id
WHERE r.referrer_org_id = $1
ORDER BY r.claimed_at DESC
LIMIT 200;

-- name: NextCouponBalance :one
-- What is left on the coupon the organization's next deposit in a
-- currency would use (UsableCoupons' first), 0 for none.
SELECT coalesce((
    SELECT b.balance::bigint
    FROM coupons c
    CROSS JOIN LATERAL (SELECT ledger_balance('coupon:' || c.id::text, c.currency) AS balance) b
    WHERE c.org_id = @org_id AND c.currency = @currency AND c.expires_at > @now AND b.balance > 0
    ORDER BY c.expires_at, c.issued_at, c.id
    LIMIT 1), 0)::bigint AS balance;
