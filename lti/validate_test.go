package lti

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

func b64json(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestValidate(t *testing.T) {
	loadKeys(t)
	with := func(mut func(c map[string]any)) map[string]any {
		c := baseClaims()
		mut(c)
		return c
	}
	dl := func(mut func(c map[string]any)) map[string]any {
		c := deepLinkClaims()
		mut(c)
		return c
	}
	dlSettings := func(mut func(s map[string]any)) map[string]any {
		return dl(func(c map[string]any) { mut(c[ClaimDeepLinkingSettings].(map[string]any)) })
	}
	rs := func(c map[string]any) func(t *testing.T) string {
		return func(t *testing.T) string { return sign(t, c) }
	}
	raw := func(s string) func(t *testing.T) string { return func(*testing.T) string { return s } }

	tests := []struct {
		name    string
		token   func(t *testing.T) string
		expect  func(e *Expect)
		wantErr error
	}{
		{name: "valid resource link", token: rs(baseClaims())},
		{name: "valid deep linking (Moodle string booleans)", token: rs(deepLinkClaims())},
		{name: "valid ES256", token: func(t *testing.T) string { return signWith(t, jwkEC, jwa.ES256(), baseClaims()) }},
		{name: "valid RS256 key with alg", token: func(t *testing.T) string { return signWith(t, jwkKey2, jwa.RS256(), baseClaims()) }},
		{name: "aud array with azp", token: rs(with(func(c map[string]any) {
			c["aud"] = []string{testClientID, "other"}
			c["azp"] = testClientID
		}))},
		{name: "aud single-element array", token: rs(with(func(c map[string]any) { c["aud"] = []string{testClientID} }))},
		{name: "empty roles accepted", token: rs(with(func(c map[string]any) { c[ClaimRoles] = []string{} }))},
		{name: "unknown and short roles accepted", token: rs(with(func(c map[string]any) { c[ClaimRoles] = []string{"Instructor", "urn:x:weird"} }))},
		{name: "no context accepted", token: rs(with(func(c map[string]any) { delete(c, ClaimContext) }))},
		{name: "no PII accepted", token: rs(with(func(c map[string]any) { delete(c, "name"); delete(c, "email") }))},
		{name: "expired within leeway", token: rs(with(func(c map[string]any) { c["exp"] = testNow.Add(-30 * time.Second).Unix() }))},
		{name: "fractional exp", token: rs(with(func(c map[string]any) { c["exp"] = float64(testNow.Unix()) + 60.5 }))},
		{name: "anonymous allowed", token: rs(with(func(c map[string]any) { delete(c, "sub") })),
			expect: func(e *Expect) { e.AllowAnonymous = true }},

		{name: "too large", token: raw(strings.Repeat("a", DefaultMaxTokenBytes+1)), wantErr: ErrTokenTooLarge},
		{name: "not a JWT", token: raw("hello"), wantErr: ErrTokenMalformed},
		{name: "two parts", token: raw("a.b"), wantErr: ErrTokenMalformed},
		{name: "four parts", token: raw("a.b.c.d"), wantErr: ErrTokenMalformed},
		{name: "empty signature", token: raw("a.b."), wantErr: ErrTokenMalformed},
		{name: "bad header base64", token: raw("!!!.e30.sig"), wantErr: ErrTokenMalformed},
		{name: "header not JSON", token: raw(base64.RawURLEncoding.EncodeToString([]byte("nope")) + ".e30.c2ln"), wantErr: ErrTokenMalformed},
		{name: "alg none", token: raw(b64json(map[string]any{"alg": "none", "kid": "k1"}) + "." + b64json(baseClaims()) + ".c2ln"), wantErr: ErrAlgNotAllowed},
		{name: "alg HS256", token: func(t *testing.T) string {
			k, _ := jwk.Import([]byte("secret-secret-secret-secret-1234"))
			_ = k.Set(jwk.KeyIDKey, "k1")
			return signWith(t, k, jwa.HS256(), baseClaims())
		}, wantErr: ErrAlgNotAllowed},
		{name: "alg PS256", token: raw(b64json(map[string]any{"alg": "PS256", "kid": "k1"}) + "." + b64json(baseClaims()) + ".c2ln"), wantErr: ErrAlgNotAllowed},
		{name: "crit header", token: raw(b64json(map[string]any{"alg": "RS256", "kid": "k1", "crit": []string{"x"}}) + "." + b64json(baseClaims()) + ".c2ln"), wantErr: ErrTokenMalformed},
		{name: "no kid", token: func(t *testing.T) string {
			payload, _ := json.Marshal(baseClaims())
			tok, err := jws.Sign(payload, jws.WithKey(jwa.RS256(), rsaKey1))
			if err != nil {
				t.Fatal(err)
			}
			return string(tok)
		}, wantErr: ErrKIDMissing},
		{name: "unknown kid", token: func(t *testing.T) string {
			k, _ := jwk.Import(rsaKey1)
			_ = k.Set(jwk.KeyIDKey, "nope")
			return signWith(t, k, jwa.RS256(), baseClaims())
		}, wantErr: ErrUnknownKID},
		{name: "signed with another key", token: func(t *testing.T) string { return signWith(t, jwkOther, jwa.RS256(), baseClaims()) }, wantErr: ErrBadSignature},
		{name: "tampered payload", token: func(t *testing.T) string {
			tok := sign(t, baseClaims())
			parts := strings.Split(tok, ".")
			c := baseClaims()
			c["sub"] = "1" // become the admin
			return parts[0] + "." + b64json(c) + "." + parts[2]
		}, wantErr: ErrBadSignature},
		{name: "bad signature checked before claims", token: func(t *testing.T) string {
			c := baseClaims()
			c["iss"] = "https://evil.example"
			return signWith(t, jwkOther, jwa.RS256(), c)
		}, wantErr: ErrBadSignature},
		{name: "key alg RS512 used with RS256", token: func(t *testing.T) string { return signWith(t, jwkRS512Alg, jwa.RS256(), baseClaims()) }, wantErr: ErrKeyMismatch},
		{name: "EC key used with RS256 header", token: func(t *testing.T) string {
			tok := signWith(t, jwkKey1, jwa.RS256(), baseClaims())
			parts := strings.Split(tok, ".")
			return b64json(map[string]any{"alg": "RS256", "kid": "ec1"}) + "." + parts[1] + "." + parts[2]
		}, wantErr: ErrKeyMismatch},
		{name: "signed garbage payload", token: func(t *testing.T) string { return sign(t, json.RawMessage(`[1,2,3]`)) }, wantErr: ErrTokenMalformed},
		{name: "claim with wrong type", token: rs(with(func(c map[string]any) { c[ClaimRoles] = 5 })), wantErr: ErrClaimInvalid},
		{name: "issuer mismatch", token: rs(with(func(c map[string]any) { c["iss"] = "https://lms.example.edu/" })), wantErr: ErrIssuerMismatch},
		{name: "audience mismatch", token: rs(with(func(c map[string]any) { c["aud"] = "someone-else" })), wantErr: ErrAudienceMismatch},
		{name: "audience missing", token: rs(with(func(c map[string]any) { delete(c, "aud") })), wantErr: ErrAudienceMismatch},
		{name: "several audiences no azp", token: rs(with(func(c map[string]any) { c["aud"] = []string{testClientID, "other"} })), wantErr: ErrAZPMissing},
		{name: "azp mismatch", token: rs(with(func(c map[string]any) {
			c["aud"] = []string{testClientID, "other"}
			c["azp"] = "other"
		})), wantErr: ErrAZPMismatch},
		{name: "azp mismatch single aud", token: rs(with(func(c map[string]any) { c["azp"] = "other" })), wantErr: ErrAZPMismatch},
		{name: "expired", token: rs(with(func(c map[string]any) { c["exp"] = testNow.Add(-61 * time.Second).Unix() })), wantErr: ErrExpired},
		{name: "exp missing", token: rs(with(func(c map[string]any) { delete(c, "exp") })), wantErr: ErrClaimMissing},
		{name: "iat in future", token: rs(with(func(c map[string]any) { c["iat"] = testNow.Add(2 * time.Minute).Unix() })), wantErr: ErrIssuedInFuture},
		{name: "iat too long ago", token: rs(with(func(c map[string]any) {
			c["iat"], c["exp"] = testNow.Add(-DefaultMaxTokenAge-2*time.Minute).Unix(), testNow.Add(time.Hour).Unix()
		})), wantErr: ErrIssuedTooLongAgo},
		{name: "iat old but within the age and leeway", token: rs(with(func(c map[string]any) {
			c["iat"], c["exp"] = testNow.Add(-DefaultMaxTokenAge-30*time.Second).Unix(), testNow.Add(time.Hour).Unix()
		}))},
		{name: "iat missing", token: rs(with(func(c map[string]any) { delete(c, "iat") })), wantErr: ErrClaimMissing},
		{name: "nbf in future", token: rs(with(func(c map[string]any) { c["nbf"] = testNow.Add(2 * time.Minute).Unix() })), wantErr: ErrNotYetValid},
		{name: "nonce missing", token: rs(with(func(c map[string]any) { delete(c, "nonce") })), wantErr: ErrNonceMissing},
		{name: "nonce mismatch", token: rs(with(func(c map[string]any) { c["nonce"] = "other" })), wantErr: ErrNonceMismatch},
		{name: "deployment missing", token: rs(with(func(c map[string]any) { delete(c, ClaimDeploymentID) })), wantErr: ErrDeploymentMissing},
		{name: "deployment unknown", token: rs(with(func(c map[string]any) { c[ClaimDeploymentID] = "deploy-2" })), wantErr: ErrDeploymentUnknown},
		{name: "version missing", token: rs(with(func(c map[string]any) { delete(c, ClaimVersion) })), wantErr: ErrVersionWrong},
		{name: "version wrong", token: rs(with(func(c map[string]any) { c[ClaimVersion] = "1.1" })), wantErr: ErrVersionWrong},
		{name: "message type missing", token: rs(with(func(c map[string]any) { delete(c, ClaimMessageType) })), wantErr: ErrMessageTypeUnknown},
		{name: "message type unknown", token: rs(with(func(c map[string]any) { c[ClaimMessageType] = "basic-lti-launch-request" })), wantErr: ErrMessageTypeUnknown},
		{name: "message type unsupported", token: rs(with(func(c map[string]any) { c[ClaimMessageType] = "LtiStartProctoring" })), wantErr: ErrMessageTypeUnsupported},
		{name: "sub missing", token: rs(with(func(c map[string]any) { delete(c, "sub") })), wantErr: ErrClaimMissing},
		{name: "sub empty", token: rs(with(func(c map[string]any) { c["sub"] = "" })), wantErr: ErrClaimInvalid},
		{name: "roles missing", token: rs(with(func(c map[string]any) { delete(c, ClaimRoles) })), wantErr: ErrClaimMissing},
		{name: "roles null", token: rs(with(func(c map[string]any) { c[ClaimRoles] = nil })), wantErr: ErrClaimMissing},
		{name: "target_link_uri missing", token: rs(with(func(c map[string]any) { delete(c, ClaimTargetLinkURI) })), wantErr: ErrClaimMissing},
		{name: "target_link_uri not ours", token: rs(with(func(c map[string]any) { c[ClaimTargetLinkURI] = "https://evil.example/" })), wantErr: ErrTargetLinkURI},
		{name: "target_link_uri check optional", token: rs(with(func(c map[string]any) { c[ClaimTargetLinkURI] = "https://evil.example/" })),
			expect: func(e *Expect) { e.TargetLinkURIAllowed = nil }},
		{name: "resource_link missing", token: rs(with(func(c map[string]any) { delete(c, ClaimResourceLink) })), wantErr: ErrClaimMissing},
		{name: "resource_link id empty", token: rs(with(func(c map[string]any) { c[ClaimResourceLink] = map[string]any{"title": "x"} })), wantErr: ErrClaimMissing},
		{name: "context without id", token: rs(with(func(c map[string]any) { c[ClaimContext] = map[string]any{"label": "x"} })), wantErr: ErrClaimMissing},
		{name: "deep linking settings missing", token: rs(dl(func(c map[string]any) { delete(c, ClaimDeepLinkingSettings) })), wantErr: ErrClaimMissing},
		{name: "deep link return url missing", token: rs(dlSettings(func(s map[string]any) { delete(s, "deep_link_return_url") })), wantErr: ErrClaimMissing},
		{name: "deep link accept_types empty", token: rs(dlSettings(func(s map[string]any) { s["accept_types"] = []string{} })), wantErr: ErrClaimMissing},
		{name: "deep link targets missing", token: rs(dlSettings(func(s map[string]any) { delete(s, "accept_presentation_document_targets") })), wantErr: ErrClaimMissing},
		{name: "deep link bad boolean", token: rs(dlSettings(func(s map[string]any) { s["accept_multiple"] = "maybe" })), wantErr: ErrClaimInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _, want := newTestValidator(t, &memNonces{})
			if tt.expect != nil {
				tt.expect(&want)
			}
			m, err := v.Validate(context.Background(), tt.token(t), want)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if m == nil {
					t.Fatal("nil message")
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Validate error = %v, want %v", err, tt.wantErr)
			}
			var le *Error
			if !errors.As(err, &le) || le.Description == "" || le.Fix == "" {
				t.Errorf("error lacks description or fix: %#v", le)
			}
			if m != nil {
				t.Error("message returned with error")
			}
		})
	}
}

