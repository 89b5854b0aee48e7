-- Reactivation: buyers with no sign-in and no use of an API key for 30
-- days get, at most once in 30 days, a message with what changed for
-- them, through the outbox. Each message is kept with its link's ID, so
-- its click (the console link) shows in the funnel's return rate.
CREATE TABLE reactivation_messages (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    uuid NOT NULL REFERENCES users (id),
    sent_at    timestamptz NOT NULL,
    -- What the user had missed since it was last seen.
    quiet_since timestamptz NOT NULL,
    drops      integer NOT NULL DEFAULT 0,
    suppliers  integer NOT NULL DEFAULT 0,
    clicked_at timestamptz
);
CREATE INDEX reactivation_messages_user_idx ON reactivation_messages (user_id, sent_at DESC);
CREATE INDEX reactivation_messages_sent_idx ON reactivation_messages (sent_at);

---- create above / drop below ----

DROP TABLE reactivation_messages;
