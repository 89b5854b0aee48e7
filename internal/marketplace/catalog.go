// Package marketplace is what surrounds the deal workflow: suppliers'
// catalogs and their bulk import, product search, the choice of suppliers an
// inquiry is dispatched to, supplier tiers and the platform's funnel figures.
// It reads and writes PostgreSQL; nothing here starts or changes a deal.
package marketplace

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/money"
)

// PriceTier is the unit price, in minor units, from a minimum quantity up.
type PriceTier struct {
	MinQuantity int64 `json:"min_quantity"`
	UnitPrice   int64 `json:"unit_price"`
}

// ProductInput is a product as a supplier lists it.
type ProductInput struct {
	SKU            string      `json:"sku"`
	Name           string      `json:"name"`
	Description    string      `json:"description"`
	Category       string      `json:"category"`
	Unit           string      `json:"unit"`
	MOQ            int64       `json:"moq"`
	Currency       string      `json:"currency"`
	PriceTiers     []PriceTier `json:"price_tiers"`
	LeadTimeDays   int         `json:"lead_time_days"`
	Certifications []string    `json:"certifications"`
	Customizable   bool        `json:"customizable"`
	OriginRegion   string      `json:"origin_region"`
	// SampleAvailable says whether a sample can be ordered, at SamplePrice
	// minor units.
	SampleAvailable bool  `json:"sample_available"`
	SamplePrice     int64 `json:"sample_price"`
}

// Product is a listed product.
type Product struct {
	ID         uuid.UUID `json:"id"`
	SupplierID uuid.UUID `json:"supplier_id"`
	ProductInput
	// FromUnitPrice is the unit price at the MOQ.
	FromUnitPrice int64     `json:"from_unit_price"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// FieldError says what is wrong with one field of a product.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// Limits of a product's fields; the schema enforces the same.
const (
	maxTiers          = 20
	maxCertifications = 20
	maxLeadTimeDays   = 365
)

var (
	skuRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`)
	categoryRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	regionRE   = regexp.MustCompile(`^[A-Z]{2}(-[A-Z0-9]{1,3})?$`)
)

// ValidCategory reports whether c is a category slug such as "led-lighting".
func ValidCategory(c string) bool { return categoryRE.MatchString(c) }

// ValidRegion reports whether r is an ISO 3166 country code, optionally with
// a subdivision ("CN", "CN-ZJ").
func ValidRegion(r string) bool { return regionRE.MatchString(r) }

// Normalize trims the input's text fields (a description's \r\n line
// breaks become \n) and orders its lists, so that the same product always
// reads the same.
func (p *ProductInput) Normalize() {
	p.SKU = strings.TrimSpace(p.SKU)
	p.Name = strings.TrimSpace(p.Name)
	p.Description = strings.TrimSpace(strings.ReplaceAll(p.Description, "\r\n", "\n"))
	p.Category = strings.ToLower(strings.TrimSpace(p.Category))
	p.Unit = strings.TrimSpace(p.Unit)
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	p.OriginRegion = strings.ToUpper(strings.TrimSpace(p.OriginRegion))
	certs := make([]string, 0, len(p.Certifications))
	for _, c := range p.Certifications {
		if c = strings.Join(strings.Fields(c), " "); c != "" && !slices.Contains(certs, c) {
			certs = append(certs, c)
		}
	}
	slices.Sort(certs)
	p.Certifications = certs
}

