package api

import (
	"context"
	"errors"
	"log/slog"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/console"
	"github.com/tradeloop/tradeloop/internal/deals"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/internal/verification"
	"github.com/tradeloop/tradeloop/workflows"
)

// verificationDocumentsPath is where a supplier uploads its verification
// documents, under /v1 and the console's root alike.
const verificationDocumentsPath = "/verification/documents"

// verificationBodyLimit lets document uploads be as large as product
// media's.
func verificationBodyLimit(path string) bool {
	return path == "/v1"+verificationDocumentsPath || path == console.Root+verificationDocumentsPath
}

// verificationWorkflow is the deals client's calls for verifications.
func verificationWorkflow() deals.Workflow {
	return deals.Workflow{Name: workflows.VerificationWorkflowName, ID: workflows.VerificationWorkflowID}
}

// MyVerification is a supplier's verification page: its badge, the
// documents it uploaded and has not submitted, and its verifications.
type MyVerification struct {
	verification.Page
	Policy workflows.VerificationPolicy `json:"policy"`
}

// verificationErr maps the verification service's errors to the API's.
func verificationErr(err error) error {
	switch {
	case errors.Is(err, verification.ErrNotFound):
		return apiErr(http.StatusNotFound, "item_not_found", "no such verification or document")
	case errors.Is(err, verification.ErrInReview):
		return apiErr(http.StatusConflict, "in_review", "%v", err)
	case errors.Is(err, verification.ErrNoFiles):
		return errMediaUnavailable
	case errors.Is(err, deals.ErrClosed):
		return apiErr(http.StatusConflict, "wrong_stage", "the verification has ended and takes no more decisions")
	}
	return boundsError(mediaErr(err))
}

// MyVerification is supplier p's verification page.
func (s *Server) MyVerification(ctx context.Context, p Principal) (MyVerification, error) {
	out := MyVerification{Policy: s.verification}
	var until *time.Time
	sup, err := s.market.Supplier(ctx, p.OrgID)
	switch {
	case err == nil:
		until = sup.VerifiedUntil
	case !errors.Is(err, marketplace.ErrNotFound):
		return out, err
	}
	out.Page, err = s.verify.Page(ctx, p.OrgID, until)
	return out, err
}

// UploadDocument stores the uploaded file fh in supplier p's draft, as a
// document of kind, titled (a certificate's name) and expiring as given
// (RFC 3339, or a date: its midnight UTC; "" for none).
func (s *Server) UploadDocument(ctx context.Context, p Principal, fh *multipart.FileHeader, kind, title, expires string) (verification.Document, error) {
	var until *time.Time
	if expires = strings.TrimSpace(expires); expires != "" {
		t, err := parseExpiry(expires)
		if err != nil {
			return verification.Document{}, err
		}
		until = &t
	}
	file, err := fh.Open()
	if err != nil {
		return verification.Document{}, invalid("file", "could not be read")
	}
	defer file.Close()
	doc, err := s.verify.Upload(ctx, p.OrgID, verification.Upload{
		Upload: mediaUpload(kind, fh, file), Title: title, ExpiresAt: until,
	})
	return doc, verificationErr(err)
}

// parseExpiry reads an expiry as RFC 3339 or as a date (YYYY-MM-DD, at
// its midnight UTC).
func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, invalid("expires_at", "is a date (2027-06-30) or a time in RFC 3339 (2027-06-30T00:00:00Z)")
}

// SubmitVerification submits supplier p's draft: a new verification, whose
// workflow it starts, or the next round of the one whose
// revision was asked for.
func (s *Server) SubmitVerification(ctx context.Context, p Principal) (st workflows.VerificationStatus, id uuid.UUID, err error) {
	sub, err := s.verify.Submit(ctx, p.OrgID, p.UserID)
	if err != nil {
		return st, id, verificationErr(err)
	}
	wf := s.deals.For(verificationWorkflow())
	if sub.Resubmission {
		err = wf.Act(ctx, sub.VerificationID.String(), workflows.UpdateResubmitVerification, "",
			workflows.VerificationResubmission{Actor: p.UserID.String(), Documents: sub.Documents, ExpiresAt: sub.ExpiresAt}, &st)
		return st, sub.VerificationID, verificationErr(err)
	}
	in := workflows.VerificationInput{ID: sub.VerificationID.String(), OrgID: p.OrgID.String(), SubmittedBy: p.UserID.String(), ExpiresAt: sub.ExpiresAt,
		Policy: s.verification}
	if _, err := wf.StartWith(ctx, in.ID, in); err != nil {
		if werr := s.verify.Withdraw(context.WithoutCancel(ctx), p.OrgID, sub.VerificationID); werr != nil {
			s.logger.Error("a submission whose workflow did not start was not withdrawn", "verification", sub.VerificationID, "error", werr)
		}
		return st, id, err
	}
	return workflows.VerificationStatus{Status: activities.VerificationInReview, Round: 1}, sub.VerificationID, nil
}

// Verification is verification id for p: its supplier's own, or any for
// staff (admin); another's is ErrNotFound, never a confirmation.
func (s *Server) Verification(ctx context.Context, p Principal, id uuid.UUID) (verification.Verification, error) {
	v, err := s.verify.Get(ctx, id)
	if err == nil && p.Role != workflows.RoleAdmin && v.SupplierID != p.OrgID {
		err = verification.ErrNotFound
	}
	return v, verificationErr(err)
}

