package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/tradeloop/tradeloop/activities"
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
		if r := p.do(who, "POST", "/v1/notifications/"+first+"/read", nil); r.status != 404 || r.errCode() != "not_found" {
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