// Validate returns every problem of the input, field by field; none means
// the product can be listed.
func (p ProductInput) Validate() []FieldError {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !skuRE.MatchString(p.SKU) {
		add("sku", "1 to 64 letters, digits or . _ / -, starting with a letter or digit")
	}
	for _, f := range []struct{ field, text string }{{"name", p.Name}, {"description", p.Description}, {"unit", p.Unit}} {
		if hasControl(f.text) {
			add(f.field, "must not hold control characters (tabs and line breaks only)")
		}
	}
	if slices.ContainsFunc(p.Certifications, hasControl) {
		add("certifications", "must not hold control characters")
	}
	if n := len([]rune(p.Name)); n < 1 || n > 200 {
		add("name", "is required, at most 200 characters")
	}
	if len([]rune(p.Description)) > 5000 {
		add("description", "at most 5000 characters")
	}
	if !ValidCategory(p.Category) {
		add("category", "a category slug such as \"led-lighting\" (lower-case letters, digits, -)")
	}
	if n := len([]rune(p.Unit)); n < 1 || n > 20 {
		add("unit", "is required (piece, kg, m, ...), at most 20 characters")
	}
	if p.MOQ < 1 {
		add("moq", "must be a positive integer")
	}
	if !money.KnownCurrency(p.Currency) {
		add("currency", "%q is not a supported ISO-4217 currency", p.Currency)
	}
	switch {
	case len(p.PriceTiers) == 0 || len(p.PriceTiers) > maxTiers:
		add("price_tiers", "between 1 and %d tiers", maxTiers)
	default:
		bad := false
		for i, t := range p.PriceTiers {
			if t.MinQuantity < 1 || t.UnitPrice < 1 {
				add("price_tiers", "tier %d: quantity and unit price must be positive", i+1)
				bad = true
				break
			}
			if i > 0 && t.MinQuantity <= p.PriceTiers[i-1].MinQuantity {
				add("price_tiers", "tiers must be in increasing order of quantity")
				bad = true
				break
			}
		}
		if !bad && p.MOQ >= 1 && p.PriceTiers[0].MinQuantity > p.MOQ {
			add("price_tiers", "the first tier starts at %d, above the MOQ %d: the MOQ would have no price", p.PriceTiers[0].MinQuantity, p.MOQ)
		}
	}
	if p.LeadTimeDays < 1 || p.LeadTimeDays > maxLeadTimeDays {
		add("lead_time_days", "between 1 and %d days", maxLeadTimeDays)
	}
	if len(p.Certifications) > maxCertifications {
		add("certifications", "at most %d", maxCertifications)
	}
	for _, c := range p.Certifications {
		if len(c) > 40 {
			add("certifications", "%q: at most 40 characters", c)
			break
		}
	}
	if !ValidRegion(p.OriginRegion) {
		add("origin_region", "an ISO 3166 country code, optionally with a subdivision (CN, CN-ZJ)")
	}
	if p.SamplePrice < 0 {
		add("sample_price", "must not be negative")
	}
	if !p.SampleAvailable && p.SamplePrice != 0 {
		add("sample_price", "a sample price needs sample_available")
	}
	return errs
}

// hasControl reports whether s holds a control character other than tab
// and line feed, which no text on the platform may (catalog files neither:
// internal/sheet refuses them). PostgreSQL could not even store a NUL.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r != '\t' && r != '\n' && unicode.IsControl(r) })
}

// UnitPriceAt is the product's unit price at quantity q, and false below
// its first tier.
func UnitPriceAt(tiers []PriceTier, q int64) (int64, bool) {
	price, ok := int64(0), false
	for _, t := range tiers {
		if t.MinQuantity <= q {
			price, ok = t.UnitPrice, true
		}
	}
	return price, ok
}

func (p ProductInput) upsertParams(supplier uuid.UUID) store.UpsertProductBatchParams {
	minQty := make([]int64, len(p.PriceTiers))
	unit := make([]int64, len(p.PriceTiers))
	for i, t := range p.PriceTiers {
		minQty[i], unit[i] = t.MinQuantity, t.UnitPrice
	}
	from, _ := UnitPriceAt(p.PriceTiers, p.MOQ)
	certs := p.Certifications
	if certs == nil {
		certs = []string{}
	}
	return store.UpsertProductBatchParams{
		SupplierOrgID: supplier, Sku: p.SKU, Name: p.Name, Description: p.Description, Category: p.Category,
		Unit: p.Unit, Moq: p.MOQ, Currency: p.Currency, TierMinQty: minQty, TierUnitMinor: unit,
		FromUnitMinor: from, LeadTimeDays: int32(p.LeadTimeDays), Certifications: certs,
		Customizable: p.Customizable, OriginRegion: p.OriginRegion, SampleAvailable: p.SampleAvailable,
		SamplePriceMinor: p.SamplePrice,
	}
}

func tiersOf(minQty, unit []int64) []PriceTier {
	out := make([]PriceTier, min(len(minQty), len(unit)))
	for i := range out {
		out[i] = PriceTier{MinQuantity: minQty[i], UnitPrice: unit[i]}
	}
	return out
}

