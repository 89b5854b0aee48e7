-- name: UserForSignIn :one
SELECT id, password_hash, failed_signins, locked_until FROM users WHERE lower(email) = lower(@email);

-- name: RecordSignInFailure :one
-- Counts a failed sign-in; the one that reaches @max_failures locks the
-- user until @lock_until and starts the count again.
UPDATE users SET
    failed_signins = CASE WHEN failed_signins + 1 >= @max_failures::int THEN 0 ELSE failed_signins + 1 END,
    locked_until = CASE WHEN failed_signins + 1 >= @max_failures::int THEN @lock_until::timestamptz ELSE locked_until END
WHERE id = @id
RETURNING locked_until;

-- name: ClearSignInFailures :exec
UPDATE users SET failed_signins = 0, locked_until = NULL WHERE id = @id AND (failed_signins <> 0 OR locked_until IS NOT NULL);

-- name: SetPasswordHash :execrows
UPDATE users SET password_hash = @password_hash WHERE id = @id;

-- name: CreateConsoleSession :exec
INSERT INTO console_sessions (token_hash, user_id, csrf, created_at, last_seen_at, expires_at)
VALUES (@token_hash, @user_id, @csrf, @now, @now, @expires_at);

-- name: ConsoleSession :one
-- The live session of a token, with its user.
SELECT s.user_id, s.csrf, s.last_seen_at, u.org_id, u.role, u.name, u.email, u.language, u.time_zone
FROM console_sessions s JOIN users u ON u.id = s.user_id
WHERE s.token_hash = @token_hash AND s.expires_at > @now AND s.last_seen_at > @idle_since;

-- name: TouchConsoleSession :exec
UPDATE console_sessions SET last_seen_at = @now WHERE token_hash = @token_hash;

-- name: DeleteConsoleSession :exec
DELETE FROM console_sessions WHERE token_hash = @token_hash;

-- name: DeleteUserConsoleSessions :execrows
DELETE FROM console_sessions WHERE user_id = @user_id;

-- name: EndSigninLinks :exec
-- A newer link of a purpose ends the user's older ones.
UPDATE signin_links SET used_at = @at WHERE user_id = @user_id AND purpose = @purpose AND used_at IS NULL;

-- name: InsertSigninLink :exec
INSERT INTO signin_links (token_hash, user_id, purpose, created_at, expires_at)
VALUES (@token_hash, @user_id, @purpose, @created_at, @expires_at);

-- name: UseSigninLink :one
-- Takes the link once: unused, unexpired, of the purpose.
UPDATE signin_links SET used_at = @at
WHERE token_hash = @token_hash AND purpose = @purpose AND used_at IS NULL AND expires_at > @at
RETURNING user_id;

-- name: SigninLinkUser :one
-- The user a live link is for, to greet them on its page.
SELECT u.id, u.name, u.email FROM signin_links l JOIN users u ON u.id = l.user_id
WHERE l.token_hash = @token_hash AND l.purpose = @purpose AND l.used_at IS NULL AND l.expires_at > @at;

-- name: QueueUserNotification :exec
-- A notification for one user alone (a sign-in link's mail).
INSERT INTO notification_outbox (key, deal_id, org_id, user_id, kind, text, facts)
VALUES (@key, '', @org_id, @user_id, @kind, @text, @facts);

-- name: RecentSigninLinks :one
-- The user's links of a purpose made since @since (a reset is mailed at
-- most once a minute).
SELECT count(*) FROM signin_links WHERE user_id = @user_id AND purpose = @purpose AND created_at > @since;

-- name: ForgetNotificationFacts :exec
-- A sign-in link's mail, once mailed, keeps no link.
UPDATE notification_outbox SET facts = NULL WHERE key = @key;
