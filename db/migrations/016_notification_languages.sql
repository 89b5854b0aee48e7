-- Each user reads notifications in its own language and time zone
-- (internal/texts words them when they are read or mailed): English or
-- Simplified Chinese, and an IANA zone name (the API checks it against
-- the zone database; the CHECK only bounds what a row may hold).
ALTER TABLE users
    ADD COLUMN language  text NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'zh')),
    ADD COLUMN time_zone text NOT NULL DEFAULT 'UTC' CHECK (time_zone ~ '^[A-Za-z][A-Za-z0-9_+/-]{0,63}$');

-- A notification's facts (internal/notice.Facts), which its kind's text
-- is worded from for each reader. NULL in notifications written before
-- they carried facts: those read as their stored (English) text.
ALTER TABLE notification_outbox ADD COLUMN facts jsonb;

-- The recipients, with how each reads.
CREATE OR REPLACE VIEW notification_recipients AS
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at, u.language, u.time_zone
FROM notification_outbox n
JOIN users u ON u.org_id = (CASE WHEN n.org_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN n.org_id::uuid END)
UNION ALL
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at, u.language, u.time_zone
FROM notification_outbox n
JOIN users u ON u.role = ANY (CASE n.org_id WHEN 'mediation' THEN ARRAY['mediator']::user_role[] ELSE ARRAY['finance', 'admin']::user_role[] END)
WHERE n.org_id IN ('mediation', 'platform');

---- create above / drop below ----

DROP VIEW notification_recipients;
CREATE VIEW notification_recipients AS
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at
FROM notification_outbox n
JOIN users u ON u.org_id = (CASE WHEN n.org_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN n.org_id::uuid END)
UNION ALL
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at
FROM notification_outbox n
JOIN users u ON u.role = ANY (CASE n.org_id WHEN 'mediation' THEN ARRAY['mediator']::user_role[] ELSE ARRAY['finance', 'admin']::user_role[] END)
WHERE n.org_id IN ('mediation', 'platform');
ALTER TABLE notification_outbox DROP COLUMN facts;
ALTER TABLE users DROP COLUMN time_zone, DROP COLUMN language;
