package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/workflows"
)

// browser starts headless Chromium (Debian's chromium package; .ci/run
// installs it where missing) with a window of width × height pixels.
func browser(t *testing.T, width, height int) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatal("Chromium is missing: install it (the README's prerequisites; .ci/run does)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.WindowSize(width, height), chromedp.Flag("lang", "en-US"))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	// A bound for a browser that hangs; every step waits for what it needs
	// on the page, not for time.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelTimeout)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// a11yCheck lists what the page does wrong for people using a keyboard,
// a screen reader or weak eyes: inputs without labels, links and buttons
// without text or out of the tab order, click handlers on other elements,
// and text with less than 4.5:1 contrast against its background.
const a11yCheck = `(() => {
  const problems = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const labelled = (el.id && document.querySelector('label[for="' + el.id + '"]')) || el.closest('label') ||
      el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!labelled) problems.push('unlabelled ' + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll('a, button')) {
    if (!el.textContent.trim() && !el.getAttribute('aria-label')) problems.push('no text: ' + el.outerHTML.slice(0, 80));
    if (el.tabIndex < 0) problems.push('not reachable by keyboard: ' + el.outerHTML.slice(0, 80));
  }
  if (document.querySelector('[onclick]')) problems.push('a click handler outside links and buttons');
  const lum = c => {
    const [r, g, b] = c.match(/[\d.]+/g).map(Number).slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = el => {
    for (let e = el; e; e = e.parentElement) {
      const c = getComputedStyle(e).backgroundColor;
      if (c && c !== 'transparent' && !/rgba\(.*,\s*0\)$/.test(c)) return c;
    }
    return 'rgb(255, 255, 255)';
  };
  for (const el of document.querySelectorAll('body *')) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const a = lum(getComputedStyle(el).color), b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ': ' + el.tagName + ' ' + el.textContent.trim().slice(0, 40));
  }
  return problems;
})()`

// tab drives one browser tab for a test, failing it at the first step
// that fails.
type tab struct {
	t    *testing.T
	ctx  context.Context
	name string
}

func (b tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", b.name, err)
	}
}

// swap clicks what css selects where htmx replaces part of the page
// instead of loading another, and waits for the part to settle: the page
// itself stays (a value set on window before is still there), and its
// address follows the part.
func (b tab) swap(css string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`window.__samePage = true; window.__settled = false;
		document.addEventListener('htmx:afterSettle', () => { window.__settled = true }, {once: true})`),
		chromedp.Click(chromedp.CSS(css)))
	// On another page __samePage is gone: the poll ends there too.
	b.do(chromedp.Poll[chromedp.Void](`window.__settled === true || window.__samePage !== true`))
	if same, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.__samePage === true`)); err != nil || !same {
		b.t.Fatalf("%s: %s loaded another page instead of swapping a part (%v)", b.name, css, err)
	}
}

// text is the text of the first element css selects, once visible.
func (b tab) text(css string) string {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(css)))
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		b.t.Fatalf("%s: text of %s: %v", b.name, css, err)
	}
	return strings.TrimSpace(s)
}

// accessible runs a11yCheck on the page and fails the test for what it
// finds.
func (b tab) accessible(page string) {
	b.t.Helper()
	problems, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](a11yCheck))
	if err != nil {
		b.t.Fatalf("%s: accessibility check: %v", page, err)
	}
	for _, p := range problems {
		b.t.Errorf("%s (%s): %s", page, b.name, p)
	}
}

// fits fails the test if the page scrolls sideways.
func (b tab) fits(page string) {
	b.t.Helper()
	w, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
	if err != nil {
		b.t.Fatalf("%s: %v", page, err)
	}
	if w[0] > w[1] {
		wide, _ := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('body *')]
			.filter(e => e.getBoundingClientRect().right > window.innerWidth && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth))
			.slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '') + ': ' + (e.textContent || '').trim().slice(0, 40))`))
		b.t.Errorf("%s is %d px wide in a %d px window (%s); too wide: %q", page, w[0], w[1], b.name, wide)
	}
}

// shot saves the page as docs/console/<name>.png when CONSOLE_SCREENSHOTS
// names the repository's root (the README shows them), and does nothing
// otherwise.
func (b tab) shot(name string) {
	b.t.Helper()
	root := os.Getenv("CONSOLE_SCREENSHOTS")
	if root == "" {
		return
	}
	img, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(root, "docs", "console", name+".png"), img, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// signIn fills and sends the sign-in form as who, and fails the test
// unless the page it loads is a signed-in one.
func (b tab) signIn(base, who string) {
	b.t.Helper()
	b.do(chromedp.Navigate(base + "/app"))
	b.signInAs(who+"@example.com", consolePassword)
}

// signInAs fills and sends the sign-in form on the page with email and
// password, and fails the test unless the page it loads is a signed-in
// one.
func (b tab) signInAs(email, password string) {
	b.t.Helper()
	b.do(
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
	)
	b.submit("main button[type=submit]")
	if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('nav[aria-label="main"]').length`)); err != nil || n != 1 {
		b.t.Fatalf("%s: signing in as %s did not reach a signed-in page (%v): %s", b.name, email, err, b.text("main"))
	}
}

// submit clicks the button css selects and waits for the page it loads.
func (b tab) submit(css string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS(css)))); err != nil {
		b.t.Fatalf("%s: submit %s: %v", b.name, css, err)
	}
	if failed, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.getElementById('failure') || {}).textContent || ''`)); err != nil || failed != "" {
		b.t.Fatalf("%s: submit %s: the console answered %q (%v)", b.name, css, failed, err)
	}
}

