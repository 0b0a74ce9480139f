package ltitest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestNoticeHandlerService: the notice handler service is as strict as Canvas's: a token with the noticehandlers
// scope, JSON, a supported notice type, a handler on the tool's own domain; and the launches of a tool holding the
// scope carry the PNS claim.
func TestNoticeHandlerService(t *testing.T) {
	p := NewServer(t, Config{PNS: true})
	if err := p.RegisterTool(ToolConfig{ClientID: "c1", DeploymentIDs: []string{"d1"}, LoginURL: "https://tool.example/login",
		RedirectURIs: []string{"https://tool.example/launch"}}); err != nil {
		t.Fatal(err)
	}
	scoped := p.IssueAccessToken("c1", ScopeNoticeHandlers)
	unscoped := p.IssueAccessToken("c1", ScopeScore)
	put := func(token, contentType, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPut, p.NoticeServiceURL("d1"), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name, token, ct, body string
		want                  int
	}{
		{"no scope", unscoped, "application/json", `{"notice_type":"LtiHelloWorldNotice","handler":"https://tool.example/n"}`, 401},
		{"form body", scoped, "application/x-www-form-urlencoded", `notice_type=LtiHelloWorldNotice`, 415},
		{"unknown type", scoped, "application/json", `{"notice_type":"LtiMadeUpNotice","handler":"https://tool.example/n"}`, 400},
		{"other domain", scoped, "application/json", `{"notice_type":"LtiContextCopyNotice","handler":"https://evil.example/n"}`, 400},
		{"unknown field", scoped, "application/json", `{"notice_type":"LtiContextCopyNotice","handler":"https://tool.example/n","x":1}`, 400},
		{"registered", scoped, "application/json", `{"notice_type":"LtiContextCopyNotice","handler":"https://tool.example/n"}`, 200},
	} {
		if st, body := put(tc.token, tc.ct, tc.body); st != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, st, body, tc.want)
		}
	}
	if got := p.NoticeHandler("d1", NoticeContextCopy); got != "https://tool.example/n" {
		t.Fatalf("handler %q", got)
	}
	tok, err := p.MintIDToken(LaunchSpec{User: &User{Sub: "u"}, Roles: []string{RoleLearner}}, "n")
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	_ = json.Unmarshal(mustDecode(t, strings.Split(tok, ".")[1]), &claims)
	pns, _ := claims[ClaimPNS].(map[string]any)
	if pns["platform_notification_service_url"] != p.NoticeServiceURL("d1") {
		t.Fatalf("PNS claim %v", claims[ClaimPNS])
	}
}

func mustDecode(t *testing.T, seg string) []byte {
	t.Helper()
	b, err := b64.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
