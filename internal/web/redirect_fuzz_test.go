package web

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzLocalRedirect: whatever the redirect-target check accepts stays on this site once a browser has read it
// (WHATWG URL parsing: tabs and newlines dropped, control characters and spaces trimmed, backslashes as slashes).
// Seeded with the hostile values of TestRedirectTargetsStayOnSite; the corpus lives in testdata/fuzz.
func FuzzLocalRedirect(f *testing.F) {
	for _, s := range []string{"/admin/settings", "/courses/1?tab=grades#x", "//evil.example", "/\t/evil.example", "/\\evil.example",
		"https://evil.example", "/%2F%2Fevil.example", "/．/evil.example", "javascript:alert(1)", "/@evil.example", "/.//evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://tool.example.edu")
	f.Fuzz(func(t *testing.T, next string) {
		got := localRedirect(next, "/")
		if got != "/" && got != next {
			t.Fatalf("localRedirect(%q) = %q: neither the target nor the fallback", next, got)
		}
		loc := strings.TrimFunc(got, func(r rune) bool { return r <= ' ' })
		loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
		u, err := base.Parse(loc)
		if err != nil {
			t.Fatalf("accepted %q does not parse: %v", got, err)
		}
		if u.Host != base.Host || u.Scheme != base.Scheme || u.User != nil {
			t.Fatalf("accepted %q leads to %s", next, u)
		}
	})
}
