package money

import (
	"errors"
	"math"
	"slices"
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

func TestKnownCurrency(t *testing.T) {
	for c, want := range map[string]bool{"USD": true, "EUR": true, "JPY": true, "usd": false, "US": false, "USDT": false, "XYZ": false, "": false, "US\x00": false} {
		if KnownCurrency(c) != want {
			t.Errorf("KnownCurrency(%q) != %v", c, want)
		}
	}
}

func TestTieredTotal(t *testing.T) {
	tiers := []Tier{{100, 500}, {1000, 450}, {5000, 400}}
	for qty, want := range map[int64]int64{100: 50_000, 999: 499_500, 1000: 450_000, 7000: 2_800_000} {
		total, _, err := TieredTotal(qty, tiers)
		if err != nil || total != want {
			t.Errorf("qty %d: %d (%v), want %d", qty, total, err, want)
		}
	}
	if _, _, err := TieredTotal(99, tiers); err == nil {
		t.Error("quantity below every tier accepted")
	}
	if _, _, err := TieredTotal(2000, []Tier{{1000, 5}, {100, 6}}); err == nil {
		t.Error("unordered tiers accepted")
	}
	if _, _, err := TieredTotal(math.MaxInt64/2, []Tier{{1, 3}}); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflow: %v", err)
	}
}

