// Package identity keeps who may call the platform: organizations, their
// users and the users' API keys, and resolves a presented key to its
// caller. The HTTP layer asks it; it alone reads and writes those tables.
package identity

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/apikey"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// Errors the service answers with, for the caller to map.
var (
	// ErrNotFound: no such organization, user or key (or not the user's).
	ErrNotFound = errors.New("not found")
	// ErrEmailTaken: a user with this e-mail address exists.
	ErrEmailTaken = errors.New("a user with this email exists")
	// ErrTooManyKeys: the user has MaxLiveKeys working keys.
	ErrTooManyKeys = errors.New("too many working API keys")
)

// ReadingError is a language or time zone a user cannot read in.
type ReadingError struct {
	Field, Reason string
}

func (e *ReadingError) Error() string { return e.Field + ": " + e.Reason }

// Reading is the language and time zone a user reads notifications in;
// an empty field keeps what the user has (English and UTC for a new one).
type Reading struct {
	Language, TimeZone string
}

// check normalizes r's language ("zh-CN" is "zh") and refuses a language
// the catalogs do not have or a zone that is not an IANA name.
func (r Reading) check() (Reading, error) {
	if r.Language != "" {
		l, ok := texts.ParseLang(r.Language)
		if !ok {
			return r, &ReadingError{Field: "language", Reason: fmt.Sprintf("must be one of %v", texts.Langs)}
		}
		r.Language = string(l)
	}
	if r.TimeZone != "" {
		if _, err := texts.ParseZone(r.TimeZone); err != nil {
			return r, &ReadingError{Field: "time_zone", Reason: "must be an IANA time zone name, such as Asia/Shanghai or UTC"}
		}
	}
	return r, nil
}

// Role is what a user may do on the platform.
type Role string

// ValidRole reports whether r is one of the platform's roles (the users
// table's enum).
func ValidRole(r string) bool { return store.UserRole(r).Valid() }

// Caller is who a presented API key acts as.
type Caller struct {
	KeyID, UserID, OrgID uuid.UUID
	Role                 Role
}

// Organization is a buyer's or supplier's company, or the platform's own.
type Organization struct {
	ID   uuid.UUID
	Name string
}

// User is a person or system acting for an organization.
type User struct {
	ID, OrgID   uuid.UUID
	Email, Name string
	Role        Role
	// Language and TimeZone are how the user reads notifications.
	Language, TimeZone string
}

// Key is what anyone may know of an API key: never its secret or hash.
type Key struct {
	ID         uuid.UUID
	Prefix     string
	Label      string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
}

// Service reads and writes identities in PostgreSQL.
type Service struct {
	pool *pgxpool.Pool
}

// New is the service on pool.
func New(pool *pgxpool.Pool) *Service { return &Service{pool: pool} }

// Authenticate resolves a key's hash to its caller; a revoked, expired or
// unknown key is ErrNotFound. A key's use is recorded at most once a
// minute; a failure to record it is returned beside the caller (touchErr),
// not instead of it.
func (s *Service) Authenticate(ctx context.Context, hash [32]byte) (c Caller, touchErr error, err error) {
	q := store.New(s.pool)
	row, err := q.AuthenticateAPIKey(ctx, hash[:])
	if errors.Is(err, pgx.ErrNoRows) {
		return Caller{}, nil, ErrNotFound
	}
	if err != nil {
		return Caller{}, nil, fmt.Errorf("authenticate an API key: %w", err)
	}
	if row.Stale {
		if err := q.TouchAPIKey(ctx, row.KeyID); err != nil {
			touchErr = fmt.Errorf("record a use of API key %s: %w", row.KeyID, err)
		}
	}
	return Caller{KeyID: row.KeyID, UserID: row.UserID, OrgID: row.OrgID, Role: Role(row.Role)}, touchErr, nil
}

// CreateOrganization makes an organization.
func (s *Service) CreateOrganization(ctx context.Context, name string) (Organization, error) {
	org, err := store.New(s.pool).CreateOrganization(ctx, name)
	if err != nil {
		return Organization{}, fmt.Errorf("create organization: %w", err)
	}
	return Organization{ID: org.ID, Name: org.Name}, nil
}

// NewUser is a user to make; Tier, for a supplier, sets its organization's
// commission tier.
type NewUser struct {
	OrgID       uuid.UUID
	Email, Name string
	Role        Role
	Tier        string
	Reading     Reading
}

