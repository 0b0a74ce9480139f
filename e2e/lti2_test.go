package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/lti11/lti11test"
)

// TestLTI2RegisterLaunchAndGrade: an LMS administrator registers the quiz over LTI 2.0 from the reference
// consumer's page — first while the LMS's ToolProxy service is off (ltipub's page says so, and its way back tells
// the LMS), then with it on (split secret) — and a learner follows the link, takes the quiz, and the grade reaches
// the LMS by Basic Outcomes.
func TestLTI2RegisterLaunchAndGrade(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{Jobs: true})
	imported := inst.ExampleCourse(t, "")
	quiz := apptest.Activity(imported, course.TypeQuiz)
	in := publish.NewInput(imported.Course.ID)
	in.ActivityID, in.GradeSync = quiz.ID, true
	r := inst.Publish(t, in)
	c := lti11test.New(t, "unused", "")
	regURL := publish.RegistrationURL(inst.URL, r)
	ctx := browsertest.New(t, browsertest.Options{Timeout: 90 * time.Second})
	d := pageDriver{t: t, ctx: ctx, base: inst.URL, name: "lti2"}

	c.SetLTI2(lti11test.LTI2NoToolProxyService, false)
	d.step("register while the ToolProxy service is off", chromedp.Navigate(c.RegistrationPageURL(regURL)),
		chromedp.Click(chromedp.ID("register")), chromedp.WaitVisible(chromedp.ID("lti2-return")))
	if cause := d.text("#problem-cause"); !strings.Contains(cause, "offers no ToolProxy service") {
		t.Fatalf("ltipub's page says %q", cause)
	}
	browsertest.Screenshot(t, ctx, "lti2-registration-failed")
	d.step("back to the LMS", chromedp.Click(chromedp.ID("lti2-return")), chromedp.WaitVisible(chromedp.ID("registration-status")))
	if st, msg := d.text("#registration-status"), d.text("#registration-message"); st != "failure" || !strings.Contains(msg, "ToolProxy service") {
		t.Fatalf("the LMS was told %q: %q", st, msg)
	}

	c.SetLTI2(lti11test.LTI2Accept, true)
	d.step("register", chromedp.Navigate(c.RegistrationPageURL(regURL)), chromedp.Click(chromedp.ID("register")),
		chromedp.WaitVisible(chromedp.ID("registration-guid")))
	guid := d.text("#registration-guid")
	if st := d.text("#registration-status"); st != "success" {
		t.Fatalf("registration status %q", st)
	}
	if tp, ok := c.ToolProxy(guid); !ok || !tp.Split {
		t.Fatalf("the LMS holds no split-secret tool proxy %q", guid)
	}

	d.step("launch and take the quiz", chromedp.Navigate(c.LaunchPageURL(guid, publish.LegacyLaunchURL(inst.URL, r.UUID), "rl-lti2", "learner-2", "src-lti2")),
		chromedp.WaitVisible(chromedp.ID("quiz-form")),
		chromedp.Click(chromedp.ID("q_closest_1")),
		chromedp.Click(chromedp.ID("q_giants_0")),
		chromedp.Click(chromedp.ID("q_giants_2")),
		chromedp.SendKeys(chromedp.ID("q_star"), "the sun"),
		chromedp.Click(chromedp.ID("submit-quiz")),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if flash := d.text(".flash"); !strings.Contains(flash, "10 / 10") {
		t.Fatalf("quiz result %q", flash)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if s, ok := c.Score("src-lti2"); ok {
			if s != "1.0" {
				t.Fatalf("the LMS's gradebook has %q, want 1.0", s)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no grade reached the LMS (it refused: %v)", c.Rejected())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if rej := c.Rejected(); len(rej) != 0 {
		t.Fatalf("the LMS refused requests: %v", rej)
	}
}
