package console

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/tradeloop/tradeloop/internal/marketplace"
	"github.com/tradeloop/tradeloop/internal/texts"
	"github.com/tradeloop/tradeloop/internal/tier"
	"github.com/tradeloop/tradeloop/workflows"
)

// A console page fails as a page, with the status the API would answer:
// 404 for what the viewer may not see, 503 with Retry-After when the deal
// service did not answer, 500 for our own faults; requests outside the
// console are left to the API.
func TestPagesFailWithHonestStatuses(t *testing.T) {
	c := New(Deps{Logger: slog.New(slog.DiscardHandler)})
	e := echo.New()
	for _, tc := range []struct {
		err    error
		status int
		words  string
	}{
		{ErrNotFound, http.StatusNotFound, "Not found"},
		{&Unavailable{RetryAfter: 5, Cause: errors.New("deadline exceeded")}, http.StatusServiceUnavailable, "did not answer in time"},
		{echo.NewHTTPError(http.StatusForbidden), http.StatusForbidden, "not for your role"},
		{errors.New("a bug of ours"), http.StatusInternalServerError, "went wrong on our side"},
	} {
		rec := httptest.NewRecorder()
		ec := e.NewContext(httptest.NewRequest(http.MethodGet, "/app/deals/x", nil), rec)
		if !c.HandleError(tc.err, ec) {
			t.Fatalf("%v: not handled", tc.err)
		}
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.words) {
			t.Errorf("%v: %d %.200s", tc.err, rec.Code, rec.Body.String())
		}
		if tc.status == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") != "5" {
			t.Errorf("Retry-After %q", rec.Header().Get("Retry-After"))
		}
	}
	ec := e.NewContext(httptest.NewRequest(http.MethodGet, "/v1/deals", nil), httptest.NewRecorder())
	if c.HandleError(ErrNotFound, ec) {
		t.Error("an API request's error was taken by the console")
	}
}

// Where a sign-in may send the user next: console pages only.
func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/app": "/app", "/app/deals/d1": "/app/deals/d1", "": "", "/v1/deals": "", "//evil.example/app": "",
		"https://evil.example/app": "", "/app\\evil": "", "/app/x\r\nSet-Cookie: a=b": "", "/apps": "", "/app/" + strings.Repeat("a", 600): "",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every phrase the console's pages and forms use is worded in every
// language: the keys named in the templates and the Go code, and those
// made from a value (an outcome, a sample's status, a payment step).
func TestEveryPhraseOfTheConsoleIsWordedInEveryLanguage(t *testing.T) {
	keys := map[string]bool{}
	literal := regexp.MustCompile(`"((?:console|deadline|stage)\.[a-z_.]+[a-z_])"`)
	for _, dir := range []string{"templates", "."} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() || !(strings.HasSuffix(e.Name(), ".html") || strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go")) {
				continue
			}
			raw, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range literal.FindAllStringSubmatch(string(raw), -1) {
				if m[1] != whoKey {
					keys[m[1]] = true
				}
			}
		}
	}
	for _, o := range []string{workflows.OutcomeRefund, workflows.OutcomeRelease, workflows.OutcomeSplit} {
		keys["console.dispute.outcome."+o] = true
	}
	for _, s := range []workflows.SampleStatus{workflows.SampleRequested, workflows.SampleShipped, workflows.SampleDelivered, workflows.SampleApproved, workflows.SampleRejected} {
		keys["console.sample.status."+string(s)] = true
	}
	for _, step := range []string{"sample", "deposit", "balance"} {
		keys["console.act.pay."+step] = true
	}
	for _, t := range tier.All {
		keys["console.tier."+string(t)] = true
	}
	for _, v := range []string{"any", "yes", "no"} {
		keys["console.search.customizable."+v] = true
	}
	for _, v := range []string{marketplace.SortRelevance, marketplace.SortPrice, marketplace.SortLeadTime} {
		keys["console.search.sort."+v] = true
	}
	if len(keys) < 100 {
		t.Fatalf("only %d phrases found: the scan is broken", len(keys))
	}
	for key := range keys {
		for _, lang := range texts.Langs {
			if !texts.HasPhrase(lang, key) {
				t.Errorf("%s is not worded in %s", key, lang)
			}
		}
	}
}

