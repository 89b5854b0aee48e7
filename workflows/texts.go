package workflows

import (
	"fmt"
	"time"

	"github.com/tradeloop/tradeloop/internal/money"
)

// The deal's notification texts show money and durations as people read
// them: "USD 2,340.00" (money.Format), "3 days", "2 hours 30 minutes".

// amount is an amount of the deal's currency as people read it.
func (d *deal) amount(v int64) string { return money.Format(v, d.state.Currency) }

// inWords says a duration in its two largest units: "3 days", "1 day 12
// hours", "2 hours", "45 minutes", "30 seconds", "250 milliseconds".
func inWords(dur time.Duration) string {
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}, {time.Millisecond, "millisecond"}}
	if dur < time.Millisecond {
		return "no time"
	}
	for i, u := range units {
		if dur < u.size {
			continue
		}
		out := count(int64(dur/u.size), u.name)
		if i+1 < len(units) {
			next := units[i+1]
			if rest := (dur % u.size) / next.size; rest > 0 {
				out += " " + count(int64(rest), next.name)
			}
		}
		return out
	}
	return "no time"
}

func count(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