func productFromRow(r store.GetProductRow) Product {
	return Product{
		ID: r.ID, SupplierID: r.SupplierOrgID,
		ProductInput: ProductInput{
			SKU: r.Sku, Name: r.Name, Description: r.Description, Category: r.Category, Unit: r.Unit, MOQ: r.Moq,
			Currency: r.Currency, PriceTiers: tiersOf(r.TierMinQty, r.TierUnitMinor), LeadTimeDays: int(r.LeadTimeDays),
			Certifications: r.Certifications, Customizable: r.Customizable, OriginRegion: r.OriginRegion,
			SampleAvailable: r.SampleAvailable, SamplePrice: r.SamplePriceMinor,
		},
		FromUnitPrice: r.FromUnitMinor, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// ---- the file columns of import and export ----

// Columns are the header of a catalog file, in export order. Lists are
// separated by ";": price tiers as min_quantity:unit_price in minor units
// ("100:1250;500:1100"), certifications by name ("CE;ISO 9001").
var Columns = []string{
	"sku", "name", "description", "category", "unit", "moq", "currency", "price_tiers", "lead_time_days",
	"certifications", "customizable", "origin_region", "sample_available", "sample_price",
}

// requiredColumns must be in an imported file's header; the others default
// to empty, false or zero.
var requiredColumns = []string{"sku", "name", "category", "unit", "moq", "currency", "price_tiers", "lead_time_days", "origin_region"}

// Row renders a product as a file row in Columns order.
func (p ProductInput) Row() []string {
	tiers := make([]string, len(p.PriceTiers))
	for i, t := range p.PriceTiers {
		tiers[i] = fmt.Sprintf("%d:%d", t.MinQuantity, t.UnitPrice)
	}
	return []string{
		p.SKU, p.Name, p.Description, p.Category, p.Unit, strconv.FormatInt(p.MOQ, 10), p.Currency,
		strings.Join(tiers, ";"), strconv.Itoa(p.LeadTimeDays), strings.Join(p.Certifications, ";"),
		strconv.FormatBool(p.Customizable), p.OriginRegion, strconv.FormatBool(p.SampleAvailable),
		strconv.FormatInt(p.SamplePrice, 10),
	}
}

// parseRow reads one file row (cells by lower-case header name) into a
// product, collecting every unreadable cell.
func parseRow(cell func(string) string) (ProductInput, []FieldError) {
	var errs []FieldError
	integer := func(field string, optional bool) int64 {
		s := cell(field)
		if s == "" && optional {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf("%q is not a whole number", s)})
		}
		return n
	}
	boolean := func(field string) bool {
		switch strings.ToLower(cell(field)) {
		case "", "false", "no", "n", "0":
			return false
		case "true", "yes", "y", "1":
			return true
		}
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf("%q is not yes/no or true/false", cell(field))})
		return false
	}
	p := ProductInput{
		SKU: cell("sku"), Name: cell("name"), Description: cell("description"), Category: cell("category"),
		Unit: cell("unit"), MOQ: integer("moq", false), Currency: cell("currency"),
		Customizable: boolean("customizable"), OriginRegion: cell("origin_region"),
		SampleAvailable: boolean("sample_available"), SamplePrice: integer("sample_price", true),
	}
	lead := integer("lead_time_days", false)
	if lead > maxLeadTimeDays || lead < 0 {
		lead = -1 // Validate reports the range
	}
	p.LeadTimeDays = int(lead)
	if s := cell("certifications"); s != "" {
		p.Certifications = strings.Split(s, ";")
	}
	for part := range strings.SplitSeq(cell("price_tiers"), ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		q, price, ok := strings.Cut(part, ":")
		mq, err1 := strconv.ParseInt(strings.TrimSpace(q), 10, 64)
		up, err2 := strconv.ParseInt(strings.TrimSpace(price), 10, 64)
		if !ok || err1 != nil || err2 != nil {
			errs = append(errs, FieldError{Field: "price_tiers", Message: fmt.Sprintf("%q is not min_quantity:unit_price in minor units", part)})
			continue
		}
		p.PriceTiers = append(p.PriceTiers, PriceTier{MinQuantity: mq, UnitPrice: up})
	}
	return p, errs
}
