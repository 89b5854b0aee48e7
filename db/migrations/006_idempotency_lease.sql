-- A request holds its Idempotency-Key under a lease: if the API process
-- dies before the response is kept, a retry of the same request takes the
-- key over once the lease has run out, instead of being told "in progress"
-- for ever. claim names the holder, so a slow original cannot overwrite
-- what the request that took over has kept.

ALTER TABLE idempotency_keys
    ADD COLUMN claim        uuid,
    ADD COLUMN locked_until timestamptz NOT NULL DEFAULT now();

---- create above / drop below ----

ALTER TABLE idempotency_keys DROP COLUMN claim, DROP COLUMN locked_until;
