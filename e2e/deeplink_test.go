package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestContentSelectionInPlatformFrame: a teacher adds ltipub content from inside the platform's iframe: signs in
// once, ticks the quiz with Add to gradebook, and the platform receives the signed selection with a line item.
func TestContentSelectionInPlatformFrame(t *testing.T) {
	t.Parallel()
	inst, p, r := published(t, nil)
	const pw = "teacher password 1"
	inst.EnsureUser(t, account.NewUser{Username: "tara", FullName: "Tara Teacher", Password: pw})
	admin := inst.Admin
	cs, _ := inst.App.Courses.Courses(context.Background(), &admin)
	if _, err := inst.App.Courses.Enrol(context.Background(), &admin, cs[0].Course.ID,
		course.EnrolInput{Username: "tara", Role: course.RoleTeacher, Status: course.StatusActive}); err != nil {
		t.Fatal(err)
	}
	page, err := p.CoursePageURL(ltitest.LaunchSpec{
		MessageType: ltitest.MessageDeepLinkingRequest,
		User:        &ltitest.User{Sub: "tara-at-platform", Name: "Tara Teacher"},
		Roles:       []string{ltitest.RoleInstructor},
		Context:     &ltitest.Context{ID: "platform-course", Title: "Astronomy at the platform"},
		DeepLinking: &ltitest.DeepLinking{},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, browsertest.Options{Timeout: 90 * time.Second})
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("ltitool"))); err != nil {
		t.Fatal(err)
	}
	in := waitInFrame(t, ctx, "#signin-form")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("username"), "tara", in),
		chromedp.SendKeys(chromedp.ID("password"), pw, in),
		chromedp.Click(chromedp.ID("sign-in"), in),
	)
	if err != nil {
		t.Fatalf("sign in inside the frame: %v", err)
	}
	in = waitInFrame(t, ctx, "#select-form")
	browsertest.Screenshot(t, ctx, "deeplink-selection")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID(fmt.Sprintf("resource-%d", r.ID)), in),
		chromedp.Click(chromedp.ID(fmt.Sprintf("gradebook-%d", r.ID)), in),
		chromedp.Click(chromedp.ID("add-selected"), in),
	)
	if err != nil {
		t.Fatalf("select in the frame: %v", err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(p.DeepLinkReturns()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	rets := p.DeepLinkReturns()
	if len(rets) != 1 || rets[0].Err != "" || len(rets[0].Links) != 1 {
		browsertest.Screenshot(t, ctx, "deeplink-failed")
		t.Fatalf("the platform did not receive one valid selection: %+v", rets)
	}
	if l := rets[0].Links[0]; l.Custom["id"] != r.UUID || l.LineItemURL == "" {
		t.Fatalf("stored link %+v, want custom id %s and a line item", l, r.UUID)
	}
}
