package ltitest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestDynamicRegistration(t *testing.T) {
	p, ft := newPlatformAndTool(t)
	start, err := p.StartRegistration(ft.srv.URL + "/register?k=v")
	if err != nil {
		t.Fatal(err)
	}
	su, _ := url.Parse(start)
	q := su.Query()
	if q.Get("k") != "v" || q.Get("openid_configuration") != p.OpenIDConfigURL() || q.Get("registration_token") == "" {
		t.Fatalf("start URL %s", start)
	}
	regToken := q.Get("registration_token")

	resp, b := do(t, "GET", q.Get("openid_configuration"), "", "application/json", "", "")
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil || resp.StatusCode != 200 {
		t.Fatalf("openid config: %d %s", resp.StatusCode, b)
	}
	pc, _ := cfg[ltiPlatformConfig].(map[string]any)
	if cfg["issuer"] != p.Issuer() || cfg["registration_endpoint"] != p.RegisterURL() || pc["product_family_code"] != "ltitest" ||
		len(pc["messages_supported"].([]any)) != 2 {
		t.Fatalf("openid config: %v", cfg)
	}

	host := strings.TrimPrefix(ft.srv.URL, "http://")
	good := func() map[string]any {
		return map[string]any{
			"application_type": "web", "response_types": []string{"id_token"},
			"grant_types": []string{"implicit", "client_credentials"}, "initiate_login_uri": ft.srv.URL + "/login",
			"redirect_uris": []string{ft.srv.URL + "/launch"}, "client_name": "Fake tool", "jwks_uri": ft.srv.URL + "/jwks",
			"token_endpoint_auth_method": "private_key_jwt", "scope": ScopeScore + " " + ScopeNRPS + " https://example.test/unknown",
			ltiToolConfigKey: map[string]any{
				"domain": host, "target_link_uri": ft.srv.URL + "/launch", "claims": []string{"iss", "sub", "name"},
				"custom_parameters": map[string]any{"a": "b"},
				"messages":          []any{map[string]any{"type": MessageDeepLinkingRequest, "target_link_uri": ft.srv.URL + "/launch?dl=1"}},
			},
		}
	}
	post := func(token string, body any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		resp, b := do(t, "POST", p.RegisterURL(), token, "application/json", "application/json", string(raw))
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return resp.StatusCode, m
	}
	bad := []struct {
		name string
		edit func(m map[string]any)
	}{
		{"application_type", func(m map[string]any) { m["application_type"] = "native" }},
		{"response_types", func(m map[string]any) { m["response_types"] = []string{"code"} }},
		{"grant_types", func(m map[string]any) { m["grant_types"] = []string{"implicit"} }},
		{"login uri", func(m map[string]any) { m["initiate_login_uri"] = "/login" }},
		{"redirect_uris", func(m map[string]any) { m["redirect_uris"] = "x" }},
		{"jwks_uri", func(m map[string]any) { delete(m, "jwks_uri") }},
		{"auth method", func(m map[string]any) { m["token_endpoint_auth_method"] = "client_secret_basic" }},
		{"tool config", func(m map[string]any) { delete(m, ltiToolConfigKey) }},
		{"domain", func(m map[string]any) { m[ltiToolConfigKey].(map[string]any)["domain"] = "evil.example" }},
		{"custom array", func(m map[string]any) { m[ltiToolConfigKey].(map[string]any)["custom_parameters"] = []string{} }},
		{"messages", func(m map[string]any) { m[ltiToolConfigKey].(map[string]any)["messages"] = nil }},
	}
	if st, m := post("", good()); st != 401 || m["error"] != "missing_registration_token" {
		t.Fatalf("no token: %d %v", st, m)
	}
	if st, _ := post("guess", good()); st != 401 {
		t.Fatalf("unknown token: %d", st)
	}
	for _, tt := range bad {
		body := good()
		tt.edit(body)
		if st, m := post(regToken, body); st != 400 {
			t.Errorf("%s: %d %v", tt.name, st, m)
		}
	}
	p.InjectFault(Fault{Service: ServiceRegister, Kind: FaultStatus, Status: 500, Body: `{"error":"server_error"}`})
	if st, _ := post(regToken, good()); st != 500 {
		t.Fatalf("fault: %d", st)
	}
	st, m := post(regToken, good())
	if st != 200 {
		t.Fatalf("register: %d %v", st, m)
	}
	clientID, _ := m["client_id"].(string)
	tc, _ := m[ltiToolConfigKey].(map[string]any)
	if clientID == "" || tc["deployment_id"] == "" || m["scope"] != ScopeScore+" "+ScopeNRPS {
		t.Fatalf("registration response: %v", m)
	}
	if st, m := post(regToken, good()); st != 401 || m["error"] != "token_already_used" {
		t.Fatalf("token reuse: %d %v", st, m)
	}
	tool, ok := p.Tool(clientID)
	if !ok || tool.DeepLinkURL != ft.srv.URL+"/launch?dl=1" || tool.Custom["a"] != "b" || tool.DeploymentIDs[0] != tc["deployment_id"] {
		t.Fatalf("registered tool: %+v", tool)
	}
	// The new registration launches straight away.
	ft.clientID = clientID
	res, err := p.Launch(context.Background(), newJarClient(t), LaunchSpec{ClientID: clientID, User: &User{Sub: "u"}})
	if err != nil || res.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch after registration: %v %s", err, res.Body)
	}
	if got := ft.lastClaims()[ClaimCustom]; got.(map[string]any)["a"] != "b" {
		t.Fatalf("registration custom params not sent: %v", got)
	}
}

func TestRegisterHost(t *testing.T) {
	p := NewServer(t, Config{SigningKey: testKeys()[0]})
	resp, b := do(t, "GET", p.RegisterHostURL("https://tool.example/register"), "", "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `src="https://tool.example/register?openid_configuration=`) ||
		!strings.Contains(string(b), "org.imsglobal.lti.close") {
		t.Fatalf("register host: %d %s", resp.StatusCode, b)
	}
	resp, _ = do(t, "POST", p.BaseURL()+"/register-host/closed", "", "", "application/json",
		`{"origin":"https://tool.example","data":{"subject":"org.imsglobal.lti.close"}}`)
	if cm := p.CloseMessages(); resp.StatusCode != 204 || len(cm) != 1 || cm[0].Data["subject"] != "org.imsglobal.lti.close" {
		t.Fatalf("close record: %d %+v", resp.StatusCode, cm)
	}
}
