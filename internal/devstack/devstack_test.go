package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tradeloop/tradeloop/internal/config"
	"github.com/tradeloop/tradeloop/internal/freeport"
	"github.com/tradeloop/tradeloop/internal/historycodec"
	"github.com/tradeloop/tradeloop/internal/seed"
	"github.com/tradeloop/tradeloop/workflows"
)

func testConfig(t *testing.T) config.Config {
	t.Helper()
	// PostgreSQL may run as another user (when tests run as root): the data
	// dir's parents must be open to it, which t.TempDir's are not.
	dir, err := os.MkdirTemp("", "tradeloop-dev-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(map[string]string{"TRADELOOP_DATA_DIR": dir, "HTTP_ADDR": "127.0.0.1:0", "METRICS_ADDR": "127.0.0.1:0", "TRADELOOP_DEV_MAIL_ADDR": "127.0.0.1:0", "TRADELOOP_DEV_HOOKS_ADDR": "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*int{&cfg.Dev.TemporalPort, &cfg.Dev.UIPort, &cfg.Dev.PGPort} {
		if *p, err = freeport.Get(); err != nil {
			t.Fatal(err)
		}
	}
	return cfg
}

type running struct {
	info   Info
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg config.Config) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	up := make(chan Info, 1)
	logger := slog.New(slog.DiscardHandler)
	began := time.Now()
	go func() { r.done <- Run(ctx, cfg, logger, func(i Info) { up <- i }) }()
	select {
	case r.info = <-up:
	case err := <-r.done:
		t.Fatalf("dev stack did not start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("dev stack not up after 60s")
	}
	t.Logf("dev stack up in %s", time.Since(began))
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("dev stack stopped with %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("dev stack did not stop within 60s")
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func listening(port int) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func TestDevStackStartsStopsAndKeepsItsData(t *testing.T) {
	cfg := testConfig(t)
	first := start(t, cfg)

	if code, body := get(t, first.info.APIURL+"/readyz"); code != http.StatusOK || !strings.Contains(body, `"status":"ready"`) {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	// The demo buyer's key works against the API.
	req, _ := http.NewRequest("GET", first.info.APIURL+"/v1/deals", nil)
	req.Header.Set("Authorization", "Bearer "+first.info.DemoUsers[0].Key)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/deals with the demo buyer key: %v %v", err, resp)
	}
	// An inquiry to the demo supplier reaches its people: a mail in the
	// stack's mail sink, shown on its page, and an entry in its inbox, in
	// Chinese, the language its demo user reads; the demo buyer's stay
	// English.
	buyer, supplier := first.info.DemoUsers[0], first.info.DemoUsers[1]
	body := `{"product":"cotton t-shirts","quantity":500,"unit":"pcs","currency":"USD","suppliers":["` + supplier.OrgID.String() + `"]}`
	req, _ = http.NewRequest("POST", first.info.APIURL+"/v1/deals", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+buyer.Key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /v1/deals as the demo buyer: %v %v", err, resp)
	}
	var deal struct {
		DealID string `json:"deal_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&deal)
	resp.Body.Close()
	wantSubject := "Tradeloop：邀请报价（" + deal.DealID + "）"
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		_, page := get(t, first.info.MailURL+"?format=json")
		var mails []struct {
			To      []string
			Subject string
		}
		_ = json.Unmarshal([]byte(page), &mails)
		if len(mails) > 0 && mails[0].Subject == wantSubject && mails[0].To[0] == supplier.Email {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the mail sink holds %.500s, want %q to %s", page, wantSubject, supplier.Email)
		}
	}
	if code, page := get(t, first.info.MailURL); code != http.StatusOK || !strings.Contains(page, wantSubject) {
		t.Fatalf("mail page %d %.300s", code, page)
	}
	// The inbox entry commits with the delivery, just after the mail went.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		req, _ = http.NewRequest("GET", first.info.APIURL+"/v1/notifications", nil)
		req.Header.Set("Authorization", "Bearer "+supplier.Key)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var inbox struct {
			Notifications []struct {
				Kind, Text string
				DealID     string `json:"deal_id"`
			}
		}
		_ = json.NewDecoder(resp.Body).Decode(&inbox)
		resp.Body.Close()
		if len(inbox.Notifications) > 0 && inbox.Notifications[0].Kind == "invited_to_quote" && inbox.Notifications[0].DealID == deal.DealID {
			if want := "新询盘：cotton t-shirts 500 pcs。请在2小时内报价。"; inbox.Notifications[0].Text != want {
				t.Fatalf("the demo supplier's invitation reads %q, want %q", inbox.Notifications[0].Text, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo supplier's inbox: %+v", inbox)
		}
	}
	// And a signed webhook delivery at the demo supplier's endpoint, which
	// the stack's receiver verified.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		_, page := get(t, first.info.HooksURL+"?format=json")
		var got []struct {
			Endpoint string
			Verified bool
			Event    struct {
				Type, Text string
				DealID     string `json:"deal_id"`
				Facts      struct {
					Quantity int64
					Product  string
				}
			} `json:"event"`
		}
		_ = json.Unmarshal([]byte(page), &got)
		found := false
		for _, d := range got {
			if !d.Verified {
				t.Fatalf("the receiver refused a delivery: %.500s", page)
			}
			// An organization's systems get the English text and the
			// facts.
			found = found || d.Endpoint == "supplier" && d.Event.Type == "invited_to_quote" && d.Event.DealID == deal.DealID &&
				d.Event.Text == "New inquiry: 500 pcs of cotton t-shirts. Quote within 2 hours." && d.Event.Facts.Quantity == 500 && d.Event.Facts.Product == "cotton t-shirts"
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook receiver holds %.500s, want the supplier's invitation to %s", page, deal.DealID)
		}
	}
	if code, page := get(t, first.info.HooksURL); code != http.StatusOK || !strings.Contains(page, "signature verified") {
		t.Fatalf("webhook page %d %.300s", code, page)
	}

	// The console signs the demo buyer in with the demo password.
	signinPage, err := http.Get(first.info.APIURL + "/app/signin")
	if err != nil || signinPage.StatusCode != http.StatusOK {
		t.Fatalf("the console's sign-in page: %v %v", err, signinPage)
	}
	signinPage.Body.Close()
	var token string
	for _, c := range signinPage.Cookies() {
		if c.Name == "tl_signin" {
			token = c.Value
		}
	}
	form := url.Values{"email": {buyer.Email}, "password": {seed.DemoPassword}, "csrf": {token}}
	req, _ = http.NewRequest("POST", first.info.APIURL+"/app/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "tl_signin", Value: token})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signedIn, err := noRedirect.Do(req)
	if err != nil || signedIn.StatusCode != http.StatusSeeOther || signedIn.Header.Get("Location") != "/app" {
		t.Fatalf("the demo buyer's console sign-in: %v %v", err, signedIn)
	}
	signedIn.Body.Close()

	// Metrics are on their own listener, not the API's.
	if code, body := get(t, first.info.MetricsURL); code != http.StatusOK || !strings.Contains(body, "tradeloop_http_requests_total") {
		t.Fatalf("%s = %d %.200s", first.info.MetricsURL, code, body)
	}
	if code, _ := get(t, first.info.APIURL+"/metrics"); code != http.StatusNotFound {
		t.Fatalf("the API's listener serves /metrics: %d", code)
	}
	code, body := get(t, first.info.UIURL+"/api/v1/namespaces")
	var ns struct {
		Namespaces []struct {
			NamespaceInfo struct{ Name string } `json:"namespaceInfo"`
		} `json:"namespaces"`
	}
	if err := json.Unmarshal([]byte(body), &ns); code != http.StatusOK || err != nil {
		t.Fatalf("UI namespaces = %d %v: %.200s", code, err, body)
	}
	found := false
	for _, n := range ns.Namespaces {
		found = found || n.NamespaceInfo.Name == cfg.Temporal.Namespace
	}
	if !found {
		t.Fatalf("UI does not list namespace %q: %.300s", cfg.Temporal.Namespace, body)
	}

	// The UI decodes payloads at the API's codec, with the browser's
	// credentials, and the API lets the UI's origin call it.
	code, body = get(t, first.info.UIURL+"/api/v1/settings")
	var settings struct {
		Codec struct {
			Endpoint           string
			IncludeCredentials bool
			DefaultErrorLink   string
		}
	}
	if err := json.Unmarshal([]byte(body), &settings); code != http.StatusOK || err != nil {
		t.Fatalf("UI settings = %d %v: %.200s", code, err, body)
	}
	if c := settings.Codec; c.Endpoint != first.info.CodecURL || !c.IncludeCredentials || c.DefaultErrorLink != first.info.CodecURL+"/login" ||
		!strings.HasPrefix(c.Endpoint, first.info.APIURL) {
		t.Fatalf("UI codec settings %+v, want the API's %s", c, first.info.CodecURL)
	}
	preflight, _ := http.NewRequest(http.MethodOptions, first.info.CodecURL+"/decode", nil)
	preflight.Header.Set("Origin", first.info.UIURL)
	preflight.Header.Set("Access-Control-Request-Method", http.MethodPost)
	if resp, err := http.DefaultClient.Do(preflight); err != nil || resp.Header.Get("Access-Control-Allow-Origin") != first.info.UIURL {
		t.Fatalf("codec preflight from the UI: %v %v", err, resp)
	}
	if first.info.HistoryKeys != historycodec.DevKeys {
		t.Fatalf("history keys %q, want the dev key when HISTORY_KEYS is unset", first.info.HistoryKeys)
	}

	// A deal started in the first run must still be there in the second.
	// Its payloads are sealed with the dev key: the client needs the codec.
	codec, err := historycodec.Parse(historycodec.DevKeys)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := client.Dial(client.Options{HostPort: first.info.TemporalAddress, Namespace: cfg.Temporal.Namespace, DataConverter: codec.DataConverter(), ConnectionOptions: historycodec.ConnectionOptions()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := workflows.DealInput{
		DealID:    "keep",
		Inquiry:   workflows.Inquiry{BuyerOrgID: "b1", Product: "bolts", Quantity: 10, Currency: "EUR"},
		Suppliers: []workflows.Supplier{{OrgID: "s1", Tier: "gold"}},
	}
	if _, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.DealWorkflowID("keep"), TaskQueue: workflows.TaskQueue,
	}, workflows.DealWorkflowName, in); err != nil {
		t.Fatal(err)
	}
	// Each query gets its own bound: the stack's restart between them takes
	// as long as the machine makes it.
	stageOf := func(c client.Client) workflows.Stage {
		t.Helper()
		qctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		v, err := c.QueryWorkflow(qctx, workflows.DealWorkflowID("keep"), "", workflows.QueryState)
		if err != nil {
			t.Fatalf("query deal: %v", err)
		}
		var st workflows.DealState
		if err := v.Get(&st); err != nil {
			t.Fatal(err)
		}
		return st.Stage
	}
	if s := stageOf(tc); s != workflows.StageQuoting {
		t.Fatalf("stage %s in the first run", s)
	}
	tc.Close()

	// A second stack on the same data refuses to start and changes nothing.
	if err := Run(ctx, cfg, slog.New(slog.DiscardHandler), nil); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second stack on the same data dir: %v, want ErrAlreadyRunning", err)
	}

	first.stop(t)
	for name, port := range map[string]int{"postgres": cfg.Dev.PGPort, "temporal": cfg.Dev.TemporalPort, "ui": cfg.Dev.UIPort} {
		if listening(port) {
			t.Errorf("%s still listens on %d after stop", name, port)
		}
	}

	second := start(t, cfg)
	if len(second.info.DemoUsers) != 5 || second.info.DemoUsers[0].Key != first.info.DemoUsers[0].Key {
		t.Errorf("demo keys changed across restart")
	}
	tc2, err := client.Dial(client.Options{HostPort: second.info.TemporalAddress, Namespace: cfg.Temporal.Namespace, DataConverter: codec.DataConverter(), ConnectionOptions: historycodec.ConnectionOptions()})
	if err != nil {
		t.Fatal(err)
	}
	defer tc2.Close()
	if s := stageOf(tc2); s != workflows.StageQuoting {
		t.Fatalf("stage %s after restart", s)
	}
}
