package console

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/dealdoc"
	"github.com/tradeloop/tradeloop/internal/dealview"
	"github.com/tradeloop/tradeloop/internal/identity"
	"github.com/tradeloop/tradeloop/internal/inbox"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/internal/texts"
	"github.com/tradeloop/tradeloop/workflows"
)

// ---- signing in and out ----

// signInForm is the sign-in page's data.
type signInForm struct {
	Email, Next, CSRF, Error string
	// PasswordSet: the user just set its password through a mailed link.
	PasswordSet bool
}

func (c *Console) signInPage(ec echo.Context) error {
	token := signin.NewToken()
	ec.SetCookie(&http.Cookie{Name: signInCookie, Value: token, Path: signInPath, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return c.render(ec, http.StatusOK, "signin", "", signInForm{Next: safeNext(ec.QueryParam("next")), CSRF: token,
		PasswordSet: ec.QueryParam("done") == "password"})
}

func (c *Console) signIn(ec echo.Context) error {
	form := signInForm{Email: ec.FormValue("email"), Next: safeNext(ec.FormValue("next"))}
	ck, err := ec.Cookie(signInCookie)
	if err != nil || ck.Value == "" || ck.Value != ec.FormValue("csrf") {
		return c.fail(ec, http.StatusForbidden, "console.error.csrf")
	}
	form.CSRF = ck.Value
	s, err := c.d.SignIn.SignIn(ec.Request().Context(), form.Email, ec.FormValue("password"))
	var locked *signin.LockedError
	switch {
	case errors.Is(err, signin.ErrBadCredentials):
		form.Error = texts.Phrase(texts.Default, "console.signin.bad", nil)
		return c.render(ec, http.StatusUnauthorized, "signin", "", form)
	case errors.As(err, &locked):
		form.Error = texts.Phrase(texts.Default, "console.signin.locked", texts.Time(texts.Default, locked.Until))
		return c.render(ec, http.StatusTooManyRequests, "signin", "", form)
	case err != nil:
		return err
	}
	ec.SetCookie(&http.Cookie{Name: signInCookie, Value: "", Path: signInPath, MaxAge: -1, HttpOnly: true, Secure: true})
	ec.SetCookie(&http.Cookie{Name: sessionCookie, Value: s.Token, Path: Root, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteLaxMode, MaxAge: int(signin.SessionMax.Seconds())})
	return ec.Redirect(http.StatusSeeOther, cmp.Or(form.Next, Root))
}

// safeNext is where to go after signing in: a console path, never another
// site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Root+"/") && next != Root || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") || len(next) > 512 {
		return ""
	}
	return next
}

func (c *Console) signOut(ec echo.Context) error {
	if err := c.d.SignIn.SignOut(ec.Request().Context(), who(ec)); err != nil {
		return err
	}
	return c.leave(ec)
}

func (c *Console) signOutEverywhere(ec echo.Context) error {
	if _, err := c.d.SignIn.SignOutEverywhere(ec.Request().Context(), who(ec).UserID); err != nil {
		return err
	}
	return c.leave(ec)
}

func (c *Console) leave(ec echo.Context) error {
	ec.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: Root, MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode})
	return ec.Redirect(http.StatusSeeOther, signInPath)
}

// ---- home ----

// dealLine is one deal on a list.
type dealLine struct {
	readmodel.Summary
	Stage workflows.Stage
	// QuoteDue is when the viewing supplier's quote is due (inquiries to
	// answer).
	QuoteDue time.Time
}

type homeData struct {
	Role string
	// Stage filters the deals ("" for all); Stages are those to choose.
	Stage     workflows.Stage
	Stages    []workflows.Stage
	Inquiries []dealLine
	Deals     []dealLine
	Now       time.Time
}

// maxInquiries bounds the inquiries a supplier's home looks up one by one
// for their quote deadlines.
const maxInquiries = 20

