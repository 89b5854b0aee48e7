// Package finance is finance's watch over the money, in PostgreSQL and
// Temporal: the alerts finance must look at (failures no retry cures, the
// escrow watchdog's findings), the watchdog's check of the ledger's escrow
// accounts against the deal workflows, and what operator overrides read
// and record. The worker's activities and the API's handlers both use it.
package finance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/readmodel"
	"github.com/tradeloop/tradeloop/workflows"
)

// Service reads and records finance's figures.
type Service struct {
	pool     *pgxpool.Pool
	temporal client.Client
	// QueryTimeout bounds the state query of one running deal.
	QueryTimeout time.Duration
	// Logger tells of deals that did not answer; nil means slog's default.
	Logger *slog.Logger
}

// New returns the service on a database and, for the escrow checks, a
// Temporal client (nil: alerts and figures only).
func New(pool *pgxpool.Pool, tc client.Client) *Service {
	return &Service{pool: pool, temporal: tc, QueryTimeout: 10 * time.Second}
}

var (
	_ activities.Alerts  = (*Service)(nil)
	_ activities.Escrows = (*Service)(nil)
)

// ---- alerts ----

// Raise implements activities.Alerts.
func (s *Service) Raise(ctx context.Context, a activities.Alert) error {
	p := store.RaiseAlertParams{Kind: a.Kind, DealID: a.DealID, Subject: a.Subject, Detail: a.Detail}
	if a.Currency != "" {
		p.Currency, p.LedgerAmount, p.DealAmount = &a.Currency, &a.LedgerAmount, &a.DealAmount
	}
	if _, err := store.New(s.pool).RaiseAlert(ctx, p); err != nil {
		return fmt.Errorf("record alert %s: %w", a.Kind, err)
	}
	return nil
}

// Resolve implements activities.Alerts.
func (s *Service) Resolve(ctx context.Context, kinds []string, seen []activities.Alert, before time.Time) (int, error) {
	keys := make([]string, len(seen))
	for i, a := range seen {
		keys[i] = a.Kind + "|" + a.DealID + "|" + a.Subject
	}
	rows, err := store.New(s.pool).ResolveAlerts(ctx, store.ResolveAlertsParams{Kinds: kinds, Before: before, Seen: keys})
	if err != nil {
		return 0, fmt.Errorf("resolve alerts: %w", err)
	}
	return len(rows), nil
}

// AlertView is an alert as finance reads it.
type AlertView struct {
	ID           int64      `json:"id"`
	Kind         string     `json:"kind"`
	DealID       string     `json:"deal_id,omitempty"`
	Subject      string     `json:"subject,omitempty"`
	Detail       string     `json:"detail"`
	Currency     string     `json:"currency,omitempty"`
	LedgerAmount *int64     `json:"ledger_amount,omitempty"`
	DealAmount   *int64     `json:"deal_amount,omitempty"`
	FirstSeenAt  time.Time  `json:"first_seen_at"`
	LastSeenAt   time.Time  `json:"last_seen_at"`
	TimesSeen    int64      `json:"times_seen"`
	Open         bool       `json:"open"`
	ResolvedAt   *time.Time `json:"resolved_at,omitempty"`
}

// MaxAlerts is the most alerts one list returns.
const MaxAlerts = 500

// AlertFilter narrows a list of alerts: Open nil means open and resolved
// alike; no Kinds means every kind.
type AlertFilter struct {
	Open  *bool
	Kinds []string
	Limit int
}

