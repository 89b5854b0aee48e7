-- name: PutInInboxes :exec
-- One entry per recipient of the notification (notification_recipients)
-- that has not turned the inbox off for its kind; a repeat adds nothing.
-- Each new entry is announced on the inbox_entries channel as
-- "<user_id> <entry id>" when the transaction commits (inbox.Hub).
WITH added AS (
    INSERT INTO inbox (user_id, key, created_at)
    SELECT r.user_id, r.key, r.created_at FROM notification_recipients r
    WHERE r.key = @key
      AND NOT EXISTS (SELECT 1 FROM notification_preferences p JOIN notification_outbox n ON n.key = r.key
                      WHERE p.user_id = r.user_id AND p.kind = n.kind AND p.channel = 'inbox' AND NOT p.enabled)
    ON CONFLICT (user_id, key) DO NOTHING
    RETURNING user_id, id
)
SELECT pg_notify('inbox_entries', user_id::text || ' ' || id::text) FROM added;

-- name: InboxEntry :one
SELECT i.id, n.deal_id, n.kind, n.text, n.facts, i.created_at, i.read_at, i.key, u.language, u.time_zone
FROM inbox i JOIN notification_outbox n ON n.key = i.key JOIN users u ON u.id = i.user_id
WHERE i.user_id = @user_id AND i.id = @id;

-- name: InboxUnread :many
-- The user's unread entries, newest first, after the cursor's entry. It
-- and InboxRead differ in their read_at condition only: each matches one
-- of the partial indexes, which a read_at condition given as a parameter
-- would not.
SELECT i.id, n.deal_id, n.kind, n.text, n.facts, i.created_at, i.read_at, i.key, u.language, u.time_zone
FROM inbox i JOIN notification_outbox n ON n.key = i.key JOIN users u ON u.id = i.user_id
WHERE i.user_id = @user_id AND i.read_at IS NULL
  AND (NOT @after::bool OR (i.created_at, i.key) < (@after_at::timestamptz, @after_key::text))
ORDER BY i.created_at DESC, i.key DESC
LIMIT @max_count;

-- name: InboxRead :many
-- The user's read entries, newest first, after the cursor's entry.
SELECT i.id, n.deal_id, n.kind, n.text, n.facts, i.created_at, i.read_at, i.key, u.language, u.time_zone
FROM inbox i JOIN notification_outbox n ON n.key = i.key JOIN users u ON u.id = i.user_id
WHERE i.user_id = @user_id AND i.read_at IS NOT NULL
  AND (NOT @after::bool OR (i.created_at, i.key) < (@after_at::timestamptz, @after_key::text))
ORDER BY i.created_at DESC, i.key DESC
LIMIT @max_count;

-- name: InboxUnreadCount :one
SELECT count(*) FROM inbox WHERE user_id = @user_id AND read_at IS NULL;

-- name: MarkInboxRead :one
-- Marks one of the user's entries read (kept at its first reading) and
-- says whether the user has it.
UPDATE inbox SET read_at = coalesce(read_at, @at::timestamptz)
WHERE user_id = @user_id AND id = @id
RETURNING id, read_at;

-- name: MarkInboxAllRead :execrows
-- Marks read the user's unread entries of notifications made by @at.
UPDATE inbox SET read_at = @at::timestamptz
WHERE user_id = @user_id AND read_at IS NULL AND created_at <= @at::timestamptz;

-- name: MailRecipients :many
-- The recipients of a notification not mailed yet that have not turned
-- e-mail off for its kind.
SELECT r.user_id, r.email, r.name, r.language, r.time_zone FROM notification_recipients r
WHERE r.key = @key
  AND NOT EXISTS (SELECT 1 FROM mail_sent m WHERE m.key = r.key AND m.user_id = r.user_id)
  AND NOT EXISTS (SELECT 1 FROM notification_preferences p JOIN notification_outbox n ON n.key = r.key
                  WHERE p.user_id = r.user_id AND p.kind = n.kind AND p.channel = 'email' AND NOT p.enabled)
ORDER BY r.email;

-- name: RecordMailSent :exec
INSERT INTO mail_sent (key, user_id) VALUES (@key, @user_id) ON CONFLICT DO NOTHING;
