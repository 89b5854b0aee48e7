// Package texts words notifications for the people who read them: each
// kind's text, its title and the mail's frame, in the reader's language
// (English or Simplified Chinese), with money as people write it ("USD
// 2,340.00", "JPY 1,200"), durations in words and times in the reader's
// time zone. The words live in message catalogs apart from the code
// (messages/<language>.tmpl, Go templates); a notification carries only
// its kind and facts (internal/notice), so the same notification reads in
// English to one user and in Chinese to another.
package texts

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"
	_ "time/tzdata" // time zones by name on machines without a zone database

	"github.com/tradeloop/tradeloop/internal/money"
	"github.com/tradeloop/tradeloop/internal/notice"
)

// Lang is a language notifications are worded in.
type Lang string

// The languages of the catalogs.
const (
	English Lang = "en"
	Chinese Lang = "zh" // Simplified Chinese
)

// Langs are the languages a user may choose, the default first.
var Langs = []Lang{English, Chinese}

// ParseLang returns the language named s ("en", "zh"; "zh-CN" and
// "zh-Hans" are Chinese, "en-GB" English).
func ParseLang(s string) (Lang, bool) {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "-")
	l := Lang(base)
	return l, slices.Contains(Langs, l)
}

// ParseZone returns the IANA time zone named s ("Asia/Shanghai", "UTC").
// It refuses "Local" and the empty name, which mean the server's zone.
func ParseZone(s string) (*time.Location, error) {
	if s == "" || s == "Local" || len(s) > 64 {
		return nil, fmt.Errorf("time zone %q: not an IANA time zone name", s)
	}
	if loc, ok := zones.Load(s); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: not an IANA time zone name", s)
	}
	zones.Store(s, loc)
	return loc, nil
}

// zones are the time zones loaded so far, by name: loading one reads and
// parses the zone database each time (about 15 µs), and every inbox entry
// and mail is worded in its reader's zone. Only names the database knows
// are kept, so it holds at most the database's few hundred zones.
var zones sync.Map

// Reader is who a text is worded for.
type Reader struct {
	Lang Lang
	Zone *time.Location
}

// ReaderOf is the reader of language lang and time zone zone as a user's
// settings hold them; what the catalogs do not know reads as English in
// UTC.
func ReaderOf(lang, zone string) Reader {
	r := Reader{Lang: English, Zone: time.UTC}
	if l, ok := ParseLang(lang); ok {
		r.Lang = l
	}
	if loc, err := ParseZone(zone); err == nil {
		r.Zone = loc
	}
	return r
}

// Default is the reader of texts made for no one in particular (the
// outbox's own copy, webhooks, logs): English, UTC.
var Default = Reader{Lang: English, Zone: time.UTC}

//go:embed messages/*.tmpl
var files embed.FS

// catalogs are the parsed message catalogs by language; they are never
// changed after parsing.
var catalogs = func() map[Lang]*template.Template {
	out := map[Lang]*template.Template{}
	for _, l := range Langs {
		out[l] = template.Must(template.New(string(l)).Option("missingkey=error").ParseFS(files, "messages/"+string(l)+".tmpl"))
	}
	return out
}()

// Has reports whether lang's catalog words kind (its text and its title).
func Has(lang Lang, kind string) bool {
	c := catalogs[lang]
	return c != nil && c.Lookup(kind) != nil && c.Lookup(kind+".title") != nil
}

// HasPhrase reports whether lang's catalog words the phrase name (Phrase),
// without falling back to English.
func HasPhrase(lang Lang, name string) bool {
	c := catalogs[lang]
	return c != nil && c.Lookup(name) != nil
}

// Text is the text of a notification of kind stating facts, for r. A kind
// r's language does not word reads in English; one no catalog words reads
// as fallback (the text stored with notifications made before they carried
// facts), or as its kind in words.
func Text(r Reader, kind string, facts notice.Facts, fallback string) string {
	if out, ok := r.first(kind, func(l Lang) any { return r.reading(l, facts) }); ok {
		return out
	}
	if fallback != "" {
		return fallback
	}
	return strings.ReplaceAll(kind, "_", " ")
}

