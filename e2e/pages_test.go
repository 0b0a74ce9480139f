package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/testsuite"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// widths are the viewports every page must fit: a phone (390 px, an iPhone 12 to 15) and a laptop.
var widths = []int64{390, 1280}

// exemptRoutes are the GET routes the page audit does not visit, each with the reason. Every other GET route of
// internal/web must be visited (TestEveryPageFitsAndPassesAxe fails naming it), so a new page cannot be left out
// silently.
var exemptRoutes = map[string]string{
	"GET /healthz":                         "probe: plain text for load balancers",
	"GET /readyz":                          "probe: plain text for load balancers",
	"GET /static/":                         "assets (CSS, scripts, logo), loaded by every page visited",
	"GET /favicon.ico":                     "an image",
	"GET /metrics":                         "Prometheus text, routed only with a metrics token",
	"GET /courses/{id}/export":             "a JSON download",
	"GET /courses/{id}/grades.csv":         "a CSV download",
	"GET /submission-files/{fid}":          "a file download",
	"GET /activities/{id}/questions.gift":  "a GIFT download",
	"GET /activities/{id}/questions.xml":   "a Moodle XML download",
	"GET /admin/sync/status.json":          "JSON that the sync page polls",
	"GET /lti/jwks":                        "the public key set (JSON)",
	"GET /lti/config/canvas.json":          "Canvas's developer key configuration (JSON)",
	"GET /lti/legacy/{uuid}/cartridge.xml": "a cartridge (XML)",
	"GET /lti/login":                       "login initiation: redirects to the platform (visited by every launch, never shown)",
	"GET /lti/login/cookie":                "a step of the cookie check during login, redirects on",
	"GET /lti/session/check":               "JSON answer to the launch page's script",
	"GET /lti/register/{token}":            "dynamic registration: runs inside the platform's dialog (e2e/platform_test.go)",
}

// constructedRoutes are the GET routes internal/web builds from parts ("GET "+prefix), which a scan of its
// string literals cannot see.
var constructedRoutes = []string{"GET /launch/account"}

type axeNode struct {
	Target []any `json:"target"`
}

type axeViolation struct {
	ID     string    `json:"id"`
	Impact string    `json:"impact"`
	Help   string    `json:"help"`
	Nodes  []axeNode `json:"nodes"`
}

// auditor visits pages in one browser and collects what is wrong with each, so one run names every failure.
type auditor struct {
	t      *testing.T
	ctx    context.Context
	base   string
	axe    string // axe.min.js
	widest map[string]int64
	rules  map[string]int // axe rule (impact) -> page views that broke it
	// axeTime is the time axe-core took, of the whole audit's.
	axeTime time.Duration
	pages   int
	// lang, if set, is the language every page must declare (<html lang>).
	lang string
}

// visit opens path as role, then at each width checks the document is no wider than the viewport and runs axe.
// wait is a CSS selector the page shows once it is there ("" for main).
func (a *auditor) visit(role, path string) {
	a.t.Helper()
	a.open(role, path)
	a.audit(role, path)
}

func (a *auditor) open(role, path string) {
	a.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = a.base + path
	}
	if err := chromedp.Do(a.ctx, chromedp.Navigate(u)); err != nil {
		a.t.Fatalf("%s: open %s: %v", role, path, err)
	}
}

