package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
)

// TestAdminSwitchesLanguage: an administrator whose browser asks for English opens their account page, picks
// Español in the language list and saves; the page comes back in Spanish (with <html lang="es">, so a screen
// reader pronounces it right), the dashboard and navigation follow, and choosing the browser's language again
// returns to English.
func TestAdminSwitchesLanguage(t *testing.T) {
	inst := apptest.Start(t, apptest.Options{})
	ctx := browsertest.New(t, browsertest.Options{})
	d := pageDriver{t: t, ctx: ctx, base: inst.URL, name: "language", password: apptest.AdminPassword}
	d.signIn(inst.Admin.Username)
	if lang, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "en" {
		t.Fatalf("before: <html lang=%q>, want en", lang)
	}
	d.step("choose Español",
		chromedp.Navigate(inst.URL+"/account/password"),
		chromedp.WaitVisible(chromedp.ID("language")),
		chromedp.SetValue(chromedp.ID("language"), "es"),
		chromedp.Click(chromedp.ID("save-language")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash := d.text(".flash"); !strings.Contains(flash, "Se ha guardado su idioma") {
		t.Fatalf("flash after saving: %q", flash)
	}
	if lang, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "es" {
		t.Fatalf("after: <html lang=%q>, want es", lang)
	}
	browsertest.Screenshot(t, ctx, "language-spanish")
	d.step("open the dashboard", chromedp.Navigate(inst.URL+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := d.text("h1"); h != "Área personal" {
		t.Fatalf("dashboard heading %q, want Área personal", h)
	}
	if nav := d.text(`nav[aria-label="Principal"]`); !strings.Contains(nav, "Administración del sitio") {
		t.Fatalf("navigation %q", nav)
	}
	d.step("back to the browser's language",
		chromedp.Navigate(inst.URL+"/account/password"),
		chromedp.WaitVisible(chromedp.ID("language")),
		chromedp.SetValue(chromedp.ID("language"), ""),
		chromedp.Click(chromedp.ID("save-language")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash := d.text(".flash"); !strings.Contains(flash, "Your language has been saved") {
		t.Fatalf("flash after going back: %q", flash)
	}
}
