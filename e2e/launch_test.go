package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// published starts ltipub with the reference platform registered and the example course's quiz published with
// in's settings; it returns the instance, the platform and the resource.
func published(t *testing.T, mutate func(*publish.Input)) (*apptest.Instance, *ltitest.Platform, publish.Resource) {
	t.Helper()
	inst := apptest.Start(t, apptest.Options{})
	p := ltitest.NewServer(t, ltitest.Config{})
	inst.Platform(t, p, "client-1")
	imported := inst.ExampleCourse(t, "")
	in := publish.NewInput(imported.Course.ID)
	in.ActivityID = apptest.Activity(imported, course.TypeQuiz).ID
	if mutate != nil {
		mutate(&in)
	}
	return inst, p, inst.Publish(t, in)
}

func studentSpec(sub string, r publish.Resource) ltitest.LaunchSpec {
	return ltitest.LaunchSpec{
		User:         &ltitest.User{Sub: sub, Name: "Stella Student", Email: sub + "@school.example"},
		Roles:        []string{ltitest.RoleLearner},
		Context:      &ltitest.Context{ID: "platform-course", Title: "Astronomy at the platform"},
		ResourceLink: &ltitest.ResourceLink{ID: "quiz-link"},
		Custom:       map[string]string{"id": r.UUID},
		Presentation: &ltitest.Presentation{DocumentTarget: "iframe"},
	}
}

// frameDoc returns a query option that looks inside the platform's iframe (same site, so in the page's process),
// or false while the frame has no document (between two of its navigations).
func frameDoc(ctx context.Context) (chromedp.QueryOption, bool) {
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	nodes, err := chromedp.Run(short, chromedp.Nodes(chromedp.CSS("#ltitool")))
	if err != nil || len(nodes) == 0 {
		return nil, false
	}
	n := nodes[0]
	n.RLock()
	doc := n.ContentDocument
	n.RUnlock()
	if doc == nil {
		return nil, false
	}
	return chromedp.FromNode(doc), true
}

// waitInFrame polls until sel appears inside the iframe (the frame navigates several times during a launch).
func waitInFrame(t *testing.T, ctx context.Context, sel string) chromedp.QueryOption {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		in, ok := frameDoc(ctx)
		if !ok {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		short, cancel := context.WithTimeout(ctx, 700*time.Millisecond)
		_, err := chromedp.Run(short, chromedp.Nodes(chromedp.CSS(sel), in))
		cancel()
		if err == nil {
			return in
		}
	}
	browsertest.Screenshot(t, ctx, "frame-wait-failed")
	t.Fatalf("%s never appeared in the tool's iframe", sel)
	return nil
}

// TestLaunchInIframeTakesQuiz: the platform's course page holds ltipub in an iframe; the student launches, lands
// in the quiz (embedded layout, contained), answers it and sees the result, all inside the iframe.
func TestLaunchInIframeTakesQuiz(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, p, r := published(t, nil)
	page, err := p.CoursePageURL(studentSpec("iframe-student", r))
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, browsertest.Options{Timeout: 90 * time.Second})
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("ltitool"))); err != nil {
		t.Fatal(err)
	}
	in := waitInFrame(t, ctx, "#quiz-form")
	embedded, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("body"), "class", in))
	if err != nil || embedded.Value != "embedded" {
		t.Fatalf("the launched quiz should use the embedded layout, body class %q (%v)", embedded.Value, err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("q_closest_1"), in),
		chromedp.Click(chromedp.ID("q_giants_0"), in),
		chromedp.Click(chromedp.ID("q_giants_2"), in),
		chromedp.SendKeys(chromedp.ID("q_star"), "the sun", in),
		chromedp.Click(chromedp.ID("submit-quiz"), in),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "iframe-quiz-failed")
		t.Fatalf("answer the quiz in the iframe: %v", err)
	}
	in = waitInFrame(t, ctx, ".flash")
	flash, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash"), in))
	browsertest.Screenshot(t, ctx, "iframe-quiz-result")
	if err != nil || !strings.Contains(flash, "10 / 10") {
		t.Fatalf("quiz result in the iframe: %q %v", flash, err)
	}
	top, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasPrefix(top, p.BaseURL()) {
		t.Fatalf("the top window left the platform: %s", top)
	}
	t.Logf("iframe launch and quiz took %s", time.Since(start).Round(time.Millisecond))
}

// TestPromptChoicesInBrowser: with the prompting mode, one person creates a new account and another links the
// account they already have; both land in the quiz.
func TestPromptChoicesInBrowser(t *testing.T) {
	t.Parallel()
	inst, p, r := published(t, func(in *publish.Input) { in.StudentMode = publish.ModePrompt })
	const pw = "my own password 1"
	own := inst.EnsureUser(t, account.NewUser{Username: "olga", FullName: "Olga Own", Password: pw})
	ctx := browsertest.New(t, browsertest.Options{Timeout: 90 * time.Second})

	launchTop := func(sub string) {
		t.Helper()
		s := studentSpec(sub, r)
		s.Presentation = nil
		u, err := p.LaunchPageURL(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.ID("signin-form"))); err != nil {
			browsertest.Screenshot(t, ctx, "prompt-"+sub+"-failed")
			t.Fatalf("launch %s: %v", sub, err)
		}
	}

	launchTop("new-person")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("create-new")), chromedp.WaitVisible(chromedp.ID("quiz-form"))); err != nil {
		browsertest.Screenshot(t, ctx, "prompt-create-failed")
		t.Fatalf("create a new account: %v", err)
	}
	lu, err := inst.Store.LTIUser(context.Background(), p.Issuer(), "new-person")
	if err != nil {
		t.Fatalf("no link after 'create a new account': %v", err)
	}
	if u, _ := inst.Store.UserByID(context.Background(), lu.UserID); u.Auth != account.AuthLTI {
		t.Fatalf("the new account is %+v", u)
	}

	// Another person in a fresh browser session links their existing account.
	// Sign out from an ltipub page and wait for the answer: a sign-out still in flight when the next launch starts
	// could end that launch's session.
	if err := chromedp.Do(ctx, chromedp.Navigate(inst.URL+"/login")); err != nil {
		t.Fatal(err)
	}
	signedOut, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`fetch("/logout", {method: "POST"}).then(r => r.ok)`, chromedp.EvalAwaitPromise))
	if err != nil || !signedOut {
		t.Fatalf("sign out: %v %v", signedOut, err)
	}
	launchTop("has-account")
	browsertest.Screenshot(t, ctx, "prompt-choice")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("username"), "olga"),
		chromedp.SendKeys(chromedp.ID("password"), pw),
		chromedp.Click(chromedp.ID("link-existing")),
		chromedp.WaitVisible(chromedp.ID("quiz-form")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "prompt-link-failed")
		t.Fatalf("link the existing account: %v", err)
	}
	lu, err = inst.Store.LTIUser(context.Background(), p.Issuer(), "has-account")
	if err != nil || lu.UserID != own.ID {
		t.Fatalf("linked to %d (%v), want %d", lu.UserID, err, own.ID)
	}
}
