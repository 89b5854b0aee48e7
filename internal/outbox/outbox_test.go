package outbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/inbox"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// recorder is a notifier that keeps what it was given and fails the keys
// it is told to.
type recorder struct {
	mu   sync.Mutex
	got  map[string]int
	fail map[string]bool
}

func (r *recorder) Notify(_ context.Context, n activities.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail[n.Key] {
		return errors.New("mail server down")
	}
	r.got[n.Key]++
	return nil
}

func queue(t *testing.T, q *store.Queries, deal string, n int) {
	t.Helper()
	for i := range n {
		if err := q.InsertNotification(context.Background(), store.InsertNotificationParams{
			Key: fmt.Sprintf("%s/notify/%d", deal, i+1), DealID: deal, OrgID: "org", Kind: "k", Text: "t",
		}); err != nil {
			t.Fatal(err)
		}
	}
}

// Two dispatchers at once deliver every notification exactly once; one
// that fails is tried again after a gap that doubles, and delivered when
// the notifier works again.
func TestDispatchersDeliverEachOnceAndRetryWithGrowingGaps(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	q := store.New(pool)
	queue(t, q, "d1", 250)
	rec := &recorder{got: map[string]int{}, fail: map[string]bool{"d1/notify/7": true}}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Hour * 24 * 365 * 10) // after every row's creation
	clock := func() time.Time { return now }
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := &Dispatcher{Pool: pool, Notifier: rec, Batch: 10, Now: clock}
			for {
				n, err := d.DeliverDue(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(rec.got) != 249 {
		t.Fatalf("%d notifications delivered, want 249", len(rec.got))
	}
	for k, n := range rec.got {
		if n != 1 {
			t.Fatalf("%s delivered %d times", k, n)
		}
	}
	d := &Dispatcher{Pool: pool, Notifier: rec, Now: clock}
	// Failed once: due again after MinGap, not before.
	for i, wait := range []time.Duration{MinGap, 2 * MinGap, 4 * MinGap} {
		now = now.Add(wait - time.Millisecond)
		if n, err := d.DeliverDue(ctx); err != nil || n != 0 {
			t.Fatalf("attempt %d: %d tried (%v) before its gap of %s ended", i+2, n, err, wait)
		}
		now = now.Add(time.Millisecond)
		if n, err := d.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("attempt %d: %d tried (%v) once its gap of %s ended, want 1", i+2, n, err, wait)
		}
	}
	rec.mu.Lock()
	rec.fail = nil
	rec.mu.Unlock()
	now = now.Add(8 * MinGap)
	if n, err := d.DeliverDue(ctx); err != nil || n != 1 || rec.got["d1/notify/7"] != 1 {
		t.Fatalf("after the notifier recovered: %d tried (%v), delivered %d times", n, err, rec.got["d1/notify/7"])
	}
	notes, err := q.DealNotifications(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		want := int32(1)
		if n.Key == "d1/notify/7" {
			want = 5 // four failures, then delivered
		}
		if n.DeliveredAt == nil || n.Attempts != want {
			t.Fatalf("%s: delivered at %v after %d attempts, want delivered after %d", n.Key, n.DeliveredAt, n.Attempts, want)
		}
	}
	if n, err := d.DeliverDue(ctx); err != nil || n != 0 {
		t.Fatalf("%d tried (%v) with nothing due", n, err)
	}
}

func TestGapDoublesUpToTheHour(t *testing.T) {
	for _, c := range []struct {
		attempts int32
		want     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {12, 2048 * time.Second}, {13, time.Hour}, {40, time.Hour}} {
		if got := gap(c.attempts); got != c.want {
			t.Errorf("gap after %d attempts = %s, want %s", c.attempts, got, c.want)
		}
	}
}

