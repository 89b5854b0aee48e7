package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/activities"
)

// DefaultWatchdogRecheck is how long the watchdog waits before it looks
// again at what it suspects: long enough for a posting in flight (a deal
// between its ledger write and its next workflow task) to land.
const DefaultWatchdogRecheck = 5 * time.Second

// WatchdogInput tunes one run of the escrow watchdog.
type WatchdogInput struct {
	// Recheck is the wait before suspects are checked again (zero:
	// DefaultWatchdogRecheck).
	Recheck time.Duration `json:"recheck,omitempty"`
}

// WatchdogReport is what one run of the escrow watchdog saw.
type WatchdogReport struct {
	// At is when the run's first pass began (the database's time).
	At time.Time `json:"at"`
	// Checked escrow accounts not at zero; Unanswered running deals that
	// did not answer the state query (checked again next run).
	Checked    int `json:"checked"`
	Unanswered int `json:"unanswered"`
	// Suspects of the first pass; Findings, those still wrong on the
	// recheck, now open alerts; Resolved, earlier findings no longer seen.
	Suspects int                        `json:"suspects"`
	Findings []activities.EscrowFinding `json:"findings"`
	Resolved int                        `json:"resolved"`
}

var watchdogOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Minute,
	HeartbeatTimeout:    time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 5,
	},
}

// EscrowWatchdog holds the ledger's escrow balances against the deals (a
// Temporal schedule runs it every 15 minutes; finance can run it at once
// through the API). Every escrow account not at zero whose deal workflow
// does not run, or whose running deal says it holds another amount in the
// ledger, is a suspect; suspects are checked again after in.Recheck, and
// those still wrong become finance alerts. Escrow alerts the run no longer
// sees are resolved.
func EscrowWatchdog(ctx workflow.Context, in WatchdogInput) (WatchdogReport, error) {
	recheck := in.Recheck
	if recheck <= 0 {
		recheck = DefaultWatchdogRecheck
	}
	actx := workflow.WithActivityOptions(ctx, watchdogOptions)
	var first activities.EscrowScan
	if err := workflow.ExecuteActivity(actx, acts.CheckEscrows, activities.EscrowCheckInput{}).Get(ctx, &first); err != nil {
		return WatchdogReport{}, err
	}
	report := WatchdogReport{At: first.At, Checked: first.Checked, Unanswered: first.Unanswered, Suspects: len(first.Suspects)}
	findings := []activities.EscrowFinding{}
	if len(first.Suspects) > 0 {
		if err := workflow.Sleep(ctx, recheck); err != nil {
			return report, err
		}
		var ids []string
		for _, s := range first.Suspects {
			if !slices.Contains(ids, s.DealID) {
				ids = append(ids, s.DealID)
			}
		}
		var second activities.EscrowScan
		if err := workflow.ExecuteActivity(actx, acts.CheckEscrows, activities.EscrowCheckInput{DealIDs: ids}).Get(ctx, &second); err != nil {
			return report, err
		}
		findings = append(findings, second.Suspects...)
	}
	var resolved int
	if err := workflow.ExecuteActivity(actx, acts.RecordEscrowFindings, activities.EscrowFindings{
		Since: first.At, Findings: findings,
	}).Get(ctx, &resolved); err != nil {
		return report, err
	}
	report.Findings, report.Resolved = findings, resolved
	for _, f := range findings {
		workflow.GetLogger(ctx).Warn("escrow finding", "kind", f.Kind, "deal_id", f.DealID, "currency", f.Currency,
			"ledger", f.LedgerAmount, "deal", f.DealAmount)
	}
	return report, nil
}
