// Package console is the web console people use instead of the JSON API:
// server-rendered pages under /app (Go templates, CSS that works from a
// phone to a desktop, no script needed; a small script of our own counts
// deadlines down). People sign in with their e-mail address and password
// (internal/signin); every form carries its session's CSRF token. Pages
// use the same services as the API (the deal as its viewer sees it, the
// read model's lists, the inbox), so rules and views are the same, and
// speak the user's language and time zone (internal/texts).
package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/dealview"
	"github.com/tradeloop/tradeloop/internal/finance"
	"github.com/tradeloop/tradeloop/internal/identity"
	"github.com/tradeloop/tradeloop/internal/inbox"
	"github.com/tradeloop/tradeloop/internal/landedcost"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/media"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/pricetrend"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/internal/texts"
	"github.com/tradeloop/tradeloop/workflows"
)

// ErrNotFound is what Deps.Deal answers for a deal the viewer may not see
// or that does not exist.
var ErrNotFound = errors.New("no such deal")

// Deps are the services the console's pages use.
type Deps struct {
	SignIn   *signin.Service
	Identity *identity.Service
	Lists    *readmodel.Store
	Market   *marketplace.Market
	// PriceTrends reads the daily price index per category; nil: the
	// product page shows no trend.
	PriceTrends *pricetrend.Service
	// LandedCost prices products delivered (the API's calculator).
	LandedCost *landedcost.Service
	Ledger     *ledger.Ledger
	Finance    *finance.Service
	Inbox      *inbox.Service
	// Deal is the deal id as viewer sees it (the API's own rule), or
	// ErrNotFound.
	Deal func(ctx context.Context, viewer dealview.Viewer, id string) (workflows.DealState, error)
	// Comparison is the quote comparison of deal id as a document (the
	// API's), or ErrNotFound.
	Comparison func(ctx context.Context, viewer dealview.Viewer, id string) (sheet.Document, error)
	// ContractTemplate is the contract template filled from deal id as
	// viewer sees it, for r (the API's), or ErrNotFound.
	ContractTemplate func(ctx context.Context, viewer dealview.Viewer, id string, r texts.Reader) (sheet.Document, error)
	// BlankContractTemplate is the platform's contract template with
	// blanks, for r (the API's).
	BlankContractTemplate func(r texts.Reader) sheet.Document
	// RecordView logs who's look at a product for the funnel (the API's
	// rule: buyers' looks count), by the platform's link it came by.
	RecordView func(ctx context.Context, who signin.Who, p marketplace.Product, via marketplace.Channel)
	// Watching is the buyers' watchlist (the API's rules).
	Watching Watching
	// Referring is the buyers' referral links and coupons.
	Referring Referring
	// Verifying is suppliers' verification and staff's review of it.
	Verifying Verifying
	// Promoting is suppliers' paid new-product notices.
	Promoting Promoting
	// Advertising is the suppliers' search ads and the sponsored results
	// of searches.
	Advertising Advertising
	// Depositing is suppliers' security deposits.
	Depositing Depositing
	// Certifying is suppliers' Gold certification.
	Certifying Certifying
	// Buying is what buyers buy and the offers matched to it.
	Buying Buying
	// Reactivated records that who followed the link of reactivation
	// message id, or ErrNotFound (not its message).
	Reactivated func(ctx context.Context, who signin.Who, id uuid.UUID) error
	// Acting acts on deals.
	Acting Acting
	// Admin administers organizations and users.
	Admin Admin
	// ImportCatalog lists or replaces who's products from a catalog file
	// (the API's import, with its limits), or a *Refused.
	ImportCatalog func(ctx context.Context, who signin.Who, f sheet.Format, file io.Reader, mode marketplace.ImportMode) (marketplace.ImportReport, error)
	Logger        *slog.Logger
	// PublicURL is the platform's address (config PUBLIC_URL): mailed
	// links start with it.
	PublicURL string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PDFFont prints the PDFs' Chinese; nil: they print it as "?".
	PDFFont *sheet.Font
	// Media serves products' media; nil: products show none.
	Media *media.Service
	// AddMedia stores file fh as a medium of kind of who's product (the
	// API's checks), or a *Refused.
	AddMedia func(ctx context.Context, who signin.Who, product uuid.UUID, kind string, fh *multipart.FileHeader) error
}

