package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// The server side of launches without cookies: login pages, the platform storage launch, its refusals, the
// new-window paths, and what the launch log says. The browser side is in e2e/cookieless_test.go.

// framedLogin sends spec's login initiation as a framed browser would and returns the login page and the
// platform's id_token post (state and id_token) that following its auth form gives.
func framedLogin(t *testing.T, inst *apptest.Instance, p *ltitest.Platform, client *http.Client, spec ltitest.LaunchSpec, extra url.Values) (page string, form url.Values) {
	t.Helper()
	in, err := p.LoginInitiation(spec)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(in.URL)
	q := u.Query()
	for k, v := range extra {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
	req.Header.Set("Sec-Fetch-Dest", "iframe")
	resp := inst.Do(t, client, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("framed login: status %d, want the login page: %s", resp.StatusCode, resp.Body)
	}
	base, _ := url.Parse(inst.URL + "/lti/login")
	var auth *ltitest.Form
	for _, f := range ltitest.ParseForms(base, []byte(resp.Body)) {
		if f.ID == "auth-form" {
			auth = &f
		}
	}
	if auth == nil || !strings.HasPrefix(auth.Action, p.AuthURL()) {
		t.Fatalf("the login page has no form to the platform: %s", resp.Body)
	}
	r, err := auth.Submit(context.Background(), http.DefaultClient)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	forms := ltitest.ParseForms(r.Request.URL, body)
	if len(forms) == 0 || forms[0].Values.Get("id_token") == "" {
		t.Fatalf("the platform did not answer an id_token: %s", body)
	}
	return resp.Body, forms[0].Values
}

func postForm(t *testing.T, inst *apptest.Instance, client *http.Client, path string, v url.Values, hdr map[string]string) apptest.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, inst.URL+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, val := range hdr {
		req.Header.Set(k, val)
	}
	return inst.Do(t, client, req)
}

var sameOrigin = map[string]string{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "iframe"}

func lastEntry(t *testing.T, inst *apptest.Instance) launch.LogEntry {
	t.Helper()
	es, err := inst.Store.LaunchLog(context.Background(), launch.LogFilter{Limit: 1})
	if err != nil || len(es) == 0 {
		t.Fatalf("launch log: %v %v", es, err)
	}
	return es[0]
}

func TestCookielessLoginPages(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.Platform(t, p, "client-1")

	// Top-level, no storage: a bare redirect, as before.
	in, _ := p.LoginInitiation(learnerSpec(t))
	req, _ := http.NewRequest(http.MethodGet, in.URL, nil)
	req.Header.Set("Sec-Fetch-Dest", "document")
	if resp := inst.Do(t, inst.Client(t), req); resp.StatusCode != http.StatusFound {
		t.Fatalf("top-level login: status %d, want 302", resp.StatusCode)
	}

	// Storage target (also under Canvas's name): the page posts to the platform's origin only.
	for _, param := range []string{"lti_storage_target", "post_message_forwarding"} {
		page, _ := framedLogin(t, inst, p, inst.Client(t), learnerSpec(t), url.Values{param: {"post_message_forwarding"}})
		for _, want := range []string{`data-target="post_message_forwarding"`, `data-origin="` + p.BaseURL() + `"`, `id="window-form"`,
			`name="` + "ltipub_window" + `" value="1"`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the login page lacks %s", param, want)
			}
		}
		if strings.Contains(page, `data-origin="*"`) {
			t.Error("the login page posts to any origin")
		}
	}

	// A new-window login that is framed again offers no further window: no loop.
	page, _ := framedLogin(t, inst, p, inst.Client(t), learnerSpec(t), url.Values{"ltipub_window": {"1"}})
	if strings.Contains(page, `id="window-form"`) || !strings.Contains(page, `id="no-cookies"`) {
		t.Fatalf("a framed new-window login offers another window: %s", page)
	}
}

