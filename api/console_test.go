package api

import (
	"bytes"
	"context"
	"errors"
	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/outbox"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tradeloop/tradeloop/db/store"
	"github.com/tradeloop/tradeloop/internal/signin"
	"github.com/tradeloop/tradeloop/workflows"
)

// consolePassword is every console test user's password.
const consolePassword = "correct horse battery"

// withPasswords gives the platform's users of who a console password.
func (p *platform) withPasswords(who ...string) {
	p.t.Helper()
	s := signin.New(p.pool)
	for _, w := range who {
		u, err := store.New(p.pool).GetUserByEmail(context.Background(), w+"@example.com")
		if err != nil {
			p.t.Fatal(err)
		}
		if err := s.SetPassword(context.Background(), u.ID, consolePassword); err != nil {
			p.t.Fatal(err)
		}
	}
}

// browserless is a client of the console that follows no redirects and
// keeps its cookies by hand (Go's cookie jar sends no Secure cookie over
// plain HTTP, which browsers do for loopback addresses).
type browserless struct {
	t       testing.TB
	base    string
	cookies map[string]string
}

type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browserless) do(method, path string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(raw), header: resp.Header}
}

// signIn signs who in and returns its session's CSRF token (from a page).
func (b *browserless) signIn(who string) string {
	b.t.Helper()
	b.do("GET", "/app/signin", nil)
	res := b.do("POST", "/app/signin", url.Values{"email": {who + "@example.com"}, "password": {consolePassword}, "csrf": {b.cookies["tl_signin"]}})
	if res.status != http.StatusSeeOther || b.cookies["tl_session"] == "" {
		b.t.Fatalf("sign in as %s: %d %.300s", who, res.status, res.body)
	}
	settings := b.do("GET", "/app/settings", nil)
	_, after, ok := strings.Cut(settings.body, `name="csrf" value="`)
	if !ok {
		b.t.Fatalf("no CSRF token on the settings page: %.300s", settings.body)
	}
	token, _, _ := strings.Cut(after, `"`)
	return token
}

