package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/workflows"
)

// unreadable is a request body that fails the test if it is read.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("the body of a refused import was read")
	return 0, io.EOF
}

// TestImportsRunAtMostMaxImportsAtOnce holds the only import slot, as a
// running import does, and sends another import: it is told to come back
// without its body being read. Once the slot is free, imports run again
// and give their slot back however they end.
func TestImportsRunAtMostMaxImportsAtOnce(t *testing.T) {
	s := &Server{logger: slog.New(slog.DiscardHandler), imports: make(chan struct{}, 1)}
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(s.logger)
	// As authenticate does for a supplier's key.
	asSupplier := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(principalKey, Principal{Role: workflows.RoleSupplier})
			return next(c)
		}
	}
	e.POST("/v1/products/import", s.importProducts, asSupplier)
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument(s.routeTable()))
	require.NoError(t, err)
	doc.Servers = openapi3.Servers{{URL: "http://tradeloop.test"}}
	p := &platform{t: t}
	p.router, err = legacy.NewRouter(doc)
	require.NoError(t, err)
	post := func(body io.Reader) response {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "http://tradeloop.test/v1/products/import", body)
		req.Header.Set(echo.HeaderContentType, "text/csv")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		r := response{status: rec.Code, body: rec.Body.Bytes(), header: rec.Header()}
		p.validate(req, r)
		return r
	}

	s.imports <- struct{}{} // an import is running
	r := post(unreadable{t})
	require.Equal(t, http.StatusServiceUnavailable, r.status, "%s", r.body)
	require.Equal(t, "import_busy", r.errCode())
	require.Equal(t, "5", r.header.Get("Retry-After"))
	require.Contains(t, string(r.body), "1 catalog imports are running on this server")
	<-s.imports // it ends

	// A file that cannot be read is refused as before, and gives its slot
	// back; so does one over the limits.
	r = post(strings.NewReader("sku,name\n\"broken"))
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
	require.Empty(t, s.imports)
	r = post(strings.NewReader("sku\n" + strings.Repeat("x,", 64) + "\n"))
	require.Equal(t, http.StatusBadRequest, r.status, "%s", r.body)
	require.Contains(t, string(r.body), "line 2: the row has more than 64 columns")
	require.Empty(t, s.imports)
}
