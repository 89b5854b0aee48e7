package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.temporal.io/sdk/temporal"
)

// Finance's watch over the money: alerts for failures that retrying cannot
// cure, the escrow watchdog's checks, and the records of operator overrides.

// Alert kinds.
const (
	// Money in an escrow account whose deal workflow no longer runs.
	AlertEscrowWithoutDeal = "escrow_without_deal"
	// A running deal that says it holds other than what its escrow holds.
	AlertEscrowMismatch = "escrow_mismatch"
	// An operator override that could not settle the deal.
	AlertOverrideFailed = "override_failed"
)

// EscrowAlertKinds are the kinds the escrow watchdog raises and resolves.
var EscrowAlertKinds = []string{AlertEscrowWithoutDeal, AlertEscrowMismatch}

// Alert is something finance must look at. Kind, DealID and Subject name
// it: reporting the same alert again while it is open updates it, so a
// failure retried or seen on every check is one alert, not a flood.
type Alert struct {
	Kind   string `json:"kind"`
	DealID string `json:"deal_id,omitempty"`
	// Subject is what within the deal it is about (a currency, a payment,
	// an activity); empty when the deal is all there is to say.
	Subject string `json:"subject,omitempty"`
	Detail  string `json:"detail"`
	// Currency, LedgerAmount and DealAmount are the figures of an alert
	// about money: what the ledger holds, and what the deal says it holds.
	Currency     string `json:"currency,omitempty"`
	LedgerAmount int64  `json:"ledger_amount,omitempty"`
	DealAmount   int64  `json:"deal_amount,omitempty"`
}

// alertKindRE is what the alerts table takes as a kind.
var alertKindRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Alert sizes, as the alerts table bounds them.
const (
	maxAlertSubject = 200
	maxAlertDetail  = 2000
)

// Alerts keeps finance's alerts.
type Alerts interface {
	// Raise records an alert, or updates it if it is already open.
	Raise(ctx context.Context, a Alert) error
	// Resolve closes the open alerts of kinds last seen before `before` and
	// not in seen, and reports how many it closed.
	Resolve(ctx context.Context, kinds []string, seen []Alert, before time.Time) (int, error)
}

// alertsRaised counts alerts in the process that raises them (the worker).
// Finance reads open alerts from the API's /metrics, which counts them from
// the table, since the worker serves no metrics of its own.
var alertsRaised = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "tradeloop_finance_alerts_raised_total", Help: "Finance alerts raised by this process, by kind.",
}, []string{"kind"})

// RaiseAlert reports a failure that retrying cannot cure, or an escrow
// finding: it is logged, counted, and recorded for finance (GET /v1/alerts).
// A workflow calls it when it gives up on something, instead of retrying
// for ever.
func (a *Activities) RaiseAlert(ctx context.Context, al Alert) error {
	if !alertKindRE.MatchString(al.Kind) || al.Detail == "" || len(al.DealID) > 64 {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("an alert needs a kind like projection_failed, a detail and a deal ID of at most 64 bytes (kind %q)", al.Kind), "InvalidAlert", nil)
	}
	al.Subject, al.Detail = clip(al.Subject, maxAlertSubject), clip(al.Detail, maxAlertDetail)
	a.logger().WarnContext(ctx, "finance alert", "kind", al.Kind, "deal_id", al.DealID, "subject", al.Subject,
		"detail", al.Detail, "currency", al.Currency, "ledger_amount", al.LedgerAmount, "deal_amount", al.DealAmount)
	alertsRaised.WithLabelValues(al.Kind).Inc()
	if a.Alerts == nil {
		return errors.New("no alert store configured on this worker")
	}
	return a.Alerts.Raise(ctx, al)
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// ---- the escrow watchdog ----

// Amount is money in one currency.
type Amount struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// EscrowFinding is an escrow account the watchdog cannot account for:
// money with no running deal (escrow_without_deal), or a running deal
// that says it holds something else (escrow_mismatch). DealAmount is what
// the deal says it holds in the ledger: its charges captured, posted and
// not yet settled (for a deal that no longer runs, as last projected).
type EscrowFinding struct {
	Kind         string `json:"kind"`
	DealID       string `json:"deal_id"`
	Currency     string `json:"currency"`
	LedgerAmount int64  `json:"ledger_amount"`
	DealAmount   int64  `json:"deal_amount"`
	Detail       string `json:"detail"`
}

// Alert is the finding as finance's alert.
func (f EscrowFinding) Alert() Alert {
	return Alert{Kind: f.Kind, DealID: f.DealID, Subject: f.Currency, Detail: f.Detail,
		Currency: f.Currency, LedgerAmount: f.LedgerAmount, DealAmount: f.DealAmount}
}

// EscrowCheckInput names the deals to check; none means every escrow
// account that does not stand at zero.
type EscrowCheckInput struct {
	DealIDs []string `json:"deal_ids,omitempty"`
}

// EscrowScan is what one pass over the escrow accounts found. At is the
// database's time when the pass began.
type EscrowScan struct {
	At      time.Time `json:"at"`
	Checked int       `json:"checked"`
	// Unanswered counts running deals that did not answer the state query
	// (their worker busy or down): they are checked again next time.
	Unanswered int             `json:"unanswered"`
	Suspects   []EscrowFinding `json:"suspects,omitempty"`
}

