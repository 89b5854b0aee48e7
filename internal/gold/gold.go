// Package gold keeps suppliers' Gold certifications: a yearly paid
// certification of a verified supplier, with a badge of its own. The
// platform's terms (Terms: the yearly fee and its currency) are set by
// configuration; each certification is a GoldCertification workflow
// (workflows/gold.go), which charges the fee through the payment
// provider, the first year with the supplier's client and each year after
// with the card the provider kept. Every step the workflow takes is
// written here (Record) in one transaction with the certification's
// status, the supplier's badge, the year's fee as a ledger posting from
// the supplier to activities.GoldFeesAccount, and the supplier's notice.
// The commission tiers read none of it.
package gold

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/ledger"
	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/texts"
	"github.com/tradeloop/tradeloop/workflows"
)

const (
	// MaxStartsPerDay bounds the certifications an organization asks for
	// in a day (each failed first charge is one): a card that keeps
	// failing cannot start workflows without end.
	MaxStartsPerDay = 5
	// MaxListed bounds the platform's list of certifications.
	MaxListed = 200
	// FeeKind is the kind of a yearly fee's ledger posting.
	FeeKind = "gold_fee"
	// maxReason is the longest reason kept, in characters.
	maxReason = 500
)

// The supplier's notices of its certification's steps.
const (
	NoticeActivated    = "gold_activated"
	NoticeFailed       = "gold_failed"
	NoticeRenewalSoon  = "gold_renewal_soon"
	NoticeRenewed      = "gold_renewed"
	NoticePaymentFails = "gold_payment_failed"
	NoticeEnded        = "gold_ended"
	NoticeLapsed       = "gold_lapsed"
)

var (
	// ErrNotFound is a certification that does not exist, or is not the
	// caller's.
	ErrNotFound = errors.New("no such Gold certification")
	// ErrNotVerified is a supplier without a current verification badge:
	// Gold requires one.
	ErrNotVerified = errors.New("a Gold certification requires a verified supplier")
	// ErrLive is a supplier whose certification is pending, active or
	// past due.
	ErrLive = errors.New("the supplier already has a Gold certification")
	// ErrTooMany is a supplier that asked for MaxStartsPerDay
	// certifications in the last day.
	ErrTooMany = fmt.Errorf("at most %d Gold certifications may be asked for in a day", MaxStartsPerDay)
)

// Terms are what Gold costs: Fee minor units of Currency a year.
type Terms struct {
	Fee      int64  `json:"fee_minor"`
	Currency string `json:"currency"`
}

// DefaultTerms is USD 1,200.00 a year (GOLD_FEE_MINOR, GOLD_CURRENCY).
var DefaultTerms = Terms{Fee: 120_000, Currency: "USD"}

// Validate reports terms that cannot be charged.
func (t Terms) Validate() error {
	var errs []error
	if t.Fee < 1 || t.Fee > workflows.MaxGoldFeeMinor {
		errs = append(errs, fmt.Errorf("the Gold fee %d: want 1 to %d minor units", t.Fee, int64(workflows.MaxGoldFeeMinor)))
	}
	if !money.KnownCurrency(t.Currency) {
		errs = append(errs, fmt.Errorf("the Gold currency %q: want one of %s", t.Currency, strings.Join(money.Currencies(), ", ")))
	}
	return errors.Join(errs...)
}

// Offer is what Gold costs and its deadlines, as a supplier reads them
// before it asks.
type Offer struct {
	Fee      int64  `json:"fee_minor"`
	Currency string `json:"currency"`
	// PeriodDays is one paid year; RenewalNoticeDays how long before its
	// end the supplier is told; GraceDays how long a declined renewal may
	// be paid, the card tried again every RetryEveryDays.
	PeriodDays        int `json:"period_days"`
	RenewalNoticeDays int `json:"renewal_notice_days"`
	GraceDays         int `json:"grace_days"`
	RetryEveryDays    int `json:"retry_every_days"`
}

// newOffer is terms with policy's deadlines in whole days.
func newOffer(t Terms, p workflows.GoldPolicy) Offer {
	p = p.WithDefaults()
	days := func(d time.Duration) int { return int(d / (24 * time.Hour)) }
	return Offer{Fee: t.Fee, Currency: t.Currency, PeriodDays: days(p.Period), RenewalNoticeDays: days(p.RenewalNotice),
		GraceDays: days(p.Grace), RetryEveryDays: days(p.RetryEvery)}
}

// Overview is a supplier's Gold page: the offer, whether it may ask
// (verified, no live certification), and its certification (its live
// one, else its latest; nil if none).
type Overview struct {
	Offer         Offer          `json:"terms"`
	VerifiedUntil *time.Time     `json:"verified_until"`
	Eligible      bool           `json:"eligible"`
	Certification *Certification `json:"certification"`
}

