package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/jobs"
)

// TestSyncPageFollowsARunningSync: the admin Sync page shows a running member sync's counts as they change and
// its end, without a reload (static/sync.js polling /admin/sync/status.json).
func TestSyncPageFollowsARunningSync(t *testing.T) {
	inst := apptest.Start(t, apptest.Options{})
	ctx := browsertest.New(t, browsertest.Options{})
	st := inst.Store
	run := jobs.Run{Kind: jobs.KindMembers, Cause: jobs.CausePeriodic, Status: jobs.StatusRunning, StartedAt: time.Now()}
	if err := st.StartRun(t.Context(), &run); err != nil {
		t.Fatal(err)
	}
	run.Links, run.Enrolled, run.UpdatedAt = 1, 3, time.Now()
	if err := st.SaveRunProgress(t.Context(), run); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/admin/sync"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), apptest.AdminPassword),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("runs-members")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "sync-page-failed")
		t.Fatalf("open the Sync page: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.notReloaded = 1`)); err != nil {
		t.Fatal(err)
	}
	// The Enrolled column of the run's row, and the status.
	cell := func() (string, string) {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(function () {
			var tr = document.querySelector('#runs-members tr');
			return tr ? [tr.children[6].textContent, tr.children[2].textContent] : ["", ""];
		})()`))
		if err != nil || len(v) != 2 {
			t.Fatalf("read the run's row: %v", err)
		}
		return v[0], v[1]
	}
	if enrolled, status := cell(); enrolled != "3" || status != "running" {
		t.Fatalf("as loaded: enrolled %q, status %q", enrolled, status)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				browsertest.Screenshot(t, ctx, "sync-page-stale")
				t.Fatalf("the page did not show %s", what)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	run.Enrolled, run.UpdatedAt = 7, time.Now()
	if err := st.SaveRunProgress(t.Context(), run); err != nil {
		t.Fatal(err)
	}
	waitFor("the new count", func() bool { e, _ := cell(); return e == "7" })
	run.Enrolled, run.Status, run.FinishedAt = 9, jobs.StatusOK, time.Now()
	if err := st.FinishRun(t.Context(), run); err != nil {
		t.Fatal(err)
	}
	waitFor("the end of the run", func() bool { e, s := cell(); return e == "9" && s == "ok" })
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.notReloaded || 0`)); err != nil || v != 1 {
		t.Fatalf("the page reloaded (%v)", err)
	}
	browsertest.Screenshot(t, ctx, "sync-page-live")
}
