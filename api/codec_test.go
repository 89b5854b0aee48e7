package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/tradeloop/tradeloop/internal/historycodec"
	"github.com/tradeloop/tradeloop/workflows"
)

const uiOrigin = "http://ui.tradeloop.test"

// A deal's history, read through the Temporal server's own API, holds no
// party text or payment input in clear; its search attributes stay
// readable; and the codec endpoint opens its payloads for finance only.
func TestHistoryIsEncryptedAndTheCodecEndpointOpensItForFinance(t *testing.T) {
	codec, err := historycodec.Parse(historycodec.DevKeys) // the key testenv's clients seal with
	if err != nil {
		t.Fatal(err)
	}
	p := newPlatform(t, func(d *Deps) { d.Codec, d.CodecOrigins = codec, []string{uiOrigin} })

	const product, specs, quoteNote = "Canary-Product-91c4 t-shirts", "Canary-Specs-5e2d organic", "Canary-QuoteNote-77ab"
	var st workflows.DealState
	p.must(http.StatusCreated, p.do("buyer", "POST", "/v1/deals", map[string]any{
		"product": product, "specs": specs, "quantity": 2000, "unit": "pcs", "currency": "USD", "destination": "Hamburg",
		"suppliers": []string{p.orgs["supplier"].String()},
	})).json(t, &st)
	id := st.DealID
	q := quoteBody()
	q["note"] = quoteNote
	p.must(200, p.do("supplier", "POST", p.path(id, "/quotes"), q)).json(t, &st)
	p.must(200, p.do("buyer", "POST", p.path(id, "/quotes/"+st.Quotes[0].ID+"/accept"), nil)).json(t, &st)
	hash := st.Contract.TermsSHA256
	p.must(200, p.do("buyer", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": hash}))
	p.must(200, p.do("supplier", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": hash}))
	p.must(200, p.do("buyer", "POST", p.path(id, "/payments/deposit"), nil))
	p.waitFor("buyer", id, func(s workflows.DealState) bool { return s.Stage == workflows.StageProduction })

	// The raw history, as the server stores and serves it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var events []*historypb.HistoryEvent
	it := p.tc.Client.GetWorkflowHistory(ctx, workflows.DealWorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		events = append(events, ev)
	}
	var sealed []*commonpb.Payload
	var chargeScheduled bool
	var upserts int
	summaries := map[string]bool{}
	for _, ev := range events {
		raw, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		for _, canary := range []string{"Canary-Product", "Canary-Specs", "Canary-QuoteNote", "Hamburg"} {
			if bytes.Contains(raw, []byte(canary)) {
				t.Errorf("event %d %s holds %q in clear", ev.GetEventId(), ev.GetEventType(), canary)
			}
		}
		if sum := ev.GetUserMetadata().GetSummary(); sum != nil {
			var text string
			if err := codec.DataConverter().FromPayload(sum, &text); err != nil {
				t.Fatalf("event %d: summary: %v", ev.GetEventId(), err)
			}
			summaries[ev.GetEventType().String()+": "+text] = true
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "Charge" {
			chargeScheduled = true
			for _, pl := range a.GetInput().GetPayloads() {
				if string(pl.GetMetadata()[converter.MetadataEncoding]) != historycodec.EncodingEncrypted {
					t.Errorf("the deposit charge's input is not encrypted: %s", pl.GetMetadata())
				}
			}
		}
		// The buyer's organization is a search attribute (BuyerId): it
		// stays readable, so visibility queries work.
		if a := ev.GetUpsertWorkflowSearchAttributesEventAttributes(); a != nil {
			upserts++
			for name, pl := range a.GetSearchAttributes().GetIndexedFields() {
				var v any
				if err := converter.GetDefaultDataConverter().FromPayload(pl, &v); err != nil {
					t.Errorf("event %d: search attribute %s unreadable: %v", ev.GetEventId(), name, err)
				}
				if s, _ := v.(string); name == "BuyerId" && s != p.orgs["buyer"].String() {
					t.Errorf("event %d: BuyerId %v", ev.GetEventId(), v)
				}
			}
		}
		if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
			sealed = append(sealed, a.GetInput().GetPayloads()...)
		}
	}
	if !chargeScheduled || len(sealed) == 0 || upserts == 0 {
		t.Fatalf("history of %d events: charge %v, start input %d payloads, %d search attribute upserts", len(events), chargeScheduled, len(sealed), upserts)
	}

	// Timers and money activities say what they are, for finance in the UI.
	for _, want := range []string{
		// The deal's first timers in a stage are the reminders before its
		// deadlines (a day ahead).
		"TimerStarted: remind: contract sign-by in 1 day",
		"TimerStarted: remind: deposit due in 1 day",
		"ActivityTaskScheduled: charge deposit USD 2,340.00",
		"MarkerRecorded: post deposit USD 2,340.00 into escrow", // a local activity
	} {
		if !summaries[want] {
			t.Errorf("no %q among the history's summaries %v", want, summaries)
		}
	}
	for s := range summaries {
		if strings.Contains(s, "AwaitWithTimeout") {
			t.Errorf("anonymous timer left: %s", s)
		}
	}

	// Search attributes are not payloads of the data converter: readable.
	desc, err := p.tc.Client.DescribeWorkflowExecution(ctx, workflows.DealWorkflowID(id), "")
	if err != nil {
		t.Fatal(err)
	}
	var stage string
	sa := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()["DealStage"]
	if err := converter.GetDefaultDataConverter().FromPayload(sa, &stage); err != nil || stage != string(workflows.StageProduction) {
		t.Fatalf("DealStage search attribute %q (%v), want readable %s", stage, err, workflows.StageProduction)
	}

	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: sealed})
	if err != nil {
		t.Fatal(err)
	}
	codecCall := func(who, path string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, p.url+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", uiOrigin)
		if who != "" {
			req.Header.Set("Authorization", "Bearer "+p.keys[who])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("Access-Control-Allow-Origin") != uiOrigin {
			t.Errorf("%s %s as %q: no CORS header for the UI's origin", http.MethodPost, path, who)
		}
		return resp.StatusCode, out
	}
	for _, who := range []string{"finance", "admin"} {
		status, out := codecCall(who, "/codec/decode")
		if status != http.StatusOK {
			t.Fatalf("decode as %s: %d %s", who, status, out)
		}
		var decoded commonpb.Payloads
		if err := protojson.Unmarshal(out, &decoded); err != nil {
			t.Fatalf("decode as %s: %v: %s", who, err, out)
		}
		if len(decoded.Payloads) != len(sealed) || !strings.Contains(string(decoded.Payloads[0].GetData()), "Canary-Product") {
			t.Fatalf("decode as %s gave %s", who, out)
		}
	}
	for who, want := range map[string]int{"": http.StatusUnauthorized, "buyer": http.StatusForbidden, "supplier": http.StatusForbidden, "mediator": http.StatusForbidden} {
		for _, path := range []string{"/codec/decode", "/codec/encode"} {
			if status, out := codecCall(who, path); status != want {
				t.Errorf("%s as %q: %d %s, want %d", path, who, status, out, want)
			} else if bytes.Contains(out, []byte("Canary")) {
				t.Errorf("%s as %q answered with the payload: %s", path, who, out)
			}
		}
	}

	// A browser signs in at /codec/login and then decodes with its cookie
	// alone; a party's key gets no cookie.
	signIn := func(who string) *http.Response {
		t.Helper()
		resp, err := http.PostForm(p.url+"/codec/login", url.Values{"key": {p.keys[who]}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := signIn("buyer"); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("buyer sign-in: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp := signIn("finance")
	if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 1 {
		t.Fatalf("finance sign-in: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	ck := resp.Cookies()[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/codec" {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/codec", ck)
	}
	req, _ := http.NewRequest(http.MethodPost, p.url+"/codec/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(ck)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("decode with the sign-in cookie: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}

	// The browser's preflight is answered without credentials, for the UI's
	// origin only.
	for origin, allowed := range map[string]bool{uiOrigin: true, "http://evil.test": false} {
		req, _ := http.NewRequest(http.MethodOptions, p.url+"/codec/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin") == origin && resp.Header.Get("Access-Control-Allow-Credentials") == "true"
		if resp.StatusCode != http.StatusNoContent || got != allowed {
			t.Errorf("preflight from %s: %d, allow-origin %q, credentials %q", origin, resp.StatusCode,
				resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials"))
		}
	}
}
