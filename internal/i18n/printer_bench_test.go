package i18n

import (
	"testing"

	"golang.org/x/text/language"
)

// BenchmarkPrinterT is a page's label (no arguments: answered from the printer's cache after the first time) and
// a message with arguments (formatted each time).
//
//	go test -run XXX -bench BenchmarkPrinterT -benchmem ./internal/i18n/
func BenchmarkPrinterT(b *testing.B) {
	c, err := Load()
	if err != nil {
		b.Fatal(err)
	}
	p := c.Printer(language.Spanish)
	b.Run("label", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p.T("layout.sign_out") == "layout.sign_out" {
				b.Fatal("no message")
			}
		}
	})
	b.Run("with arguments", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p.T("layout.return_to", "Name", "Moodle") == "layout.return_to" {
				b.Fatal("no message")
			}
		}
	})
}

// TestPrinterTCachesOnlyCatalogIDs: an id with no message is answered with itself, every time, and kept nowhere.
func TestPrinterTCachesOnlyCatalogIDs(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	p := c.Printer(Source)
	for range 2 {
		if got := p.T("no.such.key"); got != "no.such.key" {
			t.Fatalf("T(no.such.key) = %q", got)
		}
		if got, want := p.T("layout.sign_out"), "Sign out"; got == "layout.sign_out" || got == "" {
			t.Fatalf("T(layout.sign_out) = %q, want a message such as %q", got, want)
		}
	}
	if _, ok := p.plain.Load("no.such.key"); ok {
		t.Error("an id without a message was cached")
	}
	if _, ok := p.plain.Load("layout.sign_out"); !ok {
		t.Error("a label was not cached")
	}
}
