package console

import (
	"context"
	"errors"
	"mime/multipart"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/media"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/internal/verification"
)

// Verifying is suppliers' verification, through the API's own rules: the
// supplier's page and staff's (admin) review.
type Verifying struct {
	// Mine is w's organization's verification page.
	Mine func(ctx context.Context, w signin.Who) (verification.Page, error)
	// Upload stores file fh in w's draft as a document of kind, titled
	// and expiring as typed, or a *Refused.
	Upload func(ctx context.Context, w signin.Who, fh *multipart.FileHeader, kind, title, expires string) error
	// DeleteDraft removes a document of w's draft, or ErrNotFound.
	DeleteDraft func(ctx context.Context, w signin.Who, id uuid.UUID) error
	// Submit submits w's draft, or a *Refused.
	Submit func(ctx context.Context, w signin.Who) error
	// ToReview lists what staff have to answer.
	ToReview func(ctx context.Context) ([]verification.Verification, error)
	// Get is verification id as w may see it, or ErrNotFound.
	Get func(ctx context.Context, w signin.Who, id uuid.UUID) (verification.Verification, error)
	// Decide is staff w's decision on verification id, or a *Refused.
	Decide func(ctx context.Context, w signin.Who, id uuid.UUID, decision, note string) error
	// ServeDocument writes document id's file for w (its supplier's or
	// staff's), or ErrNotFound.
	ServeDocument func(rw http.ResponseWriter, r *http.Request, w signin.Who, id uuid.UUID) error
}

// verificationPage is the supplier's page with what the last form said.
type verificationPage struct {
	verification.Page
	Kinds []media.Kind
	formState
}

func (c *Console) verificationPage(ec echo.Context, status int, form formState) error {
	mine, err := c.d.Verifying.Mine(ec.Request().Context(), who(ec))
	if err != nil {
		return err
	}
	if form.Form == nil {
		form.Form = map[string]string{}
	}
	return c.render(ec, status, "verification", "", verificationPage{Page: mine, Kinds: media.DocumentKinds, formState: form})
}

func (c *Console) verification(ec echo.Context) error {
	return c.verificationPage(ec, http.StatusOK, formState{})
}

// refusedOn shows the page again with r's message on field's form
// (submit, or the upload's).
func (c *Console) refusedOn(ec echo.Context, r *Refused, field string, form map[string]string) error {
	return c.verificationPage(ec, r.Status, formState{Form: form, Field: field, Error: say(who(ec), "console.act.refused", r.Message)})
}

func (c *Console) uploadDocument(ec echo.Context) error {
	w := who(ec)
	form := map[string]string{"kind": ec.FormValue("kind"), "title": ec.FormValue("title"), "expires_at": ec.FormValue("expires_at")}
	fh, err := ec.FormFile("file")
	if err != nil {
		return c.verificationPage(ec, http.StatusUnprocessableEntity, formState{Form: form, Field: "file", Error: say(w, "console.media.file.missing", nil)})
	}
	err = c.d.Verifying.Upload(ec.Request().Context(), w, fh, form["kind"], form["title"], form["expires_at"])
	var r *Refused
	if errors.As(err, &r) {
		return c.refusedOn(ec, r, "upload", form)
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/verification#drafts")
}

func (c *Console) deleteDocument(ec echo.Context) error {
	id, err := uuid.Parse(ec.Param("did"))
	if err != nil {
		return ErrNotFound
	}
	if err := c.d.Verifying.DeleteDraft(ec.Request().Context(), who(ec), id); err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/verification#drafts")
}

func (c *Console) submitVerification(ec echo.Context) error {
	err := c.d.Verifying.Submit(ec.Request().Context(), who(ec))
	var r *Refused
	if errors.As(err, &r) {
		return c.refusedOn(ec, r, "submit", nil)
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/verification")
}

func (c *Console) serveDocument(ec echo.Context) error {
	id, err := uuid.Parse(ec.Param("did"))
	if err != nil {
		return ErrNotFound
	}
	return c.d.Verifying.ServeDocument(ec.Response(), ec.Request(), who(ec), id)
}

func (c *Console) verifications(ec echo.Context) error {
	list, err := c.d.Verifying.ToReview(ec.Request().Context())
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "verifications", "", list)
}

// reviewPage is one verification for staff, with their decision form.
type reviewPage struct {
	V verification.Verification
	formState
}

func (c *Console) review(ec echo.Context, status int, form formState) error {
	id, err := uuid.Parse(ec.Param("vid"))
	if err != nil {
		return ErrNotFound
	}
	v, err := c.d.Verifying.Get(ec.Request().Context(), who(ec), id)
	if err != nil {
		return err
	}
	if form.Form == nil {
		form.Form = map[string]string{}
	}
	return c.render(ec, status, "review", "", reviewPage{V: v, formState: form})
}

func (c *Console) reviewVerification(ec echo.Context) error {
	return c.review(ec, http.StatusOK, formState{})
}

func (c *Console) decideVerification(ec echo.Context) error {
	id, err := uuid.Parse(ec.Param("vid"))
	if err != nil {
		return ErrNotFound
	}
	w := who(ec)
	form := map[string]string{"decision": ec.FormValue("decision"), "note": ec.FormValue("note")}
	err = c.d.Verifying.Decide(ec.Request().Context(), w, id, form["decision"], form["note"])
	var r *Refused
	if errors.As(err, &r) {
		return c.review(ec, r.Status, formState{Form: form, Field: "note", Error: say(w, "console.act.refused", r.Message)})
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/verifications/"+id.String())
}
