-- People sign in to the console (internal/signin) with their e-mail and a
-- password, kept only as an argon2id hash (NULL: no password set, so no
-- sign-in; API keys still work). Repeated failures lock the user out for a
-- while (failed_signins, locked_until). A signed-in browser holds a
-- session: the SHA-256 of its random token is kept, with the CSRF token
-- its forms carry; it ends when idle too long, at its expiry, at sign-out,
-- or when its user signs out everywhere.
ALTER TABLE users
    ADD COLUMN password_hash  text CHECK (password_hash LIKE '$argon2id$%'),
    ADD COLUMN failed_signins integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until   timestamptz;

CREATE TABLE console_sessions (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      uuid NOT NULL REFERENCES users (id),
    csrf         text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_user_idx ON console_sessions (user_id);

---- create above / drop below ----

DROP TABLE console_sessions;
ALTER TABLE users DROP COLUMN locked_until, DROP COLUMN failed_signins, DROP COLUMN password_hash;
