-- Each user's in-app inbox: the notification dispatcher puts every
-- notification into the inbox of each user it is for (the users of the
-- organization it is addressed to; every mediator for the mediation desk;
-- finance and admin users for the platform), in the transaction that
-- marks it delivered, once per user however often it is tried. A user
-- reads its own inbox, unread first, and marks entries read.
CREATE TABLE inbox (
    id         uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    user_id    uuid NOT NULL REFERENCES users (id),
    key        text NOT NULL REFERENCES notification_outbox (key),
    -- created_at is the notification's, so an inbox reads in the order
    -- things happened.
    created_at timestamptz NOT NULL,
    read_at    timestamptz,
    PRIMARY KEY (user_id, key)
);

CREATE INDEX inbox_unread_idx ON inbox (user_id, created_at DESC, key DESC) WHERE read_at IS NULL;
CREATE INDEX inbox_read_idx ON inbox (user_id, created_at DESC, key DESC) WHERE read_at IS NOT NULL;

---- create above / drop below ----

DROP TABLE inbox;