// DecideVerification is staff's decision on verification id.
func (s *Server) DecideVerification(ctx context.Context, p Principal, id uuid.UUID, decision, note string) (workflows.VerificationStatus, error) {
	if _, err := s.verify.Get(ctx, id); err != nil {
		return workflows.VerificationStatus{}, verificationErr(err)
	}
	d := workflows.VerificationDecision{Actor: p.UserID.String(), Decision: decision, Note: note}
	if err := d.Validate(); err != nil {
		return workflows.VerificationStatus{}, err
	}
	var st workflows.VerificationStatus
	err := s.deals.For(verificationWorkflow()).Act(ctx, id.String(), workflows.UpdateDecideVerification, "", d, &st)
	return st, verificationErr(err)
}

// ---- the routes ----

func (s *Server) getMyVerification(c echo.Context) error {
	v, err := s.MyVerification(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) uploadDocument(c echo.Context) error {
	if !strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		return apiErr(http.StatusUnsupportedMediaType, "unsupported_media_type", "send the file as multipart/form-data, in the field file, with the fields kind, title and expires_at")
	}
	fh, err := formFile(c)
	if err != nil {
		return err
	}
	doc, err := s.UploadDocument(c.Request().Context(), principal(c), fh, c.FormValue("kind"), c.FormValue("title"), c.FormValue("expires_at"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, doc)
}

func (s *Server) deleteDocument(c echo.Context) error {
	id, err := uuid.Parse(c.Param("did"))
	if err != nil {
		return verificationErr(verification.ErrNotFound)
	}
	if err := s.verify.DeleteDraft(c.Request().Context(), principal(c).OrgID, id); err != nil {
		return verificationErr(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"id": id, "deleted": true})
}

func (s *Server) getDocument(c echo.Context) error {
	id, err := uuid.Parse(c.Param("did"))
	if err != nil {
		return verificationErr(verification.ErrNotFound)
	}
	return s.ServeDocument(c.Response(), c.Request(), principal(c), id)
}

// ServeDocument writes document id's file for p: its supplier's, or
// staff's; anyone else gets ErrNotFound.
func (s *Server) ServeDocument(w http.ResponseWriter, r *http.Request, p Principal, id uuid.UUID) error {
	doc, org, err := s.verify.Document(r.Context(), id)
	if err == nil && p.Role != workflows.RoleAdmin && org != p.OrgID {
		err = verification.ErrNotFound
	}
	if err == nil {
		err = s.verify.Serve(w, r, doc, false)
	}
	return verificationErr(err)
}

func (s *Server) submitVerification(c echo.Context) error {
	st, id, err := s.SubmitVerification(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/verifications/"+id.String())
	return c.JSON(http.StatusCreated, map[string]any{"id": id, "status": st})
}

func (s *Server) listVerifications(c echo.Context) error {
	list, err := s.verify.ToReview(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"verifications": list})
}

func verificationID(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("vid"))
	if err != nil {
		return uuid.Nil, verificationErr(verification.ErrNotFound)
	}
	return id, nil
}

func (s *Server) getVerification(c echo.Context) error {
	id, err := verificationID(c)
	if err != nil {
		return err
	}
	v, err := s.Verification(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// DecisionBody is staff's decision as the API takes it.
type DecisionBody struct {
	Decision string `json:"decision"`
	Note     string `json:"note"`
}

func (s *Server) decideVerification(c echo.Context) error {
	id, err := verificationID(c)
	if err != nil {
		return err
	}
	var body DecisionBody
	if err := decode(c, &body); err != nil {
		return err
	}
	st, err := s.DecideVerification(c.Request().Context(), principal(c), id, body.Decision, body.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

// consoleVerifying is the console's verification pages on the API's own
// calls and rules.
func (s *Server) consoleVerifying(logger *slog.Logger) console.Verifying {
	// seen is err as the console shows it, anything not found (another's
	// verification or document) as its not-found page.
	seen := func(err error) error {
		err = forConsole(err, logger)
		var r *console.Refused
		if errors.As(err, &r) && r.Status == http.StatusNotFound {
			return console.ErrNotFound
		}
		return err
	}
	return console.Verifying{
		Mine: func(ctx context.Context, w signin.Who) (verification.Page, error) {
			v, err := s.MyVerification(ctx, principalOf(w))
			return v.Page, err
		},
		Upload: func(ctx context.Context, w signin.Who, fh *multipart.FileHeader, kind, title, expires string) error {
			_, err := s.UploadDocument(ctx, principalOf(w), fh, kind, title, expires)
			return forConsole(err, logger)
		},
		DeleteDraft: func(ctx context.Context, w signin.Who, id uuid.UUID) error {
			return seen(verificationErr(s.verify.DeleteDraft(ctx, w.OrgID, id)))
		},
		Submit: func(ctx context.Context, w signin.Who) error {
			_, _, err := s.SubmitVerification(ctx, principalOf(w))
			return forConsole(err, logger)
		},
		ToReview: s.verify.ToReview,
		Get: func(ctx context.Context, w signin.Who, id uuid.UUID) (verification.Verification, error) {
			v, err := s.Verification(ctx, principalOf(w), id)
			return v, seen(err)
		},
		Decide: func(ctx context.Context, w signin.Who, id uuid.UUID, decision, note string) error {
			_, err := s.DecideVerification(ctx, principalOf(w), id, decision, note)
			return forConsole(err, logger)
		},
		ServeDocument: func(rw http.ResponseWriter, r *http.Request, w signin.Who, id uuid.UUID) error {
			return seen(s.ServeDocument(rw, r, principalOf(w), id))
		},
	}
}
