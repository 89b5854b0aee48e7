// Package api is Tradeloop's HTTP front door: the Echo server, its
// middleware, and the handlers through which buyers, suppliers, mediators and
// finance act on deals. Party actions go to the deal workflow as updates
// (the mediator's decision as a signal); the API never writes the ledger.
package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"gocloud.dev/blob"
	"golang.org/x/time/rate"

	"github.com/tradeloop/tradeloop/internal/ads"
	"github.com/tradeloop/tradeloop/internal/console"
	"github.com/tradeloop/tradeloop/internal/deals"
	"github.com/tradeloop/tradeloop/internal/dealview"
	"github.com/tradeloop/tradeloop/internal/deposits"
	"github.com/tradeloop/tradeloop/internal/finance"
	"github.com/tradeloop/tradeloop/internal/gold"
	"github.com/tradeloop/tradeloop/internal/idempotency"
	"github.com/tradeloop/tradeloop/internal/identity"
	"github.com/tradeloop/tradeloop/internal/inbox"
	"github.com/tradeloop/tradeloop/internal/landedcost"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/matching"
	"github.com/tradeloop/tradeloop/internal/media"
	"github.com/tradeloop/tradeloop/internal/payments"
	"github.com/tradeloop/tradeloop/internal/preferences"
	"github.com/tradeloop/tradeloop/internal/pricetrend"
	"github.com/tradeloop/tradeloop/internal/promotion"
	"github.com/tradeloop/tradeloop/internal/reactivation"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/internal/referral"
	"github.com/tradeloop/tradeloop/internal/sheet"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/internal/texts"
	"github.com/tradeloop/tradeloop/internal/tracing"
	"github.com/tradeloop/tradeloop/internal/verification"
	"github.com/tradeloop/tradeloop/internal/watchlist"
	"github.com/tradeloop/tradeloop/internal/webhooks"
	"github.com/tradeloop/tradeloop/workflows"
)

// Pinger reports whether a dependency answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingerFunc adapts a function to Pinger.
type PingerFunc func(ctx context.Context) error

// Ping calls f.
func (f PingerFunc) Ping(ctx context.Context) error { return f(ctx) }

