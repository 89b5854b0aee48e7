package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/watchlist"
)

// FollowRequest follows a product's price or a category's new suppliers.
type FollowRequest struct {
	// A product, its price read at Quantity (0: its MOQ) and alerted at a
	// drop of DropBP basis points (0: 500, 5 %).
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
	DropBP    int    `json:"drop_bp"`
	// Or a category.
	Category string `json:"category"`
}

func (s *Server) follow(c echo.Context) error {
	var req FollowRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	// 201 whether the watch is new or changed, as a product saved again
	// by its SKU is.
	w, _, err := s.Follow(c.Request().Context(), principal(c), req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, w)
}

// Follow is follow for callers other than the API's handlers (the
// console): buyer p follows what req names.
func (s *Server) Follow(ctx context.Context, p Principal, req FollowRequest) (watchlist.Watch, bool, error) {
	who := watchlist.Follower{User: p.UserID, Org: p.OrgID}
	var (
		w       watchlist.Watch
		created bool
		err     error
	)
	switch {
	case req.ProductID != "" && req.Category != "":
		return w, false, invalid("category", "follow a product or a category, not both")
	case req.ProductID != "":
		id, perr := uuid.Parse(req.ProductID)
		if perr != nil {
			return w, false, invalid("product_id", "is a product's ID")
		}
		w, created, err = s.watches.FollowProduct(ctx, who, id, req.Quantity, req.DropBP)
	case req.Category != "":
		if req.Quantity != 0 || req.DropBP != 0 {
			return w, false, invalid("quantity", "a category has no price: follow one of its products for that")
		}
		if !marketplace.ValidCategory(req.Category) {
			return w, false, invalid("category", "a category slug such as \"led-lighting\"")
		}
		w, created, err = s.watches.FollowCategory(ctx, who, req.Category)
	default:
		return w, false, invalid("product_id", "name a product or a category to follow")
	}
	return w, created, watchErr(err)
}

// watchErr maps the watchlist's errors to API errors.
func watchErr(err error) error {
	var fe *watchlist.FieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return invalid(fe.Field, "%s", fe.Message)
	case errors.Is(err, watchlist.ErrTooMany):
		return apiErr(http.StatusUnprocessableEntity, "too_many", "%v: unfollow some first", err)
	case errors.Is(err, watchlist.ErrNotFound):
		return apiErr(http.StatusNotFound, "item_not_found", "no such watch")
	}
	return err
}

func (s *Server) listWatches(c echo.Context) error {
	list, err := s.watches.List(c.Request().Context(), principal(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"watches": list})
}

func (s *Server) unfollow(c echo.Context) error {
	id, err := uuid.Parse(c.Param("wid"))
	if err != nil {
		return apiErr(http.StatusNotFound, "item_not_found", "no such watch")
	}
	if err := watchErr(s.watches.Unfollow(c.Request().Context(), principal(c).UserID, id)); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "deleted": true})
}
