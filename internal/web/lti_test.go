package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/ltitest"
)

func newLaunchClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// ltiSetup starts an instance with the reference platform registered and the example course published; it
// returns the resource's UUID for the custom id of launches.
func ltiSetup(t *testing.T, opts apptest.Options) (*apptest.Instance, *ltitest.Platform) {
	t.Helper()
	inst := apptest.Start(t, opts)
	p := ltitest.NewServer(t, ltitest.Config{})
	in := publish.NewInput(inst.ExampleCourse(t, "").Course.ID)
	in.Name = "Astronomy"
	publishedUUID.Store(t.Name(), inst.Publish(t, in).UUID)
	return inst, p
}

var publishedUUID sync.Map

func learnerSpec(t *testing.T) ltitest.LaunchSpec {
	uuid, _ := publishedUUID.Load(strings.Split(t.Name(), "/")[0])
	id, _ := uuid.(string)
	return ltitest.LaunchSpec{
		User:    &ltitest.User{Sub: "student-1", Name: "Stu Dent", Email: "stu@example.edu"},
		Roles:   []string{ltitest.RoleLearner},
		Context: &ltitest.Context{ID: "course-1", Title: "Biology 101"},
		Custom:  map[string]string{"id": id},
		AGS:     &ltitest.AGS{}, NRPS: true,
	}
}

func TestLaunchHappyPath(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.Platform(t, p, "client-1")

	tests := []struct {
		name   string
		spec   func() ltitest.LaunchSpec
		expect string
	}{
		{"resource link, GET login", func() ltitest.LaunchSpec { return learnerSpec(t) }, "Introduction to Astronomy"},
		{"resource link, POST login", func() ltitest.LaunchSpec { s := learnerSpec(t); s.LoginMethod = http.MethodPost; return s }, "Introduction to Astronomy"},
		{"aud array with azp", func() ltitest.LaunchSpec { s := learnerSpec(t); s.AudienceArray = true; return s }, "Introduction to Astronomy"},
		{"deep linking, GET login", func() ltitest.LaunchSpec {
			return ltitest.LaunchSpec{MessageType: ltitest.MessageDeepLinkingRequest, User: &ltitest.User{Sub: "teacher-1"},
				Roles: []string{ltitest.RoleInstructor}, Context: &ltitest.Context{ID: "course-1"}, DeepLinking: &ltitest.DeepLinking{}}
		}, "Choose content from ltipub"},
		{"deep linking, POST login", func() ltitest.LaunchSpec {
			return ltitest.LaunchSpec{MessageType: ltitest.MessageDeepLinkingRequest, User: &ltitest.User{Sub: "teacher-1"},
				Roles: []string{ltitest.RoleInstructor}, DeepLinking: &ltitest.DeepLinking{}, LoginMethod: http.MethodPost}
		}, "Choose content from ltipub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := p.Launch(context.Background(), newLaunchClient(), tt.spec())
			if err != nil {
				t.Fatal(err)
			}
			body := string(res.Body)
			if res.Response.StatusCode != http.StatusOK || !strings.Contains(body, tt.expect) {
				t.Fatalf("status %d, body %s", res.Response.StatusCode, body)
			}
			if inst.SessionCount(t) == 0 {
				t.Fatal("an accepted launch starts a session")
			}
		})
	}
	log, _ := inst.Store.LaunchLog(context.Background(), launch.LogFilter{Outcome: launch.Accepted})
	// One line per launch: the login writes it and the launch finishes it (issue 19).
	if len(log) != len(tests) {
		t.Fatalf("launch log has %d accepted lines, want %d", len(log), len(tests))
	}
	for _, e := range log {
		if e.Stage != launch.StageLaunch || e.Subject == "" || e.DeploymentID == "" {
			t.Errorf("launch log line not finished by its launch: %+v", e)
		}
	}
}