// Console serves the pages.
type Console struct {
	d     Deps
	pages map[string]*template.Template
}

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Paths of the console.
const (
	Root       = "/app"
	signInPath = Root + "/signin"
	// sessionCookie holds the session's token; signInCookie the CSRF token
	// of the sign-in form (there is no session yet to hold it).
	sessionCookie = "tl_session"
	signInCookie  = "tl_signin"
)

// New returns the console over d.
func New(d Deps) *Console {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	pages := map[string]*template.Template{}
	names, _ := fs.Glob(templateFiles, "templates/*.html")
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		pages[base] = template.Must(template.New("layout.html").Funcs(template.FuncMap{"field": formField, "list": func(v ...string) []string { return v },
			"pair": func(p page, v any) pageValue { return pageValue{Page: p, Value: v} },
			// For the charts drawn on the server: a chart's height for n bars,
			// a coordinate moved by d, a rate as a percentage.
			"chartHeight": func(n int) int { return n*32 + 8 },
			"hasPrefix":   strings.HasPrefix,
			// A time that may be absent, as a time (zero when absent).
			"deref": func(t *time.Time) time.Time {
				if t == nil {
					return time.Time{}
				}
				return *t
			},
			"plus":    func(d, v int) int { return v + d },
			"percent": func(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) + " %" },
			// A share in basis points as the rate percent reads.
			"bp": func(n int) float64 { return float64(n) / 10000 }}).ParseFS(templateFiles, "templates/layout.html", n))
	}
	return &Console{d: d, pages: pages}
}