// audit checks the page the browser shows now.
func (a *auditor) audit(role, path string) {
	a.t.Helper()
	a.pages++
	if err := browsertest.WaitFor(a.ctx, `document.readyState === "complete" && !!document.querySelector("main")`, 20*time.Second); err != nil {
		body, _ := chromedp.Run(a.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 400) : ""`))
		a.t.Errorf("%s %s: no page with a main landmark: %v\n%s", role, path, err, body)
		return
	}
	loaded, err := chromedp.Run(a.ctx, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if err == nil && !loaded {
		_, err = chromedp.Run(a.ctx, chromedp.Evaluate[bool](a.axe+";true"))
	}
	if err != nil {
		a.t.Fatalf("inject axe-core into %s: %v", path, err)
	}
	if a.lang != "" {
		if lang, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); err != nil || lang != a.lang {
			a.t.Errorf("%s %s: <html lang=%q>, want %q %v", role, path, lang, a.lang, err)
		}
		// The platform setup guides are written in English (docs/platforms): a screen reader must read them so.
		if n, err := chromedp.Run(a.ctx, chromedp.Evaluate[int](`[...document.querySelectorAll(".guide")].filter(g => g.closest("[lang]").lang !== "en").length`)); err != nil || n > 0 {
			a.t.Errorf("%s %s: %d English setup guide(s) not marked lang=\"en\" %v", role, path, n, err)
		}
	}
	// Copy buttons: several on a page, each must say what it copies ("Copy Tool URL", not five times "Copy").
	dup, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](`(() => {
	  const names = [...document.querySelectorAll("button")].map(b => (b.getAttribute("aria-label") || b.textContent).trim()).filter(n => n.startsWith("Copy") || n.startsWith("Copiar"));
	  return [...new Set(names.filter((n, i) => names.indexOf(n) !== i))].join(", ");
	})()`))
	if err != nil || dup != "" {
		a.t.Errorf("%s %s: Copy buttons share an accessible name: %s %v", role, path, dup, err)
	}
	if bad, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](controlContrast)); err != nil || bad != "" {
		a.t.Errorf("%s %s: controls under 3:1 against their background (WCAG 1.4.11): %s %v", role, path, bad, err)
	}
	for _, w := range widths {
		if err := chromedp.Do(a.ctx, chromedp.EmulateViewport(w, 900)); err != nil {
			a.t.Fatal(err)
		}
		// Two animation frames: the page's resize handlers (tables.js) have run.
		if _, err := chromedp.Run(a.ctx, chromedp.Evaluate[bool](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`, chromedp.EvalAwaitPromise)); err != nil {
			a.t.Fatal(err)
		}
		// Reading scrollWidth lays the page out at the new width.
		doc, err := chromedp.Run(a.ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
		if err != nil {
			a.t.Fatalf("measure %s: %v", path, err)
		}
		inner, _ := chromedp.Run(a.ctx, chromedp.Evaluate[int64](`innerWidth`))
		key := fmt.Sprintf("%4d %-8s %s", w, role, path)
		browsertest.Screenshot(a.t, a.ctx, fmt.Sprintf("pages-%s-%d-%s", role, w, strings.NewReplacer("/", "_", "?", "_", " ", "_").Replace(path)))
		a.widest[key] = doc
		if doc > inner {
			wide, _ := chromedp.Run(a.ctx, chromedp.Evaluate[string](widestElements))
			a.t.Errorf("%s %s at %d px: the document is %d px wide, wider than the %d px viewport (it scrolls sideways); too wide: %s",
				role, path, w, doc, inner, wide)
		}
		// A table that scrolls in its own box must still be a table to assistive technology.
		tables, _ := chromedp.Run(a.ctx, chromedp.Evaluate[int](`[...document.querySelectorAll("table")].filter(t => t.checkVisibility()).length`))
		tree, err := chromedp.Call(a.ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
		if err != nil {
			a.t.Fatalf("accessibility tree of %s: %v", path, err)
		}
		axTables := 0
		for _, n := range tree.Nodes {
			if !n.Ignored && n.Role != nil && (string(n.Role.Value) == `"table"` || string(n.Role.Value) == `"grid"`) {
				axTables++
			}
		}
		if axTables != tables {
			a.t.Errorf("%s %s at %d px: %d tables shown, %d tables in the accessibility tree (a table's CSS dropped its semantics)", role, path, w, tables, axTables)
		}
		// Every rule at the phone's width, the harder case; at the laptop's width again the rules whose outcome
		// depends on the layout (axe is most of this test's time).
		// target-size (WCAG 2.2's 24 px targets) is off in axe-core's defaults.
		opts := `{resultTypes: ["violations"], rules: {"target-size": {enabled: true}}}`
		if w != widths[0] {
			opts = `{resultTypes: ["violations"], runOnly: {type: "rule", values: ` + layoutRules + `}}`
		}
		axeStart := time.Now()
		js := `axe.run(document, ` + opts + `).then(r => JSON.stringify(r.violations))`
		out, err := chromedp.Run(a.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			a.t.Fatalf("run axe on %s: %v", path, err)
		}
		a.axeTime += time.Since(axeStart)
		var vs []axeViolation
		if err := json.Unmarshal([]byte(out), &vs); err != nil {
			a.t.Fatalf("axe's answer on %s: %v", path, err)
		}
		var b strings.Builder
		n := 0
		for _, v := range vs {
			a.rules[v.ID+" ("+v.Impact+")"]++
			if v.Impact != "serious" && v.Impact != "critical" {
				continue
			}
			n++
			var targets []string
			for i, n := range v.Nodes {
				if i == 5 {
					targets = append(targets, fmt.Sprintf("… %d more", len(v.Nodes)-5))
					break
				}
				targets = append(targets, fmt.Sprint(n.Target...))
			}
			fmt.Fprintf(&b, "\n  %s (%s): %s\n    on %s", v.ID, v.Impact, v.Help, strings.Join(targets, ", "))
		}
		if n > 0 {
			a.t.Errorf("%s %s at %d px: %d serious or critical accessibility violation(s) (axe-core):%s", role, path, w, n, b.String())
		}
	}
}

