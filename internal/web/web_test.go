package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	tests := []struct {
		name       string
		username   string
		password   string
		wantStatus int
		wantBody   string
	}{
		{"right password", "admin", apptest.AdminPassword, http.StatusSeeOther, ""},
		{"wrong password", "admin", "not the password", http.StatusUnauthorized, "The username or password is wrong"},
		{"unknown user", "nobody", apptest.AdminPassword, http.StatusUnauthorized, "The username or password is wrong"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := inst.Client(t)
			resp := inst.PostForm(t, c, "/login", url.Values{"username": {tt.username}, "password": {tt.password}})
			if resp.StatusCode != tt.wantStatus || !strings.Contains(resp.Body, tt.wantBody) {
				t.Fatalf("status %d, body %q; want %d containing %q", resp.StatusCode, resp.Body, tt.wantStatus, tt.wantBody)
			}
			home := inst.Get(t, c, "/")
			signedIn := home.StatusCode == http.StatusOK && strings.Contains(home.Body, "Welcome, Site Admin")
			if signedIn != (tt.wantStatus == http.StatusSeeOther) {
				t.Fatalf("after login: dashboard status %d, signed in = %v", home.StatusCode, signedIn)
			}
		})
	}
}

func TestLoginRedirectStaysOnSite(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	for next, want := range map[string]string{"/admin/settings": "/admin/settings", "https://evil.example/": "/", "//evil.example": "/"} {
		c := inst.Client(t)
		resp := inst.PostForm(t, c, "/login", url.Values{"username": {"admin"}, "password": {apptest.AdminPassword}, "next": {next}})
		if got := resp.Header.Get("Location"); got != want {
			t.Errorf("next=%q redirected to %q, want %q", next, got, want)
		}
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	c := inst.Client(t)
	inst.Login(t, c, "admin", apptest.AdminPassword)
	if r := inst.Get(t, c, "/admin/settings"); r.StatusCode != http.StatusOK {
		t.Fatalf("settings before logout: %d", r.StatusCode)
	}
	if r := inst.PostForm(t, c, "/logout", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.StatusCode)
	}
	r := inst.Get(t, c, "/admin/settings")
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("settings after logout: %d → %q, want a redirect to /login", r.StatusCode, r.Header.Get("Location"))
	}
}

func TestCSRFRejection(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	c := inst.Client(t)
	inst.Login(t, c, "admin", apptest.AdminPassword)
	form := url.Values{"allow_frame_embedding": {"on"}} // would switch publishing off
	for name, headers := range map[string]map[string]string{
		"cross-site fetch metadata": {"Sec-Fetch-Site": "cross-site"},
		"same-site fetch metadata":  {"Sec-Fetch-Site": "same-site"},
		"foreign origin":            {"Origin": "https://evil.example"},
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, inst.URL+"/admin/settings", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			resp := inst.Do(t, c, req)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(resp.Body, "sent from another site") {
				t.Fatalf("status %d body %q, want 403 explaining the refusal", resp.StatusCode, resp.Body)
			}
		})
	}
	settings, _ := inst.App.Site.Get(context.Background())
	if !settings.PublishingEnabled {
		t.Fatal("a refused cross-site form changed the settings")
	}
}

func TestSessionSurvivesRestart(t *testing.T) {
	t.Parallel()
	for _, engine := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			first := apptest.Start(t, apptest.Options{Engine: engine})
			c := first.Client(t)
			first.Login(t, c, "admin", apptest.AdminPassword)
			addr := strings.TrimPrefix(first.URL, "http://")
			first.Close()

			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			second := apptest.Start(t, apptest.Options{DSN: first.DSN, Listener: ln})
			if r := second.Get(t, c, "/admin/settings"); r.StatusCode != http.StatusOK {
				t.Fatalf("after restart the session is gone: status %d", r.StatusCode)
			}
		})
	}
}