func TestCookielessStorageLaunch(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.Platform(t, p, "client-1")
	spec := learnerSpec(t)
	spec.Storage = ltitest.StorageOn

	finish := func(t *testing.T, outcome string, valueOf func(state string) string, hdr map[string]string) (apptest.Response, url.Values) {
		t.Helper()
		_, form := framedLogin(t, inst, p, inst.Client(t), spec, nil)
		// The browser blocks the frame's cookies: the launch arrives without the state cookie.
		noCookies := inst.Client(t)
		resp := postForm(t, inst, noCookies, "/lti/launch", form, map[string]string{"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"})
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `id="storage-form"`) ||
			!strings.Contains(resp.Body, `data-origin="`+p.BaseURL()+`"`) {
			t.Fatalf("launch without cookie: status %d, want the storage page: %s", resp.StatusCode, resp.Body)
		}
		// The page claimed nothing: posting the same response again gives the page again.
		if again := postForm(t, inst, noCookies, "/lti/launch", form, nil); !strings.Contains(again.Body, `id="storage-form"`) {
			t.Fatalf("the storage page claimed the state: %s", again.Body)
		}
		v := url.Values{"id_token": {form.Get("id_token")}, "state": {form.Get("state")}, "lti_storage_outcome": {outcome},
			"lti_storage_value": {valueOf(form.Get("state"))}}
		return postForm(t, inst, noCookies, "/lti/launch/storage", v, hdr), v
	}
	same := func(s string) string { return s }

	t.Run("confirmed", func(t *testing.T) {
		resp, v := finish(t, "ok", same, sameOrigin)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `id="lti-landed"`) || !strings.Contains(resp.Body, `name="ticket"`) {
			t.Fatalf("status %d, want the landing check with a new-window ticket: %s", resp.StatusCode, resp.Body)
		}
		if e := lastEntry(t, inst); e.Outcome != launch.Accepted || e.Path != launch.PathPlatformStorage {
			t.Fatalf("log: %+v", e)
		}
		// Single use: the same response again is refused.
		again := postForm(t, inst, inst.Client(t), "/lti/launch/storage", v, sameOrigin)
		if again.StatusCode != http.StatusUnauthorized || !strings.Contains(again.Body, "already used") {
			t.Fatalf("replay: status %d: %s", again.StatusCode, again.Body)
		}
	})

	refusals := []struct {
		name, outcome string
		value         func(string) string
		hdr           map[string]string
		code, text    string
	}{
		{"no same-origin proof", "ok", same, nil, launch.CodeStorageProofMissing, "did not come from ltipub"},
		{"cross-site post", "ok", same, map[string]string{"Sec-Fetch-Site": "cross-site"}, launch.CodeStorageProofMissing, "did not come from ltipub"},
		{"foreign Origin", "ok", same, map[string]string{"Origin": "https://evil.example"}, launch.CodeStorageProofMissing, "did not come from ltipub"},
		{"wrong value", "ok", func(s string) string { return s + "x" }, sameOrigin, launch.CodeStorageMismatch, "different value"},
		{"value missing", "missing", func(string) string { return "" }, sameOrigin, launch.CodeStorageMissing, "no record of this launch"},
		{"timeout", "timeout", func(string) string { return "" }, sameOrigin, launch.CodeStorageTimeout, "did not answer in time"},
		{"wrong origin", "origin", func(string) string { return "" }, sameOrigin, launch.CodeStorageWrongOrigin, "instead of the platform"},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			sessions := inst.SessionCount(t)
			resp, _ := finish(t, tt.outcome, tt.value, tt.hdr)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Body, tt.text) {
				t.Fatalf("status %d, want 401 saying %q: %s", resp.StatusCode, tt.text, resp.Body)
			}
			if e := lastEntry(t, inst); e.Outcome != launch.Refused || e.Code != tt.code || e.Path != launch.PathPlatformStorage {
				t.Fatalf("log: %+v", e)
			}
			if n := inst.SessionCount(t); n != sessions {
				t.Fatalf("a refused launch added a session (%d → %d)", sessions, n)
			}
		})
	}

	t.Run("cookie path needs no storage", func(t *testing.T) {
		client := inst.Client(t)
		_, form := framedLogin(t, inst, p, client, spec, nil)
		resp := postForm(t, inst, client, "/lti/launch", form, map[string]string{"Sec-Fetch-Dest": "iframe"})
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `id="lti-landed"`) {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		if e := lastEntry(t, inst); e.Outcome != launch.Accepted || e.Path != launch.PathCookie {
			t.Fatalf("log: %+v", e)
		}
	})

	t.Run("storage proof for a login without storage", func(t *testing.T) {
		plain := learnerSpec(t)
		_, form := framedLogin(t, inst, p, inst.Client(t), plain, nil)
		v := url.Values{"id_token": {form.Get("id_token")}, "state": {form.Get("state")}, "lti_storage_outcome": {"ok"},
			"lti_storage_value": {form.Get("state")}}
		resp := postForm(t, inst, inst.Client(t), "/lti/launch/storage", v, sameOrigin)
		if resp.StatusCode != http.StatusUnauthorized || lastEntry(t, inst).Code != launch.CodeStorageNotStarted {
			t.Fatalf("status %d, log %+v", resp.StatusCode, lastEntry(t, inst))
		}
	})
}

