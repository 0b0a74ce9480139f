package e2e

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// Launches where the browser blocks the tool's cookies in the platform's iframe: ltipub runs on localhost, the
// reference platform on 127.0.0.1 (another site), and a fresh headless profile blocks third-party cookies. On
// plain http ltipub's cookies are not partitioned either, so inside the frame it keeps none at all: the
// situation of Safari, and of any browser set to block third-party cookies.

// crossSite starts ltipub on localhost with the reference platform on 127.0.0.1 and the example quiz published.
func crossSite(t *testing.T) (*apptest.Instance, *ltitest.Platform, publish.Resource) {
	t.Helper()
	inst := apptest.Start(t, apptest.Options{Host: "localhost"})
	p := ltitest.NewServer(t, ltitest.Config{})
	inst.Platform(t, p, "client-1")
	data, err := os.ReadFile("../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	admin := inst.Admin
	imported, err := inst.App.Courses.Import(context.Background(), &admin, data)
	if err != nil {
		t.Fatal(err)
	}
	in := publish.NewInput(imported.Course.ID)
	for _, a := range imported.Activities {
		if a.Type == course.TypeQuiz {
			in.ActivityID = a.ID
		}
	}
	r, err := inst.App.Publish.Publish(context.Background(), nil, in)
	if err != nil {
		t.Fatal(err)
	}
	return inst, p, r
}

// findTarget polls the browser's targets for one of type typ on the tool's origin in which sel exists, and
// returns a context attached to it. A cross-site iframe runs in its own process: chromedp reaches it only
// through its own target, which changes each time the frame navigates between the sites. Each target is
// attached once and stays attached until the test ends (detaching and attaching again loses it).
func findTarget(t *testing.T, ctx context.Context, typ, origin, sel string) context.Context {
	t.Helper()
	attached := map[target.ID]context.Context{}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		infos, err := chromedp.Targets(ctx)
		if err != nil {
			t.Fatalf("list targets: %v", err)
		}
		for _, info := range infos {
			if info.Type != typ || !strings.HasPrefix(info.URL, origin) {
				continue
			}
			tctx, ok := attached[info.TargetID]
			if !ok {
				var cancel context.CancelFunc
				tctx, cancel = chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID))
				t.Cleanup(cancel)
				// Attach with the context itself: the first run binds the target to its context, and a
				// timeout context would detach it when it ends.
				if err := chromedp.Do(tctx); err != nil {
					continue
				}
				attached[info.TargetID] = tctx
			}
			short, cancelShort := context.WithTimeout(tctx, 400*time.Millisecond)
			found, err := chromedp.Run(short, chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(sel)+`) !== null`))
			cancelShort()
			if err == nil && found {
				return tctx
			}
			if err != nil {
				// Detached (the target navigated to another document) or busy: attach again next round.
				delete(attached, info.TargetID)
			}
		}
		time.Sleep(150 * time.Millisecond)
	}
	browsertest.Screenshot(t, ctx, "target-wait-failed")
	t.Fatalf("no %s target on %s shows %s", typ, origin, sel)
	return nil
}

func openCoursePage(t *testing.T, ctx context.Context, p *ltitest.Platform, spec ltitest.LaunchSpec) {
	t.Helper()
	page, err := p.CoursePageURL(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitReady(chromedp.ID("ltitool"))); err != nil {
		t.Fatal(err)
	}
}

// visibleText waits until sel is shown (not hidden) and returns its text. WaitVisible does not see into an
// iframe's own target, so this asks the page itself.
func visibleText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	js := `(() => { const e = document.querySelector(` + strconv.Quote(sel) + `);
		return e && !e.closest("[hidden]") ? e.innerText : null; })()`
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		txt, err := chromedp.Run(ctx, chromedp.Evaluate[*string](js))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		if txt != nil {
			return *txt
		}
	}
	t.Fatalf("%s is not shown", sel)
	return ""
}

