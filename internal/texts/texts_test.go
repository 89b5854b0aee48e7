package texts

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/tradeloop/tradeloop/activities"
	"github.com/tradeloop/tradeloop/internal/notice"
	"github.com/tradeloop/tradeloop/internal/preferences"
	"github.com/tradeloop/tradeloop/workflows"
)

var shanghai = func() *time.Location {
	loc, err := ParseZone("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// every fact set, so a template that reads any of them shows it.
var allFacts = notice.Facts{
	Amount: 300000, Currency: "USD", Quantity: 1000, Unit: "pcs", Product: "steel bolts M8", Supplier: "Ningbo Fasteners Co.",
	Within: 72 * time.Hour, Due: time.Date(2026, 3, 5, 1, 0, 0, 0, time.UTC), Left: 24 * time.Hour,
	Since: time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC), Step: "deposit", Stage: "PRODUCTION", Count: 2,
	Carrier: "DHL", Tracking: "JD0001", Reason: "damaged", Case: "buyer_default", Ref: "q1", Deal: "deal-1",
}

// Every kind the platform sends is worded, with its title, in every
// language, and no text shows a template's or Go's marks of a fact it
// could not say.
func TestEveryKindIsWordedInEveryLanguage(t *testing.T) {
	for _, k := range preferences.Kinds() {
		for _, l := range Langs {
			if !Has(l, k.Name) {
				t.Errorf("the %s catalog does not word %s (text and title)", l, k.Name)
				continue
			}
			r := Reader{Lang: l, Zone: shanghai}
			for _, out := range []string{Text(r, k.Name, allFacts, ""), Title(r, k.Name)} {
				if out == "" || strings.Contains(out, "<no value>") || strings.Contains(out, "%!") || strings.Contains(out, "{{") || strings.ContainsAny(out, "\n\t") {
					t.Errorf("%s %s: %q", l, k.Name, out)
				}
				if l == Chinese && !strings.ContainsFunc(out, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
					t.Errorf("%s %s is not Chinese: %q", l, k.Name, out)
				}
			}
		}
	}
}

// The catalogs hold the same templates: a phrase added to one language
// and not the other would read in English to the other's readers.
func TestTheCatalogsHoldTheSameTemplates(t *testing.T) {
	names := func(l Lang) []string {
		var out []string
		for _, tm := range catalogs[l].Templates() {
			if !strings.HasSuffix(tm.Name(), ".tmpl") {
				out = append(out, tm.Name())
			}
		}
		slices.Sort(out)
		return out
	}
	en, zh := names(English), names(Chinese)
	if !slices.Equal(en, zh) {
		t.Fatalf("the catalogs differ:\nen %v\nzh %v", en, zh)
	}
	for _, st := range workflows.Stages {
		if !slices.Contains(en, "stage."+string(st)) {
			t.Errorf("no words for the stage %s", st)
		}
	}
	for _, d := range []string{workflows.DeadlineInquiryExpires, workflows.DeadlineSampleShipBy, workflows.DeadlineSampleAutoApprove,
		workflows.DeadlineContractSignBy, workflows.DeadlineDepositDue, workflows.DeadlineShipBy, workflows.DeadlineBalanceDue,
		workflows.DeadlineInspectionReminder, workflows.DeadlineInspectionEnds, workflows.DeadlineDisputeAnswerDue, workflows.DeadlineDisputeSettleBy} {
		if !slices.Contains(en, "deadline."+d) {
			t.Errorf("no words for the deadline %s", d)
		}
	}
	if len(en) < 2*len(preferences.Kinds()) {
		t.Fatalf("%d templates for %d kinds", len(en), len(preferences.Kinds()))
	}
}

func TestTextsSayMoneyTimeAndGoodsForTheirReader(t *testing.T) {
	utcEN := Reader{Lang: English, Zone: time.UTC}
	cnZH := Reader{Lang: Chinese, Zone: shanghai}
	cnEN := Reader{Lang: English, Zone: shanghai}
	for _, c := range []struct {
		r          Reader
		kind       string
		facts      notice.Facts
		want       string
		wantSubstr bool
	}{
		{r: utcEN, kind: "deposit_due", facts: notice.Facts{Amount: 300000, Currency: "USD", Within: 72 * time.Hour}, want: "Pay the USD 3,000.00 deposit within 3 days."},
		{r: cnZH, kind: "deposit_due", facts: notice.Facts{Amount: 300000, Currency: "USD", Within: 72 * time.Hour}, want: "请在3天内支付定金 USD 3,000.00。"},
		{r: cnZH, kind: "balance_due", facts: notice.Facts{Amount: 120000, Currency: "JPY", Within: 36 * time.Hour}, want: "货物已备好：请在1天12小时内支付尾款 JPY 120,000。"},
		{r: utcEN, kind: "quote_due_soon", facts: allFacts, want: "Your quote for 1000 pcs of steel bolts M8 is due in 1 day (2026-03-05 01:00 UTC); after that the inquiry goes to another supplier."},
		{r: cnEN, kind: "quote_due_soon", facts: allFacts, want: "(2026-03-05 09:00 CST)", wantSubstr: true},
		{r: cnZH, kind: "quote_due_soon", facts: allFacts, want: "您对 steel bolts M8 1000 pcs 的报价将在1天后截止（2026年3月5日 09:00 (UTC+08:00)）；逾期后询盘将转给其他供应商。"},
		{r: utcEN, kind: "deposit_secured", facts: notice.Facts{Due: time.Date(2026, 3, 4, 20, 0, 0, 0, time.UTC)}, want: "Ready to ship by 2026-03-04.", wantSubstr: true},
		// The same instant is the next day in Shanghai.
		{r: cnZH, kind: "deposit_secured", facts: notice.Facts{Due: time.Date(2026, 3, 4, 20, 0, 0, 0, time.UTC)}, want: "最迟发货日期：2026年3月5日。", wantSubstr: true},
		{r: utcEN, kind: "inquiry_redispatched", facts: notice.Facts{Within: 2 * time.Hour, Count: 1}, want: "No supplier quoted within 2 hours: your inquiry went to 1 more supplier on the dispatch list."},
		{r: utcEN, kind: "inquiry_redispatched", facts: notice.Facts{Within: 2 * time.Hour, Count: 3}, want: "went to 3 more suppliers", wantSubstr: true},
		{r: utcEN, kind: "inquiry_redispatched", facts: notice.Facts{Within: 2 * time.Hour, Due: allFacts.Due}, want: "the inquiry stays open until it expires (2026-03-05 01:00 UTC).", wantSubstr: true},
		{r: utcEN, kind: "stage_changed", facts: notice.Facts{Product: "steel bolts M8", Stage: "DEPOSIT"}, want: "The deal for steel bolts M8 is now waiting for the deposit."},
		{r: cnZH, kind: "stage_changed", facts: notice.Facts{Product: "steel bolts M8", Stage: "DEPOSIT"}, want: "steel bolts M8 的交易当前状态：等待支付定金。"},
		{r: utcEN, kind: "stage_changed", facts: notice.Facts{Product: "x", Stage: "SOMETHING_NEW"}, want: "is now something_new.", wantSubstr: true},
		{r: cnZH, kind: "payment_failed", facts: notice.Facts{Step: "balance", Reason: "card_declined"}, want: "您的尾款付款失败（card_declined）：请重新支付。"},
		{r: utcEN, kind: "mediation_needed", facts: notice.Facts{Deal: "d9", Case: "buyer_default"}, want: "Buyer default on deal d9: decide on the deposit."},
		{r: utcEN, kind: "mediation_needed", facts: notice.Facts{Deal: "d9", Case: "dispute"}, want: "Deal d9 needs a mediator's decision."},
	} {
		got := Text(c.r, c.kind, c.facts, "")
		if (c.wantSubstr && !strings.Contains(got, c.want)) || (!c.wantSubstr && got != c.want) {
			t.Errorf("%s %s: %q, want %q", c.r.Lang, c.kind, got, c.want)
		}
	}
}

func TestDurationsInWords(t *testing.T) {
	for d, want := range map[time.Duration][2]string{
		72 * time.Hour:                  {"3 days", "3天"},
		36 * time.Hour:                  {"1 day 12 hours", "1天12小时"},
		2 * time.Hour:                   {"2 hours", "2小时"},
		150 * time.Minute:               {"2 hours 30 minutes", "2小时30分钟"},
		time.Minute:                     {"1 minute", "1分钟"},
		90 * time.Second:                {"1 minute 30 seconds", "1分钟30秒"},
		250 * time.Millisecond:          {"250 milliseconds", "250毫秒"},
		5*24*time.Hour + 59*time.Second: {"5 days", "5天"},
		0:                               {"no time", "0分钟"},
		-time.Hour:                      {"no time", "0分钟"},
	} {
		for i, l := range []Lang{English, Chinese} {
			if got := (reading{lang: l, zone: time.UTC}).For(d); got != want[i] {
				t.Errorf("%s: %s in words is %q, want %q", l, d, got, want[i])
			}
		}
	}
}

// A notification stored before notifications carried facts reads as its
// stored text; a kind no catalog words reads as its name in words.
func TestAKindNoCatalogWordsFallsBack(t *testing.T) {
	r := Reader{Lang: Chinese, Zone: shanghai}
	if got := Text(r, "made_up_kind", notice.Facts{}, "The stored text."); got != "The stored text." {
		t.Errorf("%q", got)
	}
	if got := Text(r, "made_up_kind", notice.Facts{}, ""); got != "made up kind" {
		t.Errorf("%q", got)
	}
	if got := Title(r, "made_up_kind"); got != "Made up kind" {
		t.Errorf("%q", got)
	}
	if got := Title(r, ""); got != "Notice" {
		t.Errorf("%q", got)
	}
}

func TestLanguagesAndZonesAreParsedStrictly(t *testing.T) {
	for in, want := range map[string]Lang{"en": English, "zh": Chinese, "zh-CN": Chinese, "ZH-Hans": Chinese, " en-GB ": English} {
		if got, ok := ParseLang(in); !ok || got != want {
			t.Errorf("ParseLang(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "fr", "english", "zh\x00", strings.Repeat("zh", 1000)} {
		if got, ok := ParseLang(in); ok {
			t.Errorf("ParseLang(%q) = %q, want refused", in, got)
		}
	}
	for _, in := range []string{"UTC", "Asia/Shanghai", "Europe/Berlin", "America/New_York"} {
		if _, err := ParseZone(in); err != nil {
			t.Errorf("ParseZone(%q): %v", in, err)
		}
	}
	for _, in := range []string{"", "Local", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "Asia/Shanghai\x00", strings.Repeat("A", 1000)} {
		if _, err := ParseZone(in); err == nil {
			t.Errorf("ParseZone(%q) accepted", in)
		}
	}
	if r := ReaderOf("xx", "Nowhere/Else"); r.Lang != English || r.Zone != time.UTC {
		t.Errorf("ReaderOf an unknown language and zone: %+v", r)
	}
	if r := ReaderOf("zh", "Asia/Shanghai"); r.Lang != Chinese || r.Zone.String() != "Asia/Shanghai" {
		t.Errorf("ReaderOf zh, Asia/Shanghai: %+v", r)
	}
}

// Facts are what people typed (a dispute's reason, a product's name):
// the plain text says them as they are, the mail's HTML part escapes
// them (internal/mail).
func TestFactsAreSaidAsTyped(t *testing.T) {
	got := Text(Default, "dispute_opened", notice.Facts{Reason: "<b>{{.Deal}}</b>", Within: time.Hour}, "")
	if got != "A dispute was opened (<b>{{.Deal}}</b>): answer within 1 hour." {
		t.Errorf("%q", got)
	}
}

// Every timeline entry the deal workflow makes (each EventType constant
// in workflows/events.go, and the entries of a shipment that ended
// without delivery), every quote's and proposal's status and every
// shipment status and every payment's kind and status is worded in
// every language: the console's deal and payments pages show them.
func TestEveryEntryAndStatusOfADealIsWordedInEveryLanguage(t *testing.T) {
	parsed, err := parser.ParseFile(token.NewFileSet(), "../../workflows/events.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(parsed, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || spec.Type == nil || fmt.Sprint(spec.Type) != "EventType" {
			return true
		}
		for _, v := range spec.Values {
			if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				value, _ := strconv.Unquote(lit.Value)
				names = append(names, "event."+value)
			}
		}
		return true
	})
	if len(names) < 50 {
		t.Fatalf("only %d event types found in workflows/events.go: the scan is broken", len(names))
	}
	for _, status := range []string{activities.TrackException, activities.TrackExpired, activities.TrackStalled} {
		names = append(names, "event."+string(workflows.EventShipmentEnded(status)))
	}
	for _, s := range []workflows.QuoteStatus{workflows.QuoteOpen, workflows.QuoteAccepted, workflows.QuoteClosed} {
		names = append(names, "quote.status."+string(s))
	}
	for _, s := range []workflows.ProposalStatus{workflows.ProposalOpen, workflows.ProposalAccepted, workflows.ProposalSuperseded} {
		names = append(names, "proposal.status."+string(s))
	}
	for _, s := range []string{activities.TrackPending, activities.TrackInfoReceived, activities.TrackInTransit, activities.TrackOutForDelivery,
		activities.TrackDelivered, activities.TrackException, activities.TrackAttemptFailed, activities.TrackAtPickup, activities.TrackExpired,
		activities.TrackStalled} {
		names = append(names, "track.status."+s)
	}
	for _, k := range []workflows.PaymentKind{workflows.PaymentCharge, workflows.PaymentRefund, workflows.PaymentTransfer} {
		names = append(names, "payment.kind."+string(k))
	}
	for _, s := range []workflows.PaymentStatus{workflows.PaymentInitiating, workflows.PaymentPending, workflows.PaymentSucceeded, workflows.PaymentDeclined} {
		names = append(names, "payment.status."+string(s))
	}
	for _, name := range names {
		for _, lang := range Langs {
			if !HasPhrase(lang, name) {
				t.Errorf("%s is not worded in %s", name, lang)
			}
		}
	}
	if got := Phrase(ReaderOf("zh", "Asia/Shanghai"), "event.quote_accepted", nil); got != "报价已接受" {
		t.Errorf("a Chinese reader reads quote_accepted as %q", got)
	}
}