func TestAllocateSplitsExactlyWithCommissionOnReleasedPartOnly(t *testing.T) {
	// 30/70 of 1,000,000: release 600,000 at 300 bp.
	allocs, err := Allocate([]int64{300_000, 700_000}, 600_000, 300)
	if err != nil {
		t.Fatal(err)
	}
	want := []Allocation{
		{Charge: 300_000, Released: 300_000, Commission: 9_000, Net: 291_000, Refunded: 0},
		{Charge: 700_000, Released: 300_000, Commission: 9_000, Net: 291_000, Refunded: 400_000},
	}
	for i := range want {
		if allocs[i] != want[i] {
			t.Errorf("charge %d: %+v, want %+v", i, allocs[i], want[i])
		}
	}
	for _, release := range []int64{0, 1, 299_999, 300_000, 1_000_000} {
		allocs, err := Allocate([]int64{300_000, 700_000}, release, 500)
		if err != nil {
			t.Fatal(err)
		}
		var rel int64
		for _, a := range allocs {
			if a.Net+a.Commission+a.Refunded != a.Charge {
				t.Errorf("release %d: %+v does not add up", release, a)
			}
			rel += a.Released
		}
		if rel != release {
			t.Errorf("released %d, want %d", rel, release)
		}
	}
	if _, err := Allocate([]int64{100}, 101, 0); err == nil {
		t.Error("release above the held amount accepted")
	}
	if _, err := Allocate([]int64{100}, -1, 0); err == nil {
		t.Error("negative release accepted")
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{234_000, "USD", "USD 2,340.00"},
		{5, "EUR", "EUR 0.05"},
		{-123_456_789, "EUR", "EUR -1,234,567.89"},
		{12_000, "JPY", "JPY 12,000"},
		{999, "KRW", "KRW 999"},
		{math.MinInt64, "USD", "USD -92,233,720,368,547,758.08"},
	} {
		if got := Format(c.amount, c.currency); got != c.want {
			t.Errorf("Format(%d, %s) = %q, want %q", c.amount, c.currency, got, c.want)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 20000: "20,000", -1234567: "-1,234,567", math.MinInt64: "-9,223,372,036,854,775,808"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in, cur string
		want    int64
	}{
		{"3.90", "USD", 390}, {"3.9", "USD", 390}, {"1,200.50", "USD", 120050}, {"1200", "USD", 120000}, {" 7 ", "EUR", 700},
		{"1,200", "JPY", 1200}, {"0.01", "USD", 1}, {"92233720368547758.07", "USD", math.MaxInt64},
	} {
		if got, err := Parse(c.in, c.cur); err != nil || got != c.want {
			t.Errorf("Parse(%q, %s) = %d, %v; want %d", c.in, c.cur, got, err, c.want)
		}
	}
	for _, c := range [][2]string{
		{"", "USD"}, {"-1", "USD"}, {"+1", "USD"}, {"1e3", "USD"}, {"1.234", "USD"}, {"1.5", "JPY"}, {"1.", "USD"}, {".5", "USD"},
		{"12,34", "USD"}, {",100", "USD"}, {"1,0000", "USD"}, {"92233720368547758.08", "USD"}, {"１２", "USD"}, {"1 000", "USD"},
		{"0x10", "USD"}, {"1\x00", "USD"}, {"99999999999999999999999999999999999", "USD"},
	} {
		if got, err := Parse(c[0], c[1]); !errors.Is(err, ErrNotAnAmount) {
			t.Errorf("Parse(%q, %s) = %d, %v; want refused", c[0], c[1], got, err)
		}
	}
}

func TestConvert(t *testing.T) {
	for _, c := range []struct {
		amount     int64
		from, to   string
		fromR, toR int64
		want       int64
	}{
		{100_00, "USD", "CNY", 1_000_000, 7_100_000, 710_00},   // USD 100.00 → CNY 710.00
		{710_00, "CNY", "USD", 7_100_000, 1_000_000, 100_00},   // and back
		{100_00, "USD", "JPY", 1_000_000, 155_000_000, 15_500}, // 2 decimals to none
		{15_500, "JPY", "USD", 155_000_000, 1_000_000, 100_00}, // none to 2
		{1, "USD", "EUR", 1_000_000, 865_000, 1},               // 0.865 cent: half up to 1
		{1, "USD", "EUR", 1_000_000, 400_000, 0},               // 0.4 cent: down to 0
		{1, "USD", "EUR", 1_000_000, 500_000, 1},               // exactly half: up
		{0, "USD", "KRW", 1_000_000, 1_465_000_000, 0},
		{12_345, "EUR", "EUR", 865_000, 865_000, 12_345},
		{math.MaxInt64, "USD", "USD", 1, 1, math.MaxInt64},
	} {
		got, err := Convert(c.amount, c.from, c.to, c.fromR, c.toR)
		if err != nil || got != c.want {
			t.Errorf("Convert(%d %s → %s) = %d, %v; want %d", c.amount, c.from, c.to, got, err, c.want)
		}
	}
	if _, err := Convert(math.MaxInt64/2, "USD", "VND", 1_000_000, 26_350_000_000); !errors.Is(err, ErrOverflow) {
		t.Errorf("overflow: %v", err)
	}
	for _, bad := range [][3]int64{{-1, 1, 1}, {1, 0, 1}, {1, 1, -5}} {
		if _, err := Convert(bad[0], "USD", "EUR", bad[1], bad[2]); err == nil {
			t.Errorf("Convert(%v) accepted", bad)
		}
	}
}

func TestMeanChangeBP(t *testing.T) {
	for _, c := range []struct {
		now, before []int64
		want        int64
	}{
		{[]int64{102, 102}, []int64{100, 100, 100}, 200},
		{[]int64{101}, []int64{100}, 100},
		{[]int64{98}, []int64{100, 100}, -200},
		// 100.5 against 100.25: +24.9… bp, rounded down.
		{[]int64{100, 101}, []int64{100, 100, 100, 101}, 24},
		{[]int64{99}, []int64{100}, -100},
		{[]int64{math.MaxInt64, math.MaxInt64}, []int64{math.MaxInt64}, 0},
	} {
		got, err := MeanChangeBP(c.now, c.before)
		if err != nil || got != c.want {
			t.Errorf("MeanChangeBP(%v, %v) = %d, %v; want %d", c.now, c.before, got, err, c.want)
		}
	}
	for _, bad := range [][2][]int64{{nil, {1}}, {{1}, nil}, {{1}, {0}}, {{-1}, {1}}} {
		if _, err := MeanChangeBP(bad[0], bad[1]); err == nil {
			t.Errorf("MeanChangeBP(%v, %v): no error", bad[0], bad[1])
		}
	}
}

func TestAllocateGroupedTakesOneStepsCommissionOnItsWhole(t *testing.T) {
	// Charges of their own group: exactly Allocate.
	for _, release := range []int64{0, 1, 299_999, 300_000, 650_001, 1_000_000} {
		want, err := Allocate([]int64{300_000, 700_000}, release, 250)
		if err != nil {
			t.Fatal(err)
		}
		got, err := AllocateGrouped([]int64{300_000, 700_000}, []string{"deposit", "balance"}, release, 250)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("release %d: grouped %+v, Allocate %+v", release, got, want)
		}
	}
	// A deposit of 300,001 paid as 10,333 + 289,668: the two parts pay,
	// together, the commission of one charge of 300,001, whatever the
	// release, and every part still adds up.
	for _, release := range []int64{0, 7, 10_333, 10_334, 150_000, 300_001, 1_000_001} {
		split, err := AllocateGrouped([]int64{10_333, 289_668, 700_000}, []string{"deposit", "deposit", "balance"}, release, 250)
		if err != nil {
			t.Fatal(err)
		}
		whole, _ := Allocate([]int64{300_001, 700_000}, release, 250)
		if c := split[0].Commission + split[1].Commission; c != whole[0].Commission {
			t.Errorf("release %d: deposit's commission %d in parts, %d whole", release, c, whole[0].Commission)
		}
		if n := split[0].Net + split[1].Net + split[2].Net; n != whole[0].Net+whole[1].Net {
			t.Errorf("release %d: supplier nets %d in parts, %d whole", release, n, whole[0].Net+whole[1].Net)
		}
		for i, a := range split {
			if a.Net+a.Commission+a.Refunded != a.Charge || a.Net < 0 || a.Commission < 0 {
				t.Errorf("release %d: part %d %+v does not add up", release, i, a)
			}
		}
	}
	if _, err := AllocateGrouped([]int64{1, 2}, []string{"a"}, 1, 100); err == nil {
		t.Error("fewer groups than charges accepted")
	}
}
