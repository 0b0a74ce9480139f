package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// adminClient signs in as the instance's admin.
func adminClient(t *testing.T, inst *apptest.Instance) *http.Client {
	t.Helper()
	c := inst.Client(t)
	inst.Login(t, c, "admin", apptest.AdminPassword)
	return c
}

var regURLRe = regexp.MustCompile(`id="registration-url" readonly value="([^"]+)"`)

// createPlatform registers a platform name through the admin UI and returns its id and registration URL.
func createPlatform(t *testing.T, inst *apptest.Instance, c *http.Client, name string) (int64, string) {
	t.Helper()
	r := inst.PostForm(t, c, "/admin/platforms", url.Values{"name": {name}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create platform: %d %s", r.StatusCode, r.Body)
	}
	loc := r.Header.Get("Location")
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/admin/platforms/"), 10, 64)
	if err != nil {
		t.Fatalf("create platform redirected to %q", loc)
	}
	page := inst.Get(t, c, loc)
	m := regURLRe.FindStringSubmatch(page.Body)
	if page.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("tool details page: %d, no registration URL: %s", page.StatusCode, page.Body)
	}
	for _, want := range []string{inst.URL + "/lti/launch", inst.URL + "/lti/login", inst.URL + "/lti/jwks", inst.URL + "/lti/deeplink"} {
		if !strings.Contains(page.Body, `value="`+want+`"`) {
			t.Fatalf("tool details page lacks %s", want)
		}
	}
	if again := inst.Get(t, c, loc); regURLRe.MatchString(again.Body) {
		t.Fatal("the registration URL is shown only once")
	}
	return id, html.UnescapeString(m[1])
}

// newRegistrationURL makes a fresh registration URL for an existing registration through the UI.
func newRegistrationURL(t *testing.T, inst *apptest.Instance, c *http.Client, id int64) string {
	t.Helper()
	path := "/admin/platforms/" + strconv.FormatInt(id, 10)
	if r := inst.PostForm(t, c, path+"/registration-url", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("new registration URL: %d %s", r.StatusCode, r.Body)
	}
	m := regURLRe.FindStringSubmatch(inst.Get(t, c, path).Body)
	if m == nil {
		t.Fatal("no registration URL after making one")
	}
	return html.UnescapeString(m[1])
}