// Service keeps Gold certifications in db, new ones on terms.
type Service struct {
	db    *pgxpool.Pool
	terms Terms
	now   func() time.Time
}

var _ activities.Gold = (*Service)(nil)

// New keeps certifications in db; new ones cost terms (DefaultTerms when
// zero).
func New(db *pgxpool.Pool, terms Terms) *Service {
	if terms == (Terms{}) {
		terms = DefaultTerms
	}
	return &Service{db: db, terms: terms, now: time.Now}
}

// Event is one step of a certification.
type Event struct {
	Seq    int32  `json:"seq"`
	Action string `json:"action"`
	// Actor is who acted (an e-mail address); "" for the platform's own
	// deadlines.
	Actor string `json:"actor,omitempty"`
	// Year is how many years were paid after the step; Amount what the
	// step charged, with the provider's payment.
	Year      int32     `json:"year"`
	Amount    int64     `json:"amount_minor,omitempty"`
	Provider  string    `json:"provider,omitempty"`
	PaymentID string    `json:"provider_payment_id,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
}

// Certification is a supplier's Gold certification with its steps.
type Certification struct {
	ID       uuid.UUID `json:"id"`
	OrgID    uuid.UUID `json:"org_id"`
	OrgName  string    `json:"org_name"`
	Status   string    `json:"status"`
	Fee      int64     `json:"fee_minor"`
	Currency string    `json:"currency"`
	// AutoRenew says the saved card is charged at the year's end.
	AutoRenew bool `json:"auto_renew"`
	// Years is how many years are paid; PaidUntil when the last ends;
	// PayBy, while past due, when the certification lapses unpaid.
	Years     int32      `json:"years"`
	PaidUntil *time.Time `json:"paid_until"`
	PayBy     *time.Time `json:"pay_by,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	// Badge says buyers see the Gold badge now: the certification is
	// active, its paid time runs and the supplier is verified.
	Badge       bool      `json:"badge"`
	RequestedBy uuid.UUID `json:"requested_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Events      []Event   `json:"events"`
}

// Live reports whether the certification still runs.
func (c Certification) Live() bool {
	switch c.Status {
	case activities.GoldIsPending, activities.GoldIsActive, activities.GoldIsPastDue:
		return true
	}
	return false
}

// Overview is org's Gold page, new certifications having policy's
// deadlines.
func (s *Service) Overview(ctx context.Context, org uuid.UUID, policy workflows.GoldPolicy) (Overview, error) {
	out := Overview{Offer: newOffer(s.terms, policy)}
	until, err := verifiedUntil(ctx, store.New(s.db), org)
	if err != nil {
		return out, err
	}
	if !until.IsZero() {
		out.VerifiedUntil = &until
	}
	c, err := s.Latest(ctx, org)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return out, err
	default:
		out.Certification = &c
	}
	// As Start decides: verified now, and no live certification.
	out.Eligible = until.After(s.now()) && (out.Certification == nil || !out.Certification.Live())
	return out, nil
}

// Start records a new certification of org, asked for by user, on the
// service's terms. The caller starts its workflow
// (workflows.GoldCertification) with the input returned, and withdraws
// the certification if it does not start.
func (s *Service) Start(ctx context.Context, org, user uuid.UUID) (workflows.GoldInput, error) {
	var in workflows.GoldInput
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		until, err := verifiedUntil(ctx, q, org)
		if err != nil {
			return err
		}
		if !until.After(s.now()) {
			return ErrNotVerified
		}
		n, err := q.GoldStartedSince(ctx, store.GoldStartedSinceParams{OrgID: org, Since: s.now().Add(-24 * time.Hour)})
		if err != nil {
			return fmt.Errorf("count the Gold certifications of %s: %w", org, err)
		}
		if n >= MaxStartsPerDay {
			return ErrTooMany
		}
		id := uuid.New()
		if _, err := q.InsertGoldCertification(ctx, store.InsertGoldCertificationParams{
			ID: id, OrgID: org, FeeMinor: s.terms.Fee, Currency: s.terms.Currency, RequestedBy: user,
		}); errors.Is(err, pgx.ErrNoRows) {
			return ErrLive
		} else if err != nil {
			return fmt.Errorf("record a Gold certification of %s: %w", org, err)
		}
		in = workflows.GoldInput{ID: id.String(), OrgID: org.String(), RequestedBy: user.String(), Fee: s.terms.Fee, Currency: s.terms.Currency}
		return nil
	})
	return in, err
}

// Withdraw marks a certification whose workflow did not start as failed.
func (s *Service) Withdraw(ctx context.Context, id uuid.UUID, reason string) error {
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		c, err := q.LockGoldCertification(ctx, id)
		if err != nil {
			return fmt.Errorf("read Gold certification %s: %w", id, err)
		}
		if c.Status != activities.GoldIsPending {
			return nil
		}
		return q.UpdateGoldCertification(ctx, store.UpdateGoldCertificationParams{
			ID: id, Status: activities.GoldHasFailed, AutoRenew: false, Reason: bounds.Clean(reason, maxReason), At: s.now(),
		})
	})
	if err != nil {
		return fmt.Errorf("withdraw Gold certification %s: %w", id, err)
	}
	return nil
}

// Get is certification id with its steps.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Certification, error) {
	q := store.New(s.db)
	r, err := q.GoldCertification(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Certification{}, ErrNotFound
	}
	if err != nil {
		return Certification{}, fmt.Errorf("read Gold certification %s: %w", id, err)
	}
	return s.withEvents(ctx, q, r)
}

// Latest is org's live certification, else its latest: ErrNotFound when
// it never asked for one.
func (s *Service) Latest(ctx context.Context, org uuid.UUID) (Certification, error) {
	q := store.New(s.db)
	r, err := q.LatestGoldCertification(ctx, org)
	if errors.Is(err, pgx.ErrNoRows) {
		return Certification{}, ErrNotFound
	}
	if err != nil {
		return Certification{}, fmt.Errorf("read the Gold certification of %s: %w", org, err)
	}
	return s.withEvents(ctx, q, store.GoldCertificationRow(r))
}

// List is every organization's certifications, newest first, MaxListed
// at most.
func (s *Service) List(ctx context.Context) ([]Certification, error) {
	q := store.New(s.db)
	rows, err := q.GoldCertifications(ctx, MaxListed)
	if err != nil {
		return nil, fmt.Errorf("list Gold certifications: %w", err)
	}
	out := make([]Certification, 0, len(rows))
	for _, r := range rows {
		c, err := s.withEvents(ctx, q, store.GoldCertificationRow(r))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (s *Service) withEvents(ctx context.Context, q *store.Queries, r store.GoldCertificationRow) (Certification, error) {
	c := Certification{
		ID: r.ID, OrgID: r.OrgID, OrgName: r.OrgName, Status: r.Status, Fee: r.FeeMinor, Currency: r.Currency,
		AutoRenew: r.AutoRenew, Years: r.Years, PaidUntil: r.PaidUntil, PayBy: r.PayBy, Reason: r.Reason,
		RequestedBy: r.RequestedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, Events: []Event{},
	}
	if c.Status == activities.GoldIsActive && c.PaidUntil != nil && c.PaidUntil.After(s.now()) {
		until, err := verifiedUntil(ctx, q, r.OrgID)
		if err != nil {
			return Certification{}, err
		}
		c.Badge = until.After(s.now())
	}
	es, err := q.GoldEvents(ctx, r.ID)
	if err != nil {
		return Certification{}, fmt.Errorf("steps of Gold certification %s: %w", r.ID, err)
	}
	for _, e := range es {
		c.Events = append(c.Events, Event{
			Seq: e.Seq, Action: e.Action, Actor: e.ActorEmail, Year: e.Year, Amount: e.AmountMinor,
			Provider: e.Provider, PaymentID: e.ProviderPaymentID, Reason: e.Reason, At: e.At,
		})
	}
	return c, nil
}

// ---- activities.Gold ----

// VerifiedUntil implements activities.Gold.
func (s *Service) VerifiedUntil(ctx context.Context, org string) (time.Time, error) {
	id, err := uuid.Parse(org)
	if err != nil {
		return time.Time{}, fmt.Errorf("supplier %q: %w", org, err)
	}
	return verifiedUntil(ctx, store.New(s.db), id)
}

// verifiedUntil is when org's verification badge ends: zero when it has
// none.
func verifiedUntil(ctx context.Context, q *store.Queries, org uuid.UUID) (time.Time, error) {
	until, err := q.SupplierVerifiedUntil(ctx, org)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && until == nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("verification of %s: %w", org, err)
	}
	return *until, nil
}

// Record implements activities.Gold: the step, the certification's
// status, the badge, the fee's posting and the notice in one
// transaction, once per step.
func (s *Service) Record(ctx context.Context, e activities.GoldEvent) error {
	id, err := uuid.Parse(e.CertificationID)
	if err != nil {
		return fmt.Errorf("%w: Gold certification %q", activities.ErrLedgerRejected, e.CertificationID)
	}
	org, err := uuid.Parse(e.OrgID)
	if err != nil {
		return fmt.Errorf("%w: supplier %q", activities.ErrLedgerRejected, e.OrgID)
	}
	err = pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		c, err := q.LockGoldCertification(ctx, id)
		if err != nil {
			return fmt.Errorf("lock Gold certification %s: %w", id, err)
		}
		if c.OrgID != org {
			return fmt.Errorf("%w: Gold certification %s is not %s's", activities.ErrLedgerRejected, id, org)
		}
		var amount int64
		if e.Paid() {
			amount = e.Fee
		}
		n, err := q.InsertGoldEvent(ctx, store.InsertGoldEventParams{
			CertificationID: id, Seq: int32(e.Seq), Action: e.Action, ActorUserID: store.OptionalUUID(e.Actor), Year: int32(e.Years),
			AmountMinor: amount, Provider: e.Provider, ProviderPaymentID: e.PaymentID, Reason: bounds.Clean(e.Reason, maxReason), At: e.At.UTC(),
		})
		if err != nil {
			return fmt.Errorf("record step %d of Gold certification %s: %w", e.Seq, id, err)
		}
		if n == 0 {
			return nil // recorded before
		}
		if err := q.UpdateGoldCertification(ctx, store.UpdateGoldCertificationParams{
			ID: id, Status: e.Status, AutoRenew: e.AutoRenew, Years: int32(e.Years), PaidUntil: store.OptionalTime(e.PaidUntil.UTC()),
			PayBy: store.OptionalTime(e.PayBy.UTC()), Reason: bounds.Clean(e.Reason, maxReason), At: e.At.UTC(),
		}); err != nil {
			return fmt.Errorf("update Gold certification %s: %w", id, err)
		}
		switch {
		case e.Paid():
			if err := ledger.PostIn(ctx, tx, FeePosting(e)); err != nil {
				return err
			}
			if err := q.SetGoldUntil(ctx, store.SetGoldUntilParams{OrgID: org, GoldUntil: store.OptionalTime(e.PaidUntil.UTC())}); err != nil {
				return fmt.Errorf("set the Gold badge of %s: %w", org, err)
			}
		case e.Action == activities.GoldEnded || e.Action == activities.GoldLapsed:
			if err := q.SetGoldUntil(ctx, store.SetGoldUntilParams{OrgID: org}); err != nil {
				return fmt.Errorf("end the Gold badge of %s: %w", org, err)
			}
		}
		return notify(ctx, q, e)
	})
	return ledger.Refused(err)
}

// FeePosting is the ledger posting of a step that took a year's fee.
func FeePosting(e activities.GoldEvent) activities.Posting {
	return activities.Posting{
		IdempotencyKey: fmt.Sprintf("gold/%s/year-%d", e.CertificationID, e.Years), Kind: FeeKind,
		Memo: fmt.Sprintf("Gold certification of %s, year %d (%s %s)", e.OrgID, e.Years, e.Provider, e.PaymentID),
		Lines: []activities.Line{
			{Account: activities.SupplierAccount(e.OrgID), Amount: -e.Fee, Currency: e.Currency},
			{Account: activities.GoldFeesAccount, Amount: e.Fee, Currency: e.Currency},
		},
	}
}

// notify queues the supplier's notice of a step, if it has one.
func notify(ctx context.Context, q *store.Queries, e activities.GoldEvent) error {
	facts := notice.Facts{Ref: e.CertificationID, Amount: e.Fee, Currency: e.Currency}
	var kind string
	switch e.Action {
	case activities.GoldActivated:
		kind, facts.Due = NoticeActivated, e.PaidUntil
	case activities.GoldFailed:
		kind, facts.Reason = NoticeFailed, e.Reason
	case activities.GoldRenewalReminder:
		kind, facts.Due, facts.Case = NoticeRenewalSoon, e.PaidUntil, "ends"
		if e.AutoRenew {
			facts.Case = "renews"
		}
	case activities.GoldRenewed:
		kind, facts.Due = NoticeRenewed, e.PaidUntil
	case activities.GoldPaymentFailed:
		kind, facts.Due, facts.Reason = NoticePaymentFails, e.PayBy, e.Reason
	case activities.GoldEnded:
		kind = NoticeEnded
	case activities.GoldLapsed:
		kind, facts.Reason = NoticeLapsed, e.Reason
	default:
		return nil
	}
	raw, err := json.Marshal(facts)
	if err != nil {
		return fmt.Errorf("encode a notice: %w", err)
	}
	if err := q.QueueNotice(ctx, store.QueueNoticeParams{
		Key: fmt.Sprintf("gold/%s/%d", e.CertificationID, e.Seq), OrgID: e.OrgID, Kind: kind,
		Text: texts.Text(texts.Default, kind, facts, ""), Facts: raw,
	}); err != nil {
		return fmt.Errorf("queue the %s notice: %w", kind, err)
	}
	return nil
}
