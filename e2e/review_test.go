package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestSubmissionReviewInIframe: a student takes the quiz inside the platform's iframe; then the teacher, in the
// platform's gradebook, opens that student's attempt: it shows in the iframe (embedded layout), answers and score.
func TestSubmissionReviewInIframe(t *testing.T) {
	t.Parallel()
	_, p, r := published(t, func(in *publish.Input) { in.TeacherMode = publish.ModeAuto })
	lineItem := p.AddLineItem("client-1", "platform-course", ltitest.LineItem{Label: r.Name, ScoreMaximum: 10, ResourceID: r.UUID,
		SubmissionReview: &ltitest.SubmissionReview{Label: "Open the attempt in ltipub"}})
	student := studentSpec("review-student", r)
	student.AGS = &ltitest.AGS{LineItemURL: lineItem}
	page, err := p.CoursePageURL(student)
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, browsertest.Options{Timeout: 90 * time.Second})
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("ltitool"))); err != nil {
		t.Fatal(err)
	}
	in := waitInFrame(t, ctx, "#quiz-form")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("q_closest_1"), in),
		chromedp.SendKeys(chromedp.ID("q_star"), "Sol", in),
		chromedp.Click(chromedp.ID("submit-quiz"), in),
	); err != nil {
		browsertest.Screenshot(t, ctx, "review-quiz-failed")
		t.Fatalf("answer the quiz: %v", err)
	}
	waitInFrame(t, ctx, ".flash")

	teacher := studentSpec("review-teacher", r)
	teacher.User = &ltitest.User{Sub: "review-teacher", Name: "Tom Teacher"}
	teacher.Roles = []string{ltitest.RoleInstructor}
	review, err := p.CoursePageURL(ltitest.ReviewSpec(teacher, ltitest.User{Sub: "review-student", Name: "Stella Student"}, lineItem))
	if err != nil {
		t.Fatal(err)
	}
	tctx := browsertest.New(t, browsertest.Options{Timeout: 90 * time.Second})
	if err := chromedp.Do(tctx, chromedp.Navigate(review), chromedp.WaitVisible(chromedp.ID("ltitool"))); err != nil {
		t.Fatal(err)
	}
	in = waitInFrame(t, tctx, "#review")
	text, err := chromedp.Run(tctx, chromedp.Text(chromedp.ID("review"), in))
	browsertest.Screenshot(t, tctx, "review-in-iframe")
	if err != nil || !strings.Contains(text, "Stella Student") || !strings.Contains(text, "Attempt 1") || !strings.Contains(text, "“Sol”") {
		t.Fatalf("the review in the iframe: %q %v", text, err)
	}
	embedded, err := chromedp.Run(tctx, chromedp.AttributeValue(chromedp.CSS("body"), "class", in))
	if err != nil || embedded.Value != "embedded" {
		t.Fatalf("the review should use the embedded layout, body class %q (%v)", embedded.Value, err)
	}
}