// TestLaunchNegativeBattery launches broken id_tokens from the reference platform through real HTTP: each is
// refused with its own message, a 4xx status, and no session.
func TestLaunchNegativeBattery(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.Platform(t, p, "client-1")

	tests := []struct {
		tamper   ltitest.Tamper
		wantCode string
		wantText string
	}{
		{ltitest.TamperForeignKey, "bad_signature", ""},
		{ltitest.TamperUnknownKID, "kid_unknown", ""},
		{ltitest.TamperNoKID, "kid_missing", ""},
		{ltitest.TamperAlgNone, "alg_not_allowed", ""},
		{ltitest.TamperHS256PublicKey, "alg_not_allowed", ""},
		{ltitest.TamperBadSignature, "bad_signature", ""},
		{ltitest.TamperModifiedPayload, "bad_signature", ""},
		{ltitest.TamperExpired, "token_expired", ""},
		{ltitest.TamperIssuedInFuture, "iat_in_future", ""},
		{ltitest.TamperWrongIssuer, "iss_mismatch", ""},
		{ltitest.TamperWrongAudience, "aud_mismatch", ""},
		{ltitest.TamperAudArrayNoAzp, "azp_missing", ""},
		{ltitest.TamperAudArrayWrongAzp, "azp_mismatch", ""},
		{ltitest.TamperNonceMissing, "nonce_missing", ""},
		{ltitest.TamperNonceReplaced, "nonce_mismatch", ""},
		{ltitest.TamperDeploymentUnknown, "deployment_id_unknown", "Ask your teacher or the site"}, // a learner: see TestRefusalAudience
		{ltitest.TamperDeploymentMissing, "deployment_id_missing", ""},
		{ltitest.TamperMessageTypeUnknown, "message_type_unknown", ""},
		{ltitest.TamperMessageTypeMissing, "", ""},
		{ltitest.TamperVersionWrong, "version_wrong", ""},
		{ltitest.TamperVersionMissing, "", ""},
		{ltitest.TamperResourceLinkMissing, "claim_missing", "resource_link"},
		{ltitest.TamperResourceLinkEmptyID, "", "resource_link"},
		{ltitest.TamperRolesMissing, "claim_missing", "roles"},
		{ltitest.TamperTargetLinkMissing, "", "target_link_uri"},
		{ltitest.TamperContextNoID, "", "context"},
		{ltitest.TamperGarbage, "token_malformed", ""},
		{ltitest.TamperOversize, "token_too_large", ""},
	}
	seen := map[string]ltitest.Tamper{}
	for _, tt := range tests {
		t.Run(tt.tamper.String(), func(t *testing.T) {
			before := inst.SessionCount(t)
			spec := learnerSpec(t)
			spec.Tamper = tt.tamper
			res, err := p.Launch(context.Background(), newLaunchClient(), spec)
			if err != nil {
				t.Fatal(err)
			}
			code, problem := readProblem(t, inst, res)
			if res.Response.StatusCode < 400 || res.Response.StatusCode >= 500 {
				t.Fatalf("status %d, want 4xx; body %s", res.Response.StatusCode, res.Body)
			}
			if tt.wantCode != "" && code != tt.wantCode {
				t.Fatalf("refused with code %q, want %q (%s)", code, tt.wantCode, problem)
			}
			if tt.wantText != "" && !strings.Contains(problem, tt.wantText) {
				t.Fatalf("message %q does not mention %q", problem, tt.wantText)
			}
			if strings.Contains(strings.Join(res.Response.Header.Values("Set-Cookie"), ";"), "ltipub_session=") || inst.SessionCount(t) != before {
				t.Fatal("a refused launch created a session")
			}
			if code != "" {
				if other, dup := seen[code+problem]; dup {
					t.Logf("same message as %v: %s", other, problem)
				}
				seen[code+problem] = tt.tamper
			}
		})
	}
	refused, _ := inst.Store.LaunchLog(context.Background(), launch.LogFilter{Outcome: launch.Refused})
	if len(refused) < len(tests) {
		t.Fatalf("launch log has %d refusals, want at least %d", len(refused), len(tests))
	}
	for _, e := range refused {
		if e.Reason == "" || e.Code == "" {
			t.Fatalf("refusal logged without reason: %+v", e)
		}
	}
}

// readProblem finds the launch log line of the refused request (by its request id), checks that the page shows
// its reason, and returns the code and the page.
func readProblem(t *testing.T, inst *apptest.Instance, res *ltitest.LaunchResult) (code, text string) {
	t.Helper()
	body := string(res.Body)
	reqID := res.Response.Header.Get("X-Request-Id")
	entries, err := inst.Store.LaunchLog(context.Background(), launch.LogFilter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.RequestID == reqID {
			code = e.Code
			// The page shows the reason capitalised; compare from the second letter on.
			if !strings.Contains(body, htmlEscape(e.Reason[1:min(len(e.Reason), 40)])) {
				t.Fatalf("page does not show the logged reason %q: %s", e.Reason, body)
			}
		}
	}
	if code == "" && res.Response.StatusCode >= 400 {
		t.Fatalf("no launch log line for request %s; body %s", reqID, body)
	}
	return code, body
}

func htmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;")
	return r.Replace(s)
}

