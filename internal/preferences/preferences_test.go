package preferences

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Every kind the deal's workflow sends is in the catalog, so none escapes
// its class (a new money kind left out would be mutable).
func TestEveryKindTheDealSendsIsInTheCatalog(t *testing.T) {
	files, err := filepath.Glob("../../workflows/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("workflow sources: %v", err)
	}
	literal := regexp.MustCompile(`notify\([^,]+,\s*"([a-z_]+)"`)
	sent := map[string]bool{
		// Kinds not written as literals in notify calls.
		"quote_submitted": true, "quote_revised": true, "deposit_due_soon": true, "balance_due_soon": true,
		"webhook_endpoint_disabled": true,
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(b), -1) {
			sent[m[1]] = true
		}
	}
	if len(sent) < 30 {
		t.Fatalf("found only %d kinds: %v", len(sent), sent)
	}
	for k := range sent {
		if _, ok := ClassOf(k); !ok {
			t.Errorf("the deal sends %q, which the catalog does not hold", k)
		}
	}
	seen := map[string]bool{}
	for _, k := range Kinds() {
		if seen[k.Name] {
			t.Errorf("%s twice in the catalog", k.Name)
		}
		seen[k.Name] = true
	}
	for _, k := range []string{"deposit_due", "balance_due_soon", "payment_failed", "contract_ready", "dispute_opened", "mediation_needed"} {
		if c, _ := ClassOf(k); !c.Mandatory() {
			t.Errorf("%s is %s, which a user could mute", k, c)
		}
	}
}

type fixture struct {
	q      *store.Queries
	svc    *Service
	org    uuid.UUID
	mutes  uuid.UUID // a user who turns channels off
	stays  uuid.UUID // one who does not
	serial int
}

func setUp(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	pool := testenv.Postgres(t)
	q := store.New(pool)
	org, err := q.CreateOrganization(ctx, "Supplier")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{q: q, svc: New(pool), org: org.ID}
	for i, id := range []*uuid.UUID{&f.mutes, &f.stays} {
		u, err := q.CreateUser(ctx, store.CreateUserParams{OrgID: org.ID, Email: fmt.Sprintf("u%d@supplier.example", i), Name: "U", Role: store.UserRoleSupplier})
		if err != nil {
			t.Fatal(err)
		}
		*id = u.ID
	}
	return f
}

// who are the users a notification of kind reaches by channel.
func (f *fixture) who(t *testing.T, kind string) (inbox, mail map[uuid.UUID]bool) {
	t.Helper()
	ctx := context.Background()
	f.serial++
	key := fmt.Sprintf("d1/notify/%d", f.serial)
	if err := f.q.InsertNotification(ctx, store.InsertNotificationParams{Key: key, DealID: "d1", OrgID: f.org.String(), Kind: kind, Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := f.q.PutInInboxes(ctx, key); err != nil {
		t.Fatal(err)
	}
	inbox, mail = map[uuid.UUID]bool{}, map[uuid.UUID]bool{}
	for _, u := range []uuid.UUID{f.mutes, f.stays} {
		page, err := f.q.InboxUnread(ctx, store.InboxUnreadParams{UserID: u, MaxCount: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			if e.Key == key {
				inbox[u] = true
			}
		}
	}
	rcpts, err := f.q.MailRecipients(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rcpts {
		mail[r.UserID] = true
	}
	return inbox, mail
}

// A user who turns a channel of a deal kind off gets that kind on the
// other channel only; the other users of its organization get both; a
// money or legal kind cannot be turned off, and a refused change keeps
// none of the changes sent with it.
func TestAUserChoosesChannelsForAllButMoneyAndLegalKinds(t *testing.T) {
	f := setUp(t)
	ctx := context.Background()
	if err := f.svc.Set(ctx, f.mutes, []Change{{Kind: "invited_to_quote", Channel: "email", Enabled: false}, {Kind: "goods_shipped", Channel: "inbox", Enabled: false}}); err != nil {
		t.Fatal(err)
	}
	inbox, mail := f.who(t, "invited_to_quote")
	if !inbox[f.mutes] || mail[f.mutes] || !inbox[f.stays] || !mail[f.stays] {
		t.Errorf("invited_to_quote: inbox %v, mail %v", inbox, mail)
	}
	inbox, mail = f.who(t, "goods_shipped")
	if inbox[f.mutes] || !mail[f.mutes] || !inbox[f.stays] || !mail[f.stays] {
		t.Errorf("goods_shipped: inbox %v, mail %v", inbox, mail)
	}
	for i, bad := range [][]Change{
		{{Kind: "goods_delivered", Channel: "email", Enabled: false}, {Kind: "deposit_due", Channel: "email", Enabled: false}},
		{{Kind: "contract_ready", Channel: "inbox", Enabled: false}},
		{{Kind: "no_such_kind", Channel: "email", Enabled: false}},
		{{Kind: "goods_delivered", Channel: "sms", Enabled: false}},
		{{Kind: "goods_delivered\x00", Channel: "email", Enabled: false}},
		make([]Change, MaxChanges+1),
	} {
		if err := f.svc.Set(ctx, f.mutes, bad); err == nil {
			t.Errorf("change set %d accepted", i)
		}
	}
	prefs, err := f.svc.Of(ctx, f.mutes)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range prefs {
		switch p.Kind {
		case "goods_delivered":
			if !p.Channels["email"] {
				t.Error("goods_delivered e-mail turned off by a refused change set")
			}
		case "deposit_due", "contract_ready":
			if !p.Mandatory || !p.Channels["email"] || !p.Channels["inbox"] {
				t.Errorf("%+v", p)
			}
		case "invited_to_quote":
			if p.Channels["email"] || !p.Channels["inbox"] {
				t.Errorf("%+v", p)
			}
		}
	}
	inbox, mail = f.who(t, "deposit_due")
	if !inbox[f.mutes] || !mail[f.mutes] {
		t.Errorf("deposit_due: inbox %v, mail %v", inbox, mail)
	}
	// Turned on again.
	if err := f.svc.Set(ctx, f.mutes, []Change{{Kind: "invited_to_quote", Channel: "email", Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	if _, mail = f.who(t, "invited_to_quote"); !mail[f.mutes] {
		t.Error("e-mail turned on again does not reach the user")
	}
}
