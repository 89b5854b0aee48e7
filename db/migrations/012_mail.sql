-- Who each notification is for, in one place (the in-app inbox and the
-- e-mail channel both read it): the users of the organization it is
-- addressed to, every mediator for the mediation desk, finance and admin
-- users for the platform.
CREATE VIEW notification_recipients AS
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at
FROM notification_outbox n
JOIN users u ON u.org_id = (CASE WHEN n.org_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN n.org_id::uuid END)
UNION ALL
SELECT n.key, u.id AS user_id, u.email, u.name, n.created_at
FROM notification_outbox n
JOIN users u ON u.role = ANY (CASE n.org_id WHEN 'mediation' THEN ARRAY['mediator']::user_role[] ELSE ARRAY['finance', 'admin']::user_role[] END)
WHERE n.org_id IN ('mediation', 'platform');

-- The e-mails sent, one row per notification and recipient, written
-- after the mail server took the message: a notification retried after
-- some of its recipients were mailed mails only the others.
CREATE TABLE mail_sent (
    key     text NOT NULL REFERENCES notification_outbox (key),
    user_id uuid NOT NULL REFERENCES users (id),
    sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, user_id)
);

---- create above / drop below ----

DROP TABLE mail_sent;
DROP VIEW notification_recipients;