// The console's doors: a page asks for sign-in and comes back after it; the
// sign-in form needs its own token; a wrong password is refused in words;
// a form without the session's CSRF token is refused and changes nothing;
// a page of another role is forbidden; another party's deal is not found;
// signing out ends the session.
func TestConsoleSignInCSRFAndRoles(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer", "supplier", "buyer2")
	id := p.newDeal(false, "supplier")
	b := &browserless{t: t, base: p.url, cookies: map[string]string{}}

	res := b.do("GET", "/app/deals/"+id, nil)
	if res.status != http.StatusSeeOther || res.location != "/app/signin?next=%2Fapp%2Fdeals%2F"+id {
		t.Fatalf("a page before sign-in: %d %q", res.status, res.location)
	}
	b.do("GET", "/app/signin", nil)
	if res := b.do("POST", "/app/signin", url.Values{"email": {"buyer@example.com"}, "password": {consolePassword}}); res.status != http.StatusForbidden {
		t.Fatalf("sign-in without its token: %d", res.status)
	}
	res = b.do("POST", "/app/signin", url.Values{"email": {"buyer@example.com"}, "password": {"not the password"}, "csrf": {b.cookies["tl_signin"]}})
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, "Wrong e-mail address or password.") {
		t.Fatalf("a wrong password: %d %.300s", res.status, res.body)
	}
	res = b.do("POST", "/app/signin", url.Values{"email": {"buyer@example.com"}, "password": {consolePassword}, "csrf": {b.cookies["tl_signin"]},
		"next": {"/app/deals/" + id}})
	if res.status != http.StatusSeeOther || res.location != "/app/deals/"+id {
		t.Fatalf("sign-in: %d %q", res.status, res.location)
	}
	for _, next := range []string{"https://evil.example/", "//evil.example", "/v1/deals", "/app\\@evil"} {
		b2 := &browserless{t: t, base: p.url, cookies: map[string]string{}}
		b2.do("GET", "/app/signin", nil)
		res := b2.do("POST", "/app/signin", url.Values{"email": {"buyer@example.com"}, "password": {consolePassword}, "csrf": {b2.cookies["tl_signin"]}, "next": {next}})
		if res.location != "/app" {
			t.Errorf("next %q sent the user to %q", next, res.location)
		}
	}
	deal := b.do("GET", "/app/deals/"+id, nil)
	if deal.status != http.StatusOK || !strings.Contains(deal.body, "taking quotes") || !strings.Contains(deal.body, "quote due") {
		t.Fatalf("the deal page: %d %.500s", deal.status, deal.body)
	}
	csrf := b.signIn("buyer")
	if res := b.do("POST", "/app/settings", url.Values{"language": {"zh"}, "time_zone": {"Asia/Shanghai"}}); res.status != http.StatusForbidden ||
		!strings.Contains(res.body, "This form has expired") {
		t.Fatalf("a form without its CSRF token: %d %.300s", res.status, res.body)
	}
	if res := b.do("POST", "/app/settings", url.Values{"language": {"zh"}, "csrf": {"forged"}}); res.status != http.StatusForbidden {
		t.Fatalf("a forged CSRF token: %d", res.status)
	}
	if home := b.do("GET", "/app", nil); !strings.Contains(home.body, "Your deals") {
		t.Fatalf("the refused forms changed the language: %.300s", home.body)
	}
	if res := b.do("POST", "/app/settings", url.Values{"language": {"zh"}, "time_zone": {"Mars/Base"}, "csrf": {csrf}}); res.status != http.StatusUnprocessableEntity ||
		!strings.Contains(res.body, `id="time_zone-error"`) {
		t.Fatalf("a bad time zone: %d %.300s", res.status, res.body)
	}
	if res := b.do("POST", "/app/settings", url.Values{"language": {"zh"}, "time_zone": {"Asia/Shanghai"}, "csrf": {csrf}}); res.status != http.StatusSeeOther {
		t.Fatalf("settings: %d %.300s", res.status, res.body)
	}
	if home := b.do("GET", "/app", nil); !strings.Contains(home.body, "您的交易") || !strings.Contains(home.body, `lang="zh"`) {
		t.Fatalf("the home page in Chinese: %.500s", home.body)
	}
	if res := b.do("GET", "/app/mediation", nil); res.status != http.StatusForbidden || !strings.Contains(res.body, "您的角色无法访问此页面") {
		t.Fatalf("a mediator's page for a buyer: %d %.300s", res.status, res.body)
	}
	other := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	other.signIn("buyer2")
	if res := other.do("GET", "/app/deals/"+id, nil); res.status != http.StatusNotFound {
		t.Fatalf("another buyer's deal: %d", res.status)
	}
	if res := b.do("POST", "/app/signout", url.Values{"csrf": {csrf}}); res.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", res.status)
	}
	if res := b.do("GET", "/app", nil); res.status != http.StatusSeeOther {
		t.Fatalf("after signing out: %d", res.status)
	}
}

