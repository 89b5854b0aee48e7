package console

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/sheet"
)

// CatalogImportPath is where a supplier sends its catalog file: the API
// lets this path's requests be as large as its own catalog imports.
const CatalogImportPath = Root + "/catalog/import"

// catalogData is the supplier's catalog page's: its standing (tier,
// rating, figures), its products, and the report of the import it just
// sent.
type catalogData struct {
	Supplier marketplace.Supplier
	Listed   bool
	Products []marketplace.Product
	Report   *marketplace.ImportReport
	Error    string
}

func (c *Console) catalog(ec echo.Context) error {
	data, err := c.catalogPage(ec)
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "catalog", "", data)
}

func (c *Console) catalogPage(ec echo.Context) (catalogData, error) {
	ctx, org := ec.Request().Context(), who(ec).OrgID
	var data catalogData
	s, err := c.d.Market.Supplier(ctx, org)
	switch {
	case errors.Is(err, marketplace.ErrNotFound):
	case err != nil:
		return data, err
	default:
		data.Supplier, data.Listed = s, true
	}
	if data.Products, err = c.d.Market.Catalog(ctx, org); err != nil {
		return data, err
	}
	return data, nil
}

// exportCatalog sends the supplier's catalog as a file it can edit and
// import again.
func (c *Console) exportCatalog(ec echo.Context) error {
	f := sheet.Format(ec.Param("format"))
	if f != sheet.CSV && f != sheet.XLSX {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	t, err := c.d.Market.Export(ec.Request().Context(), who(ec).OrgID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := sheet.Write(&buf, f, sheet.Document{Title: "Catalog", Table: t}); err != nil {
		return fmt.Errorf("render the catalog as %s: %w", f, err)
	}
	ec.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="catalog.%s"`, f))
	return ec.Blob(http.StatusOK, f.ContentType(), buf.Bytes())
}

// importCatalog imports the file the supplier sent (CSV or Excel, by its
// name), all or nothing unless it asks for the valid rows alone, and shows
// the report row by row.
func (c *Console) importCatalog(ec echo.Context) error {
	w := who(ec)
	fh, err := ec.FormFile("file")
	if err != nil {
		return c.catalogRefused(ec, http.StatusUnprocessableEntity, say(w, "console.catalog.file.missing", nil))
	}
	var f sheet.Format
	switch strings.ToLower(path.Ext(fh.Filename)) {
	case ".csv":
		f = sheet.CSV
	case ".xlsx":
		f = sheet.XLSX
	default:
		return c.catalogRefused(ec, http.StatusUnsupportedMediaType, say(w, "console.catalog.file.kind", nil))
	}
	file, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open the uploaded catalog: %w", err)
	}
	defer file.Close()
	mode := marketplace.ImportAll
	if ec.FormValue("mode") == string(marketplace.ImportPartial) {
		mode = marketplace.ImportPartial
	}
	rep, err := c.d.ImportCatalog(ec.Request().Context(), w, f, file, mode)
	var r *Refused
	if errors.As(err, &r) {
		return c.catalogRefused(ec, r.Status, say(w, "console.act.refused", r.Message))
	}
	if err != nil {
		return err
	}
	data, err := c.catalogPage(ec)
	if err != nil {
		return err
	}
	data.Report = &rep
	status := http.StatusOK
	if !rep.Applied && len(rep.Rejected) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return c.render(ec, status, "catalog", "", data)
}

// catalogRefused shows the catalog page with why the file was refused.
func (c *Console) catalogRefused(ec echo.Context, status int, msg string) error {
	data, err := c.catalogPage(ec)
	if err != nil {
		return err
	}
	data.Error = msg
	return c.render(ec, status, "catalog", "", data)
}
