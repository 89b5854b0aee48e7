package inbox

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// people are two organizations' users and the platform's staff.
type people struct {
	orgA, orgB                      uuid.UUID
	a1, a2, b, mediator, fin, admin uuid.UUID
}

func setup(t *testing.T) (*Service, *store.Queries, people) {
	t.Helper()
	ctx := context.Background()
	pool := testenv.Postgres(t)
	q := store.New(pool)
	org := func(name string) uuid.UUID {
		o, err := q.CreateOrganization(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	user := func(org uuid.UUID, email string, role store.UserRole) uuid.UUID {
		u, err := q.CreateUser(ctx, store.CreateUserParams{OrgID: org, Email: email, Name: email, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		return u.ID
	}
	var p people
	p.orgA, p.orgB = org("Buyer A"), org("Buyer B")
	platform := org("Tradeloop")
	p.a1 = user(p.orgA, "a1@a.example", store.UserRoleBuyer)
	p.a2 = user(p.orgA, "a2@a.example", store.UserRoleBuyer)
	p.b = user(p.orgB, "b@b.example", store.UserRoleBuyer)
	p.mediator = user(platform, "mediator@tradeloop.example", store.UserRoleMediator)
	p.fin = user(platform, "finance@tradeloop.example", store.UserRoleFinance)
	p.admin = user(platform, "admin@tradeloop.example", store.UserRoleAdmin)
	return New(pool), q, p
}

// notify writes a notification into the outbox and puts it in its
// inboxes, as the dispatcher does.
func notify(t *testing.T, q *store.Queries, key, org, text string) {
	t.Helper()
	ctx := context.Background()
	if err := q.InsertNotification(ctx, store.InsertNotificationParams{Key: key, DealID: "deal-1", OrgID: org, Kind: "k", Text: text}); err != nil {
		t.Fatal(err)
	}
	if err := Put(ctx, q, key); err != nil {
		t.Fatal(err)
	}
}

func inboxTexts(t *testing.T, s *Service, user uuid.UUID) (string, int64) {
	t.Helper()
	page, err := s.Read(context.Background(), user, "", MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range page.Notifications {
		out = append(out, e.Text)
	}
	return strings.Join(out, ","), page.Unread
}

// A notification reaches every user of the organization it is addressed
// to and no one else; the mediation desk's reach every mediator, the
// platform's finance and admin users; putting one again adds nothing.
func TestEachNotificationReachesOnlyTheUsersItIsFor(t *testing.T) {
	s, q, p := setup(t)
	notify(t, q, "deal-1/notify/1", p.orgA.String(), "for A")
	notify(t, q, "deal-1/notify/2", p.orgB.String(), "for B")
	notify(t, q, "deal-1/notify/3", "mediation", "for mediators")
	notify(t, q, "deal-1/notify/4", "platform", "for the platform")
	for i := 1; i <= 4; i++ {
		if err := Put(context.Background(), q, fmt.Sprintf("deal-1/notify/%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for name, c := range map[string]struct {
		user uuid.UUID
		want string
	}{
		"A's first user": {p.a1, "for A"}, "A's second user": {p.a2, "for A"}, "B's user": {p.b, "for B"},
		"the mediator": {p.mediator, "for mediators"}, "finance": {p.fin, "for the platform"}, "the admin": {p.admin, "for the platform"},
	} {
		got, unread := inboxTexts(t, s, c.user)
		if got != c.want || unread != 1 {
			t.Errorf("%s's inbox: %q with %d unread, want %q with 1", name, got, unread, c.want)
		}
	}
}

// A thousand notifications page out each once, unread first and newest
// first within unread and read, at any page size; read marks are each
// user's own.
func TestPagesHoldEveryEntryOnceUnreadFirstNewestFirst(t *testing.T) {
	s, q, p := setup(t)
	ctx := context.Background()
	const n = 1000
	for i := range n {
		notify(t, q, fmt.Sprintf("deal-1/notify/%d", i+1), p.orgA.String(), fmt.Sprint(i+1))
	}
	first, err := s.Read(ctx, p.a1, "", MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	read := map[uuid.UUID]bool{}
	for i, e := range first.Notifications {
		if i%3 == 0 {
			if _, err := s.MarkRead(ctx, p.a1, e.ID); err != nil {
				t.Fatal(err)
			}
			read[e.ID] = true
		}
	}
	for _, limit := range []int{7, MaxPage} {
		seen := map[uuid.UUID]bool{}
		var entries []Entry
		cursor, pages := "", 0
		for {
			page, err := s.Read(ctx, p.a1, cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(page.Notifications) > limit {
				t.Fatalf("a page of %d entries at limit %d", len(page.Notifications), limit)
			}
			if page.Unread != int64(n-len(read)) {
				t.Fatalf("%d unread, want %d", page.Unread, n-len(read))
			}
			entries = append(entries, page.Notifications...)
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if len(entries) != n || pages != (n+limit-1)/limit {
			t.Fatalf("limit %d: %d entries in %d pages, want %d in %d", limit, len(entries), pages, n, (n+limit-1)/limit)
		}
		for i, e := range entries {
			if seen[e.ID] {
				t.Fatalf("limit %d: entry %s twice", limit, e.Text)
			}
			seen[e.ID] = true
			if (e.ReadAt != nil) != read[e.ID] {
				t.Fatalf("limit %d: entry %s read at %v, want read %v", limit, e.Text, e.ReadAt, read[e.ID])
			}
			if i == 0 {
				continue
			}
			prev := entries[i-1]
			switch {
			case prev.ReadAt != nil && e.ReadAt == nil:
				t.Fatalf("limit %d: unread %s after read %s", limit, e.Text, prev.Text)
			case (prev.ReadAt == nil) == (e.ReadAt == nil) && e.CreatedAt.After(prev.CreatedAt):
				t.Fatalf("limit %d: %s (%s) after older %s (%s)", limit, e.Text, e.CreatedAt, prev.Text, prev.CreatedAt)
			}
		}
	}
	if _, unread := inboxTexts(t, s, p.a2); unread != n {
		t.Fatalf("A's second user has %d unread, want all %d: read marks are per user", unread, n)
	}
}

// A user marks only its own entries read: another's, or one that does
// not exist, is not found; a second reading keeps the first's time.
func TestMarkingReadIsEachUsersOwn(t *testing.T) {
	s, q, p := setup(t)
	ctx := context.Background()
	notify(t, q, "deal-1/notify/1", p.orgA.String(), "one")
	notify(t, q, "deal-1/notify/2", p.orgA.String(), "two")
	page, err := s.Read(ctx, p.a1, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	id := page.Notifications[0].ID
	for name, user := range map[string]uuid.UUID{"a user of the same organization": p.a2, "another organization's user": p.b, "an admin": p.admin} {
		if _, err := s.MarkRead(ctx, user, id); err != ErrNotFound {
			t.Errorf("%s marked A's first user's entry: %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.MarkRead(ctx, p.a1, uuid.New()); err != ErrNotFound {
		t.Errorf("marking an entry that does not exist: %v, want ErrNotFound", err)
	}
	once, err := s.MarkRead(ctx, p.a1, id)
	if err != nil || once.ReadAt == nil {
		t.Fatalf("marked read: %+v, %v", once, err)
	}
	twice, err := s.MarkRead(ctx, p.a1, id)
	if err != nil || twice.ReadAt == nil || !twice.ReadAt.Equal(*once.ReadAt) {
		t.Fatalf("marked again: %+v, %v; want the first reading's time %s", twice, err, once.ReadAt)
	}
	if _, unread := inboxTexts(t, s, p.a2); unread != 2 {
		t.Fatalf("A's second user has %d unread, want 2", unread)
	}
	if n, err := s.MarkAllRead(ctx, p.a1); err != nil || n != 1 {
		t.Fatalf("mark all read: %d, %v; want the 1 left", n, err)
	}
	if n, err := s.MarkAllRead(ctx, p.a1); err != nil || n != 0 {
		t.Fatalf("mark all read again: %d, %v; want 0", n, err)
	}
	if _, unread := inboxTexts(t, s, p.a1); unread != 0 {
		t.Fatalf("%d unread after marking all read", unread)
	}
}

// A cursor the API did not give out is refused, whatever its shape.
func TestForeignCursorsAreRefused(t *testing.T) {
	s, _, p := setup(t)
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, c := range []string{
		"!!!", "%00", enc("x|1|deal-1/notify/1"), enc("u|abc|deal-1/notify/1"), enc("u|1|"), enc("u|1"), enc("u"),
		enc("r|1e3|k"), strings.Repeat("A", 10_000), enc("u|99999999999999999999|k"),
		enc("u|1|" + strings.Repeat("k", maxCursor)), // well formed, but longer than any key
	} {
		if _, err := s.Read(context.Background(), p.a1, c, 0); err != ErrBadCursor {
			t.Errorf("cursor %.40q: %v, want ErrBadCursor", c, err)
		}
	}
}

// One notification reads in each user's language and time zone, titled
// for it, with its facts for programs; one stored before notifications
// carried facts reads as its stored text.
func TestEachUserReadsEntriesInItsLanguage(t *testing.T) {
	s, q, p := setup(t)
	ctx := context.Background()
	if _, err := q.SetUserReading(ctx, store.SetUserReadingParams{ID: p.a2, Language: "zh", TimeZone: "Asia/Shanghai"}); err != nil {
		t.Fatal(err)
	}
	facts, err := notice.Encode(&notice.Facts{Amount: 234000, Currency: "USD", Due: time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC), Left: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.InsertNotification(ctx, store.InsertNotificationParams{Key: "deal-1/notify/1", DealID: "deal-1", OrgID: p.orgA.String(), Kind: "deposit_due_soon", Text: "the English copy", Facts: facts}); err != nil {
		t.Fatal(err)
	}
	notify(t, q, "deal-1/notify/2", p.orgA.String(), "Stored before facts.")
	if err := Put(ctx, q, "deal-1/notify/1"); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[uuid.UUID][]string{
		p.a1: {"Deposit due soon", "Pay the USD 2,340.00 deposit in 2 hours (2026-03-05 01:00 UTC), or the deal is cancelled."},
		p.a2: {"定金即将到期", "请在2小时内支付定金 USD 2,340.00（2026年3月5日 09:00 (UTC+08:00)），否则交易将被取消。"},
	} {
		page, err := s.Read(ctx, user, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Notifications) != 2 {
			t.Fatalf("%d entries", len(page.Notifications))
		}
		old, e := page.Notifications[0], page.Notifications[1]
		if e.Title != want[0] || e.Text != want[1] || e.Facts == nil || e.Facts.Amount != 234000 {
			t.Errorf("entry read: %q %q %+v, want %q %q", e.Title, e.Text, e.Facts, want[0], want[1])
		}
		if old.Text != "Stored before facts." || old.Facts != nil {
			t.Errorf("an entry without facts reads %q %+v", old.Text, old.Facts)
		}
		one, err := s.Entry(ctx, user, e.ID)
		if err != nil || one.Text != want[1] {
			t.Errorf("the entry alone: %q %v", one.Text, err)
		}
	}
}
