-- name: ListPreferences :many
SELECT kind, channel, enabled FROM notification_preferences WHERE user_id = @user_id ORDER BY kind, channel;

-- name: SetPreference :exec
INSERT INTO notification_preferences (user_id, kind, channel, enabled, updated_at)
VALUES (@user_id, @kind, @channel, @enabled, now())
ON CONFLICT (user_id, kind, channel) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now();
