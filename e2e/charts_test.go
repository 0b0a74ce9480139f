package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/tool"
)

// TestChartsFitAndShowTheirNumbers: the launch log's charts, drawn by a real browser, fit a 390 px phone and a
// 1280 px screen (the SVG scales to its box), and "Show the numbers" opens the table of the same figures.
func TestChartsFitAndShowTheirNumbers(t *testing.T) {
	inst := apptest.Start(t, apptest.Options{})
	ctx := browsertest.New(t, browsertest.Options{})
	reg := tool.Registration{Name: "Moodle", Issuer: "https://moodle.example", ClientID: "c1"}
	if err := inst.Store.CreateRegistration(context.Background(), &reg); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := range 40 {
		e := &launch.LogEntry{At: now.Add(-time.Duration(i) * 70 * time.Minute), RegistrationID: reg.ID, Stage: launch.StageLaunch, Outcome: launch.Accepted}
		if i%4 == 0 {
			e.Outcome, e.Code = launch.Refused, "state_expired"
		}
		if err := inst.Store.RecordLaunch(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	d := pageDriver{t: t, ctx: ctx, base: inst.URL, name: "charts", password: apptest.AdminPassword}
	d.signIn("admin")
	for _, width := range []int64{1280, 390} {
		d.step("open the launch log", chromedp.EmulateViewport(width, 900), chromedp.Navigate(inst.URL+"/admin/launches"),
			chromedp.WaitVisible(chromedp.CSS(`figure[data-chart="launches-hourly"] svg`)))
		browsertest.Screenshot(t, ctx, "charts-launch-log-"+map[int64]string{1280: "wide", 390: "phone"}[width])
		// Every chart's picture lies inside the viewport and is drawn at a readable size (not a sliver).
		fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll('svg.chart')].every(s => {
			const r = s.getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth && r.width >= Math.min(300, window.innerWidth - 40) && r.height > 20 })`))
		if err != nil || !fits {
			t.Errorf("at %d px a chart does not fit the viewport (%v)", width, err)
		}
	}
	// The numbers, folded until asked for.
	visible := `document.querySelector('figure[data-chart="refusal-codes"] table').checkVisibility()`
	if shown, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](visible)); shown {
		t.Errorf("the table of numbers shows before it is asked for")
	}
	d.step("show the numbers", chromedp.Click(chromedp.CSS(`figure[data-chart="refusal-codes"] summary`)))
	if err := browsertest.WaitFor(ctx, visible, 10*time.Second); err != nil {
		t.Fatalf("Show the numbers did not open the table: %v", err)
	}
	if got := d.text(`figure[data-chart="refusal-codes"] tbody`); got != "state_expired\t10" && got != "state_expired 10" {
		t.Errorf("the table says %q, want state_expired 10", got)
	}
	browsertest.Screenshot(t, ctx, "charts-numbers")
}