// Alerts lists alerts, open ones first, then the most recently seen.
func (s *Service) Alerts(ctx context.Context, f AlertFilter) ([]AlertView, error) {
	if f.Limit <= 0 || f.Limit > MaxAlerts {
		f.Limit = MaxAlerts
	}
	if f.Kinds == nil {
		f.Kinds = []string{}
	}
	rows, err := store.New(s.pool).ListAlerts(ctx, store.ListAlertsParams{Open: f.Open, Kinds: f.Kinds, PageSize: int32(f.Limit)})
	if err != nil {
		return nil, fmt.Errorf("list alerts: %w", err)
	}
	out := make([]AlertView, len(rows))
	for i, r := range rows {
		out[i] = AlertView{ID: r.ID, Kind: r.Kind, DealID: r.DealID, Subject: r.Subject, Detail: r.Detail,
			LedgerAmount: r.LedgerAmount, DealAmount: r.DealAmount, FirstSeenAt: r.FirstSeenAt, LastSeenAt: r.LastSeenAt,
			TimesSeen: r.TimesSeen, Open: r.ResolvedAt == nil, ResolvedAt: r.ResolvedAt}
		if r.Currency != nil {
			out[i].Currency = *r.Currency
		}
	}
	return out, nil
}

// Finding is an open escrow finding as finance reads it.
type Finding struct {
	Kind         string    `json:"kind"`
	DealID       string    `json:"deal_id"`
	Currency     string    `json:"currency"`
	LedgerAmount int64     `json:"ledger_amount"`
	DealAmount   int64     `json:"deal_amount"`
	Detail       string    `json:"detail"`
	FirstSeenAt  time.Time `json:"first_seen_at"`
	LastSeenAt   time.Time `json:"last_seen_at"`
	TimesSeen    int64     `json:"times_seen"`
}

// Findings lists the escrow watchdog's open findings.
func (s *Service) Findings(ctx context.Context) ([]Finding, error) {
	open := true
	alerts, err := s.Alerts(ctx, AlertFilter{Open: &open, Kinds: activities.EscrowAlertKinds})
	if err != nil {
		return nil, err
	}
	out := make([]Finding, len(alerts))
	for i, a := range alerts {
		out[i] = Finding{Kind: a.Kind, DealID: a.DealID, Currency: a.Currency, Detail: a.Detail,
			FirstSeenAt: a.FirstSeenAt, LastSeenAt: a.LastSeenAt, TimesSeen: a.TimesSeen}
		if a.LedgerAmount != nil {
			out[i].LedgerAmount = *a.LedgerAmount
		}
		if a.DealAmount != nil {
			out[i].DealAmount = *a.DealAmount
		}
	}
	return out, nil
}

// ---- the escrow watchdog's check ----

// CheckEscrows implements activities.Escrows: each escrow account not at
// zero (of the named deals, or all) against its deal workflow.
func (s *Service) CheckEscrows(ctx context.Context, dealIDs []string) (activities.EscrowScan, error) {
	q := store.New(s.pool)
	at, err := q.DatabaseNow(ctx)
	if err != nil {
		return activities.EscrowScan{}, fmt.Errorf("read the database's time: %w", err)
	}
	var order []string
	held := map[string][]activities.Amount{}
	add := func(deal, currency string, amount int64) {
		if _, ok := held[deal]; !ok {
			order = append(order, deal)
		}
		held[deal] = append(held[deal], activities.Amount{Currency: currency, Amount: amount})
	}
	if len(dealIDs) == 0 {
		rows, err := q.EscrowBalances(ctx)
		if err != nil {
			return activities.EscrowScan{}, fmt.Errorf("list escrow balances: %w", err)
		}
		for _, r := range rows {
			add(r.DealID, r.Currency, r.Balance)
		}
	} else {
		for _, id := range dealIDs {
			rows, err := q.AccountBalances(ctx, activities.EscrowAccount(id))
			if err != nil {
				return activities.EscrowScan{}, fmt.Errorf("escrow balance of %s: %w", id, err)
			}
			for _, r := range rows {
				if r.Balance != 0 {
					add(id, r.Currency, r.Balance)
				}
			}
		}
	}
	scan := activities.EscrowScan{At: at}
	for i, id := range order {
		if activity.IsActivity(ctx) {
			activity.RecordHeartbeat(ctx, i)
		}
		scan.Checked++
		found, answered, err := s.checkDeal(ctx, id, held[id])
		if err != nil {
			return scan, err
		}
		if !answered {
			scan.Unanswered++
		}
		scan.Suspects = append(scan.Suspects, found...)
	}
	return scan, nil
}