// Register mounts the console on e under Root.
func (c *Console) Register(e *echo.Echo) {
	g := e.Group(Root, securityHeaders)
	static, _ := fs.Sub(staticFiles, "static")
	g.GET("/static/*", echo.WrapHandler(http.StripPrefix(Root+"/static/", cacheFor(time.Hour, http.FileServerFS(static)))))
	g.GET("/signin", c.signInPage)
	g.POST("/signin", c.signIn)
	g.GET("/signin/forgot", c.forgotPage)
	g.POST("/signin/forgot", c.sendReset)
	g.GET("/link", c.linkPage)
	g.POST("/link", c.useLink)
	in := g.Group("", c.session, c.checkCSRF)
	in.GET("", c.home)
	in.GET("/", c.home)
	in.GET("/inquiries/new", c.inquiryForm, only(string(workflows.RoleBuyer)))
	in.POST("/inquiries", c.sendInquiry, only(string(workflows.RoleBuyer)))
	in.GET("/catalog", c.catalog, only(string(workflows.RoleSupplier)))
	in.GET("/catalog/export/:format", c.exportCatalog, only(string(workflows.RoleSupplier)))
	in.POST("/catalog/import", c.importCatalog, only(string(workflows.RoleSupplier)))
	admins := only(string(workflows.RoleAdmin))
	in.GET("/admin", c.admin, admins)
	in.POST("/admin/orgs", c.createOrganization, admins)
	in.GET("/admin/orgs/:org", c.organization, admins)
	in.POST("/admin/orgs/:org/users", c.addUser, admins)
	in.POST("/admin/orgs/:org/users/:uid/invite", c.reinvite, admins)
	in.GET("/admin/users/:uid/keys", c.keys, admins)
	in.POST("/admin/users/:uid/keys", c.createKey, admins)
	in.POST("/admin/users/:uid/keys/:kid/revoke", c.revokeKey, admins)
	analysts := only(string(workflows.RoleFinance), string(workflows.RoleAdmin))
	in.GET("/finance/ledger", c.ledgerPage, analysts)
	in.GET("/finance/ledger.csv", c.ledgerCSV, analysts)
	in.GET("/finance/payments", c.payments, analysts)
	in.GET("/finance/watchdog", c.watchdog, analysts)
	in.GET("/finance/funnel", c.funnel, analysts)
	in.GET("/products", c.products)
	in.GET("/products/:pid", c.product)
	in.GET("/products/:pid/landed-cost", c.landedCost)
	in.POST("/products/:pid/inquiry", c.inquireProduct, only(string(workflows.RoleBuyer)))
	in.POST("/products/:pid/media", c.uploadMedia, only(string(workflows.RoleSupplier)))
	in.POST("/products/:pid/media/:mid/delete", c.deleteMedia, only(string(workflows.RoleSupplier)))
	in.POST("/products/:pid/notices", c.sendNotice, only(string(workflows.RoleSupplier)))
	in.GET("/media/:mid", c.serveMedia(false))
	in.GET("/media/:mid/thumbnail", c.serveMedia(true))
	in.GET("/deals/:id", c.deal)
	in.GET("/deals/:id/comparison/:format", c.comparison, only(string(workflows.RoleBuyer)))
	in.GET("/deals/:id/documents/:doc/:format", c.dealDocument)
	in.GET("/deals/:id/contract-template/:format", c.contractTemplate)
	in.GET("/contract-template/:format", c.contractTemplate)
	in.POST("/deals/:id/quote", c.act(workflows.UpdateSubmitQuote, quoteForm))
	in.POST("/deals/:id/quotes/:qid/accept", c.act(workflows.UpdateAcceptQuote, acceptForm))
	in.POST("/deals/:id/counter-offers", c.act(workflows.UpdateCounterOffer, counterForm))
	in.POST("/deals/:id/sign", c.act(workflows.UpdateSignContract, signForm))
	in.POST("/deals/:id/sample/request", c.act(workflows.UpdateRequestSample, noteForm))
	in.POST("/deals/:id/sample/ship", c.act(workflows.UpdateShipSample, shipmentForm))
	in.POST("/deals/:id/sample/approve", c.act(workflows.UpdateApproveSample, noteForm))
	in.POST("/deals/:id/sample/reject", c.act(workflows.UpdateRejectSample, rejectSampleForm))
	in.POST("/deals/:id/production", c.act(workflows.UpdateReportProgress, progressForm))
	in.POST("/deals/:id/pay/:step", c.onDeal(c.pay))
	in.POST("/deals/:id/ready", c.act(workflows.UpdateMarkReady, noteForm))
	in.POST("/deals/:id/shipment", c.act(workflows.UpdateAddShipment, shipmentForm))
	in.POST("/deals/:id/accept", c.act(workflows.UpdateAcceptDelivery, noteForm))
	in.POST("/deals/:id/dispute", c.act(workflows.UpdateOpenDispute, disputeForm))
	in.POST("/deals/:id/dispute/answer", c.act(workflows.UpdateAnswerDispute, answerForm))
	in.POST("/deals/:id/dispute/proposals", c.act(workflows.UpdateProposeSettlement, proposalForm))
	in.POST("/deals/:id/dispute/proposals/:pid/accept", c.act(workflows.UpdateAcceptSettlement, acceptProposalForm))
	in.POST("/deals/:id/dispute/escalate", c.act(workflows.UpdateEscalateDispute, noteForm))
	in.POST("/deals/:id/decision", c.onDeal(c.decide), only(string(workflows.RoleMediator)))
	in.POST("/deals/:id/dispute/take", c.act(workflows.UpdateAssignMediator, takeForm), only(string(workflows.RoleMediator)))
	in.POST("/deals/:id/rating", c.onDeal(c.rate), only(string(workflows.RoleBuyer)))
	buyers := only(string(workflows.RoleBuyer))
	in.GET("/watches", c.watches, buyers)
	in.POST("/products/:pid/follow", c.followProduct, buyers)
	in.POST("/watches/category", c.followCategory, buyers)
	in.POST("/watches/:wid/delete", c.unfollow, buyers)
	in.GET("/r/:mid", c.reactivated, buyers)
	in.GET("/deposits", c.deposits, only(string(workflows.RoleSupplier), string(workflows.RoleMediator), string(workflows.RoleFinance), string(workflows.RoleAdmin)))
	in.POST("/deposits", c.payDeposit, only(string(workflows.RoleSupplier)))
	in.POST("/deposits/:did/return", c.returnDeposit, only(string(workflows.RoleSupplier)))
	in.POST("/deposits/:did/forfeit", c.forfeitDeposit, only(string(workflows.RoleMediator)))
	in.GET("/gold", c.gold, only(string(workflows.RoleSupplier), string(workflows.RoleFinance), string(workflows.RoleAdmin)))
	in.POST("/gold", c.askForGold, only(string(workflows.RoleSupplier)))
	in.POST("/gold/auto-renew", c.setGoldAutoRenew, only(string(workflows.RoleSupplier)))
	in.POST("/gold/pay", c.payGold, only(string(workflows.RoleSupplier)))
	in.GET("/referrals", c.referrals, buyers)
	in.GET("/join/:code", c.join, buyers)
	in.POST("/join/:code", c.claim, buyers)
	in.GET("/buying", c.buying, buyers)
	in.POST("/buying", c.saveBuying, buyers)
	in.GET("/notifications", c.notifications)
	in.POST("/notifications/read", c.markAllRead)
	in.POST("/notifications/:nid/read", c.markRead)
	in.GET("/settings", c.settings)
	in.POST("/settings", c.saveSettings)
	in.GET("/mediation", c.mediation, only(string(workflows.RoleMediator)))
	suppliers, staff := only(string(workflows.RoleSupplier)), only(string(workflows.RoleAdmin))
	in.GET("/verification", c.verification, suppliers)
	in.POST("/verification/documents", c.uploadDocument, suppliers)
	in.POST("/verification/documents/:did/delete", c.deleteDocument, suppliers)
	in.GET("/verification/documents/:did", c.serveDocument, only(string(workflows.RoleSupplier), string(workflows.RoleAdmin)))
	in.POST("/verification/submit", c.submitVerification, suppliers)
	in.GET("/verifications", c.verifications, staff)
	in.GET("/verifications/:vid", c.reviewVerification, staff)
	in.POST("/verifications/:vid/decision", c.decideVerification, staff)
	in.GET("/ads", c.ads, suppliers)
	in.POST("/ads", c.createAd, suppliers)
	in.POST("/ads/:aid/pause", c.setAdActive(false), suppliers)
	in.POST("/ads/:aid/resume", c.setAdActive(true), suppliers)
	in.POST("/ads/:aid/delete", c.deleteAd, suppliers)
	// A GET, as it is a link; charging it is bounded by the link's token
	// (its viewer's, for an hour) and one charge per buyer and hour.
	in.GET("/ads/:aid/click", c.adClick)
	in.POST("/signout", c.signOut)
	in.POST("/signout-everywhere", c.signOutEverywhere)
}

