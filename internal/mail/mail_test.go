package mail

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/mailsink"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/outbox"
	"github.com/tradeloop/tradeloop/internal/testenv"
	"github.com/tradeloop/tradeloop/internal/texts"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// toSink starts a mail sink and a sender to it, as from.
func toSink(t *testing.T, pool *pgxpool.Pool, from string) (*mailsink.Sink, *Sender) {
	t.Helper()
	sink, err := mailsink.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sink.Close() })
	sender, err := New(pool, sink.Config(from), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return sink, sender
}

// Each recipient of a notification gets one mail with a plain-text and an
// HTML part; what a party wrote is escaped in the HTML; a recipient the
// mail server refused is mailed when the notification is tried again, and
// the others not twice.
func TestEachRecipientIsMailedOnceWithTextAndHTML(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	q := store.New(pool)
	sink, sender := toSink(t, pool, "Tradeloop <notifications@tradeloop.example>")

	org, err := q.CreateOrganization(ctx, "Buyer")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ email, name string }{{"ana@buyer.example", "Ana"}, {"bo@buyer.example", "Bo <Procurement>"}} {
		if _, err := q.CreateUser(ctx, store.CreateUserParams{OrgID: org.ID, Email: u.email, Name: u.name, Role: store.UserRoleBuyer}); err != nil {
			t.Fatal(err)
		}
	}
	n := activities.Notification{Key: "deal-1/notify/1", DealID: "deal-1", OrgID: org.ID.String(), Kind: "goods_shipped",
		Text: "Your goods are on their way: <script>alert(1)</script> TRACK-1."}
	if err := q.InsertNotification(ctx, store.InsertNotificationParams{Key: n.Key, DealID: n.DealID, OrgID: n.OrgID, Kind: n.Kind, Text: n.Text}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	refused := 0
	sink.RefuseWith(func(rcpt string) error {
		mu.Lock()
		defer mu.Unlock()
		if rcpt == "bo@buyer.example" && refused == 0 {
			refused++
			return errors.New("mailbox busy")
		}
		return nil
	})
	if err := sender.Notify(ctx, n); err == nil {
		t.Fatal("a refused recipient: Notify succeeded")
	}
	if got := sink.Messages(); len(got) != 1 || got[0].To[0] != "ana@buyer.example" {
		t.Fatalf("after the first attempt the sink holds %+v, want Ana's mail", got)
	}
	if err := sender.Notify(ctx, n); err != nil {
		t.Fatal(err)
	}
	if err := sender.Notify(ctx, n); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 2 || got[1].To[0] != "bo@buyer.example" {
		t.Fatalf("after three attempts the sink holds %d mails, want Ana's then Bo's", len(got))
	}
	for _, m := range got {
		if m.Subject != "Tradeloop: Goods shipped (deal-1)" {
			t.Errorf("subject %q", m.Subject)
		}
		if !strings.Contains(m.Text, "Your goods are on their way: <script>alert(1)</script> TRACK-1.") || !strings.Contains(m.Text, "Deal: deal-1") {
			t.Errorf("text part %q", m.Text)
		}
		if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;alert(1)&lt;/script&gt; TRACK-1.") {
			t.Errorf("HTML part not escaped: %q", m.HTML)
		}
		if m.From != "notifications@tradeloop.example" || m.ID == "" {
			t.Errorf("from %q, message id %q", m.From, m.ID)
		}
	}
	if !strings.Contains(got[1].Text, "Hello Bo <Procurement>,") || !strings.Contains(got[1].HTML, "Hello Bo &lt;Procurement&gt;,") {
		t.Errorf("Bo's greeting: %q / %q", got[1].Text, got[1].HTML)
	}
}

func TestSubjectSaysTheKindInTheReadersWords(t *testing.T) {
	zh := texts.ReaderOf("zh", "Asia/Shanghai")
	for _, c := range []struct {
		r          texts.Reader
		kind, deal string
		want       string
	}{
		{texts.Default, "deposit_due", "d1", "Tradeloop: Deposit due (d1)"},
		{texts.Default, "quote_submitted", "d1", "Tradeloop: Quote submitted (d1)"},
		{texts.Default, "", "d1", "Tradeloop: Notice (d1)"},
		{texts.Default, "webhook_endpoint_disabled", "", "Tradeloop: Webhook endpoint disabled"},
		{zh, "deposit_due", "d1", "Tradeloop：请支付定金（d1）"},
		{zh, "made_up_kind", "d1", "Tradeloop：Made up kind（d1）"},
	} {
		if got := Subject(c.r, c.kind, c.deal); got != c.want {
			t.Errorf("Subject(%s, %q) = %q, want %q", c.r.Lang, c.kind, got, c.want)
		}
	}
}

