-- An endpoint's secret can be rolled: for a day after, deliveries carry a
-- signature with the previous secret beside the new one, so a receiver
-- switches without losing any.
ALTER TABLE webhook_endpoints
    ADD COLUMN previous_secret text,
    ADD COLUMN previous_until  timestamptz;

---- create above / drop below ----

ALTER TABLE webhook_endpoints DROP COLUMN previous_until, DROP COLUMN previous_secret;
