// Package money does all of Tradeloop's arithmetic on amounts: minor units
// (int64 cents, yen, …) with an ISO-4217 currency, never floats, and every
// operation checked for overflow. Nothing else in the code base multiplies or
// splits money.
package money

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"strings"
)

// ErrOverflow means a result does not fit in int64 minor units.
var ErrOverflow = errors.New("amount overflows int64 minor units")

// Mul returns a×b, or ErrOverflow.
func Mul(a, b int64) (int64, error) {
	if a < 0 || b < 0 {
		return 0, fmt.Errorf("multiply %d by %d: negative operand", a, b)
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, ErrOverflow
	}
	return int64(lo), nil
}

// Add returns a+b, or ErrOverflow.
func Add(a, b int64) (int64, error) {
	s := a + b
	if (a > 0 && b > 0 && s < 0) || (a < 0 && b < 0 && s >= 0) {
		return 0, ErrOverflow
	}
	return s, nil
}

// DepositPercent is the share of a deal's total the buyer pays into escrow
// before production; the balance is the rest.
const DepositPercent = 30

// SplitDeposit gives the deposit and balance of an escrowed total: deposit =
// ⌊total×DepositPercent/100⌋ and balance = total − deposit, so the two
// always sum to the total.
func SplitDeposit(total int64) (deposit, balance int64, err error) {
	if total < 0 {
		return 0, 0, fmt.Errorf("split %d: negative total", total)
	}
	// total/100*p + (total%100)*p/100 is ⌊total×p/100⌋ without overflow.
	deposit = total/100*DepositPercent + total%100*DepositPercent/100
	return deposit, total - deposit, nil
}

// BasisPoints returns ⌊amount×bp/10000⌋ without overflow, for commissions.
func BasisPoints(amount int64, bp int64) (int64, error) {
	if amount < 0 || bp < 0 || bp > 10000 {
		return 0, fmt.Errorf("%d basis points of %d: out of range", bp, amount)
	}
	return amount/10000*bp + amount%10000*bp/10000, nil
}

// RateScale is the fixed point of exchange rates: a rate of 7_100_000 is
// 7.1 units of a currency per US dollar.
const RateScale = 1_000_000

// Convert turns amount minor units of from into minor units of to, given
// how many units of each one US dollar buys (in millionths, RateScale),
// rounded half up to to's minor unit: one rounding, however far apart
// the two currencies' decimals are.
func Convert(amount int64, from, to string, fromPerUSD, toPerUSD int64) (int64, error) {
	if amount < 0 || fromPerUSD < 1 || toPerUSD < 1 {
		return 0, fmt.Errorf("convert %d %s at %d/%d: negative amount or rate not positive", amount, from, fromPerUSD, toPerUSD)
	}
	if from == to {
		return amount, nil
	}
	// amount × toPerUSD × 10^dec(to) / (fromPerUSD × 10^dec(from)), exact.
	num := new(big.Int).Mul(big.NewInt(amount), big.NewInt(toPerUSD))
	num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(Decimals(to))), nil))
	den := new(big.Int).Mul(big.NewInt(fromPerUSD), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(Decimals(from))), nil))
	// ⌊(2·num + den) / (2·den)⌋ is num/den rounded half up.
	num.Add(num.Lsh(num, 1), den)
	q := num.Quo(num, den.Lsh(den, 1))
	if !q.IsInt64() {
		return 0, ErrOverflow
	}
	return q.Int64(), nil
}

// Tier is one step of a quantity price list.
type Tier struct {
	MinQuantity int64
	UnitPrice   int64
}

