package landedcost

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/tradeloop/tradeloop/internal/money"
)

// bolts are steel bolts from Zhejiang at USD 0.12 a piece from 1,000 and
// USD 0.09 from 10,000.
var bolts = Product{MOQ: 1000, Currency: "USD", Tiers: []money.Tier{{MinQuantity: 1000, UnitPrice: 12}, {MinQuantity: 10_000, UnitPrice: 9}},
	Country: "CN", Category: "fasteners"}

// seaToGermany are the migration's sea freight and Germany's duty on
// fasteners, with exchange rates for USD, EUR and JPY.
var seaToGermany = Rates{
	Shipping: ShippingRate{Currency: "USD", PerKg: 25, Minimum: 150_00, OriginFee: 120_00, InsuranceBP: 30},
	Duty:     DutyRate{RateBP: 370, Valuation: ValueCIF},
	PerUSD:   map[string]int64{"USD": 1_000_000, "EUR": 865_000, "JPY": 155_000_000},
	AsOf:     "2025-12-01",
}

func request(t *testing.T, in Input) Request {
	t.Helper()
	r, err := Parse(in)
	if err != nil {
		t.Fatalf("Parse(%+v): %v", in, err)
	}
	return r
}

func compute(t *testing.T, p Product, in Input, rates Rates) Estimate {
	t.Helper()
	e, err := Compute(p, request(t, in), rates)
	if err != nil {
		t.Fatalf("Compute(%+v): %v", in, err)
	}
	checkSum(t, e)
	return e
}

// checkSum fails unless the total is the sum of the lines' amounts and
// each line's amount is its cost when the buyer pays it, 0 otherwise.
func checkSum(t *testing.T, e Estimate) {
	t.Helper()
	var sum int64
	for _, l := range e.Lines {
		sum += l.Amount
		if (l.PaidBy == Buyer && l.Amount != l.Cost) || (l.PaidBy == Supplier && l.Amount != 0) {
			t.Errorf("%s line: cost %d, paid by %s, amount %d", l.Kind, l.Cost, l.PaidBy, l.Amount)
		}
	}
	if sum != e.Total {
		t.Errorf("lines sum to %d, total %d: %+v", sum, e.Total, e.Lines)
	}
}

func costs(e Estimate) map[Kind]int64 {
	out := map[Kind]int64{}
	for _, l := range e.Lines {
		out[l.Kind] = l.Cost
	}
	return out
}

// 20,000 bolts of 1,234.5 kg by sea to Germany, ex works: every line is
// the buyer's, computed by hand below.
func TestALandedCostByHand(t *testing.T) {
	e := compute(t, bolts, Input{Quantity: "20000", Mode: "sea", WeightKg: "1234.5", Incoterm: "EXW", Destination: "DE"}, seaToGermany)
	// goods 20,000 × 0.09 = 1,800.00; 1,235 chargeable kg × 0.25 =
	// 308.75 (above the 150.00 minimum); insured 110 % of 2,108.75 =
	// 2,319.62 (2,319.625 down), premium 0.30 % = 6.95 (6.95886 down);
	// customs value (CIF) 2,108.75 + 6.95 = 2,115.70, duty 3.70 % = 78.28
	// (78.2809 down); origin 120.00.
	want := map[Kind]int64{Goods: 1800_00, Origin: 120_00, Freight: 308_75, Insurance: 6_95, Duty: 78_28}
	for k, v := range want {
		if got := costs(e)[k]; got != v {
			t.Errorf("%s: %d, want %d", k, got, v)
		}
	}
	if e.Total != 2313_98 || e.Currency != "USD" || e.UnitPrice != 9 || e.ChargeableKg != 1235 || e.InsuredValue != 2319_62 ||
		e.CustomsValue != 2115_70 || e.DutyRateBP != 370 || e.Valuation != ValueCIF || e.Domestic || e.RatesAsOf != "" {
		t.Errorf("estimate %+v", e)
	}
	if len(e.Lines) != len(Kinds) {
		t.Fatalf("%d lines", len(e.Lines))
	}
	for i, k := range Kinds {
		if e.Lines[i].Kind != k {
			t.Errorf("line %d is %s, want %s", i, e.Lines[i].Kind, k)
		}
	}
}

