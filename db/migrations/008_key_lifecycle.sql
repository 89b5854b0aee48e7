-- API keys may expire: a key made with an expiry, or the old key of a
-- rotation (it keeps working for a grace period, then stops). An expired or
-- revoked key authenticates nothing.
--
-- Kept idempotent responses that carried a secret (a new user's API key, a
-- payment's client secret) were stored whole before now: they are dropped,
-- so no secret stays replayable. From now on such responses are kept
-- without their secret, and kept responses older than the retention are
-- purged on a schedule.

ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;

DELETE FROM idempotency_keys
WHERE status IS NOT NULL
  AND (path LIKE '/v1/organizations/%/users' OR path LIKE '/v1/deals/%/payments/%');

---- create above / drop below ----

ALTER TABLE api_keys DROP COLUMN expires_at;