// TieredTotal prices quantity at the unit price of the highest tier it
// reaches. Tiers must be in increasing order of MinQuantity.
func TieredTotal(quantity int64, tiers []Tier) (total, unitPrice int64, err error) {
	if quantity < 1 {
		return 0, 0, fmt.Errorf("quantity %d: must be positive", quantity)
	}
	unitPrice = -1
	for i, t := range tiers {
		if t.MinQuantity < 1 || t.UnitPrice < 1 {
			return 0, 0, fmt.Errorf("tier %d: quantity and unit price must be positive", i+1)
		}
		if i > 0 && t.MinQuantity <= tiers[i-1].MinQuantity {
			return 0, 0, errors.New("tiers must be in increasing order of quantity")
		}
		if quantity >= t.MinQuantity {
			unitPrice = t.UnitPrice
		}
	}
	if unitPrice < 0 {
		return 0, 0, fmt.Errorf("no tier covers quantity %d", quantity)
	}
	total, err = Mul(unitPrice, quantity)
	if err != nil {
		return 0, 0, fmt.Errorf("%d × %d: %w", quantity, unitPrice, err)
	}
	return total, unitPrice, nil
}

// Allocation is how one escrowed charge is settled.
type Allocation struct {
	Charge     int64 // the charge's amount
	Released   int64 // part released to the supplier side
	Commission int64 // platform's commission, out of Released
	Net        int64 // Released − Commission, transferred to the supplier
	Refunded   int64 // Charge − Released, returned to the buyer
}

// Allocate settles a release of `release` minor units across escrowed charges
// in order (the deposit before the balance), taking commission at bp basis
// points on each released part only. Every charge is exactly
// Net + Commission + Refunded.
func Allocate(charges []int64, release, bp int64) ([]Allocation, error) {
	var held int64
	for _, c := range charges {
		if c < 0 {
			return nil, fmt.Errorf("charge %d: negative", c)
		}
		var err error
		if held, err = Add(held, c); err != nil {
			return nil, err
		}
	}
	if release < 0 || release > held {
		return nil, fmt.Errorf("release %d: must be between 0 and the %d held", release, held)
	}
	out := make([]Allocation, len(charges))
	left := release
	for i, c := range charges {
		rel := min(left, c)
		left -= rel
		com, err := BasisPoints(rel, bp)
		if err != nil {
			return nil, err
		}
		out[i] = Allocation{Charge: c, Released: rel, Commission: com, Net: rel - com, Refunded: c - rel}
	}
	return out, nil
}

// AllocateGrouped is Allocate with the commission taken on each group's
// release as a whole (groups[i] names charge i's group): the charges of
// one group pay, together, the commission one charge of their total
// would, each its part as the release reaches it. A group of one charge
// pays what Allocate takes.
func AllocateGrouped(charges []int64, groups []string, release, bp int64) ([]Allocation, error) {
	if len(groups) != len(charges) {
		return nil, fmt.Errorf("%d groups for %d charges", len(groups), len(charges))
	}
	out, err := Allocate(charges, release, bp)
	if err != nil {
		return nil, err
	}
	released := map[string]int64{} // by group, so far
	for i := range out {
		before := released[groups[i]]
		after := before + out[i].Released
		hi, err := BasisPoints(after, bp)
		if err != nil {
			return nil, err
		}
		lo, _ := BasisPoints(before, bp)
		released[groups[i]] = after
		out[i].Commission = hi - lo
		out[i].Net = out[i].Released - out[i].Commission
	}
	return out, nil
}

// supported are the ISO-4217 currencies the platform settles in.
var supported = map[string]bool{
	"AED": true, "AUD": true, "BRL": true, "CAD": true, "CHF": true, "CNY": true, "CZK": true, "DKK": true,
	"EUR": true, "GBP": true, "HKD": true, "IDR": true, "ILS": true, "INR": true, "JPY": true, "KRW": true,
	"MXN": true, "MYR": true, "NOK": true, "NZD": true, "PHP": true, "PLN": true, "SAR": true, "SEK": true,
	"SGD": true, "THB": true, "TRY": true, "TWD": true, "USD": true, "VND": true, "ZAR": true,
}

// KnownCurrency reports whether c is a currency the platform supports: the
// one currency rule, which the API, the catalog, the search and the deal's
// workflow all apply.
func KnownCurrency(c string) bool { return supported[c] }

// Currencies are the supported currencies' codes, in order.
func Currencies() []string { return slices.Sorted(maps.Keys(supported)) }

