package i18n

import (
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

// TestLanguagesLoadOnFirstUse: a language other than the source is kept in memory only from the first request
// that reads it; requests racing to be first get one printer; a message its catalog lacks comes from English.
func TestLanguagesLoadOnFirstUse(t *testing.T) {
	fsys := fstest.MapFS{
		"locales/en.json":      {Data: []byte(`{"language.name": "English", "greet": "Hello {{.Name}}", "only.en": "Only in English"}`)},
		"locales/es.json":      {Data: []byte(`{"language.name": "Español", "greet": "Hola {{.Name}}"}`)},
		"locales/area.es.json": {Data: []byte(`{"area.word": "Palabra"}`)},
		"locales/area.en.json": {Data: []byte(`{"area.word": "Word"}`)},
	}
	c, err := load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	es := c.Choose("es-419")
	if c.printers[es].p != nil {
		t.Fatal("Spanish was kept in memory before anybody read it")
	}
	if got := c.Languages(); len(got) != 2 || got[1].Name != "Español" {
		t.Fatalf("languages %v: a language's own name is known before it is loaded", got)
	}
	var wg sync.WaitGroup
	got := make([]*Printer, 8)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = c.Printer(es) }()
	}
	wg.Wait()
	for _, p := range got {
		if p != got[0] {
			t.Fatal("two printers of one language")
		}
	}
	p := got[0]
	for _, tc := range []struct{ got, want string }{
		{p.T("greet", "Name", "Ada"), "Hola Ada"},
		{p.T("area.word"), "Palabra"},
		{p.T("only.en"), "Only in English"},
		{p.T("nowhere"), "nowhere"},
		{c.Printer(Source).T("greet", "Name", "Ada"), "Hello Ada"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if !p.Has("only.en") || p.Has("nowhere") {
		t.Error("Has does not see the English fallback, or sees a message nobody wrote")
	}
}

// TestBrokenCatalogFailsLoad: a broken file of a language nobody has read yet still stops the start.
func TestBrokenCatalogFailsLoad(t *testing.T) {
	_, err := load(fstest.MapFS{
		"locales/en.json": {Data: []byte(`{"language.name": "English"}`)},
		"locales/es.json": {Data: []byte(`{"language.name": "Español",`)},
	})
	if err == nil || !strings.Contains(err.Error(), "es.json") {
		t.Fatalf("err = %v, want one naming es.json", err)
	}
}
