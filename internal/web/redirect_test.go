package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
)

// hostileNext are redirect targets that try to leave the site, each in a way some browser or proxy has honoured.
var hostileNext = []string{
	"//evil.example", "///evil.example", "////evil.example/x",
	"/\t/evil.example/phish", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example", " //evil.example",
	"/\\evil.example", "\\\\evil.example", "\\/evil.example", "/\\/evil.example", "/\t\\evil.example",
	"https://evil.example/", "http://evil.example", "HTTPS://evil.example", "https:evil.example", "https:/evil.example",
	"//evil.example@localhost", "/@evil.example", "@evil.example", "https://localhost@evil.example/",
	"javascript:alert(1)", "JavaScript:alert(1)", "java\tscript:alert(1)", "data:text/html,<script>alert(1)</script>",
	"vbscript:msgbox(1)", "/%2F%2Fevil.example", "%2F%2Fevil.example", "/%5Cevil.example", "%5C%5Cevil.example",
	"/%09/evil.example", "/．/evil.example", "/／evil.example", "／／evil.example", "/\u2215evil.example",
	"\u2215\u2215evil.example", "/\u3002/evil.example", "/\x00/evil.example", "/\x7f/evil.example",
	"evil.example", "./evil.example", "../evil.example", ":/evil.example", "/" + strings.Repeat("a", 5000),
}

// browserResolve resolves a Location header as a browser would (WHATWG URL parsing): it trims C0 controls and
// spaces at the ends, drops tabs and newlines anywhere, and reads backslashes as slashes.
func browserResolve(t *testing.T, base, location string) *url.URL {
	t.Helper()
	loc := strings.TrimFunc(location, func(r rune) bool { return r <= ' ' })
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
	b, _ := url.Parse(base)
	u, err := b.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q does not parse: %v", location, err)
	}
	return u
}

// TestRedirectTargetsStayOnSite: every hostile next, on the sign-in form (GET when signed in, and POST) lands on
// this site, as the browser reads the Location.
func TestRedirectTargetsStayOnSite(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	if len(hostileNext) < 30 {
		t.Fatalf("only %d hostile values", len(hostileNext))
	}
	signedIn := inst.Client(t)
	inst.Login(t, signedIn, "admin", apptest.AdminPassword)
	base, _ := url.Parse(inst.URL)
	for _, next := range hostileNext {
		for _, how := range []string{"GET", "POST"} {
			var r apptest.Response
			if how == "GET" {
				r = inst.Get(t, signedIn, "/login?next="+url.QueryEscape(next))
			} else {
				r = inst.PostForm(t, inst.Client(t), "/login", url.Values{"username": {"admin"}, "password": {apptest.AdminPassword}, "next": {next}})
			}
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s next=%q: status %d", how, next, r.StatusCode)
			}
			loc := r.Header.Get("Location")
			u := browserResolve(t, inst.URL, loc)
			if u.Host != base.Host || u.Scheme != base.Scheme || u.User != nil || strings.HasPrefix(u.Path, "//") {
				t.Errorf("%s next=%q: Location %q takes the browser to %s, want %s/", how, next, loc, u, inst.URL)
			}
		}
	}
	// The sign-in form keeps an honest target, with its query.
	for _, next := range []string{"/admin/settings", "/courses/1?tab=grades", "/lti/x%2Fy"} {
		r := inst.Get(t, signedIn, "/login?next="+url.QueryEscape(next))
		if got := r.Header.Get("Location"); got != next {
			t.Errorf("next=%q redirected to %q", next, got)
		}
	}
}
