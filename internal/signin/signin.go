// Package signin is how people sign in to the console: an e-mail address
// and a password, kept as an argon2id hash; a lockout after repeated
// failures; sessions in PostgreSQL, each a random token the browser holds
// in a cookie (the database keeps only its SHA-256) with the CSRF token
// its forms carry; sign-out of one browser or of every one. Machines keep
// using API keys (internal/identity).
package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/argon2"

	"github.com/tradeloop/tradeloop/db/store"
)

// The rules of signing in.
const (
	// MaxFailures wrong passwords in a row lock the user out for LockFor.
	MaxFailures = 5
	LockFor     = 15 * time.Minute
	// A session ends after SessionIdle without a request, and SessionMax
	// after it began whatever happens.
	SessionIdle = 12 * time.Hour
	SessionMax  = 7 * 24 * time.Hour
	// Passwords are MinPassword to MaxPassword characters.
	MinPassword = 10
	MaxPassword = 256
)

// Errors the service answers with.
var (
	// ErrBadCredentials: no such user, no password set, or a wrong one
	// (the caller cannot tell which).
	ErrBadCredentials = errors.New("wrong e-mail address or password")
	// ErrNoSession: the token is unknown, idle too long or expired.
	ErrNoSession = errors.New("not signed in")
)

// LockedError is a sign-in refused because of earlier failures.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return fmt.Sprintf("too many failed sign-ins: try again after %s", e.Until.UTC().Format(time.RFC3339))
}

// PasswordError is a password the rules refuse.
type PasswordError struct{ Reason string }

func (e *PasswordError) Error() string { return "password " + e.Reason }

// Session is a signed-in browser's: its token (for the cookie, shown only
// here) and the CSRF token its forms carry.
type Session struct {
	Token, CSRF string
	UserID      uuid.UUID
}

// Who is the user a session acts as.
type Who struct {
	UserID, OrgID      uuid.UUID
	Role               string
	Name, Email        string
	Language, TimeZone string
	// CSRF is the token the session's forms must carry.
	CSRF string
	// TokenHash identifies the session (for sign-out).
	TokenHash []byte
}

