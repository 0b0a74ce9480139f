package web_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/config"
)

// TestOddIPv4RefusedAtSave: a platform URL whose host is an IPv4 address in an unusual spelling is refused when
// saved, with a message that names it, even where private addresses are allowed (development).
func TestOddIPv4RefusedAtSave(t *testing.T) {
	t.Parallel()
	for _, allowPrivate := range []bool{true, false} {
		inst := apptest.Start(t, apptest.Options{Configure: func(c *config.Config) { c.AllowPrivateURLs = allowPrivate }})
		c := adminClient(t, inst)
		id, _ := createPlatform(t, inst, c, "Odd")
		for _, host := range []string{"127.1", "0x7f000001", "2130706433", "0177.0.0.1", "127.0.0.01", "0x7f.1"} {
			form := url.Values{"issuer": {"https://lms.example.edu"}, "client_id": {"abc"},
				"jwks_url": {"https://" + host + "/jwks"}, "token_url": {"https://lms.example.edu/token"}, "auth_url": {"https://lms.example.edu/auth"}}
			r := inst.PostForm(t, c, fmt.Sprintf("/admin/platforms/%d/platform", id), form)
			if body := html.UnescapeString(r.Body); r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "written in an unusual way") {
				t.Errorf("allow private %v, host %s: %d, want 422 naming the odd spelling: %s", allowPrivate, host, r.StatusCode, body)
			}
		}
		if reg, _ := inst.App.Platforms.Get(t.Context(), id); reg.JWKSURL != "" {
			t.Fatalf("an odd URL was saved: %q", reg.JWKSURL)
		}
	}
}

// TestCrossOriginComparesScheme: a form posted from this host under another scheme is refused like any other
// cross-origin post, also by browsers that send no Sec-Fetch-Site.
func TestCrossOriginComparesScheme(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	post := func(origin string) int {
		req, _ := http.NewRequest(http.MethodPost, inst.URL+"/login", strings.NewReader(url.Values{"username": {"admin"}, "password": {apptest.AdminPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", origin)
		return inst.Do(t, inst.Client(t), req).StatusCode
	}
	if got := post("https" + strings.TrimPrefix(inst.URL, "http")); got != http.StatusForbidden {
		t.Fatalf("Origin with the site's host but https on an http site: %d, want 403", got)
	}
	if got := post(inst.URL); got != http.StatusSeeOther {
		t.Fatalf("same origin: %d, want 303", got)
	}
}

// TestHSTSOnHTTPS: an https site tells browsers to stay on https; an http (development) site does not.
func TestHSTSOnHTTPS(t *testing.T) {
	t.Parallel()
	plain := apptest.Start(t, apptest.Options{})
	if h := plain.Get(t, plain.Client(t), "/login").Header.Get("Strict-Transport-Security"); h != "" {
		t.Fatalf("HSTS on an http site: %q", h)
	}
	secure := apptest.Start(t, apptest.Options{Configure: func(c *config.Config) { c.BaseURL = "https://tool.example.edu" }})
	if h := secure.Get(t, secure.Client(t), "/login").Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=31536000") {
		t.Fatalf("HSTS on an https site: %q", h)
	}
}
