package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/inbox"
	"github.com/tradeloop/tradeloop/internal/outbox"
	"github.com/tradeloop/tradeloop/workflows"
)

type inboxPage struct {
	Notifications []struct {
		ID, Kind, Text string
		DealID         string     `json:"deal_id"`
		ReadAt         *time.Time `json:"read_at"`
	}
	Unread int64
	Next   string
}

func (p *platform) inbox(who, query string) inboxPage {
	p.t.Helper()
	var page inboxPage
	p.must(http.StatusOK, p.do(who, "GET", "/v1/notifications"+query, nil)).json(p.t, &page)
	return page
}

func (pg inboxPage) kinds() []string {
	var out []string
	for _, n := range pg.Notifications {
		out = append(out, n.Kind)
	}
	return out
}

// deliverUntil runs the notification dispatcher until who's inbox holds
// every kind in want.
func (p *platform) deliverUntil(who string, want ...string) inboxPage {
	p.t.Helper()
	d := &outbox.Dispatcher{Pool: p.pool, Notifier: activities.LogNotifier{Logger: slog.New(slog.DiscardHandler)}}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := d.DeliverDue(context.Background()); err != nil {
			p.t.Fatal(err)
		}
		page := p.inbox(who, "")
		missing := false
		for _, k := range want {
			missing = missing || !slices.Contains(page.kinds(), k)
		}
		if !missing {
			return page
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s's inbox holds %v, want %v among them", who, page.kinds(), want)
		}
	}
}

