package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/converter"

	"github.com/tradeloop/tradeloop/workflows"
)

// codecRoles may read decrypted workflow histories: finance, whose work is
// the deals' money, and admins. Parties see their deals through the API's
// own views, never through raw histories.
var codecRoles = []workflows.Role{workflows.RoleFinance, workflows.RoleAdmin}

// mountCodec serves the Temporal codec server protocol (POST /codec/decode
// and /codec/encode, payloads as protobuf JSON) the Temporal UI calls to
// show encrypted payloads. Only finance and admin keys are served. Browsers
// on origins (the UI's) may call it across origins, with the Authorization
// header or cookies; with no origins, no browser may.
func (s *Server) mountCodec(e *echo.Echo, codec converter.PayloadCodec, origins []string) {
	h := echo.WrapHandler(converter.NewPayloadCodecHTTPHandler(codec))
	mws := []echo.MiddlewareFunc{}
	if len(origins) > 0 {
		// The CORS middleware answers preflight requests itself, before
		// authentication: browsers send them without credentials.
		mws = append(mws, middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:     origins,
			AllowMethods:     []string{http.MethodPost, http.MethodOptions},
			AllowHeaders:     []string{echo.HeaderContentType, echo.HeaderAuthorization, "X-Namespace"},
			AllowCredentials: true,
			MaxAge:           600,
		}))
	}
	mws = append(mws, s.authenticate, allow(codecRoles))
	g := e.Group("/codec", mws...)
	for _, path := range []string{"/decode", "/encode"} {
		g.POST(path, h)
		if len(origins) > 0 {
			g.OPTIONS(path, func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
		}
	}
}
