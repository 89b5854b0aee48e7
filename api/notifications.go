package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/inbox"
)

// errNoNotification answers for an entry the caller does not have, its
// own or not: another user's entries are not found either.
var errNoNotification = apiErr(http.StatusNotFound, "not_found", "no such notification")

// listNotifications serves the caller's inbox: unread first, newest first,
// in keyset pages.
func (s *Server) listNotifications(c echo.Context) error {
	limit := 0
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > inbox.MaxPage {
			return invalid("limit", "must be between 1 and %d", inbox.MaxPage)
		}
		limit = n
	}
	page, err := s.inbox.Read(c.Request().Context(), principal(c).UserID, c.QueryParam("cursor"), limit)
	if errors.Is(err, inbox.ErrBadCursor) {
		return invalid("cursor", "is not a cursor this API gave out")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// markNotificationRead marks one of the caller's entries read.
func (s *Server) markNotificationRead(c echo.Context) error {
	id, err := uuid.Parse(c.Param("nid"))
	if err != nil {
		return errNoNotification
	}
	e, err := s.inbox.MarkRead(c.Request().Context(), principal(c).UserID, id)
	if errors.Is(err, inbox.ErrNotFound) {
		return errNoNotification
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": e.ID, "read_at": e.ReadAt})
}

// markAllNotificationsRead marks every unread entry of the caller's read.
func (s *Server) markAllNotificationsRead(c echo.Context) error {
	n, err := s.inbox.MarkAllRead(c.Request().Context(), principal(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"marked": n})
}
