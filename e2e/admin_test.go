package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
)

// TestAdminSignsInAndReachesSettings: open the site, sign in as the admin, reach the settings page from Site
// administration, turn publishing off and see it saved.
func TestAdminSignsInAndReachesSettings(t *testing.T) {
	inst := apptest.Start(t, apptest.Options{})
	ctx := browsertest.New(t, browsertest.Options{})

	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), apptest.AdminPassword),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("site-admin-link")),
		chromedp.Click(chromedp.ID("site-admin-link")),
		chromedp.WaitVisible(chromedp.ID("admin-settings-link")),
		chromedp.Click(chromedp.ID("admin-settings-link")),
		chromedp.WaitVisible(chromedp.ID("save-settings")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "admin-settings-failed")
		t.Fatalf("sign in and open settings: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || heading != "Site settings" {
		t.Fatalf("settings heading %q, %v", heading, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("publishing_enabled")),
		chromedp.Click(chromedp.ID("save-settings")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if err != nil {
		t.Fatalf("save settings: %v", err)
	}
	browsertest.Screenshot(t, ctx, "admin-settings")
	flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash")))
	checked, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("publishing_enabled").checked`))
	if !strings.Contains(flash, "Settings saved") || checked {
		t.Fatalf("flash %q, publishing still checked = %v", flash, checked)
	}
}