func TestLaunchStateChecks(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.Platform(t, p, "client-1")
	ctx := context.Background()

	// A normal launch, to replay afterwards.
	c := newLaunchClient()
	res, err := p.Launch(ctx, c, learnerSpec(t))
	if err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch: %v %d", err, res.Response.StatusCode)
	}
	post := func(c *http.Client, form url.Values) (int, string) {
		resp, err := c.PostForm(inst.URL+"/lti/launch", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}

	tests := []struct {
		name string
		run  func() (int, string)
		want string
	}{
		{"state missing", func() (int, string) { return post(newLaunchClient(), url.Values{"id_token": {res.IDToken}}) },
			"state"},
		{"state unknown", func() (int, string) {
			return post(newLaunchClient(), url.Values{"id_token": {res.IDToken}, "state": {"made-up"}})
		}, "unknown"},
		{"state reused (replayed id_token, same browser)", func() (int, string) {
			return post(c, url.Values{"id_token": {res.IDToken}, "state": {res.State}})
		}, "already used"},
		{"state cookie missing", func() (int, string) {
			// The login ran in one browser; the launch arrives in another (or the cookie was blocked).
			in, err := p.LoginInitiation(learnerSpec(t))
			if err != nil {
				t.Fatal(err)
			}
			req, _ := in.NewRequest(ctx)
			noRedirect := newLaunchClient()
			noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			return post(newLaunchClient(), url.Values{"id_token": {res.IDToken}, "state": {loc.Query().Get("state")}})
		}, "cookie"},
		{"replayed id_token with a fresh state", func() (int, string) {
			// A new login in the same browser; the attacker posts the old token: the nonce does not match.
			c2 := newLaunchClient()
			in, _ := p.LoginInitiation(learnerSpec(t))
			req, _ := in.NewRequest(ctx)
			c2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			resp, err := c2.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			return post(c2, url.Values{"id_token": {res.IDToken}, "state": {loc.Query().Get("state")}})
		}, "nonce"},
		{"platform error", func() (int, string) {
			return post(newLaunchClient(), url.Values{"error": {"access_denied"}, "error_description": {"not enrolled"}, "state": {"x"}})
		}, "access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := inst.SessionCount(t)
			status, body := tt.run()
			if status < 400 || status >= 500 || !strings.Contains(body, tt.want) {
				t.Fatalf("status %d, want 4xx mentioning %q: %s", status, tt.want, body)
			}
			if inst.SessionCount(t) != before {
				t.Fatal("a refused launch created a session")
			}
		})
	}
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	reg := inst.Platform(t, p, "client-1")

	c := inst.Client(t)
	get := func(q url.Values) apptest.Response { return inst.Get(t, c, "/lti/login?"+q.Encode()) }
	base := func() url.Values {
		return url.Values{"iss": {p.Issuer()}, "login_hint": {"u1"}, "target_link_uri": {inst.URL + "/lti/launch"}, "client_id": {"client-1"}}
	}
	tests := []struct {
		name   string
		mutate func(url.Values)
		want   string
	}{
		{"unknown issuer", func(v url.Values) { v.Set("iss", "https://lms.unknown.example") }, "No platform with issuer"},
		{"unknown client id", func(v url.Values) { v.Set("client_id", "nope") }, "not with client ID"},
		{"missing login_hint", func(v url.Values) { v.Del("login_hint") }, "login_hint"},
		{"missing iss", func(v url.Values) { v.Del("iss") }, "iss"},
		{"foreign target_link_uri", func(v url.Values) { v.Set("target_link_uri", "https://evil.example/x") }, "not a URL of this tool"},
		{"unknown deployment hint", func(v url.Values) { v.Set("lti_deployment_id", "other") }, "Deployments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := base()
			tt.mutate(q)
			r := get(q)
			if r.StatusCode < 400 || r.StatusCode >= 500 || !strings.Contains(r.Body, tt.want) {
				t.Fatalf("status %d, want 4xx mentioning %q: %s", r.StatusCode, tt.want, r.Body)
			}
		})
	}
	// A pending registration (no deployments) says what is missing.
	if err := inst.Store.RemoveDeployment(context.Background(), reg.ID, "deployment-1"); err != nil {
		t.Fatal(err)
	}
	if r := get(base()); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "pending") {
		t.Fatalf("pending registration: %d %s", r.StatusCode, r.Body)
	}
}

