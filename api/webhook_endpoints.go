package api

import (
	"errors"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/webhooks"
)

// CreateWebhookEndpointRequest registers an endpoint.
type CreateWebhookEndpointRequest struct {
	URL         string `json:"url"`
	Description string `json:"description"`
}

// errNoEndpoint answers for an endpoint or delivery the caller's
// organization does not have, another's included.
var errNoEndpoint = apiErr(http.StatusNotFound, "webhook_not_found", "no such webhook endpoint or delivery")

// webhookError maps the webhooks service's errors.
func webhookError(err error) error {
	var invalidErr *webhooks.InvalidError
	switch {
	case errors.As(err, &invalidErr):
		return invalid(invalidErr.Field, "%s", invalidErr.Err.Error())
	case errors.Is(err, webhooks.ErrNotFound):
		return errNoEndpoint
	case errors.Is(err, webhooks.ErrTooMany):
		return apiErr(http.StatusConflict, "limit_reached", "an organization has at most %d webhook endpoints: remove one first", webhooks.MaxEndpointsPerOrg)
	case errors.Is(err, webhooks.ErrDisabled):
		return apiErr(http.StatusConflict, "endpoint_disabled", "the endpoint is disabled: enable it first")
	case errors.Is(err, webhooks.ErrBadCursor):
		return invalid("cursor", "is not a cursor this API gave out")
	}
	return boundsError(err)
}

// pathID parses a path parameter as an ID, or answers errNoEndpoint.
func pathID(c echo.Context, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil {
		return uuid.Nil, errNoEndpoint
	}
	return id, nil
}

func (s *Server) createWebhookEndpoint(c echo.Context) error {
	var r CreateWebhookEndpointRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	e, secret, err := s.hooks.Create(c.Request().Context(), principal(c).OrgID, r.URL, r.Description)
	if err != nil {
		return webhookError(err)
	}
	return showSecretOnce(c, http.StatusCreated, map[string]any{"endpoint": e}, "secret", secret)
}

// rollWebhookSecret gives the endpoint a new secret (webhooks.Roll).
func (s *Server) rollWebhookSecret(c echo.Context) error {
	id, err := pathID(c, "wid")
	if err != nil {
		return err
	}
	e, secret, err := s.hooks.Roll(c.Request().Context(), principal(c).OrgID, id)
	if err != nil {
		return webhookError(err)
	}
	return showSecretOnce(c, http.StatusCreated, map[string]any{"endpoint": e}, "secret", secret)
}

func (s *Server) listWebhookEndpoints(c echo.Context) error {
	es, err := s.hooks.List(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"endpoints": es})
}

func (s *Server) getWebhookEndpoint(c echo.Context) error {
	id, err := pathID(c, "wid")
	if err != nil {
		return err
	}
	e, err := s.hooks.Get(c.Request().Context(), principal(c).OrgID, id)
	if err != nil {
		return webhookError(err)
	}
	return c.JSON(http.StatusOK, e)
}

func (s *Server) deleteWebhookEndpoint(c echo.Context) error {
	id, err := pathID(c, "wid")
	if err != nil {
		return err
	}
	if err := s.hooks.Delete(c.Request().Context(), principal(c).OrgID, id); err != nil {
		return webhookError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "deleted": true})
}

func (s *Server) enableWebhookEndpoint(c echo.Context) error {
	id, err := pathID(c, "wid")
	if err != nil {
		return err
	}
	e, err := s.hooks.Enable(c.Request().Context(), principal(c).OrgID, id)
	if err != nil {
		return webhookError(err)
	}
	return c.JSON(http.StatusOK, e)
}

func (s *Server) listWebhookDeliveries(c echo.Context) error {
	id, err := pathID(c, "wid")
	if err != nil {
		return err
	}
	limit, err := limitParam(c, webhooks.MaxPage)
	if err != nil {
		return err
	}
	page, err := s.hooks.Deliveries(c.Request().Context(), principal(c).OrgID, id, c.QueryParam("cursor"), limit)
	if err != nil {
		return webhookError(err)
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) replayWebhookDelivery(c echo.Context) error {
	id, err := pathID(c, "wid")
	if err != nil {
		return err
	}
	did, err := pathID(c, "did")
	if err != nil {
		return err
	}
	if err := s.hooks.Replay(c.Request().Context(), principal(c).OrgID, id, did); err != nil {
		return webhookError(err)
	}
	return c.JSON(http.StatusAccepted, map[string]any{"id": did, "status": "pending"})
}
