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
	"github.com/tradeloop/tradeloop/internal/pgpipe"
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
//
// The claim commits without waiting for the disk (synchronous_commit off):
// it is durable with the next commit that waits, such as the request's own
// writes and its kept response, which follow it in PostgreSQL's log. If
// PostgreSQL fails before, the claim may be lost with the request under
// way; a repeat then runs the request again, which the handlers make safe
// (see api's idempotent), and gets its outcome, if not the first
// response's very bytes.
func (k *Keys) Claim(ctx context.Context, req Request, lease time.Duration) (*Claim, *Earlier, error) {
	c := &Claim{req: req, id: pgtype.UUID{Bytes: uuid.New(), Valid: true}}
	var e *Earlier
	err := pgx.BeginFunc(ctx, k.pool, func(tx pgx.Tx) error {
		// The setting and the claim go out in one round trip.
		pipe := pgpipe.New(tx)
		if _, err := pipe.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return err
		}
		q := store.New(pipe)
		_, err := q.ClaimIdempotencyKey(ctx, store.ClaimIdempotencyKeyParams{
			UserID: req.UserID, Key: req.Key, Method: req.Method, Path: req.Path, RequestHash: req.Hash[:],
			Claim: c.id, LeaseSecs: lease.Seconds(),
		})
		if err == nil {
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("claim Idempotency-Key: %w", err)
		}
		prev, err := q.GetIdempotencyKey(ctx, store.GetIdempotencyKeyParams{UserID: req.UserID, Key: req.Key})
		if err != nil {
			return fmt.Errorf("read Idempotency-Key: %w", err)
		}
		e = &Earlier{SameRequest: bytes.Equal(prev.RequestHash, req.Hash[:]), Done: prev.Status != nil, Response: prev.Response,
			LeaseLeft: time.Duration(prev.LeaseLeftSecs * float64(time.Second))}
		if prev.Status != nil {
			e.Status = int(*prev.Status)
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, nil, err
	case e != nil:
		return nil, e, nil
	default:
		return c, nil, nil
	}
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
