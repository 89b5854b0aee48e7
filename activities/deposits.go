package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Deposits keeps suppliers' security deposits (internal/deposits): each
// deposit's status, and its money in a ledger account of its own
// (DepositAccount). Every method is idempotent: the SecurityDeposit
// workflow retries them.
type Deposits interface {
	// Hold books a captured deposit charge: the money into the deposit's
	// account, the deposit held.
	Hold(ctx context.Context, in DepositHold) error
	// Fail records that a deposit's charge failed: nothing is held.
	Fail(ctx context.Context, id, reason string) error
	// BeginReturn marks a held deposit as being returned, once its
	// supplier is in good standing (no deal running), and answers what
	// its account holds. It fails with ErrNotInGoodStanding, wrapped,
	// while the supplier is not; asked again of a deposit being returned,
	// it answers the same.
	BeginReturn(ctx context.Context, id string) (int64, error)
	// FinishReturn books the refund of a deposit being returned: its
	// account's money back to the supplier, the deposit returned.
	FinishReturn(ctx context.Context, in DepositReturn) error
	// Forfeit books a mediator's forfeit of part or all of a held
	// deposit, with its audit record and the supplier's notice, and
	// answers what the deposit holds after it. A forfeit of more than
	// the deposit holds is refused (ErrLedgerRejected, wrapped).
	Forfeit(ctx context.Context, in DepositForfeit) (int64, error)
}

// DepositHold is a deposit's charge that succeeded.
type DepositHold struct {
	ID        string `json:"id"`
	OrgID     string `json:"org_id"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	Provider  string `json:"provider"`
	PaymentID string `json:"payment_id"`
}

// DepositReturn is a deposit's refund at the provider.
type DepositReturn struct {
	ID       string `json:"id"`
	OrgID    string `json:"org_id"`
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	RefundID string `json:"refund_id,omitempty"`
}

// DepositForfeit is a mediator's decision to forfeit part of a deposit.
type DepositForfeit struct {
	ID       string `json:"id"`
	OrgID    string `json:"org_id"`
	Currency string `json:"currency"`
	// Seq numbers the deposit's forfeits: the posting's idempotency key.
	Seq       int       `json:"seq"`
	Amount    int64     `json:"amount"`
	Reason    string    `json:"reason"`
	DealID    string    `json:"deal_id"`
	DecidedBy string    `json:"decided_by"`
	At        time.Time `json:"at"`
}

// ErrNotInGoodStanding is a supplier with a deal still running: its
// deposit is not returned.
var ErrNotInGoodStanding = errors.New("the supplier is not in good standing")

// ErrDepositNotHeld is a deposit that holds nothing to return or forfeit
// any more (returned, being returned, failed or forfeited).
var ErrDepositNotHeld = errors.New("the deposit is not held")

// Error types of the deposit activities' business refusals.
const (
	ErrTypeNotInGoodStanding = "NotInGoodStanding"
	ErrTypeDepositNotHeld    = "DepositNotHeld"
)

// DepositAccount names a deposit's ledger account.
func DepositAccount(id string) string { return "deposit:" + id }

// ForfeitedDepositsAccount is what the platform keeps of forfeited
// deposits.
const ForfeitedDepositsAccount = "platform:forfeited-deposits"

// DepositStep is the Step of a deposit's charge at the provider.
const DepositStep = "security_deposit"

// depositErr types the Deposits' business refusals so that retrying
// them stops.
func depositErr(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotInGoodStanding):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeNotInGoodStanding, err)
	case errors.Is(err, ErrDepositNotHeld):
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeDepositNotHeld, err)
	case errors.Is(err, ErrLedgerRejected):
		return temporal.NewNonRetryableApplicationError(err.Error(), "LedgerRejected", err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (a *Activities) deposits() (Deposits, error) {
	if a.Deposits == nil {
		return nil, temporal.NewNonRetryableApplicationError("security deposits: not configured", "NotConfigured", nil)
	}
	return a.Deposits, nil
}

// HoldDeposit books a deposit's captured charge (Deposits.Hold).
func (a *Activities) HoldDeposit(ctx context.Context, in DepositHold) error {
	d, err := a.deposits()
	if err != nil {
		return err
	}
	return depositErr("hold deposit "+in.ID, d.Hold(ctx, in))
}

// DepositFailure is a deposit whose charge failed, and why.
type DepositFailure struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// FailDeposit records a deposit whose charge failed (Deposits.Fail).
func (a *Activities) FailDeposit(ctx context.Context, in DepositFailure) error {
	d, err := a.deposits()
	if err != nil {
		return err
	}
	return depositErr("fail deposit "+in.ID, d.Fail(ctx, in.ID, in.Reason))
}

// BeginDepositReturn starts a deposit's return (Deposits.BeginReturn).
func (a *Activities) BeginDepositReturn(ctx context.Context, id string) (int64, error) {
	d, err := a.deposits()
	if err != nil {
		return 0, err
	}
	held, err := d.BeginReturn(ctx, id)
	return held, depositErr("begin the return of deposit "+id, err)
}

// FinishDepositReturn books a deposit's refund (Deposits.FinishReturn).
func (a *Activities) FinishDepositReturn(ctx context.Context, in DepositReturn) error {
	d, err := a.deposits()
	if err != nil {
		return err
	}
	return depositErr("finish the return of deposit "+in.ID, d.FinishReturn(ctx, in))
}

// ForfeitDeposit books a mediator's forfeit (Deposits.Forfeit).
func (a *Activities) ForfeitDeposit(ctx context.Context, in DepositForfeit) (int64, error) {
	d, err := a.deposits()
	if err != nil {
		return 0, err
	}
	held, err := d.Forfeit(ctx, in)
	return held, depositErr("forfeit deposit "+in.ID, err)
}

// A deposit's statuses, as internal/deposits keeps them and the
// SecurityDeposit workflow moves them.
const (
	DepositPending   = "pending"   // being charged
	DepositHeld      = "held"      // paid: it counts
	DepositFailed    = "failed"    // the charge failed: nothing held
	DepositReturning = "returning" // the supplier is leaving: it no longer counts
	DepositReturned  = "returned"
	DepositForfeited = "forfeited" // forfeits took all of it
)