// Title is a notification kind's title (a mail's subject), for r.
func Title(r Reader, kind string) string {
	if out, ok := r.first(kind+".title", func(l Lang) any { return r.reading(l, notice.Facts{}) }); ok {
		return out
	}
	words := strings.ReplaceAll(kind, "_", " ")
	if words == "" {
		return "Notice"
	}
	return strings.ToUpper(words[:1]) + words[1:]
}

// Phrase is one of the catalog's phrases that belong to no kind (a mail's
// greeting, its footer), for r, with data filled in.
func Phrase(r Reader, name string, data any) string {
	out, _ := r.first(name, func(Lang) any { return data })
	return out
}

// StageName is a deal's stage (workflows.Stage) in r's words.
func StageName(r Reader, stage string) string {
	return r.reading(r.Lang, notice.Facts{Stage: stage}).StageName()
}

// Duration is d in r's words, in its two largest units.
func Duration(r Reader, d time.Duration) string {
	return r.reading(r.Lang, notice.Facts{}).For(d)
}

// Time is t to the minute in r's time zone and words.
func Time(r Reader, t time.Time) string {
	return r.reading(r.Lang, notice.Facts{}).At(t)
}

// Day is t's date in r's time zone and words ("2026-03-02",
// "2026年3月2日").
func Day(r Reader, t time.Time) string {
	return r.reading(r.Lang, notice.Facts{}).Day(t)
}

// first runs the template name in r's language, else in English, over the
// data data gives for that language; ok is false when neither catalog
// words it.
func (r Reader) first(name string, data func(Lang) any) (string, bool) {
	for _, l := range []Lang{r.Lang, English} {
		if out, err := run(l, name, data(l)); err == nil {
			return out, true
		}
	}
	return "", false
}

// reading is what lang's templates read of facts, for r.
func (r Reader) reading(lang Lang, facts notice.Facts) reading {
	zone := r.Zone
	if zone == nil {
		zone = time.UTC
	}
	return reading{Facts: facts, lang: lang, zone: zone}
}

// run runs lang's template name over data.
func run(lang Lang, name string, data any) (string, error) {
	c := catalogs[lang]
	if c == nil {
		return "", fmt.Errorf("no %q catalog", lang)
	}
	t := c.Lookup(name)
	if t == nil {
		return "", fmt.Errorf("the %q catalog has no %q", lang, name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("%s %s: %w", lang, name, err)
	}
	return b.String(), nil
}

// reading is what a kind's template reads: the facts, and the reader's
// ways of saying money, durations, times and stages.
type reading struct {
	notice.Facts
	lang Lang
	zone *time.Location
}

// Money is the facts' amount in their currency: "USD 2,340.00".
func (r reading) Money() string { return money.Format(r.Amount, r.Currency) }

// WasMoney is the facts' former amount in their currency.
func (r reading) WasMoney() string { return money.Format(r.Was, r.Currency) }

// Many is the facts' quantity as people write it: "20,000".
func (r reading) Many() string { return money.Count(r.Quantity) }

// For is d in words, in its two largest units: "1 day 12 hours",
// "1天12小时".
func (r reading) For(d time.Duration) string {
	parts := notice.Parts(d)
	if len(parts) == 0 {
		return r.phrase("duration.none", nil)
	}
	words := make([]string, len(parts))
	for i, p := range parts {
		words[i] = r.phrase("unit."+string(p.Unit), p)
	}
	return strings.Join(words, r.phrase("duration.join", nil))
}

// At is t to the minute in the reader's time zone.
func (r reading) At(t time.Time) string {
	return t.In(r.zone).Format(r.phrase("layout.time", nil))
}

// Day is t's date in the reader's time zone.
func (r reading) Day(t time.Time) string {
	return t.In(r.zone).Format(r.phrase("layout.date", nil))
}

// StageName is the facts' stage in words ("waiting for the deposit").
func (r reading) StageName() string {
	if s := r.phrase("stage."+r.Stage, nil); s != "" {
		return s
	}
	return strings.ToLower(r.Stage)
}

// StepName is the facts' payment step in words ("deposit").
func (r reading) StepName() string {
	if s := r.phrase("step."+r.Step, nil); s != "" {
		return s
	}
	return r.Step
}

// phrase is the reader's catalog's template name over data, or "".
func (r reading) phrase(name string, data any) string {
	out, _ := run(r.lang, name, data)
	return out
}