// The console in a real browser: a buyer at a desktop's width and a
// supplier at a phone's sign in, find the inquiry and its deadline, read
// the notification and mark it read, switch to Chinese; a forged form is
// refused and a mediator's page is forbidden; every page passes the
// accessibility check and fits the phone's width.
func TestConsoleInABrowser(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer", "supplier")
	id := p.newDeal(false, "supplier")
	p.deliverUntil("supplier", "invited_to_quote")

	desk := tab{t: t, ctx: browser(t, 1280, 900), name: "desktop"}
	desk.do(chromedp.Navigate(p.url+"/app"), chromedp.WaitVisible(chromedp.ID("email")))
	desk.accessible("the sign-in page")
	desk.signIn(p.url, "buyer")
	if h := desk.text("main h2"); h != "Your deals" {
		t.Fatalf("the buyer's home: %q", h)
	}
	desk.accessible("the buyer's home")
	desk.submit(fmt.Sprintf(`a[href="/app/deals/%s"]`, id))
	stage := desk.text("dd.stage")
	heading, countdown := desk.text("h1"), desk.text(".deadlines time[data-countdown]")
	if heading != "cotton t-shirts" || stage != "taking quotes" || !strings.HasPrefix(countdown, "in ") {
		t.Errorf("the deal page: %q, stage %q, countdown %q", heading, stage, countdown)
	}
	desk.accessible("the deal page")

	phone := tab{t: t, ctx: browser(t, 360, 740), name: "phone"}
	phone.signIn(p.url, "supplier")
	if h := phone.text("main h1"); h != "Inquiries to answer" {
		t.Fatalf("the supplier's home: %q", h)
	}
	if inquiry := phone.text("ul.deals li"); !strings.Contains(inquiry, "cotton t-shirts") || !strings.Contains(inquiry, "Quote due") {
		t.Errorf("the supplier's inquiry: %q", inquiry)
	}
	phone.fits("the supplier's home")
	phone.accessible("the supplier's home")
	phone.submit(`nav a[href="/app/notifications"]`)
	if notice := phone.text("ul.inbox li.unread p"); !strings.HasPrefix(notice, "New inquiry: ") {
		t.Errorf("the notification: %q", notice)
	}
	phone.fits("the notifications")
	phone.accessible("the notifications")
	phone.submit("ul.inbox li.unread button")
	if unread := phone.text("main > p"); unread != "0 unread" {
		t.Errorf("after marking it read: %q", unread)
	}
	phone.submit(`nav a[href="/app/settings"]`)
	phone.fits("the settings")
	phone.accessible("the settings")
	// A form whose CSRF token is not the session's is refused.
	phone.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('form.card input[name=csrf]').value = 'forged'; undefined`))
	if _, err := chromedp.Run(phone.ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Click(chromedp.CSS("form.card button[type=submit]")))); err != nil {
		t.Fatal(err)
	}
	if refused := phone.text("p.error"); !strings.Contains(refused, "This form has expired") {
		t.Errorf("a forged form: %q", refused)
	}
	phone.do(
		chromedp.Navigate(p.url+"/app/settings"),
		chromedp.WaitVisible(chromedp.ID("language")),
		chromedp.SetValue(chromedp.ID("language"), "zh"),
		chromedp.SetValue(chromedp.ID("time_zone"), "Asia/Shanghai"),
	)
	phone.submit("form.card button[type=submit]")
	if saved := phone.text("p.ok"); saved != "已保存。" {
		t.Errorf("after saving the settings: %q", saved)
	}
	if nav := phone.text("nav"); !strings.Contains(nav, "首页") || !strings.Contains(nav, "通知") {
		t.Errorf("the navigation after switching to Chinese: %q", nav)
	}
	phone.do(chromedp.Navigate(p.url + "/app/mediation"))
	if forbidden := phone.text("p.error"); !strings.Contains(forbidden, "您的角色无法访问此页面") {
		t.Errorf("a mediator's page for a supplier: %q", forbidden)
	}
}

// stage opens the deal's page until its stage reads want: a change the
// platform makes on its own (a payment confirmed, a shipment delivered)
// shows on a later load.
func (b tab) stage(base, id, want string) {
	b.t.Helper()
	for {
		b.do(chromedp.Navigate(base + "/app/deals/" + id))
		if got := b.text("dd.stage"); got == want {
			return
		} else if err := b.ctx.Err(); err != nil {
			b.t.Fatalf("%s: the deal never reached %q (last %q)", b.name, want, got)
		}
		b.do(chromedp.Sleep(100 * time.Millisecond))
	}
}

// A whole deal by clicking: the supplier quotes from a phone with a volume
// price and a sample price (a price it mistyped, a volume price above the
// unit price are refused next to their fields), the buyer counter-offers
// and the supplier reads it, the buyer accepts at a desk, asks for a
// sample, pays for it, the supplier ships it, the buyer approves it, both
// sign, the buyer pays the deposit, the supplier reports its progress (150
// % refused) and marks the goods ready, the buyer pays the balance, the
// supplier ships, and the buyer accepts the goods once the carrier
// delivers; the escrow is released.
func TestAWholeDealByClicking(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer", "supplier")
	p.must(http.StatusOK, p.do("supplier", "PUT", "/v1/suppliers/me", map[string]any{"categories": []string{"apparel"}}))
	buyer := tab{t: t, ctx: browser(t, 1280, 900), name: "buyer"}
	supplier := tab{t: t, ctx: browser(t, 360, 740), name: "supplier"}
	buyer.signIn(p.url, "buyer")
	supplier.signIn(p.url, "supplier")

	// The buyer sends the inquiry from its home; a quantity it mistyped is
	// refused at its field.
	buyer.shot("buyer-home")
	buyer.submit(`a[href="/app/inquiries/new"]`)
	buyer.accessible("the inquiry form")
	buyer.do(
		chromedp.SendKeys(chromedp.ID("product"), "cotton t-shirts"),
		chromedp.SendKeys(chromedp.ID("category"), "apparel"),
		chromedp.SendKeys(chromedp.ID("quantity"), "2,000"),
	)
	buyer.submit("#send-inquiry")
	if msg := buyer.text("#quantity-error"); !strings.Contains(msg, "whole number") {
		t.Errorf("a mistyped quantity: %q", msg)
	}
	buyer.do(chromedp.Clear(chromedp.ID("quantity")), chromedp.SendKeys(chromedp.ID("quantity"), "2000"))
	buyer.submit("#send-inquiry")
	url, err := chromedp.Run(buyer.ctx, chromedp.Location())
	if err != nil || !strings.HasPrefix(url, p.url+"/app/deals/") {
		t.Fatalf("after sending the inquiry: %q %v", url, err)
	}
	id := strings.TrimPrefix(url, p.url+"/app/deals/")
	deal := p.url + "/app/deals/" + id
	p.projected(id)

	supplier.do(chromedp.Navigate(deal), chromedp.WaitVisible(chromedp.ID("unit_price")))
	supplier.accessible("the quote form")
	supplier.fits("the quote form")
	supplier.shot("supplier-quote-phone")
	supplier.do(chromedp.SendKeys(chromedp.ID("unit_price"), "3,9O"), chromedp.SendKeys(chromedp.ID("lead_time_days"), "21"))
	supplier.submit("#send-quote")
	if msg := supplier.text("#unit_price-error"); !strings.Contains(msg, "Type an amount such as USD 3.90") {
		t.Errorf("a mistyped price: %q", msg)
	}
	// A volume price must be below the unit price.
	supplier.do(chromedp.Clear(chromedp.ID("unit_price")), chromedp.SendKeys(chromedp.ID("unit_price"), "4.20"),
		chromedp.SendKeys(chromedp.ID("tier_quantity"), "1,000"), chromedp.SendKeys(chromedp.ID("tier_price"), "4.50"),
		chromedp.SendKeys(chromedp.ID("sample_price"), "25"))
	supplier.submit("#send-quote")
	if msg := supplier.text("#tier_price-error"); !strings.Contains(msg, "below the unit price of USD 4.20") {
		t.Errorf("a volume price above the unit price: %q", msg)
	}
	// A second volume row must start above the first.
	supplier.do(chromedp.Clear(chromedp.ID("tier_price")), chromedp.SendKeys(chromedp.ID("tier_price"), "3.90"),
		chromedp.SendKeys(chromedp.ID("tier_quantity_2"), "500"), chromedp.SendKeys(chromedp.ID("tier_price_2"), "3.50"))
	supplier.submit("#send-quote")
	if msg := supplier.text("#tier_quantity_2-error"); !strings.Contains(msg, "more than 1,000") {
		t.Errorf("a second volume row below the first: %q", msg)
	}
	supplier.do(chromedp.Clear(chromedp.ID("tier_quantity_2")), chromedp.SendKeys(chromedp.ID("tier_quantity_2"), "5,000"))
	supplier.submit("#send-quote")
	if total := supplier.text("main table tbody td:nth-child(3)"); total != "USD 7,800.00" {
		t.Errorf("the quote's total at the volume price: %q", total)
	}
	if q := p.deal("supplier", id).Quotes; len(q) != 1 || !slices.Equal(q[0].Tiers, []workflows.PriceTier{{MinQuantity: 1, UnitPrice: 420}, {MinQuantity: 1000, UnitPrice: 390}, {MinQuantity: 5000, UnitPrice: 350}}) {
		t.Errorf("the quote's tiers: %+v", q)
	}

	// The buyer asks for a better price; the supplier reads the
	// counter-offer.
	buyer.do(chromedp.Navigate(deal), chromedp.WaitVisible(chromedp.ID("target_unit_price")))
	buyer.accessible("the counter-offer")
	buyer.do(chromedp.SendKeys(chromedp.ID("target_unit_price"), "3.70"), chromedp.SendKeys(chromedp.ID("message"), "for a repeat order"))
	buyer.submit("#counter")
	supplier.do(chromedp.Navigate(deal))
	if got := supplier.text("ul.counter-offers li"); !strings.Contains(got, "USD 3.70") || !strings.Contains(got, "for a repeat order") {
		t.Errorf("the supplier reads the counter-offer as %q", got)
	}

	buyer.do(chromedp.Navigate(deal))
	if got := buyer.text("td.volume"); got != "from 1,000 units · USD 3.90\nfrom 5,000 units · USD 3.50" {
		t.Errorf("the buyer reads the volume prices as %q", got)
	}
	buyer.submit("button.accept-quote")
	if got := buyer.text("dd.stage"); got != "at the contract, to be signed" {
		t.Fatalf("after accepting the quote: %q", got)
	}
	buyer.accessible("the contract")
	buyer.shot("buyer-deal-contract")

	// A sample first: asked, paid, shipped, approved.
	buyer.submit("#request-sample")
	if got := buyer.text("dd.stage"); got != "at the sample" {
		t.Fatalf("after asking for a sample: %q", got)
	}
	buyer.submit("#pay")
	for supplier.do(chromedp.Navigate(deal)); ; supplier.do(chromedp.Sleep(100*time.Millisecond), chromedp.Navigate(deal)) {
		if n, _ := chromedp.Run(supplier.ctx, chromedp.Evaluate[int](`document.querySelectorAll('#ship-sample').length`)); n == 1 {
			break
		} else if supplier.ctx.Err() != nil {
			t.Fatal("the paid sample was never offered for shipping")
		}
	}
	supplier.do(chromedp.SendKeys(chromedp.ID("carrier"), "ups"), chromedp.SendKeys(chromedp.ID("tracking_number"), "SAMPLE-1"))
	supplier.submit("#ship-sample")
	buyer.do(chromedp.Navigate(deal))
	if got := buyer.text("dd.sample-status"); got != "shipped" && got != "delivered" {
		t.Errorf("the sample after shipping: %q", got)
	}
	buyer.submit("#approve-sample")
	if got := buyer.text("dd.stage"); got != "at the contract, to be signed" {
		t.Fatalf("after approving the sample: %q", got)
	}
	buyer.submit("#sign")
	supplier.do(chromedp.Navigate(deal))
	supplier.submit("#sign")
	buyer.stage(p.url, id, "waiting for the deposit")
	buyer.submit("#pay")
	buyer.stage(p.url, id, "in production")
	supplier.do(chromedp.Navigate(deal), chromedp.SendKeys(chromedp.ID("percent"), "150"))
	supplier.submit("#report-progress")
	if msg := supplier.text("#percent-error"); !strings.Contains(msg, "0 to 100") {
		t.Errorf("150 %% done: %q", msg)
	}
	supplier.do(chromedp.Clear(chromedp.ID("percent")), chromedp.SendKeys(chromedp.ID("percent"), "60"), chromedp.SendKeys(chromedp.ID("note"), "dyeing done"))
	supplier.submit("#report-progress")
	buyer.do(chromedp.Navigate(deal))
	if got := buyer.text("ol.progress li"); !strings.Contains(got, "60 % done") || !strings.Contains(got, "dyeing done") {
		t.Errorf("the buyer reads the progress as %q", got)
	}
	supplier.submit("#ready")
	buyer.stage(p.url, id, "waiting for the balance")
	buyer.submit("#pay")
	supplier.stage(p.url, id, "shipping")
	p.mem.Script("TRACK-1", activities.TrackDelivered)
	supplier.do(chromedp.SendKeys(chromedp.ID("carrier"), "dhl"), chromedp.SendKeys(chromedp.ID("tracking_number"), "TRACK-1"))
	supplier.submit("#ship")
	buyer.stage(p.url, id, "delivered, in inspection")
	if got := buyer.text("#shipment dd.shipment-status"); got != activities.TrackDelivered {
		t.Errorf("the shipment as the carrier reports it: %q", got)
	}
	buyer.submit("#accept-goods")
	if got := buyer.text("dd.stage"); got != "completed" {
		t.Errorf("after accepting the goods: %q", got)
	}
	// The escrow (the goods USD 7,800.00 and the sample USD 25.00) is
	// released to the supplier after the acceptance.
	st := p.waitFor("buyer", id, func(s workflows.DealState) bool { return s.Escrow.Held == 0 })
	if st.Stage != workflows.StageCompleted || st.Escrow.Released != 782_500 || st.Escrow.Commission == 0 {
		t.Errorf("the deal through the API: %s, escrow %+v", st.Stage, st.Escrow)
	}

	// The buyer rates the supplier, once (without stars it is refused at
	// the field).
	buyer.do(chromedp.Navigate(deal))
	buyer.submit("#rate-supplier")
	if msg := buyer.text("#stars-error"); !strings.Contains(msg, "1 to 5") {
		t.Errorf("a rating without stars: %q", msg)
	}
	buyer.do(chromedp.Click(chromedp.ID("stars-5")), chromedp.SendKeys(chromedp.ID("comment"), "on time, as sampled"))
	buyer.submit("#rate-supplier")
	var stars int
	if err := p.pool.QueryRow(t.Context(), `SELECT stars FROM supplier_ratings WHERE deal_id = $1`, id).Scan(&stars); err != nil || stars != 5 {
		t.Errorf("the rating kept: %d stars (%v)", stars, err)
	}
	buyer.do(chromedp.Click(chromedp.ID("stars-1")))
	buyer.submit("#rate-supplier")
	if got := buyer.text("p.error"); !strings.Contains(got, "rated already") {
		t.Errorf("a second rating: %q", got)
	}

	// The buyer's deals by stage.
	for stage, want := range map[string]int{"COMPLETED": 1, "QUOTING": 0} {
		buyer.do(chromedp.Navigate(p.url + "/app?stage=" + stage))
		if n, _ := chromedp.Run(buyer.ctx, chromedp.Evaluate[int](`document.querySelectorAll('main table tbody tr').length`)); n != want {
			t.Errorf("%d deals at %s, want %d", n, stage, want)
		}
	}
}

// A dispute by clicking, with the deal delivered through the API: the
// buyer opens it with its evidence (without a reason it is refused at the
// field), the supplier answers from a phone and proposes a settlement (an
// amount above what the escrow holds is refused), the buyer sends it to a
// mediator, who finds it two clicks from its home, reads both sides,
// chooses a split, sees it in money before deciding, and decides; the
// money moves as decided.
func TestADisputeDecidedByClicking(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer", "supplier", "mediator")
	id := p.delivered("GOODS-7")
	deal := p.url + "/app/deals/" + id
	buyer := tab{t: t, ctx: browser(t, 1280, 900), name: "buyer"}
	supplier := tab{t: t, ctx: browser(t, 360, 740), name: "supplier"}
	mediator := tab{t: t, ctx: browser(t, 1280, 900), name: "mediator"}
	buyer.signIn(p.url, "buyer")
	supplier.signIn(p.url, "supplier")
	mediator.signIn(p.url, "mediator")

	buyer.do(chromedp.Navigate(deal), chromedp.WaitVisible(chromedp.ID("open-dispute")))
	buyer.accessible("the dispute form")
	buyer.submit("#open-dispute")
	if msg := buyer.text("#reason-error"); !strings.Contains(msg, "required") {
		t.Errorf("a dispute without a reason: %q", msg)
	}
	buyer.do(
		chromedp.SendKeys(chromedp.ID("reason"), "wrong colour: navy, not black"),
		chromedp.SendKeys(chromedp.ID("remedy"), "a partial refund"),
		chromedp.SendKeys(chromedp.ID("evidence"), "https://files.example.com/photo-1.jpg\nstitching loose on 40 of 200 checked"),
	)
	buyer.submit("#open-dispute")
	if got := buyer.text("dd.stage"); got != "in dispute" {
		t.Fatalf("after opening the dispute: %q", got)
	}
	if n, _ := chromedp.Run(buyer.ctx, chromedp.Evaluate[int](`document.querySelectorAll('ul.evidence li').length`)); n != 2 {
		t.Errorf("%d pieces of evidence shown, want 2", n)
	}

	supplier.do(chromedp.Navigate(deal), chromedp.WaitVisible(chromedp.ID("message")))
	supplier.accessible("the dispute's answer")
	supplier.fits("the dispute's answer")
	supplier.do(chromedp.SendKeys(chromedp.ID("message"), "the colour is the sample's"))
	supplier.submit("#answer-dispute")
	supplier.do(chromedp.SendKeys(chromedp.ID("release_amount"), "9,000"))
	supplier.submit("#propose")
	if msg := supplier.text("#release_amount-error"); !strings.Contains(msg, "from 0 to USD 7,800.00") {
		t.Errorf("a settlement above the escrow: %q", msg)
	}
	supplier.do(chromedp.Clear(chromedp.ID("release_amount")), chromedp.SendKeys(chromedp.ID("release_amount"), "6,000"))
	supplier.submit("#propose")
	if got := supplier.text("table.proposals tbody tr td:nth-child(2)") + " / " + supplier.text("table.proposals tbody tr td:nth-child(3)"); got != "USD 6,000.00 / USD 1,800.00" {
		t.Errorf("the supplier's proposal reads %q", got)
	}

	buyer.do(chromedp.Navigate(deal), chromedp.WaitVisible(chromedp.CSS("button.accept-proposal")))
	buyer.submit("#escalate")
	if got := buyer.text("dd.stage"); got != "with a mediator" {
		t.Fatalf("after escalating: %q", got)
	}

	// Two clicks from the mediator's home: its list, then the case.
	mediator.submit(`nav a[href="/app/mediation"]`)
	mediator.submit(`main a[href="/app/deals/` + id + `"]`)
	mediator.accessible("the mediator's case")
	for css, want := range map[string]string{"#dispute dd.text": "wrong colour: navy, not black", "#dispute dd.held": "USD 7,800.00"} {
		if got := mediator.text(css); got != want {
			t.Errorf("the mediator reads %s as %q, want %q", css, got, want)
		}
	}
	if got := mediator.text("#dispute"); !strings.Contains(got, "the colour is the sample's") || !strings.Contains(got, "stitching loose") {
		t.Errorf("the mediator's case lacks the answer or the evidence: %q", got)
	}
	mediator.do(chromedp.Click(chromedp.ID("outcome-split")), chromedp.SendKeys(chromedp.ID("release_amount"), "7,800"))
	mediator.submit("#review-decision")
	if msg := mediator.text("#release_amount-error"); !strings.Contains(msg, "less than the USD 7,800.00 held") {
		t.Errorf("a split of everything: %q", msg)
	}
	mediator.do(chromedp.Clear(chromedp.ID("release_amount")), chromedp.SendKeys(chromedp.ID("release_amount"), "5,000"))
	mediator.submit("#review-decision")
	if got := mediator.text("p.review"); !strings.Contains(got, "USD 5,000.00 go to the supplier") || !strings.Contains(got, "USD 2,800.00 back to the buyer") {
		t.Errorf("the decision reviewed: %q", got)
	}
	mediator.accessible("the decision's review")
	mediator.shot("mediator-decision-review")
	mediator.submit("#confirm-decision")
	if got := mediator.text("dd.stage"); got != "resolved" {
		t.Fatalf("after the decision: %q", got)
	}
	buyer.stage(p.url, id, "resolved")
	if got := buyer.text("p.decision"); !strings.Contains(got, "USD 5,000.00 released to the supplier") {
		t.Errorf("the buyer reads the decision as %q", got)
	}
	final := p.waitFor("finance", id, func(s workflows.DealState) bool { return s.Resolution != nil && s.Resolution.Done })
	if want := (workflows.Escrow{Released: 500_000, Commission: 10_000, Refunded: 280_000}); final.Escrow != want {
		t.Fatalf("escrow %+v, want %+v", final.Escrow, want)
	}
	p.balance("escrow:"+id, "USD", 0)
}

// A buyer finds a product and asks its supplier for a quote, by clicking:
// products are one click from its home; a price range without a currency
// is refused at the currency; the search with quantity, currency, price
// and tier filters finds the gold supplier's bolt priced at the quantity;
// its page shows the supplier and the price tiers; an order below the
// minimum is refused at the quantity; the inquiry goes to that supplier
// alone. On the way, the buyer estimates the product's landed cost.
func TestFindAProductAndInquireByClicking(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer")
	p.must(http.StatusOK, p.do("supplier", "POST", "/v1/products/import", catalogCSV, "Content-Type", "text/csv"))
	p.must(http.StatusOK, p.do("supplier2", "POST", "/v1/products/import",
		"sku,name,category,unit,moq,currency,price_tiers,lead_time_days,certifications,customizable,origin_region\n"+
			"BOLT-M8,Zinc bolt M8,fasteners,piece,1000,USD,1000:8,30,,no,CN-GD\n", "Content-Type", "text/csv"))
	buyer := tab{t: t, ctx: browser(t, 360, 740), name: "buyer"}
	buyer.signIn(p.url, "buyer")
	// First the buyer says what it buys and gets its matched offers.
	buyer.submit(`nav a[href="/app/buying"]`)
	buyer.accessible("what the buyer buys")
	buyer.do(chromedp.SendKeys(chromedp.ID("categories"), "fasteners"), chromedp.SendKeys(chromedp.ID("budget"), "100"))
	buyer.submit("#save-buying")
	buyer.accessible("the matched offers")
	buyer.fits("the matched offers")
	// Each supplier's cheapest fastener that fits, the gold one first.
	if got := buyer.text("ul.offers"); !strings.HasPrefix(got, "Steel nut M8 · supplier org") || !strings.Contains(got, "Zinc bolt M8 · supplier2 org") {
		t.Errorf("the matched offers: %q", got)
	}
	buyer.submit(`nav a[href="/app"]`)
	buyer.submit(`main a[href="/app/products"]`)
	buyer.accessible("the product search")
	buyer.fits("the product search")
	// The search swaps its part of the page (htmx), a refused filter
	// included.
	buyer.do(chromedp.SendKeys(chromedp.ID("q"), "bolt"), chromedp.SendKeys(chromedp.ID("max_price"), "0.10"))
	buyer.swap("#search")
	if msg := buyer.text("#currency-error"); !strings.Contains(msg, "currency") {
		t.Errorf("a price range without a currency: %q", msg)
	}
	buyer.do(
		chromedp.SetValue(chromedp.ID("currency"), "USD"),
		chromedp.SendKeys(chromedp.ID("quantity"), "10,000"),
		chromedp.Click(chromedp.ID("tier-gold")),
	)
	buyer.swap("#search")
	if at, _ := chromedp.Run(buyer.ctx, chromedp.Evaluate[string](`location.search`)); !strings.Contains(at, "q=bolt") || !strings.Contains(at, "tiers=gold") {
		t.Errorf("the address after the search: %q", at)
	}
	hits, err := chromedp.Run(buyer.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('li.hit')].map(e => e.textContent.replace(/\s+/g, ' ').trim())`))
	if err != nil || len(hits) != 1 || !strings.Contains(hits[0], "Steel bolt M8") || !strings.Contains(hits[0], "USD 0.09 a unit") || !strings.Contains(hits[0], "gold") {
		t.Fatalf("the gold suppliers' bolts up to USD 0.10 at 10,000: %q (%v)", hits, err)
	}
	buyer.fits("the search results")
	buyer.shot("buyer-search-phone")
	buyer.submit("li.hit a")
	buyer.accessible("the product page")
	if got := buyer.text("dd.supplier"); !strings.HasPrefix(got, "supplier org") {
		t.Errorf("the product's supplier: %q", got)
	}
	if got := buyer.text("table.tiers tbody"); !strings.Contains(got, "USD 0.12") || !strings.Contains(got, "USD 0.09") {
		t.Errorf("the price tiers: %q", got)
	}
	// The landed cost, from the product page and back: 1,000 bolts of
	// 50 kg by sea, FOB (the form's choice) to Germany: goods 120.00,
	// the 150.00 minimum freight, insurance 0.89, duty 10.02.
	buyer.submit("#landed-cost-link")
	buyer.accessible("the landed-cost calculator")
	buyer.fits("the landed-cost calculator")
	buyer.do(chromedp.SendKeys(chromedp.ID("weight_kg"), "50"), chromedp.SetValue(chromedp.ID("destination"), "DE"))
	buyer.submit("#estimate")
	if got := buyer.text("#landed-total"); got != "USD 280.91" {
		t.Errorf("the landed cost's total: %q", got)
	}
	buyer.accessible("the landed cost")
	buyer.fits("the landed cost")
	buyer.submit("#back-to-product")
	// Following the price (at the MOQ, alerted at 5 % by default) leads to
	// the watchlist, whose entry leads back to the product.
	buyer.submit("#follow-price")
	buyer.accessible("the watchlist")
	buyer.fits("the watchlist")
	if got := buyer.text("table.watches tbody tr"); !strings.Contains(got, "Steel bolt M8") || !strings.Contains(got, "5.0 %") {
		t.Errorf("the watchlist: %q", got)
	}
	buyer.submit("table.watches a")
	buyer.do(chromedp.Clear(chromedp.ID("quantity")), chromedp.SendKeys(chromedp.ID("quantity"), "500"))
	buyer.submit("#inquire")
	if msg := buyer.text("#quantity-error"); !strings.Contains(msg, "at least 1000") {
		t.Errorf("an order below the minimum: %q", msg)
	}
	buyer.do(chromedp.Clear(chromedp.ID("quantity")), chromedp.SendKeys(chromedp.ID("quantity"), "20,000"))
	buyer.submit("#inquire")
	url, err := chromedp.Run(buyer.ctx, chromedp.Location())
	if err != nil || !strings.HasPrefix(url, p.url+"/app/deals/") {
		t.Fatalf("after the inquiry: %q %v", url, err)
	}
	id := strings.TrimPrefix(url, p.url+"/app/deals/")
	p.projected(id)
	st := p.deal("buyer", id)
	if len(st.Invitations) != 1 || st.Invitations[0].SupplierID != p.orgs["supplier"].String() || st.Inquiry.Quantity != 20_000 || st.Inquiry.Product != "Steel bolt M8" {
		t.Fatalf("the inquiry: %d invitations %+v, %d of %q", len(st.Invitations), st.Invitations, st.Inquiry.Quantity, st.Inquiry.Product)
	}
}