// A user sets its console password with its API key: held to the rules;
// setting it ends the user's console sessions; the new one signs in.
func TestAUserSetsItsConsolePasswordThroughTheAPI(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier")
	b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	b.signIn("supplier")
	for _, body := range []string{`{"password":"short"}`, `{"password":"` + strings.Repeat("x", 300) + `"}`, `{}`, `{"password":123}`} {
		if res := p.do("supplier", "PUT", "/v1/users/me/password", body); res.status != http.StatusUnprocessableEntity && res.status != http.StatusBadRequest {
			t.Errorf("%.40s: %d %s", body, res.status, res.body)
		}
	}
	var set struct {
		PasswordSet   bool  `json:"password_set"`
		SessionsEnded int64 `json:"sessions_ended"`
	}
	p.must(http.StatusOK, p.do("supplier", "PUT", "/v1/users/me/password", `{"password":"a new and long password"}`)).json(t, &set)
	if !set.PasswordSet || set.SessionsEnded != 1 {
		t.Fatalf("%+v", set)
	}
	if res := b.do("GET", "/app", nil); res.status != http.StatusSeeOther {
		t.Fatalf("the session from before the change: %d", res.status)
	}
	b.do("GET", "/app/signin", nil)
	res := b.do("POST", "/app/signin", url.Values{"email": {"supplier@example.com"}, "password": {"a new and long password"}, "csrf": {b.cookies["tl_signin"]}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("sign in with the new password: %d", res.status)
	}
}

// An action the platform refuses shows its reason on the deal's page; a
// party not in the deal cannot act on it (not found); a form without the
// session's token does nothing.
func TestConsoleActionsAreRefusedAsTheAPIRefusesThem(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier", "supplier2")
	id := p.newDeal(false, "supplier")
	b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := b.signIn("supplier")
	res := b.do("POST", "/app/deals/"+id+"/sign", url.Values{"csrf": {csrf}, "terms_sha256": {strings.Repeat("0", 64)}})
	if res.status != http.StatusConflict || !strings.Contains(res.body, "Not done: ") {
		t.Fatalf("signing before there is a contract: %d %.400s", res.status, res.body)
	}
	if res := b.do("POST", "/app/deals/"+id+"/quote", url.Values{"unit_price": {"3.90"}, "lead_time_days": {"21"}}); res.status != http.StatusForbidden {
		t.Fatalf("a quote without the CSRF token: %d", res.status)
	}
	var st workflows.DealState
	p.must(http.StatusOK, p.do("supplier", "GET", "/v1/deals/"+id, nil)).json(t, &st)
	if len(st.Quotes) != 0 {
		t.Fatalf("the refused form quoted: %+v", st.Quotes)
	}
	stranger := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	token := stranger.signIn("supplier2")
	if res := stranger.do("POST", "/app/deals/"+id+"/quote", url.Values{"unit_price": {"3.90"}, "lead_time_days": {"21"}, "csrf": {token}}); res.status != http.StatusNotFound {
		t.Fatalf("a supplier not invited quoting: %d %.300s", res.status, res.body)
	}
	if res := b.do("POST", "/app/deals/"+id+"/quote", url.Values{"unit_price": {"3.90"}, "lead_time_days": {"21"}, "csrf": {csrf}}); res.status != http.StatusSeeOther {
		t.Fatalf("the invited supplier's quote: %d %.300s", res.status, res.body)
	}
}

// The dispute's forms are held to the API's rules: a reason too long, a
// piece of evidence with a control character or more pieces than a
// dispute takes are refused next to their field and open nothing; only a
// mediator decides, and only on a dispute sent to mediation.
func TestConsoleDisputeFormsKeepTheAPIsRules(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer", "supplier", "mediator")
	id := p.delivered("GOODS-3")
	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := buyer.signIn("buyer")
	many := strings.Repeat("photo\n", 1000)
	for name, form := range map[string]url.Values{
		"a reason of 10,000 characters": {"reason": {strings.Repeat("x", 10_000)}},
		"evidence with a NUL":           {"reason": {"wrong colour"}, "evidence": {"photo\x00.jpg"}},
		"1,000 pieces of evidence":      {"reason": {"wrong colour"}, "evidence": {many}},
	} {
		form.Set("csrf", csrf)
		res := buyer.do("POST", "/app/deals/"+id+"/dispute", form)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `aria-invalid="true"`) || !strings.Contains(res.body, "Not done: ") {
			t.Errorf("%s: %d, refused at its field: %v: %.300s", name, res.status, strings.Contains(res.body, `aria-invalid="true"`), res.body)
		}
	}
	if st := p.deal("buyer", id); st.Stage != workflows.StageInspection || st.Dispute != nil {
		t.Fatalf("refused forms opened a dispute: %s", st.Stage)
	}
	mediator := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	token := mediator.signIn("mediator")
	decide := url.Values{"outcome": {"refund"}, "confirm": {"1"}}
	decide.Set("csrf", token)
	if res := mediator.do("POST", "/app/deals/"+id+"/decision", decide); res.status != http.StatusNotFound {
		t.Errorf("a decision on a deal not in mediation: %d", res.status)
	}
	decide.Set("csrf", csrf)
	if res := buyer.do("POST", "/app/deals/"+id+"/decision", decide); res.status != http.StatusForbidden {
		t.Errorf("a buyer deciding: %d", res.status)
	}
	if res := buyer.do("POST", "/app/deals/"+id+"/dispute", url.Values{"csrf": {csrf}, "reason": {"wrong colour"}}); res.status != http.StatusSeeOther {
		t.Fatalf("a dispute with a reason: %d %.300s", res.status, res.body)
	}
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/dispute/escalate"), nil))
	decide.Set("csrf", token)
	decide.Set("outcome", "split")
	decide.Set("release_amount", "7,800")
	if res := mediator.do("POST", "/app/deals/"+id+"/decision", decide); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "release_amount-error") {
		t.Errorf("a split of everything held, confirmed without review: %d", res.status)
	}
	decide.Set("outcome", "refund")
	if res := mediator.do("POST", "/app/deals/"+id+"/decision", decide); res.status != http.StatusSeeOther {
		t.Fatalf("the mediator's refund: %d %.300s", res.status, res.body)
	}
	if st := p.deal("buyer", id); st.Stage != workflows.StageResolved || st.Dispute.Decision == nil || st.Dispute.Decision.Outcome != workflows.OutcomeRefund {
		t.Fatalf("after the decision: %s", st.Stage)
	}
}

