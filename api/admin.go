package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/apikey"
	"github.com/tradeloop/tradeloop/internal/identity"
	"github.com/tradeloop/tradeloop/internal/tier"
	"github.com/tradeloop/tradeloop/workflows"
)

// CreateOrganizationRequest names a new organization.
type CreateOrganizationRequest struct {
	Name string `json:"name"`
}

func (s *Server) createOrganization(c echo.Context) error {
	var r CreateOrganizationRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	if strings.TrimSpace(r.Name) == "" || len(r.Name) > 200 {
		return invalid("name", "is required, at most 200 characters")
	}
	org, err := s.identity.CreateOrganization(c.Request().Context(), r.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": org.ID, "name": org.Name})
}

// CreateUserRequest adds a user to an organization.
type CreateUserRequest struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
	// Tier sets a supplier organization's commission tier.
	Tier string `json:"tier"`
	// Language and TimeZone are how the user reads notifications
	// (default English, UTC).
	Language string `json:"language"`
	TimeZone string `json:"time_zone"`
}

// createUser makes a user and its API key; the key is in this response only.
func (s *Server) createUser(c echo.Context) error {
	orgID, err := uuid.Parse(c.Param("org"))
	if err != nil {
		return apiErr(http.StatusNotFound, "not_found", "no such organization")
	}
	var r CreateUserRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	role := identity.Role(r.Role)
	switch {
	case !strings.Contains(r.Email, "@") || len(r.Email) > 254:
		return invalid("email", "must be an email address")
	case !identity.ValidRole(r.Role):
		return invalid("role", "must be buyer, supplier, mediator, finance or admin")
	case r.Tier != "" && (!tier.Valid(r.Tier) || r.Role != string(workflows.RoleSupplier)):
		return invalid("tier", "is %s, for suppliers only", tier.Names())
	}
	key, err := apikey.New()
	if err != nil {
		return err
	}
	user, err := s.identity.CreateUser(c.Request().Context(), identity.NewUser{
		OrgID: orgID, Email: r.Email, Name: r.Name, Role: role, Tier: r.Tier, Reading: identity.Reading{Language: r.Language, TimeZone: r.TimeZone},
	}, key)
	var re *identity.ReadingError
	switch {
	case errors.As(err, &re):
		return invalid(re.Field, "%s", re.Reason)
	case errors.Is(err, identity.ErrNotFound):
		return apiErr(http.StatusNotFound, "not_found", "no such organization")
	case errors.Is(err, identity.ErrEmailTaken):
		return apiErr(http.StatusConflict, "conflict", "a user with this email exists")
	case err != nil:
		return err
	}
	created := map[string]any{"user_id": user.ID, "org_id": orgID, "role": role, "key_prefix": key.Prefix, "secret_withheld": secretWithheld}
	if err := keepWithoutSecret(c, created); err != nil {
		return err
	}
	delete(created, "secret_withheld")
	created["api_key"] = key.Plain
	return c.JSON(http.StatusCreated, created)
}
