package money

import (
	"errors"
	"math"
	"testing"
)

func TestSplitDepositAlwaysSumsToTotal(t *testing.T) {
	for _, total := range []int64{0, 1, 3, 99, 100, 101, 333, 1_000_000, 123_456_789, math.MaxInt64} {
		d, b, err := SplitDeposit(total)
		if err != nil {
			t.Fatal(err)
		}
		if d+b != total {
			t.Errorf("total %d: deposit %d + balance %d != total", total, d, b)
		}
		if total < math.MaxInt64/30 && d != total*30/100 {
			t.Errorf("total %d: deposit %d, want %d", total, d, total*30/100)
		}
	}
	if _, _, err := SplitDeposit(-1); err == nil {
		t.Error("negative total accepted")
	}
}

func TestMulDetectsOverflow(t *testing.T) {
	if v, err := Mul(1_000_000, 12_345); err != nil || v != 12_345_000_000 {
		t.Fatalf("Mul = %d, %v", v, err)
	}
	if _, err := Mul(math.MaxInt64/2+1, 2); !errors.Is(err, ErrOverflow) {
		t.Fatalf("overflow not detected: %v", err)
	}
	if _, err := Mul(-1, 2); err == nil {
		t.Fatal("negative operand accepted")
	}
	if _, err := Add(math.MaxInt64, 1); !errors.Is(err, ErrOverflow) {
		t.Fatalf("Add overflow not detected: %v", err)
	}
}

func TestBasisPoints(t *testing.T) {
	cases := []struct{ amount, bp, want int64 }{
		{10_000, 500, 500}, {12_345, 300, 370}, {99, 100, 0}, {math.MaxInt64, 10000, math.MaxInt64},
	}
	for _, c := range cases {
		got, err := BasisPoints(c.amount, c.bp)
		if err != nil || got != c.want {
			t.Errorf("BasisPoints(%d, %d) = %d, %v; want %d", c.amount, c.bp, got, err, c.want)
		}
	}
	if _, err := BasisPoints(100, 10001); err == nil {
		t.Error("bp over 100% accepted")
	}
}

func TestValidCurrency(t *testing.T) {
	for c, want := range map[string]bool{"USD": true, "EUR": true, "usd": false, "US": false, "USDT": false} {
		if ValidCurrency(c) != want {
			t.Errorf("ValidCurrency(%q) != %v", c, want)
		}
	}
}
