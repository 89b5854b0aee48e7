package signin

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// One-time links, mailed through the notifications outbox: an invitation
// to set the first password of a user an admin made, a reset of a
// forgotten one.

// Link purposes, and the notification kinds that mail them.
const (
	Invitation = "invitation"
	Reset      = "reset"

	KindInvitation = notice.KindInvitation
	KindReset      = notice.KindPasswordReset
)

// How long a link works, and how often a reset may be mailed to a user.
const (
	InvitationFor = 7 * 24 * time.Hour
	ResetFor      = time.Hour
	ResetEvery    = time.Minute
)

// ErrBadLink is a link that is unknown, used, ended by a newer one, or
// expired.
var ErrBadLink = errors.New("this link does not work any more: ask for a new one")

// LinkPath is the console page a link opens, its token in the query.
const LinkPath = "/app/link"

// SendLink makes a link of purpose for user and queues its mail (kind
// KindInvitation or KindReset, the link in its facts) through the outbox,
// in one transaction; a newer link of a purpose ends the user's older
// ones. base is the platform's public address (config PUBLIC_URL).
func (s *Service) SendLink(ctx context.Context, user uuid.UUID, purpose, base string) error {
	ttl, kind := InvitationFor, KindInvitation
	if purpose == Reset {
		ttl, kind = ResetFor, KindReset
	} else if purpose != Invitation {
		return fmt.Errorf("no link purpose %q", purpose)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		u, err := q.GetUser(ctx, user)
		if err != nil {
			return fmt.Errorf("the user %s of a %s link: %w", user, purpose, err)
		}
		return s.sendLink(ctx, q, u.ID, u.OrgID, purpose, kind, ttl, base)
	})
}

func (s *Service) sendLink(ctx context.Context, q *store.Queries, user, org uuid.UUID, purpose, kind string, ttl time.Duration, base string) error {
	now := s.Now().UTC()
	token := NewToken()
	hash := sha256.Sum256([]byte(token))
	if err := q.EndSigninLinks(ctx, store.EndSigninLinksParams{At: &now, UserID: user, Purpose: purpose}); err != nil {
		return fmt.Errorf("end the older %s links: %w", purpose, err)
	}
	if err := q.InsertSigninLink(ctx, store.InsertSigninLinkParams{
		TokenHash: hash[:], UserID: user, Purpose: purpose, CreatedAt: now, ExpiresAt: now.Add(ttl),
	}); err != nil {
		return fmt.Errorf("keep a %s link: %w", purpose, err)
	}
	link := strings.TrimRight(base, "/") + LinkPath + "?" + url.Values{"purpose": {purpose}, "token": {token}}.Encode()
	facts := notice.Facts{Ref: link, Within: ttl}
	raw, err := notice.Encode(&facts)
	if err != nil {
		return err
	}
	// The outbox's own text (logs, webhooks) is the title alone: the link
	// is in the facts, which only the mail words.
	if err := q.QueueUserNotification(ctx, store.QueueUserNotificationParams{
		Key: "signin/" + purpose + "/" + hex.EncodeToString(hash[:8]), OrgID: org.String(), UserID: pgtype.UUID{Bytes: user, Valid: true}, Kind: kind,
		Text: texts.Title(texts.Default, kind), Facts: raw,
	}); err != nil {
		return fmt.Errorf("queue the %s mail: %w", purpose, err)
	}
	return nil
}

// SendReset mails a password reset link to the user with email, if there
// is one, at most once every ResetEvery; an unknown address does nothing
// and answers the same, so the answer tells nobody who has an account.
func (s *Service) SendReset(ctx context.Context, email, base string) error {
	email = strings.TrimSpace(email)
	if email == "" || len(email) > 254 {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		u, err := q.GetUserByEmail(ctx, email)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("look up %q for a reset: %w", email, err)
		}
		since := s.Now().UTC().Add(-ResetEvery)
		recent, err := q.RecentSigninLinks(ctx, store.RecentSigninLinksParams{UserID: u.ID, Purpose: Reset, Since: since})
		if err != nil {
			return fmt.Errorf("recent resets of %s: %w", u.ID, err)
		}
		if recent > 0 {
			return nil
		}
		return s.sendLink(ctx, q, u.ID, u.OrgID, Reset, KindReset, ResetFor, base)
	})
}

// LinkUser is the name and e-mail of the user a live link of purpose is
// for, or ErrBadLink.
func (s *Service) LinkUser(ctx context.Context, token, purpose string) (name, email string, err error) {
	hash, ok := linkHash(token)
	if !ok {
		return "", "", ErrBadLink
	}
	now := s.Now().UTC()
	u, err := store.New(s.pool).SigninLinkUser(ctx, store.SigninLinkUserParams{TokenHash: hash, Purpose: purpose, At: now})
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", ErrBadLink
	}
	if err != nil {
		return "", "", fmt.Errorf("read a %s link: %w", purpose, err)
	}
	return u.Name, u.Email, nil
}

// UseLink sets a password through a live link of purpose, which then
// works no more: the user's sessions end and its lockout lifts. A
// password the rules refuse leaves the link working.
func (s *Service) UseLink(ctx context.Context, token, purpose, password string) (uuid.UUID, error) {
	if err := checkPassword(password); err != nil {
		return uuid.Nil, err
	}
	hash, ok := linkHash(token)
	if !ok {
		return uuid.Nil, ErrBadLink
	}
	pw, err := Hash(password)
	if err != nil {
		return uuid.Nil, err
	}
	var user uuid.UUID
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		now := s.Now().UTC()
		user, err = q.UseSigninLink(ctx, store.UseSigninLinkParams{At: &now, TokenHash: hash, Purpose: purpose})
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrBadLink
		}
		if err != nil {
			return fmt.Errorf("use a %s link: %w", purpose, err)
		}
		if _, err := q.SetPasswordHash(ctx, store.SetPasswordHashParams{ID: user, PasswordHash: &pw}); err != nil {
			return fmt.Errorf("set the password of %s: %w", user, err)
		}
		if err := q.ClearSignInFailures(ctx, user); err != nil {
			return fmt.Errorf("lift the lockout of %s: %w", user, err)
		}
		if _, err := q.DeleteUserConsoleSessions(ctx, user); err != nil {
			return fmt.Errorf("end the sessions of %s: %w", user, err)
		}
		return nil
	})
	return user, err
}

// linkHash is the kept hash of a link's token, if it looks like one.
func linkHash(token string) ([]byte, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) < 16 || len(token) > 128 {
		return nil, false
	}
	h := sha256.Sum256([]byte(token))
	return h[:], true
}
