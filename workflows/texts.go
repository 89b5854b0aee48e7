package workflows

import (
	"fmt"
	"strings"
	"time"

	"github.com/tradeloop/tradeloop/internal/notice"
)

// The deal's notifications carry facts, not words: amounts in minor units
// with their currency, windows and deadlines as durations and times, the
// goods as asked for. internal/texts words them for each reader, in the
// reader's language and time zone.

// money is facts with an amount of the deal's currency.
func (d *deal) money(amount int64, facts notice.Facts) notice.Facts {
	facts.Amount, facts.Currency = amount, d.state.Currency
	return facts
}

// goods is the facts of the goods asked for.
func (d *deal) goods() notice.Facts {
	return notice.Facts{Quantity: d.in.Inquiry.Quantity, Unit: d.in.Inquiry.Unit, Product: d.in.Inquiry.Product}
}

// inWords says a duration in English in its two largest units, for the
// timers' summaries in the Temporal UI ("remind: deposit due in 1 day"):
// "3 days", "1 day 12 hours", "no time".
func inWords(dur time.Duration) string {
	parts := notice.Parts(dur)
	if len(parts) == 0 {
		return "no time"
	}
	words := make([]string, len(parts))
	for i, p := range parts {
		words[i] = fmt.Sprintf("%d %s", p.N, p.Unit)
		if p.N != 1 {
			words[i] += "s"
		}
	}
	return strings.Join(words, " ")
}
