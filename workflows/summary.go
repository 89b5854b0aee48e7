package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/internal/money"
)

// What the Temporal UI shows of a deal: a summary on each timer and money
// activity, and the deal's stage and amounts as its current details, so
// finance reads a timeline instead of anonymous timers and activity types.
// Summaries are user metadata: they change no command, so recorded
// histories replay, and like every payload they are encrypted (finance
// reads them through the codec endpoint). They name steps and amounts,
// never party text, keys or provider secrets.

// deadlineSummaries name each deadline the main loop waits for.
var deadlineSummaries = map[string]string{
	DeadlineInquiryExpires:     "inquiry expires",
	DeadlineSampleShipBy:       "sample ship-by",
	DeadlineSampleAutoApprove:  "sample auto-approval",
	DeadlineContractSignBy:     "contract sign-by",
	DeadlineDepositDue:         "deposit due",
	DeadlineShipBy:             "ship-by",
	DeadlineBalanceDue:         "balance due",
	DeadlineInspectionReminder: "inspection reminder",
	DeadlineInspectionEnds:     "inspection ends",
	DeadlineDisputeAnswerDue:   "dispute answer due",
	DeadlineDisputeSettleBy:    "dispute settle-by",
	"reconcile":                "reconcile pending payments",
}

func deadlineSummary(name string) string {
	if key, ok := strings.CutPrefix(name, reminderPrefix); ok {
		// "remind <deadline>@<its time>/<lead>": "remind: deposit due in 1 day".
		deadline, rest, _ := strings.Cut(key, "@")
		_, lead, _ := strings.Cut(rest, "/")
		if d, err := time.ParseDuration(lead); err == nil {
			return "remind: " + deadlineSummary(deadline) + " in " + inWords(d)
		}
		return "remind: " + deadlineSummary(deadline)
	}
	if s, ok := deadlineSummaries[name]; ok {
		return s
	}
	return strings.ReplaceAll(name, "_", " ")
}

// withSummary is ctx with its activity options plus a summary for the
// activities started from it.
func withSummary(ctx workflow.Context, format string, args ...any) workflow.Context {
	opts := workflow.GetActivityOptions(ctx)
	opts.Summary = fmt.Sprintf(format, args...)
	return workflow.WithActivityOptions(ctx, opts)
}

// sleep is workflow.Sleep (which is this timer, summarised "Sleep") with a
// summary of its own.
func sleep(ctx workflow.Context, d time.Duration, summary string) error {
	return workflow.NewTimerWithOptions(ctx, d, workflow.TimerOptions{Summary: summary}).Get(ctx, nil)
}

// currentDetails is what the UI shows as the deal's state: stage, amount,
// escrow, and the next deadline.
func (d *deal) currentDetails(next string, at time.Time) string {
	parts := []string{"**" + string(d.state.Stage) + "**"}
	cur := d.state.Currency
	if d.state.Total > 0 {
		parts = append(parts, "total "+money.Format(d.state.Total, cur))
	}
	if e := d.state.Escrow; e.Held != 0 || e.Released != 0 || e.Refunded != 0 {
		parts = append(parts, fmt.Sprintf("escrow held %s, released %s, refunded %s",
			money.Format(e.Held, cur), money.Format(e.Released, cur), money.Format(e.Refunded, cur)))
	}
	if next != "" {
		parts = append(parts, fmt.Sprintf("next: %s at %s", deadlineSummary(next), at.UTC().Format(time.RFC3339)))
	}
	return strings.Join(parts, " · ")
}
