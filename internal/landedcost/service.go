package landedcost

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/money"
)

// Service prices catalog products at the platform's rates, for the API
// and the console alike.
type Service struct {
	db     *pgxpool.Pool
	market *marketplace.Market
}

// New returns the calculator over the database's catalog and rates.
func New(db *pgxpool.Pool, market *marketplace.Market) *Service {
	return &Service{db: db, market: market}
}

// Estimate prices the input for product id: ErrNotFound for a product
// that does not exist, an *InvalidError for an input that cannot be
// priced (including a mode, country or currency the platform keeps no
// rate for).
func (s *Service) Estimate(ctx context.Context, id uuid.UUID, in Input) (Estimate, error) {
	r, err := Parse(in)
	if err != nil {
		return Estimate{}, err
	}
	p, err := s.market.Product(ctx, id)
	if errors.Is(err, marketplace.ErrNotFound) {
		return Estimate{}, ErrNotFound
	}
	if err != nil {
		return Estimate{}, err
	}
	prod := ProductOf(p)
	rates, err := s.rates(ctx, prod, r)
	if err != nil {
		return Estimate{}, err
	}
	e, err := Compute(prod, r, rates)
	e.ProductID = id
	return e, err
}

// ProductOf is what the calculator needs of a catalog product.
func ProductOf(p marketplace.Product) Product {
	tiers := make([]money.Tier, len(p.PriceTiers))
	for i, t := range p.PriceTiers {
		tiers[i] = money.Tier{MinQuantity: t.MinQuantity, UnitPrice: t.UnitPrice}
	}
	return Product{MOQ: p.MOQ, Currency: p.Currency, Tiers: tiers, Country: countryOf(p.OriginRegion), Category: p.Category}
}

// rates reads the platform's rates for a request.
func (s *Service) rates(ctx context.Context, p Product, r Request) (Rates, error) {
	q := store.New(s.db)
	var out Rates
	sr, err := q.ShippingRate(ctx, string(r.Mode))
	if errors.Is(err, pgx.ErrNoRows) {
		return Rates{}, invalidField("mode", NoRate, "the platform has no freight rate for %s", r.Mode)
	}
	if err != nil {
		return Rates{}, fmt.Errorf("shipping rate of %s: %w", r.Mode, err)
	}
	out.Shipping = ShippingRate{Currency: sr.Currency, PerKg: sr.PerKgMinor, Minimum: sr.MinimumMinor, OriginFee: sr.OriginFeeMinor, InsuranceBP: int64(sr.InsuranceBp)}
	dr, err := q.DutyRate(ctx, store.DutyRateParams{Country: countryOf(r.Destination), Category: p.Category})
	if errors.Is(err, pgx.ErrNoRows) {
		countries, err := q.CustomsCountries(ctx)
		if err != nil {
			return Rates{}, fmt.Errorf("customs countries: %w", err)
		}
		return Rates{}, invalidField("destination", NoRate, "the platform keeps no duty rates for %s; it does for %s", countryOf(r.Destination), strings.Join(countries, ", "))
	}
	if err != nil {
		return Rates{}, fmt.Errorf("duty rate of %s: %w", r.Destination, err)
	}
	out.Duty = DutyRate{RateBP: int64(dr.RateBp), Valuation: Valuation(dr.Valuation)}

	display := r.Currency
	if display == "" {
		display = p.Currency
	}
	need := []string{display}
	for _, c := range []string{p.Currency, out.Shipping.Currency} {
		if !slices.Contains(need, c) {
			need = append(need, c)
		}
	}
	if len(need) == 1 {
		return out, nil
	}
	rows, err := q.ExchangeRates(ctx, need)
	if err != nil {
		return Rates{}, fmt.Errorf("exchange rates of %v: %w", need, err)
	}
	out.PerUSD = map[string]int64{}
	for _, row := range rows {
		out.PerUSD[row.Currency] = row.PerUsdMicros
		if out.AsOf == "" || row.AsOf < out.AsOf {
			out.AsOf = row.AsOf
		}
	}
	for _, c := range need {
		if out.PerUSD[c] == 0 {
			return Rates{}, invalidField("currency", NoRate, "the platform keeps no exchange rate for %s", c)
		}
	}
	return out, nil
}

// Options are what a form offers: the destination countries and the
// currencies the platform keeps rates for.
type Options struct {
	Countries  []string
	Currencies []string
}

// Options lists the destinations and currencies of the platform's tables.
func (s *Service) Options(ctx context.Context) (Options, error) {
	q := store.New(s.db)
	countries, err := q.CustomsCountries(ctx)
	if err != nil {
		return Options{}, fmt.Errorf("customs countries: %w", err)
	}
	currencies, err := q.ExchangeCurrencies(ctx)
	if err != nil {
		return Options{}, fmt.Errorf("exchange currencies: %w", err)
	}
	return Options{Countries: countries, Currencies: currencies}, nil
}