// controlContrast checks what axe-core does not (WCAG 1.4.11): the border of each kind of form control, and the
// focus ring around it, against the background behind them, at 3:1 at least. It returns the failures.
const controlContrast = `(() => {
  const rgb = c => { const m = c.match(/[\d.]+/g) || [0, 0, 0, 0]; return { r: +m[0], g: +m[1], b: +m[2], a: m.length > 3 ? +m[3] : 1 }; };
  const lum = c => [c.r, c.g, c.b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ratio = (x, y) => { const a = lum(x), b = lum(y); return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); };
  const behind = el => { for (let e = el.parentElement; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c.a > 0) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
  const out = [];
  const seen = new Set();
  for (const el of document.querySelectorAll("input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea")) {
    if (!el.checkVisibility() || seen.has(el.tagName + el.type)) continue;
    seen.add(el.tagName + el.type);
    const st = getComputedStyle(el), bg = behind(el);
    const border = ratio(rgb(st.borderTopColor), bg);
    if (border < 3) out.push(el.tagName.toLowerCase() + "#" + el.id + " border " + border.toFixed(2) + ":1");
    el.focus({ preventScroll: true });
    const f = getComputedStyle(el);
    const ring = f.outlineStyle === "none" ? 0 : ratio(rgb(f.outlineColor), bg);
    if (ring < 3) out.push(el.tagName.toLowerCase() + "#" + el.id + " focus ring " + ring.toFixed(2) + ":1");
    el.blur();
  }
  return out.join("; ");
})()`

// layoutRules are the axe-core rules whose outcome can change with the viewport's width.
const layoutRules = `["scrollable-region-focusable", "color-contrast", "target-size", "region", "landmark-one-main",
  "bypass", "meta-viewport", "nested-interactive", "label", "button-name", "link-name"]`

// widestElements names the elements that reach past the viewport, the deepest first, for the failure message.
const widestElements = `(() => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.right > innerWidth + 1 && ![...el.children].some(c => c.getBoundingClientRect().right > innerWidth + 1)) {
      out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : "") + " (" + Math.round(r.right) + " px)");
    }
    if (out.length >= 6) break;
  }
  return out.join(", ");
})()`

