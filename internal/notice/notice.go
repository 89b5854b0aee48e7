// Package notice holds what a notification states, apart from how it is
// worded: the facts its kind's text is made of (amounts with their
// currency, windows, deadlines, goods, names). The deal's workflow and the
// other producers record facts; internal/texts words them for each reader,
// in the reader's language and time zone, when they are read or mailed.
package notice

import (
	"encoding/json"
	"fmt"
	"time"
)

// Facts are what a notification says. Each kind uses some of them (its
// templates in internal/texts say which); the others stay zero and are
// left out of the JSON.
type Facts struct {
	// Amount is in minor units of Currency; Was is what it was before
	// (a price that dropped).
	Amount   int64  `json:"amount,omitempty"`
	Was      int64  `json:"was,omitempty"`
	Currency string `json:"currency,omitempty"`
	// Quantity, Unit and Product are the goods asked for.
	Quantity int64  `json:"quantity,omitempty"`
	Unit     string `json:"unit,omitempty"`
	Product  string `json:"product,omitempty"`
	// Supplier is a supplier's name (its ID when it has none).
	Supplier string `json:"supplier,omitempty"`
	// Within is a window the reader has to act in, from now.
	Within time.Duration `json:"within_ns,omitempty"`
	// Due is a deadline; Left is how long before it the notice was made.
	Due  time.Time     `json:"due,omitzero"`
	Left time.Duration `json:"left_ns,omitempty"`
	// Since is when something began (a webhook endpoint's failures).
	Since time.Time `json:"since,omitzero"`
	// Step is the payment a notice is about: deposit, balance or sample.
	Step string `json:"step,omitempty"`
	// Stage is the deal's stage (workflows.Stage).
	Stage string `json:"stage,omitempty"`
	// Count is how many (suppliers the inquiry went on to, suppliers new
	// in a buyer's categories); Drops is how many price drops.
	Count int `json:"count,omitempty"`
	Drops int `json:"drops,omitempty"`
	// Carrier and Tracking identify a shipment.
	Carrier  string `json:"carrier,omitempty"`
	Tracking string `json:"tracking,omitempty"`
	// Reason is why, in the words of the party or system that said it.
	Reason string `json:"reason,omitempty"`
	// Case says which of its kind's cases a notice is (mediation_needed:
	// "buyer_default" or "dispute").
	Case string `json:"case,omitempty"`
	// Ref names the thing a notice is about: a quote, a proposal, a
	// payment, a card dispute, a webhook endpoint's URL.
	Ref string `json:"ref,omitempty"`
	// Deal is the deal's ID, for notices read outside the deal.
	Deal string `json:"deal,omitempty"`
}

// Size is about how many bytes facts take as JSON.
func (f Facts) Size() int {
	n := 2
	for _, s := range []string{f.Currency, f.Unit, f.Product, f.Supplier, f.Step, f.Stage, f.Carrier, f.Tracking, f.Reason, f.Case, f.Ref, f.Deal} {
		if s != "" {
			n += len(s) + 16
		}
	}
	for _, v := range []int64{f.Amount, f.Was, f.Quantity, int64(f.Within), int64(f.Left), int64(f.Count), int64(f.Drops)} {
		if v != 0 {
			n += 32
		}
	}
	for _, t := range []time.Time{f.Due, f.Since} {
		if !t.IsZero() {
			n += 40
		}
	}
	return n
}

// Encode is facts as stored with their notification (JSON); nil for none.
func Encode(facts *Facts) ([]byte, error) {
	if facts == nil {
		return nil, nil
	}
	b, err := json.Marshal(facts)
	if err != nil {
		return nil, fmt.Errorf("encode notification facts: %w", err)
	}
	return b, nil
}

// Decode is the facts stored as b; nil for none (a notification made
// before notifications carried facts).
func Decode(b []byte) (*Facts, error) {
	if b == nil {
		return nil, nil
	}
	var f Facts
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("decode notification facts: %w", err)
	}
	return &f, nil
}

// Unit is a unit of time a duration is said in.
type Unit string

// Units, largest first.
const (
	Days         Unit = "day"
	Hours        Unit = "hour"
	Minutes      Unit = "minute"
	Seconds      Unit = "second"
	Milliseconds Unit = "millisecond"
)

// Part is a count of one unit.
type Part struct {
	N    int64
	Unit Unit
}

var units = []struct {
	size time.Duration
	unit Unit
}{{24 * time.Hour, Days}, {time.Hour, Hours}, {time.Minute, Minutes}, {time.Second, Seconds}, {time.Millisecond, Milliseconds}}

// Parts is d in its two largest units, as people say a duration: 36 hours
// is 1 day and 12 hours, 5 days and 59 seconds is 5 days, 150 minutes is
// 2 hours and 30 minutes. Under a millisecond (or negative) is no parts.
func Parts(d time.Duration) []Part {
	for i, u := range units {
		if d < u.size {
			continue
		}
		out := []Part{{N: int64(d / u.size), Unit: u.unit}}
		if i+1 < len(units) {
			next := units[i+1]
			if rest := (d % u.size) / next.size; rest > 0 {
				out = append(out, Part{N: int64(rest), Unit: next.unit})
			}
		}
		return out
	}
	return nil
}

// The kinds of notification for one user alone that carry a sign-in link
// (internal/signin): they are mailed to that user and never put in an
// inbox or a webhook, and their stored text does not hold the link.
const (
	KindInvitation    = "account_invitation"
	KindPasswordReset = "password_reset"
)

// Private reports whether kind is one of those.
func Private(kind string) bool { return kind == KindInvitation || kind == KindPasswordReset }