func TestDynamicRegistrationEndToEnd(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	c := adminClient(t, inst)
	id, regURL := createPlatform(t, inst, c, "Reference platform")

	// Before it is active, the platform may not frame ltipub's pages.
	if csp := inst.Get(t, c, "/").Header.Get("Content-Security-Policy"); strings.Contains(csp, p.BaseURL()) {
		t.Fatalf("a pending platform is already a frame ancestor: %s", csp)
	}

	start, err := p.StartRegistration(regURL)
	if err != nil {
		t.Fatal(err)
	}
	anon := inst.Client(t)
	r := inst.Get(t, anon, strings.TrimPrefix(start, inst.URL))
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Done") ||
		!strings.Contains(r.Body, `postMessage(msg, "*")`) || !strings.Contains(r.Body, "org.imsglobal.lti.close") {
		t.Fatalf("registration page: %d %s", r.StatusCode, r.Body)
	}
	if !strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors *") || r.Header.Get("X-Frame-Options") != "" {
		t.Fatalf("the registration page must be framable by the platform: %v", r.Header)
	}
	recs := p.Registrations()
	if len(recs) != 1 || recs[0].Status != http.StatusOK {
		t.Fatalf("platform saw registrations %+v", recs)
	}
	body := recs[0].Request
	scope, _ := body["scope"].(string)
	for _, s := range lti.ToolScopes {
		if !strings.Contains(scope, s) {
			t.Errorf("scope %q lacks %s", scope, s)
		}
	}
	tc, _ := body[lti.ToolConfigurationKey].(map[string]any)
	msgs, _ := json.Marshal(tc["messages"])
	if !strings.Contains(string(msgs), "LtiResourceLinkRequest") || !strings.Contains(string(msgs), "LtiDeepLinkingRequest") ||
		!strings.Contains(string(msgs), "placements") || tc["domain"] == "" || tc["target_link_uri"] != inst.URL+"/lti/launch" {
		t.Errorf("tool configuration %v", tc)
	}
	if body["token_endpoint_auth_method"] != "private_key_jwt" || body["initiate_login_uri"] != inst.URL+"/lti/login" ||
		body["jwks_uri"] != inst.URL+"/lti/jwks" || body["logo_uri"] == nil {
		t.Errorf("registration body %v", body)
	}

	reg, err := inst.App.Platforms.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !reg.Active() || reg.Issuer != p.Issuer() || reg.ClientID != recs[0].ClientID || !reg.HasDeployment(recs[0].DeploymentID) ||
		reg.AuthURL != p.AuthURL() || reg.TokenURL != p.TokenURL() || reg.JWKSURL != p.JWKSURL() || reg.ProductFamily != "ltitest" {
		t.Fatalf("stored registration %+v", reg)
	}
	list := inst.Get(t, c, "/admin/platforms")
	if !strings.Contains(list.Body, `<td class="status">Active</td>`) || !strings.Contains(list.Body, recs[0].ClientID) {
		t.Fatalf("list does not show the active registration: %s", list.Body)
	}
	// Now the platform's origin may frame ltipub.
	if csp := inst.Get(t, c, "/").Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self' "+p.BaseURL()) {
		t.Fatalf("frame-ancestors does not name the platform: %s", csp)
	}

	// A launch with the new registration succeeds.
	spec := learnerSpec(t)
	spec.ClientID, spec.DeploymentID = recs[0].ClientID, recs[0].DeploymentID
	res, err := p.Launch(context.Background(), newLaunchClient(), spec)
	if err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch after dynamic registration: %v %d %s", err, res.Response.StatusCode, res.Body)
	}

	// The URL works once.
	start2, _ := p.StartRegistration(regURL)
	if r := inst.Get(t, anon, strings.TrimPrefix(start2, inst.URL)); r.StatusCode != http.StatusGone || !strings.Contains(r.Body, "already used") {
		t.Fatalf("reused registration URL: %d %s", r.StatusCode, r.Body)
	}

	// Running it again (with a new URL) updates the same registration.
	start3, _ := p.StartRegistration(newRegistrationURL(t, inst, c, id))
	if r := inst.Get(t, anon, strings.TrimPrefix(start3, inst.URL)); r.StatusCode != http.StatusOK {
		t.Fatalf("second registration: %d %s", r.StatusCode, r.Body)
	}
	regs, _ := inst.App.Platforms.List(context.Background())
	recs = p.Registrations()
	if len(regs) != 1 || regs[0].ID != id || regs[0].ClientID != recs[len(recs)-1].ClientID {
		t.Fatalf("re-registration did not update in place: %+v", regs)
	}
}

// fakePlatform is a scriptable platform for the refusals the reference platform cannot produce: a configuration
// from another origin, a fixed client ID.
type fakePlatform struct {
	srv      *httptest.Server
	issuer   string // "" = its own URL
	clientID string
}