// checkDeal holds one deal's escrow balances against its workflow.
func (s *Service) checkDeal(ctx context.Context, dealID string, ledger []activities.Amount) (found []activities.EscrowFinding, answered bool, err error) {
	status, err := s.dealStatus(ctx, dealID)
	if err != nil {
		return nil, false, err
	}
	wfID := workflows.DealWorkflowID(dealID)
	if status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		// What the deal last said it held, from the read model.
		var says []activities.Amount
		if st, err := s.projectedState(ctx, dealID); err == nil {
			says = st.EscrowInLedger()
		} else if !errors.Is(err, activities.ErrNoSuchDeal) {
			return nil, false, err
		}
		state := "gone"
		if status != enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
			state = strings.ToLower(strings.TrimPrefix(status.String(), "WORKFLOW_EXECUTION_STATUS_"))
		}
		for _, l := range ledger {
			found = append(found, activities.EscrowFinding{
				Kind: activities.AlertEscrowWithoutDeal, DealID: dealID, Currency: l.Currency,
				LedgerAmount: l.Amount, DealAmount: amountIn(says, l.Currency),
				Detail: fmt.Sprintf("escrow:%s holds %d %s and workflow %s is %s: settle it with an operator override",
					dealID, l.Amount, l.Currency, wfID, state),
			})
		}
		return found, true, nil
	}
	qctx, cancel := context.WithTimeout(ctx, s.QueryTimeout)
	defer cancel()
	v, err := s.temporal.QueryWorkflow(qctx, wfID, "", workflows.QueryState)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		logger := s.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.WarnContext(ctx, "escrow check: the deal did not answer its state query", "deal_id", dealID, "error", err)
		return nil, false, nil
	}
	var st workflows.DealState
	if err := v.Get(&st); err != nil {
		return nil, false, fmt.Errorf("decode the state of %s: %w", wfID, err)
	}
	says := st.EscrowInLedger()
	currencies := []string{}
	for _, a := range append(slices.Clone(ledger), says...) {
		if !slices.Contains(currencies, a.Currency) {
			currencies = append(currencies, a.Currency)
		}
	}
	slices.Sort(currencies)
	for _, c := range currencies {
		inLedger, inDeal := amountIn(ledger, c), amountIn(says, c)
		if inLedger == inDeal {
			continue
		}
		found = append(found, activities.EscrowFinding{
			Kind: activities.AlertEscrowMismatch, DealID: dealID, Currency: c, LedgerAmount: inLedger, DealAmount: inDeal,
			Detail: fmt.Sprintf("escrow:%s holds %d %s; the running deal says it holds %d", dealID, inLedger, c, inDeal),
		})
	}
	return found, true, nil
}

func amountIn(as []activities.Amount, currency string) int64 {
	var n int64
	for _, a := range as {
		if a.Currency == currency {
			n += a.Amount
		}
	}
	return n
}

// dealStatus is the status of a deal's workflow; UNSPECIFIED when Temporal
// does not know it (never started, or its history is past retention).
func (s *Service) dealStatus(ctx context.Context, dealID string) (enumspb.WorkflowExecutionStatus, error) {
	if s.temporal == nil {
		return 0, errors.New("no Temporal client to ask about deals")
	}
	desc, err := s.temporal.DescribeWorkflowExecution(ctx, workflows.DealWorkflowID(dealID), "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED, nil
	}
	if err != nil {
		return 0, fmt.Errorf("describe the workflow of deal %s: %w", dealID, err)
	}
	return desc.GetWorkflowExecutionInfo().GetStatus(), nil
}

// DealRunning reports whether a deal's own workflow runs.
func (s *Service) DealRunning(ctx context.Context, dealID string) (bool, error) {
	st, err := s.dealStatus(ctx, dealID)
	return st == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, err
}

func (s *Service) projectedState(ctx context.Context, dealID string) (workflows.DealState, error) {
	st, err := readmodel.New(s.pool).Deal(ctx, dealID)
	if errors.Is(err, readmodel.ErrNotFound) {
		return st, activities.ErrNoSuchDeal
	}
	return st, err
}

// ---- operator overrides ----

