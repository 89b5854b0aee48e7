-- Who may act on the platform: organizations, their users with one role
-- each, and the API keys users authenticate with. A key's secret is stored
-- only as its SHA-256: keys are long random strings, so a fast hash is safe,
-- and the plain key is shown once, when it is made.

CREATE TYPE user_role AS ENUM ('buyer', 'supplier', 'mediator', 'finance', 'admin');

CREATE TABLE organizations (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       text NOT NULL CHECK (btrim(name) <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES organizations (id),
    email      text NOT NULL CHECK (email LIKE '%_@_%'),
    name       text NOT NULL,
    role       user_role NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_org_id_idx ON users (org_id);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id),
    -- The key's public prefix, safe to show in lists and logs.
    prefix       text NOT NULL UNIQUE,
    secret_hash  bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    label        text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id);

---- create above / drop below ----

DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE organizations;
DROP TYPE user_role;
