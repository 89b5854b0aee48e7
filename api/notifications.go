package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/inbox"
	"github.com/tradeloop/tradeloop/internal/preferences"
)

// errNoNotification answers for an entry the caller does not have, its
// own or not: another user's entries are not found either.
var errNoNotification = apiErr(http.StatusNotFound, "notification_not_found", "no such notification")

// listNotifications serves the caller's inbox: unread first, newest first,
// in keyset pages.
func (s *Server) listNotifications(c echo.Context) error {
	limit, err := limitParam(c, inbox.MaxPage)
	if err != nil {
		return err
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

// streamHeartbeat is how often an idle stream sends a comment line, so
// proxies and browsers keep it open.
const streamHeartbeat = 20 * time.Second

// streamNotifications is the caller's inbox as a live stream
// (Server-Sent Events): first an "unread" event with the count, then a
// "notification" event with each new entry (its id as the event's id),
// and "resync" when entries may have been missed, so the console reads
// the inbox again. It ends when the client leaves or the server stops.
func (s *Server) streamNotifications(c echo.Context) error {
	ctx := c.Request().Context()
	user := principal(c).UserID
	sub, err := s.hub.Subscribe(user)
	if errors.Is(err, inbox.ErrTooManyStreams) {
		return apiErr(http.StatusTooManyRequests, "too_many_streams", "at most %d live notification streams per user: close one first", inbox.MaxStreamsPerUser)
	}
	if err != nil {
		return apiErr(http.StatusServiceUnavailable, "unavailable", "the server is stopping: connect again")
	}
	defer sub.Close()
	unread, err := s.inbox.Unread(ctx, user)
	if err != nil {
		return err
	}
	w := c.Response()
	w.Header().Set(echo.HeaderContentType, "text/event-stream")
	w.Header().Set(echo.HeaderCacheControl, "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(event, id string, data any) error {
		// The server's write timeout is for requests, not streams: each
		// event gets its own.
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		switch {
		case event == "":
			_, err = io.WriteString(w, ": keep-alive\n\n")
		case id != "":
			_, err = fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", id, event, b)
		default:
			_, err = fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		}
		if err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send("unread", "", map[string]int64{"unread": unread}); err != nil {
		return nil // the client left
	}
	beat := time.NewTicker(streamHeartbeat)
	defer beat.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			err = send("", "", nil)
		case sig, ok := <-sub.C:
			switch {
			case !ok:
				return nil // the server is stopping
			case sig.Resync || sub.Behind():
				err = send("resync", "", map[string]string{"reason": "entries may have been missed: read GET /v1/notifications again"})
			default:
				e, lookErr := s.inbox.Entry(ctx, user, sig.Entry)
				if lookErr != nil {
					if errors.Is(lookErr, inbox.ErrNotFound) {
						continue
					}
					return nil // the stream is open: an error status can no longer be sent
				}
				err = send("notification", e.ID.String(), e)
			}
		}
		if err != nil {
			return nil // the client left
		}
	}
}

// getNotificationPreferences serves the caller's channels per kind.
func (s *Server) getNotificationPreferences(c echo.Context) error {
	prefs, err := s.prefs.Of(c.Request().Context(), principal(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"preferences": prefs})
}

// NotificationPreferenceChanges turns channels of kinds on or off.
type NotificationPreferenceChanges struct {
	Changes []preferences.Change `json:"changes"`
}

// setNotificationPreferences makes the caller's changes, all or none, and
// answers with its preferences after them.
func (s *Server) setNotificationPreferences(c echo.Context) error {
	var r NotificationPreferenceChanges
	if err := decode(c, &r); err != nil {
		return err
	}
	err := s.prefs.Set(c.Request().Context(), principal(c).UserID, r.Changes)
	var ce *preferences.ChangeError
	switch {
	case errors.As(err, &ce):
		return invalid(fmt.Sprintf("changes[%d]", ce.Index), "%s", ce.Reason)
	case errors.Is(err, preferences.ErrTooManyChanges):
		return invalid("changes", "at most %d at once", preferences.MaxChanges)
	case err != nil:
		return err
	}
	return s.getNotificationPreferences(c)
}