// Each incoterm puts its lines on the buyer or the supplier, and the
// total is what the buyer's lines add up to.
func TestEveryIncotermSaysWhoPaysWhat(t *testing.T) {
	supplier := map[Incoterm]string{
		EXW: "", FCA: "origin", FOB: "origin", CPT: "origin freight", CFR: "origin freight",
		CIP: "origin freight insurance", CIF: "origin freight insurance", DAP: "origin freight insurance",
		DPU: "origin freight insurance", DDP: "origin freight insurance duty",
	}
	totals := map[Incoterm]int64{
		EXW: 2313_98, FCA: 2193_98, FOB: 2193_98, CPT: 1885_23, CFR: 1885_23,
		CIP: 1878_28, CIF: 1878_28, DAP: 1878_28, DPU: 1878_28, DDP: 1800_00,
	}
	if len(supplier) != len(Incoterms) {
		t.Fatalf("%d incoterms tested of %d", len(supplier), len(Incoterms))
	}
	for _, term := range Incoterms {
		e := compute(t, bolts, Input{Quantity: "20000", Mode: "sea", WeightKg: "1234.5", Incoterm: string(term), Destination: "DE"}, seaToGermany)
		var got []string
		for _, l := range e.Lines {
			if l.PaidBy == Supplier {
				got = append(got, string(l.Kind))
			}
		}
		if strings.Join(got, " ") != supplier[term] {
			t.Errorf("%s: the supplier pays %q, want %q", term, got, supplier[term])
		}
		if e.Total != totals[term] {
			t.Errorf("%s: total %d, want %d", term, e.Total, totals[term])
		}
		// The costs do not depend on who pays them.
		if c := costs(e); c[Freight] != 308_75 || c[Duty] != 78_28 {
			t.Errorf("%s: costs %v", term, c)
		}
	}
}

func TestValuationWeightsAndDestinations(t *testing.T) {
	// The United States value goods alone (FOB): duty 8.50 % of 1,800.00.
	us := seaToGermany
	us.Duty = DutyRate{RateBP: 850, Valuation: ValueFOB}
	e := compute(t, bolts, Input{Quantity: "20000", Mode: "sea", WeightKg: "1234.5", Incoterm: "FOB", Destination: "US-CA"}, us)
	if e.CustomsValue != 1800_00 || costs(e)[Duty] != 153_00 || e.Total != 1800_00+308_75+6_95+153_00 {
		t.Errorf("to the US: customs value %d, duty %d, total %d", e.CustomsValue, costs(e)[Duty], e.Total)
	}
	// One unit's weight: 15 g × 20,000 = 300 kg, 75.00 by weight, so the
	// 150.00 minimum.
	e = compute(t, bolts, Input{Quantity: "20,000", Mode: "sea", UnitWeightKg: "0.015", Incoterm: "EXW", Destination: "DE"}, seaToGermany)
	if e.ChargeableKg != 300 || costs(e)[Freight] != 150_00 {
		t.Errorf("per unit: %d kg, freight %d", e.ChargeableKg, costs(e)[Freight])
	}
	// A gram over a kilogram is charged as two.
	e = compute(t, bolts, Input{Quantity: "1000", Mode: "express", WeightKg: "1.001", Incoterm: "DAP", Destination: "DE"}, seaToGermany)
	if e.ChargeableKg != 2 || e.UnitPrice != 12 {
		t.Errorf("1.001 kg: %d chargeable, unit price %d", e.ChargeableKg, e.UnitPrice)
	}
	// Goods shipped within their own country pay no duty.
	e = compute(t, bolts, Input{Quantity: "20000", Mode: "road", WeightKg: "100", Incoterm: "EXW", Destination: "cn"}, seaToGermany)
	if !e.Domestic || e.DutyRateBP != 0 || costs(e)[Duty] != 0 {
		t.Errorf("domestic: %+v", e)
	}
}

