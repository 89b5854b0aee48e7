package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/apikey"
	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/identity"
	"github.com/tradeloop/tradeloop/workflows"
)

// A user manages its own API keys (/v1/users/me/keys, or its own ID); an
// admin manages any user's. Anyone else's keys do not exist for the caller:
// 404, never 403, so a key's ID reveals nothing.

// DefaultKeyRotationGrace is how long a rotated key keeps working beside
// its replacement, so every client can move to the new key.
const DefaultKeyRotationGrace = 24 * time.Hour

// MaxKeyLabel bounds a key's label, in characters.
const MaxKeyLabel = 100

// MaxLiveKeys is how many keys that still work a user may make; a key in
// its rotation grace counts, a rotation itself is not refused. MaxListedKeys
// is how many of a user's keys, newest first, a list shows.
const (
	MaxLiveKeys   = 20
	MaxListedKeys = 100
)

// CreateKeyRequest makes a key; both fields are optional.
type CreateKeyRequest struct {
	Label string `json:"label"`
	// ExpiresAt, if set, is when the key stops working; it must be in the
	// future.
	ExpiresAt *time.Time `json:"expires_at"`
}

// Validate holds the label to the bounds of a name.
func (r CreateKeyRequest) Validate() error { return bounds.Line("label", r.Label, MaxKeyLabel) }

// KeyView is what anyone may see of a key: never its secret or hash.
type KeyView struct {
	ID         uuid.UUID  `json:"id"`
	Prefix     string     `json:"prefix"`
	Label      string     `json:"label"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

func keyView(r identity.Key, role identity.Role) KeyView {
	return KeyView{ID: r.ID, Prefix: r.Prefix, Label: r.Label, Role: string(role), CreatedAt: r.CreatedAt,
		LastUsedAt: r.LastUsedAt, ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt}
}

var errNoKey = apiErr(http.StatusNotFound, "key_not_found", "no such API key")

// keyOwner is the user whose keys the request is about, with its role.
func (s *Server) keyOwner(c echo.Context) (identity.User, error) {
	p := principal(c)
	id := p.UserID
	if v := c.Param("user"); v != "me" {
		var err error
		if id, err = uuid.Parse(v); err != nil || (id != p.UserID && p.Role != workflows.RoleAdmin) {
			return identity.User{}, apiErr(http.StatusNotFound, "user_not_found", "no such user")
		}
	}
	u, err := s.identity.User(c.Request().Context(), id)
	if errors.Is(err, identity.ErrNotFound) {
		return identity.User{}, apiErr(http.StatusNotFound, "user_not_found", "no such user")
	}
	return u, err
}

// keyID is the :key path parameter; a malformed one names no key.
func keyID(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("key"))
	if err != nil {
		return uuid.UUID{}, errNoKey
	}
	return id, nil
}

func (s *Server) listKeys(c echo.Context) error {
	u, err := s.keyOwner(c)
	if err != nil {
		return err
	}
	rows, err := s.identity.Keys(c.Request().Context(), u.ID, MaxListedKeys)
	if err != nil {
		return err
	}
	items := make([]KeyView, 0, len(rows))
	for _, r := range rows {
		items = append(items, keyView(r, u.Role))
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// createKey makes a key for the user; its secret is in this response only.
func (s *Server) createKey(c echo.Context) error {
	u, err := s.keyOwner(c)
	if err != nil {
		return err
	}
	var r CreateKeyRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	made, key, err := s.CreateKey(c.Request().Context(), u.ID, r)
	if err != nil {
		return err
	}
	return s.showOnce(c, http.StatusCreated, key, map[string]any{"key": keyView(made, u.Role)})
}

// CreateKey makes an API key for user, held to the API's rules (for the
// API and the console): its secret is in the apikey.Key returned, to be
// shown once.
func (s *Server) CreateKey(ctx context.Context, user uuid.UUID, r CreateKeyRequest) (identity.Key, apikey.Key, error) {
	if err := checkBounds(r); err != nil {
		return identity.Key{}, apikey.Key{}, err
	}
	if r.ExpiresAt != nil && !r.ExpiresAt.After(time.Now()) {
		return identity.Key{}, apikey.Key{}, invalid("expires_at", "must be in the future")
	}
	key, err := apikey.New()
	if err != nil {
		return identity.Key{}, apikey.Key{}, err
	}
	made, err := s.identity.CreateKey(ctx, user, identity.NewKey{Label: r.Label, ExpiresAt: r.ExpiresAt}, key, MaxLiveKeys)
	if errors.Is(err, identity.ErrTooManyKeys) {
		return identity.Key{}, apikey.Key{}, apiErr(http.StatusConflict, "limit_reached", "a user has at most %d working API keys: revoke one first", MaxLiveKeys)
	}
	if err != nil {
		return identity.Key{}, apikey.Key{}, err
	}
	return made, key, nil
}

// showOnce answers with body plus the key's secret, and keeps body without
// it for a repeat of the request.
func (s *Server) showOnce(c echo.Context, status int, key apikey.Key, body map[string]any) error {
	return showSecretOnce(c, status, body, "api_key", key.Plain)
}

// revokeKey stops a key at once: the next request with it is a 401.
func (s *Server) revokeKey(c echo.Context) error {
	u, err := s.keyOwner(c)
	if err != nil {
		return err
	}
	id, err := keyID(c)
	if err != nil {
		return err
	}
	row, err := s.identity.RevokeKey(c.Request().Context(), u.ID, id)
	if errors.Is(err, identity.ErrNotFound) {
		return errNoKey
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, keyView(row, u.Role))
}

// rotateKey makes a new key with the old one's label and retires the old
// one: it keeps working for the rotation grace (or until it was to expire
// anyway, if sooner), then stops.
func (s *Server) rotateKey(c echo.Context) error {
	u, err := s.keyOwner(c)
	if err != nil {
		return err
	}
	id, err := keyID(c)
	if err != nil {
		return err
	}
	if err := decode(c, &struct{}{}); err != nil {
		return err
	}
	key, err := apikey.New()
	if err != nil {
		return err
	}
	old, made, err := s.identity.RotateKey(c.Request().Context(), u.ID, id, s.keyRotationGrace, key)
	if errors.Is(err, identity.ErrNotFound) {
		return apiErr(http.StatusNotFound, "key_not_found", "no such API key, or it is revoked or expired")
	}
	if err != nil {
		return err
	}
	return s.showOnce(c, http.StatusCreated, key, map[string]any{
		"key": keyView(made, u.Role), "previous": keyView(old, u.Role),
	})
}
