package api

import (
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/apikey"
	"github.com/tradeloop/tradeloop/internal/identity"
	"github.com/tradeloop/tradeloop/workflows"
)

// Principal is the caller a request acts as.
type Principal struct {
	KeyID  uuid.UUID
	UserID uuid.UUID
	OrgID  uuid.UUID
	Role   workflows.Role
}

// Actor is the principal as the deal workflow knows parties.
func (p Principal) Actor() workflows.Actor {
	return workflows.Actor{UserID: p.UserID.String(), OrgID: p.OrgID.String(), Role: p.Role}
}

const principalKey = "principal"

func principal(c echo.Context) Principal { return c.Get(principalKey).(Principal) }

// authenticate resolves the bearer key to its user, or answers 401. Keys
// are looked up on every request, not cached, so a revoked or expired key
// is refused from the next request on.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return errUnauthorized
		}
		hash, err := apikey.Parse(strings.TrimSpace(token))
		if err != nil {
			return errUnauthorized
		}
		// A failure to record the key's use (at most once a minute per key)
		// must not fail the request.
		caller, touchErr, err := s.identity.Authenticate(c.Request().Context(), hash)
		if errors.Is(err, identity.ErrNotFound) {
			return errUnauthorized
		}
		if err != nil {
			return err
		}
		if touchErr != nil {
			s.logger.WarnContext(c.Request().Context(), "record API key use", "key_id", caller.KeyID, "error", touchErr)
		}
		c.Set(principalKey, Principal{KeyID: caller.KeyID, UserID: caller.UserID, OrgID: caller.OrgID, Role: workflows.Role(caller.Role)})
		return next(c)
	}
}

// allow answers 403 unless the caller has one of roles.
func allow(roles []workflows.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principal(c)
			for _, r := range roles {
				if p.Role == r {
					return next(c)
				}
			}
			return errForbidden
		}
	}
}