// The buyer downloads the quote comparison from the deal's page as CSV,
// Excel and PDF, with the suppliers' names and the money as people read
// it; the supplier may not, nor another buyer, nor a format the console
// does not make.
func TestConsoleDownloadsTheQuoteComparison(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer", "supplier", "buyer2")
	id := p.newDeal(false, "supplier", "supplier2")
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody()))
	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	if page := buyer.do("GET", "/app/deals/"+id, nil); !strings.Contains(page.body, "/comparison/pdf") {
		t.Fatalf("the buyer's deal page has no comparison downloads: %.300s", page.body)
	}
	for format, want := range map[string]string{"csv": "supplier org", "xlsx": "PK\x03\x04", "pdf": "%PDF-"} {
		res := buyer.do("GET", "/app/deals/"+id+"/comparison/"+format, nil)
		if res.status != http.StatusOK || !strings.Contains(res.body, want) {
			t.Errorf("the comparison as %s: %d, %q not in %.200q", format, res.status, want, res.body)
		}
	}
	if csv := buyer.do("GET", "/app/deals/"+id+"/comparison/csv", nil).body; !strings.Contains(csv, "USD 7,800.00") {
		t.Errorf("the CSV has no total in money: %.400s", csv)
	}
	if res := buyer.do("GET", "/app/deals/"+id+"/comparison/exe", nil); res.status != http.StatusNotFound {
		t.Errorf("an unknown format: %d", res.status)
	}
	for who, status := range map[string]int{"supplier": http.StatusForbidden, "buyer2": http.StatusNotFound} {
		b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
		b.signIn(who)
		if res := b.do("GET", "/app/deals/"+id+"/comparison/csv", nil); res.status != status {
			t.Errorf("%s downloading the comparison: %d, want %d", who, res.status, status)
		}
	}
}