// securityHeaders keep the pages from being framed, sniffed, or running
// scripts and styles from anywhere but the console itself.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		return next(c)
	}
}

func cacheFor(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(d.Seconds())))
		next.ServeHTTP(w, r)
	})
}

// whoKey is where the session's user is kept in a request's context.
const whoKey = "console.who"

func who(c echo.Context) signin.Who { return c.Get(whoKey).(signin.Who) }

// session lets a signed-in request on, and sends any other to sign in,
// back to where it was going afterwards.
func (c *Console) session(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		var token string
		if ck, err := ec.Cookie(sessionCookie); err == nil {
			token = ck.Value
		}
		w, err := c.d.SignIn.Session(ec.Request().Context(), token)
		if errors.Is(err, signin.ErrNoSession) {
			if ec.Request().Method != http.MethodGet {
				return ec.Redirect(http.StatusSeeOther, signInPath)
			}
			return ec.Redirect(http.StatusSeeOther, signInPath+"?next="+url.QueryEscape(ec.Request().URL.RequestURI()))
		}
		if err != nil {
			return err
		}
		ec.Set(whoKey, w)
		return next(ec)
	}
}

// checkCSRF refuses a form not carrying its session's CSRF token.
func (c *Console) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(ec echo.Context) error {
		if ec.Request().Method == http.MethodPost && !who(ec).CSRFOK(ec.FormValue("csrf")) {
			return c.fail(ec, http.StatusForbidden, "console.error.csrf")
		}
		return next(ec)
	}
}