// A notification is in its users' in-app inboxes once from its first
// attempt on, whether the notifier takes it or fails and takes it later.
func TestDeliveryPutsEachNotificationInItsUsersInboxesOnce(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	q := store.New(pool)
	org, err := q.CreateOrganization(ctx, "Buyer")
	if err != nil {
		t.Fatal(err)
	}
	var users []uuid.UUID
	for _, email := range []string{"a@buyer.example", "b@buyer.example"} {
		u, err := q.CreateUser(ctx, store.CreateUserParams{OrgID: org.ID, Email: email, Name: email, Role: store.UserRoleBuyer})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u.ID)
	}
	for i, key := range []string{"d1/notify/1", "d1/notify/2"} {
		if err := q.InsertNotification(ctx, store.InsertNotificationParams{Key: key, DealID: "d1", OrgID: org.ID.String(), Kind: "k", Text: fmt.Sprint(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	rec := &recorder{got: map[string]int{}, fail: map[string]bool{"d1/notify/2": true}}
	now := time.Now().Add(time.Minute)
	d := &Dispatcher{Pool: pool, Notifier: rec, Now: func() time.Time { return now }}
	inboxes := inbox.New(pool)
	for attempt := 1; attempt <= 3; attempt++ {
		if attempt == 3 {
			rec.mu.Lock()
			rec.fail = nil
			rec.mu.Unlock()
		}
		if _, err := d.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			page, err := inboxes.Read(ctx, u, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Notifications) != 2 || page.Unread != 2 {
				t.Fatalf("after attempt %d a user's inbox holds %d entries, %d unread; want both notifications once", attempt, len(page.Notifications), page.Unread)
			}
		}
		now = now.Add(MaxGap)
	}
	if rec.got["d1/notify/1"] != 1 || rec.got["d1/notify/2"] != 1 {
		t.Fatalf("the notifier took %v, want each once", rec.got)
	}
}

// blocker is a notifier that stops at one notification until released,
// as a dispatcher would if its process hung or died there.
type blocker struct {
	recorder
	at      string
	reached chan struct{}
	release chan struct{}
}

func (b *blocker) Notify(ctx context.Context, n activities.Notification) error {
	if n.Key == b.at {
		select {
		case b.reached <- struct{}{}:
		default:
		}
		select {
		case <-b.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return b.recorder.Notify(ctx, n)
}

// A dispatcher killed in the middle of a batch (its context ended and its
// database session terminated while it was delivering) loses nothing: a
// new dispatcher delivers every notification, each is in its users'
// inboxes once, and those of batches committed before the kill are not
// delivered again.
func TestADispatcherKilledMidDeliveryLosesAndRepeatsNothing(t *testing.T) {
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
	const n = 35
	for i := range n {
		if err := q.InsertNotification(ctx, store.InsertNotificationParams{Key: fmt.Sprintf("d1/notify/%02d", i+1), DealID: "d1", OrgID: org.ID.String(), Kind: "k", Text: fmt.Sprint(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Add(time.Minute)
	clock := func() time.Time { return now }
	b := &blocker{recorder: recorder{got: map[string]int{}}, reached: make(chan struct{}, 1), release: make(chan struct{})}
	first := &Dispatcher{Pool: pool, Notifier: b, Batch: 10, Now: clock}
	// The first batch commits; the second is killed at its fifth
	// notification, the four before it handed to the notifier.
	if tried, err := first.DeliverDue(ctx); err != nil || tried != 10 {
		t.Fatalf("first batch: %d tried, %v", tried, err)
	}
	var committed []string
	for k := range b.got {
		committed = append(committed, k)
	}
	rows, err := q.DealNotifications(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if r.DeliveredAt == nil {
			b.at = rows[i+4].Key // the fifth of the next batch
			break
		}
	}
	killCtx, kill := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := first.DeliverDue(killCtx)
		done <- err
	}()
	select {
	case <-b.reached:
	case <-time.After(time.Minute):
		t.Fatal("the dispatcher never reached the notification it hangs at")
	}
	if _, err := pool.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'"); err != nil {
		t.Fatal(err)
	}
	kill()
	if err := <-done; err == nil {
		t.Fatal("the killed dispatcher reported success")
	}

	second := &Dispatcher{Pool: pool, Notifier: &b.recorder, Batch: 10, Now: clock}
	for {
		tried, err := second.DeliverDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tried == 0 {
			break
		}
	}
	if len(b.got) != n {
		t.Fatalf("%d of %d notifications delivered", len(b.got), n)
	}
	again := 0
	for _, times := range b.got {
		again += times - 1
	}
	if again != 4 {
		t.Errorf("%d notifications handed over twice, want the 4 of the killed batch before the hang (at least once)", again)
	}
	for _, k := range committed {
		if b.got[k] != 1 {
			t.Errorf("%s, delivered in a committed batch, delivered %d times", k, b.got[k])
		}
	}
	page, err := inbox.New(pool).Read(ctx, user.ID, "", inbox.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Notifications) != n || page.Unread != n {
		t.Fatalf("the inbox holds %d entries (%d unread), want each of the %d once", len(page.Notifications), page.Unread, n)
	}
	rows, err = q.DealNotifications(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.DeliveredAt == nil {
			t.Errorf("%s not marked delivered", r.Key)
		}
	}
}
