-- The notification outbox: a deal's notifications are written here in the
-- same transaction as the projection that goes with them (by the API for
-- an action, by the bookkeeping activity otherwise), once per key however
-- often they are written, and a dispatcher delivers them. A notification
-- is never lost with a crash between the deal's change and its delivery,
-- and never written twice.
CREATE TABLE notification_outbox (
    key             text PRIMARY KEY,
    deal_id         text NOT NULL,
    org_id          text NOT NULL,
    kind            text NOT NULL,
    text            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- next_attempt_at is when the dispatcher may try it (again); NULL once
    -- delivered.
    next_attempt_at timestamptz DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text NOT NULL DEFAULT '',
    delivered_at    timestamptz
);

CREATE INDEX notification_outbox_due_idx ON notification_outbox (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX notification_outbox_deal_idx ON notification_outbox (deal_id, created_at);

---- create above / drop below ----

DROP TABLE notification_outbox;