func TestValidateNonceReplay(t *testing.T) {
	v, _, want := newTestValidator(t, &memNonces{})
	tok := sign(t, baseClaims())
	if _, err := v.Validate(context.Background(), tok, want); err != nil {
		t.Fatal(err)
	}
	_, err := v.Validate(context.Background(), tok, want)
	if !errors.Is(err, ErrNonceReused) {
		t.Fatalf("replay: err = %v, want ErrNonceReused", err)
	}
}

type failingNonces struct{}

func (failingNonces) UseNonce(context.Context, string, string, time.Time) error {
	return errors.New("database is down")
}

func TestValidateNonceStoreFailureIsNotProtocolError(t *testing.T) {
	v, _, want := newTestValidator(t, failingNonces{})
	_, err := v.Validate(context.Background(), sign(t, baseClaims()), want)
	var le *Error
	if err == nil || errors.As(err, &le) {
		t.Fatalf("err = %v, want a plain storage error", err)
	}
}

func TestValidateJWKSDown(t *testing.T) {
	v, srv, want := newTestValidator(t, &memNonces{})
	srv.mu.Lock()
	srv.status = 500
	srv.mu.Unlock()
	_, err := v.Validate(context.Background(), sign(t, baseClaims()), want)
	if !errors.Is(err, ErrJWKSFetch) {
		t.Fatalf("err = %v, want ErrJWKSFetch", err)
	}
	if le := (*Error)(nil); errors.As(err, &le) && le.Status() != 502 {
		t.Errorf("status = %d, want 502", le.Status())
	}
}

