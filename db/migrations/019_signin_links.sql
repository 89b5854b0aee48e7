-- One-time sign-in links a person gets by mail (internal/signin): an
-- invitation to set the first password of a user an admin created, or a
-- password reset someone asked for. Only the SHA-256 of the link's token
-- is kept; a link works once, before it expires, and a newer link of the
-- same purpose ends the older ones.
CREATE TABLE signin_links (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    uuid NOT NULL REFERENCES users (id),
    purpose    text NOT NULL CHECK (purpose IN ('invitation', 'reset')),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX signin_links_user_idx ON signin_links (user_id, purpose);

-- A notification for one user alone (a sign-in link's mail): its
-- recipients are that user, not its organization's users.
ALTER TABLE notification_outbox ADD COLUMN user_id uuid REFERENCES users (id);

CREATE OR REPLACE VIEW notification_recipients AS
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at, u.language, u.time_zone
FROM notification_outbox n
JOIN users u ON u.org_id = (CASE WHEN n.org_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN n.org_id::uuid END)
WHERE n.user_id IS NULL
UNION ALL
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at, u.language, u.time_zone
FROM notification_outbox n
JOIN users u ON u.role = ANY (CASE n.org_id WHEN 'mediation' THEN ARRAY['mediator']::user_role[] ELSE ARRAY['finance', 'admin']::user_role[] END)
WHERE n.org_id IN ('mediation', 'platform') AND n.user_id IS NULL
UNION ALL
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at, u.language, u.time_zone
FROM notification_outbox n
JOIN users u ON u.id = n.user_id;

---- create above / drop below ----

CREATE OR REPLACE VIEW notification_recipients AS
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at, u.language, u.time_zone
FROM notification_outbox n
JOIN users u ON u.org_id = (CASE WHEN n.org_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN n.org_id::uuid END)
UNION ALL
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at, u.language, u.time_zone
FROM notification_outbox n
JOIN users u ON u.role = ANY (CASE n.org_id WHEN 'mediation' THEN ARRAY['mediator']::user_role[] ELSE ARRAY['finance', 'admin']::user_role[] END)
WHERE n.org_id IN ('mediation', 'platform');
ALTER TABLE notification_outbox DROP COLUMN user_id;
DROP TABLE signin_links;
