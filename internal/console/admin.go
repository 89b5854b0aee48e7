package console

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/identity"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/internal/texts"
)

// Admin is how the console administers, with the API's own rules.
type Admin struct {
	// CreateOrganization makes an organization, or a *Refused.
	CreateOrganization func(ctx context.Context, name string) (uuid.UUID, error)
	// CreateUser makes a user of org (with an API key nobody is shown),
	// or a *Refused.
	CreateUser func(ctx context.Context, org uuid.UUID, u NewUser) (uuid.UUID, error)
	// CreateKey makes an API key for user, labelled, working days days
	// (0: until revoked), and returns its secret, or a *Refused.
	CreateKey func(ctx context.Context, user uuid.UUID, label string, days int) (secret string, err error)
}

// NewUser is a user an admin adds: it gets an invitation by mail to set
// its password.
type NewUser struct {
	Email, Name, Role, Language string
}

// adminData is the organizations page's.
type adminData struct {
	formState
	Orgs []identity.OrgSummary
}

func (c *Console) admin(ec echo.Context) error {
	return c.showAdmin(ec, http.StatusOK, adminData{formState: formState{Form: map[string]string{}}})
}

func (c *Console) showAdmin(ec echo.Context, status int, data adminData) error {
	orgs, err := c.d.Identity.Organizations(ec.Request().Context())
	if err != nil {
		return err
	}
	data.Orgs = orgs
	return c.render(ec, status, "admin", "", data)
}

func (c *Console) createOrganization(ec echo.Context) error {
	name := strings.TrimSpace(ec.FormValue("name"))
	id, err := c.d.Admin.CreateOrganization(ec.Request().Context(), name)
	var r *Refused
	if errors.As(err, &r) {
		return c.showAdmin(ec, r.Status, adminData{formState: formState{Form: map[string]string{"name": name}, Field: "name", Error: say(who(ec), "console.act.refused", r.Message)}})
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/admin/orgs/"+id.String())
}

// orgData is an organization's page: its users and the form to add one.
type orgData struct {
	Org     identity.Organization
	Members []identity.Member
	Roles   []string
	Langs   []texts.Lang
	formState
	// Invited names the user just invited.
	Invited string
}

func (c *Console) organization(ec echo.Context) error {
	return c.showOrganization(ec, http.StatusOK, orgData{formState: formState{Form: map[string]string{"role": "buyer", "language": "en"}}, Invited: ec.QueryParam("invited")})
}

func (c *Console) showOrganization(ec echo.Context, status int, data orgData) error {
	id, err := uuid.Parse(ec.Param("org"))
	if err != nil {
		return ErrNotFound
	}
	org, members, err := c.d.Identity.Organization(ec.Request().Context(), id)
	if errors.Is(err, identity.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	data.Org, data.Members, data.Langs = org, members, texts.Langs
	data.Roles = []string{"buyer", "supplier", "mediator", "finance", "admin"}
	return c.render(ec, status, "org", org.Name, data)
}

// addUser makes the user and mails it an invitation to set its password.
func (c *Console) addUser(ec echo.Context) error {
	w := who(ec)
	org, err := uuid.Parse(ec.Param("org"))
	if err != nil {
		return ErrNotFound
	}
	u := NewUser{Email: strings.TrimSpace(ec.FormValue("email")), Name: strings.TrimSpace(ec.FormValue("name")),
		Role: ec.FormValue("role"), Language: ec.FormValue("language")}
	form := map[string]string{"email": u.Email, "name": u.Name, "role": u.Role, "language": u.Language}
	ctx := ec.Request().Context()
	id, err := c.d.Admin.CreateUser(ctx, org, u)
	var r *Refused
	if errors.As(err, &r) {
		return c.showOrganization(ec, r.Status, orgData{formState: formState{Form: form, Field: r.Field, Error: say(w, "console.act.refused", r.Message)}})
	}
	if err != nil {
		return err
	}
	if err := c.d.SignIn.SendLink(ctx, id, signin.Invitation, c.d.PublicURL); err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/admin/orgs/"+org.String()+"?invited="+u.Email)
}

// reinvite mails a user without a password a new invitation (the older
// one stops working).
func (c *Console) reinvite(ec echo.Context) error {
	org, err1 := uuid.Parse(ec.Param("org"))
	user, err2 := uuid.Parse(ec.Param("uid"))
	if err1 != nil || err2 != nil {
		return ErrNotFound
	}
	_, members, err := c.d.Identity.Organization(ec.Request().Context(), org)
	if errors.Is(err, identity.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.ID == user && !m.HasPassword {
			if err := c.d.SignIn.SendLink(ec.Request().Context(), user, signin.Invitation, c.d.PublicURL); err != nil {
				return err
			}
			return ec.Redirect(http.StatusSeeOther, Root+"/admin/orgs/"+org.String()+"?invited="+m.Email)
		}
	}
	return ErrNotFound
}

// keysData is a user's API keys page: its keys, the form for a new one,
// and a new key's secret, shown this once.
type keysData struct {
	User   identity.User
	Keys   []identity.Key
	Secret string
	formState
}

func (c *Console) keys(ec echo.Context) error {
	return c.showKeys(ec, http.StatusOK, keysData{formState: formState{Form: map[string]string{}}})
}

func (c *Console) showKeys(ec echo.Context, status int, data keysData) error {
	id, err := uuid.Parse(ec.Param("uid"))
	if err != nil {
		return ErrNotFound
	}
	ctx := ec.Request().Context()
	u, err := c.d.Identity.User(ctx, id)
	if errors.Is(err, identity.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if data.Keys, err = c.d.Identity.Keys(ctx, u.ID, maxKeysShown); err != nil {
		return err
	}
	data.User = u
	// A page with a secret on it is not kept by the browser.
	ec.Response().Header().Set("Cache-Control", "no-store")
	return c.render(ec, status, "keys", u.Name, data)
}

// maxKeysShown bounds the keys a user's page lists.
const maxKeysShown = 100

// createKey makes a key for the user and shows its secret once.
func (c *Console) createKey(ec echo.Context) error {
	w := who(ec)
	user, err := uuid.Parse(ec.Param("uid"))
	if err != nil {
		return ErrNotFound
	}
	label := strings.TrimSpace(ec.FormValue("label"))
	form := map[string]string{"label": label, "days": strings.TrimSpace(ec.FormValue("days"))}
	var days int
	if form["days"] != "" {
		if days, err = strconv.Atoi(form["days"]); err != nil || days < 1 || days > 3650 {
			return c.showKeys(ec, http.StatusUnprocessableEntity, keysData{formState: formState{Form: form, Field: "days", Error: say(w, "console.keys.days.bad", nil)}})
		}
	}
	secret, err := c.d.Admin.CreateKey(ec.Request().Context(), user, label, days)
	var r *Refused
	if errors.As(err, &r) {
		return c.showKeys(ec, r.Status, keysData{formState: formState{Form: form, Field: r.Field, Error: say(w, "console.act.refused", r.Message)}})
	}
	if err != nil {
		return err
	}
	return c.showKeys(ec, http.StatusCreated, keysData{formState: formState{Form: map[string]string{}}, Secret: secret})
}

// revokeKey stops one of the user's keys at once.
func (c *Console) revokeKey(ec echo.Context) error {
	user, err1 := uuid.Parse(ec.Param("uid"))
	key, err2 := uuid.Parse(ec.Param("kid"))
	if err1 != nil || err2 != nil {
		return ErrNotFound
	}
	_, err := c.d.Identity.RevokeKey(ec.Request().Context(), user, key)
	if errors.Is(err, identity.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/admin/users/"+user.String()+"/keys")
}
