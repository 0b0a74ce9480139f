// Package e2e holds the browser tests: a real ltipub, a real database and Debian's Chromium driven by chromedp,
// clicking through what people do.
package e2e