func TestCookielessNewWindow(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.Platform(t, p, "client-1")

	t.Run("login again in a new window", func(t *testing.T) {
		// The fallback page's form: the same login initiation plus ltipub_window=1, top-level.
		in, _ := p.LoginInitiation(learnerSpec(t))
		u, _ := url.Parse(in.URL)
		q := u.Query()
		q.Set("ltipub_window", "1")
		u.RawQuery = q.Encode()
		client := inst.Client(t)
		req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
		req.Header.Set("Sec-Fetch-Dest", "document")
		resp := inst.Do(t, client, req)
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.Query().Get("state"), "w.") {
			t.Fatalf("new-window login: status %d, location %s", resp.StatusCode, loc)
		}
		if e := lastEntry(t, inst); e.Stage != launch.StageLogin || e.Path != launch.PathNewWindow {
			t.Fatalf("log: %+v", e)
		}
		r, err := (ltitest.Form{Method: http.MethodGet, Action: loc.String(), Values: loc.Query()}).Submit(context.Background(), http.DefaultClient)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		form := ltitest.ParseForms(r.Request.URL, body)[0].Values
		launched := postForm(t, inst, client, "/lti/launch", form, map[string]string{"Sec-Fetch-Dest": "document"})
		if launched.StatusCode != http.StatusSeeOther {
			t.Fatalf("new-window launch: status %d: %s", launched.StatusCode, launched.Body)
		}
		if e := lastEntry(t, inst); e.Stage != launch.StageLaunch || e.Outcome != launch.Accepted || e.Path != launch.PathNewWindow {
			t.Fatalf("log: %+v", e)
		}
	})

	t.Run("fallback report", func(t *testing.T) {
		page, _ := framedLogin(t, inst, p, inst.Client(t), learnerSpec(t), nil)
		i := strings.Index(page, `data-state="`) + len(`data-state="`)
		state := page[i : i+strings.Index(page[i:], `"`)]
		v := url.Values{"state": {state}, "reason": {"cookies"}}
		if resp := postForm(t, inst, inst.Client(t), "/lti/login/fallback", v, nil); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a report from elsewhere: status %d", resp.StatusCode)
		}
		if resp := postForm(t, inst, inst.Client(t), "/lti/login/fallback", v, sameOrigin); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("report: status %d: %s", resp.StatusCode, resp.Body)
		}
		if e := lastEntry(t, inst); e.Stage != launch.StageLogin || e.Code != "frame_cookies_blocked" || e.Path != launch.PathNewWindow {
			t.Fatalf("log: %+v", e)
		}
	})

	t.Run("ticket after a confirmed launch", func(t *testing.T) {
		spec := learnerSpec(t)
		spec.Storage = ltitest.StorageOn
		_, form := framedLogin(t, inst, p, inst.Client(t), spec, nil)
		frame := inst.Client(t)
		v := url.Values{"id_token": {form.Get("id_token")}, "state": {form.Get("state")}, "lti_storage_outcome": {"ok"},
			"lti_storage_value": {form.Get("state")}}
		landed := postForm(t, inst, frame, "/lti/launch/storage", v, sameOrigin)
		i := strings.Index(landed.Body, `name="ticket" value="`)
		if i < 0 {
			t.Fatalf("no ticket: %s", landed.Body)
		}
		i += len(`name="ticket" value="`)
		ticket := landed.Body[i : i+strings.Index(landed.Body[i:], `"`)]

		window := inst.Client(t)
		if resp := postForm(t, inst, window, "/lti/window", url.Values{"ticket": {ticket}}, map[string]string{"Sec-Fetch-Site": "cross-site"}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site redemption: status %d", resp.StatusCode)
		}
		if resp := postForm(t, inst, window, "/lti/window", url.Values{"ticket": {ticket + "x"}}, sameOrigin); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("forged ticket: status %d", resp.StatusCode)
		}
		resp := postForm(t, inst, window, "/lti/window", url.Values{"ticket": {ticket}}, sameOrigin)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/courses/") {
			t.Fatalf("redemption: status %d, location %q: %s", resp.StatusCode, resp.Header.Get("Location"), resp.Body)
		}
		if page := inst.Get(t, window, resp.Header.Get("Location")); page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "Introduction to Astronomy") {
			t.Fatalf("the new window is not signed in: %d %s", page.StatusCode, page.Body)
		}
		if e := lastEntry(t, inst); e.Stage != launch.StageNewWindow || e.Outcome != launch.Accepted || e.Path != launch.PathNewWindow {
			t.Fatalf("log: %+v", e)
		}
		if again := postForm(t, inst, inst.Client(t), "/lti/window", url.Values{"ticket": {ticket}}, sameOrigin); again.StatusCode != http.StatusBadRequest {
			t.Fatalf("second redemption: status %d", again.StatusCode)
		}
	})
}