// Deps are what the handlers need.
type Deps struct {
	Logger *slog.Logger
	// ReferralRewardBP and CouponValidFor are what a referral coupon is
	// worth and for how long (config REFERRAL_REWARD_BP, COUPON_VALID_FOR;
	// zero: referral's defaults), as the buyers' referral page says.
	ReferralRewardBP int64
	CouponValidFor   time.Duration
	// PublicURL is the platform's address (config PUBLIC_URL), which the
	// links it mails start with.
	PublicURL string
	// Tracing, when on, opens a span for each request; Temporal's client
	// must then carry tracing's interceptor, for the spans to follow the
	// request into the deal's workflow.
	Tracing tracing.Tracing
	// Checks are the dependencies /readyz reports on, by name.
	Checks   map[string]Pinger
	Temporal client.Client
	DB       *pgxpool.Pool
	// TaskQueue deals start on (default workflows.TaskQueue).
	TaskQueue string
	// RateLimit is each API key's sustained requests per second, with bursts
	// of RateBurst (defaults 20 and 40).
	RateLimit float64
	RateBurst int
	// ClientRateLimit is each client address's sustained requests per
	// second to /v1, checked before the API key is (defaults 100 and a
	// burst of 200; negative: no limit). The address is the connection's
	// unless TrustedProxies are set: then it is taken from X-Forwarded-For
	// as those proxies wrote it.
	ClientRateLimit float64
	ClientRateBurst int
	TrustedProxies  []*net.IPNet
	// KeyRotationGrace is how long a rotated API key keeps working beside
	// its replacement (default DefaultKeyRotationGrace).
	KeyRotationGrace time.Duration
	// MaxBody bounds request bodies (default "1M").
	MaxBody string
	// IdempotencyLease is how long a request holds its Idempotency-Key
	// before a repeat of it may take the key over (default
	// DefaultIdempotencyLease): longer than any request runs.
	IdempotencyLease time.Duration
	// Stripe, when payments go through Stripe, gives buyers' clients the
	// PaymentIntent's client secret; WebhookSecret verifies Stripe's events.
	Stripe        *payments.Stripe
	WebhookSecret string
	// StripePublishableKey lets the console's buyers pay in Stripe's own
	// form (Stripe.js) when payments go through Stripe.
	StripePublishableKey string
	// Policy holds the deadlines new deals start with; zero fields take
	// workflows.DefaultPolicy's.
	Policy workflows.Policy
	// MaxImports is how many catalog imports run at once in this process
	// (default DefaultMaxImports); one more is a 503 import_busy.
	MaxImports int
	// Codec, when set, is served at /codec/decode and /codec/encode for the
	// Temporal UI (finance and admin keys only); CodecOrigins are the UI
	// origins whose browsers may call it.
	Codec        converter.PayloadCodec
	CodecOrigins []string
	// DealTimeout is how long a read waits for the deal's workflow before
	// it answers 503 (default DefaultDealTimeout); an action waits twice it.
	DealTimeout time.Duration
	// WebhooksAllowLocal lets organizations register http endpoints and
	// endpoints at private addresses (webhooks.CheckURL): dev and tests.
	WebhooksAllowLocal bool
	// PDFFont is the TrueType font file PDFs print Chinese in (config
	// PDF_FONT), read once by NewHandlers; empty: none. A file it cannot
	// use is logged as a warning, and PDFs then print such text as "?".
	PDFFont string
	// Media is the bucket product media are stored in (config
	// MEDIA_BUCKET_URL); nil: media requests are 503 media_unavailable and
	// products show none.
	Media *blob.Bucket
	// Verification holds the deadlines new supplier verifications start
	// with; zero fields take workflows.DefaultVerificationPolicy's.
	Verification workflows.VerificationPolicy
	// DepositPoll is how long a security deposit's pending charge waits
	// before its workflow first asks the provider (0: 30 seconds).
	DepositPoll time.Duration
	// Gold is what a new Gold certification costs (zero:
	// gold.DefaultTerms), GoldPolicy its deadlines (zero fields:
	// workflows.DefaultGoldPolicy's).
	Gold       gold.Terms
	GoldPolicy workflows.GoldPolicy
}

// pdfFont loads the font at path for PDFs, or, with a warning, none: PDFs
// then print in the core fonts, Chinese as "?".
func pdfFont(path string, logger *slog.Logger) *sheet.Font {
	if path == "" {
		return nil
	}
	font, err := sheet.LoadFont(path)
	if err != nil {
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("PDFs will print Chinese (and all text beyond Windows-1252) as ?: install fonts-droid-fallback (Debian, Ubuntu) or set PDF_FONT to a TrueType font with Chinese glyphs",
			"PDF_FONT", path, "error", err)
		return nil
	}
	return font
}

// DefaultDealTimeout bounds a deal's query: it answers in milliseconds
// when Temporal and the worker are up; ten seconds without an answer means
// they are not.
const DefaultDealTimeout = 10 * time.Second

// DefaultIdempotencyLease outlasts the HTTP server's 60-second write
// timeout, so a request still running never loses its key.
const DefaultIdempotencyLease = 90 * time.Second