// openNewWindow clicks the frame's "Open in a new window" and returns the new window once sel shows in it.
func openNewWindow(t *testing.T, ctx, frame context.Context, origin, sel string) context.Context {
	t.Helper()
	if err := chromedp.Do(frame, chromedp.Click(chromedp.ID("open-window"))); err != nil {
		t.Fatalf("click Open in a new window: %v", err)
	}
	return findTarget(t, ctx, "page", origin, sel)
}

func logEntries(t *testing.T, inst *apptest.Instance) []launch.LogEntry {
	t.Helper()
	es, err := inst.Store.LaunchLog(context.Background(), launch.LogFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// waitEntry waits (the browser reports a fallback in the background) for a launch log entry by stage, outcome,
// path and, if not empty, code.
func waitEntry(t *testing.T, inst *apptest.Instance, stage, outcome, path, code string) bool {
	t.Helper()
	// A deadline, not a count of tries: on a loaded machine the browser's report can take seconds.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, e := range logEntries(t, inst) {
			if e.Stage == stage && e.Outcome == outcome && e.Path == path && (code == "" || e.Code == code) {
				return true
			}
		}
	}
	t.Logf("launch log: %+v", logEntries(t, inst))
	return false
}

// TestCookielessLaunchThroughPlatformStorage: the platform offers its storage; the login keeps the state there,
// the launch reads it back and is accepted through it. The frame keeps no session cookie either, so the page
// says so and the launch continues in a new window, which lands in the quiz.
func TestCookielessLaunchThroughPlatformStorage(t *testing.T) {
	t.Parallel()
	start := time.Now()
	inst, p, r := crossSite(t)
	ctx := browsertest.New(t, browsertest.Options{Timeout: 120 * time.Second})
	spec := studentSpec("storage-student", r)
	spec.Storage = ltitest.StorageOn
	openCoursePage(t, ctx, p, spec)

	frame := findTarget(t, ctx, "iframe", inst.URL, "#quiz-form, #landed-fallback")
	browsertest.Screenshot(t, ctx, "storage-landed")
	if !waitEntry(t, inst, launch.StageLaunch, launch.Accepted, launch.PathPlatformStorage, "") {
		t.Fatalf("no accepted launch through platform storage in the log")
	}
	if inFrame, _ := chromedp.Run(frame, chromedp.Evaluate[bool](`document.getElementById("quiz-form") !== null`)); !inFrame {
		msg := visibleText(t, frame, "#landed-fallback")
		if !strings.Contains(msg, "confirmed your launch") {
			t.Fatalf("the landing fallback says %q", msg)
		}
		win := openNewWindow(t, ctx, frame, inst.URL, "#quiz-form")
		browsertest.Screenshot(t, win, "storage-new-window")
		if !waitEntry(t, inst, launch.StageNewWindow, launch.Accepted, launch.PathNewWindow, "") {
			t.Fatal("the new window's continuation is not in the launch log")
		}
	}
	// The storage frame records each message with a fetch of its own, which may land after the launch ends: wait
	// for the four answers the launch needed.
	var answered, ignored int
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		answered, ignored = 0, 0
		for _, m := range p.StorageMessages() {
			if m.Answered {
				answered++
			} else {
				ignored++
			}
		}
		if answered >= 4 || time.Now().After(deadline) {
			break
		}
	}
	if answered < 4 || ignored != 0 {
		t.Fatalf("storage frame: %d answered, %d ignored, want capabilities+2 put_data at login and capabilities+get_data at launch", answered, ignored)
	}
	t.Logf("platform storage launch took %s", time.Since(start).Round(time.Millisecond))
}