// A supplier imports its catalog by clicking: a file with a wrong row
// imports nothing and the report names the row, its line and field; the
// same file with "the right rows" lists them; the standing and the
// products show.
func TestCatalogImportByClicking(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier")
	file := filepath.Join(t.TempDir(), "catalog.csv")
	if err := os.WriteFile(file, []byte(catalogCSV+"BAD,No price,fasteners,piece,10,USD,,7,,no,CN\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	supplier := tab{t: t, ctx: browser(t, 1280, 900), name: "supplier"}
	supplier.signIn(p.url, "supplier")
	supplier.submit(`nav a[href="/app/catalog"]`)
	supplier.accessible("the catalog")
	if got := supplier.text("dd.tier"); !strings.HasPrefix(got, "gold") {
		t.Errorf("the supplier's tier: %q", got)
	}
	supplier.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}))
	supplier.submit("#import")
	if got := supplier.text("#report p.summary"); !strings.Contains(got, "1 of 3 rows are wrong: nothing was imported") {
		t.Errorf("the all-or-nothing report: %q", got)
	}
	if got := supplier.text("table.rejected tbody tr"); !strings.Contains(got, "4") || !strings.Contains(got, "BAD") || !strings.Contains(got, "price_tiers") {
		t.Errorf("the rejected row: %q", got)
	}
	supplier.accessible("the import report")
	supplier.do(chromedp.SetUploadFiles(chromedp.ID("file"), []string{file}), chromedp.Click(chromedp.ID("mode-partial")))
	supplier.submit("#import")
	if got := supplier.text("#report p.summary"); !strings.Contains(got, "3 rows: 2 products listed, 0 updated, 1 rejected") {
		t.Errorf("the partial report: %q", got)
	}
	if n, _ := chromedp.Run(supplier.ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.products tbody tr').length`)); n != 2 {
		t.Errorf("%d products listed, want 2", n)
	}
}

