package i18n

import (
	"encoding/json"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// pluralForms are the CLDR plural forms each language's plural messages must give (go-i18n picks among them).
var pluralForms = map[string][]string{
	"en": {"one", "other"},
	"es": {"one", "many", "other"},
}

var placeholder = regexp.MustCompile(`\{\{\s*\.([A-Za-z0-9_]+)\s*\}\}`)

// readCatalog reads one locale file raw: message id → plural form ("other" for a plain string) → text.
func readCatalog(t *testing.T, file string) map[string]map[string]string {
	t.Helper()
	b, err := fs.ReadFile(localeFS, file)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	out := map[string]map[string]string{}
	for id, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			out[id] = map[string]string{"other": s}
			continue
		}
		var m map[string]string
		if err := json.Unmarshal(v, &m); err != nil {
			t.Fatalf("%s: message %q is neither a string nor a map of plural forms: %v", file, id, err)
		}
		delete(m, "description")
		out[id] = m
	}
	return out
}

func placeholders(forms map[string]string) string {
	set := map[string]bool{}
	for _, s := range forms {
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			set[m[1]] = true
		}
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// TestCatalogsComplete is the translators' contract: every key of the source catalog exists in every other one,
// with the same placeholders, plural messages give the forms their language needs, and no catalog carries a key
// the source does not (a leftover nobody reads).
func TestCatalogsComplete(t *testing.T) {
	byLang, err := catalogsByLanguage(t)
	if err != nil || len(byLang) < 2 {
		t.Fatalf("catalogs: %v %v", byLang, err)
	}
	src := byLang["en"]
	for lang, cat := range byLang {
		forms, ok := pluralForms[lang]
		if !ok {
			t.Errorf("%s: add the CLDR plural forms of %q to pluralForms in this test", lang, lang)
		}
		for id, want := range src {
			got, ok := cat[id]
			if !ok {
				t.Errorf("%s: missing translation of %q (English: %q)", lang, id, want["other"])
				continue
			}
			if p, q := placeholders(want), placeholders(got); p != q {
				t.Errorf("%s: %q has placeholders [%s], English has [%s]", lang, id, q, p)
			}
			if len(want) > 1 || want["one"] != "" { // a plural message
				for _, form := range forms {
					if got[form] == "" {
						t.Errorf("%s: plural message %q lacks the %q form", lang, id, form)
					}
				}
			}
			for form, s := range got {
				if strings.TrimSpace(s) == "" {
					t.Errorf("%s: %q form %q is empty", lang, id, form)
				}
			}
		}
		for id := range cat {
			if _, ok := src[id]; !ok {
				t.Errorf("%s: %q is not in the English catalogs (remove it, or add the English first)", lang, id)
			}
		}
	}
}

// catalogsByLanguage merges each language's files (locales/<tag>.json and locales/<area>.<tag>.json, the way
// go-i18n names them) and fails on a key given twice for one language: go-i18n would keep one silently.
func catalogsByLanguage(t *testing.T) (map[string]map[string]map[string]string, error) {
	t.Helper()
	files, err := fs.Glob(localeFS, "locales/*.json")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]map[string]string{}
	from := map[string]string{} // lang/id → file
	for _, f := range files {
		parts := strings.Split(strings.TrimSuffix(path.Base(f), ".json"), ".")
		lang := parts[len(parts)-1]
		if out[lang] == nil {
			out[lang] = map[string]map[string]string{}
		}
		for id, forms := range readCatalog(t, f) {
			if prev, dup := from[lang+"/"+id]; dup {
				t.Errorf("%q is in both %s and %s", id, prev, f)
			}
			from[lang+"/"+id] = f
			out[lang][id] = forms
		}
	}
	return out, nil
}

func TestChoose(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefs []string
		want  string
	}{
		{[]string{"es-419"}, "es"},
		{[]string{"es_ES"}, "es"},
		{[]string{"es-ES", "en"}, "es"},
		{[]string{"fr", "", "es"}, "es"},
		{[]string{"fr", "fr-CA;q=0.9, es;q=0.5"}, "es"},
		{[]string{"en-GB"}, "en"},
		{[]string{"fr"}, "en"},
		{[]string{"not a tag!"}, "en"},
		{[]string{"tlh", "es"}, "es"}, // CLDR maps Klingon to English; ltipub does not
		{nil, "en"},
	} {
		if got := c.Choose(tc.prefs...).String(); got != tc.want {
			t.Errorf("Choose(%q) = %s, want %s", tc.prefs, got, tc.want)
		}
	}
}

func TestPrinterPlurals(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	es := c.Printer(c.Choose("es"))
	en := c.Printer(c.Choose("en"))
	if got := es.T("language.name"); got != "Español" {
		t.Errorf("es language.name = %q", got)
	}
	if got := en.T("no.such.key"); got != "no.such.key" {
		t.Errorf("missing key shows %q, want its id", got)
	}
	if got, want := en.T("list.showing", "From", 1, "To", 1, "Count", 1), "Showing 1–1 of 1"; got != want {
		t.Errorf("en one = %q, want %q", got, want)
	}
	if got, want := es.T("list.showing", "From", 51, "To", 100, "Count", 5000), "Mostrando 51–100 de 5000"; got != want {
		t.Errorf("es other = %q, want %q", got, want)
	}
}