// Each party's inbox holds its own notifications of a deal, unread first,
// and no one else's: a buyer or supplier outside the deal has none, and
// no one marks another's entry read.
func TestEachUserReadsAndMarksOnlyItsOwnInbox(t *testing.T) {
	p := newPlatform(t)
	id := p.newDeal(false, "supplier")
	var st workflows.DealState
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/quotes/"+st.Quotes[0].ID+"/accept"), nil))

	sup := p.deliverUntil("supplier", "invited_to_quote", "quote_accepted")
	buy := p.deliverUntil("buyer", string(workflows.EventQuoteSubmitted), "contract_ready")
	for who, page := range map[string]inboxPage{"supplier": sup, "buyer": buy} {
		if page.Unread != int64(len(page.Notifications)) {
			t.Errorf("%s: %d unread of %d", who, page.Unread, len(page.Notifications))
		}
		for _, n := range page.Notifications {
			if n.DealID != id || n.Text == "" || n.ReadAt != nil {
				t.Errorf("%s's entry %+v", who, n)
			}
		}
	}
	for _, n := range buy.Notifications {
		// The buyer reads who quoted by the supplier's name.
		if n.Kind == string(workflows.EventQuoteSubmitted) && !strings.Contains(n.Text, "from supplier org:") {
			t.Errorf("the buyer's quote notice %q does not name the supplier", n.Text)
		}
	}
	if slices.Contains(buy.kinds(), "quote_accepted") || slices.Contains(sup.kinds(), string(workflows.EventQuoteSubmitted)) {
		t.Fatalf("a party got the other's notification: buyer %v, supplier %v", buy.kinds(), sup.kinds())
	}
	for _, who := range []string{"buyer2", "supplier2", "mediator", "finance"} {
		if page := p.inbox(who, ""); len(page.Notifications) != 0 || page.Unread != 0 {
			t.Errorf("%s, outside the deal, reads %v", who, page.kinds())
		}
	}

	// Marking read: one's own entry only; it goes after the unread ones.
	first := sup.Notifications[0].ID
	for _, who := range []string{"buyer", "supplier2", "admin"} {
		if r := p.do(who, "POST", "/v1/notifications/"+first+"/read", nil); r.status != 404 || r.errCode() != "notification_not_found" {
			t.Errorf("%s marked the supplier's entry: %d %s", who, r.status, r.body)
		}
	}
	for _, bad := range []string{"not-an-id", "00000000-0000-0000-0000-000000000000", "%00"} {
		if r := p.do("supplier", "POST", "/v1/notifications/"+bad+"/read", nil); r.status != 404 {
			t.Errorf("marking %q: %d %s", bad, r.status, r.body)
		}
	}
	var marked struct {
		ID     string
		ReadAt *time.Time `json:"read_at"`
	}
	p.must(200, p.do("supplier", "POST", "/v1/notifications/"+first+"/read", nil)).json(t, &marked)
	if marked.ID != first || marked.ReadAt == nil {
		t.Fatalf("marked %+v", marked)
	}
	after := p.inbox("supplier", "")
	if last := after.Notifications[len(after.Notifications)-1]; last.ID != first || last.ReadAt == nil || after.Unread != sup.Unread-1 {
		t.Fatalf("after marking one read: %d unread, last entry %+v", after.Unread, last)
	}
	if buy2 := p.inbox("buyer", ""); buy2.Unread != buy.Unread {
		t.Fatalf("the supplier's reading changed the buyer's unread count: %d, was %d", buy2.Unread, buy.Unread)
	}

	// Pages of one entry each walk the whole inbox once.
	var walked []string
	for cursor, n := "", 0; n <= len(after.Notifications); n++ {
		page := p.inbox("supplier", "?limit=1&cursor="+cursor)
		for _, e := range page.Notifications {
			walked = append(walked, e.ID)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if len(walked) != len(after.Notifications) || walked[len(walked)-1] != first {
		t.Fatalf("pages of one walked %d entries ending at %s, want %d ending at %s", len(walked), walked[len(walked)-1], len(after.Notifications), first)
	}

	var all struct{ Marked int64 }
	p.must(200, p.do("supplier", "POST", "/v1/notifications/read", nil)).json(t, &all)
	if all.Marked != after.Unread || p.inbox("supplier", "").Unread != 0 {
		t.Fatalf("mark all read marked %d, want %d", all.Marked, after.Unread)
	}
}

// Paging parameters the API did not give out are refused with the field
// named; no key, no inbox.
func TestInboxRefusesBadPagingAndStrangers(t *testing.T) {
	p := newPlatform(t)
	for _, q := range []string{"?limit=0", "?limit=-1", "?limit=abc", fmt.Sprintf("?limit=%d", 201), "?limit=99999999999999999999",
		"?cursor=garbage!", "?cursor=dXwxfA", "?cursor=AAAA"} {
		r := p.do("buyer", "GET", "/v1/notifications"+q, nil)
		if r.status != 422 || r.errCode() != "invalid" {
			t.Errorf("GET /v1/notifications%s: %d %s", q, r.status, r.body)
		}
	}
	req, _ := http.NewRequest("GET", p.url+"/v1/notifications", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("without a key: %d", resp.StatusCode)
	}
}

// event is one Server-Sent Event.
type event struct{ name, id, data string }

// stream opens who's live notification stream; its events arrive on the
// channel, closed when the stream ends.
func (p *platform) stream(who string) (<-chan event, *http.Response) {
	p.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", p.url+"/v1/notifications/stream", nil)
	req.Header.Set("Authorization", "Bearer "+p.keys[who])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() {
		cancel()
		resp.Body.Close()
	})
	out := make(chan event, 100)
	if resp.StatusCode != http.StatusOK {
		close(out)
		return out, resp
	}
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		var e event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if e.name != "" {
					out <- e
				}
				e = event{}
			case strings.HasPrefix(line, "event: "):
				e.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				e.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				e.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return out, resp
}

func next(t *testing.T, events <-chan event, who string) event {
	t.Helper()
	select {
	case e, ok := <-events:
		if !ok {
			t.Fatalf("%s's stream ended", who)
		}
		return e
	case <-time.After(time.Minute):
		t.Fatalf("%s's stream: no event for a minute", who)
	}
	return event{}
}

// A live stream starts with the unread count and brings each new entry
// of its user's as it is delivered, and nobody else's; a user holds a
// few streams at once, not more; streams end when the server stops.
func TestLiveStreamBringsOnlyTheUsersOwnNewEntries(t *testing.T) {
	p := newPlatform(t)
	sup, resp := p.stream("supplier")
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, ct)
	}
	other, _ := p.stream("buyer2")
	for who, events := range map[string]<-chan event{"supplier": sup, "buyer2": other} {
		if e := next(t, events, who); e.name != "unread" || e.data != `{"unread":0}` {
			t.Fatalf("%s's first event %+v", who, e)
		}
	}

	id := p.newDeal(false, "supplier")
	p.deliverUntil("supplier", "invited_to_quote")
	e := next(t, sup, "supplier")
	var entry struct {
		ID     string
		DealID string `json:"deal_id"`
		Kind   string
	}
	if err := json.Unmarshal([]byte(e.data), &entry); err != nil || e.name != "notification" || entry.DealID != id ||
		entry.Kind != "invited_to_quote" || e.id != entry.ID {
		t.Fatalf("supplier's event %+v (%v)", e, err)
	}

	// buyer2's first notification is the one addressed to it: nothing of
	// the deal's came before.
	if _, err := p.pool.Exec(context.Background(), "INSERT INTO notification_outbox (key, deal_id, org_id, kind, text) VALUES ('test/notify/1', 'deal-x', $1, 'platform_news', 'For buyer2')",
		p.orgs["buyer2"].String()); err != nil {
		t.Fatal(err)
	}
	p.deliverUntil("buyer2", "platform_news")
	if e := next(t, other, "buyer2"); e.name != "notification" || !strings.Contains(e.data, "For buyer2") {
		t.Fatalf("buyer2's first notification %+v", e)
	}

	// Four more streams for the supplier, then no more.
	for range inbox.MaxStreamsPerUser - 1 {
		if _, r := p.stream("supplier"); r.StatusCode != 200 {
			t.Fatalf("a second stream: %d", r.StatusCode)
		}
	}
	if _, r := p.stream("supplier"); r.StatusCode != 429 {
		t.Fatalf("stream %d of one user: %d, want 429", inbox.MaxStreamsPerUser+1, r.StatusCode)
	}

	p.stopBackground()
	for who, events := range map[string]<-chan event{"supplier": sup, "buyer2": other} {
		for ended := false; !ended; {
			select {
			case _, ok := <-events:
				ended = !ok
			case <-time.After(time.Minute):
				t.Fatalf("%s's stream still open a minute after the server stopped streaming", who)
			}
		}
	}
}