// A notification with facts is worded for each recipient: in Chinese,
// with times in Shanghai's zone, for a user who reads Chinese there; in
// English in UTC for one who chose nothing.
func TestEachRecipientReadsTheMailInItsLanguage(t *testing.T) {
	ctx := context.Background()
	pool := testenv.Postgres(t)
	q := store.New(pool)
	sink, sender := toSink(t, pool, "notifications@tradeloop.example")
	org, err := q.CreateOrganization(ctx, "Supplier")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ email, name, lang, zone string }{{"li@supplier.example", "李娜", "zh", "Asia/Shanghai"}, {"sam@supplier.example", "Sam", "", ""}} {
		user, err := q.CreateUser(ctx, store.CreateUserParams{OrgID: org.ID, Email: u.email, Name: u.name, Role: store.UserRoleSupplier})
		if err != nil {
			t.Fatal(err)
		}
		if u.lang != "" {
			if _, err := q.SetUserReading(ctx, store.SetUserReadingParams{ID: user.ID, Language: u.lang, TimeZone: u.zone}); err != nil {
				t.Fatal(err)
			}
		}
	}
	due := time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC)
	n := activities.Notification{Key: "deal-2/notify/1", DealID: "deal-2", OrgID: org.ID.String(), Kind: "quote_due_soon",
		Facts: &notice.Facts{Quantity: 1000, Unit: "pcs", Product: "<b>bolts</b>", Due: due, Left: 30 * time.Minute},
		Text:  "the English copy"}
	if err := q.InsertNotification(ctx, store.InsertNotificationParams{Key: n.Key, DealID: n.DealID, OrgID: n.OrgID, Kind: n.Kind, Text: n.Text}); err != nil {
		t.Fatal(err)
	}
	if err := sender.Notify(ctx, n); err != nil {
		t.Fatal(err)
	}
	byTo := map[string]mailsink.Message{}
	for _, m := range sink.Messages() {
		byTo[m.To[0]] = m
	}
	li, sam := byTo["li@supplier.example"], byTo["sam@supplier.example"]
	if li.Subject != "Tradeloop：报价即将截止（deal-2）" || !strings.Contains(li.Text, "李娜，您好：") ||
		!strings.Contains(li.Text, "您对 <b>bolts</b> 1000 pcs 的报价将在30分钟后截止（2026年3月5日 09:00 (UTC+08:00)）") ||
		!strings.Contains(li.Text, "交易： deal-2") || !strings.Contains(li.HTML, `<html lang="zh">`) || !strings.Contains(li.HTML, "&lt;b&gt;bolts&lt;/b&gt;") {
		t.Errorf("Li's mail: %q\n%q\n%q", li.Subject, li.Text, li.HTML)
	}
	if sam.Subject != "Tradeloop: Quote due soon (deal-2)" || !strings.Contains(sam.Text, "Hello Sam,") ||
		!strings.Contains(sam.Text, "Your quote for 1000 pcs of <b>bolts</b> is due in 30 minutes (2026-03-05 01:00 UTC)") || !strings.Contains(sam.HTML, `<html lang="en">`) {
		t.Errorf("Sam's mail: %q\n%q\n%q", sam.Subject, sam.Text, sam.HTML)
	}
}

// Delivered by the dispatcher, whose claim on the notification is held
// while the mail goes out, the mail is recorded sent (on a connection of
// its own) without waiting on that claim, and the notification is marked
// delivered.
func TestTheDispatcherMailsUnderItsClaim(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := testenv.Postgres(t)
	q := store.New(pool)
	sink, sender := toSink(t, pool, "notifications@tradeloop.example")
	org, err := q.CreateOrganization(ctx, "Supplier")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.CreateUser(ctx, store.CreateUserParams{OrgID: org.ID, Email: "desk@supplier.example", Name: "Desk", Role: store.UserRoleSupplier}); err != nil {
		t.Fatal(err)
	}
	if err := q.InsertNotification(ctx, store.InsertNotificationParams{Key: "d1/notify/1", DealID: "d1", OrgID: org.ID.String(), Kind: "invited_to_quote", Text: "New inquiry."}); err != nil {
		t.Fatal(err)
	}
	d := &outbox.Dispatcher{Pool: pool, Notifier: sender, Now: func() time.Time { return time.Now().Add(time.Minute) }}
	if n, err := d.DeliverDue(ctx); err != nil || n != 1 {
		t.Fatalf("delivered %d: %v", n, err)
	}
	notes, err := q.DealNotifications(ctx, "d1")
	if err != nil || len(notes) != 1 || notes[0].DeliveredAt == nil {
		t.Fatalf("the notification after delivery: %+v %v", notes, err)
	}
	if got := sink.Messages(); len(got) != 1 || got[0].To[0] != "desk@supplier.example" {
		t.Fatalf("the sink holds %+v", got)
	}
}