// Every template a page invokes is defined where that page is rendered
// (its own file and the layout): one defined in another page's file would
// fail the page at every request.
func TestEveryPageDefinesTheTemplatesItInvokes(t *testing.T) {
	c := New(Deps{Logger: slog.New(slog.DiscardHandler)})
	invoke := regexp.MustCompile(`\{\{-?\s*template\s+"([^"]+)"`)
	layout, err := os.ReadFile(filepath.Join("templates", "layout.html"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.pages) < 10 {
		t.Fatalf("only %d pages", len(c.pages))
	}
	for name, tmpl := range c.pages {
		own, err := os.ReadFile(filepath.Join("templates", name+".html"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range invoke.FindAllStringSubmatch(string(layout)+string(own), -1) {
			if tmpl.Lookup(m[1]) == nil {
				t.Errorf("the %s page invokes %q, which is not defined for it", name, m[1])
			}
		}
	}
}

// The partial-update library is the file published as htmx 2.0.11
// (npm's htmx.org, dist/htmx.min.js), unchanged, with its licence beside
// it, and the layout loads that file.
func TestHtmxIsThePinnedReleaseWithItsLicence(t *testing.T) {
	raw, err := staticFiles.ReadFile("static/htmx-2.0.11.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if sum := fmt.Sprintf("%x", sha256.Sum256(raw)); sum != "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717" {
		t.Errorf("static/htmx-2.0.11.min.js is not the published file: sha256 %s", sum)
	}
	licence, err := staticFiles.ReadFile("static/htmx-2.0.11.LICENSE")
	if err != nil || !strings.Contains(string(licence), "Zero-Clause BSD") {
		t.Errorf("htmx's licence: %v %.40q", err, licence)
	}
	layout, err := templateFiles.ReadFile("templates/layout.html")
	if err != nil || !strings.Contains(string(layout), `<script src="/app/static/htmx-2.0.11.min.js" defer>`) {
		t.Errorf("the layout does not load the pinned htmx: %v", err)
	}
}

// A timeline entry's detail shows what people wrote and stages and
// statuses in the reader's words; the workflow's operator details
// (amounts in minor units, organization IDs, hashes) do not reach the
// page.
func TestTimelineDetailsAreForPeople(t *testing.T) {
	en, zh := page{Reader: texts.ReaderOf("en", "UTC")}, page{Reader: texts.ReaderOf("zh", "Asia/Shanghai")}
	for _, c := range []struct {
		p    page
		e    workflows.Event
		want string
	}{
		{en, workflows.Event{Type: workflows.EventProductionProgress, Detail: "50% half the bolts made"}, "50% half the bolts made"},
		{en, workflows.Event{Type: workflows.EventStageChanged, Detail: "CONTRACT"}, "at the contract, to be signed"},
		{zh, workflows.Event{Type: workflows.EventStageChanged, Detail: "CONTRACT"}, "合同待签署"},
		{zh, workflows.Event{Type: workflows.EventShipmentTracking, Detail: "in_transit"}, "运输中"},
		{en, workflows.Event{Type: workflows.EventQuoteAccepted, Detail: "q1 from 5f0e…: 780000 USD (deposit 234000, balance 546000)"}, ""},
		{en, workflows.Event{Type: workflows.EventPayout, Detail: "deposit-1: 229320 to supplier, 4680 commission, 0 refunded"}, ""},
		{en, workflows.Event{Type: workflows.EventContractReady, Detail: "terms sha256 e4f5"}, ""},
		{en, workflows.Event{Type: workflows.EventDisputeEscalated, Actor: "system", Detail: "dispute_answer_due"}, ""},
		{en, workflows.Event{Type: workflows.EventDisputeEscalated, Actor: "org-1", Detail: "no answer in a week"}, "no answer in a week"},
	} {
		if got := c.p.EventDetail(c.e); got != c.want {
			t.Errorf("%s %q reads %q, want %q", c.e.Type, c.e.Detail, got, c.want)
		}
	}
}
