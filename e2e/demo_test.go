package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/demo/demotest"
)

// TestDemoInBrowser: `ltipub demo` as a person runs it: open the printed URL, launch the quiz as a learner in the
// demo LMS's iframe, answer it, watch the score arrive in the LMS's gradebook; then add the assignment as the
// teacher by content selection and see it in the course.
func TestDemoInBrowser(t *testing.T) {
	t.Parallel()
	start := time.Now()
	child := demotest.Start(t, demotest.Binary(t), nil)
	ctx := browsertest.New(t, browsertest.Options{Timeout: 120 * time.Second})
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			browsertest.Screenshot(t, ctx, "demo-"+name+"-failed")
			t.Fatalf("%s: %v\n%s", name, err, child.Output())
		}
	}
	waitFor := func(what, js string) {
		t.Helper()
		if err := browsertest.WaitFor(ctx, js, 30*time.Second); err != nil {
			browsertest.Screenshot(t, ctx, "demo-"+what+"-failed")
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("open the demo LMS", chromedp.Navigate(child.URL+"/"), chromedp.WaitVisible(chromedp.ID("activities")))
	quiz, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll("#activities li")].find(li => li.querySelector(".kind").textContent === "quiz").dataset.link`))
	if err != nil {
		t.Fatalf("find the quiz on the course page: %v", err)
	}

	// The learner takes the quiz inside the LMS page.
	step("launch the quiz", chromedp.Click(chromedp.ID("launch-"+quiz)))
	in := waitInFrame(t, ctx, "#quiz-form")
	step("answer the quiz",
		chromedp.Click(chromedp.ID("q_closest_1"), in),
		chromedp.Click(chromedp.ID("q_giants_0"), in),
		chromedp.Click(chromedp.ID("q_giants_2"), in),
		chromedp.SendKeys(chromedp.ID("q_star"), "the sun", in),
		chromedp.Click(chromedp.ID("submit-quiz"), in),
	)
	in = waitInFrame(t, ctx, ".flash")
	if flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash"), in)); err != nil || !strings.Contains(flash, "10 / 10") {
		t.Fatalf("the quiz result in the frame: %q %v", flash, err)
	}
	answered := time.Now()
	waitFor("the score in the gradebook",
		`[...document.querySelectorAll('#grades td[data-user="learner-1"]')].some(td => td.textContent === "10 / 10")`)
	t.Logf("the LMS gradebook showed the score %s after the answer", time.Since(answered).Round(100*time.Millisecond))
	browsertest.Screenshot(t, ctx, "demo-lms")

	// The teacher adds the assignment by content selection, with a gradebook column.
	step("start content selection", chromedp.Click(chromedp.ID("select-content")))
	in = waitInFrame(t, ctx, "#select-form")
	id, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[aria-label="Select Observation report"]`), in))
	if err != nil {
		t.Fatalf("the selection lacks the assignment: %v", err)
	}
	step("select the assignment",
		chromedp.Click(chromedp.ID("resource-"+id), in),
		chromedp.Click(chromedp.ID("gradebook-"+id), in),
		chromedp.Click(chromedp.ID("add-selected"), in),
	)
	waitFor("the added activity in the course",
		`[...document.querySelectorAll("#activities li")].some(li => li.querySelector(".kind").textContent === "added" && li.textContent.includes("Observation report"))`)
	waitFor("the added activity's gradebook column", `document.querySelectorAll("#grades th").length === 5`)
	browsertest.Screenshot(t, ctx, "demo-lms-added")

	// Blocked third-party cookies: the LMS page on its other name is another site than ltipub, whose frame then
	// keeps no cookie; ltipub says so and offers a new window.
	cookies, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.ID("break-cookies"), "href"))
	if err != nil || !cookies.Exists {
		t.Fatalf("no blocked-cookies launch on the course page: %v", err)
	}
	m := regexp.MustCompile(`ltipub itself: +(http://\S+)`).FindStringSubmatch(child.Output())
	if m == nil {
		t.Fatalf("the demo did not print ltipub's URL:\n%s", child.Output())
	}
	step("open the LMS on another site", chromedp.Navigate(cookies.Value), chromedp.WaitReady(chromedp.ID("ltitool")))
	frame := findTarget(t, ctx, "iframe", m[1], "#login-fallback")
	if msg := visibleText(t, frame, "#reason-cookies"); !strings.Contains(msg, "third-party cookies") {
		t.Fatalf("ltipub's explanation in the cross-site frame: %q", msg)
	}
	browsertest.Screenshot(t, ctx, "demo-cookies-blocked")
	t.Logf("the demo tour in the browser took %s", time.Since(start).Round(100*time.Millisecond))
}
