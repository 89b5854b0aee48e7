// Package landedcost is the buyers' landed-cost calculator: what a catalog
// product costs delivered to a destination country, line by line (goods
// at the catalog's price tiers, charges at origin, freight, cargo
// insurance, customs duty), each in integer minor units, and the total,
// which is exactly the sum of the lines. The rates come from tables the
// platform keeps (db/migrations/022_landed_cost.sql); the incoterm says
// which lines the buyer pays and which the supplier's price includes.
//
// Rounding: freight is charged per whole kilogram (the gross weight
// rounded up); insurance and duty are percentages rounded down to the
// minor unit (money.BasisPoints); an amount in another currency is
// converted once, rounded half up (money.Convert). Every step is checked
// for overflow.
package landedcost

import (
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/internal/money"
)

// Mode is a way of shipping: its freight rates are the platform's.
type Mode string

// The shipping modes.
const (
	Sea     Mode = "sea"
	Rail    Mode = "rail"
	Road    Mode = "road"
	Air     Mode = "air"
	Express Mode = "express"
)

// Modes are the shipping modes, in the order forms offer them.
var Modes = []Mode{Sea, Rail, Road, Air, Express}

// Incoterm is an Incoterms 2020 rule: who pays what between the supplier's
// works and the buyer's door.
type Incoterm string

// The incoterms the calculator knows.
const (
	EXW Incoterm = "EXW"
	FCA Incoterm = "FCA"
	FOB Incoterm = "FOB"
	CPT Incoterm = "CPT"
	CFR Incoterm = "CFR"
	CIP Incoterm = "CIP"
	CIF Incoterm = "CIF"
	DAP Incoterm = "DAP"
	DPU Incoterm = "DPU"
	DDP Incoterm = "DDP"
)

// Incoterms are the incoterms, from the buyer paying most to least.
var Incoterms = []Incoterm{EXW, FCA, FOB, CPT, CFR, CIP, CIF, DAP, DPU, DDP}

// Kind is a line of the landed cost.
type Kind string

// The lines, in the order an estimate lists them.
const (
	// Goods is the quantity at the catalog's unit price for it.
	Goods Kind = "goods"
	// Origin is export clearance and loading at origin.
	Origin Kind = "origin"
	// Freight is the main carriage to the destination.
	Freight Kind = "freight"
	// Insurance is the cargo insurance premium.
	Insurance Kind = "insurance"
	// Duty is the destination's customs duty on the customs value.
	Duty Kind = "duty"
)

// Kinds are the lines in order.
var Kinds = []Kind{Goods, Origin, Freight, Insurance, Duty}

// Payer is who pays a line.
type Payer string

// The payers.
const (
	Buyer    Payer = "buyer"
	Supplier Payer = "supplier"
)

// supplierPays lists, for each incoterm, the lines the supplier's price
// includes (Incoterms 2020): from origin charges under FCA and FOB, to
// everything but the goods' price under DDP. The buyer pays the rest; under
// the terms where the supplier need not insure the cargo, the buyer
// carries its risk in transit and so its insurance.
var supplierPays = map[Incoterm][]Kind{
	EXW: {},
	FCA: {Origin},
	FOB: {Origin},
	CPT: {Origin, Freight},
	CFR: {Origin, Freight},
	CIP: {Origin, Freight, Insurance},
	CIF: {Origin, Freight, Insurance},
	DAP: {Origin, Freight, Insurance},
	DPU: {Origin, Freight, Insurance},
	DDP: {Origin, Freight, Insurance, Duty},
}

// seaOnly are the incoterms for sea and inland waterway transport alone;
// FCA, CPT and CIP are their counterparts for every mode.
var seaOnly = map[Incoterm]Incoterm{FOB: FCA, CFR: CPT, CIF: CIP}

// PaidBy is who pays line k under incoterm t.
func PaidBy(t Incoterm, k Kind) Payer {
	if slices.Contains(supplierPays[t], k) {
		return Supplier
	}
	return Buyer
}

// Valuation is how a country's customs values goods for duty.
type Valuation string

// The valuations.
const (
	// ValueCIF is the goods with their freight and insurance to the
	// border (the EU, the UK, China, most countries).
	ValueCIF Valuation = "CIF"
	// ValueFOB is the goods alone (the United States, Canada, Australia).
	ValueFOB Valuation = "FOB"
)

