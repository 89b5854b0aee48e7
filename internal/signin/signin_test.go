package signin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// user makes a supplier user with a password.
func user(t *testing.T, s *Service, q *store.Queries, email, password string) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	org, err := q.CreateOrganization(ctx, "Org of "+email)
	if err != nil {
		t.Fatal(err)
	}
	u, err := q.CreateUser(ctx, store.CreateUserParams{OrgID: org.ID, Email: email, Name: "Li", Role: store.UserRoleSupplier})
	if err != nil {
		t.Fatal(err)
	}
	if password != "" {
		if err := s.SetPassword(ctx, u.ID, password); err != nil {
			t.Fatal(err)
		}
	}
	return u.ID
}

func TestPasswordsAreHeldToTheRulesAndKeptHashed(t *testing.T) {
	pool := testenv.Postgres(t)
	s, q := New(pool), store.New(pool)
	id := user(t, s, q, "li@supplier.example", "")
	for _, bad := range []string{"", "short", strings.Repeat("x", MaxPassword+1), "\xff\xfe invalid utf-8 text"} {
		var pe *PasswordError
		if err := s.SetPassword(context.Background(), id, bad); !errors.As(err, &pe) {
			t.Errorf("password %.20q: %v, want refused", bad, err)
		}
	}
	if err := s.SetPassword(context.Background(), id, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	u, err := q.GetUser(context.Background(), id)
	if err != nil || u.PasswordHash == nil || !strings.HasPrefix(*u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(*u.PasswordHash, "horse") {
		t.Fatalf("stored %v %v", u.PasswordHash, err)
	}
}

// The right password signs in (the address in any case); a wrong one, an
// unknown address or a user without a password does not, alike; five
// wrong in a row lock the user out, the right password too, until the
// lock ends.
func TestSignInLocksOutAfterRepeatedFailures(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	s, q := New(pool), store.New(pool)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	user(t, s, q, "li@supplier.example", "correct horse battery")
	user(t, s, q, "nopass@supplier.example", "")
	if _, err := s.SignIn(ctx, "LI@Supplier.example", "correct horse battery"); err != nil {
		t.Fatalf("the right password: %v", err)
	}
	for _, c := range [][2]string{{"nobody@x.example", "correct horse battery"}, {"nopass@supplier.example", ""}, {"li@supplier.example", strings.Repeat("p", 5000)}} {
		if _, err := s.SignIn(ctx, c[0], c[1]); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("%s: %v, want bad credentials", c[0], err)
		}
	}
	// The oversized password above was refused before it was tried.
	for i := 1; i <= MaxFailures; i++ {
		_, err := s.SignIn(ctx, "li@supplier.example", "wrong password!")
		var locked *LockedError
		if i < MaxFailures && !errors.Is(err, ErrBadCredentials) || i == MaxFailures && !errors.As(err, &locked) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	var locked *LockedError
	if _, err := s.SignIn(ctx, "li@supplier.example", "correct horse battery"); !errors.As(err, &locked) || !locked.Until.Equal(now.Add(LockFor)) {
		t.Fatalf("while locked, the right password: %v", err)
	}
	now = now.Add(LockFor + time.Second)
	if _, err := s.SignIn(ctx, "li@supplier.example", "correct horse battery"); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

// A session acts as its user until it is idle too long, signed out, or
// its user signs out everywhere; its CSRF token is its own.
func TestSessionsEndIdleSignedOutOrEverywhere(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	s, q := New(pool), store.New(pool)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	id := user(t, s, q, "li@supplier.example", "correct horse battery")
	a, err := s.SignIn(ctx, "li@supplier.example", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := s.SignIn(ctx, "li@supplier.example", "correct horse battery")
	c, _ := s.SignIn(ctx, "li@supplier.example", "correct horse battery")
	who, err := s.Session(ctx, a.Token)
	if err != nil || who.UserID != id || who.Role != "supplier" || who.Language != "en" {
		t.Fatalf("%+v %v", who, err)
	}
	if !who.CSRFOK(a.CSRF) || who.CSRFOK(b.CSRF) || who.CSRFOK("") {
		t.Error("a session takes its own CSRF token only")
	}
	for _, bad := range []string{"", "x", a.Token + "x", strings.Repeat("a", 5000)} {
		if _, err := s.Session(ctx, bad); !errors.Is(err, ErrNoSession) {
			t.Errorf("token %.20q: %v", bad, err)
		}
	}
	// Used within the idle time, a session lives on; idle longer, it ends.
	now = now.Add(SessionIdle - time.Minute)
	if _, err := s.Session(ctx, a.Token); err != nil {
		t.Fatalf("used in time: %v", err)
	}
	now = now.Add(SessionIdle - time.Minute)
	if _, err := s.Session(ctx, a.Token); err != nil {
		t.Fatalf("used in time again: %v", err)
	}
	if _, err := s.Session(ctx, b.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("idle too long: %v", err)
	}
	if err := s.SignOut(ctx, who); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, a.Token); !errors.Is(err, ErrNoSession) {
		t.Fatalf("signed out: %v", err)
	}
	d, _ := s.SignIn(ctx, "li@supplier.example", "correct horse battery")
	if n, err := s.SignOutEverywhere(ctx, id); err != nil || n != 3 {
		t.Fatalf("signed out of %d sessions: %v", n, err)
	}
	for _, tok := range []string{c.Token, d.Token} {
		if _, err := s.Session(ctx, tok); !errors.Is(err, ErrNoSession) {
			t.Errorf("after signing out everywhere: %v", err)
		}
	}
}