// only lets users of role through, and shows the others a refusal.
func only(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(ec echo.Context) error {
			if !slices.Contains(roles, who(ec).Role) {
				return echo.NewHTTPError(http.StatusForbidden)
			}
			return next(ec)
		}
	}
}

// page is what every template reads: the signed-in user (if any), its
// words, and the page's own data.
type page struct {
	Title  string
	Who    *signin.Who
	CSRF   string
	Reader texts.Reader
	Lang   string
	Path   string
	Data   any
	// Error is a message for the whole page.
	Error string
	now   time.Time
}

// T is the catalog's phrase name in the reader's language, with data.
func (p page) T(name string, data ...any) string {
	var d any
	if len(data) > 0 {
		d = data[0]
	}
	return texts.Phrase(p.Reader, name, d)
}

// Stage is a deal's stage in the reader's words.
func (p page) Stage(s any) string { return texts.StageName(p.Reader, fmt.Sprint(s)) }

// EventDetail is what the deal page says after a timeline entry's words:
// what a person wrote with it (a reason, a note, a carrier and tracking
// number), a stage or shipment status in the reader's words, or nothing
// for the entries whose detail the workflow writes for operators (amounts
// in minor units, IDs, hashes): the page shows those in its own sections,
// as people read them.
func (p page) EventDetail(e workflows.Event) string {
	switch e.Type {
	case workflows.EventStageChanged:
		return p.Stage(workflows.Stage(e.Detail))
	case workflows.EventShipmentTracking, workflows.EventSampleTracking, workflows.EventSampleShipmentFailed:
		return p.Word("track.status", e.Detail)
	case workflows.EventDisputeEscalated:
		if e.Actor == "system" || e.Actor == "" {
			return ""
		}
		return e.Detail
	case workflows.EventCancelRequested, workflows.EventDisputeOpened, workflows.EventDisputeAnswered, workflows.EventProductionProgress,
		workflows.EventReadyToShip, workflows.EventQuoteDeclined, workflows.EventSampleApproved, workflows.EventSampleRejected,
		workflows.EventGoodsAccepted, workflows.EventSampleShipped, workflows.EventGoodsShipped, workflows.EventTrackingCorrected:
		return e.Detail
	}
	return ""
}

// Word is a value the deal names in code (a timeline entry's type, a
// quote's, a proposal's or a shipment's status) in the reader's words:
// the catalog's phrase set+"."+value, or the value itself with spaces for
// one the catalogs do not word (a payment provider's event).
func (p page) Word(set string, value any) string {
	v := fmt.Sprint(value)
	if out := texts.Phrase(p.Reader, set+"."+v, nil); out != "" {
		return out
	}
	return strings.ReplaceAll(v, "_", " ")
}

// At is a time in the reader's zone and words.
func (p page) At(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return texts.Time(p.Reader, t)
}

// Day is a time's date in the reader's zone and words.
func (p page) Day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return texts.Day(p.Reader, t)
}

// Countdown is how long until t (or since, once passed), in the reader's
// words.
func (p page) Countdown(t time.Time) string {
	left := t.Sub(p.now)
	if left < 0 {
		return texts.Phrase(p.Reader, "console.countdown.overdue", texts.Duration(p.Reader, -left))
	}
	return texts.Phrase(p.Reader, "console.countdown.in", texts.Duration(p.Reader, left))
}

// Money is an amount of currency as people write it.
func (p page) Money(amount int64, currency string) string { return money.Format(amount, currency) }

