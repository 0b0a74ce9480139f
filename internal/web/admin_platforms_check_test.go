package web_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// checkRegistration makes a registration at ltipub with reg's platform details (one deployment), and, unless
// platformTool is nil, the tool at the reference platform as platformTool says. It returns the registration id.
func checkRegistration(t *testing.T, inst *apptest.Instance, p *ltitest.Platform, reg tool.Registration, platformTool *ltitest.ToolConfig) int64 {
	t.Helper()
	ctx := context.Background()
	reg.Name = "Check " + t.Name()
	if err := inst.Store.CreateRegistration(ctx, &reg); err != nil {
		t.Fatal(err)
	}
	if err := inst.Store.AddDeployment(ctx, &tool.Deployment{RegistrationID: reg.ID, DeploymentID: "d1"}); err != nil {
		t.Fatal(err)
	}
	if platformTool != nil {
		tc := *platformTool
		tc.DeploymentIDs = []string{"d1"}
		tc.LoginURL, tc.RedirectURIs = inst.URL+"/lti/login", []string{inst.URL + "/lti/launch"}
		if tc.JWKSURL == "" {
			tc.JWKSURL = inst.URL + "/lti/jwks"
		}
		if err := p.RegisterTool(tc); err != nil {
			t.Fatal(err)
		}
	}
	return reg.ID
}

// deadURL is an http URL on a loopback port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String() + "/jwks"
	ln.Close()
	return u
}

func platformDetails(p *ltitest.Platform, clientID string) tool.Registration {
	return tool.Registration{Issuer: p.Issuer(), ClientID: clientID, JWKSURL: p.JWKSURL(), TokenURL: p.TokenURL(), AuthURL: p.AuthURL()}
}

