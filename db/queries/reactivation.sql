-- Reactivation messages to quiet buyers.

-- name: QueueReactivations :many
-- Keeps a message for each buyer user last seen (a console session, a use
-- of an API key, or its creation) before quiet_before and not messaged
-- since messaged_before, with what it missed since it was last seen: the
-- price drops it was told of and the suppliers new in the categories it
-- follows or its organization inquired in. At most max_users a run.
WITH seen AS (
    SELECT u.id AS user_id, u.org_id,
           greatest(u.created_at,
                    (SELECT max(s.last_seen_at) FROM console_sessions s WHERE s.user_id = u.id),
                    (SELECT max(k.last_used_at) FROM api_keys k WHERE k.user_id = u.id)) AS last_seen
    FROM users u
    WHERE u.role = 'buyer'
), quiet AS (
    SELECT s.* FROM seen s
    WHERE s.last_seen < @quiet_before::timestamptz
      AND NOT EXISTS (SELECT 1 FROM reactivation_messages m WHERE m.user_id = s.user_id AND m.sent_at > @messaged_before::timestamptz)
    ORDER BY s.last_seen, s.user_id
    LIMIT @max_users
)
INSERT INTO reactivation_messages (user_id, sent_at, quiet_since, drops, suppliers)
SELECT q.user_id, @now::timestamptz, q.last_seen,
       (SELECT count(*) FROM notification_outbox n
         WHERE n.user_id = q.user_id AND n.kind = 'price_drop' AND n.created_at > q.last_seen),
       (SELECT count(*) FROM category_suppliers c
         WHERE c.first_listed_at > q.last_seen
           AND (c.category IN (SELECT w.category FROM watches w WHERE w.user_id = q.user_id AND w.category IS NOT NULL)
                OR c.category IN (SELECT d.category FROM deals d WHERE d.buyer_org_id = q.org_id::text AND d.category IS NOT NULL)))
FROM quiet q
RETURNING id, user_id, (SELECT q.org_id FROM quiet q WHERE q.user_id = reactivation_messages.user_id) AS org_id, quiet_since, drops, suppliers;

-- name: DroppedSince :many
-- The products of the price drops a user was told of since a time, newest
-- first.
SELECT DISTINCT ON (n.facts->>'ref') coalesce(n.facts->>'product', '')::text AS product, n.created_at
FROM notification_outbox n
WHERE n.user_id = @user_id::uuid AND n.kind = 'price_drop' AND n.created_at > @since
ORDER BY n.facts->>'ref', n.created_at DESC
LIMIT 3;


-- name: ClickReactivation :execrows
-- The user followed its message's link (the first time counts).
UPDATE reactivation_messages SET clicked_at = coalesce(clicked_at, @at)
WHERE id = @id AND user_id = @user_id;

-- name: ReactivationFigures :one
-- The messages sent in [from, to) and those whose link was followed.
SELECT count(*) AS sent, count(clicked_at) AS clicked
FROM reactivation_messages WHERE sent_at >= @from_at AND sent_at < @to_at;
