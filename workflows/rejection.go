package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
)

// Rejection codes: why a party's action was refused. The API maps each to
// one HTTP status in one place.
const (
	RejectWrongStage = "wrong_stage"   // the deal is not at a stage that takes this action
	RejectNotAllowed = "not_allowed"   // the caller plays no part that may do this
	RejectInvalid    = "invalid"       // the values cannot be accepted
	RejectNotFound   = "not_found"     // the named quote (or other item) does not exist
	RejectLimit      = "limit_reached" // the deal's cap on this action is reached
)

// Reject is reject for workflows outside this package (the bench's
// baseline), so they refuse as the deal does.
func Reject(code, format string, args ...any) error { return reject(code, format, args...) }

// reject makes the non-retryable error a validator returns: the update is
// refused before anything enters the workflow's history.
func reject(code, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), code, nil)
}

// RejectionCode returns the rejection code carried by err, or "" when err is
// not a business rejection.
func RejectionCode(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		switch appErr.Type() {
		case RejectWrongStage, RejectNotAllowed, RejectInvalid, RejectNotFound, RejectLimit:
			return appErr.Type()
		}
	}
	return ""
}