// Amounts shown in another currency: each line converted once, rounded
// half up, and the total still their sum.
func TestAnotherCurrency(t *testing.T) {
	e := compute(t, bolts, Input{Quantity: "20000", Mode: "sea", WeightKg: "1234.5", Incoterm: "EXW", Destination: "DE", Currency: "eur"}, seaToGermany)
	c := costs(e)
	// 1,800.00 × 0.865 = 1,557.00; 308.75 × 0.865 = 267.06875 → 267.07;
	// 120.00 → 103.80.
	if e.Currency != "EUR" || c[Goods] != 1557_00 || c[Freight] != 267_07 || c[Origin] != 103_80 || e.RatesAsOf != "2025-12-01" {
		t.Errorf("in EUR: %s %v as of %q", e.Currency, c, e.RatesAsOf)
	}
	if e.UnitPrice != 9 || e.ProductCurrency != "USD" {
		t.Errorf("the catalog's unit price: %d %s", e.UnitPrice, e.ProductCurrency)
	}
	e = compute(t, bolts, Input{Quantity: "20000", Mode: "sea", WeightKg: "1234.5", Incoterm: "DDP", Destination: "DE", Currency: "JPY"}, seaToGermany)
	if c := costs(e); c[Goods] != 279_000 || e.Total != 279_000 {
		t.Errorf("in JPY: %v, total %d", c, e.Total)
	}
	noYen := seaToGermany
	noYen.PerUSD = map[string]int64{"USD": 1_000_000}
	_, err := Compute(bolts, request(t, Input{Quantity: "20000", Mode: "sea", WeightKg: "1", Incoterm: "EXW", Destination: "DE", Currency: "JPY"}), noYen)
	wantField(t, err, "currency", "exchange rate")
	if c := codeOf(err); c != NoRate {
		t.Errorf("no rate: code %q", c)
	}
}

func TestAmountsBeyondInt64AreRefused(t *testing.T) {
	huge := bolts
	huge.Tiers = []money.Tier{{MinQuantity: 1, UnitPrice: math.MaxInt64 / 2}}
	_, err := Compute(huge, request(t, Input{Quantity: "3000", Mode: "sea", WeightKg: "1", Incoterm: "EXW", Destination: "DE"}), seaToGermany)
	wantField(t, err, "quantity", "too large")
	if c := codeOf(err); c != TooLarge {
		t.Errorf("too large: code %q", c)
	}
	// The goods fit, the goods and freight do not.
	huge.Tiers = []money.Tier{{MinQuantity: 1, UnitPrice: math.MaxInt64 / 1000}}
	_, err = Compute(huge, request(t, Input{Quantity: "1000", Mode: "sea", WeightKg: "1", Incoterm: "DDP", Destination: "DE"}), seaToGermany)
	wantField(t, err, "quantity", "too large")
	// A rate per kilogram the weight overflows.
	steep := seaToGermany
	steep.Shipping.PerKg = math.MaxInt64 / 100
	_, err = Compute(bolts, request(t, Input{Quantity: "1000", Mode: "sea", WeightKg: "1000", Incoterm: "EXW", Destination: "DE"}), steep)
	wantField(t, err, "weight_kg", "too large")
	// One unit's weight times the quantity beyond the heaviest shipment.
	_, err = Compute(bolts, request(t, Input{Quantity: "1000000000", Mode: "sea", UnitWeightKg: "11", Incoterm: "EXW", Destination: "DE"}), seaToGermany)
	wantField(t, err, "unit_weight_kg", "weigh more")
	// In a currency of many units to the dollar.
	dong := seaToGermany
	dong.PerUSD = map[string]int64{"USD": 1, "VND": math.MaxInt64}
	_, err = Compute(bolts, request(t, Input{Quantity: "1000", Mode: "sea", WeightKg: "1", Incoterm: "EXW", Destination: "DE", Currency: "VND"}), dong)
	wantField(t, err, "quantity", "too large")
}

func TestBelowTheMinimumOrder(t *testing.T) {
	_, err := Compute(bolts, request(t, Input{Quantity: "999", Mode: "sea", WeightKg: "1", Incoterm: "EXW", Destination: "DE"}), seaToGermany)
	wantField(t, err, "quantity", "at least 1,000")
	if c := codeOf(err); c != BelowMOQ {
		t.Errorf("below the MOQ: code %q", c)
	}
}

func codeOf(err error) Code {
	var inv *InvalidError
	if !errors.As(err, &inv) {
		return ""
	}
	return inv.Fields[0].Code
}

