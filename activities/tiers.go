package activities

import (
	"context"
	"errors"
	"time"
)

// Tiers recomputes every supplier's tier from the read model as of a time.
type Tiers interface {
	RecalculateTiers(ctx context.Context, asOf time.Time) (TierSummary, error)
}

// TierChange is a supplier whose tier a recalculation changed, and the
// commission its new deals will pay.
type TierChange struct {
	OrgID        string `json:"org_id"`
	From         string `json:"from"`
	To           string `json:"to"`
	Reason       string `json:"reason"`
	CommissionBP int64  `json:"commission_bp"`
}

// TierSummary is what one recalculation did.
type TierSummary struct {
	Suppliers int          `json:"suppliers"`
	Changes   []TierChange `json:"changes"`
}

// RecalculateSupplierTiers recomputes the supplier tiers as of asOf. It is
// idempotent: the tiers depend on the read model and asOf only.
func (a *Activities) RecalculateSupplierTiers(ctx context.Context, asOf time.Time) (TierSummary, error) {
	if a.Tiers == nil {
		return TierSummary{}, errors.New("no tier recalculation configured on this worker")
	}
	return a.Tiers.RecalculateTiers(ctx, asOf)
}