func TestValidateMessage(t *testing.T) {
	v, _, want := newTestValidator(t, &memNonces{})
	m, err := v.Validate(context.Background(), sign(t, baseClaims()), want)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name     string
		got, exp any
	}{
		{"sub", m.Subject, "2"},
		{"name", m.Name, "Ada Lovelace"},
		{"type", m.MessageType, MessageResourceLinkRequest},
		{"resource link", m.ResourceLink.ID, "42"},
		{"context type", m.Context.Type[0], "CourseSection"},
		{"family", m.ToolPlatform.Family(), "moodle"},
		{"custom string", m.CustomParams["course"], "algebra"},
		{"custom number", m.CustomParams["n"], "3"},
		{"custom bool", m.CustomParams["flag"], "true"},
		{"custom object", m.CustomParams["obj"], `{"a":1}`},
		{"width", string(m.LaunchPresentation.Width), "800"},
		{"height", string(m.LaunchPresentation.Height), "600"},
		{"ags scope", m.AGS.HasScope("https://purl.imsglobal.org/spec/lti-ags/scope/score"), true},
		{"ags lineitem", m.AGS.LineItem, "https://lms.example.edu/ags/lineitems/1"},
		{"nrps", m.NRPS.ContextMembershipsURL, "https://lms.example.edu/nrps"},
		{"learner", m.Roles.IsLearner(), true},
		{"teacher", m.Roles.IsTeacherLike(), false},
		{"anonymous", m.Anonymous(), false},
	}
	for _, c := range checks {
		if c.got != c.exp {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.exp)
		}
	}
	if v, ok := m.Custom("unset"); ok {
		t.Errorf("Custom(unset) = %q, want not provided", v)
	}
	if v, ok := m.Custom("course"); !ok || v != "algebra" {
		t.Errorf("Custom(course) = %q, %v", v, ok)
	}

	want.Nonce = testNonce
	v2, _, _ := newTestValidator(t, &memNonces{})
	dl, err := v2.Validate(context.Background(), sign(t, deepLinkClaims()), want)
	if err != nil {
		t.Fatal(err)
	}
	s := dl.DeepLinkingSettings
	if !s.AcceptsMultiple() || s.AcceptsLineItem() || s.AutoCreates() || !s.AcceptsType(ContentItemResourceLink) ||
		string(s.Data) != `"opaque-123"` {
		t.Errorf("deep linking settings decoded wrong: %+v", s)
	}
	if !dl.Roles.IsInstructor() || !dl.Roles.IsTeacherLike() {
		t.Error("instructor not recognised")
	}
}

