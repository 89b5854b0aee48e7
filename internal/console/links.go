package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// Pages before signing in: a forgotten password asked for by e-mail, and
// the page a mailed link opens (an invitation's first password, a reset's
// new one).

// linkCookie holds the CSRF token of the link page's form (there is no
// session yet to hold it).
const linkCookie = "tl_link"

// preAuthToken is the CSRF token of a form shown before signing in, kept
// in cookie name for path.
func preAuthToken(ec echo.Context, name, path string) string {
	if ck, err := ec.Cookie(name); err == nil && ck.Value != "" {
		return ck.Value
	}
	token := signin.NewToken()
	ec.SetCookie(&http.Cookie{Name: name, Value: token, Path: path, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return token
}

// preAuthOK reports whether the form carries the token of cookie name.
func preAuthOK(ec echo.Context, name string) bool {
	ck, err := ec.Cookie(name)
	return err == nil && ck.Value != "" && ck.Value == ec.FormValue("csrf")
}

// forgotData is the forgotten-password page's.
type forgotData struct {
	CSRF, Email string
	Sent        bool
}

func (c *Console) forgotPage(ec echo.Context) error {
	return c.render(ec, http.StatusOK, "forgot", "", forgotData{CSRF: preAuthToken(ec, signInCookie, signInPath)})
}

// sendReset mails a reset link to the address if it is a user's, and
// answers the same whether it is or not.
func (c *Console) sendReset(ec echo.Context) error {
	if !preAuthOK(ec, signInCookie) {
		return c.fail(ec, http.StatusForbidden, "console.error.csrf")
	}
	email := ec.FormValue("email")
	if err := c.d.SignIn.SendReset(ec.Request().Context(), email, c.d.PublicURL); err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "forgot", "", forgotData{CSRF: preAuthToken(ec, signInCookie, signInPath), Email: email, Sent: true})
}

// linkData is the page a mailed link opens.
type linkData struct {
	CSRF, Token, Purpose string
	Name, Email          string
	// Bad: the link does not work (used, expired, unknown).
	Bad   bool
	Error string
}

func (c *Console) linkPage(ec echo.Context) error {
	data := linkData{Token: ec.QueryParam("token"), Purpose: ec.QueryParam("purpose")}
	return c.showLink(ec, http.StatusOK, data)
}

func (c *Console) showLink(ec echo.Context, status int, data linkData) error {
	if data.Purpose != signin.Invitation && data.Purpose != signin.Reset {
		data.Purpose = signin.Reset
	}
	name, email, err := c.d.SignIn.LinkUser(ec.Request().Context(), data.Token, data.Purpose)
	switch {
	case errors.Is(err, signin.ErrBadLink):
		data.Bad, data.Token = true, ""
		if status == http.StatusOK {
			status = http.StatusGone
		}
	case err != nil:
		return err
	}
	data.Name, data.Email = name, email
	data.CSRF = preAuthToken(ec, linkCookie, signin.LinkPath)
	return c.render(ec, status, "link", "", data)
}

// useLink sets the password the link's form sends, then asks to sign in.
func (c *Console) useLink(ec echo.Context) error {
	data := linkData{Token: ec.FormValue("token"), Purpose: ec.FormValue("purpose")}
	if !preAuthOK(ec, linkCookie) {
		return c.fail(ec, http.StatusForbidden, "console.error.csrf")
	}
	password := ec.FormValue("password")
	if password != ec.FormValue("again") {
		data.Error = texts.Phrase(texts.Default, "console.link.mismatch", nil)
		return c.showLink(ec, http.StatusUnprocessableEntity, data)
	}
	_, err := c.d.SignIn.UseLink(ec.Request().Context(), data.Token, data.Purpose, password)
	var bad *signin.PasswordError
	switch {
	case errors.As(err, &bad):
		data.Error = texts.Phrase(texts.Default, "console.link.password.bad", bad.Reason)
		return c.showLink(ec, http.StatusUnprocessableEntity, data)
	case errors.Is(err, signin.ErrBadLink):
		return c.showLink(ec, http.StatusGone, data)
	case err != nil:
		return err
	}
	ec.SetCookie(&http.Cookie{Name: linkCookie, Value: "", Path: signin.LinkPath, MaxAge: -1, HttpOnly: true, Secure: true})
	return ec.Redirect(http.StatusSeeOther, signInPath+"?done=password")
}
