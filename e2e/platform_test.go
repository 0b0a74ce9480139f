package e2e

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestDynamicRegistrationInPlatformFrame: the reference platform's registration page holds ltipub's registration
// URL in an iframe, as an LMS does; ltipub registers itself and the parent page receives the close message.
func TestDynamicRegistrationInPlatformFrame(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{Host: "localhost"}) // another site than the platform on 127.0.0.1
	p := ltitest.NewServer(t, ltitest.Config{})
	reg, tok, err := inst.App.Platforms.Create(context.Background(), "Framed registration")
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, browsertest.Options{})
	err = chromedp.Do(ctx, chromedp.Navigate(p.RegisterHostURL(inst.App.Platforms.RegistrationURL(tok))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.title === "closed"`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		browsertest.Screenshot(t, ctx, "dynreg-frame-failed")
		t.Fatalf("the platform page never received the close message: %v", err)
	}
	browsertest.Screenshot(t, ctx, "dynreg-frame")
	// The page changes its title before its fetch records the message at the platform: wait for the record.
	msgs := p.CloseMessages()
	for deadline := time.Now().Add(15 * time.Second); len(msgs) == 0 && time.Now().Before(deadline); msgs = p.CloseMessages() {
		time.Sleep(50 * time.Millisecond)
	}
	if len(msgs) != 1 || msgs[0].Data["subject"] != "org.imsglobal.lti.close" || !strings.HasPrefix(inst.URL, msgs[0].Origin) {
		t.Fatalf("close messages %+v (tool at %s)", msgs, inst.URL)
	}
	got, err := inst.App.Platforms.Get(context.Background(), reg.ID)
	if err != nil || !got.Active() || got.Issuer != p.Issuer() {
		t.Fatalf("registration after the framed flow: %+v %v", got, err)
	}
}

// TestManualRegistrationInBrowser: an admin registers the reference platform by hand through the pages (name,
// platform details, a deployment), then a launch through that registration succeeds.
func TestManualRegistrationInBrowser(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	p := ltitest.NewServer(t, ltitest.Config{})
	uuid := publishExample(t, inst)
	ctx := browsertest.New(t, browsertest.Options{Timeout: 90 * time.Second})

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			browsertest.Screenshot(t, ctx, "manual-registration-"+name+"-failed")
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			t.Fatalf("%s: %v\npage shows: %s", name, err, body)
		}
	}
	step("sign in",
		chromedp.Navigate(inst.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), apptest.AdminPassword),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("platforms-link")),
	)
	step("register a platform",
		chromedp.Click(chromedp.ID("platforms-link")),
		chromedp.WaitVisible(chromedp.ID("register-platform")),
		chromedp.Click(chromedp.ID("register-platform")),
		chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "Reference LMS"),
		chromedp.Click(chromedp.ID("create-platform")),
		chromedp.WaitVisible(chromedp.ID("registration-url")),
	)
	toolURL, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("tool-url")))
	if err != nil || toolURL != inst.URL+"/lti/launch" {
		t.Fatalf("tool URL %q %v", toolURL, err)
	}
	browsertest.Screenshot(t, ctx, "manual-registration-tool-details")
	step("platform details",
		chromedp.Click(chromedp.ID("tab-platform")),
		chromedp.WaitVisible(chromedp.ID("issuer")),
		chromedp.SendKeys(chromedp.ID("issuer"), p.Issuer()),
		chromedp.SendKeys(chromedp.ID("client_id"), "browser-client"),
		chromedp.SendKeys(chromedp.ID("jwks_url"), p.JWKSURL()),
		chromedp.SendKeys(chromedp.ID("token_url"), p.TokenURL()),
		chromedp.SendKeys(chromedp.ID("auth_url"), p.AuthURL()),
		chromedp.Click(chromedp.ID("save-platform")),
		chromedp.WaitVisible(chromedp.ID("deployment_id")),
	)
	step("add a deployment",
		chromedp.SendKeys(chromedp.ID("deployment_id"), "browser-deployment"),
		chromedp.SendKeys(chromedp.ID("deployment_name"), "Whole site"),
		chromedp.Click(chromedp.ID("add-deployment")),
		chromedp.WaitVisible(chromedp.ID("deployments")),
	)
	status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	if status != "Active" {
		t.Fatalf("registration status %q after details and a deployment", status)
	}
	browsertest.Screenshot(t, ctx, "manual-registration-deployments")

	// The platform side of the manual exchange, then a launch over HTTP.
	err = p.RegisterTool(ltitest.ToolConfig{ClientID: "browser-client", DeploymentIDs: []string{"browser-deployment"},
		LoginURL: inst.URL + "/lti/login", RedirectURIs: []string{toolURL}, JWKSURL: inst.URL + "/lti/jwks", TargetLinkURI: toolURL})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	res, err := p.Launch(context.Background(), &http.Client{Jar: jar}, ltitest.LaunchSpec{
		User: &ltitest.User{Sub: "s1", Name: "Stu Dent", Email: "stu@example.edu"}, Roles: []string{ltitest.RoleLearner},
		Context: &ltitest.Context{ID: "c1", Title: "Course"}, Custom: map[string]string{"id": uuid},
	})
	if err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch through the manual registration: %v %d %s", err, res.Response.StatusCode, res.Body)
	}
}

// publishExample imports and publishes the example course, so that launches have a resource to land on.
func publishExample(t *testing.T, inst *apptest.Instance) string {
	t.Helper()
	in := publish.NewInput(inst.ExampleCourse(t, "").Course.ID)
	in.Name = "Astronomy"
	return inst.Publish(t, in).UUID
}

// TestRegistrationCheckInBrowser: an admin presses "Check this registration" on the tool details page of a
// registration whose platform has the wrong keyset for the tool, and reads the failed token step with its fix.
func TestRegistrationCheckInBrowser(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	p := ltitest.NewServer(t, ltitest.Config{})
	reg := inst.Platform(t, p, "checked-client")
	// The platform now holds the tool with its own keyset instead of ltipub's: the classic misconfiguration.
	if err := p.RegisterTool(ltitest.ToolConfig{ClientID: "checked-client", DeploymentIDs: []string{"deployment-1"},
		LoginURL: inst.URL + "/lti/login", RedirectURIs: []string{inst.URL + "/lti/launch"}, JWKSURL: p.JWKSURL()}); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, browsertest.Options{Timeout: 60 * time.Second})
	page := inst.URL + "/admin/platforms/" + strconv.FormatInt(reg.ID, 10)
	err := chromedp.Do(ctx,
		chromedp.Navigate(inst.URL+"/login"),
		chromedp.WaitVisible(chromedp.ID("username")),
		chromedp.SendKeys(chromedp.ID("username"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), apptest.AdminPassword),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("platforms-link")),
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.ID("check-registration")),
		chromedp.Click(chromedp.ID("check-registration")),
		chromedp.WaitVisible(chromedp.ID("check-results")),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "registration-check-failed")
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "registration-check")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("check-results")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Platform keyset: keys usable", "passed", "failed", "client_assertion signature",
		"set the tool's public keyset", inst.URL + "/lti/jwks"} {
		if !strings.Contains(text, want) {
			t.Errorf("check results lack %q:\n%s", want, text)
		}
	}
	summary, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("check-summary")))
	if !strings.Contains(summary, "Some checks failed") {
		t.Errorf("summary: %q", summary)
	}
}