func (c *Console) home(ec echo.Context) error {
	w := who(ec)
	data := homeData{Role: w.Role, Now: c.d.Now()}
	if w.Role == string(workflows.RoleAdmin) || w.Role == string(workflows.RoleFinance) {
		// No deal list of their own: their pages are finance's (and
		// administration's).
		return c.render(ec, http.StatusOK, "home", "", data)
	}
	ctx := ec.Request().Context()
	data.Stages = workflows.Stages
	if st := workflows.Stage(ec.QueryParam("stage")); slices.Contains(workflows.Stages, st) {
		data.Stage = st
	}
	page, err := c.d.Lists.List(ctx, readmodel.Viewer{Role: workflows.Role(w.Role), OrgID: w.OrgID.String(), UserID: w.UserID.String()},
		readmodel.Filter{Limit: 100, Stage: string(data.Stage)})
	if err != nil {
		return err
	}
	for _, s := range page.Deals {
		line := dealLine{Summary: s, Stage: workflows.Stage(s.Stage)}
		if w.Role == string(workflows.RoleSupplier) && line.Stage == workflows.StageQuoting && len(data.Inquiries) < maxInquiries {
			st, err := c.d.Deal(ctx, viewerOf(w), s.ID)
			if err == nil {
				for _, inv := range st.Invitations {
					if inv.SupplierID == w.OrgID.String() && inv.Status == workflows.InvitationPending {
						line.QuoteDue = inv.DueAt
					}
				}
			}
			if !line.QuoteDue.IsZero() {
				data.Inquiries = append(data.Inquiries, line)
				continue
			}
		}
		data.Deals = append(data.Deals, line)
	}
	slices.SortStableFunc(data.Inquiries, func(a, b dealLine) int { return a.QuoteDue.Compare(b.QuoteDue) })
	return c.render(ec, http.StatusOK, "home", "", data)
}

func viewerOf(w signin.Who) dealview.Viewer {
	return dealview.Viewer{Role: workflows.Role(w.Role), OrgID: w.OrgID.String(), UserID: w.UserID.String()}
}

// mediation lists the deals waiting for a mediator (mediators only).
func (c *Console) mediation(ec echo.Context) error {
	w := who(ec)
	page, err := c.d.Lists.List(ec.Request().Context(), readmodel.Viewer{Role: workflows.RoleMediator, OrgID: w.OrgID.String(), UserID: w.UserID.String()},
		readmodel.Filter{Stage: string(workflows.StageMediation), Limit: 100})
	if err != nil {
		return err
	}
	data := homeData{Role: w.Role, Now: c.d.Now()}
	for _, s := range page.Deals {
		data.Deals = append(data.Deals, dealLine{Summary: s, Stage: workflows.Stage(s.Stage)})
	}
	return c.render(ec, http.StatusOK, "mediation", "", data)
}

// ---- a deal ----

// deadline is one of a deal's deadlines, soonest first.
type deadline struct {
	Name string
	At   time.Time
}

type dealData struct {
	Deal      workflows.DealState
	Deadlines []deadline
	Actions   actions
	// Held is what the escrow holds for the goods: what a settlement or a
	// decision divides.
	Held int64
	// Proposals are the dispute's settlement proposals as the viewer reads
	// them.
	Proposals []proposalLine
	// Review is a mediator's decision to confirm, in money.
	Review *decisionReview
	// Coupon is the buyer's coupon its deposit would use, at most the
	// deposit (0: none).
	Coupon int64
	// Why the last action was not done, and what the viewer typed,
	// shown again after an error.
	formState
}

// VolumeRows are the suffixes of the quote form's volume price rows.
func (dealData) VolumeRows() []string { return volumeRows }

// proposalLine is one settlement proposal: who made it, what it gives
// each side, and whether the viewer may accept it.
type proposalLine struct {
	workflows.Proposal
	ByBuyer   bool
	Refund    int64
	CanAccept bool
}

// dealFormFields are the deal page's form fields, shown again as typed
// after an error.
var dealFormFields = append([]string{"unit_price", "lead_time_days", "note", "carrier", "tracking_number",
	"reason", "remedy", "evidence", "message", "release_amount", "outcome", "supplier_id", "target_unit_price", "percent",
	"sample_price", "moq", "trial", "stars", "comment"}, volumeFields()...)

// volumeFields are the quote form's volume price fields, each row's
// quantity and price.
func volumeFields() []string {
	var out []string
	for _, row := range volumeRows {
		out = append(out, "tier_quantity"+row, "tier_price"+row)
	}
	return out
}

func (c *Console) deal(ec echo.Context) error {
	st, err := c.d.Deal(ec.Request().Context(), viewerOf(who(ec)), ec.Param("id"))
	if err != nil {
		return err
	}
	return c.showDeal(ec, http.StatusOK, st, "", "")
}

