package landedcost

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tradeloop/tradeloop/internal/bounds"
	"github.com/tradeloop/tradeloop/internal/money"
)

// Limits of a request.
const (
	// MaxInput is the longest value of any field, in characters.
	MaxInput = 32
	// MaxQuantity is the most units one estimate prices.
	MaxQuantity = 1_000_000_000
	// MaxGrams is the heaviest shipment: 10,000 tonnes.
	MaxGrams = 10_000_000_000
)

// Input is a request as typed: the query string of the API's route, the
// console's form. Weight is in kilograms with at most three decimals,
// either the whole shipment's (WeightKg) or one unit's (UnitWeightKg).
type Input struct {
	Quantity     string
	Mode         string
	WeightKg     string
	UnitWeightKg string
	Incoterm     string
	Destination  string
	// Currency is the one to show amounts in; "" for the product's.
	Currency string
}

// Request is an Input that Parse accepted.
type Request struct {
	Quantity int64
	Mode     Mode
	// Grams is the gross weight, of one unit when PerUnit.
	Grams    int64
	PerUnit  bool
	Incoterm Incoterm
	// Destination is an ISO 3166 country code, optionally with a
	// subdivision ("US", "US-CA").
	Destination string
	Currency    string
}

// FieldError says what is wrong with one field of a request: its code
// for a program (and the console's words), its message for a person.
type FieldError struct {
	Field   string `json:"field"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Code is the kind of a field's refusal.
type Code string

// The codes of refusals.
const (
	// Malformed is a value that is missing, not of the field's form, or
	// out of its range.
	Malformed Code = "malformed"
	// SeaOnly is an incoterm for sea freight with another mode.
	SeaOnly Code = "sea_only"
	// BelowMOQ is a quantity under the product's minimum order.
	BelowMOQ Code = "below_moq"
	// TooLarge is a request whose amounts do not fit in int64 minor units.
	TooLarge Code = "too_large"
	// NoRate is a mode, destination or currency the platform keeps no
	// rate for.
	NoRate Code = "no_rate"
)

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// InvalidError is a request that cannot be priced, with every reason, in
// the order of the fields.
type InvalidError struct{ Fields []FieldError }

func (e *InvalidError) Error() string {
	return fmt.Sprintf("invalid landed-cost request: %v", e.Fields)
}

func invalidField(field string, code Code, format string, args ...any) *InvalidError {
	return &InvalidError{Fields: []FieldError{{Field: field, Code: code, Message: fmt.Sprintf(format, args...)}}}
}

// ErrNotFound is a product that does not exist.
var ErrNotFound = errors.New("no such product")

var (
	regionRE  = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)
	weightRE  = regexp.MustCompile(`^[0-9]{1,12}(\.[0-9]{1,3})?$`)
	groupedRE = regexp.MustCompile(`^[0-9]{1,3}(,[0-9]{3})+$`)
)

// Parse checks an input's form: every field valid text of at most
// MaxInput characters without control characters, the quantity a whole
// number from 1 to MaxQuantity (digits grouped by commas too: 20,000), one weight above zero and at most
// MaxGrams, a known mode and incoterm (FOB, CFR and CIF by sea only), a
// country code and a known currency. Whether the platform has rates for
// the mode, the country and the currency is the Service's to say.
func Parse(in Input) (Request, error) {
	var r Request
	var errs []FieldError
	addCode := func(field string, code Code, format string, args ...any) {
		if !slices.ContainsFunc(errs, func(e FieldError) bool { return e.Field == field }) {
			errs = append(errs, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
		}
	}
	add := func(field, format string, args ...any) { addCode(field, Malformed, format, args...) }
	fields := []struct {
		name string
		v    *string
	}{
		{"quantity", &in.Quantity}, {"mode", &in.Mode}, {"weight_kg", &in.WeightKg}, {"unit_weight_kg", &in.UnitWeightKg},
		{"incoterm", &in.Incoterm}, {"destination", &in.Destination}, {"currency", &in.Currency},
	}
	for _, f := range fields {
		if err := bounds.Line(f.name, *f.v, MaxInput); err != nil {
			var be *bounds.Error
			errors.As(err, &be)
			add(f.name, "%s", be.Problem)
			*f.v = ""
			continue
		}
		*f.v = strings.TrimSpace(*f.v)
	}

	if groupedRE.MatchString(in.Quantity) {
		in.Quantity = strings.ReplaceAll(in.Quantity, ",", "") // 20,000 as people write it
	}
	switch q, err := strconv.ParseInt(in.Quantity, 10, 64); {
	case in.Quantity == "":
		add("quantity", "is required")
	case err != nil || q < 1 || q > MaxQuantity:
		add("quantity", "a whole number from 1 to %s", money.Count(MaxQuantity))
	default:
		r.Quantity = q
	}

	r.Mode = Mode(strings.ToLower(in.Mode))
	if in.Mode == "" {
		add("mode", "is required")
	} else if !slices.Contains(Modes, r.Mode) {
		add("mode", "one of %s", list(Modes))
	}

	weight, weightName := in.WeightKg, "weight_kg"
	switch {
	case in.WeightKg != "" && in.UnitWeightKg != "":
		add("weight_kg", "give the shipment's weight or one unit's (unit_weight_kg), not both")
	case in.WeightKg == "" && in.UnitWeightKg == "":
		add("weight_kg", "is required: the shipment's gross weight in kg, or one unit's (unit_weight_kg)")
	case in.UnitWeightKg != "":
		weight, weightName, r.PerUnit = in.UnitWeightKg, "unit_weight_kg", true
	}
	if weight != "" {
		g, ok := grams(weight)
		switch {
		case !ok:
			add(weightName, "kilograms with at most three decimals, such as 12.5")
		case g < 1:
			add(weightName, "must be more than 0")
		case g > MaxGrams:
			add(weightName, "at most %s kg", money.Count(MaxGrams/1000))
		default:
			r.Grams = g
		}
	}

	r.Incoterm = Incoterm(strings.ToUpper(in.Incoterm))
	switch other, sea := seaOnly[r.Incoterm]; {
	case in.Incoterm == "":
		add("incoterm", "is required")
	case !slices.Contains(Incoterms, r.Incoterm):
		add("incoterm", "one of %s", list(Incoterms))
	case sea && r.Mode != "" && r.Mode != Sea && slices.Contains(Modes, r.Mode):
		addCode("incoterm", SeaOnly, "%s is for sea freight: %s is its counterpart by %s", r.Incoterm, other, r.Mode)
	}

	r.Destination = strings.ToUpper(in.Destination)
	if in.Destination == "" {
		add("destination", "is required")
	} else if !regionRE.MatchString(r.Destination) {
		add("destination", "an ISO 3166 country code such as US or DE (optionally with a subdivision, US-CA)")
	}

	r.Currency = strings.ToUpper(in.Currency)
	if r.Currency != "" && !money.KnownCurrency(r.Currency) {
		add("currency", "not a currency the platform supports (ISO 4217: USD, EUR, CNY, ...)")
	}
	if len(errs) > 0 {
		return Request{}, &InvalidError{Fields: sortByForm(errs)}
	}
	return r, nil
}

// Fields are the names of a request's fields, in the order of the form.
var Fields = []string{"quantity", "mode", "weight_kg", "unit_weight_kg", "incoterm", "destination", "currency"}

func sortByForm(errs []FieldError) []FieldError {
	slices.SortStableFunc(errs, func(a, b FieldError) int {
		return slices.Index(Fields, a.Field) - slices.Index(Fields, b.Field)
	})
	return errs
}

// grams reads kilograms with at most three decimals as grams.
func grams(kg string) (int64, bool) {
	if !weightRE.MatchString(kg) {
		return 0, false
	}
	whole, frac, _ := strings.Cut(kg, ".")
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	f, _ := strconv.ParseInt((frac + "000")[:3], 10, 64)
	return w*1000 + f, true // at most 12 digits of kilograms: no overflow
}

func list[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
