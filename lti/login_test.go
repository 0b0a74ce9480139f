package lti

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestParseLoginInitiation(t *testing.T) {
	full := url.Values{
		"iss": {testIssuer}, "login_hint": {"2"}, "target_link_uri": {testTarget},
		"lti_message_hint": {"17"}, "lti_deployment_id": {"1"}, "client_id": {testClientID},
		"lti_storage_target": {"_parent"},
	}
	without := func(k string) url.Values {
		v := url.Values{}
		for kk, vv := range full {
			if kk != k {
				v[kk] = vv
			}
		}
		return v
	}
	tests := []struct {
		name    string
		method  string
		params  url.Values
		wantErr error
	}{
		{"GET", http.MethodGet, full, nil},
		{"POST", http.MethodPost, full, nil},
		{"no iss", http.MethodPost, without("iss"), ErrLoginIssuerMissing},
		{"no login_hint", http.MethodGet, without("login_hint"), ErrLoginHintMissing},
		{"no target_link_uri", http.MethodPost, without("target_link_uri"), ErrLoginTargetMissing},
		{"optional params absent", http.MethodGet, url.Values{"iss": {testIssuer}, "login_hint": {"2"}, "target_link_uri": {testTarget}}, nil},
		{"PUT", http.MethodPut, full, ErrLoginMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *http.Request
			if tt.method == http.MethodGet {
				r = httptest.NewRequest(tt.method, "/lti/login?"+tt.params.Encode(), nil)
			} else {
				r = httptest.NewRequest(tt.method, "/lti/login", strings.NewReader(tt.params.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			l, err := ParseLoginInitiation(r)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && (l.Issuer != testIssuer || l.LoginHint != "2" || l.TargetLinkURI != testTarget) {
				t.Errorf("parsed %+v", l)
			}
			if tt.name == "POST" && (l.LTIMessageHint != "17" || l.DeploymentID != "1" || l.ClientID != testClientID || l.StorageTarget != "_parent") {
				t.Errorf("optional params: %+v", l)
			}
		})
	}
}

func TestAuthRequestURL(t *testing.T) {
	a := AuthRequest{
		ClientID: testClientID, RedirectURI: testTarget, LoginHint: "2", LTIMessageHint: "17",
		State: NewState(), Nonce: NewNonce(),
	}
	s, err := a.URL("https://lms.example.edu/mod/lti/auth.php?x=1")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(s)
	q := u.Query()
	want := map[string]string{
		"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
		"client_id": testClientID, "redirect_uri": testTarget, "login_hint": "2", "lti_message_hint": "17",
		"state": a.State, "nonce": a.Nonce, "x": "1",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, q.Get(k), v)
		}
	}
	if u.Host != "lms.example.edu" || u.Path != "/mod/lti/auth.php" {
		t.Errorf("url = %s", s)
	}
	a.LTIMessageHint = ""
	s, _ = a.URL("https://lms.example.edu/auth")
	if strings.Contains(s, "lti_message_hint") {
		t.Errorf("empty lti_message_hint sent: %s", s)
	}
	if _, err := (AuthRequest{}).URL("https://lms.example.edu/auth"); err == nil {
		t.Error("empty AuthRequest accepted")
	}
	if _, err := a.URL("/relative"); err == nil {
		t.Error("relative endpoint accepted")
	}
}

func TestNewStateNonce(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		s := NewState()
		if len(s) < 22 || seen[s] || strings.ContainsAny(s, "+/=") {
			t.Fatalf("bad or repeated state %q", s)
		}
		seen[s] = true
	}
	if a, b := NewNonce(), NewNonce(); a == b {
		t.Error("repeated nonce")
	}
}

func TestParseAuthResponse(t *testing.T) {
	post := func(v url.Values) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/lti/launch", strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	tests := []struct {
		name    string
		form    url.Values
		wantErr error
	}{
		{"ok", url.Values{"id_token": {"a.b.c"}, "state": {"s"}}, nil},
		{"platform error", url.Values{"error": {"invalid_request"}, "error_description": {"bad redirect_uri"}, "state": {"s"}}, ErrPlatformError},
		{"no id_token", url.Values{"state": {"s"}}, ErrIDTokenMissing},
		{"no state", url.Values{"id_token": {"a.b.c"}}, ErrStateMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := ParseAuthResponse(post(tt.form))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.name == "platform error" {
				if !strings.Contains(err.Error(), "bad redirect_uri") || a.State != "s" {
					t.Errorf("platform error not reported: %v, %+v", err, a)
				}
			}
		})
	}
}

func TestStateErrorsForTool(t *testing.T) {
	err := NewError(CodeStateCookieMissing, "", nil)
	if !errors.Is(err, ErrStateCookieMissing) || !strings.Contains(err.Fix, "third-party") || err.Status() != 401 {
		t.Errorf("state cookie error: %+v", err)
	}
}