// Server holds the handlers' dependencies.
type Server struct {
	logger  *slog.Logger
	deals   *deals.Client
	events  *payments.Events
	reads   *readmodel.Store
	ledger  *ledger.Ledger
	routes  []route
	stripe  *payments.Stripe
	webhook string
	policy  workflows.Policy
	// verification is the deadlines new verifications start with.
	verification workflows.VerificationPolicy
	depositPoll  time.Duration
	goldPolicy   workflows.GoldPolicy
	market       *marketplace.Market
	landed       *landedcost.Service
	watches      *watchlist.Service
	// matching matches buyers' profiles with offers.
	matching *matching.Service
	// trends reads the daily price index per category.
	trends *pricetrend.Service
	// referrals keeps buyers' referral codes and coupons; publicURL is
	// where referral links point.
	referrals *referral.Service
	publicURL string
	// reactivation records the clicks of reactivation messages.
	reactivation *reactivation.Service
	finance      *finance.Service
	identity     *identity.Service
	keys         *idempotency.Keys
	inbox        *inbox.Service
	hooks        *webhooks.Service
	prefs        *preferences.Service
	signin       *signin.Service
	hub          *inbox.Hub
	// views keeps the deals getDeal served, by version.
	views *dealViews
	// imports holds a token for each catalog import running.
	imports chan struct{}
	// idempotencyLease is how long a request holds its Idempotency-Key
	// before a repeat may take it over.
	idempotencyLease time.Duration
	// publishableKey is Stripe's for the console's payment form.
	publishableKey string
	// keyRotationGrace is how long a rotated API key keeps working.
	keyRotationGrace time.Duration
	// sheets writes the files the API sends, PDFs in Deps.PDFFont.
	sheets sheet.Writer
	// media stores and serves product media; nil without a bucket.
	media *media.Service
	// verify keeps suppliers' verifications and their documents.
	verify *verification.Service
	// promote sends suppliers' paid new-product notices.
	promote *promotion.Service
	// ads keeps suppliers' search ads, runs their auctions and charges
	// their clicks.
	ads *ads.Service
	// deposits keeps suppliers' security deposits and the categories
	// that ask for them.
	deposits *deposits.Service
	// gold keeps suppliers' Gold certifications.
	gold *gold.Service
}

// Handlers are what the API serves, on two listeners: the API itself, and
// Prometheus' metrics, which must not be public.
type Handlers struct {
	API     *echo.Echo
	Metrics http.Handler
	// hub tells the inbox's live streams about new entries once Run runs.
	hub *inbox.Hub
}

// Start starts the API's background work, until ctx ends: it tells live
// notification streams about new entries, and ends them when ctx ends (so
// a shutdown does not wait for them). stopped is closed once it is done.
func (h Handlers) Start(ctx context.Context) (stopped <-chan struct{}) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if h.hub != nil {
			h.hub.Run(ctx)
		}
	}()
	return done
}

// New builds the API's handler alone (its metrics are not served).
func New(d Deps) *echo.Echo { return NewHandlers(d).API }