// CreateUser makes a user of an existing organization with key as its
// first API key, in one transaction: ErrNotFound without the
// organization, ErrEmailTaken for an address in use.
func (s *Service) CreateUser(ctx context.Context, in NewUser, key apikey.Key) (User, error) {
	reading, err := in.Reading.check()
	if err != nil {
		return User{}, err
	}
	var user store.User
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		if _, err := q.GetOrganization(ctx, in.OrgID); err != nil {
			return err
		}
		var err error
		if user, err = q.CreateUser(ctx, store.CreateUserParams{OrgID: in.OrgID, Email: in.Email, Name: in.Name, Role: store.UserRole(in.Role)}); err != nil {
			return err
		}
		if reading != (Reading{}) {
			if user, err = q.SetUserReading(ctx, store.SetUserReadingParams{ID: user.ID, Language: cmp.Or(reading.Language, user.Language), TimeZone: cmp.Or(reading.TimeZone, user.TimeZone)}); err != nil {
				return err
			}
		}
		if in.Tier != "" {
			if err := q.UpsertSupplierProfile(ctx, store.UpsertSupplierProfileParams{OrgID: in.OrgID, Categories: []string{}, Regions: []string{}, Tier: in.Tier}); err != nil {
				return err
			}
		}
		_, err = q.CreateAPIKey(ctx, store.CreateAPIKeyParams{UserID: user.ID, Prefix: key.Prefix, SecretHash: key.Hash[:], Label: "created by admin"})
		return err
	})
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return User{}, ErrNotFound
	case errors.As(err, &pgErr) && pgErr.Code == "23505":
		return User{}, ErrEmailTaken
	case err != nil:
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return userOf(user), nil
}

// User is the user with id, or ErrNotFound.
func (s *Service) User(ctx context.Context, id uuid.UUID) (User, error) {
	u, err := store.New(s.pool).GetUser(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("read user %s: %w", id, err)
	}
	return userOf(u), nil
}

// SetReading sets how user id reads notifications: a *ReadingError for a
// language or zone it cannot read in, ErrNotFound without the user.
func (s *Service) SetReading(ctx context.Context, id uuid.UUID, r Reading) (User, error) {
	r, err := r.check()
	if err != nil {
		return User{}, err
	}
	var user store.User
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		now, err := q.GetUser(ctx, id)
		if err != nil {
			return err
		}
		user, err = q.SetUserReading(ctx, store.SetUserReadingParams{ID: id, Language: cmp.Or(r.Language, now.Language), TimeZone: cmp.Or(r.TimeZone, now.TimeZone)})
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("set how user %s reads: %w", id, err)
	}
	return userOf(user), nil
}

func userOf(u store.User) User {
	return User{ID: u.ID, OrgID: u.OrgID, Email: u.Email, Name: u.Name, Role: Role(u.Role), Language: u.Language, TimeZone: u.TimeZone}
}

// Keys are a user's latest max keys, newest first.
func (s *Service) Keys(ctx context.Context, userID uuid.UUID, max int) ([]Key, error) {
	rows, err := store.New(s.pool).ListAPIKeys(ctx, store.ListAPIKeysParams{UserID: userID, MaxKeys: int32(max)})
	if err != nil {
		return nil, fmt.Errorf("list the API keys of %s: %w", userID, err)
	}
	out := make([]Key, 0, len(rows))
	for _, r := range rows {
		out = append(out, Key(r))
	}
	return out, nil
}

// NewKey is a key to make for a user: its label and optional expiry.
type NewKey struct {
	Label     string
	ExpiresAt *time.Time
}

// CreateKey makes key for the user, unless it has maxLive working keys
// already (ErrTooManyKeys).
func (s *Service) CreateKey(ctx context.Context, userID uuid.UUID, in NewKey, key apikey.Key, maxLive int) (Key, error) {
	q := store.New(s.pool)
	live, err := q.CountLiveAPIKeys(ctx, userID)
	if err != nil {
		return Key{}, fmt.Errorf("count the API keys of %s: %w", userID, err)
	}
	if live >= int64(maxLive) {
		return Key{}, ErrTooManyKeys
	}
	made, err := q.CreateAPIKey(ctx, store.CreateAPIKeyParams{UserID: userID, Prefix: key.Prefix, SecretHash: key.Hash[:], Label: in.Label, ExpiresAt: in.ExpiresAt})
	if err != nil {
		return Key{}, fmt.Errorf("create an API key for %s: %w", userID, err)
	}
	row, err := q.GetAPIKey(ctx, store.GetAPIKeyParams{ID: made.ID, UserID: userID})
	if err != nil {
		return Key{}, fmt.Errorf("read the new API key of %s: %w", userID, err)
	}
	return Key(row), nil
}

