package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

// channel is the PostgreSQL channel new entries are announced on (by
// PutInInboxes, at the commit of the dispatcher's transaction).
const channel = "inbox_entries"

// MaxStreamsPerUser bounds the live streams one user holds at once in one
// process: a console in a few tabs, not a thousand connections from one key.
const MaxStreamsPerUser = 5

var (
	// ErrTooManyStreams means the user already holds MaxStreamsPerUser.
	ErrTooManyStreams = errors.New("too many live streams for this user")
	// ErrHubStopped means the hub has stopped (the process is stopping).
	ErrHubStopped = errors.New("the inbox hub has stopped")
)

// Signal is what a subscription receives: a new entry of its user's, or
// Resync when entries may have been missed (the hub lost its connection
// to PostgreSQL, or the subscriber fell behind): the subscriber reads
// the inbox again.
type Signal struct {
	Entry  uuid.UUID
	Resync bool
}

// Hub tells live streams about their users' new entries: one listening
// connection per process, fanned out in memory.
type Hub struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	mu      sync.Mutex
	subs    map[uuid.UUID]map[*Subscription]struct{}
	stopped bool
}

// NewHub returns a hub over the database behind pool; Run makes it listen.
func NewHub(pool *pgxpool.Pool, logger *slog.Logger) *Hub {
	if logger == nil {
		logger = slog.Default()
	}
	return &Hub{pool: pool, logger: logger, subs: map[uuid.UUID]map[*Subscription]struct{}{}}
}

// Subscription is one live stream's view of its user's new entries. C is
// closed when the hub stops.
type Subscription struct {
	C    <-chan Signal
	c    chan Signal
	user uuid.UUID
	hub  *Hub
	// behind is set when a signal could not be queued: the next one
	// the subscriber takes is a Resync.
	behind atomic.Bool
}

// Subscribe opens a subscription to user's new entries.
func (h *Hub) Subscribe(user uuid.UUID) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return nil, ErrHubStopped
	}
	if len(h.subs[user]) >= MaxStreamsPerUser {
		return nil, ErrTooManyStreams
	}
	c := make(chan Signal, 16)
	s := &Subscription{C: c, c: c, user: user, hub: h}
	if h.subs[user] == nil {
		h.subs[user] = map[*Subscription]struct{}{}
	}
	h.subs[user][s] = struct{}{}
	return s, nil
}

// Close ends the subscription.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s.user][s]; !ok {
		return // the hub stopped and closed it
	}
	delete(h.subs[s.user], s)
	if len(h.subs[s.user]) == 0 {
		delete(h.subs, s.user)
	}
	close(s.c)
}

// Behind reports, once, that signals were dropped since the last call.
func (s *Subscription) Behind() bool { return s.behind.Swap(false) }

// send queues sig without waiting; h.mu is held.
func (s *Subscription) send(sig Signal) {
	select {
	case s.c <- sig:
	default:
		s.behind.Store(true)
	}
}

func (h *Hub) publish(user uuid.UUID, sig Signal) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[user] {
		s.send(sig)
	}
}

func (h *Hub) resyncAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, subs := range h.subs {
		for s := range subs {
			s.send(Signal{Resync: true})
		}
	}
}

func (h *Hub) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	for user, subs := range h.subs {
		for s := range subs {
			close(s.c)
		}
		delete(h.subs, user)
	}
}

// Run listens for new entries until ctx ends, then closes every
// subscription. A lost connection is opened again after a growing pause,
// and every subscriber told to resync.
func (h *Hub) Run(ctx context.Context) {
	defer h.stop()
	pause := 100 * time.Millisecond
	for first := true; ; first = false {
		err := h.listen(ctx, !first)
		if ctx.Err() != nil {
			return
		}
		h.logger.Warn("inbox hub lost its PostgreSQL connection; listening again", "error", err, "in", pause)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 30*time.Second)
	}
}

// listen holds one connection listening on the channel until it fails or
// ctx ends.
func (h *Hub) listen(ctx context.Context, resync bool) error {
	pooled, err := h.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("acquire a connection: %w", err)
	}
	// A connection that has listened goes back to no pool.
	conn := pooled.Hijack()
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return fmt.Errorf("listen on %s: %w", channel, err)
	}
	if resync {
		h.resyncAll()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for an inbox entry: %w", err)
		}
		user, entry, ok := strings.Cut(n.Payload, " ")
		uid, err1 := uuid.Parse(user)
		eid, err2 := uuid.Parse(entry)
		if !ok || err1 != nil || err2 != nil {
			h.logger.Warn("inbox hub: an announcement it cannot read", "payload", n.Payload)
			continue
		}
		h.publish(uid, Signal{Entry: eid})
	}
}
