package devstack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/tradeloop/tradeloop/internal/seed"
	"github.com/tradeloop/tradeloop/workflows"
)

// A user's first deal on the dev stack, over its API with the demo keys:
// shipped with the simulated carrier, it is delivered on its own and the
// inspection window opens; accepted, it completes. Every step reached its
// people: mails in the stack's sink, entries in each party's inbox, each
// in its user's language (the demo supplier reads Chinese, the buyer
// English), and signed deliveries at both parties' webhook endpoints.
func TestDevStackDealIsDeliveredByTheSimulatedCarrier(t *testing.T) {
	cfg := testConfig(t)
	cfg.Tracking.SimStep = 200 * time.Millisecond
	cfg.Dev.TrackingPoll = time.Second
	run := start(t, cfg)
	key := map[string]seed.Demo{}
	for _, d := range run.info.DemoUsers {
		key[d.Role] = d
	}
	call := func(role, method, path string, body any) workflows.DealState {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, run.info.APIURL+path, rd)
		req.Header.Set("Authorization", "Bearer "+key[role].Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s as %s: %d %s", method, path, role, resp.StatusCode, raw)
		}
		var out struct {
			workflows.DealState
			Deal *workflows.DealState `json:"deal"`
		}
		_ = json.Unmarshal(raw, &out)
		if out.Deal != nil {
			return *out.Deal
		}
		return out.DealState
	}
	st := call("buyer", "POST", "/v1/deals", map[string]any{"product": "ceramic mugs", "quantity": 500, "currency": "EUR",
		"suppliers": []string{key["supplier"].OrgID.String()}})
	id := "/v1/deals/" + st.DealID
	st = call("supplier", "POST", id+"/quotes", map[string]any{"tiers": []map[string]int{{"min_quantity": 100, "unit_price": 320}},
		"lead_time_days": 14, "valid_till": time.Now().Add(time.Hour)})
	st = call("buyer", "POST", id+"/quotes/"+st.Quotes[0].ID+"/accept", nil)
	call("buyer", "POST", id+"/contract/sign", map[string]string{"terms_sha256": st.Contract.TermsSHA256})
	call("supplier", "POST", id+"/contract/sign", map[string]string{"terms_sha256": st.Contract.TermsSHA256})
	call("buyer", "POST", id+"/payments/deposit", nil)
	call("supplier", "POST", id+"/ready", nil)
	call("buyer", "POST", id+"/payments/balance", nil)
	call("supplier", "POST", id+"/shipment", map[string]string{"carrier": "dhl", "tracking_number": "JD014600006281"})
	deadline := time.Now().Add(45 * time.Second)
	for {
		st = call("buyer", "GET", id, nil)
		if st.Stage == workflows.StageInspection {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shipment was not delivered on its own: stage %s, shipment %+v", st.Stage, st.Shipment)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st.Shipment.DeliveredAt.IsZero() || len(st.Shipment.Events) != 5 || st.Deadlines["inspection_ends_at"].IsZero() {
		t.Fatalf("shipment %+v deadlines %v", st.Shipment, st.Deadlines)
	}
	if st.Escrow.Held != 160_000 {
		t.Fatalf("escrow %+v, want the 160,000 paid in the sandbox held", st.Escrow)
	}
	call("buyer", "POST", id+"/accept", nil)

	// What each party was told, by kind, as its user reads it.
	buyerKinds := map[string]string{
		"quote_submitted": "Quote q1 from ", "contract_ready": "The contract is ready to sign.",
		"deposit_due": "Pay the EUR 480.00 deposit within 3 days.", "balance_due": "pay the EUR 1,120.00 balance within",
		"goods_shipped": "Your goods are on their way: dhl JD014600006281", "goods_delivered": "Your goods were delivered",
	}
	supplierKinds := map[string]string{
		"invited_to_quote": "新询盘：ceramic mugs 500", "quote_accepted": "已被接受", "contract_ready": "合同已准备好，请签署。",
		"deposit_secured": "定金已进入托管：请开始生产。最迟发货日期：", "balance_paid": "尾款已进入托管",
		"stage_changed": "ceramic mugs 的交易当前状态：已完成。",
	}
	type entry struct{ Kind, Title, Text string }
	inbox := func(role string) map[string][]entry {
		req, _ := http.NewRequest("GET", run.info.APIURL+"/v1/notifications?limit=200", nil)
		req.Header.Set("Authorization", "Bearer "+key[role].Key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var page struct{ Notifications []entry }
		_ = json.NewDecoder(resp.Body).Decode(&page)
		out := map[string][]entry{}
		for _, e := range page.Notifications {
			out[e.Kind] = append(out[e.Kind], e)
		}
		return out
	}
	told := func(got map[string][]entry, want map[string]string) string {
		for kind, words := range want {
			found := false
			for _, e := range got[kind] {
				found = found || strings.Contains(e.Text, words)
			}
			if !found {
				return fmt.Sprintf("%s saying %q (has %+v)", kind, words, got[kind])
			}
		}
		return ""
	}
	// The dispatcher delivers each round within its next tick; the bound
	// only keeps a broken stack from hanging the test.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		missing := told(inbox("buyer"), buyerKinds)
		if missing == "" {
			missing = told(inbox("supplier"), supplierKinds)
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an inbox lacks %s", missing)
		}
	}
	for _, entries := range inbox("buyer") {
		for _, e := range entries {
			if strings.ContainsFunc(e.Text+e.Title, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Errorf("the buyer, who reads English, got %+v", e)
			}
		}
	}
	for _, entries := range inbox("supplier") {
		for _, e := range entries {
			if !strings.ContainsFunc(e.Title, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
				t.Errorf("the supplier, who reads Chinese, got %+v", e)
			}
		}
	}
	// The mails: each party's in its language; both were mailed once the
	// inbox entries (written with the delivery) are there.
	_, page := get(t, run.info.MailURL+"?format=json")
	var mails []struct {
		To      []string
		Subject string
	}
	if err := json.Unmarshal([]byte(page), &mails); err != nil {
		t.Fatal(err)
	}
	subjects := map[string][]string{}
	for _, m := range mails {
		subjects[m.To[0]] = append(subjects[m.To[0]], m.Subject)
	}
	for who, want := range map[string][]string{
		key["buyer"].Email:    {"Tradeloop: Deposit due (" + st.DealID + ")", "Tradeloop: Goods delivered (" + st.DealID + ")"},
		key["supplier"].Email: {"Tradeloop：邀请报价（" + st.DealID + "）", "Tradeloop：定金已托管（" + st.DealID + "）"},
	} {
		for _, subject := range want {
			if !slices.Contains(subjects[who], subject) {
				t.Errorf("%s was not mailed %q: %q", who, subject, subjects[who])
			}
		}
	}
	// The webhook deliveries: signed, verified, at both endpoints.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		_, page := get(t, run.info.HooksURL+"?format=json")
		var got []struct {
			Endpoint string
			Verified bool
			Event    struct {
				Type   string
				DealID string `json:"deal_id"`
			} `json:"event"`
		}
		_ = json.Unmarshal([]byte(page), &got)
		seen := map[string]bool{}
		for _, d := range got {
			if !d.Verified {
				t.Fatalf("the receiver refused a delivery: %.300s", page)
			}
			if d.Event.DealID == st.DealID {
				seen[d.Endpoint+" "+d.Event.Type] = true
			}
		}
		if seen["buyer deposit_due"] && seen["buyer goods_delivered"] && seen["supplier invited_to_quote"] && seen["supplier balance_paid"] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook receiver has %v of the deal", seen)
		}
	}
}