// NewHandlers builds the HTTP handlers. Without Temporal and a database
// (health checks alone) the API serves only the unauthenticated routes.
func NewHandlers(d Deps) Handlers {
	if d.TaskQueue == "" {
		d.TaskQueue = workflows.TaskQueue
	}
	if d.RateLimit <= 0 {
		d.RateLimit, d.RateBurst = 20, 40
	}
	if d.MaxBody == "" {
		d.MaxBody = "1M"
	}
	if d.IdempotencyLease <= 0 {
		d.IdempotencyLease = DefaultIdempotencyLease
	}
	if d.ClientRateLimit == 0 {
		d.ClientRateLimit, d.ClientRateBurst = 100, 200
	}
	if d.ClientRateBurst < 1 {
		d.ClientRateBurst = max(1, int(2*d.ClientRateLimit))
	}
	if d.KeyRotationGrace <= 0 {
		d.KeyRotationGrace = DefaultKeyRotationGrace
	}
	if d.DealTimeout <= 0 {
		d.DealTimeout = DefaultDealTimeout
	}
	if d.MaxImports <= 0 {
		d.MaxImports = DefaultMaxImports
	}
	s := &Server{views: newDealViews(dealViewsBytes), logger: d.Logger, publicURL: d.PublicURL, stripe: d.Stripe, publishableKey: d.StripePublishableKey, webhook: d.WebhookSecret, policy: d.Policy, verification: d.Verification.WithDefaults(), depositPoll: d.DepositPoll, goldPolicy: d.GoldPolicy.WithDefaults(),
		idempotencyLease: d.IdempotencyLease, imports: make(chan struct{}, d.MaxImports),
		keyRotationGrace: d.KeyRotationGrace, sheets: sheet.Writer{Font: pdfFont(d.PDFFont, d.Logger)}}
	if d.Temporal != nil {
		s.deals = deals.New(d.Temporal, d.TaskQueue, d.DealTimeout)
	}
	if d.DB != nil {
		s.reads, s.ledger, s.market = readmodel.New(d.DB), ledger.New(d.DB), marketplace.New(d.DB)
		s.landed = landedcost.New(d.DB, s.market)
		s.watches = watchlist.New(d.DB)
		s.ads = ads.New(d.DB, d.Logger)
		s.matching = matching.New(d.DB, s.market, d.PublicURL)
		s.trends = pricetrend.New(d.DB)
		s.reactivation = reactivation.New(d.DB, "")
		s.referrals = referral.New(d.DB, referral.Config{RewardBP: d.ReferralRewardBP, ValidFor: d.CouponValidFor})
		s.finance = finance.New(d.DB, d.Temporal)
		s.identity, s.keys, s.events = identity.New(d.DB), idempotency.New(d.DB), payments.NewEvents(d.DB)
		s.inbox, s.hub = inbox.New(d.DB), inbox.NewHub(d.DB, d.Logger)
		s.hooks = webhooks.New(d.DB, d.WebhooksAllowLocal)
		s.prefs = preferences.New(d.DB)
		s.signin = signin.New(d.DB)
		if d.Media != nil {
			s.media = media.New(d.DB, d.Media, d.Logger)
		}
		s.verify = verification.New(d.DB, s.media)
		s.promote = promotion.New(d.DB, s.market)
		s.deposits = deposits.New(d.DB)
		s.gold = gold.New(d.DB, d.Gold)
	}
	m := newMetrics()
	if d.DB != nil {
		m.registry.MustRegister(finance.Collector(d.DB, d.Logger))
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = clientAddress(d.TrustedProxies)
	apiErrors := errorHandler(d.Logger)
	var app *console.Console
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		// The console's pages fail as pages, the API's requests as JSON.
		if app != nil && app.HandleError(err, c) {
			return
		}
		apiErrors(err, c)
	}
	e.Use(middleware.Recover())
	e.Use(ownRequestIDs)
	e.Use(middleware.RequestID())
	if d.Tracing.On() {
		e.Use(traced(d.Tracing))
	}
	e.Use(requestLogger(d.Logger))
	e.Use(m.middleware)
	// Catalog imports and product media may be larger than any other
	// request, each on its own routes only.
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: d.MaxBody, Skipper: func(c echo.Context) bool {
			return importBodyLimit(c.Request().URL.Path) || mediaBodyLimit(c.Request().URL.Path) || verificationBodyLimit(c.Request().URL.Path)
		},
	}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: strconv.Itoa(maxImportBody/(1<<20)) + "M", Skipper: func(c echo.Context) bool { return !importBodyLimit(c.Request().URL.Path) },
	}))
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit: strconv.Itoa(maxMediaBody/(1<<20)) + "M", Skipper: func(c echo.Context) bool {
			return !mediaBodyLimit(c.Request().URL.Path) && !verificationBodyLimit(c.Request().URL.Path)
		},
	}))

	h := &health{checks: d.Checks, logger: d.Logger}
	e.GET("/healthz", h.live)
	e.GET("/readyz", h.ready)

	s.routes = s.routeTable()
	doc := openAPIDocument(s.routes)
	e.GET("/openapi.json", func(c echo.Context) error { return c.JSONBlob(http.StatusOK, doc) })
	e.GET("/docs", func(c echo.Context) error { return c.HTML(http.StatusOK, docsPage(s.routes)) })
	out := Handlers{API: e, Metrics: m.handler(), hub: s.hub}
	if d.Temporal == nil || d.DB == nil {
		return out
	}

	limiter := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(d.RateLimit), Burst: d.RateBurst, ExpiresIn: 3 * time.Minute,
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return principal(c).KeyID.String(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return apiErr(http.StatusTooManyRequests, "rate_limited", "too many requests for this API key: slow down")
		},
		ErrorHandler: func(c echo.Context, err error) error { return err },
	})
	app = console.New(console.Deps{
		SignIn: s.signin, Identity: s.identity, Lists: s.reads, Market: s.market, PriceTrends: s.trends, LandedCost: s.landed, Ledger: s.ledger, Finance: s.finance, Inbox: s.inbox, Logger: d.Logger, PublicURL: d.PublicURL,
		PDFFont: s.sheets.Font,
		Media:   s.media,
		AddMedia: func(ctx context.Context, w signin.Who, product uuid.UUID, kind string, fh *multipart.FileHeader) error {
			_, err := s.AddMedia(ctx, w.OrgID, product, kind, fh)
			return forConsole(err, d.Logger)
		},
		Deal: func(ctx context.Context, v dealview.Viewer, id string) (workflows.DealState, error) {
			st, err := s.DealFor(ctx, v, id)
			return st, forConsole(err, d.Logger)
		},
		Comparison: func(ctx context.Context, v dealview.Viewer, id string) (sheet.Document, error) {
			doc, err := s.Comparison(ctx, v, id)
			return doc, forConsole(err, d.Logger)
		},
		ContractTemplate: func(ctx context.Context, v dealview.Viewer, id string, r texts.Reader) (sheet.Document, error) {
			doc, err := s.ContractTemplate(ctx, v, id, r)
			return doc, forConsole(err, d.Logger)
		},
		BlankContractTemplate: s.BlankContractTemplate,
		ImportCatalog: func(ctx context.Context, w signin.Who, f sheet.Format, file io.Reader, mode marketplace.ImportMode) (marketplace.ImportReport, error) {
			rep, err := s.ImportCatalog(ctx, w.OrgID, f, file, mode)
			return rep, forConsole(err, d.Logger)
		},
		Admin: console.Admin{
			CreateOrganization: func(ctx context.Context, name string) (uuid.UUID, error) {
				org, err := s.CreateOrganization(ctx, name)
				return org.ID, forConsole(err, d.Logger)
			},
			CreateKey: func(ctx context.Context, user uuid.UUID, label string, days int) (string, error) {
				r := CreateKeyRequest{Label: label}
				if days > 0 {
					at := time.Now().Add(time.Duration(days) * 24 * time.Hour)
					r.ExpiresAt = &at
				}
				_, key, err := s.CreateKey(ctx, user, r)
				return key.Plain, forConsole(err, d.Logger)
			},
			CreateUser: func(ctx context.Context, org uuid.UUID, u console.NewUser) (uuid.UUID, error) {
				user, _, err := s.CreateUser(ctx, org, CreateUserRequest{Email: u.Email, Name: u.Name, Role: u.Role, Language: u.Language})
				return user.ID, forConsole(err, d.Logger)
			},
		},
		RecordView: func(ctx context.Context, w signin.Who, p marketplace.Product, via marketplace.Channel) {
			s.RecordView(ctx, principalOf(w), p, via)
		},
		Reactivated: func(ctx context.Context, w signin.Who, id uuid.UUID) error {
			err := s.reactivation.Clicked(ctx, w.UserID, id, time.Now())
			if errors.Is(err, reactivation.ErrNotFound) {
				return console.ErrNotFound
			}
			return err
		},
		Buying: console.Buying{
			Profile: func(ctx context.Context, w signin.Who) (matching.Profile, []matching.Offer, error) {
				return s.matching.Of(ctx, w.OrgID)
			},
			Save: func(ctx context.Context, w signin.Who, p matching.Profile) (matching.Profile, []matching.Offer, error) {
				m, err := s.SetBuyerProfile(ctx, principalOf(w), p)
				return m.Profile, m.Offers, forConsole(err, d.Logger)
			},
		},
		Watching: console.Watching{
			Follow: func(ctx context.Context, w signin.Who, product, category string, quantity int64, dropBP int) (watchlist.Watch, error) {
				watch, _, err := s.Follow(ctx, principalOf(w), FollowRequest{ProductID: product, Category: category, Quantity: quantity, DropBP: dropBP})
				return watch, forConsole(err, d.Logger)
			},
			List: func(ctx context.Context, w signin.Who) ([]watchlist.Watch, error) {
				return s.watches.List(ctx, w.UserID)
			},
			Unfollow: func(ctx context.Context, w signin.Who, id uuid.UUID) error {
				err := s.watches.Unfollow(ctx, w.UserID, id)
				if errors.Is(err, watchlist.ErrNotFound) {
					return console.ErrNotFound
				}
				return err
			},
		},
		Advertising: console.Advertising{
			Sponsored: func(ctx context.Context, w signin.Who, p marketplace.SearchParams, page marketplace.Page) []ads.Sponsored {
				return s.Sponsored(ctx, principalOf(w), p, page)
			},
			Click: func(ctx context.Context, w signin.Who, ad uuid.UUID, token string) (ads.Click, error) {
				c, err := s.ClickAd(ctx, principalOf(w), ad, token)
				return c, forConsole(err, d.Logger)
			},
			List: func(ctx context.Context, w signin.Who) ([]ads.Ad, error) {
				return s.ads.List(ctx, w.OrgID)
			},
			Create: func(ctx context.Context, w signin.Who, product, keyword string, maxCPC, dailyBudget int64) (ads.Ad, error) {
				a, err := s.CreateAd(ctx, principalOf(w), AdRequest{ProductID: product, Keyword: keyword, MaxCPC: maxCPC, DailyBudget: dailyBudget})
				return a, forConsole(err, d.Logger)
			},
			SetActive: func(ctx context.Context, w signin.Who, id uuid.UUID, active bool) error {
				_, err := s.ads.Update(ctx, w.OrgID, id, ads.Change{Active: &active})
				if errors.Is(err, ads.ErrNotFound) {
					return console.ErrNotFound
				}
				return err
			},
			Delete: func(ctx context.Context, w signin.Who, id uuid.UUID) error {
				err := s.ads.Delete(ctx, w.OrgID, id)
				if errors.Is(err, ads.ErrNotFound) {
					return console.ErrNotFound
				}
				return err
			},
		},
		Referring: console.Referring{
			Summary: func(ctx context.Context, w signin.Who) (console.Referrals, error) {
				r, err := s.Referrals(ctx, principalOf(w))
				return console.Referrals{Link: r.Link, RewardBP: int(r.RewardBP), ValidDays: r.CouponValidDays, Referred: r.Referred, Coupons: r.Coupons}, err
			},
			Referrer: func(ctx context.Context, code string) (string, error) {
				name, err := s.ReferrerName(ctx, code)
				if errors.Is(err, referral.ErrUnknownCode) {
					return "", console.ErrNotFound
				}
				return name, err
			},
			Claim: func(ctx context.Context, w signin.Who, code string) (string, error) {
				c, err := s.ClaimReferral(ctx, principalOf(w), code)
				return c.Referrer, forConsole(err, d.Logger)
			},
			Next: func(ctx context.Context, w signin.Who, currency string) (int64, error) {
				return s.referrals.Next(ctx, w.OrgID, currency, time.Now())
			},
		},
		Verifying: s.consoleVerifying(d.Logger),
		Promoting: console.Promoting{
			Send: func(ctx context.Context, w signin.Who, product uuid.UUID, max int) error {
				_, err := s.SendProductNotice(ctx, principalOf(w), product, max)
				return forConsole(err, d.Logger)
			},
			Sent: func(ctx context.Context, w signin.Who, product uuid.UUID) (*promotion.Notice, error) {
				return s.promote.OfProduct(ctx, w.OrgID, product)
			},
			Fee: promotion.Fee,
		},
		Depositing: console.Depositing{
			Categories: func(ctx context.Context) ([]deposits.Category, error) { return s.deposits.Categories(ctx) },
			List: func(ctx context.Context, w signin.Who) ([]deposits.Deposit, error) {
				return s.Deposits(ctx, principalOf(w))
			},
			Get: func(ctx context.Context, w signin.Who, id uuid.UUID) (deposits.Deposit, error) {
				dep, err := s.Deposit(ctx, principalOf(w), id)
				var e *Error
				if errors.As(err, &e) && e.Status == http.StatusNotFound {
					return dep, console.ErrNotFound
				}
				return dep, err
			},
			Pay: func(ctx context.Context, w signin.Who, currency string) (deposits.Deposit, error) {
				dep, err := s.PayDeposit(ctx, principalOf(w), currency)
				return dep, forConsole(err, d.Logger)
			},
			Return: func(ctx context.Context, w signin.Who, id uuid.UUID) error {
				_, err := s.ReturnDeposit(ctx, principalOf(w), id, "")
				return forConsole(err, d.Logger)
			},
			Forfeit: func(ctx context.Context, w signin.Who, id uuid.UUID, amount int64, reason, dealID string) error {
				_, err := s.ForfeitDeposit(ctx, principalOf(w), id, ForfeitDepositRequest{Amount: amount, Reason: reason, DealID: dealID}, "")
				return forConsole(err, d.Logger)
			},
		},
		Certifying: console.Certifying{
			Page: func(ctx context.Context, w signin.Who) (gold.Overview, error) {
				o, err := s.Gold(ctx, principalOf(w))
				return o, forConsole(err, d.Logger)
			},
			List: func(ctx context.Context, w signin.Who) ([]gold.Certification, error) {
				return s.gold.List(ctx)
			},
			Ask: func(ctx context.Context, w signin.Who) (gold.Certification, *console.Checkout, error) {
				g, err := s.AskForGold(ctx, principalOf(w))
				return s.goldCheckout(ctx, g, err, d.Logger)
			},
			AutoRenew: func(ctx context.Context, w signin.Who, on bool) error {
				_, err := s.SetGoldAutoRenew(ctx, principalOf(w), on, "")
				return forConsole(err, d.Logger)
			},
			Pay: func(ctx context.Context, w signin.Who) (gold.Certification, *console.Checkout, error) {
				g, err := s.PayGold(ctx, principalOf(w), "")
				return s.goldCheckout(ctx, g, err, d.Logger)
			},
		},
		Acting: console.Acting{
			Act: func(ctx context.Context, w signin.Who, id, update string, build func(workflows.Actor) any) (workflows.DealState, error) {
				p := principalOf(w)
				st, err := s.Act(ctx, p, id, update, build(p.Actor()))
				return st, forConsole(err, d.Logger)
			},
			Create: func(ctx context.Context, w signin.Who, in console.Inquiry) (workflows.DealState, error) {
				st, err := s.Create(ctx, principalOf(w), CreateDealRequest{
					Product: in.Product, Category: in.Category, Quantity: in.Quantity, Unit: in.Unit, Currency: in.Currency, TargetUnitPrice: in.TargetUnitPrice,
					Suppliers: in.Suppliers, WantsSample: in.WantsSample, ProductID: in.ProductID,
				})
				return st, forConsole(err, d.Logger)
			},
			Pay: func(ctx context.Context, w signin.Who, id, step string) (workflows.DealState, *console.Checkout, error) {
				st, secret, err := s.Pay(ctx, principalOf(w), id, step)
				if secret == "" {
					return st, nil, forConsole(err, d.Logger)
				}
				return st, &console.Checkout{ClientSecret: secret, PublishableKey: s.publishableKey}, forConsole(err, d.Logger)
			},
			Rate: func(ctx context.Context, w signin.Who, id string, stars int, comment string) error {
				_, err := s.RateDeal(ctx, principalOf(w), id, RatingRequest{Stars: stars, Comment: comment})
				return forConsole(err, d.Logger)
			},
			Decide: func(ctx context.Context, w signin.Who, id string, dec console.Decision) (workflows.DealState, error) {
				st, err := s.Decide(ctx, principalOf(w), id, DecisionRequest{Outcome: dec.Outcome, ReleaseAmount: dec.ReleaseAmount, Note: dec.Note})
				return st, forConsole(err, d.Logger)
			},
		},
	})
	app.Register(e)
	e.POST("/webhooks/stripe", s.stripeWebhook)
	if d.Codec != nil {
		s.mountCodec(e, d.Codec, d.CodecOrigins)
	}
	v1 := e.Group("/v1", clientLimiter(d.ClientRateLimit, d.ClientRateBurst), s.authenticate, limiter, s.idempotent)
	for _, r := range s.routes {
		mws := []echo.MiddlewareFunc{}
		if len(r.roles) > 0 {
			mws = append(mws, allow(r.roles))
		}
		v1.Add(r.method, r.path, r.handler, mws...)
	}
	return out
}