// Service signs people in and out.
type Service struct {
	pool *pgxpool.Pool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// New signs in against the database behind pool.
func New(pool *pgxpool.Pool) *Service { return &Service{pool: pool, Now: time.Now} }

// SetPassword sets user's password, held to the rules.
func (s *Service) SetPassword(ctx context.Context, user uuid.UUID, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	hash, err := Hash(password)
	if err != nil {
		return err
	}
	n, err := store.New(s.pool).SetPasswordHash(ctx, store.SetPasswordHashParams{ID: user, PasswordHash: &hash})
	if err != nil {
		return fmt.Errorf("set the password of %s: %w", user, err)
	}
	if n == 0 {
		return fmt.Errorf("set the password of %s: no such user", user)
	}
	return nil
}

func checkPassword(p string) error {
	switch n := utf8.RuneCountInString(p); {
	case !utf8.ValidString(p):
		return &PasswordError{Reason: "must be text"}
	case n < MinPassword:
		return &PasswordError{Reason: fmt.Sprintf("must be at least %d characters", MinPassword)}
	case n > MaxPassword:
		return &PasswordError{Reason: fmt.Sprintf("must be at most %d characters", MaxPassword)}
	}
	return nil
}

// SignIn checks email and password and starts a session: ErrBadCredentials
// for a wrong pair, a *LockedError while the user is locked out (even with
// the right password).
func (s *Service) SignIn(ctx context.Context, email, password string) (Session, error) {
	if len(email) > 254 || len(password) > 4*MaxPassword {
		return Session{}, ErrBadCredentials
	}
	now := s.Now()
	q := store.New(s.pool)
	u, err := q.UserForSignIn(ctx, email)
	if errors.Is(err, pgx.ErrNoRows) {
		verify(dummyHash, password) // the same time as a user's
		return Session{}, ErrBadCredentials
	}
	if err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	if u.LockedUntil != nil && u.LockedUntil.After(now) {
		return Session{}, &LockedError{Until: *u.LockedUntil}
	}
	if u.PasswordHash == nil || !verify(*u.PasswordHash, password) {
		if u.PasswordHash == nil {
			verify(dummyHash, password)
		}
		until, err := q.RecordSignInFailure(ctx, store.RecordSignInFailureParams{MaxFailures: MaxFailures, LockUntil: now.Add(LockFor), ID: u.ID})
		if err != nil {
			return Session{}, fmt.Errorf("sign in: %w", err)
		}
		if until != nil && until.After(now) {
			return Session{}, &LockedError{Until: *until}
		}
		return Session{}, ErrBadCredentials
	}
	if err := q.ClearSignInFailures(ctx, u.ID); err != nil {
		return Session{}, fmt.Errorf("sign in: %w", err)
	}
	token, csrf := NewToken(), NewToken()
	hash := sha256.Sum256([]byte(token))
	if err := q.CreateConsoleSession(ctx, store.CreateConsoleSessionParams{
		TokenHash: hash[:], UserID: u.ID, Csrf: csrf, Now: now, ExpiresAt: now.Add(SessionMax),
	}); err != nil {
		return Session{}, fmt.Errorf("start a session: %w", err)
	}
	return Session{Token: token, CSRF: csrf, UserID: u.ID}, nil
}

// touchEvery is how stale a session's last-seen time may get before a
// request writes it again (a write per request would cost every page).
const touchEvery = time.Minute

// Session is who the session of token acts as, or ErrNoSession.
func (s *Service) Session(ctx context.Context, token string) (Who, error) {
	if token == "" || len(token) > 128 {
		return Who{}, ErrNoSession
	}
	now := s.Now()
	hash := sha256.Sum256([]byte(token))
	q := store.New(s.pool)
	r, err := q.ConsoleSession(ctx, store.ConsoleSessionParams{TokenHash: hash[:], Now: now, IdleSince: now.Add(-SessionIdle)})
	if errors.Is(err, pgx.ErrNoRows) {
		return Who{}, ErrNoSession
	}
	if err != nil {
		return Who{}, fmt.Errorf("read the session: %w", err)
	}
	if now.Sub(r.LastSeenAt) > touchEvery {
		if err := q.TouchConsoleSession(ctx, store.TouchConsoleSessionParams{Now: now, TokenHash: hash[:]}); err != nil {
			return Who{}, fmt.Errorf("touch the session: %w", err)
		}
	}
	return Who{
		UserID: r.UserID, OrgID: r.OrgID, Role: string(r.Role), Name: r.Name, Email: r.Email,
		Language: r.Language, TimeZone: r.TimeZone, CSRF: r.Csrf, TokenHash: hash[:],
	}, nil
}

// CSRFOK reports whether a form's token is the session's.
func (w Who) CSRFOK(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(w.CSRF)) == 1
}

// SignOut ends the session w acts in.
func (s *Service) SignOut(ctx context.Context, w Who) error {
	if err := store.New(s.pool).DeleteConsoleSession(ctx, w.TokenHash); err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// SignOutEverywhere ends every session of user and says how many.
func (s *Service) SignOutEverywhere(ctx context.Context, user uuid.UUID) (int64, error) {
	n, err := store.New(s.pool).DeleteUserConsoleSessions(ctx, user)
	if err != nil {
		return 0, fmt.Errorf("sign out everywhere: %w", err)
	}
	return n, nil
}

// NewToken is 32 random bytes, URL-safe: a session's token and CSRF
// token, and the sign-in form's.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// argon2id parameters: OWASP's minimum for argon2id (19 MiB, 2 passes, 1
// lane), which keeps a sign-in around 20 ms on one core.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

// Hash is password's argon2id hash in the PHC string format.
func Hash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// dummyHash is checked against when there is no user's hash to check, so
// a wrong address takes as long as a wrong password.
var dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + base64.RawStdEncoding.EncodeToString(make([]byte, 32))

// verify reports whether password hashes to encoded, with the parameters
// encoded names.
func verify(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil ||
		memory == 0 || memory > 1<<20 || passes == 0 || passes > 10 || threads == 0 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, passes, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
