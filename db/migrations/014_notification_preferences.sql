-- Each user's choice of channels per notification kind: a row turns a
-- channel off (or on again) for one kind; no row means on. Kinds about
-- money and legal steps cannot be turned off (the API refuses), so no row
-- ever mutes them.
CREATE TABLE notification_preferences (
    user_id    uuid NOT NULL REFERENCES users (id),
    kind       text NOT NULL CHECK (kind ~ '^[a-z_]{1,64}$'),
    channel    text NOT NULL CHECK (channel IN ('inbox', 'email')),
    enabled    boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kind, channel)
);

---- create above / drop below ----

DROP TABLE notification_preferences;
