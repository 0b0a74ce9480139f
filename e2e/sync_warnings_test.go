package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/publish"
)

// TestSyncWarningsInBrowser: a learner launches, from a platform that offers neither grades (AGS) nor rosters
// (NRPS), a quiz published with grade and member sync on; the admin sees both warnings, with Moodle's fix, on
// the published resource's entry, on that launch's launch log line and on the Sync page.
func TestSyncWarningsInBrowser(t *testing.T) {
	t.Parallel()
	inst, p, r := published(t, func(in *publish.Input) { in.GradeSync, in.MemberSync = true, true })
	spec := studentSpec("no-services", r) // no AGS, no NRPS claim
	jar, _ := cookiejar.New(nil)
	res, err := p.Launch(context.Background(), &http.Client{Jar: jar}, spec)
	if err != nil || res.Response.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), "quiz-form") {
		t.Fatalf("launch: %v", err)
	}

	ctx := browsertest.New(t, browsertest.Options{Timeout: 90 * time.Second})
	err = chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), apptest.AdminPassword),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("site-admin-link")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "sync-warnings-signin-failed")
		t.Fatalf("sign in: %v", err)
	}
	pages := map[string]string{
		"published resource": fmt.Sprintf("/courses/%d/published", r.CourseID),
		"launch log":         "/admin/launches",
		"sync page":          "/admin/sync",
	}
	for name, path := range pages {
		if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+path), chromedp.WaitVisible(chromedp.CSS(".warning"))); err != nil {
			browsertest.Screenshot(t, ctx, "sync-warnings-"+strings.ReplaceAll(name, " ", "-"))
			t.Fatalf("%s: no warning shown: %v", name, err)
		}
		text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll(".warning")].map(e => e.innerText).join("\n")`))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			`"IMS LTI Assignment and Grade Services" to "Use this service for grade sync and column management"`,
			`"Share launcher's name with tool" and "Share launcher's email with tool" to "Always"`,
		} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the warning does not say %s; it says:\n%s", name, want, text)
			}
		}
		browsertest.Screenshot(t, ctx, "sync-warnings-"+strings.ReplaceAll(name, " ", "-"))
	}
}