// TestCookielessFallsBackToNewWindow: no platform storage and no cookies in the frame: the login page explains and
// offers a new window, which starts the login again top-level and lands in the quiz.
func TestCookielessFallsBackToNewWindow(t *testing.T) {
	t.Parallel()
	start := time.Now()
	inst, p, r := crossSite(t)
	ctx := browsertest.New(t, browsertest.Options{Timeout: 120 * time.Second})
	openCoursePage(t, ctx, p, studentSpec("window-student", r))

	frame := findTarget(t, ctx, "iframe", inst.URL, "#login-fallback")
	msg := visibleText(t, frame, "#reason-cookies")
	if !strings.Contains(msg, "third-party cookies") {
		t.Fatalf("the fallback says %q", msg)
	}
	browsertest.Screenshot(t, ctx, "window-fallback")
	win := openNewWindow(t, ctx, frame, inst.URL, "#quiz-form")
	loc, _ := chromedp.Run(win, chromedp.Location())
	if !strings.Contains(loc, "/activities/") {
		t.Fatalf("the new window is at %s", loc)
	}
	if !waitEntry(t, inst, launch.StageLogin, launch.Refused, launch.PathNewWindow, "frame_cookies_blocked") {
		t.Fatalf("the fallback is not in the launch log")
	}
	if !waitEntry(t, inst, launch.StageLaunch, launch.Accepted, launch.PathNewWindow, "") {
		t.Fatalf("no accepted new-window launch in the log")
	}
	t.Logf("new-window fallback took %s", time.Since(start).Round(time.Millisecond))
}

// TestCookielessStorageFaults: a storage frame whose answers come from another origin, one that answers the wrong
// value, and one that never answers: each is refused or falls back, with its own message and log line.
func TestCookielessStorageFaults(t *testing.T) {
	t.Parallel()
	start := time.Now()
	inst, p, r := crossSite(t)
	ctx := browsertest.New(t, browsertest.Options{Timeout: 120 * time.Second})

	// Answers from another origin are ignored: the login falls back to a new window and says why.
	spec := studentSpec("wrong-origin", r)
	spec.Storage = ltitest.StorageWrongOrigin
	openCoursePage(t, ctx, p, spec)
	frame := findTarget(t, ctx, "iframe", inst.URL, "#login-fallback")
	if msg := visibleText(t, frame, "#reason-origin"); !strings.Contains(msg, "null") || !strings.Contains(msg, p.BaseURL()) {
		t.Fatalf("wrong origin: the fallback says %q", msg)
	}
	if !waitEntry(t, inst, launch.StageLogin, launch.Refused, launch.PathNewWindow, launch.CodeStorageWrongOrigin) {
		t.Fatal("wrong origin: no log line")
	}

	// A wrong value read back at the launch: refused.
	spec = studentSpec("wrong-value", r)
	spec.Storage = ltitest.StorageWrongValue
	openCoursePage(t, ctx, p, spec)
	frame = findTarget(t, ctx, "iframe", inst.URL, ".problem h1")
	if msg := visibleText(t, frame, ".problem"); !strings.Contains(msg, "different value") {
		t.Fatalf("wrong value: the page says %q", msg)
	}
	if !waitEntry(t, inst, launch.StageLaunch, launch.Refused, launch.PathPlatformStorage, launch.CodeStorageMismatch) {
		t.Fatal("wrong value: no log line")
	}

	// No answer at all: the login times out and falls back.
	spec = studentSpec("silent", r)
	spec.Storage = ltitest.StorageSilent
	openCoursePage(t, ctx, p, spec)
	frame = findTarget(t, ctx, "iframe", inst.URL, "#login-fallback")
	if msg := visibleText(t, frame, "#reason-timeout"); !strings.Contains(msg, "did not answer in time") {
		t.Fatalf("timeout: the fallback says %q", msg)
	}
	if !waitEntry(t, inst, launch.StageLogin, launch.Refused, launch.PathNewWindow, launch.CodeStorageTimeout) {
		t.Fatal("timeout: no log line")
	}
	t.Logf("storage faults took %s", time.Since(start).Round(time.Millisecond))
}
