// Package i18n gives every string a person reads in their language: message catalogs embedded in the binary (one
// JSON file per language under locales/, in go-i18n's format, which translators' tools read), the choice of
// language for a request, and a Printer that formats a message with its placeholders and plural forms.
//
// Adding a language is adding files: locales/<tag>.json and locales/<area>.<tag>.json (an area's keys kept apart, so
// that the pages of different areas are translated without touching one file), with every key of the English ones
// (TestCatalogsComplete fails, naming the key, when one is missing or its placeholders differ).
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed locales/*.json
var localeFS embed.FS

// Source is the language the catalogs are written from, and the last resort.
var Source = language.English

// Catalog holds every language's messages.
//
// The source language's messages are parsed at Load and kept; every other language's are parsed at Load too (so
// that a broken file fails the start, not a request), then dropped, and parsed again for good when a request first
// asks for that language. A language costs memory only where somebody reads it: an English-only site keeps one
// language's two thousand messages, not every language's (with Moodle's hundred languages, a few hundred MB).
type Catalog struct {
	fsys     fs.FS
	tags     []language.Tag // supported, Source first
	matcher  language.Matcher
	names    map[string]string // tag → the language's own name ("Español")
	printers map[language.Tag]*lazyPrinter
}

// lazyPrinter is a language's printer, made on first use from its files.
type lazyPrinter struct {
	files []string
	once  sync.Once
	p     *Printer
}

// Load parses the embedded catalogs.
func Load() (*Catalog, error) { return load(localeFS) }

func load(fsys fs.FS) (*Catalog, error) {
	files, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	byTag := map[language.Tag][]string{}
	for _, f := range files {
		// go-i18n's naming: <tag>.json or <area>.<tag>.json.
		parts := strings.Split(strings.TrimSuffix(path.Base(f), ".json"), ".")
		t, err := language.Parse(parts[len(parts)-1])
		if err != nil {
			return nil, fmt.Errorf("load catalog %s: the file name does not end in a language tag: %w", path.Base(f), err)
		}
		byTag[t] = append(byTag[t], f)
	}
	if len(byTag[Source]) == 0 {
		return nil, fmt.Errorf("load catalogs: no %s catalog, the source language", Source)
	}
	c := &Catalog{fsys: fsys, names: map[string]string{}, printers: map[language.Tag]*lazyPrinter{}}
	c.tags = append(c.tags, Source)
	for t := range byTag {
		if t != Source {
			c.tags = append(c.tags, t)
		}
	}
	sort.Slice(c.tags[1:], func(i, j int) bool { return c.tags[1+i].String() < c.tags[1+j].String() })
	c.matcher = language.NewMatcher(c.tags)
	for _, t := range c.tags {
		c.printers[t] = &lazyPrinter{files: byTag[t]}
	}
	src, err := c.newPrinter(Source, nil)
	if err != nil {
		return nil, err
	}
	lp := c.printers[Source]
	lp.once.Do(func() { lp.p = src })
	for _, t := range c.tags {
		p := src
		if t != Source {
			if p, err = c.newPrinter(t, src); err != nil { // checked now, kept from its first use
				return nil, err
			}
		}
		c.names[t.String()] = p.T("language.name")
	}
	return c, nil
}

// newPrinter parses the files of language t into a printer of its own, falling back to the source's printer for a
// message its catalog lacks.
func (c *Catalog) newPrinter(t language.Tag, fallback *Printer) (*Printer, error) {
	b := goi18n.NewBundle(t)
	plain := map[string]string{}
	for _, f := range c.printers[t].files {
		buf, err := fs.ReadFile(c.fsys, f)
		if err != nil {
			return nil, fmt.Errorf("load catalog %s: %w", path.Base(f), err)
		}
		mf, err := goi18n.ParseMessageFileBytes(buf, f, unmarshalers)
		if err != nil {
			return nil, fmt.Errorf("load catalog %s: %w", path.Base(f), err)
		}
		// Three messages in four are a plain label: kept as a string, not as go-i18n's template per plural form
		// (a map and a template each, most of the catalogs' memory).
		var templated []*goi18n.Message
		for _, m := range mf.Messages {
			if m.Zero == "" && m.One == "" && m.Two == "" && m.Few == "" && m.Many == "" && !strings.Contains(m.Other, "{{") {
				plain[m.ID] = m.Other
				continue
			}
			templated = append(templated, m)
		}
		if err := b.AddMessages(t, templated...); err != nil {
			return nil, fmt.Errorf("load catalog %s: %w", path.Base(f), err)
		}
	}
	return &Printer{tag: t, loc: goi18n.NewLocalizer(b, t.String()), plainMsgs: plain, num: message.NewPrinter(t), fallback: fallback}, nil
}

var unmarshalers = map[string]goi18n.UnmarshalFunc{"json": json.Unmarshal}

// Languages lists the supported languages, the source first.
func (c *Catalog) Languages() []Language {
	out := make([]Language, 0, len(c.tags))
	for _, t := range c.tags {
		out = append(out, Language{Tag: t.String(), Name: c.names[t.String()]})
	}
	return out
}

// Language is one supported language: its tag and its own name.
type Language struct {
	Tag  string
	Name string
}

// Supported reports whether tag names a language with a catalog (after matching: "es-419" is Spanish).
func (c *Catalog) Supported(tag string) bool {
	_, ok := c.match(tag)
	return ok
}

// Choose picks the language of a request: the first preference that matches a catalog wins. Each preference is a
// BCP 47 tag ("es-419") or an Accept-Language header ("fr;q=0.9, es;q=0.8"); empty and unmatched ones are skipped.
// With nothing matching, the source language.
func (c *Catalog) Choose(prefs ...string) language.Tag {
	for _, p := range prefs {
		if t, ok := c.match(p); ok {
			return t
		}
	}
	return Source
}

// match finds the supported language closest to pref, when it is close enough to read (es-ES and es-419 are
// Spanish; fr is not English).
func (c *Catalog) match(pref string) (language.Tag, bool) {
	pref = strings.TrimSpace(pref)
	if pref == "" {
		return language.Tag{}, false
	}
	// LTI 1.1 platforms send locales with underscores (es_ES).
	tags, _, err := language.ParseAcceptLanguage(strings.ReplaceAll(pref, "_", "-"))
	if err != nil || len(tags) == 0 {
		return language.Tag{}, false
	}
	for _, t := range tags {
		_, i, conf := c.matcher.Match(t)
		// The same base language too: CLDR lets some languages fall back to another one their speakers often
		// read (Klingon to English), which is no answer to "which language does this person use".
		got, _ := c.tags[i].Base()
		want, _ := t.Base()
		if conf >= language.High && got == want {
			return c.tags[i], true
		}
	}
	return language.Tag{}, false
}

// Printer formats messages in one language.
type Printer struct {
	tag language.Tag
	loc *goi18n.Localizer
	// plainMsgs are the messages without placeholders or plural forms, as they read.
	plainMsgs map[string]string
	num       *message.Printer
	// fallback is the source language's printer, for a message this language's catalog lacks (nil for the source).
	fallback *Printer
	// plain keeps what T gave for a message without arguments (id → string): the catalog does not change once
	// loaded, and a page asks for the same labels on every view (go-i18n looks the message up and runs its template
	// each time).
	plain sync.Map
}

// Printer returns the printer of a supported language (what Choose returns); others get the source language's.
func (c *Catalog) Printer(tag language.Tag) *Printer {
	lp, ok := c.printers[tag]
	if !ok {
		lp = c.printers[Source]
	}
	lp.once.Do(func() {
		p, err := c.newPrinter(tag, c.printers[Source].p)
		if err != nil { // Load parsed the same embedded files without error
			panic(err)
		}
		lp.p = p
	})
	return lp.p
}

// Lang is the printer's language tag, for <html lang>.
func (p *Printer) Lang() string { return p.tag.String() }

// Tag is the printer's language.
func (p *Printer) Tag() language.Tag { return p.tag }

// T formats message id with args given as name, value pairs ("Name", "Ada", "Count", 3). A "Count" argument also
// picks the plural form. A missing message shows its id, so a forgotten key is visible on the page and caught by
// the catalog tests, never a blank.
func (p *Printer) T(id string, args ...any) string {
	if len(args) == 0 {
		if s, ok := p.plain.Load(id); ok {
			return s.(string)
		}
		s, found := p.localize(id)
		if found { // only the catalog's ids: an id made from a request's data must not grow the cache
			p.plain.Store(id, s)
		}
		return s
	}
	s, _ := p.localize(id, args...)
	return s
}

// localize is T without the cache of messages without arguments; found is false when id has no message.
func (p *Printer) localize(id string, args ...any) (s string, found bool) {
	if s, ok := p.plainMsgs[id]; ok {
		return s, true
	}
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		data := make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			k, _ := args[i].(string)
			data[k] = args[i+1]
			if k == "Count" {
				cfg.PluralCount = args[i+1]
			}
		}
		cfg.TemplateData = data
	}
	s, err := p.loc.Localize(cfg)
	if err != nil && s == "" {
		if p.fallback != nil {
			return p.fallback.localize(id, args...)
		}
		return id, false
	}
	return s, err == nil
}

// Has reports whether id has a message in the printer's language or the source.
func (p *Printer) Has(id string) bool {
	if _, ok := p.plainMsgs[id]; ok {
		return true
	}
	_, err := p.loc.Localize(&goi18n.LocalizeConfig{MessageID: id})
	return err == nil || p.fallback != nil && p.fallback.Has(id)
}

// N formats a number the language's way (1,234.5 in English, 1234,5 and 12.345 in Spanish).
func (p *Printer) N(n any) string { return p.num.Sprint(n) }

// Date formats a time as a day, with the month's name in the language ("2 Dec 2026", "2 dic 2026").
func (p *Printer) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return p.T("date.day", "Day", t.Day(), "Month", p.T(monthKeys[t.Month()-1]), "Year", t.Year())
}

// DateTime formats a time as a day and a 24-hour clock time, in t's location.
func (p *Printer) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return p.T("date.day_time", "Date", p.Date(t), "Time", t.Format("15:04"))
}

var monthKeys = [12]string{"date.month.1", "date.month.2", "date.month.3", "date.month.4", "date.month.5", "date.month.6",
	"date.month.7", "date.month.8", "date.month.9", "date.month.10", "date.month.11", "date.month.12"}

// Decimal rewrites a number written with a decimal point ("2.5", "-0.25") with the language's decimal separator.
func (p *Printer) Decimal(s string) string {
	sep := p.T("number.decimal_separator")
	if sep == "." || sep == "" {
		return s
	}
	return strings.Replace(s, ".", sep, 1)
}