// EscrowFigures implements activities.Escrows: the ledger's postings through
// the deal's escrow and its balances, the read model's last state of the
// deal, and whether its workflow runs.
func (s *Service) EscrowFigures(ctx context.Context, dealID string) (activities.EscrowFigures, error) {
	q := store.New(s.pool)
	row, err := q.GetDeal(ctx, dealID)
	if errors.Is(err, pgx.ErrNoRows) {
		return activities.EscrowFigures{}, fmt.Errorf("deal %s: %w", dealID, activities.ErrNoSuchDeal)
	}
	if err != nil {
		return activities.EscrowFigures{}, fmt.Errorf("read deal %s: %w", dealID, err)
	}
	// The read model's state with its whole timeline, so an override's
	// entries follow the last one projected.
	st, err := s.projectedState(ctx, dealID)
	if err != nil {
		return activities.EscrowFigures{}, err
	}
	state, err := json.Marshal(st)
	if err != nil {
		return activities.EscrowFigures{}, fmt.Errorf("encode deal %s: %w", dealID, err)
	}
	f := activities.EscrowFigures{DealID: dealID, State: state, LastSeq: int(row.LastEventSeq)}
	acct := activities.EscrowAccount(dealID)
	lines, err := q.PostingsOfAccount(ctx, acct)
	if err != nil {
		return f, fmt.Errorf("postings of %s: %w", acct, err)
	}
	var last int64
	for _, l := range lines {
		if len(f.Postings) == 0 || l.PostingID != last {
			f.Postings = append(f.Postings, activities.EscrowPosting{IdempotencyKey: l.IdempotencyKey, Kind: l.Kind, Memo: l.Memo})
			last = l.PostingID
		}
		p := &f.Postings[len(f.Postings)-1]
		p.Lines = append(p.Lines, activities.Line{Account: l.Account, Amount: l.Amount, Currency: l.Currency})
	}
	bals, err := q.AccountBalances(ctx, acct)
	if err != nil {
		return f, fmt.Errorf("balance of %s: %w", acct, err)
	}
	for _, b := range bals {
		if b.Balance != 0 {
			f.Balances = append(f.Balances, activities.Amount{Currency: b.Currency, Amount: b.Balance})
		}
	}
	if f.Running, err = s.DealRunning(ctx, dealID); err != nil {
		return f, err
	}
	return f, nil
}

// StartOverride implements activities.Escrows.
func (s *Service) StartOverride(ctx context.Context, o activities.OverrideAudit) error {
	err := store.New(s.pool).StartOverride(ctx, store.StartOverrideParams{
		DealID: o.DealID, WorkflowID: o.WorkflowID, RunID: o.RunID, OperatorUserID: o.OperatorUserID,
		OperatorOrgID: o.OperatorOrgID, OperatorRole: o.OperatorRole, Outcome: o.Outcome,
		ReleaseRequested: o.ReleaseRequested, Reason: o.Reason, RequestedAt: o.RequestedAt,
	})
	if err != nil {
		return fmt.Errorf("record override of %s: %w", o.DealID, err)
	}
	return nil
}

// FinishOverride implements activities.Escrows.
func (s *Service) FinishOverride(ctx context.Context, o activities.OverrideAudit) error {
	var currency *string
	if o.Currency != "" {
		currency = &o.Currency
	}
	err := store.New(s.pool).FinishOverride(ctx, store.FinishOverrideParams{
		WorkflowID: o.WorkflowID, RunID: o.RunID, Status: o.Status, Currency: currency,
		Released: o.Released, Commission: o.Commission, Refunded: o.Refunded, Error: o.Error,
	})
	if err != nil {
		return fmt.Errorf("record the end of the override of %s: %w", o.DealID, err)
	}
	return nil
}

// Overrides lists a deal's overrides, oldest first.
func (s *Service) Overrides(ctx context.Context, dealID string) ([]store.EscrowOverride, error) {
	rows, err := store.New(s.pool).ListOverrides(ctx, dealID)
	if err != nil {
		return nil, fmt.Errorf("overrides of %s: %w", dealID, err)
	}
	return rows, nil
}