// Rates are the platform's rates that an estimate uses.
type Rates struct {
	// Shipping is the mode's.
	Shipping ShippingRate
	// Duty is the destination's for the product's category.
	Duty DutyRate
	// PerUSD holds how many units of each currency one US dollar buys,
	// in millionths (money.RateScale), for each currency to convert;
	// AsOf is the day of the oldest of them.
	PerUSD map[string]int64
	AsOf   string
}

// ShippingRate is the freight of one mode.
type ShippingRate struct {
	Currency    string
	PerKg       int64 // per chargeable kilogram
	Minimum     int64 // the least a shipment costs
	OriginFee   int64 // export clearance and loading
	InsuranceBP int64 // premium, of the insured value
}

// DutyRate is a destination's duty on a category of goods.
type DutyRate struct {
	RateBP    int64
	Valuation Valuation
}

// Product is what the calculator needs of a catalog product.
type Product struct {
	MOQ      int64
	Currency string
	Tiers    []money.Tier
	// Country is where it ships from (ISO 3166 alpha-2).
	Country  string
	Category string
}

// Line is one line of an estimate, in the estimate's currency.
type Line struct {
	Kind Kind `json:"kind"`
	// Cost is what the line costs, whoever pays it.
	Cost int64 `json:"cost"`
	// PaidBy says who pays it under the incoterm: the supplier's price
	// includes what the supplier pays.
	PaidBy Payer `json:"paid_by"`
	// Amount is what the buyer pays on this line: Cost, or 0 when the
	// supplier pays it.
	Amount int64 `json:"amount"`
}

// Estimate is a product's landed cost.
type Estimate struct {
	ProductID uuid.UUID `json:"product_id"`
	Quantity  int64     `json:"quantity"`
	// UnitPrice is the catalog's, at Quantity, in ProductCurrency.
	UnitPrice       int64    `json:"unit_price"`
	ProductCurrency string   `json:"product_currency"`
	Mode            Mode     `json:"mode"`
	Incoterm        Incoterm `json:"incoterm"`
	Destination     string   `json:"destination"`
	// ChargeableKg is the gross weight rounded up to a whole kilogram.
	ChargeableKg int64 `json:"chargeable_kg"`
	// Currency is every amount's below.
	Currency string `json:"currency"`
	// InsuredValue is 110 % of the goods and freight.
	InsuredValue int64 `json:"insured_value"`
	// CustomsValue is what the duty is a percentage of: the goods, and
	// their freight and insurance where the destination values at CIF.
	CustomsValue int64     `json:"customs_value"`
	Valuation    Valuation `json:"valuation"`
	DutyRateBP   int64     `json:"duty_rate_bp"`
	// Domestic is a destination in the country the goods ship from: no
	// duty.
	Domestic bool   `json:"domestic"`
	Lines    []Line `json:"lines"`
	// Total is the sum of the lines' amounts: what the buyer pays.
	Total int64 `json:"total"`
	// RatesAsOf is the day of the exchange rates, when amounts were
	// converted.
	RatesAsOf string `json:"rates_as_of,omitempty"`
}

// insuredMarkupBP is the cover over the goods and freight: 110 %, as
// Incoterms' CIF and CIP ask.
const insuredMarkupBP = 1000