// A user reads its channels per kind and turns those of deal kinds off;
// money and legal kinds stay on, whatever it sends.
func TestNotificationPreferencesThroughTheAPI(t *testing.T) {
	p := newPlatform(t)
	type prefs struct {
		Preferences []struct {
			Kind      string
			Class     string
			Mandatory bool
			Channels  map[string]bool
		}
	}
	var before prefs
	p.must(http.StatusOK, p.do("supplier", "GET", "/v1/notifications/preferences", nil)).json(t, &before)
	if len(before.Preferences) < 30 {
		t.Fatalf("%d kinds", len(before.Preferences))
	}
	var after prefs
	p.must(http.StatusOK, p.do("supplier", "PUT", "/v1/notifications/preferences",
		`{"changes":[{"kind":"invited_to_quote","channel":"email","enabled":false}]}`)).json(t, &after)
	for _, k := range after.Preferences {
		if k.Kind == "invited_to_quote" && (k.Channels["email"] || !k.Channels["inbox"] || k.Mandatory) {
			t.Errorf("%+v", k)
		}
		if k.Kind == "deposit_due" && (!k.Mandatory || !k.Channels["email"]) {
			t.Errorf("%+v", k)
		}
	}
	for _, body := range []string{
		`{"changes":[{"kind":"deposit_due","channel":"email","enabled":false}]}`,
		`{"changes":[{"kind":"dispute_opened","channel":"inbox","enabled":false}]}`,
		`{"changes":[{"kind":"nope","channel":"email","enabled":false}]}`,
		`{"changes":[{"kind":"goods_shipped","channel":"pigeon","enabled":false}]}`,
		`{"changes":[` + strings.Repeat(`{"kind":"goods_shipped","channel":"email","enabled":false},`, 250) + `{"kind":"goods_shipped","channel":"email","enabled":false}]}`,
	} {
		if res := p.do("supplier", "PUT", "/v1/notifications/preferences", body); res.status != http.StatusUnprocessableEntity {
			t.Errorf("%.80s: %d %s", body, res.status, res.body)
		}
	}
	// Another user's preferences are its own.
	var other prefs
	p.must(http.StatusOK, p.do("supplier2", "GET", "/v1/notifications/preferences", nil)).json(t, &other)
	for _, k := range other.Preferences {
		if k.Kind == "invited_to_quote" && !k.Channels["email"] {
			t.Error("supplier2 sees supplier's choice")
		}
	}
}