func TestTwoRegistrationsOneIssuer(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	a := inst.Platform(t, p, "client-a", "dep-a1", "dep-a2")
	b := inst.Platform(t, p, "client-b", "dep-b")
	for _, tc := range []struct {
		client, deployment string
		want               int64
	}{{"client-a", "dep-a1", a.ID}, {"client-a", "dep-a2", a.ID}, {"client-b", "dep-b", b.ID}} {
		spec := learnerSpec(t)
		spec.ClientID, spec.DeploymentID = tc.client, tc.deployment
		res, err := p.Launch(context.Background(), newLaunchClient(), spec)
		if err != nil || res.Response.StatusCode != http.StatusOK {
			t.Fatalf("%s/%s: %v %d %s", tc.client, tc.deployment, err, res.Response.StatusCode, res.Body)
		}
		log, _ := inst.Store.LaunchLog(context.Background(), launch.LogFilter{Limit: 1})
		if log[0].RegistrationID != tc.want || log[0].DeploymentID != tc.deployment {
			t.Fatalf("%s/%s resolved to registration %d deployment %q", tc.client, tc.deployment, log[0].RegistrationID, log[0].DeploymentID)
		}
	}
}

func TestPlatformKeyRotationAndFlood(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{})
	inst.Platform(t, p, "client-1")
	ctx := context.Background()
	if res, _ := p.Launch(ctx, newLaunchClient(), learnerSpec(t)); res.Response.StatusCode != http.StatusOK {
		t.Fatalf("first launch: %d", res.Response.StatusCode)
	}
	fetches := p.JWKSFetches()
	// A flood of tokens with unknown kids: at most one extra fetch within the refetch interval.
	for range 20 {
		spec := learnerSpec(t)
		spec.Tamper = ltitest.TamperUnknownKID
		_, _ = p.Launch(ctx, newLaunchClient(), spec)
	}
	if extra := p.JWKSFetches() - fetches; extra > 1 {
		t.Fatalf("a flood of unknown kids caused %d JWKS fetches, want at most 1", extra)
	}
}

func TestPlatformKeyRotationPickedUp(t *testing.T) {
	t.Parallel()
	inst, p := ltiSetup(t, apptest.Options{Configure: func(c *config.Config) { c.JWKSMinRefetch = 200 * time.Millisecond }})
	inst.Platform(t, p, "client-1")
	ctx := context.Background()
	if res, _ := p.Launch(ctx, newLaunchClient(), learnerSpec(t)); res.Response.StatusCode != http.StatusOK {
		t.Fatalf("first launch: %d", res.Response.StatusCode)
	}
	p.RotateKey(false)                 // the platform signs with a new kid from now on
	time.Sleep(250 * time.Millisecond) // past the refetch floor since the first fetch
	res, err := p.Launch(ctx, newLaunchClient(), learnerSpec(t))
	if err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch after the platform rotated its key: %d %s", res.Response.StatusCode, res.Body)
	}
}

func TestToolJWKSAndRotation(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	c := inst.Client(t)
	kids := func() []string {
		r := inst.Get(t, c, "/lti/jwks")
		var set struct {
			Keys []struct {
				Kid, Kty, Alg, Use, N, E string
				D                        string `json:"d"`
			} `json:"keys"`
		}
		if err := json.Unmarshal([]byte(r.Body), &set); err != nil {
			t.Fatalf("JWKS: %v %s", err, r.Body)
		}
		var out []string
		for _, k := range set.Keys {
			if k.D != "" {
				t.Fatal("the JWKS leaks a private key")
			}
			if k.Kty != "RSA" || k.Alg != "RS256" || k.Use != "sig" || k.N == "" {
				t.Fatalf("bad JWK %+v", k)
			}
			out = append(out, k.Kid)
		}
		return out
	}
	first := kids()
	if len(first) != 1 {
		t.Fatalf("a new tool publishes one key, got %v", first)
	}
	if _, err := inst.App.Keys.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := kids()
	if len(after) != 2 || after[1] != first[0] || after[0] == first[0] {
		t.Fatalf("after rotation the JWKS should hold the new and the previous key, got %v (before %v)", after, first)
	}

	// During the overlap, a token signed with the previous key still verifies at a platform that reads the
	// tool's JWKS: the reference platform's token endpoint checks a client assertion against it.
	p := ltitest.NewServer(t, ltitest.Config{})
	inst.Platform(t, p, "client-1")
	ks, _ := inst.App.Keys.Keys(context.Background())
	previous := ks[1].Signing
	now := time.Now()
	assertion, err := lti.Sign(previous, map[string]any{"iss": "client-1", "sub": "client-1", "aud": p.TokenURL(),
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": "rotation-test"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(p.TokenURL(), url.Values{"grant_type": {"client_credentials"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion},
		"scope": {"https://purl.imsglobal.org/spec/lti-ags/scope/score"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the platform refused an assertion signed with the previous key during the overlap: %d", resp.StatusCode)
	}
}
