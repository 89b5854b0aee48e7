// Package faults holds the fault tests (make test): whole deals run through
// the API while the worker process is killed, PostgreSQL restarts and the
// API process dies mid-request; then every deal must have completed, each
// payment must have reached the payment provider once, the ledger must
// balance per deal, and each client request retried with its
// Idempotency-Key must have had one effect. Payments go to a fake Stripe
// (internal/stripefake) that lives in the test process, so it outlives
// the worker and can say what it was asked.
package faults