// TestRegistrationCheck runs the check against the strict reference platform, once correctly registered and once
// for each common misconfiguration: each gives its own failed step, with its own fix, and the other steps still
// run.
func TestRegistrationCheck(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	ctx := context.Background()
	svc := inst.App.Platforms
	nrps := "token:https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
	score := "token:https://purl.imsglobal.org/spec/lti-ags/scope/score"
	lineitem := "token:https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
	catalog := platformCatalog(t, "es")

	tests := []struct {
		name     string
		reg      tool.Registration
		tool     *ltitest.ToolConfig
		setup    func()
		failed   string // the one step that must fail, besides tool_https (the test server is http)
		fix      string // in that step's fix
		detail   string // in that step's detail
		okAlso   []string
		failedTo []string // further steps that fail as a consequence
		skipped  []string // steps not tried because of the failure
	}{
		{name: "registered correctly", reg: platformDetails(p, "check-ok"), tool: &ltitest.ToolConfig{ClientID: "check-ok"},
			okAlso: []string{"platform_details", "jwks_fetch", "jwks_keys", "jwks_algorithms", "openid_configuration", score, nrps, "tool_reachable"}},
		{name: "JWKS unreachable", reg: func() tool.Registration {
			r := platformDetails(p, "check-dead")
			r.JWKSURL = deadURL(t)
			return r
		}(), tool: &ltitest.ToolConfig{ClientID: "check-dead"},
			failed: "jwks_fetch", fix: "Copy the Public keyset URL again", detail: "could not fetch",
			okAlso: []string{score, nrps}, failedTo: []string{"openid_configuration"}},
		{name: "bad key", reg: platformDetails(p, "check-badkey"), tool: &ltitest.ToolConfig{ClientID: "check-badkey"},
			setup: func() {
				p.InjectFault(ltitest.Fault{Service: ltitest.ServiceJWKS, Kind: ltitest.FaultStatus, Status: http.StatusOK,
					Body: `{"keys":[{"kty":"oct","kid":"shared","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ"}]}`})
			},
			failed: "jwks_keys", fix: "LTI keyset", detail: "no usable signing key", okAlso: []string{"jwks_fetch", score}},
		{name: "token endpoint refuses the assertion", reg: platformDetails(p, "check-wrongkeys"),
			// The platform has the wrong keyset for the tool (its own): ltipub's signature cannot verify there.
			tool:   &ltitest.ToolConfig{ClientID: "check-wrongkeys", JWKSURL: p.JWKSURL()},
			failed: lineitem, fix: "set the tool's public keyset", detail: "signature", okAlso: []string{"jwks_keys"},
			skipped: []string{score, nrps}},
		{name: "wrong client id", reg: platformDetails(p, "check-typo"), tool: nil,
			failed: lineitem, fix: "does not know client ID check-typo", detail: "unknown client", okAlso: []string{"jwks_keys"},
			skipped: []string{score, nrps}},
		{name: "roster service not granted", reg: platformDetails(p, "check-noroster"),
			tool:   &ltitest.ToolConfig{ClientID: "check-noroster", Scopes: []string{lti.ToolScopes[0], lti.ToolScopes[1], lti.ToolScopes[2]}},
			failed: nrps, fix: "Use this service to retrieve members' information", detail: "invalid_scope", okAlso: []string{score}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := checkRegistration(t, inst, p, tt.reg, tt.tool)
			if tt.setup != nil {
				tt.setup()
			}
			rep, err := svc.Check(ctx, id, "tester")
			if err != nil {
				t.Fatal(err)
			}
			dump := func() string {
				var b strings.Builder
				for _, s := range rep.Steps {
					b.WriteString("\n  " + s.Code + ": " + s.Status + ": " + s.Detail + " | " + s.Fix)
				}
				return b.String()
			}
			if st := rep.Step("tool_https"); st.Status != tool.CheckFailed || !strings.Contains(st.Fix, "https") {
				t.Errorf("tool_https on an http test server: %+v", st)
			}
			for _, code := range tt.okAlso {
				if st := rep.Step(code); st.Status != tool.CheckPassed {
					t.Errorf("%s: %s, want passed%s", code, st.Status, dump())
				}
			}
			if tt.failed != "" {
				st := rep.Step(tt.failed)
				if st.Status != tool.CheckFailed || !strings.Contains(st.Fix, tt.fix) || !strings.Contains(st.Detail, tt.detail) {
					t.Errorf("%s: want failed with detail ~%q and fix ~%q, got %+v%s", tt.failed, tt.detail, tt.fix, st, dump())
				}
			}
			for _, code := range tt.skipped {
				if st := rep.Step(code); st.Status != tool.CheckSkipped {
					t.Errorf("%s: %s, want skipped%s", code, st.Status, dump())
				}
			}
			allowed := append([]string{"tool_https", tt.failed}, tt.failedTo...)
			for _, s := range rep.Steps {
				if s.Status == tool.CheckFailed && !contains(allowed, s.Code) {
					t.Errorf("%s failed too: %s | %s", s.Code, s.Detail, s.Fix)
				}
				if s.Status == tool.CheckFailed && s.Fix == "" {
					t.Errorf("%s failed without a fix", s.Code)
				}
				// Each sentence has its id, and the catalogs a translation of it (the check page in Spanish).
				if s.DetailID == "" || catalog["platforms.check.detail."+s.DetailID] == "" {
					t.Errorf("%s: detail %q has no translation (id %q)", s.Code, s.Detail, s.DetailID)
				}
				if s.Fix != "" && (s.FixID == "" || catalog["platforms.check.fix."+s.FixID] == "") {
					t.Errorf("%s: fix %q has no translation (id %q)", s.Code, s.Fix, s.FixID)
				}
			}
			latest, err := svc.LatestCheck(ctx, id)
			if err != nil || latest.ID != rep.ID || len(latest.Steps) != len(rep.Steps) || latest.CheckedBy != "tester" {
				t.Errorf("the check record: %+v, %v", latest, err)
			}
		})
	}
	// Nothing but check records is written: the service tokens the check obtained are not cached.
	var n int
	if err := inst.Store.DB().QueryRow(`SELECT COUNT(*) FROM service_tokens`).Scan(&n); err != nil || n != 0 {
		t.Errorf("service_tokens rows after checks: %d, %v", n, err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestRegistrationCheckButton presses the button on the registration page over HTTP and reads the result page.
func TestRegistrationCheckButton(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	reg := inst.Platform(t, p, "button-client")
	c := adminClient(t, inst)
	base := "/admin/platforms/" + strconv.FormatInt(reg.ID, 10)

	if page := inst.Get(t, c, base); !strings.Contains(page.Body, `action="`+base+`/check"`) || !strings.Contains(page.Body, `id="check-registration"`) {
		t.Fatalf("the tool details page has no check button:\n%s", page.Body)
	}
	if page := inst.Get(t, c, base+"/check"); !strings.Contains(page.Body, `id="check-none"`) {
		t.Fatalf("before any check: %s", page.Body)
	}
	r := inst.PostForm(t, c, base+"/check", nil)
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != base+"/check" {
		t.Fatalf("run check: %d %s", r.StatusCode, r.Body)
	}
	page := inst.Get(t, c, base+"/check")
	for _, want := range []string{`id="check-results"`, "Some checks failed", `data-code="jwks_keys"`,
		`<tr class="check-passed" data-code="token:https://purl.imsglobal.org/spec/lti-ags/scope/score">`,
		`<tr class="check-failed" data-code="tool_https">`, "by admin"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("check page lacks %s", want)
		}
	}
	// Only admins may run it.
	anon := inst.Client(t)
	if r := inst.PostForm(t, anon, base+"/check", nil); r.StatusCode == http.StatusSeeOther && r.Header.Get("Location") == base+"/check" {
		t.Error("an anonymous visitor ran a check")
	}
}