// principalOf is the party a console session acts as (it has no API key).
func principalOf(w signin.Who) Principal {
	return Principal{UserID: w.UserID, OrgID: w.OrgID, Role: workflows.Role(w.Role)}
}

// forConsole is err as the console shows it: not found, a refusal in the
// API's words (a 4xx), or a failure of ours.
func forConsole(err error, logger *slog.Logger) error {
	if err == nil {
		return nil
	}
	e := toError(err, logger, "")
	switch {
	case e.Status == http.StatusNotFound && e.Code != "item_not_found":
		// The deal (or page) is not the viewer's; a thing named inside a
		// deal it sees (a quote, a proposal) is a refusal in words.
		return console.ErrNotFound
	case e.Status < 500:
		field, _ := e.Details["field"].(string)
		return &console.Refused{Status: e.Status, Message: e.Message, Field: field}
	case e.Status == http.StatusServiceUnavailable:
		return &console.Unavailable{RetryAfter: e.RetryAfter, Cause: err}
	}
	return err
}

// clientAddress says where a request comes from. Without trusted proxies
// it is the connection's address: X-Forwarded-For is anyone's to write.
// Behind proxies it is the rightmost X-Forwarded-For entry that is not one
// of them (the address the first trusted proxy saw).
func clientAddress(proxies []*net.IPNet) echo.IPExtractor {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range proxies {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// clientLimiter limits each client address before its API key is looked
// up, so neither floods of unknown keys nor one caller's many keys reach
// the database unchecked. A negative rate turns it off.
func clientLimiter(perSecond float64, burst int) echo.MiddlewareFunc {
	if perSecond < 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(perSecond), Burst: burst, ExpiresIn: 3 * time.Minute,
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return apiErr(http.StatusTooManyRequests, "rate_limited", "too many requests from this address: slow down")
		},
		ErrorHandler: func(c echo.Context, err error) error { return err },
	})
}

