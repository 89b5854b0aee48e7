package console

import (
	"errors"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/media"
)

// productMedia is what the product page shows of a product's media: the
// files, and for the product's supplier the kinds it may upload.
type productMedia struct {
	Media []media.Item
	// Kinds are offered to the product's own supplier, who may upload.
	Kinds []media.Kind
	// Full says the product has as many files as it may.
	Full bool
}

// mediaOf is product p's media as supplier org (the viewer's
// organization) sees them on the product page.
func (c *Console) mediaOf(ec echo.Context, product, supplier uuid.UUID) (productMedia, error) {
	var out productMedia
	if c.d.Media == nil {
		return out, nil
	}
	items, err := c.d.Media.ForProduct(ec.Request().Context(), product)
	if err != nil {
		return out, err
	}
	out.Media, out.Full = items, len(items) >= media.MaxPerProduct
	if who(ec).OrgID == supplier && c.d.AddMedia != nil {
		out.Kinds = media.Kinds
	}
	return out, nil
}

// serveMedia sends a product's file, or its thumbnail, to any signed-in
// user (media.Service.Serve: ETag, immutable caching, downloads for all
// but images).
func (c *Console) serveMedia(thumb bool) echo.HandlerFunc {
	return func(ec echo.Context) error {
		if c.d.Media == nil {
			return ErrNotFound
		}
		err := c.d.Media.Serve(ec.Response(), ec.Request(), ec.Param("mid"), thumb)
		if errors.Is(err, media.ErrNotFound) {
			return ErrNotFound
		}
		return err
	}
}

// uploadMedia adds the file the supplier sent to its product, with the
// API's checks, and shows the product page again: with the new file, or
// with why it was refused.
func (c *Console) uploadMedia(ec echo.Context) error {
	w := who(ec)
	data, err := c.productPage(ec)
	if err != nil {
		return err
	}
	if data.Product.SupplierID != w.OrgID || c.d.AddMedia == nil {
		return ErrNotFound
	}
	refused := func(status int, msg string) error {
		data.Field, data.Error = "file", msg
		return c.render(ec, status, "product", data.Product.Name, data)
	}
	fh, err := ec.FormFile("file")
	if err != nil {
		return refused(http.StatusUnprocessableEntity, say(w, "console.media.file.missing", nil))
	}
	err = c.d.AddMedia(ec.Request().Context(), w, data.Product.ID, ec.FormValue("kind"), fh)
	var r *Refused
	if errors.As(err, &r) {
		return refused(r.Status, say(w, "console.act.refused", r.Message))
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/products/"+data.Product.ID.String()+"#media")
}

// deleteMedia removes a file of the supplier's own product (row and
// blobs, media.Service.Delete's rule: another's is not found).
func (c *Console) deleteMedia(ec echo.Context) error {
	product, err := uuid.Parse(ec.Param("pid"))
	if err != nil || c.d.Media == nil {
		return ErrNotFound
	}
	id, err := uuid.Parse(ec.Param("mid"))
	if err != nil {
		return ErrNotFound
	}
	err = c.d.Media.Delete(ec.Request().Context(), who(ec).OrgID, product, id)
	if errors.Is(err, media.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/products/"+product.String()+"#media")
}
