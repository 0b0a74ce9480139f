package ltitest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLaunchFlow(t *testing.T) {
	tests := []struct {
		name        string
		loginMethod string
		postAuth    bool
	}{
		{"get initiation, redirect auth", http.MethodGet, false},
		{"post initiation, posted auth", http.MethodPost, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ft := newPlatformAndTool(t)
			ft.postAuth = tt.postAuth
			res, err := p.Launch(context.Background(), newJarClient(t), LaunchSpec{
				LoginMethod: tt.loginMethod,
				User:        &User{Sub: "u1", Name: "Ada Lovelace", GivenName: "Ada", FamilyName: "Lovelace", Email: "ada@example.test"},
				Roles:       []string{RoleLearner},
				Context:     &Context{ID: "course-1", Label: "C1", Title: "Course 1"},
				Custom:      map[string]string{"chapter": "2"},
				AGS:         &AGS{}, NRPS: true,
				Presentation: &Presentation{DocumentTarget: "iframe"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Response.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), "launched LtiResourceLinkRequest") {
				t.Fatalf("tool answered %d: %s", res.Response.StatusCode, res.Body)
			}
			if res.IDToken == "" || res.IDToken != p.LastIDToken() {
				t.Fatalf("IDToken not captured")
			}
			c := ft.lastClaims()
			iat, _ := c["iat"].(float64)
			exp, _ := c["exp"].(float64)
			checks := map[string]bool{
				"sub":           c["sub"] == "u1",
				"aud":           c["aud"] == ft.clientID,
				"azp":           c["azp"] == ft.clientID,
				"exp=iat+60":    exp-iat == 60,
				"version":       c[ClaimVersion] == LTIVersion,
				"deployment":    c[ClaimDeploymentID] == "dep-1",
				"target":        c[ClaimTargetLinkURI] == ft.srv.URL+"/launch",
				"resource_link": c[ClaimResourceLink].(map[string]any)["id"] == "rl-1",
				"custom":        c[ClaimCustom].(map[string]any)["chapter"] == "2",
				"lineitems":     c[ClaimAGSEndpoint].(map[string]any)["lineitems"] == p.BaseURL()+"/ags/course-1/lineitems",
				"nrps":          c[ClaimNRPS].(map[string]any)["context_memberships_url"] == p.BaseURL()+"/nrps/course-1/memberships",
				"return_url":    c[ClaimLaunchPresentation].(map[string]any)["return_url"] == p.BaseURL()+"/return",
				"tool_platform": c[ClaimToolPlatform].(map[string]any)["product_family_code"] == "ltitest",
				"roles":         len(c[ClaimRoles].([]any)) == 1,
				"email":         c["email"] == "ada@example.test",
			}
			for name, ok := range checks {
				if !ok {
					t.Errorf("claim check %s failed; claims: %v", name, c)
				}
			}
			reqs := p.AuthRequests()
			if len(reqs) != 1 || reqs[0].Error != "" {
				t.Fatalf("auth requests: %+v", reqs)
			}
		})
	}
}

func TestAnonymousLaunchHasNoSub(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	res, err := p.Launch(context.Background(), newJarClient(t), LaunchSpec{})
	if err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch: %v %s", err, res.Body)
	}
	c := ft.lastClaims()
	if _, ok := c["sub"]; ok {
		t.Errorf("anonymous launch has sub %v", c["sub"])
	}
	if roles, ok := c[ClaimRoles].([]any); !ok || len(roles) != 0 {
		t.Errorf("roles must be present and empty, got %v", c[ClaimRoles])
	}
}