// Decimals is how many decimal places currency's minor unit has: 2 for
// USD, 0 for JPY.
func Decimals(currency string) int {
	if zeroDecimal[currency] {
		return 0
	}
	return 2
}

// zeroDecimal are the supported currencies whose minor unit is the unit.
var zeroDecimal = map[string]bool{"JPY": true, "KRW": true, "VND": true}

// Count writes a count for people, in groups of three digits: "20,000".
func Count(n int64) string {
	if n < 0 {
		return "-" + group(uint64(-(n+1))+1)
	}
	return group(uint64(n))
}

// group is u's digits in groups of three, separated by commas.
func group(u uint64) string {
	digits := fmt.Sprint(u)
	grouped := make([]byte, 0, len(digits)+len(digits)/3)
	for i := range len(digits) {
		if i > 0 && (len(digits)-i)%3 == 0 {
			grouped = append(grouped, ',')
		}
		grouped = append(grouped, digits[i])
	}
	return string(grouped)
}

// Format writes an amount for people: "USD 2,340.00", "JPY 12,000".
func Format(amount int64, currency string) string {
	sign := ""
	u := uint64(amount)
	if amount < 0 {
		sign, u = "-", uint64(-(amount+1))+1 // math.MinInt64 too
	}
	whole, frac := u, uint64(0)
	if !zeroDecimal[currency] {
		whole, frac = u/100, u%100
	}
	grouped := group(whole)
	if zeroDecimal[currency] {
		return fmt.Sprintf("%s %s%s", currency, sign, grouped)
	}
	return fmt.Sprintf("%s %s%s.%02d", currency, sign, grouped, frac)
}

// ErrNotAnAmount means a text is not an amount of its currency as people
// type it.
var ErrNotAnAmount = errors.New("not an amount")

// Parse reads an amount people typed in currency's major units ("3.90",
// "1,200.5", "1200" for USD; "1,200" for JPY) into minor units: digits
// with optional thousands commas and at most the currency's decimals; no
// sign, no exponent, nothing beyond int64.
func Parse(s, currency string) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, dot := strings.Cut(s, ".")
	dec := Decimals(currency)
	if whole == "" || (dot && (frac == "" || len(frac) > dec)) || len(s) > 32 {
		return 0, ErrNotAnAmount
	}
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		for i, g := range groups {
			if g == "" || len(g) > 3 || (i > 0 && len(g) != 3) {
				return 0, ErrNotAnAmount
			}
		}
		whole = strings.Join(groups, "")
	}
	frac += strings.Repeat("0", dec-len(frac))
	var n int64
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, ErrNotAnAmount
		}
		var err error
		if n, err = Mul(n, 10); err != nil {
			return 0, ErrNotAnAmount
		}
		if n, err = Add(n, int64(r-'0')); err != nil {
			return 0, ErrNotAnAmount
		}
	}
	return n, nil
}

// MeanChangeBP is how far the mean of amounts now stands from the mean of
// amounts before, in basis points of the latter, rounded down (+200: 2 %
// higher). Exact whatever the sums: a price trend compares weeks of
// prices with it.
func MeanChangeBP(now, before []int64) (int64, error) {
	if len(now) == 0 || len(before) == 0 {
		return 0, errors.New("mean change: an empty set of amounts")
	}
	sum := func(xs []int64) (*big.Int, error) {
		s := new(big.Int)
		for _, x := range xs {
			if x < 0 {
				return nil, fmt.Errorf("mean change: negative amount %d", x)
			}
			s.Add(s, big.NewInt(x))
		}
		return s, nil
	}
	a, err := sum(now)
	if err != nil {
		return 0, err
	}
	b, err := sum(before)
	if err != nil {
		return 0, err
	}
	if b.Sign() == 0 {
		return 0, errors.New("mean change: the earlier mean is zero")
	}
	// (a/len(now)) / (b/len(before)) - 1, in basis points.
	num := a.Mul(a, big.NewInt(int64(len(before))*10000))
	den := b.Mul(b, big.NewInt(int64(len(now))))
	q := new(big.Int).Div(num, den).Int64()
	return q - 10000, nil
}