// Compute prices the request for the product at the rates. The request is
// one Parse accepted; what still cannot be computed (the quantity under
// the product's minimum, amounts beyond int64) is an *InvalidError.
func Compute(p Product, r Request, rates Rates) (Estimate, error) {
	if r.Quantity < p.MOQ {
		return Estimate{}, invalidField("quantity", BelowMOQ, "this supplier sells at least %s", money.Count(p.MOQ))
	}
	goodsNative, unit, err := money.TieredTotal(r.Quantity, p.Tiers)
	if err != nil {
		return Estimate{}, invalidField("quantity", TooLarge, "the goods' price at this quantity is too large to compute")
	}
	cur := r.Currency
	if cur == "" {
		cur = p.Currency
	}
	e := Estimate{Quantity: r.Quantity, UnitPrice: unit, ProductCurrency: p.Currency, Mode: r.Mode, Incoterm: r.Incoterm,
		Destination: r.Destination, Currency: cur, Valuation: rates.Duty.Valuation, DutyRateBP: rates.Duty.RateBP}
	convert := func(amount int64, from string) (int64, error) {
		if from == cur {
			return amount, nil
		}
		e.RatesAsOf = rates.AsOf
		fromR, toR := rates.PerUSD[from], rates.PerUSD[cur]
		if fromR == 0 || toR == 0 {
			return 0, &noRateError{from: from, to: cur}
		}
		return money.Convert(amount, from, cur, fromR, toR)
	}
	tooLarge := func(field string) error {
		return invalidField(field, TooLarge, "the amounts are too large to compute")
	}
	goods, err := convert(goodsNative, p.Currency)
	if err != nil {
		return Estimate{}, currencyOr(err, tooLarge("quantity"))
	}

	// Freight: whole kilograms (as carriers charge), at least the minimum.
	grams := r.Grams
	if r.PerUnit {
		if grams, err = money.Mul(grams, r.Quantity); err != nil || grams > MaxGrams {
			return Estimate{}, invalidField("unit_weight_kg", TooLarge, "the goods weigh more than %s kg together", money.Count(MaxGrams/1000))
		}
	}
	e.ChargeableKg = grams / 1000
	if grams%1000 != 0 {
		e.ChargeableKg++
	}
	s := rates.Shipping
	freightNative, err := money.Mul(s.PerKg, e.ChargeableKg)
	if err != nil {
		return Estimate{}, tooLarge(weightField(r))
	}
	freightNative = max(freightNative, s.Minimum)
	freight, err := convert(freightNative, s.Currency)
	if err != nil {
		return Estimate{}, currencyOr(err, tooLarge(weightField(r)))
	}
	origin, err := convert(s.OriginFee, s.Currency)
	if err != nil {
		return Estimate{}, currencyOr(err, tooLarge("mode"))
	}

	// Insurance: a premium on 110 % of the goods and freight.
	cf, err := money.Add(goods, freight)
	if err != nil {
		return Estimate{}, tooLarge("quantity")
	}
	markup, err := money.BasisPoints(cf, insuredMarkupBP)
	if err != nil {
		return Estimate{}, err
	}
	if e.InsuredValue, err = money.Add(cf, markup); err != nil {
		return Estimate{}, tooLarge("quantity")
	}
	insurance, err := money.BasisPoints(e.InsuredValue, s.InsuranceBP)
	if err != nil {
		return Estimate{}, err
	}

	// Duty: a percentage of the customs value, none at home.
	e.CustomsValue = goods
	if e.Valuation == ValueCIF {
		if e.CustomsValue, err = money.Add(cf, insurance); err != nil {
			return Estimate{}, tooLarge("quantity")
		}
	}
	e.Domestic = countryOf(r.Destination) == countryOf(p.Country)
	if e.Domestic {
		e.DutyRateBP = 0
	}
	duty, err := money.BasisPoints(e.CustomsValue, e.DutyRateBP)
	if err != nil {
		return Estimate{}, err
	}

	costs := map[Kind]int64{Goods: goods, Origin: origin, Freight: freight, Insurance: insurance, Duty: duty}
	for _, k := range Kinds {
		l := Line{Kind: k, Cost: costs[k], PaidBy: PaidBy(r.Incoterm, k)}
		if l.PaidBy == Buyer {
			l.Amount = l.Cost
		}
		if e.Total, err = money.Add(e.Total, l.Amount); err != nil {
			return Estimate{}, tooLarge("quantity")
		}
		e.Lines = append(e.Lines, l)
	}
	return e, nil
}

// weightField is the field the request's weight came in.
func weightField(r Request) string {
	if r.PerUnit {
		return "unit_weight_kg"
	}
	return "weight_kg"
}

// noRateError is a conversion the platform has no exchange rate for.
type noRateError struct{ from, to string }

func (e *noRateError) Error() string {
	return fmt.Sprintf("the platform has no exchange rate between %s and %s", e.from, e.to)
}

// currencyOr is err as the currency field's refusal when a rate is
// missing, and tooLarge otherwise (an overflow).
func currencyOr(err, tooLarge error) error {
	var nr *noRateError
	if errors.As(err, &nr) {
		return invalidField("currency", NoRate, "%s", nr.Error())
	}
	return tooLarge
}

// countryOf is a region's country: "CN" of "CN-ZJ".
func countryOf(region string) string {
	if len(region) < 2 {
		return region
	}
	return region[:2]
}