func TestAuthEndpointRefusals(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	in, err := p.LoginInitiation(LaunchSpec{User: &User{Sub: "u1"}})
	if err != nil {
		t.Fatal(err)
	}
	good := url.Values{
		"scope": {"openid"}, "response_type": {"id_token"}, "response_mode": {"form_post"}, "prompt": {"none"},
		"client_id": {ft.clientID}, "redirect_uri": {ft.srv.URL + "/launch"}, "login_hint": {in.LoginHint},
		"lti_message_hint": {in.MessageHint}, "state": {"s1"}, "nonce": {"n1"},
	}
	tests := []struct {
		name      string
		edit      func(v url.Values)
		wantPage  bool   // 400 page, no post-back
		wantError string // posted back error
	}{
		{"ok", func(url.Values) {}, false, ""},
		{"unknown client", func(v url.Values) { v.Set("client_id", "nope") }, true, ""},
		{"unregistered redirect", func(v url.Values) { v.Set("redirect_uri", ft.srv.URL+"/other") }, true, ""},
		{"redirect prefix", func(v url.Values) { v.Set("redirect_uri", ft.srv.URL+"/launch/x") }, true, ""},
		{"scope", func(v url.Values) { v.Set("scope", "openid profile") }, false, "invalid_scope"},
		{"response_type", func(v url.Values) { v.Set("response_type", "code") }, false, "unsupported_response_type"},
		{"response_mode", func(v url.Values) { v.Del("response_mode") }, false, "invalid_request"},
		{"prompt", func(v url.Values) { v.Set("prompt", "login") }, false, "invalid_request"},
		{"no state", func(v url.Values) { v.Del("state") }, false, "invalid_request"},
		{"no nonce", func(v url.Values) { v.Del("nonce") }, false, "invalid_request"},
		{"unknown login_hint", func(v url.Values) { v.Set("login_hint", "x") }, false, "login_required"},
		{"message hint changed", func(v url.Values) { v.Set("lti_message_hint", "x") }, false, "invalid_request"},
		{"message hint dropped", func(v url.Values) { v.Del("lti_message_hint") }, false, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := url.Values{}
			for k, vs := range good {
				v[k] = append([]string(nil), vs...)
			}
			tt.edit(v)
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				var resp *http.Response
				var body []byte
				if method == http.MethodGet {
					resp, body = do(t, method, p.AuthURL()+"?"+v.Encode(), "", "", "", "")
				} else {
					resp, body = do(t, method, p.AuthURL(), "", "", "application/x-www-form-urlencoded", v.Encode())
				}
				if tt.wantPage {
					if resp.StatusCode != http.StatusBadRequest || len(ParseForms(nil, body)) != 0 {
						t.Fatalf("%s: want 400 page, got %d %s", method, resp.StatusCode, body)
					}
					continue
				}
				forms := ParseForms(resp.Request.URL, body)
				if resp.StatusCode != http.StatusOK || len(forms) != 1 {
					t.Fatalf("%s: want auto-post form, got %d %s", method, resp.StatusCode, body)
				}
				f := forms[0]
				if f.Method != http.MethodPost || f.Action != ft.srv.URL+"/launch" {
					t.Fatalf("form goes %s %s", f.Method, f.Action)
				}
				if got := f.Values.Get("error"); got != tt.wantError {
					t.Fatalf("%s: error = %q (%s), want %q", method, got, f.Values.Get("error_description"), tt.wantError)
				}
				if tt.wantError == "" && (f.Values.Get("id_token") == "" || f.Values.Get("state") != "s1") {
					t.Fatalf("success form lacks id_token/state: %v", f.Values)
				}
				if tt.wantError != "" && v.Get("state") != "" && f.Values.Get("state") != v.Get("state") {
					t.Fatalf("error form does not echo state: %v", f.Values)
				}
			}
		})
	}
}