// showDeal renders the deal page, with an action's error when there is one.
func (c *Console) showDeal(ec echo.Context, status int, st workflows.DealState, msg, field string) error {
	return c.showDealWith(ec, status, st, func(d *dealData) { d.Error, d.Field = msg, field })
}

// showDealWith renders the deal page with what set adds to it.
func (c *Console) showDealWith(ec echo.Context, status int, st workflows.DealState, set func(*dealData)) error {
	w := who(ec)
	data := dealData{Deal: st, Actions: actionsFor(w, st), Held: st.GoodsHeld(), formState: formState{Form: map[string]string{}}}
	set(&data)
	if data.Actions.Pay == activities.StepDeposit && c.d.Referring.Next != nil && !slices.ContainsFunc(st.Payments, func(p workflows.Payment) bool { return p.Kind == workflows.PaymentCoupon }) {
		next, err := c.d.Referring.Next(ec.Request().Context(), w, st.Currency)
		if err != nil {
			return err
		}
		data.Coupon = min(next, st.Deposit)
	}
	for name, at := range st.Deadlines {
		words := say(w, "deadline."+name, nil)
		if words == "" {
			words = strings.ReplaceAll(name, "_", " ")
		}
		data.Deadlines = append(data.Deadlines, deadline{Name: words, At: at})
	}
	// Each quote still awaited (the viewer sees its own invitation, or a
	// buyer every supplier's) is due by its SLA.
	for _, inv := range st.Invitations {
		if inv.Status == workflows.InvitationPending && st.Stage == workflows.StageQuoting {
			data.Deadlines = append(data.Deadlines, deadline{Name: say(w, "console.deal.quote_due", nil), At: inv.DueAt})
		}
	}
	slices.SortFunc(data.Deadlines, func(a, b deadline) int { return a.At.Compare(b.At) })
	if d := st.Dispute; d != nil {
		party := st.Inquiry.BuyerOrgID == w.OrgID.String() || st.SupplierID == w.OrgID.String()
		for _, p := range d.Proposals {
			data.Proposals = append(data.Proposals, proposalLine{Proposal: p, ByBuyer: p.By == st.Inquiry.BuyerOrgID,
				Refund: max(data.Held-p.ReleaseAmount, 0), CanAccept: party && p.Status == workflows.ProposalOpen && p.By != w.OrgID.String() &&
					(st.Stage == workflows.StageDispute || st.Stage == workflows.StageMediation)})
		}
	}
	if data.Error != "" || data.Review != nil {
		for _, f := range dealFormFields {
			data.Form[f] = ec.FormValue(f)
		}
	}
	return c.render(ec, status, "deal", st.Inquiry.Product, data)
}

// comparisonFormats are the quote comparison's downloads: a spreadsheet
// to work with, a table for Excel and a PDF to forward.
var comparisonFormats = []sheet.Format{sheet.CSV, sheet.XLSX, sheet.PDF}

// comparison sends the deal's quote comparison as a file to download.
func (c *Console) comparison(ec echo.Context) error {
	f := sheet.Format(ec.Param("format"))
	if !slices.Contains(comparisonFormats, f) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	doc, err := c.d.Comparison(ec.Request().Context(), viewerOf(who(ec)), ec.Param("id"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := (sheet.Writer{Font: c.d.PDFFont}).Write(&buf, f, doc); err != nil {
		return fmt.Errorf("render the quote comparison as %s: %w", f, err)
	}
	ec.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="quotes-%s.%s"`, ec.Param("id"), f))
	return ec.Blob(http.StatusOK, f.ContentType(), buf.Bytes())
}

// dealDocument sends the deal's summary (CSV, Excel, PDF) or its contract
// (PDF), as the viewer sees the deal.
func (c *Console) dealDocument(ec echo.Context) error {
	ctx := ec.Request().Context()
	st, err := c.d.Deal(ctx, viewerOf(who(ec)), ec.Param("id"))
	if err != nil {
		return err
	}
	names, err := c.d.Identity.OrgNames(ctx, st.Inquiry.BuyerOrgID, st.SupplierID)
	if err != nil {
		return err
	}
	now := c.d.Now()
	var doc sheet.Document
	f := sheet.Format(ec.Param("format"))
	switch ec.Param("doc") {
	case "summary":
		if !slices.Contains(comparisonFormats, f) {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		doc = dealdoc.Summary(st, names, now)
	case "contract":
		var ok bool
		if doc, ok = dealdoc.Contract(st, names, now); !ok || f != sheet.PDF {
			return echo.NewHTTPError(http.StatusNotFound)
		}
	default:
		return echo.NewHTTPError(http.StatusNotFound)
	}
	var buf bytes.Buffer
	if err := (sheet.Writer{Font: c.d.PDFFont}).Write(&buf, f, doc); err != nil {
		return fmt.Errorf("render the deal's %s as %s: %w", ec.Param("doc"), f, err)
	}
	ec.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s-%s.%s"`, ec.Param("doc"), st.DealID, f))
	return ec.Blob(http.StatusOK, f.ContentType(), buf.Bytes())
}

