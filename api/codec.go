package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/converter"

	"github.com/tradeloop/tradeloop/internal/apikey"
	"github.com/tradeloop/tradeloop/workflows"
)

// codecCookie holds the API key of a browser signed in at /codec/login:
// the Temporal UI sends cookies to the codec (includeCredentials) but has
// no API key to put in a header. HttpOnly, SameSite=Strict, sent only to
// /codec.
const codecCookie = "tradeloop_codec"

// codecSession is how long a codec sign-in lasts.
const codecSession = 8 * time.Hour

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
	mws = append(mws, codecCredentials, s.authenticate, allow(codecRoles))
	g := e.Group("/codec", mws...)
	for _, path := range []string{"/decode", "/encode"} {
		g.POST(path, h)
		if len(origins) > 0 {
			g.OPTIONS(path, func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
		}
	}
	e.GET("/codec/login", func(c echo.Context) error { return c.HTML(http.StatusOK, codecLoginPage) })
	e.POST("/codec/login", s.codecLogin)
	e.POST("/codec/logout", func(c echo.Context) error {
		c.SetCookie(&http.Cookie{Name: codecCookie, Path: "/codec", MaxAge: -1, HttpOnly: true, Secure: c.Scheme() == "https", SameSite: http.SameSiteStrictMode})
		return c.HTML(http.StatusOK, codecSignedOutPage)
	})
}

// codecCredentials takes the key from the sign-in cookie when the request
// carries no API key in its Authorization header.
func codecCredentials(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		token, _ := strings.CutPrefix(req.Header.Get(echo.HeaderAuthorization), "Bearer ")
		if _, err := apikey.Parse(strings.TrimSpace(token)); err != nil {
			if ck, err := req.Cookie(codecCookie); err == nil {
				req.Header.Set(echo.HeaderAuthorization, "Bearer "+ck.Value)
			}
		}
		return next(c)
	}
}

// codecLogin checks a finance or admin key sent from the sign-in form,
// exactly as a request bearing it would be, and keeps it in the cookie.
func (s *Server) codecLogin(c echo.Context) error {
	key := strings.TrimSpace(c.FormValue("key"))
	c.Request().Header.Set(echo.HeaderAuthorization, "Bearer "+key)
	return s.authenticate(allow(codecRoles)(func(c echo.Context) error {
		c.SetCookie(&http.Cookie{
			Name: codecCookie, Value: key, Path: "/codec", MaxAge: int(codecSession.Seconds()),
			HttpOnly: true, Secure: c.Scheme() == "https", SameSite: http.SameSiteStrictMode,
		})
		return c.HTML(http.StatusOK, codecSignedInPage)
	}))(c)
}

const codecLoginPage = `<!doctype html>
<meta charset="utf-8"><title>Tradeloop codec sign-in</title>
<h1>Read encrypted workflow payloads</h1>
<p>Workflow histories are encrypted. Sign in with a finance or admin API key, then reload the Temporal UI:
this browser may then decode payloads for eight hours.</p>
<form method="post" action="/codec/login">
<label>API key <input name="key" type="password" autocomplete="off" size="60" required></label>
<button>Sign in</button>
</form>
<form method="post" action="/codec/logout"><button>Sign out</button></form>
`

const codecSignedInPage = `<!doctype html>
<meta charset="utf-8"><title>Tradeloop codec sign-in</title>
<p>Signed in: reload the Temporal UI to read payloads. <form method="post" action="/codec/logout"><button>Sign out</button></form></p>
`

const codecSignedOutPage = `<!doctype html>
<meta charset="utf-8"><title>Tradeloop codec sign-in</title>
<p>Signed out. <a href="/codec/login">Sign in again</a></p>
`
