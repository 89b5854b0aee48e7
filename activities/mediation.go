package activities

import (
	"context"
	"fmt"
)

// Mediators knows the platform's mediators and their open cases.
type Mediators interface {
	// LeastBusyMediator is the active mediator with the fewest disputes
	// in mediation assigned to it (the longest-standing first among
	// equals), or "" when the platform has none.
	LeastBusyMediator(ctx context.Context) (userID string, err error)
}

// ChooseMediator chooses the mediator a dispute that reached mediation is
// assigned to (LeastBusyMediator): "" when there is none, or the worker
// knows no Mediators.
func (a *Activities) ChooseMediator(ctx context.Context, dealID string) (string, error) {
	if a.Mediators == nil {
		return "", nil
	}
	id, err := a.Mediators.LeastBusyMediator(ctx)
	if err != nil {
		return "", fmt.Errorf("choose a mediator for deal %s: %w", dealID, err)
	}
	return id, nil
}