func TestSettingsSwitches(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	c := inst.Client(t)
	inst.Login(t, c, "admin", apptest.AdminPassword)

	anon := inst.Client(t)
	r := inst.Get(t, anon, "/lti/login")
	if r.StatusCode == http.StatusServiceUnavailable {
		t.Fatalf("publishing is on by default, but /lti/login says %d", r.StatusCode)
	}
	if r.Header.Get("X-Frame-Options") != "" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'self'") {
		t.Fatalf("framing is allowed by default, headers: %v", r.Header)
	}

	if r := inst.PostForm(t, c, "/admin/settings", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("save settings: %d %s", r.StatusCode, r.Body)
	}
	r = inst.Get(t, anon, "/lti/login")
	if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(r.Body, "LTI publishing is disabled on this site") {
		t.Fatalf("publishing off: /lti/login answered %d %q", r.StatusCode, r.Body)
	}
	if r.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("framing off, headers: %v", r.Header)
	}
	page := inst.Get(t, c, "/admin/settings")
	if strings.Contains(page.Body, `id="publishing_enabled" checked`) || !strings.Contains(page.Body, "Settings saved.") {
		t.Fatalf("settings page does not show the saved state: %s", page.Body)
	}
}

func TestSettingsAdminOnly(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	inst.EnsureUser(t, account.NewUser{Username: "teacher", Password: "teacher-password"})
	c := inst.Client(t)
	inst.Login(t, c, "teacher", "teacher-password")
	if r := inst.Get(t, c, "/admin/settings"); r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "Site administrators only") {
		t.Fatalf("non-admin got %d", r.StatusCode)
	}
	if r := inst.PostForm(t, c, "/admin/settings", url.Values{}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("non-admin could post settings: %d", r.StatusCode)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	c := inst.Client(t)
	if r := inst.Get(t, c, "/healthz"); r.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d", r.StatusCode)
	}
	if r := inst.Get(t, c, "/readyz"); r.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %d", r.StatusCode)
	}
	inst.Store.DB().Close() // the database goes away; the process is still alive
	if r := inst.Get(t, c, "/healthz"); r.StatusCode != http.StatusOK {
		t.Fatalf("healthz with the database gone: %d", r.StatusCode)
	}
	if r := inst.Get(t, c, "/readyz"); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database gone: %d, want 503", r.StatusCode)
	}
}

func TestErrorPages(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	c := inst.Client(t)
	r := inst.Get(t, c, "/no/such/page")
	if r.StatusCode != http.StatusNotFound || !strings.Contains(r.Body, "There is no page at /no/such/page") ||
		r.Header.Get("X-Request-Id") == "" || !strings.Contains(r.Body, r.Header.Get("X-Request-Id")) {
		t.Fatalf("404 page: %d %q", r.StatusCode, r.Body)
	}
	req, _ := http.NewRequest(http.MethodGet, inst.URL+"/no/such/page", nil)
	req.Header.Set("Accept", "application/json")
	if r := inst.Do(t, c, req); !strings.Contains(r.Body, `"code":"not_found"`) {
		t.Fatalf("JSON clients should get JSON errors: %q", r.Body)
	}
}

// TestConcurrentWrites sends many parallel logins and settings changes to one SQLite instance; none may fail
// with "database is locked" or anything else.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	const workers = 16
	var wg sync.WaitGroup
	errs := make(chan string, workers*4)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := inst.Client(t)
			for j := range 3 {
				resp := inst.PostForm(t, c, "/login", url.Values{"username": {"admin"}, "password": {apptest.AdminPassword}})
				if resp.StatusCode != http.StatusSeeOther {
					errs <- fmt.Sprintf("login %d/%d: %d %s", i, j, resp.StatusCode, resp.Body)
					continue
				}
				form := url.Values{"publishing_enabled": {"on"}}
				if (i+j)%2 == 0 {
					form.Set("allow_frame_embedding", "on")
				}
				if resp := inst.PostForm(t, c, "/admin/settings", form); resp.StatusCode != http.StatusSeeOther {
					errs <- fmt.Sprintf("settings %d/%d: %d %s", i, j, resp.StatusCode, resp.Body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