// contractTemplate sends the platform's contract template, filled from
// the deal when the path names one, in the reader's language, as PDF or
// DOCX.
func (c *Console) contractTemplate(ec echo.Context) error {
	f := sheet.Format(ec.Param("format"))
	if f != sheet.PDF && f != sheet.DOCX {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	w := who(ec)
	r := texts.ReaderOf(w.Language, w.TimeZone)
	name := "contract-template-" + string(r.Lang)
	doc := c.d.BlankContractTemplate(r)
	if id := ec.Param("id"); id != "" {
		var err error
		if doc, err = c.d.ContractTemplate(ec.Request().Context(), viewerOf(w), id, r); err != nil {
			return err
		}
		name = "contract-" + id + "-" + string(r.Lang) // an ID the deal's lookup accepted: letters, digits, - and _
	}
	var buf bytes.Buffer
	if err := (sheet.Writer{Font: c.d.PDFFont}).Write(&buf, f, doc); err != nil {
		return fmt.Errorf("render the contract template as %s: %w", f, err)
	}
	ec.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s.%s"`, name, f))
	return ec.Blob(http.StatusOK, f.ContentType(), buf.Bytes())
}

// ---- notifications ----

type notificationsData struct {
	Page inbox.Page
	Next string
}

func (c *Console) notifications(ec echo.Context) error {
	pg, err := c.d.Inbox.Read(ec.Request().Context(), who(ec).UserID, ec.QueryParam("cursor"), 50)
	if errors.Is(err, inbox.ErrBadCursor) {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if err != nil {
		return err
	}
	return c.render(ec, http.StatusOK, "notifications", "", notificationsData{Page: pg, Next: pg.Next})
}

func (c *Console) markRead(ec echo.Context) error {
	id, err := uuid.Parse(ec.Param("nid"))
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	if _, err := c.d.Inbox.MarkRead(ec.Request().Context(), who(ec).UserID, id); errors.Is(err, inbox.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound)
	} else if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/notifications")
}

func (c *Console) markAllRead(ec echo.Context) error {
	if _, err := c.d.Inbox.MarkAllRead(ec.Request().Context(), who(ec).UserID); err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/notifications")
}

// ---- settings ----

type settingsData struct {
	Language, TimeZone string
	Langs              []texts.Lang
	// Errors are the fields' messages; Saved says the change was made.
	Errors map[string]string
	Saved  bool
}

func (c *Console) settings(ec echo.Context) error {
	w := who(ec)
	return c.render(ec, http.StatusOK, "settings", "", settingsData{Language: w.Language, TimeZone: w.TimeZone, Langs: texts.Langs,
		Saved: ec.QueryParam("saved") == "1"})
}

func (c *Console) saveSettings(ec echo.Context) error {
	w := who(ec)
	in := identity.Reading{Language: ec.FormValue("language"), TimeZone: strings.TrimSpace(ec.FormValue("time_zone"))}
	_, err := c.d.Identity.SetReading(ec.Request().Context(), w.UserID, in)
	var re *identity.ReadingError
	if errors.As(err, &re) {
		data := settingsData{Language: cmp.Or(in.Language, w.Language), TimeZone: in.TimeZone, Langs: texts.Langs, Errors: map[string]string{re.Field: re.Reason}}
		return c.render(ec, http.StatusUnprocessableEntity, "settings", "", data)
	}
	if err != nil {
		return err
	}
	return ec.Redirect(http.StatusSeeOther, Root+"/settings?saved=1")
}