// RevokeKey stops one of the user's keys at once; ErrNotFound if it has
// no such key.
func (s *Service) RevokeKey(ctx context.Context, userID, id uuid.UUID) (Key, error) {
	row, err := store.New(s.pool).RevokeAPIKey(ctx, store.RevokeAPIKeyParams{ID: id, UserID: userID})
	if errors.Is(err, pgx.ErrNoRows) {
		return Key{}, ErrNotFound
	}
	if err != nil {
		return Key{}, fmt.Errorf("revoke API key %s: %w", id, err)
	}
	return Key(row), nil
}

// RotateKey retires one of the user's working keys (it works for grace
// more, or until it was to expire if sooner) and makes key, with its
// label, in its place; ErrNotFound if the user has no such working key.
func (s *Service) RotateKey(ctx context.Context, userID, id uuid.UUID, grace time.Duration, key apikey.Key) (old, made Key, err error) {
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := store.New(tx)
		retired, err := q.RetireAPIKey(ctx, store.RetireAPIKeyParams{ID: id, UserID: userID, GraceSecs: grace.Seconds()})
		if err != nil {
			return err
		}
		old = Key(retired)
		created, err := q.CreateAPIKey(ctx, store.CreateAPIKeyParams{UserID: userID, Prefix: key.Prefix, SecretHash: key.Hash[:], Label: old.Label})
		if err != nil {
			return err
		}
		row, err := q.GetAPIKey(ctx, store.GetAPIKeyParams{ID: created.ID, UserID: userID})
		made = Key(row)
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Key{}, Key{}, ErrNotFound
	}
	if err != nil {
		return Key{}, Key{}, fmt.Errorf("rotate API key %s: %w", id, err)
	}
	return old, made, nil
}

// OrgSummary is an organization on the admin's list.
type OrgSummary struct {
	Organization
	CreatedAt time.Time
	Users     int64
}

// MaxOrganizations bounds the admin's list of organizations.
const MaxOrganizations = 500

// Organizations lists the organizations by name, at most
// MaxOrganizations.
func (s *Service) Organizations(ctx context.Context) ([]OrgSummary, error) {
	rows, err := store.New(s.pool).ListOrganizations(ctx, MaxOrganizations)
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", err)
	}
	out := make([]OrgSummary, len(rows))
	for i, r := range rows {
		out[i] = OrgSummary{Organization: Organization{ID: r.ID, Name: r.Name}, CreatedAt: r.CreatedAt, Users: r.Users}
	}
	return out, nil
}

// Member is a user on its organization's list: whether it has a
// password yet (an invitation not taken up: not).
type Member struct {
	ID          uuid.UUID
	Email, Name string
	Role        Role
	CreatedAt   time.Time
	HasPassword bool
}

// Organization is the organization id with its users, or ErrNotFound.
func (s *Service) Organization(ctx context.Context, id uuid.UUID) (Organization, []Member, error) {
	q := store.New(s.pool)
	org, err := q.GetOrganization(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Organization{}, nil, ErrNotFound
	}
	if err != nil {
		return Organization{}, nil, fmt.Errorf("read organization %s: %w", id, err)
	}
	rows, err := q.ListOrgUsers(ctx, id)
	if err != nil {
		return Organization{}, nil, fmt.Errorf("list the users of %s: %w", id, err)
	}
	out := make([]Member, len(rows))
	for i, r := range rows {
		out[i] = Member{ID: r.ID, Email: r.Email, Name: r.Name, Role: Role(r.Role), CreatedAt: r.CreatedAt, HasPassword: r.HasPassword}
	}
	return Organization{ID: org.ID, Name: org.Name}, out, nil
}

// OrgNames are the names of the organizations ids (as strings) that
// exist; others are left out.
func (s *Service) OrgNames(ctx context.Context, ids ...string) (map[string]string, error) {
	q := store.New(s.pool)
	out := map[string]string{}
	for _, id := range ids {
		u, err := uuid.Parse(id)
		if err != nil {
			continue
		}
		org, err := q.GetOrganization(ctx, u)
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read organization %s: %w", id, err)
		}
		out[id] = org.Name
	}
	return out, nil
}