// Finance by clicking, after a deal completed through the API: the
// ledger's lines of the day, filtered to the commission account with its
// balance, and their CSV; the escrow watchdog with nothing open; the
// funnel drawn as a chart with the deal in it. Each page is two clicks
// from finance's home and passes the accessibility check; a buyer may not
// open them.
func TestFinanceByClicking(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("finance", "buyer")
	id := p.delivered("GOODS-5")
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/accept"), nil))
	p.waitFor("finance", id, func(s workflows.DealState) bool { return s.Resolution != nil && s.Resolution.Done })
	fin := tab{t: t, ctx: browser(t, 1280, 900), name: "finance"}
	fin.signIn(p.url, "finance")
	fin.submit(`nav a[href="/app/finance/ledger"]`)
	fin.accessible("the ledger")
	if n, _ := chromedp.Run(fin.ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.ledger tbody tr').length`)); n < 4 {
		t.Errorf("%d ledger lines today after a completed deal", n)
	}
	fin.do(chromedp.SendKeys(chromedp.ID("account"), "platform:commission"))
	fin.submit("#filter")
	if got := fin.text("li.balance"); !strings.HasPrefix(got, "USD 156.00") {
		t.Errorf("the commission's balance: %q", got)
	}
	href, err := chromedp.Run(fin.ctx, chromedp.Evaluate[string](`document.getElementById('ledger-csv').href`))
	if err != nil {
		t.Fatal(err)
	}
	b := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	b.signIn("finance")
	csv := b.do("GET", strings.TrimPrefix(href, p.url), nil)
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.body, "posting_id,posted_at") || !strings.Contains(csv.body, "platform:commission") {
		t.Errorf("the ledger's CSV: %d %.300s", csv.status, csv.body)
	}
	for name, q := range map[string]string{
		"a deal that is no ID": "deal=" + url.QueryEscape("x' OR '1'='1"), "a kind that is none": "kind=gift",
		"a cursor not given out": "cursor=" + strings.Repeat("A", 2000), "days backwards": "from=2026-12-02&to=2026-11-01",
	} {
		if res := b.do("GET", "/app/finance/payments?"+q, nil); res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, `class="error"`) {
			t.Errorf("payments with %s: %d", name, res.status)
		}
	}
	// The payments: the deal's two charges and their payouts, then the
	// charges alone, with their total in money.
	fin.submit(`nav.subnav a[href="/app/finance/payments"]`)
	fin.accessible("the payments")
	if n, _ := chromedp.Run(fin.ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.payments tbody tr').length`)); n != 4 {
		t.Errorf("%d payments after a completed deal (deposit and balance, each charged and paid out)", n)
	}
	fin.do(chromedp.SetValue(chromedp.ID("kind"), "charge"))
	fin.submit("#filter")
	if got := fin.text("table.totals tbody tr"); got != "charge\tsucceeded\t2\tUSD 7,800.00" {
		t.Errorf("the charges' total: %q", got)
	}
	fin.submit(`nav.subnav a[href="/app/finance/watchdog"]`)
	fin.accessible("the watchdog")
	if got, _ := chromedp.Run(fin.ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`)); !strings.Contains(got, "every escrow adds up") {
		t.Errorf("the watchdog: %q", got)
	}
	fin.submit(`nav.subnav a[href="/app/finance/funnel"]`)
	fin.accessible("the funnel")
	fin.shot("finance-funnel")
	if got, _ := chromedp.Run(fin.ctx, chromedp.Evaluate[string](`document.querySelector('svg.chart desc').textContent`)); !strings.Contains(got, "inquiries: 1") || !strings.Contains(got, "completed: 1") {
		t.Errorf("the funnel chart: %q", got)
	}
	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	for _, page := range []string{"/app/finance/ledger", "/app/finance/ledger.csv", "/app/finance/payments", "/app/finance/watchdog", "/app/finance/funnel"} {
		if res := buyer.do("GET", page, nil); res.status != http.StatusForbidden {
			t.Errorf("a buyer opening %s: %d", page, res.status)
		}
	}
}

// mailedLink is the link the last mail of kind to email holds (read from
// the notifications outbox, where the mail is queued).
func (p *platform) mailedLink(kind, email string) string {
	p.t.Helper()
	var link string
	err := p.pool.QueryRow(context.Background(), `SELECT n.facts->>'ref' FROM notification_outbox n JOIN users u ON u.id = n.user_id
		WHERE n.kind = $1 AND lower(u.email) = lower($2) ORDER BY n.created_at DESC LIMIT 1`, kind, email).Scan(&link)
	if err != nil {
		p.t.Fatalf("no %s mail to %s: %v", kind, email, err)
	}
	return link
}

// A new user joins by clicking, without the API: the admin creates its
// organization (a blank name refused at the field) and adds it, which
// mails it an invitation; the link's page refuses two different passwords
// and a short one, sets the password, and the user signs in and finds
// products; the link works once. Then the user forgets its password: the
// sign-in page mails a reset link (an unknown address gets the same
// answer and no mail), which sets a new one.
func TestANewUserJoinsByClicking(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.PublicURL = "https://tradeloop.example" })
	p.withPasswords("admin")
	admin := tab{t: t, ctx: browser(t, 1280, 900), name: "admin"}
	admin.signIn(p.url, "admin")
	admin.submit(`nav a[href="/app/admin"]`)
	admin.accessible("the organizations")
	admin.submit("#create-org")
	if msg := admin.text("#name-error"); !strings.Contains(msg, "required") {
		t.Errorf("an organization without a name: %q", msg)
	}
	admin.do(chromedp.SendKeys(chromedp.ID("name"), "Acme Buying"))
	admin.submit("#create-org")
	admin.do(chromedp.SendKeys(chromedp.ID("name"), "Nia Buyer"), chromedp.SendKeys(chromedp.ID("email"), "nia@acme.example"))
	admin.submit("#add-user")
	if got := admin.text("#invited"); !strings.Contains(got, "nia@acme.example") {
		t.Errorf("after adding the user: %q", got)
	}
	admin.accessible("an organization")
	if got := admin.text("table.members tbody tr"); !strings.Contains(got, "invited, no password yet") {
		t.Errorf("the new user's line: %q", got)
	}

	// The admin makes Nia an API key (a bad duration refused at its
	// field), sees its secret once, and revokes it: it stops at once.
	admin.submit(`table.members a`)
	admin.accessible("a user's API keys")
	admin.do(chromedp.SendKeys(chromedp.ID("label"), "erp"), chromedp.SendKeys(chromedp.ID("days"), "forever"))
	admin.submit("#create-key")
	if msg := admin.text("#days-error"); !strings.Contains(msg, "whole number of days") {
		t.Errorf("a key for ever: %q", msg)
	}
	admin.do(chromedp.Clear(chromedp.ID("days")), chromedp.SendKeys(chromedp.ID("days"), "30"))
	admin.submit("#create-key")
	secret := admin.text("#secret")
	me := func() int {
		req, _ := http.NewRequest("GET", p.url+"/v1/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := me(); got != http.StatusOK {
		t.Errorf("the new key: %d", got)
	}
	admin.submit("button.revoke")
	if got := me(); got != http.StatusUnauthorized {
		t.Errorf("the revoked key: %d", got)
	}

	link := p.mailedLink("account_invitation", "nia@acme.example")
	if !strings.HasPrefix(link, "https://tradeloop.example/app/link?") {
		t.Fatalf("the invitation's link starts with %q, not the platform's public address", link)
	}
	local := p.url + strings.TrimPrefix(link, "https://tradeloop.example")
	nia := tab{t: t, ctx: browser(t, 360, 740), name: "nia"}
	nia.do(chromedp.Navigate(local))
	if got := nia.text("h1"); got != "Welcome to Tradeloop" {
		t.Errorf("the invitation's page: %q", got)
	}
	nia.accessible("the invitation")
	for _, pw := range [][2]string{{"a-long-password-1", "a-long-password-2"}, {"short", "short"}} {
		nia.do(chromedp.SendKeys(chromedp.ID("password"), pw[0]), chromedp.SendKeys(chromedp.ID("again"), pw[1]))
		nia.submit("#set-password")
		if got := nia.text("#password-error"); got == "" {
			t.Errorf("passwords %q and %q: no error", pw[0], pw[1])
		}
	}
	nia.do(chromedp.SendKeys(chromedp.ID("password"), "nia-first-password"), chromedp.SendKeys(chromedp.ID("again"), "nia-first-password"))
	nia.submit("#set-password")
	if got := nia.text("p.done"); !strings.Contains(got, "Your password is set") {
		t.Errorf("after setting the password: %q", got)
	}
	nia.signInAs("nia@acme.example", "nia-first-password")
	nia.submit(`main a[href="/app/products"]`)
	nia.do(chromedp.Navigate(local))
	if got := nia.text("#link-bad"); !strings.Contains(got, "does not work any more") {
		t.Errorf("the invitation used twice: %q", got)
	}

	// A forgotten password.
	nia.do(chromedp.Navigate(p.url + "/app"))
	nia.submit(`form.signout button`)
	nia.submit("#forgot")
	nia.do(chromedp.SendKeys(chromedp.ID("email"), "nobody@acme.example"))
	nia.submit("#send-reset")
	unknown := nia.text("p.done")
	nia.do(chromedp.Clear(chromedp.ID("email")), chromedp.SendKeys(chromedp.ID("email"), "NIA@acme.example"))
	nia.submit("#send-reset")
	if known := nia.text("p.done"); known != unknown || !strings.Contains(known, "If an account has this address") {
		t.Errorf("the answers for an unknown and a known address differ: %q, %q", unknown, known)
	}
	var resets int
	if err := p.pool.QueryRow(t.Context(), `SELECT count(*) FROM notification_outbox WHERE kind = 'password_reset'`).Scan(&resets); err != nil || resets != 1 {
		t.Fatalf("%d reset mails queued, want 1 (%v)", resets, err)
	}
	reset := p.url + strings.TrimPrefix(p.mailedLink("password_reset", "nia@acme.example"), "https://tradeloop.example")
	nia.do(chromedp.Navigate(reset))
	nia.do(chromedp.SendKeys(chromedp.ID("password"), "nia-second-password"), chromedp.SendKeys(chromedp.ID("again"), "nia-second-password"))
	nia.submit("#set-password")
	nia.signInAs("nia@acme.example", "nia-second-password")
}

// A deal page follows its deal while it is open: what the other party
// does (the supplier's production progress) shows in its timeline in
// place, the page staying; when the stage changes (the goods are ready),
// the page loads again with the new stage's action (paying the balance).
func TestADealPageFollowsItsDeal(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("buyer")
	id := p.newDeal(false, "supplier")
	var st workflows.DealState
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/quotes/"+st.Quotes[0].ID+"/accept"), nil)).json(t, &st)
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/payments/deposit"), nil))
	buyer := tab{t: t, ctx: browser(t, 1280, 900), name: "buyer"}
	buyer.signIn(p.url, "buyer")
	buyer.do(chromedp.Navigate(p.url+"/app/deals/"+id), chromedp.WaitVisible(chromedp.CSS("#live dd.stage")))
	if got := buyer.text("#live dd.stage"); got != "in production" {
		t.Fatalf("the deal page's stage: %q", got)
	}
	// Each action below has answered, so the read model has it: one
	// refresh of the live part finds it.
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/production"), map[string]any{"percent": 50, "note": "half the bolts made"}))
	buyer.do(chromedp.Evaluate[chromedp.Void](`window.__samePage = true; window.__settled = false;
		document.addEventListener('htmx:afterSettle', () => { window.__settled = true }, {once: true});
		htmx.trigger('#live', 'refresh')`))
	buyer.do(chromedp.Poll[chromedp.Void](`window.__settled === true`))
	if got := buyer.text("#timeline"); !strings.Contains(got, "production progress — 50% half the bolts made") {
		t.Errorf("the timeline after the supplier's progress: %q", got)
	}
	if same, _ := chromedp.Run(buyer.ctx, chromedp.Evaluate[bool](`window.__samePage === true`)); !same {
		t.Errorf("the page loaded again for a change within its stage")
	}
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/ready"), nil))
	if _, err := chromedp.Run(buyer.ctx, chromedp.WaitEvent(cdppage.LoadEventFired, nil, chromedp.Evaluate[chromedp.Void](`htmx.trigger('#live', 'refresh')`))); err != nil {
		t.Fatalf("the page after the stage changed: %v", err)
	}
	if got := buyer.text("#pay"); got != "Pay the balance" {
		t.Errorf("the action after the goods are ready: %q", got)
	}
	buyer.accessible("a deal page that follows its deal")
}

// With payments at Stripe, the buyer's pay button leads to Stripe's form
// on a page of its own; where Stripe.js cannot load (blocked here, as a
// network without Stripe would), the page says so and offers no button
// that would do nothing.
func TestPayingAtStripeByClicking(t *testing.T) {
	p := stripePlatform(t, "pk_test_console")
	p.withPasswords("buyer")
	id := p.newDeal(false, "supplier")
	var st workflows.DealState
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody())).json(t, &st)
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/quotes/q1/accept"), nil)).json(t, &st)
	p.must(http.StatusOK, p.do("buyer", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/contract/sign"), map[string]string{"terms_sha256": st.Contract.TermsSHA256}))
	buyer := tab{t: t, ctx: browser(t, 360, 740), name: "buyer"}
	if _, err := chromedp.Call(buyer.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
		URLPatterns: []*network.BlockPattern{{URLPattern: "https://js.stripe.com/*", Block: true}}}); err != nil {
		t.Fatal(err)
	}
	buyer.signIn(p.url, "buyer")
	buyer.do(chromedp.Navigate(p.url+"/app/deals/"+id), chromedp.WaitVisible(chromedp.ID("pay")))
	buyer.submit("#pay")
	if got := buyer.text("p.amount"); got != "Amount: USD 2,340.00" {
		t.Errorf("the payment page's amount: %q", got)
	}
	if got := buyer.text("#payment-error"); !strings.Contains(got, "did not load") {
		t.Errorf("the payment page without Stripe.js: %q", got)
	}
	if off, _ := chromedp.Run(buyer.ctx, chromedp.Evaluate[bool](`document.getElementById('stripe-pay').disabled`)); !off {
		t.Errorf("the pay button works without Stripe.js")
	}
	buyer.accessible("the payment page")
}
