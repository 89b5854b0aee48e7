package api

import (
	"context"
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
	org, err := s.CreateOrganization(c.Request().Context(), r.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": org.ID, "name": org.Name})
}

// CreateOrganization makes an organization named name, held to the
// API's rules (for the API and the console).
func (s *Server) CreateOrganization(ctx context.Context, name string) (identity.Organization, error) {
	if strings.TrimSpace(name) == "" || len(name) > 200 {
		return identity.Organization{}, invalid("name", "is required, at most 200 characters")
	}
	if err := checkBounds(boundedText{"name", name, 200}); err != nil {
		return identity.Organization{}, err
	}
	return s.identity.CreateOrganization(ctx, name)
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
	user, key, err := s.CreateUser(c.Request().Context(), orgID, r)
	if err != nil {
		return err
	}
	role := user.Role
	created := map[string]any{"user_id": user.ID, "org_id": orgID, "role": role, "key_prefix": key.Prefix, "secret_withheld": secretWithheld}
	if err := keepWithoutSecret(c, created); err != nil {
		return err
	}
	delete(created, "secret_withheld")
	created["api_key"] = key.Plain
	return c.JSON(http.StatusCreated, created)
}

// CreateUser makes a user of organization org with its first API key,
// held to the API's rules (for the API and the console): the key's secret
// is in the Key returned, shown to whoever asked once or never.
func (s *Server) CreateUser(ctx context.Context, org uuid.UUID, r CreateUserRequest) (identity.User, apikey.Key, error) {
	switch {
	case !strings.Contains(r.Email, "@") || len(r.Email) > 254:
		return identity.User{}, apikey.Key{}, invalid("email", "must be an email address")
	case !identity.ValidRole(r.Role):
		return identity.User{}, apikey.Key{}, invalid("role", "must be buyer, supplier, mediator, finance or admin")
	case r.Tier != "" && (!tier.Valid(r.Tier) || r.Role != string(workflows.RoleSupplier)):
		return identity.User{}, apikey.Key{}, invalid("tier", "is %s, for suppliers only", tier.Names())
	}
	if err := checkBounds(boundedText{"name", r.Name, 200}); err != nil {
		return identity.User{}, apikey.Key{}, err
	}
	key, err := apikey.New()
	if err != nil {
		return identity.User{}, apikey.Key{}, err
	}
	user, err := s.identity.CreateUser(ctx, identity.NewUser{
		OrgID: org, Email: r.Email, Name: r.Name, Role: identity.Role(r.Role), Tier: r.Tier, Reading: identity.Reading{Language: r.Language, TimeZone: r.TimeZone},
	}, key)
	var re *identity.ReadingError
	switch {
	case errors.As(err, &re):
		return identity.User{}, apikey.Key{}, invalid(re.Field, "%s", re.Reason)
	case errors.Is(err, identity.ErrNotFound):
		return identity.User{}, apikey.Key{}, apiErr(http.StatusNotFound, "not_found", "no such organization")
	case errors.Is(err, identity.ErrEmailTaken):
		return identity.User{}, apikey.Key{}, apiErr(http.StatusConflict, "conflict", "a user with this email exists")
	case err != nil:
		return identity.User{}, apikey.Key{}, err
	}
	return user, key, nil
}
