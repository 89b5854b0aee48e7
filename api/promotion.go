package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/promotion"
)

// ProductNoticeRequest is a supplier's order of a product's notice.
type ProductNoticeRequest struct {
	MaxNotices int `json:"max_notices"`
}

// SendProductNotice is supplier p's paid notice of its product.
func (s *Server) SendProductNotice(ctx context.Context, p Principal, product uuid.UUID, max int) (promotion.Notice, error) {
	n, err := s.promote.Send(ctx, p.OrgID, p.UserID, product, max)
	switch {
	case errors.Is(err, promotion.ErrNotFound):
		return n, apiErr(http.StatusNotFound, "item_not_found", "no such product of yours")
	case errors.Is(err, promotion.ErrSentAlready):
		return n, apiErr(http.StatusConflict, "sent_already", "%v", err)
	}
	return n, boundsError(err)
}

func (s *Server) sendProductNotice(c echo.Context) error {
	pid, err := productID(c)
	if err != nil {
		return err
	}
	var req ProductNoticeRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	n, err := s.SendProductNotice(c.Request().Context(), principal(c), pid, req.MaxNotices)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, n)
}

func (s *Server) listProductNotices(c echo.Context) error {
	list, err := s.promote.ForSupplier(c.Request().Context(), principal(c).OrgID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"notices": list})
}
