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

func TestDemoBuyerKeyIsStableAndAuthenticatesAsBuyer(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	file := filepath.Join(t.TempDir(), "demo-api-key")

	first, err := DemoBuyerKey(ctx, pool, file)
	if err != nil {
		t.Fatal(err)
	}
	again, err := DemoBuyerKey(ctx, pool, file)
	if err != nil || again != first {
		t.Fatalf("second call gave %q (%v), want the same key", again, err)
	}
	st, _ := os.Stat(file)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	hash, err := apikey.Parse(first)
	if err != nil {
		t.Fatal(err)
	}
	who, err := store.New(pool).AuthenticateAPIKey(ctx, hash[:])
	if err != nil {
		t.Fatalf("demo key does not authenticate: %v", err)
	}
	if who.Role != store.UserRoleBuyer || who.Email != DemoUserEmail {
		t.Fatalf("demo key acts as %s %s", who.Role, who.Email)
	}

	// With the file gone (or pointing at another database) a new key is made
	// for the same buyer, not a second buyer.
	os.Remove(file)
	other, err := DemoBuyerKey(ctx, pool, file)
	if err != nil || other == first {
		t.Fatalf("new key %q (%v)", other, err)
	}
	var users int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&users); err != nil || users != 1 {
		t.Fatalf("%d users after re-seeding (%v), want 1", users, err)
	}
}
