// Package activities holds every side effect the deal workflow asks for:
// payments, ledger and read-model writes, carrier tracking and
// notifications. Activities are methods on structs that hold their
// dependencies, idempotent, and retried by the workflow's policies.
package activities
