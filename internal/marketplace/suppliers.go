package marketplace

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/tradeloop/tradeloop/db/store"
)

// Supplier is a supplier's profile: what it sells, how buyers rate it, and
// its figures (its own business: who may see them is the caller's rule).
type Supplier struct {
	OrgID              uuid.UUID
	Name               string
	JoinedAt           time.Time
	Categories         []string
	Regions            []string
	Certifications     []string
	Tier               string
	Rating             float64
	RatingsCount       int32
	MedianResponseSecs *int32
	ResponseRating     *int16
	// VerifiedUntil is when its verification badge ends; nil without
	// one.
	VerifiedUntil *time.Time
	// GoldUntil is when its Gold badge ends; nil without one (Gold shows
	// only while the supplier is verified).
	GoldUntil *time.Time
	Figures   SupplierFigures
}

// SupplierFigures are a supplier's sales volume and SLA record.
type SupplierFigures struct {
	GMVMinor        int64
	QuotesOnTime    int32
	QuotesLate      int32
	SLAMissesRecent int32
	TierReason      string
	TierComputedAt  *time.Time
}

// Supplier is the supplier org's profile, or ErrNotFound.
func (m *Market) Supplier(ctx context.Context, org uuid.UUID) (Supplier, error) {
	return supplier(ctx, store.New(m.db), org)
}

func supplier(ctx context.Context, q *store.Queries, org uuid.UUID) (Supplier, error) {
	p, err := q.GetSupplierProfile(ctx, org)
	if errors.Is(err, pgx.ErrNoRows) {
		return Supplier{}, ErrNotFound
	}
	if err != nil {
		return Supplier{}, fmt.Errorf("read supplier %s: %w", org, err)
	}
	verified := current(p.VerifiedUntil)
	var gold *time.Time
	if verified != nil {
		gold = current(p.GoldUntil)
	}
	return Supplier{
		OrgID: p.OrgID, Name: p.Name, JoinedAt: p.JoinedAt, Categories: p.Categories, Regions: p.Regions, Certifications: p.Certifications,
		Tier: p.Tier, Rating: p.Rating, RatingsCount: p.RatingsCount, MedianResponseSecs: p.MedianResponseSecs, ResponseRating: p.ResponseRating,
		VerifiedUntil: verified, GoldUntil: gold,
		Figures: SupplierFigures{GMVMinor: p.GmvMinor, QuotesOnTime: p.QuotesOnTime, QuotesLate: p.QuotesLate, SLAMissesRecent: p.SlaMissesRecent,
			TierReason: p.TierReason, TierComputedAt: p.TierComputedAt},
	}, nil
}

// current is a badge's end if it is still ahead, nil otherwise.
func current(until *time.Time) *time.Time {
	if until == nil || !until.After(time.Now()) {
		return nil
	}
	return until
}

// Badges are a supplier's badges now.
type Badges struct {
	// Verified: its verification runs. Gold: its paid Gold time runs and
	// it is verified.
	Verified bool `json:"supplier_verified"`
	Gold     bool `json:"supplier_gold"`
}

// Badges are supplier org's badges now.
func (m *Market) Badges(ctx context.Context, org uuid.UUID) (Badges, error) {
	b, err := store.New(m.db).SupplierBadges(ctx, org)
	if err != nil {
		return Badges{}, fmt.Errorf("badges of %s: %w", org, err)
	}
	return Badges{Verified: b.Verified, Gold: b.Gold}, nil
}

// IsSupplier reports whether org has a supplier user on the platform.
func (m *Market) IsSupplier(ctx context.Context, org uuid.UUID) (bool, error) {
	ok, err := store.New(m.db).OrganizationHasRole(ctx, store.OrganizationHasRoleParams{OrgID: org, Role: store.UserRoleSupplier})
	if err != nil {
		return false, fmt.Errorf("is %s a supplier: %w", org, err)
	}
	return ok, nil
}

// ErrNotSupplier is an organization that is not a supplier on the platform.
var ErrNotSupplier = errors.New("not a supplier on the platform")

// Named is the supplier org a buyer's inquiry names, as the dispatch list
// holds it: its name and tier; ErrNotSupplier for an organization that is
// none.
func (m *Market) Named(ctx context.Context, org uuid.UUID) (Ranked, error) {
	ok, err := m.IsSupplier(ctx, org)
	if err != nil {
		return Ranked{}, err
	}
	if !ok {
		return Ranked{}, ErrNotSupplier
	}
	tier, err := m.SupplierTier(ctx, org)
	if err != nil {
		return Ranked{}, err
	}
	o, err := store.New(m.db).GetOrganization(ctx, org)
	if err != nil {
		return Ranked{}, fmt.Errorf("supplier %s: %w", org, err)
	}
	return Ranked{OrgID: org.String(), Name: o.Name, Tier: tier}, nil
}

// Offer is what a supplier says it sells: category slugs, region codes and
// certifications (checked by the caller: ValidCategory, ValidRegion).
type Offer struct {
	Categories     []string
	Regions        []string
	Certifications []string
}

// UpdateOffer sets what the supplier org sells and answers its profile.
func (m *Market) UpdateOffer(ctx context.Context, org uuid.UUID, in Offer) (Supplier, error) {
	q := store.New(m.db)
	if err := q.EnsureSupplierProfile(ctx, org); err != nil {
		return Supplier{}, fmt.Errorf("make the profile of %s: %w", org, err)
	}
	if _, err := q.UpdateSupplierOffer(ctx, store.UpdateSupplierOfferParams{
		OrgID: org, Categories: nonNil(in.Categories), Regions: nonNil(in.Regions), Certifications: nonNil(in.Certifications),
	}); err != nil {
		return Supplier{}, fmt.Errorf("update the offer of %s: %w", org, err)
	}
	return supplier(ctx, q, org)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ErrRatedAlready is a second rating of a deal: a deal has one, its buyer's.
var ErrRatedAlready = errors.New("this deal was rated already")

// Rating is a buyer's rating of a finished deal's supplier.
type Rating struct {
	DealID          string
	Supplier, Buyer uuid.UUID
	Stars           int
	Comment         string
}

// Rate keeps a deal's rating, once (ErrRatedAlready after).
func (m *Market) Rate(ctx context.Context, r Rating) error {
	n, err := store.New(m.db).RateDeal(ctx, store.RateDealParams{
		DealID: r.DealID, SupplierOrgID: r.Supplier, BuyerOrgID: r.Buyer, Stars: int16(r.Stars), Comment: r.Comment,
	})
	if err != nil {
		return fmt.Errorf("rate deal %s: %w", r.DealID, err)
	}
	if n == 0 {
		return ErrRatedAlready
	}
	return nil
}
