package lti

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func noticeClaims() map[string]any {
	return map[string]any{
		"iss":             testIssuer,
		"aud":             testClientID,
		"azp":             testClientID,
		"exp":             testNow.Add(time.Hour).Unix(),
		"iat":             testNow.Unix(),
		"nonce":           "2d220edf-2f1c-4be4-b38e-ec80b1c6749d",
		ClaimVersion:      "1.3.0",
		ClaimDeploymentID: testDeploy,
		ClaimNotice:       map[string]any{"id": "7a70e604", "timestamp": "2025-03-19T11:24:25Z", "type": NoticeContextCopy},
		ClaimContext:      map[string]any{"id": "new-course", "title": "zzz", "type": []string{"http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"}},
		// Canvas: a list of context ids.
		ClaimOriginContexts: []string{"5098686ffc86cae4e0784b533a18af229ff5074e"},
	}
}

// TestValidateNotice: a notice gets the id_token's checks (signature, iss, aud, azp, exp, iat, single-use nonce,
// deployment) and the notice's own (version, notice claim, a context copy's context and origins).
func TestValidateNotice(t *testing.T) {
	v, _, want := newTestValidator(t, &memNonces{})
	want.Nonce = "" // a notice answers no login
	with := func(f func(map[string]any)) string {
		c := noticeClaims()
		f(c)
		return sign(t, c)
	}
	n, err := v.ValidateNotice(context.Background(), sign(t, noticeClaims()), want)
	if err != nil {
		t.Fatal(err)
	}
	if n.Notice.Type != NoticeContextCopy || n.Context.ID != "new-course" || len(n.Origins) != 1 || !strings.HasPrefix(n.Origins[0], "5098") {
		t.Fatalf("notice %+v", n)
	}
	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"replayed nonce", sign(t, noticeClaims()), ErrNonceReused},
		{"no nonce", with(func(c map[string]any) { delete(c, "nonce") }), ErrNonceMissing},
		{"foreign issuer", with(func(c map[string]any) { c["iss"] = "https://evil.example" }), ErrIssuerMismatch},
		{"other audience", with(func(c map[string]any) { c["aud"], c["azp"] = "x", "x" }), ErrAudienceMismatch},
		{"expired", with(func(c map[string]any) { c["nonce"], c["exp"] = "n-exp", testNow.Add(-time.Hour).Unix() }), ErrExpired},
		{"unknown deployment", with(func(c map[string]any) { c["nonce"], c[ClaimDeploymentID] = "n-dep", "other" }), ErrDeploymentUnknown},
		{"no notice type", with(func(c map[string]any) { c["nonce"], c[ClaimNotice] = "n-type", map[string]any{"id": "1"} }), ErrClaimMissing},
		{"copy without origins", with(func(c map[string]any) { c["nonce"] = "n-orig"; delete(c, ClaimOriginContexts) }), ErrClaimMissing},
		{"wrong version", with(func(c map[string]any) { c["nonce"], c[ClaimVersion] = "n-ver", "1.1" }), ErrVersionWrong},
		{"not a JWT", "abc", ErrTokenMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.ValidateNotice(context.Background(), tt.token, want)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestOriginContextsShapes(t *testing.T) {
	for _, doc := range []string{`["a","b"]`, `{"contexts":[{"id":"a"},{"id":"b"}]}`, `[{"id":"a"},{"id":"b"}]`} {
		var o OriginContexts
		if err := o.UnmarshalJSON([]byte(doc)); err != nil || len(o) != 2 || o[0] != "a" || o[1] != "b" {
			t.Fatalf("%s: %v %v", doc, o, err)
		}
	}
}

func TestParseNoticeBatch(t *testing.T) {
	jwts, err := ParseNoticeBatch(strings.NewReader(`{"notices":[{"jwt":"a.b.c"},{"jwt":"d.e.f"}]}`), 0)
	if err != nil || len(jwts) != 2 || jwts[1] != "d.e.f" {
		t.Fatalf("%v %v", jwts, err)
	}
	for _, bad := range []string{`notices=1`, `{"notices":[]}`, `{"notices":[{"jwt":""}]}`, `{"notices":[{"jwt":"a"}],"notices":[]}`} {
		if _, err := ParseNoticeBatch(strings.NewReader(bad), 0); !errors.Is(err, ErrNoticeMalformed) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestSubmissionReviewClaims: a review needs its link, learner and line item, and a reviewer's role.
func TestSubmissionReviewClaims(t *testing.T) {
	v, _, want := newTestValidator(t, nopNonces{})
	review := func(f func(map[string]any)) string {
		c := baseClaims()
		c[ClaimMessageType] = "LtiSubmissionReviewRequest"
		c[ClaimRoles] = []string{"http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"}
		c[ClaimForUser] = map[string]any{"user_id": "learner-7", "name": "Lea Rner"}
		if f != nil {
			f(c)
		}
		return sign(t, c)
	}
	m, err := v.Validate(context.Background(), review(nil), want)
	if err != nil || m.ForUser.UserID != "learner-7" || m.AGS.LineItem == "" {
		t.Fatalf("review: %+v %v", m, err)
	}
	for _, tt := range []struct {
		name    string
		f       func(map[string]any)
		wantErr error
	}{
		{"learner", func(c map[string]any) {
			c[ClaimRoles] = []string{"http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"}
		}, ErrRoleNotAllowed},
		{"no for_user", func(c map[string]any) { delete(c, ClaimForUser) }, ErrClaimMissing},
		{"no line item", func(c map[string]any) {
			c[ClaimAGSEndpoint] = map[string]any{"scope": []string{}, "lineitems": "https://x"}
		}, ErrClaimMissing},
		{"no link", func(c map[string]any) { delete(c, ClaimResourceLink) }, ErrClaimMissing},
	} {
		if _, err := v.Validate(context.Background(), review(tt.f), want); !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

// TestRegistrationAsksNoticeHandlersWhenOffered: the noticehandlers scope is asked for only from a platform whose
// openid configuration lists it; a review message is offered only to platforms that support it.
func TestRegistrationAsksNoticeHandlersWhenOffered(t *testing.T) {
	tr := ToolRegistration{Name: "ltipub", LaunchURL: "https://tool.example.com/lti/launch", Scopes: ToolScopes,
		OptionalScopes: []string{ScopeNoticeHandlers}}
	offered := PlatformConfiguration{ScopesSupported: append([]string{"openid", ScopeNoticeHandlers}, ToolScopes...)}
	offered.LTI.MessagesSupported = []SupportedMessage{{Type: "LtiResourceLinkRequest"}, {Type: "LtiSubmissionReviewRequest"}}
	silent := PlatformConfiguration{}
	for _, tc := range []struct {
		name   string
		c      PlatformConfiguration
		scope  bool
		review bool
	}{{"offered", offered, true, true}, {"lists no scopes", silent, false, false}} {
		reg, err := tc.c.ClientRegistration(tr)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(reg.Scope, ScopeNoticeHandlers); got != tc.scope {
			t.Errorf("%s: scope %q", tc.name, reg.Scope)
		}
		review := false
		for _, m := range reg.ToolConfiguration.Messages {
			review = review || m.Type == "LtiSubmissionReviewRequest"
		}
		if review != tc.review {
			t.Errorf("%s: messages %+v", tc.name, reg.ToolConfiguration.Messages)
		}
	}
}

// FuzzParseNoticeBatch: a notice batch from anyone on the network never panics, and either yields JWTs or a
// malformed-notice error.
func FuzzParseNoticeBatch(f *testing.F) {
	f.Add(`{"notices":[{"jwt":"eyJ0eXAiOiJKV1QifQ.e30.sig"}]}`)
	f.Add(`{"notices":[]}`)
	f.Add(`{"notices":[{"jwt":1}]}`)
	f.Fuzz(func(t *testing.T, body string) {
		jwts, err := ParseNoticeBatch(strings.NewReader(body), 1<<12)
		if (err == nil) == (len(jwts) == 0) {
			t.Fatalf("jwts %v with error %v", jwts, err)
		}
		if err != nil && !errors.Is(err, ErrNoticeMalformed) {
			t.Fatalf("error %v is not a malformed notice", err)
		}
	})
}

// FuzzValidateNotice: a signed notice with arbitrary claims never panics and is accepted or refused with an *Error.
func FuzzValidateNotice(f *testing.F) {
	v, _, want := newTestValidator(f, nopNonces{})
	want.Nonce = ""
	b, _ := json.Marshal(noticeClaims())
	f.Add(string(b))
	f.Add(`{"iss":1}`)
	f.Fuzz(func(t *testing.T, claims string) {
		var m map[string]any
		if json.Unmarshal([]byte(claims), &m) != nil {
			return
		}
		n, err := v.ValidateNotice(context.Background(), sign(t, m), want)
		var le *Error
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("error %v is not an *Error", err)
		}
		if err == nil && (n == nil || n.Notice.Type == "") {
			t.Fatalf("accepted notice without a type: %+v", n)
		}
	})
}

// BenchmarkValidateNotice measures one notice's verification with a warm key cache (the same RSA check as a launch).
func BenchmarkValidateNotice(b *testing.B) {
	v, _, want := newTestValidator(b, nopNonces{})
	want.Nonce = ""
	tok := sign(b, noticeClaims())
	ctx := context.Background()
	if _, err := v.ValidateNotice(ctx, tok, want); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.ValidateNotice(ctx, tok, want); err != nil {
			b.Fatal(err)
		}
	}
}