func TestTampersAreRejectedByAStrictVerifier(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	// These break the signature, the algorithm or standard claims, which a
	// generic JWT verifier (jwx) must refuse. LTI-specific cases are
	// checked on the claims below.
	generic := map[Tamper]bool{
		TamperForeignKey: true, TamperUnknownKID: true, TamperAlgNone: true, TamperHS256PublicKey: true,
		TamperBadSignature: true, TamperModifiedPayload: true, TamperExpired: true, TamperIssuedInFuture: true,
		TamperWrongIssuer: true, TamperWrongAudience: true, TamperGarbage: true, TamperNoKID: true,
	}
	base := LaunchSpec{User: &User{Sub: "u1"}, Roles: []string{RoleLearner}, Context: &Context{ID: "c1"}}
	ok, err := p.MintIDToken(base, "n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ft.verify(context.Background(), ok); err != nil {
		t.Fatalf("untampered token refused: %v", err)
	}
	for _, tm := range AllTampers() {
		t.Run(tm.String(), func(t *testing.T) {
			spec := base
			spec.Tamper = tm
			tok, err := p.MintIDToken(spec, "n")
			if err != nil {
				t.Fatal(err)
			}
			claims, verr := ft.verify(context.Background(), tok)
			if generic[tm] {
				if verr == nil {
					t.Fatalf("verifier accepted %s", tm)
				}
				return
			}
			if tm == TamperOversize {
				if len(tok) <= 1<<20 {
					t.Fatalf("oversize token is only %d bytes", len(tok))
				}
				return
			}
			if verr != nil {
				t.Fatalf("%s should only break LTI rules, verifier said %v", tm, verr)
			}
			_, hasAzp := claims["azp"]
			broken := map[Tamper]bool{
				TamperAudArrayNoAzp:       !hasAzp,
				TamperAudArrayWrongAzp:    claims["azp"] == "other-client-id",
				TamperNonceMissing:        claims["nonce"] == nil,
				TamperNonceReplaced:       claims["nonce"] != "n",
				TamperDeploymentUnknown:   claims[ClaimDeploymentID] != "dep-1",
				TamperDeploymentMissing:   claims[ClaimDeploymentID] == nil,
				TamperMessageTypeUnknown:  claims[ClaimMessageType] == "LtiUnknownRequest",
				TamperMessageTypeMissing:  claims[ClaimMessageType] == nil,
				TamperVersionWrong:        claims[ClaimVersion] == "1.2.0",
				TamperVersionMissing:      claims[ClaimVersion] == nil,
				TamperResourceLinkMissing: claims[ClaimResourceLink] == nil,
				TamperResourceLinkEmptyID: field(claims, ClaimResourceLink, "id") == nil,
				TamperRolesMissing:        claims[ClaimRoles] == nil,
				TamperTargetLinkMissing:   claims[ClaimTargetLinkURI] == nil,
				TamperEmptySub:            claims["sub"] == "",
				TamperContextNoID:         field(claims, ClaimContext, "id") == nil,
			}
			if !broken[tm] {
				t.Fatalf("%s did not break the token: %v", tm, claims)
			}
		})
	}
}

func TestTamperedLaunchStillReachesTool(t *testing.T) {
	p, _ := newPlatformAndTool(t)
	res, err := p.Launch(context.Background(), newJarClient(t), LaunchSpec{User: &User{Sub: "u1"}, Tamper: TamperForeignKey})
	if err != nil {
		t.Fatal(err)
	}
	if res.Response.StatusCode != http.StatusUnauthorized || !strings.Contains(string(res.Body), "bad id_token") {
		t.Fatalf("tool should refuse the forged token, got %d %s", res.Response.StatusCode, res.Body)
	}
}

func TestRotateKey(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	old, err := p.MintIDToken(LaunchSpec{User: &User{Sub: "u"}}, "n")
	if err != nil {
		t.Fatal(err)
	}
	kid := p.RotateKey(true)
	if kid == "" || kid == thumbprint(&testKeys()[0].PublicKey) {
		t.Fatalf("RotateKey kid %q", kid)
	}
	fresh, _ := p.MintIDToken(LaunchSpec{User: &User{Sub: "u"}}, "n")
	for _, tok := range []string{old, fresh} {
		if _, err := ft.verify(context.Background(), tok); err != nil {
			t.Fatalf("kept old key: %v", err)
		}
	}
	p.RotateKey(false)
	if _, err := ft.verify(context.Background(), old); err == nil {
		t.Fatal("old key still served after rotation without keepOld")
	}
	if p.JWKSFetches() != 3 {
		t.Fatalf("JWKSFetches = %d, want 3", p.JWKSFetches())
	}
}

func TestLaunchAndCoursePages(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	u, err := p.CoursePageURL(LaunchSpec{LoginMethod: http.MethodPost, StorageTarget: "_parent"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := do(t, http.MethodGet, u, "", "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `<iframe id="ltitool" name="ltitool" src="/launch?hint=`) {
		t.Fatalf("course page: %d %s", resp.StatusCode, body)
	}
	lu, _ := p.LaunchPageURL(LaunchSpec{LoginMethod: http.MethodPost, StorageTarget: "_parent"})
	_, body = do(t, http.MethodGet, lu, "", "", "", "")
	forms := ParseForms(nil, body)
	if len(forms) != 1 || forms[0].Action != ft.srv.URL+"/login" || forms[0].Values.Get("lti_storage_target") != "_parent" ||
		forms[0].Values.Get("iss") != p.Issuer() || forms[0].Values.Get("lti_deployment_id") != "dep-1" {
		t.Fatalf("launch page forms: %+v", forms)
	}
}

// field reads claims[claim][key], nil if absent.
func field(claims map[string]any, claim, key string) any {
	m, _ := claims[claim].(map[string]any)
	return m[key]
}
