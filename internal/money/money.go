// Package money does all of Tradeloop's arithmetic on amounts: minor units
// (int64 cents, yen, …) with an ISO-4217 currency, never floats, and every
// operation checked for overflow. Nothing else in the code base multiplies or
// splits money.
package money

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"regexp"
)

// ErrOverflow means a result does not fit in int64 minor units.
var ErrOverflow = errors.New("amount overflows int64 minor units")

var currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)

// ValidCurrency reports whether c looks like an ISO-4217 alphabetic code.
func ValidCurrency(c string) bool { return currencyRE.MatchString(c) }

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

// Deposit and balance of an escrowed total: deposit = ⌊total×30/100⌋ and
// balance = total − deposit, so the two always sum to the total.
func SplitDeposit(total int64) (deposit, balance int64, err error) {
	if total < 0 {
		return 0, 0, fmt.Errorf("split %d: negative total", total)
	}
	// total/100*30 + (total%100)*30/100 is ⌊total×30/100⌋ without overflow.
	deposit = total/100*30 + total%100*30/100
	return deposit, total - deposit, nil
}

// BasisPoints returns ⌊amount×bp/10000⌋ without overflow, for commissions.
func BasisPoints(amount int64, bp int64) (int64, error) {
	if amount < 0 || bp < 0 || bp > 10000 {
		return 0, fmt.Errorf("%d basis points of %d: out of range", bp, amount)
	}
	return amount/10000*bp + amount%10000*bp/10000, nil
}