type health struct {
	checks map[string]Pinger
	logger *slog.Logger
}

// live answers while the process serves HTTP at all.
func (h *health) live(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// ready answers 200 only when every dependency answers within 2 s, so a load
// balancer stops sending traffic to an instance that cannot do its work. The
// reason for a failure is logged, not returned: it may name internal hosts.
func (h *health) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	type result struct {
		name string
		err  error
	}
	results := make(chan result, len(h.checks))
	for name, p := range h.checks {
		go func() { results <- result{name, p.Ping(ctx)} }()
	}
	status := http.StatusOK
	checks := make(map[string]string, len(h.checks))
	for range h.checks {
		r := <-results
		if r.err != nil {
			status = http.StatusServiceUnavailable
			checks[r.name] = "unavailable"
			h.logger.Warn("readiness check failed", "check", r.name, "error", r.err)
			continue
		}
		checks[r.name] = "ok"
	}
	word := "ready"
	if status != http.StatusOK {
		word = "not ready"
	}
	return c.JSON(status, map[string]any{"status": word, "checks": checks})
}

// requestLogger logs one line per request with its request ID, and the deal
// it concerns.
func requestLogger(logger *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:    true,
		LogURI:       true,
		LogMethod:    true,
		LogRequestID: true,
		LogLatency:   true,
		LogError:     true,
		Skipper: func(c echo.Context) bool {
			p := c.Path()
			return p == "/healthz" || p == "/readyz"
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("method", v.Method),
				slog.String("uri", v.URI),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency),
				slog.String("request_id", v.RequestID),
			}
			if id := c.Param("id"); id != "" {
				attrs = append(attrs, slog.String("deal_id", id))
			}
			if v.Error != nil {
				attrs = append(attrs, slog.String("error", v.Error.Error()))
			}
			logger.LogAttrs(c.Request().Context(), level, "http request", attrs...)
			return nil
		},
	})
}
