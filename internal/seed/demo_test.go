package seed

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/apikey"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestDemoKeysAreStableAndAuthenticateAsTheirRole(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	file := filepath.Join(t.TempDir(), "demo-keys.json")

	first, err := DemoKeys(ctx, pool, file)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DemoKeys(ctx, pool, file)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(Roles) {
		t.Fatalf("%d demo users, want %d", len(first), len(Roles))
	}
	for i, d := range first {
		if again[i].Key != d.Key {
			t.Errorf("%s key changed on the second call", d.Role)
		}
		hash, err := apikey.Parse(d.Key)
		if err != nil {
			t.Fatal(err)
		}
		who, err := store.New(pool).AuthenticateAPIKey(ctx, hash[:])
		if err != nil {
			t.Fatalf("%s key does not authenticate: %v", d.Role, err)
		}
		if string(who.Role) != d.Role || who.OrgID != d.OrgID {
			t.Errorf("%s key acts as %s of %s", d.Role, who.Role, who.OrgID)
		}
	}
	if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if tier, err := store.New(pool).SupplierTier(ctx, first[1].OrgID); err != nil || tier != "gold" {
		t.Errorf("demo supplier tier %q (%v)", tier, err)
	}

	// With the file gone new keys are made for the same users, not new users.
	os.Remove(file)
	other, err := DemoKeys(ctx, pool, file)
	if err != nil || other[0].Key == first[0].Key || other[0].OrgID != first[0].OrgID {
		t.Fatalf("after losing the file: %+v (%v)", other[0], err)
	}
	var users int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&users); err != nil || users != len(Roles) {
		t.Fatalf("%d users after re-seeding (%v), want %d", users, err, len(Roles))
	}
}
