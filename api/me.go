package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/identity"
	"github.com/tradeloop/tradeloop/internal/signin"
)

// Me is the caller as a user: who it is and how it reads notifications.
type Me struct {
	UserID   string `json:"user_id"`
	OrgID    string `json:"org_id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Language string `json:"language"`
	TimeZone string `json:"time_zone"`
}

func meOf(u identity.User) Me {
	return Me{UserID: u.ID.String(), OrgID: u.OrgID.String(), Email: u.Email, Name: u.Name, Role: string(u.Role), Language: u.Language, TimeZone: u.TimeZone}
}

// getMe serves the caller.
func (s *Server) getMe(c echo.Context) error {
	u, err := s.identity.User(c.Request().Context(), principal(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, meOf(u))
}

// SetReading is the language and time zone the caller reads
// notifications in; a field left out keeps its value.
type SetReading struct {
	Language string `json:"language"`
	TimeZone string `json:"time_zone"`
}

// setReading sets how the caller reads notifications (its inbox, its
// mails): in English or Simplified Chinese, with times in its time zone.
func (s *Server) setReading(c echo.Context) error {
	var r SetReading
	if err := decode(c, &r); err != nil {
		return err
	}
	u, err := s.identity.SetReading(c.Request().Context(), principal(c).UserID, identity.Reading{Language: r.Language, TimeZone: r.TimeZone})
	var re *identity.ReadingError
	if errors.As(err, &re) {
		return invalid(re.Field, "%s", re.Reason)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, meOf(u))
}

// SetPassword is the caller's new console password.
type SetPassword struct {
	Password string `json:"password"`
}

// setPassword sets the password the caller signs in to the console with,
// and signs it out of every console session (a changed password ends
// what the old one began).
func (s *Server) setPassword(c echo.Context) error {
	var r SetPassword
	if err := decode(c, &r); err != nil {
		return err
	}
	p := principal(c)
	err := s.signin.SetPassword(c.Request().Context(), p.UserID, r.Password)
	var pe *signin.PasswordError
	if errors.As(err, &pe) {
		return invalid("password", "%s", pe.Reason)
	}
	if err != nil {
		return err
	}
	ended, err := s.signin.SignOutEverywhere(c.Request().Context(), p.UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"password_set": true, "sessions_ended": ended})
}