// Count is a quantity as people write it ("20,000").
func (p page) Count(n int64) string { return money.Count(n) }

// say is the catalog's phrase name, with data, in w's language.
func say(w signin.Who, name string, data any) string {
	return texts.Phrase(texts.ReaderOf(w.Language, w.TimeZone), name, data)
}

// inputField is one text input of a form: its label, what was typed and
// what is wrong with it.
type inputField struct {
	Name, Label, Mode, Value, Error string
}

// formField is the field name of the form page p shows, labelled with the
// catalog's phrase label.
func formField(p page, name, label, mode string, labelData ...any) inputField {
	f := inputField{Name: name, Label: p.T(label, labelData...), Mode: mode}
	if d, ok := p.Data.(formData); ok {
		f.Value, f.Error = d.formValue(name), d.fieldError(name)
	}
	return f
}

// pageValue is a value a shared template shows, with the page it is on
// (for the reader's words).
type pageValue struct {
	Page  page
	Value any
}

// formData is a page's data that holds a form: what was typed in each
// field, and what is wrong with one.
type formData interface {
	formValue(name string) string
	fieldError(name string) string
}

// formState is the formData of a page's data that embeds it: Form is what
// the user typed, Error what is wrong, and Field the field it is about
// ("" for the whole form).
type formState struct {
	Form         map[string]string
	Error, Field string
}

func (f formState) formValue(name string) string { return f.Form[name] }
func (f formState) fieldError(name string) string {
	if f.Field == name {
		return f.Error
	}
	return ""
}

// render renders the template name with data for the request's user.
func (c *Console) render(ec echo.Context, status int, name, title string, data any) error {
	p := page{Title: title, Data: data, Path: ec.Request().URL.Path, Reader: texts.Default, Lang: string(texts.English), now: c.d.Now()}
	if w, ok := ec.Get(whoKey).(signin.Who); ok {
		p.Who, p.CSRF = &w, w.CSRF
		p.Reader = texts.ReaderOf(w.Language, w.TimeZone)
		p.Lang = string(p.Reader.Lang)
	}
	t, ok := c.pages[name]
	if !ok {
		return errors.New("console: no page " + name)
	}
	// Rendered whole before anything is sent: a page that fails to
	// render is an error page, not half a page.
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		return fmt.Errorf("render the %s page: %w", name, err)
	}
	ec.Response().Header().Set("Cache-Control", "no-store")
	return ec.HTMLBlob(status, buf.Bytes())
}

// fail shows a page saying the catalog's phrase msg.
func (c *Console) fail(ec echo.Context, status int, msg string) error {
	return c.render(ec, status, "error", "", msg)
}

// HandleError shows an error of a console page as a page; it reports
// whether the request was the console's.
func (c *Console) HandleError(err error, ec echo.Context) bool {
	if !strings.HasPrefix(ec.Request().URL.Path, Root) {
		return false
	}
	status, msg := http.StatusInternalServerError, "console.error.internal"
	var he *echo.HTTPError
	var unav *Unavailable
	switch {
	case errors.As(err, &unav):
		status, msg = http.StatusServiceUnavailable, "console.error.unavailable"
		ec.Response().Header().Set("Retry-After", strconv.Itoa(max(unav.RetryAfter, 1)))
	case errors.Is(err, ErrNotFound):
		status, msg = http.StatusNotFound, "console.error.notfound"
	case errors.As(err, &he) && he.Code == http.StatusNotFound:
		status, msg = http.StatusNotFound, "console.error.notfound"
	case errors.As(err, &he) && he.Code == http.StatusForbidden:
		status, msg = http.StatusForbidden, "console.error.forbidden"
	case errors.As(err, &he) && he.Code < 500:
		status, msg = he.Code, "console.error.notfound"
	default:
		c.d.Logger.ErrorContext(ec.Request().Context(), "console page failed", "path", ec.Request().URL.Path, "error", err)
	}
	if !ec.Response().Committed {
		_ = c.fail(ec, status, msg)
	}
	return true
}