// Every hostile or mistaken field is refused, named, with why.
func TestParseRefuses(t *testing.T) {
	ok := Input{Quantity: "1000", Mode: "sea", WeightKg: "10", Incoterm: "FOB", Destination: "US", Currency: "USD"}
	if _, err := Parse(ok); err != nil {
		t.Fatalf("a good input refused: %v", err)
	}
	with := func(f func(*Input)) Input {
		in := ok
		f(&in)
		return in
	}
	for _, c := range []struct {
		in          Input
		field, says string
	}{
		{with(func(i *Input) { i.Quantity = "" }), "quantity", "required"},
		{with(func(i *Input) { i.Quantity = "0" }), "quantity", "from 1"},
		{with(func(i *Input) { i.Quantity = "-5" }), "quantity", "from 1"},
		{with(func(i *Input) { i.Quantity = "1.5" }), "quantity", "whole number"},
		{with(func(i *Input) { i.Quantity = "1,00" }), "quantity", "whole number"},
		{with(func(i *Input) { i.Quantity = "1e3" }), "quantity", "whole number"},
		{with(func(i *Input) { i.Quantity = "1000000001" }), "quantity", "1,000,000,000"},
		{with(func(i *Input) { i.Quantity = "99999999999999999999" }), "quantity", "whole number"},
		{with(func(i *Input) { i.Quantity = "10\x00" }), "quantity", "control character"},
		{with(func(i *Input) { i.Mode = "" }), "mode", "required"},
		{with(func(i *Input) { i.Mode = "teleport" }), "mode", "sea, rail, road, air, express"},
		{with(func(i *Input) { i.Mode = "sea\r\n" }), "mode", "control character"},
		{with(func(i *Input) { i.WeightKg = "" }), "weight_kg", "required"},
		{with(func(i *Input) { i.UnitWeightKg = "0.1" }), "weight_kg", "not both"},
		{with(func(i *Input) { i.WeightKg = "-1" }), "weight_kg", "three decimals"},
		{with(func(i *Input) { i.WeightKg = "0" }), "weight_kg", "more than 0"},
		{with(func(i *Input) { i.WeightKg = "0.0001" }), "weight_kg", "three decimals"},
		{with(func(i *Input) { i.WeightKg = "NaN" }), "weight_kg", "three decimals"},
		{with(func(i *Input) { i.WeightKg = "Inf" }), "weight_kg", "three decimals"},
		{with(func(i *Input) { i.WeightKg = "10000001" }), "weight_kg", "at most 10,000,000 kg"},
		{with(func(i *Input) { i.WeightKg = strings.Repeat("9", 40) }), "weight_kg", "at most 32"},
		{with(func(i *Input) { i.WeightKg, i.UnitWeightKg = "", "0" }), "unit_weight_kg", "more than 0"},
		{with(func(i *Input) { i.Incoterm = "" }), "incoterm", "required"},
		{with(func(i *Input) { i.Incoterm = "XYZ" }), "incoterm", "EXW, FCA"},
		{with(func(i *Input) { i.Incoterm, i.Mode = "CIF", "air" }), "incoterm", "CIP is its counterpart by air"},
		{with(func(i *Input) { i.Destination = "" }), "destination", "required"},
		{with(func(i *Input) { i.Destination = "USA" }), "destination", "ISO 3166"},
		{with(func(i *Input) { i.Destination = "U\u202eS" }), "destination", "ISO 3166"},
		{with(func(i *Input) { i.Destination = "\xff\xfe" }), "destination", "UTF-8"},
		{with(func(i *Input) { i.Currency = "XYZ" }), "currency", "not a currency"},
		{with(func(i *Input) { i.Currency = "US" }), "currency", "not a currency"},
	} {
		_, err := Parse(c.in)
		wantField(t, err, c.field, c.says)
	}
	if _, err := Parse(with(func(i *Input) { i.Incoterm, i.Mode = "FOB", "road" })); codeOf(err) != SeaOnly {
		t.Errorf("FOB by road: %v", err)
	}
	if _, err := Parse(with(func(i *Input) { i.Quantity = "0" })); codeOf(err) != Malformed {
		t.Errorf("quantity 0: %v", err)
	}
	// Every wrong field at once, in the form's order.
	_, err := Parse(Input{Quantity: "x", Mode: "x", WeightKg: "x", Incoterm: "x", Destination: "x", Currency: "x"})
	var inv *InvalidError
	if !errors.As(err, &inv) || len(inv.Fields) != 6 || inv.Fields[0].Field != "quantity" || inv.Fields[5].Field != "currency" {
		t.Errorf("every field wrong: %v", err)
	}
}

func wantField(t *testing.T, err error, field, says string) {
	t.Helper()
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Errorf("want %s refused (%q), got %v", field, says, err)
		return
	}
	if inv.Fields[0].Field != field || !strings.Contains(inv.Fields[0].Message, says) {
		t.Errorf("want %s refused saying %q, got %v", field, says, inv.Fields)
	}
}
