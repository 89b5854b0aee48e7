-- A dispute in mediation is assigned to one mediator (versionDeal 6): its
-- notifications are addressed to "mediator:<user ID>" and reach that
-- mediator alone; "mediation" (a dispute no mediator could be chosen for,
-- and earlier deals) still reaches every mediator.
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
JOIN users u ON u.role = 'mediator' AND n.org_id = 'mediator:' || u.id::text
WHERE n.org_id LIKE 'mediator:%' AND n.user_id IS NULL
UNION ALL
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at, u.language, u.time_zone
FROM notification_outbox n
JOIN users u ON u.id = n.user_id;

---- create above / drop below ----

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