// Escrows holds the ledger's escrow accounts against the deals, and keeps
// what operator overrides read and record.
type Escrows interface {
	CheckEscrows(ctx context.Context, dealIDs []string) (EscrowScan, error)
	EscrowFigures(ctx context.Context, dealID string) (EscrowFigures, error)
	StartOverride(ctx context.Context, o OverrideAudit) error
	FinishOverride(ctx context.Context, o OverrideAudit) error
}

// CheckEscrows compares escrow accounts with their deals (see EscrowFinding).
// It heartbeats as it goes; a retried check starts again.
func (a *Activities) CheckEscrows(ctx context.Context, in EscrowCheckInput) (EscrowScan, error) {
	if a.Escrows == nil {
		return EscrowScan{}, errors.New("no escrow checks configured on this worker")
	}
	return a.Escrows.CheckEscrows(ctx, in.DealIDs)
}

// EscrowFindings is what a watchdog run found, to be recorded as alerts.
// Since is when the run's first pass began (the database's time): open
// escrow alerts last seen before it and not found again are resolved.
type EscrowFindings struct {
	Since    time.Time       `json:"since"`
	Findings []EscrowFinding `json:"findings"`
}

// RecordEscrowFindings raises an alert for each finding and resolves the
// escrow alerts the run no longer sees; it returns how many it resolved.
func (a *Activities) RecordEscrowFindings(ctx context.Context, in EscrowFindings) (int, error) {
	seen := make([]Alert, len(in.Findings))
	for i, f := range in.Findings {
		seen[i] = f.Alert()
		if err := a.RaiseAlert(ctx, seen[i]); err != nil {
			return 0, fmt.Errorf("raise %s for deal %s: %w", f.Kind, f.DealID, err)
		}
	}
	if a.Alerts == nil {
		return 0, errors.New("no alert store configured on this worker")
	}
	n, err := a.Alerts.Resolve(ctx, EscrowAlertKinds, seen, in.Since)
	if err != nil {
		return 0, err
	}
	if n > 0 {
		a.logger().InfoContext(ctx, "escrow findings resolved", "count", n)
	}
	return n, nil
}

// ---- operator overrides ----

// EscrowPosting is one ledger posting that moved money in or out of a
// deal's escrow account, with all its lines.
type EscrowPosting struct {
	IdempotencyKey string `json:"idempotency_key"`
	Kind           string `json:"kind"`
	Memo           string `json:"memo"`
	Lines          []Line `json:"lines"`
}

// EscrowFigures is what an operator override settles from: the ledger's
// postings through the deal's escrow account and its balances, and the
// deal's state as the read model last projected it (JSON of
// workflows.DealState). Running says the deal's own workflow still runs.
type EscrowFigures struct {
	DealID   string          `json:"deal_id"`
	Running  bool            `json:"running"`
	State    json.RawMessage `json:"state"`
	LastSeq  int             `json:"last_seq"`
	Postings []EscrowPosting `json:"postings"`
	Balances []Amount        `json:"balances"`
}

// ErrNoSuchDeal is what EscrowFigures returns for a deal the read model
// does not hold.
var ErrNoSuchDeal = errors.New("the read model holds no such deal")

// LoadEscrowFigures reads what an override of the deal settles from. A
// deal the read model does not hold is an error no retry cures.
func (a *Activities) LoadEscrowFigures(ctx context.Context, dealID string) (EscrowFigures, error) {
	if a.Escrows == nil {
		return EscrowFigures{}, errors.New("no escrow figures configured on this worker")
	}
	f, err := a.Escrows.EscrowFigures(ctx, dealID)
	if errors.Is(err, ErrNoSuchDeal) {
		return f, temporal.NewNonRetryableApplicationError(err.Error(), "NoSuchDeal", err)
	}
	return f, err
}

// OverrideAudit is one operator override in the audit trail: who asked for
// what and why, and, once it finished, what moved.
type OverrideAudit struct {
	DealID           string    `json:"deal_id"`
	WorkflowID       string    `json:"workflow_id"`
	RunID            string    `json:"run_id"`
	OperatorUserID   string    `json:"operator_user_id"`
	OperatorOrgID    string    `json:"operator_org_id"`
	OperatorRole     string    `json:"operator_role"`
	Outcome          string    `json:"outcome"`
	ReleaseRequested int64     `json:"release_requested"`
	Reason           string    `json:"reason"`
	RequestedAt      time.Time `json:"requested_at"`
	// Set when it finished: "settled" or "failed".
	Status     string `json:"status,omitempty"`
	Currency   string `json:"currency,omitempty"`
	Released   int64  `json:"released,omitempty"`
	Commission int64  `json:"commission,omitempty"`
	Refunded   int64  `json:"refunded,omitempty"`
	Error      string `json:"error,omitempty"`
}

// StartOverride records an override in the audit trail before it moves
// anything; a retry records it once.
func (a *Activities) StartOverride(ctx context.Context, o OverrideAudit) error {
	if a.Escrows == nil {
		return errors.New("no override audit configured on this worker")
	}
	return a.Escrows.StartOverride(ctx, o)
}

// FinishOverride records how an override ended.
func (a *Activities) FinishOverride(ctx context.Context, o OverrideAudit) error {
	if a.Escrows == nil {
		return errors.New("no override audit configured on this worker")
	}
	o.Error = clip(o.Error, maxAlertDetail)
	return a.Escrows.FinishOverride(ctx, o)
}