// The console's catalog upload keeps the API's rules: a file that is not
// CSV or Excel, one larger than an import may be, and one named with a
// path are refused or read by their name's extension alone, and nothing
// of a refused file is stored; only suppliers import.
func TestConsoleCatalogUploadsAreChecked(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier", "buyer")
	b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := b.signIn("supplier")
	upload := func(b *browserless, csrf, name string, content []byte) page {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		_ = mw.WriteField("csrf", csrf)
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write(content)
		_ = mw.Close()
		req, _ := http.NewRequest("POST", b.base+"/app/catalog/import", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		for k, v := range b.cookies {
			req.AddCookie(&http.Cookie{Name: k, Value: v})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return page{status: resp.StatusCode, body: string(raw)}
	}
	for name, tc := range map[string]struct {
		file    string
		content []byte
		status  int
	}{
		"an executable":       {"catalog.exe", []byte("MZ\x90\x00"), http.StatusUnsupportedMediaType},
		"no extension":        {"catalog", []byte(catalogCSV), http.StatusUnsupportedMediaType},
		"a file of 17 MB":     {"catalog.csv", append([]byte(catalogCSV), bytes.Repeat([]byte("x"), 17<<20)...), http.StatusRequestEntityTooLarge},
		"an xlsx that is CSV": {"catalog.xlsx", []byte(catalogCSV), http.StatusBadRequest},
	} {
		if res := upload(b, csrf, tc.file, tc.content); res.status != tc.status {
			t.Errorf("%s: %d, want %d: %.300s", name, res.status, tc.status, res.body)
		}
	}
	var n int
	if err := p.pool.QueryRow(t.Context(), "SELECT count(*) FROM products").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d products stored from refused files (%v)", n, err)
	}
	if res := upload(b, csrf, "../../etc/catalog.csv", []byte(catalogCSV)); res.status != http.StatusOK || !strings.Contains(res.body, "2 products listed") {
		t.Errorf("a file named with a path: %d %.300s", res.status, res.body)
	}
	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	if res := upload(buyer, buyer.signIn("buyer"), "catalog.csv", []byte(catalogCSV)); res.status != http.StatusForbidden {
		t.Errorf("a buyer importing: %d", res.status)
	}
}

// A sign-in link's mail is its user's alone: delivered, it is in no inbox
// and no webhook delivery of its organization, its link is no longer
// kept in the outbox, and its stored text holds no link; a reset is
// queued at most once a minute per user; a link of a user set at
// once ends the older one.
func TestSignInLinksGoToTheirUserAlone(t *testing.T) {
	p := newPlatform(t)
	ctx := context.Background()
	if _, err := p.pool.Exec(ctx, `INSERT INTO webhook_endpoints (org_id, url, secret) VALUES ($1, 'https://hooks.example/x', 's')`, p.orgs["buyer"]); err != nil {
		t.Fatal(err)
	}
	s := signin.New(p.pool)
	for range 3 {
		if err := s.SendReset(ctx, "buyer@example.com", "https://tradeloop.example"); err != nil {
			t.Fatal(err)
		}
	}
	var queued int
	var text string
	if err := p.pool.QueryRow(ctx, `SELECT count(*), max(text) FROM notification_outbox WHERE kind = 'password_reset'`).Scan(&queued, &text); err != nil || queued != 1 {
		t.Fatalf("%d resets queued for three asks within a minute (%v)", queued, err)
	}
	if strings.Contains(text, "http") {
		t.Errorf("the outbox's text holds the link: %q", text)
	}
	first := p.mailedLink("password_reset", "buyer@example.com")
	u, err := store.New(p.pool).GetUserByEmail(ctx, "buyer@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendLink(ctx, u.ID, signin.Reset, "https://tradeloop.example"); err != nil {
		t.Fatal(err)
	}
	token := func(link string) string {
		parsed, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		return parsed.Query().Get("token")
	}
	if _, err := s.UseLink(ctx, token(first), signin.Reset, "a-new-password-1"); !errors.Is(err, signin.ErrBadLink) {
		t.Errorf("an older link after a newer one: %v", err)
	}
	d := &outbox.Dispatcher{Pool: p.pool, Notifier: activities.LogNotifier{Logger: slog.New(slog.DiscardHandler)}}
	if _, err := d.DeliverDue(ctx); err != nil {
		t.Fatal(err)
	}
	var inboxed, hooked, kept int
	if err := p.pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM inbox i JOIN notification_outbox n ON n.key = i.key WHERE n.kind = 'password_reset'),
		(SELECT count(*) FROM webhook_deliveries w JOIN notification_outbox n ON n.key = w.key WHERE n.kind = 'password_reset'),
		(SELECT count(*) FROM notification_outbox WHERE kind = 'password_reset' AND facts IS NOT NULL)`).Scan(&inboxed, &hooked, &kept); err != nil {
		t.Fatal(err)
	}
	if inboxed != 0 || hooked != 0 || kept != 0 {
		t.Errorf("after delivery: %d inbox entries, %d webhook deliveries, %d links kept; want none", inboxed, hooked, kept)
	}
}

// A party downloads the deal's summary (CSV, Excel, PDF) and its contract
// (PDF) from the deal's page, with the organizations' names and money as
// people read them; a supplier not awarded gets no contract, a stranger
// nothing.
func TestConsoleDealDocuments(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer", "supplier", "supplier2", "buyer2")
	id := p.delivered("GOODS-4")
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/accept"), nil))
	base := "/app/deals/" + id + "/documents/"
	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	if page := buyer.do("GET", "/app/deals/"+id, nil); !strings.Contains(page.body, base+"contract/pdf") {
		t.Fatalf("the deal page has no contract download")
	}
	csv := buyer.do("GET", base+"summary/csv", nil)
	for _, want := range []string{"buyer org", "supplier org", "USD 7,800.00", "USD 2,340.00"} {
		if csv.status != http.StatusOK || !strings.Contains(csv.body, want) {
			t.Errorf("the summary lacks %q: %d %.500s", want, csv.status, csv.body)
		}
	}
	for path, magic := range map[string]string{"summary/xlsx": "PK\x03\x04", "summary/pdf": "%PDF-", "contract/pdf": "%PDF-"} {
		if res := buyer.do("GET", base+path, nil); res.status != http.StatusOK || !strings.HasPrefix(res.body, magic) {
			t.Errorf("%s: %d", path, res.status)
		}
	}
	for _, path := range []string{"contract/csv", "summary/exe", "invoice/pdf"} {
		if res := buyer.do("GET", base+path, nil); res.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.status)
		}
	}
	other := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	other.signIn("supplier2")
	if res := other.do("GET", base+"contract/pdf", nil); res.status != http.StatusNotFound {
		t.Errorf("a supplier not awarded downloading the contract: %d", res.status)
	}
	if res := other.do("GET", base+"summary/csv", nil); strings.Contains(res.body, "USD 7,800.00") {
		t.Errorf("a supplier not awarded reads the deal's money: %.300s", res.body)
	}
	stranger := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	stranger.signIn("buyer2")
	if res := stranger.do("GET", base+"summary/pdf", nil); res.status != http.StatusNotFound {
		t.Errorf("another buyer downloading the summary: %d", res.status)
	}
}

// A dispute that reached mediation when no mediator could be chosen
// shows to every mediator with a button to take it; the mediator who
// takes it has it alone: the other no longer lists or opens it, and
// cannot take it any more.
func TestConsoleMediatorTakesADisputeAssignedToNoOne(t *testing.T) {
	p := newPlatform(t)
	p.addUser("mediator2", "mediator", "")
	p.withPasswords("mediator", "mediator2")
	id := p.delivered("GOODS-T1")
	p.mediators.none.Store(true)
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/dispute"), map[string]any{"reason": "wrong colour"}))
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/dispute/escalate"), nil))
	first := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	firstToken := first.signIn("mediator")
	second := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	secondToken := second.signIn("mediator2")
	for _, b := range []*browserless{first, second} {
		if page := b.do("GET", "/app/mediation", nil); !strings.Contains(page.body, id) {
			t.Fatalf("an unassigned dispute missing from a mediator's list: %.300s", page.body)
		}
		if page := b.do("GET", "/app/deals/"+id, nil); !strings.Contains(page.body, `id="take-case"`) {
			t.Fatalf("no button to take the dispute: %.300s", page.body)
		}
	}
	if res := second.do("POST", "/app/deals/"+id+"/dispute/take", url.Values{"csrf": {secondToken}}); res.status != http.StatusSeeOther {
		t.Fatalf("taking the dispute: %d %.300s", res.status, res.body)
	}
	if page := second.do("GET", "/app/deals/"+id, nil); page.status != http.StatusOK || strings.Contains(page.body, `id="take-case"`) || !strings.Contains(page.body, `id="decide"`) {
		t.Errorf("the deal page of the mediator who took it: %d", page.status)
	}
	if page := first.do("GET", "/app/mediation", nil); strings.Contains(page.body, id) {
		t.Errorf("a dispute taken by another still in the mediator's list")
	}
	if page := first.do("GET", "/app/deals/"+id, nil); page.status != http.StatusNotFound {
		t.Errorf("a dispute taken by another opens: %d", page.status)
	}
	if res := first.do("POST", "/app/deals/"+id+"/dispute/take", url.Values{"csrf": {firstToken}}); res.status != http.StatusNotFound {
		t.Errorf("taking a dispute another took: %d", res.status)
	}
	if st := p.deal("buyer", id); st.Dispute.MediatorID != p.users["mediator2"].String() {
		t.Errorf("the dispute is assigned to %q", st.Dispute.MediatorID)
	}
}

// With payments at Stripe, the console's pay button leads to Stripe's
// own form: a page, never cached, whose CSP lets Stripe.js alone in,
// holding the payment's client secret, the platform's publishable key and
// the way back to the deal; the deal's page itself never holds the
// secret. Without a publishable key the page says where to pay instead.
func TestConsolePaysThroughStripesForm(t *testing.T) {
	for _, key := range []string{"pk_test_console", ""} {
		p := stripePlatform(t, key)
		p.withPasswords("buyer")
		id := p.newDeal(false, "supplier")
		var st workflows.DealState
		p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
		p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/quotes/q1/accept"), nil)).json(t, &st)
		p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
		p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
		buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
		csrf := buyer.signIn("buyer")
		res := buyer.do("POST", "/app/deals/"+id+"/pay/deposit", url.Values{"csrf": {csrf}})
		if res.status != http.StatusOK || res.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("the payment page: %d, Cache-Control %q", res.status, res.header.Get("Cache-Control"))
		}
		if key == "" {
			if !strings.Contains(res.body, `id="pay-elsewhere"`) || strings.Contains(res.body, "_secret_stub") {
				t.Errorf("without a publishable key: %.400s", res.body)
			}
			continue
		}
		csp := res.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self' https://js.stripe.com;") || strings.Contains(csp, "unsafe") {
			t.Errorf("the payment page's CSP: %q", csp)
		}
		for _, want := range []string{`data-publishable-key="pk_test_console"`, `_secret_stub"`, `data-return-url="https://trade.example/app/deals/` + id + `"`,
			`<script src="https://js.stripe.com/v3/" defer>`, "USD 2,340.00"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("the payment page lacks %s: %.600s", want, res.body)
			}
		}
		page := buyer.do("GET", "/app/deals/"+id, nil)
		if strings.Contains(page.body, "_secret_stub") || strings.Contains(page.header.Get("Content-Security-Policy"), "stripe") {
			t.Errorf("the deal's page holds the secret or lets Stripe in")
		}
		if st := p.deal("buyer", id); st.Stage != workflows.StageDeposit || len(st.Payments) != 1 || st.Payments[0].Status != workflows.PaymentPending {
			t.Errorf("the deposit waits at Stripe: %s %+v", st.Stage, st.Payments)
		}
	}
}
