// Package browsertest drives Debian's Chromium with chromedp for the flows a person clicks through. It fails
// (rather than skips) under CI when Chromium is missing, so a green CI run always means the browser tests ran.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/testsuite"
)

// Options tune the browser.
type Options struct {
	// AllowThirdPartyCookies lets framed sites on other origins keep unpartitioned cookies (a fresh headless
	// profile blocks them).
	AllowThirdPartyCookies bool
	// Timeout bounds the whole browser session; 60 s when zero.
	Timeout time.Duration
}

// browsers bounds how many Chromiums run at once: on a 2-core machine, more only makes every test slower and
// pushes their waits past their timeouts. A test waits here before its own timeout starts.
var browsers = make(chan struct{}, 2)

// New starts a headless Chromium for t and returns a chromedp context; the browser stops when t ends.
func New(t testing.TB, opts Options) context.Context {
	t.Helper()
	browsers <- struct{}{}
	t.Cleanup(func() { <-browsers })
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is required under CI: install Debian's chromium package (.ci/run does)")
		}
		testsuite.NoCache(t) // the next run must look for Chromium again
		t.Skip("SKIPPING browser test: no chromium found; install Debian's chromium package or set LTIPUB_CHROMIUM")
	}
	dir := t.TempDir()
	if opts.AllowThirdPartyCookies {
		_ = os.MkdirAll(filepath.Join(dir, "Default"), 0o755)
		_ = os.WriteFile(filepath.Join(dir, "Default", "Preferences"), []byte(`{"profile":{"cookie_controls_mode":0}}`), 0o644)
	}
	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.UserDataDir(dir),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, allocOpts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		cancelTimeout()
	})
	return bctx
}

// Screenshot saves a PNG of the current page to $LTIPUB_SCREENSHOTS/name.png when that variable is set, for a
// person to look at what a test saw.
func Screenshot(t testing.TB, ctx context.Context, name string) {
	dir := os.Getenv("LTIPUB_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
}

// ChromiumPath is the browser the tests use ("" when none is found): LTIPUB_CHROMIUM, else chromium,
// chromium-browser or google-chrome on the PATH.
func ChromiumPath() string { return chromiumPath() }

func chromiumPath() string {
	if p := os.Getenv("LTIPUB_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// WaitFor evaluates the JavaScript condition js in the current page every 100 ms until it is true or timeout
// passes. Unlike chromedp.Poll it survives the page navigating meanwhile (each try runs in whatever document is
// there), so it can wait for a navigation a click started to finish: the next Navigate must not start while
// another navigation is pending, or Chromium aborts one of them (net::ERR_ABORTED).
func WaitFor(ctx context.Context, js string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for {
		try, cancel := context.WithTimeout(ctx, 2*time.Second)
		ok, err := chromedp.Run(try, chromedp.Evaluate[bool](js))
		cancel()
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			if last != nil {
				return fmt.Errorf("%s still false after %s (last error: %v)", js, timeout, last)
			}
			return fmt.Errorf("%s still false after %s", js, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Loaded is a WaitFor condition: the top document is at path and has finished loading.
func Loaded(path string) string {
	return `location.pathname === ` + strconv.Quote(path) + ` && document.readyState === "complete"`
}
