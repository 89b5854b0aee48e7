package identity

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/internal/apikey"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func newKey(t *testing.T) apikey.Key {
	t.Helper()
	k, err := apikey.New()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A user is made with its first key, which then authenticates as that
// user; an unknown key, a user of no organization and a second user with
// the same address are refused with the errors the API maps.
func TestUsersAreMadeWithAKeyThatAuthenticatesThem(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Postgres(t))
	org, err := s.CreateOrganization(ctx, "Acme Trading")
	if err != nil || org.Name != "Acme Trading" {
		t.Fatalf("organization %+v: %v", org, err)
	}
	first := newKey(t)
	u, err := s.CreateUser(ctx, NewUser{OrgID: org.ID, Email: "buyer@acme.test", Name: "B", Role: "buyer"}, first)
	if err != nil {
		t.Fatal(err)
	}
	c, touchErr, err := s.Authenticate(ctx, first.Hash)
	if err != nil || touchErr != nil || c.UserID != u.ID || c.OrgID != org.ID || c.Role != "buyer" {
		t.Fatalf("the first key authenticates as %+v (%v, %v), want user %s", c, touchErr, err, u.ID)
	}
	if _, _, err := s.Authenticate(ctx, newKey(t).Hash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown key: %v, want ErrNotFound", err)
	}
	if _, err := s.CreateUser(ctx, NewUser{OrgID: uuid.New(), Email: "x@acme.test", Role: "buyer"}, newKey(t)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a user of no organization: %v, want ErrNotFound", err)
	}
	if _, err := s.CreateUser(ctx, NewUser{OrgID: org.ID, Email: "buyer@acme.test", Role: "finance"}, newKey(t)); !errors.Is(err, ErrEmailTaken) {
		t.Fatalf("a second user with the same address: %v, want ErrEmailTaken", err)
	}
	if _, err := s.User(ctx, uuid.New()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown user: %v, want ErrNotFound", err)
	}
	if !ValidRole("supplier") || ValidRole("root") || ValidRole("") {
		t.Fatal("ValidRole does not follow the users table's roles")
	}
}

// A user's keys: at most maxLive working ones, a revoked key stops at once,
// a rotated one works for its grace beside its replacement, and nobody
// revokes or rotates another user's key.
func TestKeysAreCappedRevokedAndRotated(t *testing.T) {
	ctx := context.Background()
	s := New(testenv.Postgres(t))
	org, err := s.CreateOrganization(ctx, "Keys Ltd")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(ctx, NewUser{OrgID: org.ID, Email: "k@keys.test", Role: "supplier"}, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.CreateUser(ctx, NewUser{OrgID: org.ID, Email: "o@keys.test", Role: "supplier"}, newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	expires := time.Now().Add(time.Hour)
	second := newKey(t)
	made, err := s.CreateKey(ctx, u.ID, NewKey{Label: "erp", ExpiresAt: &expires}, second, 2)
	if err != nil || made.Label != "erp" || made.ExpiresAt == nil || made.Prefix != second.Prefix {
		t.Fatalf("a second key %+v: %v", made, err)
	}
	if _, err := s.CreateKey(ctx, u.ID, NewKey{Label: "third"}, newKey(t), 2); !errors.Is(err, ErrTooManyKeys) {
		t.Fatalf("a third working key with a cap of 2: %v, want ErrTooManyKeys", err)
	}
	if _, err := s.RevokeKey(ctx, other.ID, made.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another user revokes the key: %v, want ErrNotFound", err)
	}
	if _, _, err := s.RotateKey(ctx, other.ID, made.ID, time.Hour, newKey(t)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another user rotates the key: %v, want ErrNotFound", err)
	}

	replacement := newKey(t)
	old, fresh, err := s.RotateKey(ctx, u.ID, made.ID, time.Hour, replacement)
	if err != nil || old.ID != made.ID || fresh.Label != "erp" || fresh.Prefix != replacement.Prefix {
		t.Fatalf("rotation: old %+v, new %+v: %v", old, fresh, err)
	}
	for name, k := range map[string]apikey.Key{"the rotated key, in its grace": second, "its replacement": replacement} {
		if c, _, err := s.Authenticate(ctx, k.Hash); err != nil || c.UserID != u.ID {
			t.Fatalf("%s does not authenticate: %+v %v", name, c, err)
		}
	}
	revoked, err := s.RevokeKey(ctx, u.ID, fresh.ID)
	if err != nil || revoked.RevokedAt == nil {
		t.Fatalf("revoke %+v: %v", revoked, err)
	}
	if _, _, err := s.Authenticate(ctx, replacement.Hash); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a revoked key: %v, want ErrNotFound", err)
	}
	if _, _, err := s.RotateKey(ctx, u.ID, fresh.ID, time.Hour, newKey(t)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rotating a revoked key: %v, want ErrNotFound", err)
	}

	keys, err := s.Keys(ctx, u.ID, 100)
	if err != nil || len(keys) != 3 {
		t.Fatalf("the user's keys %+v: %v, want 3 (the first, the rotated, the revoked)", keys, err)
	}
	if keys, err := s.Keys(ctx, u.ID, 1); err != nil || len(keys) != 1 || keys[0].ID != fresh.ID {
		t.Fatalf("the newest key alone: %+v %v", keys, err)
	}
}
