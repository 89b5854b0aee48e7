package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tradeloop/tradeloop/internal/notice"
)

// Reminders on the deal's clock (deals from dealReminders): before a
// payment, a contract signature or a dispute answer is due, by each of
// Policy.Reminders, the party that owes it is told once. They are the
// main loop's deadlines like any other (nextDeadline): one timer, the
// earliest, at a time.

// dealReminders is versionDeal's version 3 (books.go).
const dealReminders = dealConfirmsAhead

// reminderPrefix names a reminder among the main loop's deadlines.
const reminderPrefix = "remind "

// remindable is the deadline of stage a party is reminded of, if any.
func remindable(stage Stage) (string, bool) {
	switch stage {
	case StageContract:
		return DeadlineContractSignBy, true
	case StageDeposit:
		return DeadlineDepositDue, true
	case StageBalance:
		return DeadlineBalanceDue, true
	case StageDispute:
		return DeadlineDisputeAnswerDue, true
	}
	return "", false
}

// reminder is one reminder still to send: its key (the deadline's name,
// its time and the reminder's lead) and when.
type reminder struct {
	key string
	at  time.Time
}

// reminders are the reminders of the current stage's deadline not sent
// yet. A deadline that moves (a window extended) is reminded of again.
func (d *deal) reminders() []reminder {
	name, ok := remindable(d.state.Stage)
	if d.features < dealReminders || !ok {
		return nil
	}
	due, ok := d.state.Deadlines[name]
	if !ok {
		return nil
	}
	var out []reminder
	for _, lead := range d.in.Policy.Reminders {
		if lead <= 0 || lead >= d.window(name) {
			continue
		}
		key := fmt.Sprintf("%s@%d/%s", name, due.UnixMilli(), lead)
		if !d.reminded[key] {
			out = append(out, reminder{key: key, at: due.Add(-lead)})
		}
	}
	return out
}

// window is how long the deadline name gives its party.
func (d *deal) window(name string) time.Duration {
	switch name {
	case DeadlineContractSignBy:
		return d.in.Policy.ContractSigning
	case DeadlineDepositDue:
		return d.in.Policy.DepositDue
	case DeadlineBalanceDue:
		return d.in.Policy.BalanceDue
	case DeadlineDisputeAnswerDue:
		return d.in.Policy.DisputeAnswer
	}
	return 0
}

// remind sends the reminder key to the party that still owes what is due.
func (d *deal) remind(ctx workflow.Context, key string) {
	if d.reminded == nil {
		d.reminded = map[string]bool{}
	}
	d.reminded[key] = true
	d.remindedOrder = append(d.remindedOrder, key)
	name, _, _ := strings.Cut(key, "@")
	due, ok := d.state.Deadlines[name]
	if !ok {
		return
	}
	facts := notice.Facts{Due: due, Left: due.Sub(workflow.Now(ctx))}
	buyer, supplier := d.in.Inquiry.BuyerOrgID, d.state.SupplierID
	switch name {
	case DeadlineContractSignBy:
		c := d.state.Contract
		if c == nil {
			return
		}
		if c.BuyerSignedAt.IsZero() {
			d.notify(buyer, "contract_sign_soon", facts)
		}
		if c.SupplierSignedAt.IsZero() {
			d.notify(supplier, "contract_sign_soon", facts)
		}
	case DeadlineDepositDue, DeadlineBalanceDue:
		step, amount := "deposit", d.state.Deposit
		if name == DeadlineBalanceDue {
			step, amount = "balance", d.state.Balance
		}
		if p := d.activeCharge(step); p != nil && p.Status != PaymentDeclined {
			return // paid or being paid
		}
		d.notify(buyer, step+"_due_soon", d.money(amount, facts))
	case DeadlineDisputeAnswerDue:
		if dp := d.state.Dispute; dp != nil && dp.Answer == "" && dp.OpenedBy != supplier {
			d.notify(supplier, "dispute_answer_soon", facts)
		}
	}
}
