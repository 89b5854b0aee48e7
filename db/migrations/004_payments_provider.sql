-- Stripe: each supplier's connected account receives its transfers, and each
-- webhook event is handled once, whatever Stripe redelivers.

ALTER TABLE supplier_profiles ADD COLUMN stripe_account_id text
    CHECK (stripe_account_id IS NULL OR stripe_account_id ~ '^acct_[A-Za-z0-9]+$');

CREATE TABLE stripe_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    deal_id     text,
    received_at timestamptz NOT NULL DEFAULT now()
);

---- create above / drop below ----

DROP TABLE stripe_events;
ALTER TABLE supplier_profiles DROP COLUMN stripe_account_id;