func newFakePlatform(t *testing.T) *fakePlatform {
	f := &fakePlatform{clientID: "fixed-client"}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/config":
			iss := f.issuer
			if iss == "" {
				iss = f.srv.URL
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "authorization_endpoint": f.srv.URL + "/auth",
				"token_endpoint": f.srv.URL + "/token", "jwks_uri": f.srv.URL + "/jwks", "registration_endpoint": f.srv.URL + "/register",
				lti.PlatformConfigurationKey: map[string]any{"product_family_code": "moodle", "version": "4.1",
					"messages_supported": []string{"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}, "placements": []string{"AddContentMenu"}}})
		case "/register":
			_ = json.NewEncoder(w).Encode(map[string]any{"client_id": f.clientID, "application_type": []string{"web"},
				lti.ToolConfigurationKey: map[string]any{"deployment_id": 7}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func TestDynamicRegistrationRefusals(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	p := ltitest.NewServer(t, ltitest.Config{})
	c := adminClient(t, inst)
	anon := inst.Client(t)
	get := func(regURL string, q url.Values) apptest.Response {
		u := strings.TrimPrefix(regURL, inst.URL)
		if q != nil {
			u += "?" + q.Encode()
		}
		return inst.Get(t, anon, u)
	}
	ctx := context.Background()

	id, regURL := createPlatform(t, inst, c, "Refusals")
	fake := newFakePlatform(t)
	tests := []struct {
		name   string
		before func()
		q      url.Values
		status int
		want   string
	}{
		{"no openid_configuration", nil, url.Values{}, http.StatusBadRequest, "Open this URL from the platform"},
		{"malformed configuration URL", nil, url.Values{"openid_configuration": {"not a url"}}, http.StatusBadRequest, "not usable"},
		{"configuration answers 404", nil, url.Values{"openid_configuration": {p.BaseURL() + "/no-such-config"}}, http.StatusBadGateway, "HTTP 404"},
		{"configuration unreachable", nil, url.Values{"openid_configuration": {"http://127.0.0.1:1/config"}}, http.StatusBadGateway, "could not be fetched"},
		{"issuer mismatch", func() { fake.issuer = p.BaseURL() }, url.Values{"openid_configuration": {fake.srv.URL + "/config"}},
			http.StatusBadRequest, "does not match where it was fetched from"},
		{"platform rejects the registration", func() {
			p.InjectFault(ltitest.Fault{Service: ltitest.ServiceRegister, Kind: ltitest.FaultStatus, Status: http.StatusBadRequest,
				Body: `{"error":"invalid_client_metadata","error_description":"tool domain not allowed here"}`})
		}, nil, http.StatusBadGateway, "tool domain not allowed here"},
	}
	for _, tt := range tests {
		if tt.before != nil {
			tt.before()
		}
		q := tt.q
		if q == nil {
			start, _ := p.StartRegistration(regURL)
			u, _ := url.Parse(start)
			q = u.Query()
		}
		r := get(regURL, q)
		if r.StatusCode != tt.status || !strings.Contains(html.UnescapeString(r.Body), tt.want) {
			t.Errorf("%s: %d, want %d with %q: %s", tt.name, r.StatusCode, tt.status, tt.want, r.Body)
		}
	}
	// Every failure left the registration as it was, its URL included: the platform can simply try again.
	if reg, _ := inst.App.Platforms.Get(ctx, id); reg.Issuer != "" || reg.ClientID != "" || len(reg.Deployments) != 0 {
		t.Fatalf("a failed registration changed the registration: %+v", reg)
	}
	start, _ := p.StartRegistration(regURL)
	if r := get(start, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("retry after failures: %d %s", r.StatusCode, r.Body)
	}

	// Unknown and expired URLs.
	if r := get(inst.URL+"/lti/register/not-a-token", url.Values{"openid_configuration": {p.OpenIDConfigURL()}}); r.StatusCode != http.StatusNotFound ||
		!strings.Contains(r.Body, "not valid") {
		t.Errorf("unknown token: %d %s", r.StatusCode, r.Body)
	}
	svc := inst.App.Platforms
	svc.TokenTTL = time.Millisecond
	_, expired := createPlatform(t, inst, c, "Expired")
	svc.TokenTTL = 0
	time.Sleep(5 * time.Millisecond)
	start, _ = p.StartRegistration(expired)
	if r := get(start, nil); r.StatusCode != http.StatusGone || !strings.Contains(r.Body, "expired") {
		t.Errorf("expired token: %d %s", r.StatusCode, r.Body)
	}

	// Dynamic registration that would duplicate another registration's issuer and client ID.
	fake.issuer = ""
	_, first := createPlatform(t, inst, c, "Fake one")
	if r := get(first, url.Values{"openid_configuration": {fake.srv.URL + "/config"}}); r.StatusCode != http.StatusOK {
		t.Fatalf("fake platform registration (Moodle shapes): %d %s", r.StatusCode, r.Body)
	}
	dupID, second := createPlatform(t, inst, c, "Fake two")
	if r := get(second, url.Values{"openid_configuration": {fake.srv.URL + "/config"}}); r.StatusCode != http.StatusConflict ||
		!strings.Contains(html.UnescapeString(r.Body), `already belongs to the registration "Fake one"`) {
		t.Errorf("duplicate issuer + client ID: %d %s", r.StatusCode, r.Body)
	}
	if reg, _ := svc.Get(ctx, dupID); reg.Issuer != "" {
		t.Errorf("the refused duplicate was stored: %+v", reg)
	}
	regs, _ := svc.List(ctx)
	for _, reg := range regs {
		if reg.Name == "Fake one" && (!reg.HasDeployment("7") || reg.ProductFamily != "moodle") {
			t.Errorf("Moodle-shaped answer (numeric deployment ID) stored as %+v", reg)
		}
	}
}

// platformForm posts the platform details form.
func platformForm(t *testing.T, inst *apptest.Instance, c *http.Client, id int64, issuer, clientID string, p *ltitest.Platform) apptest.Response {
	t.Helper()
	f := url.Values{"issuer": {issuer}, "client_id": {clientID}}
	if p != nil {
		f.Set("jwks_url", p.JWKSURL())
		f.Set("token_url", p.TokenURL())
		f.Set("auth_url", p.AuthURL())
	}
	return inst.PostForm(t, c, "/admin/platforms/"+strconv.FormatInt(id, 10)+"/platform", f)
}

func TestManualRegistrationRefusals(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	strict := apptest.Start(t, apptest.Options{Configure: func(c *config.Config) { c.AllowPrivateURLs = false }})
	p := ltitest.NewServer(t, ltitest.Config{})
	c := adminClient(t, inst)
	id, _ := createPlatform(t, inst, c, "Manual")

	bad := url.Values{"issuer": {"lms.example.edu"}, "client_id": {"has space"}, "jwks_url": {"ftp://x/jwks"},
		"token_url": {""}, "auth_url": {"https://lms.example.edu/auth#frag"}}
	r := inst.PostForm(t, c, "/admin/platforms/"+strconv.FormatInt(id, 10)+"/platform", bad)
	body := html.UnescapeString(r.Body)
	for _, want := range []string{"Platform ID (issuer) must be an absolute URL", "Client ID must be at most 255 printable ASCII",
		"Public keyset URL must be an https URL", "Access token URL is required", "Authentication request URL must not have a fragment"} {
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
			t.Errorf("malformed details: %d, missing %q", r.StatusCode, want)
		}
	}
	if !strings.Contains(body, `value="lms.example.edu"`) {
		t.Error("the form does not keep what was typed")
	}

	// https is required unless the server allows private URLs (development).
	sc := adminClient(t, strict)
	sid, _ := createPlatform(t, strict, sc, "Strict")
	r = platformForm(t, strict, sc, sid, p.Issuer(), "c1", p)
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "must use https") {
		t.Errorf("http issuer without --allow-private-urls: %d %s", r.StatusCode, r.Body)
	}
	r = strict.PostForm(t, sc, "/admin/platforms/"+strconv.FormatInt(sid, 10)+"/platform", url.Values{"issuer": {"https://127.0.0.1"},
		"client_id": {"c"}, "jwks_url": {"https://localhost/jwks"}, "token_url": {"https://lms.example.edu/t"}, "auth_url": {"https://lms.example.edu/a"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "loopback or private address") {
		t.Errorf("loopback hosts without --allow-private-urls: %d %s", r.StatusCode, r.Body)
	}

	// Issuer + client ID are unique.
	if r := platformForm(t, inst, c, id, p.Issuer(), "client-1", p); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("valid details: %d %s", r.StatusCode, r.Body)
	}
	other, _ := createPlatform(t, inst, c, "Other")
	r = platformForm(t, inst, c, other, p.Issuer(), "client-1", p)
	if r.StatusCode != http.StatusConflict || !strings.Contains(html.UnescapeString(r.Body), `already belongs to the registration "Manual"`) {
		t.Errorf("duplicate issuer + client ID: %d %s", r.StatusCode, r.Body)
	}

	// Unknown registration; admins only.
	if r := inst.Get(t, c, "/admin/platforms/9999/platform"); r.StatusCode != http.StatusNotFound {
		t.Errorf("unknown registration: %d", r.StatusCode)
	}
	inst.EnsureUser(t, account.NewUser{Username: "teacher", Password: "teacher-password"})
	tc := inst.Client(t)
	inst.Login(t, tc, "teacher", "teacher-password")
	if r := inst.Get(t, tc, "/admin/platforms"); r.StatusCode != http.StatusForbidden {
		t.Errorf("non-admin reached the platforms list: %d", r.StatusCode)
	}
}

// TestManualRegistrationDeploymentsAndLaunch: two registrations of one issuer with different client IDs, two
// deployments on one, through the admin forms; launches resolve to the right registration; the last deployment
// of a registration in use is removed only when confirmed; deleting says what goes with it.
func TestManualRegistrationDeploymentsAndLaunch(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	c := adminClient(t, inst)
	ctx := context.Background()

	a, _ := createPlatform(t, inst, c, "Platform A")
	b, _ := createPlatform(t, inst, c, "Platform B")
	for _, x := range []struct {
		id     int64
		client string
		deps   []string
	}{{a, "client-a", []string{"dep-a1", "dep-a2"}}, {b, "client-b", []string{"dep-b"}}} {
		if r := platformForm(t, inst, c, x.id, p.Issuer(), x.client, p); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("platform details: %d %s", r.StatusCode, r.Body)
		}
		for _, d := range x.deps {
			r := inst.PostForm(t, c, "/admin/platforms/"+strconv.FormatInt(x.id, 10)+"/deployments", url.Values{"deployment_id": {d}, "name": {"Site"}})
			if r.StatusCode != http.StatusSeeOther {
				t.Fatalf("add deployment: %d %s", r.StatusCode, r.Body)
			}
		}
		err := p.RegisterTool(ltitest.ToolConfig{ClientID: x.client, DeploymentIDs: x.deps, LoginURL: inst.URL + "/lti/login",
			RedirectURIs: []string{inst.URL + "/lti/launch"}, JWKSURL: inst.URL + "/lti/jwks", TargetLinkURI: inst.URL + "/lti/launch"})
		if err != nil {
			t.Fatal(err)
		}
	}
	r := inst.PostForm(t, c, "/admin/platforms/"+strconv.FormatInt(a, 10)+"/deployments", url.Values{"deployment_id": {"dep-a1"}})
	if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "already listed") {
		t.Errorf("duplicate deployment: %d", r.StatusCode)
	}
	for _, tc := range []struct {
		client, deployment string
		want               int64
	}{{"client-a", "dep-a1", a}, {"client-a", "dep-a2", a}, {"client-b", "dep-b", b}} {
		spec := learnerSpec(t)
		spec.ClientID, spec.DeploymentID = tc.client, tc.deployment
		res, err := p.Launch(ctx, newLaunchClient(), spec)
		if err != nil || res.Response.StatusCode != http.StatusOK {
			t.Fatalf("%s/%s: %v %d %s", tc.client, tc.deployment, err, res.Response.StatusCode, res.Body)
		}
		log, _ := inst.Store.LaunchLog(ctx, launch.LogFilter{Limit: 1})
		if log[0].RegistrationID != tc.want || log[0].DeploymentID != tc.deployment {
			t.Fatalf("%s/%s resolved to registration %d", tc.client, tc.deployment, log[0].RegistrationID)
		}
	}

	// The last deployment of a registration that has launched needs confirmation.
	remove := func(id int64, dep, confirm string) apptest.Response {
		return inst.PostForm(t, c, "/admin/platforms/"+strconv.FormatInt(id, 10)+"/deployments/remove",
			url.Values{"deployment_id": {dep}, "confirm": {confirm}})
	}
	if r := remove(b, "dep-b", ""); r.StatusCode != http.StatusConflict || !strings.Contains(r.Body, "confirm-remove") ||
		!strings.Contains(r.Body, "accepted launches") {
		t.Fatalf("removing the last deployment in use: %d %s", r.StatusCode, r.Body)
	}
	if reg, _ := inst.App.Platforms.Get(ctx, b); !reg.Active() {
		t.Fatal("the unconfirmed removal removed the deployment")
	}
	if r := remove(b, "dep-b", "yes"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmed removal: %d %s", r.StatusCode, r.Body)
	}
	if reg, _ := inst.App.Platforms.Get(ctx, b); reg.Status() != "Pending" {
		t.Fatalf("after removing its last deployment the registration is %s", reg.Status())
	}
	if r := remove(a, "dep-a2", ""); r.StatusCode != http.StatusSeeOther { // not the last one
		t.Fatalf("remove one of two deployments: %d %s", r.StatusCode, r.Body)
	}
	if r := remove(a, "no-such", ""); r.StatusCode != http.StatusNotFound {
		t.Fatalf("remove unknown deployment: %d", r.StatusCode)
	}

	// Deleting: the confirmation names what depends on the registration; its launch log stays.
	page := inst.Get(t, c, "/admin/platforms/"+strconv.FormatInt(a, 10)+"/delete")
	if !strings.Contains(page.Body, "1 deployment(s)") || !strings.Contains(page.Body, "launch log line(s)") || !strings.Contains(page.Body, "confirm-delete") {
		t.Fatalf("delete confirmation: %s", page.Body)
	}
	before, _ := inst.Store.LaunchLog(ctx, launch.LogFilter{})
	if r := inst.PostForm(t, c, "/admin/platforms/"+strconv.FormatInt(a, 10)+"/delete", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", r.StatusCode, r.Body)
	}
	if _, err := inst.App.Platforms.Get(ctx, a); err == nil {
		t.Fatal("the registration is still there")
	}
	after, _ := inst.Store.LaunchLog(ctx, launch.LogFilter{})
	if len(after) != len(before) || slices.ContainsFunc(after, func(e launch.LogEntry) bool { return e.RegistrationID == a }) {
		t.Fatalf("launch log: %d lines before, %d after, still linked", len(before), len(after))
	}
	res, _ := p.Launch(ctx, newLaunchClient(), func() ltitest.LaunchSpec {
		s := learnerSpec(t)
		s.ClientID, s.DeploymentID = "client-a", "dep-a1"
		return s
	}())
	if res.Response.StatusCode == http.StatusOK {
		t.Fatal("a launch through a deleted registration succeeded")
	}
}
