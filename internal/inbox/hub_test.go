package inbox

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func signal(t *testing.T, s *Subscription) Signal {
	t.Helper()
	select {
	case sig, ok := <-s.C:
		if !ok {
			t.Fatal("the subscription was closed")
		}
		return sig
	case <-time.After(time.Minute):
		t.Fatal("no signal for a minute")
	}
	return Signal{}
}

// A subscriber hears of each new entry of its user's when the
// transaction that made it commits; after the hub's connection is lost
// it is told to resync and hears of new entries again; a subscriber that
// falls behind learns it; a user holds at most MaxStreamsPerUser; when
// the hub stops, every subscription is closed.
func TestHubSignalsEachNewEntryAndResyncsAfterALostConnection(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	q := store.New(pool)
	org, err := q.CreateOrganization(ctx, "Buyer")
	if err != nil {
		t.Fatal(err)
	}
	user, err := q.CreateUser(ctx, store.CreateUserParams{OrgID: org.ID, Email: "a@buyer.example", Name: "A", Role: store.UserRoleBuyer})
	if err != nil {
		t.Fatal(err)
	}
	hub := NewHub(pool, slog.New(slog.DiscardHandler))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		hub.Run(runCtx)
		close(done)
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
	sub, err := hub.Subscribe(user.ID)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := hub.Subscribe(uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	seq := 0
	add := func() uuid.UUID {
		t.Helper()
		seq++
		key := fmt.Sprintf("d1/notify/%d", seq)
		if err := q.InsertNotification(ctx, store.InsertNotificationParams{Key: key, DealID: "d1", OrgID: org.ID.String(), Kind: "k", Text: "t"}); err != nil {
			t.Fatal(err)
		}
		if err := Put(ctx, q, key); err != nil {
			t.Fatal(err)
		}
		var id uuid.UUID
		if err := pool.QueryRow(ctx, "SELECT id FROM inbox WHERE key = $1", key).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	listening := func() {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			var n int
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN "+channel+"'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				return
			}
		}
		t.Fatal("the hub did not listen within a minute")
	}
	listening()
	id := add()
	if sig := signal(t, sub); sig.Entry != id || sig.Resync {
		t.Fatalf("signal %+v, want entry %s", sig, id)
	}

	if _, err := pool.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN "+channel+"'"); err != nil {
		t.Fatal(err)
	}
	if sig := signal(t, sub); !sig.Resync {
		t.Fatalf("after the connection was lost: %+v, want a resync", sig)
	}
	listening()
	if sig := signal(t, stranger); !sig.Resync {
		t.Fatalf("another user's subscriber after the connection was lost: %+v, want a resync", sig)
	}
	id = add()
	if sig := signal(t, sub); sig.Entry != id {
		t.Fatalf("after listening again: %+v, want entry %s", sig, id)
	}
	select {
	case sig := <-stranger.C:
		t.Fatalf("another user's subscriber heard %+v", sig)
	default:
	}

	for range MaxStreamsPerUser - 1 {
		if _, err := hub.Subscribe(user.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := hub.Subscribe(user.ID); err != ErrTooManyStreams {
		t.Fatalf("subscription %d: %v, want ErrTooManyStreams", MaxStreamsPerUser+1, err)
	}
	sub.Close()
	if _, err := hub.Subscribe(user.ID); err != nil {
		t.Fatalf("after one was closed: %v", err)
	}

	stop()
	<-done
	for range stranger.C {
	}
	if _, err := hub.Subscribe(user.ID); err != ErrHubStopped {
		t.Fatalf("subscribing to a stopped hub: %v", err)
	}
}

// A subscriber that does not keep up loses signals, not the hub's time,
// and learns that it fell behind, once.
func TestASubscriberThatFallsBehindLearnsIt(t *testing.T) {
	hub := NewHub(nil, slog.New(slog.DiscardHandler))
	user := uuid.New()
	sub, err := hub.Subscribe(user)
	if err != nil {
		t.Fatal(err)
	}
	for range 16 {
		hub.publish(user, Signal{Entry: uuid.New()})
	}
	if sub.Behind() {
		t.Fatal("behind with its queue just full")
	}
	hub.publish(user, Signal{Entry: uuid.New()})
	if !sub.Behind() || sub.Behind() {
		t.Fatal("a dropped signal is reported once")
	}
	if len(sub.C) != 16 {
		t.Fatalf("%d signals queued, want 16", len(sub.C))
	}
}