// A user chooses the language and time zone it reads its notifications
// in: its inbox then reads in Chinese, the other party's stays English;
// a language the catalogs lack or a zone that is not an IANA name is
// refused and changes nothing.
func TestEachUserReadsItsInboxInItsOwnLanguage(t *testing.T) {
	p := newPlatform(t)
	var me struct {
		UserID   string `json:"user_id"`
		Language string
		TimeZone string `json:"time_zone"`
		Role     string
	}
	p.must(http.StatusOK, p.do("supplier", "GET", "/v1/users/me", nil)).json(t, &me)
	if me.Language != "en" || me.TimeZone != "UTC" || me.Role != "supplier" || me.UserID == "" {
		t.Fatalf("a new user: %+v", me)
	}
	for _, body := range []string{
		`{"language":"fr"}`, `{"language":"zh\u0000"}`, `{"language":"` + strings.Repeat("zh", 500) + `"}`,
		`{"time_zone":"Local"}`, `{"time_zone":"Mars/Olympus_Mons"}`, `{"time_zone":"../../etc/passwd"}`,
		`{"time_zone":"Asia/Shanghai\u0000"}`, `{"time_zone":"` + strings.Repeat("A", 1000) + `"}`,
		`{"language":"zh","time_zone":"Nowhere"}`, `{"tz":"UTC"}`,
	} {
		res := p.do("supplier", "PUT", "/v1/users/me/reading", body)
		if res.status != http.StatusUnprocessableEntity && res.status != http.StatusBadRequest {
			t.Errorf("%.60s: %d %s", body, res.status, res.body)
		}
	}
	p.must(http.StatusOK, p.do("supplier", "GET", "/v1/users/me", nil)).json(t, &me)
	if me.Language != "en" || me.TimeZone != "UTC" {
		t.Fatalf("after refused changes: %+v", me)
	}
	p.must(http.StatusOK, p.do("supplier", "PUT", "/v1/users/me/reading", `{"language":"zh-CN","time_zone":"Asia/Shanghai"}`)).json(t, &me)
	if me.Language != "zh" || me.TimeZone != "Asia/Shanghai" {
		t.Fatalf("after the change: %+v", me)
	}
	// A field left out keeps its value.
	p.must(http.StatusOK, p.do("supplier", "PUT", "/v1/users/me/reading", `{"time_zone":"Asia/Shanghai"}`)).json(t, &me)
	if me.Language != "zh" {
		t.Fatalf("a time zone alone changed the language: %+v", me)
	}

	id := p.newDeal(false, "supplier")
	var st workflows.DealState
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
	sup := p.deliverUntil("supplier", "invited_to_quote")
	buy := p.deliverUntil("buyer", string(workflows.EventQuoteSubmitted))
	for _, n := range sup.Notifications {
		if n.Kind == "invited_to_quote" && (!strings.HasPrefix(n.Text, "新询盘：") || !strings.Contains(n.Text, "小时内报价")) {
			t.Errorf("the supplier's invitation reads %q", n.Text)
		}
	}
	for _, n := range buy.Notifications {
		if n.Kind == string(workflows.EventQuoteSubmitted) && !strings.HasPrefix(n.Text, "Quote q1 from ") {
			t.Errorf("the buyer's quote notice reads %q", n.Text)
		}
	}
	var raw struct {
		Notifications []map[string]any
	}
	p.must(http.StatusOK, p.do("supplier", "GET", "/v1/notifications", nil)).json(t, &raw)
	for _, n := range raw.Notifications {
		if n["kind"] == "invited_to_quote" {
			facts, _ := n["facts"].(map[string]any)
			if n["title"] != "邀请报价" || facts == nil || facts["deal"] != id {
				t.Errorf("the invitation's title and facts: %v %v", n["title"], facts)
			}
		}
	}
}