func TestErrorText(t *testing.T) {
	v, _, want := newTestValidator(t, &memNonces{})
	c := baseClaims()
	c[ClaimDeploymentID] = "d-9"
	_, err := v.Validate(context.Background(), sign(t, c), want)
	var le *Error
	if !errors.As(err, &le) {
		t.Fatal(err)
	}
	if le.Description != `deployment ID "d-9" is not registered for platform https://lms.example.edu` ||
		!strings.Contains(le.Fix, "Deployments tab") || le.Status() != 403 {
		t.Errorf("unexpected error text: %+v status %d", le, le.Status())
	}
	if errors.Is(err, ErrExpired) {
		t.Error("deployment error matches ErrExpired")
	}
}

func TestParseJWKSSkipsUnusableKeys(t *testing.T) {
	loadKeys(t)
	good, _ := jwkKey1.PublicKey()
	goodJSON, _ := json.Marshal(good)
	smallJSON := `{"kty":"RSA","kid":"small","n":"` + b64(rsaSmall.N.Bytes()) + `","e":"AQAB"}`
	doc := `{"keys":[` + string(goodJSON) + `,` + smallJSON +
		`,{"kty":"oct","kid":"sym","k":"c2VjcmV0"}` +
		`,{"kty":"RSA","kid":"enc","use":"enc","n":"` + b64(rsaKey2.N.Bytes()) + `","e":"AQAB"}` +
		`,{"kty":"weird","kid":"w"}]}`
	keys, err := ParseJWKS([]byte(doc))
	if err != nil {
		t.Fatalf("ParseJWKS: %v", err)
	}
	if _, ok := keys["k1"]; !ok || len(keys) != 1 {
		t.Errorf("keys = %v, want only k1", keys)
	}
}
