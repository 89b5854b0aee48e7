// Package idempotency keeps the Idempotency-Keys of requests: who claimed
// a key for which request, under a lease, and the response kept for its
// repeats.
package idempotency

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/db/store"
)

// Keys are the Idempotency-Keys in PostgreSQL.
type Keys struct {
	pool *pgxpool.Pool
}

// New keeps keys in pool.
func New(pool *pgxpool.Pool) *Keys { return &Keys{pool: pool} }

// Request is a request that carries a key: its caller, key, method, path
// and a hash of its method, path and body.
type Request struct {
	UserID       uuid.UUID
	Key          string
	Method, Path string
	Hash         [32]byte
}

// Claim is a request's hold on its key, until it completes or releases it.
type Claim struct {
	req Request
	id  pgtype.UUID
}

// Earlier is what an earlier request with the key left: whether it was
// this same request, and its response once it has one (Done).
type Earlier struct {
	SameRequest bool
	Done        bool
	Status      int
	Response    []byte
	// LeaseLeft is how long the earlier request still holds the key.
	LeaseLeft time.Duration
}

// Claim takes the key for req for lease, or says what an earlier request
// with it left (a claim still held, or its kept response).
func (k *Keys) Claim(ctx context.Context, req Request, lease time.Duration) (*Claim, *Earlier, error) {
	q := store.New(k.pool)
	c := &Claim{req: req, id: pgtype.UUID{Bytes: uuid.New(), Valid: true}}
	_, err := q.ClaimIdempotencyKey(ctx, store.ClaimIdempotencyKeyParams{
		UserID: req.UserID, Key: req.Key, Method: req.Method, Path: req.Path, RequestHash: req.Hash[:],
		Claim: c.id, LeaseSecs: lease.Seconds(),
	})
	if err == nil {
		return c, nil, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("claim Idempotency-Key: %w", err)
	}
	prev, err := q.GetIdempotencyKey(ctx, store.GetIdempotencyKeyParams{UserID: req.UserID, Key: req.Key})
	if err != nil {
		return nil, nil, fmt.Errorf("read Idempotency-Key: %w", err)
	}
	e := &Earlier{SameRequest: bytes.Equal(prev.RequestHash, req.Hash[:]), Done: prev.Status != nil, Response: prev.Response,
		LeaseLeft: time.Duration(prev.LeaseLeftSecs * float64(time.Second))}
	if prev.Status != nil {
		e.Status = int(*prev.Status)
	}
	return nil, e, nil
}

// Release gives the key back unanswered, so a repeat runs the request
// again.
func (k *Keys) Release(ctx context.Context, c *Claim) error {
	if err := store.New(k.pool).ReleaseIdempotencyKey(ctx, store.ReleaseIdempotencyKeyParams{UserID: c.req.UserID, Key: c.req.Key, Claim: c.id}); err != nil {
		return fmt.Errorf("release Idempotency-Key: %w", err)
	}
	return nil
}

// Complete keeps the response repeats of the request get.
func (k *Keys) Complete(ctx context.Context, c *Claim, status int, response []byte) error {
	st := int32(status)
	if err := store.New(k.pool).CompleteIdempotencyKey(ctx, store.CompleteIdempotencyKeyParams{UserID: c.req.UserID, Key: c.req.Key, Status: &st, Response: response, Claim: c.id}); err != nil {
		return fmt.Errorf("keep the response of Idempotency-Key: %w", err)
	}
	return nil
}
