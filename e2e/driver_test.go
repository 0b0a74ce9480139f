package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/browsertest"
)

// pageDriver is what the tests that sign in as local accounts do with their browser: named steps that keep a
// screenshot and say what the page showed when they fail, an element's text, and signing in and out.
type pageDriver struct {
	t        *testing.T
	ctx      context.Context
	base     string // the instance's URL
	name     string // names the screenshots
	password string // every account's password
}

func (d pageDriver) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	if err := chromedp.Do(d.ctx, actions...); err != nil {
		browsertest.Screenshot(d.t, d.ctx, d.name+"-"+name+"-failed")
		body, _ := chromedp.Run(d.ctx, chromedp.Text(chromedp.CSS("main")))
		d.t.Fatalf("%s: %v\npage shows: %s", name, err, body)
	}
}

func (d pageDriver) text(sel string) string {
	d.t.Helper()
	v, err := chromedp.Run(d.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		d.t.Fatalf("read %s: %v", sel, err)
	}
	return v
}

func (d pageDriver) signIn(username string) {
	d.t.Helper()
	d.step("sign in as "+username,
		chromedp.Navigate(d.base+"/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), username),
		chromedp.SendKeys(chromedp.ID("password"), d.password),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("courses-heading")),
	)
}

// signOut waits for the sign-in page itself to have loaded: pages such as Enrolments have a #username field too,
// so waiting for that field could return before the sign-out's navigation ends, and the next Navigate would then
// abort it (net::ERR_ABORTED).
func (d pageDriver) signOut() {
	d.t.Helper()
	d.step("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	if err := browsertest.WaitFor(d.ctx, browsertest.Loaded("/login"), 20*time.Second); err != nil {
		browsertest.Screenshot(d.t, d.ctx, d.name+"-sign-out-failed")
		d.t.Fatalf("the sign-out never reached the sign-in page: %v", err)
	}
}