// TestEveryPageFitsAndPassesAxe visits every page ltipub shows, as the admin, a teacher and a learner who came
// by an LTI launch from the reference platform, at 390 px and at 1280 px: no page may be wider than the viewport,
// and axe-core must find no serious or critical violation. The pages come from the router: every GET route of
// internal/web is visited (the router's own request metrics say which pattern answered) or exempt with a reason.
func TestEveryPageFitsAndPassesAxe(t *testing.T) {
	t.Parallel()
	start := time.Now()
	axePath, _ := filepath.Abs("testdata/axe/node_modules/axe-core/axe.min.js")
	axeJS, err := os.ReadFile(axePath)
	if err != nil {
		if os.Getenv("CI") != "" || browsertest.ChromiumPath() == "" {
			t.Fatalf("axe-core is not installed (%v): run npm ci --prefix e2e/testdata/axe (.ci/run does)", err)
		}
		testsuite.NoCache(t) // internal/testsuite reports the skip, and fails unless LTIPUB_TEST_SKIP names axe
		t.Skipf("SKIPPING the accessibility audit: axe-core is not installed (%v); run npm ci --prefix e2e/testdata/axe", err)
	}
	bg := context.Background()
	inst := apptest.Start(t, apptest.Options{})
	p := ltitest.NewServer(t, ltitest.Config{})
	reg := inst.Platform(t, p, "client-1")
	const pw = "a long enough password"
	teacher := inst.EnsureUser(t, account.NewUser{Username: "teacher", FullName: "Tess Teacher", Password: pw, IsCourseCreator: true})
	other := inst.EnsureUser(t, account.NewUser{Username: "other", FullName: "Otto Other", Password: pw})
	data, err := os.ReadFile("../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	imported, err := inst.App.Courses.Import(bg, &teacher, data)
	if err != nil {
		t.Fatal(err)
	}
	c := imported.Course
	quiz := apptest.Activity(imported, course.TypeQuiz)
	assignment := apptest.Activity(imported, course.TypeAssignment)
	page := apptest.Activity(imported, course.TypePage)
	if _, err := inst.App.Courses.Enrol(bg, &teacher, c.ID, course.EnrolInput{Username: "other", Role: course.RoleStudent, Status: course.StatusActive}); err != nil {
		t.Fatal(err)
	}
	whole := inst.Publish(t, publish.NewInput(c.ID))
	promptIn := publish.NewInput(c.ID)
	promptIn.ActivityID = quiz.ID
	promptIn.StudentMode = publish.ModePrompt
	prompting := inst.Publish(t, promptIn)

	// What the admin pages list: a refused launch, and sync runs of both kinds, one failed with a long answer.
	// Platforms send long opaque user IDs (Canvas, Blackboard): one must not widen the launch log.
	refused := ltitest.LaunchSpec{User: &ltitest.User{Sub: "refused-" + strings.Repeat("0f3c9a7e", 12)}, Roles: []string{ltitest.RoleLearner},
		ResourceLink: &ltitest.ResourceLink{ID: "course-link"}, Custom: map[string]string{"id": whole.UUID},
		Tamper: ltitest.TamperDeploymentUnknown}
	// A client that follows the login's redirects, so the launch reaches the tool and is refused there.
	follow := inst.Client(t)
	follow.CheckRedirect = nil
	if res, err := p.Launch(bg, follow, refused); err != nil || res.Response.StatusCode != 403 {
		t.Fatalf("the refused launch: %v %v", err, res)
	}
	for _, r := range []jobs.Run{
		{Kind: jobs.KindGrades, Cause: jobs.CausePeriodic, Status: "ok", Links: 3, Sent: 12},
		{Kind: jobs.KindGrades, Cause: jobs.CauseManual, ResourceID: whole.ID, Status: "failed", Links: 1, Failed: 4,
			Error: "platform answered 401 Unauthorized to POST https://platform.example/api/lti/courses/1/line_items/123456789/scores: invalid_token: the access token has expired or was revoked"},
		{Kind: jobs.KindMembers, Cause: jobs.CausePeriodic, Status: "ok", Links: 2, Created: 40, Enrolled: 40, Unenrolled: 3},
	} {
		r.StartedAt, r.FinishedAt = time.Now().Add(-time.Minute), time.Now()
		if err := inst.Store.StartRun(bg, &r); err != nil {
			t.Fatal(err)
		}
		if err := inst.Store.FinishRun(bg, r); err != nil {
			t.Fatal(err)
		}
	}

	ctx := browsertest.New(t, browsertest.Options{Timeout: 8 * time.Minute})
	// The page acts focused even when the headless window is not, so :focus-visible styles apply to what the
	// contrast check focuses.
	if _, err := chromedp.Call(ctx, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	a := &auditor{t: t, ctx: ctx, base: inst.URL, axe: string(axeJS), widest: map[string]int64{}, rules: map[string]int{}}
	d := pageDriver{t: t, ctx: ctx, base: inst.URL, name: "pages", password: pw}
	cs := fmt.Sprint(c.ID)

	// Nobody signed in.
	a.visit("anon", "/login")
	a.visit("anon", "/lti/launch")
	a.visit("anon", "/lti/deeplink")
	a.visit("anon", "/lti/legacy/"+whole.UUID)
	a.visit("anon", "/no/such/page")

	// A learner launches the whole course from the platform, takes the quiz (partly right) and submits the
	// assignment, then sees every page of the course.
	launchTop := func(spec ltitest.LaunchSpec, wantPath string) {
		t.Helper()
		u, err := p.LaunchPageURL(spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
			t.Fatal(err)
		}
		if err := browsertest.WaitFor(ctx, browsertest.Loaded(wantPath), 30*time.Second); err != nil {
			browsertest.Screenshot(t, ctx, "pages-launch-failed")
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 400) : ""`))
			t.Fatalf("the launch never reached %s: %v\n%s", wantPath, err, body)
		}
	}
	learner := ltitest.LaunchSpec{
		User:         &ltitest.User{Sub: "learner-1", Name: "Lea Learner", Email: "lea@school.example"},
		Roles:        []string{ltitest.RoleLearner},
		Context:      &ltitest.Context{ID: "platform-course", Title: "Astronomy at the platform"},
		ResourceLink: &ltitest.ResourceLink{ID: "course-link"},
		Custom:       map[string]string{"id": whole.UUID},
	}
	launchTop(learner, "/courses/"+cs)
	a.audit("learner", "/courses/"+cs)
	a.visit("learner", fmt.Sprintf("/activities/%d", quiz.ID))
	d.step("answer the quiz partly right",
		chromedp.Click(chromedp.ID("q_closest_1")),
		chromedp.Click(chromedp.ID("q_giants_0")),
		chromedp.SendKeys(chromedp.ID("q_star"), "the moon"),
		chromedp.Click(chromedp.ID("submit-quiz")),
		chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	a.audit("learner", fmt.Sprintf("/activities/%d (review)", quiz.ID))
	a.visit("learner", fmt.Sprintf("/activities/%d", assignment.ID))
	d.step("submit the assignment",
		chromedp.SendKeys(chromedp.ID("text"), "The Moon waxed all week."),
		chromedp.Click(chromedp.ID("submit-assignment")),
		chromedp.WaitVisible(chromedp.ID("my-submission")),
	)
	a.audit("learner", fmt.Sprintf("/activities/%d (submitted)", assignment.ID))
	a.visit("learner", fmt.Sprintf("/activities/%d", page.ID))
	a.visit("learner", "/courses/"+cs+"/mygrades")

	// Another person launches the prompting quiz: the account choice.
	promptSpec := learner
	promptSpec.User = &ltitest.User{Sub: "learner-2", Name: "Pat Prompted"}
	promptSpec.ResourceLink = &ltitest.ResourceLink{ID: "quiz-link"}
	promptSpec.Custom = map[string]string{"id": prompting.UUID}
	launchTop(promptSpec, "/launch/account")
	a.audit("learner", "/launch/account")

	// A teacher at the platform picks content (deep linking): the selection's sign-in.
	launchTop(ltitest.LaunchSpec{
		MessageType: ltitest.MessageDeepLinkingRequest,
		User:        &ltitest.User{Sub: "teacher-at-platform", Name: "Tess Teacher"},
		Roles:       []string{ltitest.RoleInstructor},
		Context:     &ltitest.Context{ID: "platform-course", Title: "Astronomy at the platform"},
		DeepLinking: &ltitest.DeepLinking{},
	}, "/launch/select")
	a.audit("platform teacher", "/launch/select")

	// The teacher at the platform opens the learner's assignment from the gradebook (LtiSubmissionReviewRequest):
	// the review page, in a session contained to it (no navigation: before the pages with the sign-out).
	reviewIn := publish.NewInput(c.ID)
	reviewIn.ActivityID = assignment.ID
	reviewIn.TeacherMode = publish.ModeAuto
	reviewed := inst.Publish(t, reviewIn)
	lineItem := p.AddLineItem("client-1", "platform-course", ltitest.LineItem{Label: reviewed.Name, ScoreMaximum: assignment.MaxGrade,
		ResourceID: reviewed.UUID, SubmissionReview: &ltitest.SubmissionReview{Label: "Open the submission in ltipub"}})
	lu, err := inst.Store.LTIUser(bg, reg.Issuer, "learner-1")
	if err != nil {
		t.Fatalf("the learner's account: %v", err)
	}
	reviewer := ltitest.LaunchSpec{
		User:         &ltitest.User{Sub: "teacher-at-platform", Name: "Tess Teacher"},
		Roles:        []string{ltitest.RoleInstructor},
		Context:      &ltitest.Context{ID: "platform-course", Title: "Astronomy at the platform"},
		ResourceLink: &ltitest.ResourceLink{ID: "assignment-link"},
		Custom:       map[string]string{"id": reviewed.UUID},
	}
	reviewPath := fmt.Sprintf("/review/%d/%d", assignment.ID, lu.UserID)
	launchTop(ltitest.ReviewSpec(reviewer, ltitest.User{Sub: "learner-1", Name: "Lea Learner"}, lineItem), reviewPath)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("review-submission"))); err != nil {
		t.Fatalf("the review shows no submission: %v", err)
	}
	a.audit("platform teacher", reviewPath)
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}

	// The admin: the dashboard, the site administration, every registration tab, users, launches, sync.
	entries, err := inst.Store.LaunchLog(bg, launch.LogFilter{Limit: 1})
	if err != nil || len(entries) == 0 {
		t.Fatalf("no launch in the log (%v)", err)
	}
	d.password = apptest.AdminPassword
	d.signIn("admin")
	d.password = pw
	rid := fmt.Sprint(reg.ID)
	for _, path := range []string{
		// The LTI 2.0 registration URL answers a GET with a page that says what it is for (no navigation: visit
		// it before a page that has the sign-out button).
		strings.TrimPrefix(publish.RegistrationURL(inst.URL, whole), inst.URL),
		"/", "/account/password", "/admin", "/admin/settings",
		"/admin/platforms", "/admin/platforms/new", "/admin/platforms/" + rid, "/admin/platforms/" + rid + "/platform",
		"/admin/platforms/" + rid + "/deployments", "/admin/platforms/" + rid + "/check", "/admin/platforms/" + rid + "/delete",
		"/admin/users", fmt.Sprintf("/admin/users/%d", other.ID), fmt.Sprintf("/admin/users/%d/delete", other.ID),
		"/admin/launches", fmt.Sprintf("/admin/launches/%d", entries[0].ID), "/admin/sync",
		"/admin/sync/runs", "/admin/platforms/" + rid + "/notices", fmt.Sprintf("/admin/users/merge?keep=%d", other.ID),
	} {
		a.visit("admin", path)
	}
	d.signOut()

	// The teacher: the course, its activities and their editors, people, grades, publishing.
	d.signIn("teacher")
	qid := quiz.Quiz.Questions[0].ID
	enrolments, err := inst.Store.ListEnrolments(context.Background(), c.ID)
	if err != nil || len(enrolments) == 0 {
		t.Fatalf("enrolments of the course: %v %v", enrolments, err)
	}
	rs := fmt.Sprint(whole.ID)
	for _, path := range []string{
		"/", "/account/password", "/courses/new", "/courses/import", "/courses/" + cs, "/courses/" + cs + "/edit",
		"/courses/" + cs + "/enrolments", "/courses/" + cs + "/grades", "/courses/" + cs + "/activities/new?type=page",
		"/courses/" + cs + "/activities/new?type=quiz", "/courses/" + cs + "/activities/new?type=assignment",
		fmt.Sprintf("/activities/%d", quiz.ID), fmt.Sprintf("/activities/%d/edit", quiz.ID),
		fmt.Sprintf("/activities/%d/attempts", quiz.ID), fmt.Sprintf("/activities/%d/questions", quiz.ID),
		fmt.Sprintf("/activities/%d/questions?preview=1", quiz.ID), fmt.Sprintf("/activities/%d/questions/new?type=multichoice", quiz.ID),
		fmt.Sprintf("/activities/%d/questions/new?type=matching", quiz.ID), fmt.Sprintf("/activities/%d/questions/new?type=essay", quiz.ID),
		fmt.Sprintf("/activities/%d/questions/%s/edit", quiz.ID, qid), fmt.Sprintf("/activities/%d/delete", quiz.ID),
		fmt.Sprintf("/activities/%d", assignment.ID), fmt.Sprintf("/activities/%d", page.ID),
		"/courses/" + cs + "/published", "/courses/" + cs + "/published/new", "/courses/" + cs + "/published/" + rs + "/edit",
		"/courses/" + cs + "/published/" + rs + "/delete", "/courses/" + cs + "/published/" + rs + "/grades",
		fmt.Sprintf("/courses/%s/enrolments/%d", cs, enrolments[len(enrolments)-1].ID),
	} {
		a.visit("teacher", path)
	}
	d.signOut()

	// Again in Spanish, whose words are longer, the pages most at risk of overflowing: tab bars, tables, long
	// labels and forms. The browser asks for Spanish (Accept-Language), the launches carry locale es-ES.
	esStart, esPages := time.Now(), a.pages
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": "es"}}); err != nil {
		t.Fatal(err)
	}
	a.lang = "es"
	es := &ltitest.Presentation{Locale: "es-ES"}
	refusedEs := refused
	refusedEs.Presentation = es
	launchTop(refusedEs, "/lti/launch")
	a.audit("anon-es", "/lti/launch (refused)")
	learnerEs := learner
	learnerEs.Presentation = es
	launchTop(learnerEs, "/courses/"+cs)
	a.audit("learner-es", "/courses/"+cs)
	a.visit("learner-es", fmt.Sprintf("/activities/%d", quiz.ID))
	promptEs := promptSpec
	promptEs.User = &ltitest.User{Sub: "learner-3", Name: "Paz Preguntada"}
	promptEs.Presentation = es
	launchTop(promptEs, "/launch/account")
	a.audit("learner-es", "/launch/account")
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	d.password = apptest.AdminPassword
	d.signIn("admin")
	d.password = pw
	// The inspector of a refused launch, whose explanation is the longest text.
	refusals, err := inst.Store.LaunchLog(bg, launch.LogFilter{Outcome: "refused", Limit: 1})
	if err != nil || len(refusals) == 0 {
		t.Fatalf("no refused launch in the log (%v)", err)
	}
	for _, path := range []string{
		"/admin", "/admin/settings", "/admin/platforms", "/admin/platforms/" + rid, "/admin/platforms/" + rid + "/platform",
		"/admin/platforms/" + rid + "/deployments", "/admin/platforms/" + rid + "/check", "/admin/launches",
		fmt.Sprintf("/admin/launches/%d", refusals[0].ID), "/admin/sync", "/admin/sync/runs", "/admin/users",
		fmt.Sprintf("/admin/users/%d", other.ID), fmt.Sprintf("/admin/users/merge?keep=%d", other.ID),
	} {
		a.visit("admin-es", path)
	}
	d.signOut()
	d.signIn("teacher")
	for _, path := range []string{
		"/courses/" + cs, "/courses/" + cs + "/enrolments", "/courses/" + cs + "/grades",
		fmt.Sprintf("/activities/%d/questions", quiz.ID), fmt.Sprintf("/activities/%d/attempts", quiz.ID),
		fmt.Sprintf("/activities/%d", assignment.ID), "/courses/" + cs + "/published", "/courses/" + cs + "/published/new",
	} {
		a.visit("teacher-es", path)
	}
	d.signOut()
	t.Logf("audited %d pages in Spanish in %s", a.pages-esPages, time.Since(esStart).Round(time.Millisecond))

	// The width of every page, for the record (go test -v).
	keys := make([]string, 0, len(a.widest))
	for k := range a.widest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("width %s: %d px", k, a.widest[k])
	}
	for rule, n := range a.rules {
		t.Logf("axe-core: %s on %d page view(s)", rule, n)
	}
	t.Logf("audited %d pages at %d widths in %s (axe-core %s)", a.pages, len(widths), time.Since(start).Round(time.Millisecond), a.axeTime.Round(time.Millisecond))

	// Every GET route was visited or is exempt.
	answered := answeredRoutes(t, inst)
	routes := getRoutes(t)
	for route := range exemptRoutes {
		if !slices.Contains(routes, route) {
			t.Errorf("exemptRoutes names %s, which internal/web no longer registers: remove it", route)
		}
	}
	for _, route := range routes {
		if _, ok := exemptRoutes[route]; ok {
			continue
		}
		if !answered[route] {
			t.Errorf("no page of %s was audited: visit it in TestEveryPageFitsAndPassesAxe, or add it to exemptRoutes with the reason", route)
		}
	}
}

// answeredRoutes reads the instance's request metrics: the route patterns that answered a GET.
func answeredRoutes(t *testing.T, inst *apptest.Instance) map[string]bool {
	t.Helper()
	rec := httptest.NewRecorder()
	inst.App.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	re := regexp.MustCompile(`^ltipub_http_request_duration_seconds_count\{(.*)\} `)
	label := regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)
	got := map[string]bool{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		labels := map[string]string{}
		for _, l := range label.FindAllStringSubmatch(m[1], -1) {
			labels[l[1]], _ = strconv.Unquote(`"` + l[2] + `"`)
		}
		// Any answer counts, a refusal page too (GET /lti/launch answers 405 with a page that explains it).
		if labels["method"] == "GET" && !strings.HasPrefix(labels["code"], "5") {
			got[labels["route"]] = true
		}
	}
	return got
}

// getRoutes lists every GET route internal/web registers: its string literals that start with "GET /", and the
// routes built from parts, which constructedRoutes must name (the test fails when their count changes).
func getRoutes(t *testing.T) []string {
	t.Helper()
	dir := "../internal/web"
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	built := 0
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BinaryExpr:
				if lit, ok := n.X.(*ast.BasicLit); ok && lit.Kind == token.STRING && lit.Value == `"GET "` {
					built++
				}
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(n.Value)
				if err == nil && strings.HasPrefix(s, "GET /") {
					routes = append(routes, s)
				}
			}
			return true
		})
	}
	if built != len(constructedRoutes) {
		t.Errorf("internal/web builds %d GET routes from parts, constructedRoutes names %d: name each in constructedRoutes", built, len(constructedRoutes))
	}
	routes = append(routes, constructedRoutes...)
	slices.Sort(routes)
	return slices.Compact(routes)
}
