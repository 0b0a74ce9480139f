package e2e

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
)

// TestFirstAdminMustChooseAPassword: the administrator serve generates on a new site signs in with the printed
// password, is taken to the password page whatever they open, chooses a password, and from then on signs in
// with it straight to the dashboard.
func TestFirstAdminMustChooseAPassword(t *testing.T) {
	inst := apptest.Start(t, apptest.Options{NoAdmin: true})
	var printed bytes.Buffer
	if err := inst.App.BootstrapAdmin(context.Background(), &printed); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(printed.String())
	if m == nil {
		t.Fatalf("no password in %q", printed.String())
	}
	generated := m[1]
	ctx := browsertest.New(t, browsertest.Options{})

	signIn := func(password string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{
			chromedp.Navigate(inst.URL + "/login?next=/admin/settings"),
			chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), "admin"),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.ID("sign-in")),
		}
	}
	err := chromedp.Do(ctx, append(signIn(generated), chromedp.WaitVisible(chromedp.ID("must-change")))...)
	if err != nil {
		browsertest.Screenshot(t, ctx, "first-admin-failed")
		t.Fatalf("first sign-in did not ask for a new password: %v", err)
	}
	// Any other page leads back to the password page until a password is chosen.
	err = chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/admin/users"), chromedp.WaitVisible(chromedp.ID("must-change")))
	if err != nil {
		t.Fatalf("the users page was reachable before the password was changed: %v", err)
	}
	browsertest.Screenshot(t, ctx, "first-admin-password")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("current"), generated),
		chromedp.SendKeys(chromedp.ID("new"), "the admin's own password"),
		chromedp.SendKeys(chromedp.ID("confirm"), "the admin's own password"),
		chromedp.Click(chromedp.CSS(`form[action="/account/password"] button`)),
		chromedp.WaitNotPresent(chromedp.ID("must-change")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "first-admin-change-failed")
		t.Fatalf("change the password: %v", err)
	}
	flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash")))
	if !strings.Contains(flash, "password has been changed") {
		t.Fatalf("flash %q", flash)
	}
	steps := append([]chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.ID("username")),
	}, signIn("the admin's own password")...)
	err = chromedp.Do(ctx, append(steps, chromedp.WaitVisible(chromedp.ID("save-settings")))...)
	if err != nil {
		browsertest.Screenshot(t, ctx, "first-admin-second-signin-failed")
		t.Fatalf("signing in with the chosen password did not reach the settings: %v", err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#must-change").length`)); n != 0 {
		t.Fatal("the password page still asks for a change")
	}
}
