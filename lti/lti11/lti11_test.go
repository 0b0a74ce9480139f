package lti11_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
	"github.com/ltipub/ltipub/lti/lti11/lti11test"
)

type nonces map[string]bool

func (n nonces) UseNonce(_ context.Context, key, nonce string, _ time.Time) error {
	if n[key+"|"+nonce] {
		return lti.ErrNonceReused
	}
	n[key+"|"+nonce] = true
	return nil
}

const launchURL = "https://tool.example.com/lti/legacy/abc"

func signedLaunch(t *testing.T, c *lti11test.Consumer, mutate func(url.Values)) lti11.Params {
	t.Helper()
	form, err := c.Sign(launchURL, c.LaunchParams("rl-1", "u-1", "Learner"))
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(form)
	}
	return lti11.FromValues(form)
}

func TestVerifyBadInput(t *testing.T) {
	c := lti11test.New(t, "moodle", "s3cret")
	tests := []struct {
		name    string
		mutate  func(url.Values)
		url     string
		secret  string
		now     time.Time
		wantErr error
		want    string
	}{
		{name: "valid"},
		{name: "no consumer key", mutate: func(v url.Values) { v.Del("oauth_consumer_key") }, wantErr: lti11.ErrParamMissing,
			want: "A required parameter (oauth_consumer_key) was missing"},
		{name: "no signature", mutate: func(v url.Values) { v.Del("oauth_signature") }, wantErr: lti11.ErrParamMissing,
			want: "A required parameter (oauth_signature) was missing"},
		{name: "no nonce", mutate: func(v url.Values) { v.Del("oauth_nonce") }, wantErr: lti11.ErrParamMissing,
			want: "A required parameter (oauth_nonce) was missing"},
		{name: "no timestamp", mutate: func(v url.Values) { v.Del("oauth_timestamp") }, wantErr: lti11.ErrParamMissing,
			want: "A required parameter (oauth_timestamp) was missing"},
		{name: "no signature method", mutate: func(v url.Values) { v.Del("oauth_signature_method") }, wantErr: lti11.ErrParamMissing,
			want: "A required parameter (oauth_signature_method) was missing"},
		{name: "plaintext", mutate: func(v url.Values) { v.Set("oauth_signature_method", "PLAINTEXT") }, wantErr: lti11.ErrSignatureMethod},
		{name: "oauth 2", mutate: func(v url.Values) { v.Set("oauth_version", "2.0") }, wantErr: lti11.ErrParamInvalid},
		{name: "wrong secret", secret: "other", wantErr: lti11.ErrBadSignature, want: "Invalid signature"},
		{name: "tampered", mutate: func(v url.Values) { v.Set("roles", "Instructor") }, wantErr: lti11.ErrBadSignature},
		{name: "proxy URL mismatch", url: "http://10.0.0.5:8080/lti/legacy/abc", wantErr: lti11.ErrBadSignature,
			want: "Invalid signature"},
		{name: "clock skew", now: time.Now().Add(10 * time.Minute), wantErr: lti11.ErrTimestampExpired, want: "Expired timestamp, yours "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := signedLaunch(t, c, tt.mutate)
			u, secret := launchURL, "s3cret"
			if tt.url != "" {
				u = tt.url
			}
			if tt.secret != "" {
				secret = tt.secret
			}
			v := &lti11.Verifier{Nonces: nonces{}}
			if !tt.now.IsZero() {
				v.Now = func() time.Time { return tt.now }
			}
			err := v.Verify(t.Context(), http.MethodPost, u, ps, secret)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.want != "" && !strings.Contains(err.(*lti.Error).Description, tt.want) {
				t.Errorf("description %q lacks %q", err.(*lti.Error).Description, tt.want)
			}
			if tt.url != "" && !strings.Contains(err.(*lti.Error).Fix, "http://10.0.0.5:8080/lti/legacy/abc") {
				t.Errorf("the hint does not show the URL checked: %s", err.(*lti.Error).Fix)
			}
		})
	}
	t.Run("nonce reused", func(t *testing.T) {
		ps := signedLaunch(t, c, nil)
		v := &lti11.Verifier{Nonces: nonces{}}
		if err := v.Verify(t.Context(), http.MethodPost, launchURL, ps, "s3cret"); err != nil {
			t.Fatal(err)
		}
		err := v.Verify(t.Context(), http.MethodPost, launchURL, ps, "s3cret")
		if !errors.Is(err, lti11.ErrNonceReused) || !strings.Contains(err.Error(), "Nonce already used: "+ps.Get("oauth_nonce")) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("HMAC-SHA256", func(t *testing.T) {
		c.Method = lti11.HMACSHA256
		defer func() { c.Method = "" }()
		ps := signedLaunch(t, c, nil)
		if ps.Get("oauth_signature_method") != lti11.HMACSHA256 {
			t.Fatal("not signed with SHA-256")
		}
		if err := (&lti11.Verifier{Nonces: nonces{}}).Verify(t.Context(), http.MethodPost, launchURL, ps, "s3cret"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseLaunch(t *testing.T) {
	c := lti11test.New(t, "k", "s")
	base := func() url.Values {
		ps := c.WithMemberships(c.WithService(c.LaunchParams("rl-9", "u-9", "Instructor,urn:lti:instrole:ims/lis/Administrator"), "src-9"), "m-9")
		ps = append(ps, lti11.Pairs("custom_force_embed", "1", "custom_id", "x")...)
		return ps.Values()
	}
	l, err := lti11.ParseLaunch(base())
	if err != nil {
		t.Fatal(err)
	}
	if l.ResourceLink.ID != "rl-9" || l.UserID != "u-9" || !l.Roles.IsTeacherLike() || l.ResultSourcedID != "src-9" ||
		l.MembershipsID != "m-9" || l.Custom["force_embed"] != "1" || l.Ext["lms"] != "moodle-2" || l.InstanceGUID != "lms.example.com" {
		t.Fatalf("parsed %+v", l)
	}
	m := l.Message(lti11.PlatformID("k", l.InstanceGUID))
	if m.Subject != "u-9" || m.ResourceLink.ID != "rl-9" || m.BasicOutcome.LISResultSourcedID != "src-9" || m.Context.ID != "course-1" {
		t.Fatalf("message %+v", m)
	}
	if v, ok := m.Custom("force_embed"); !ok || v != "1" {
		t.Error("custom parameters lost")
	}
	learner, _ := lti11.ParseLaunch(url.Values{"lti_message_type": {"basic-lti-launch-request"}, "lti_version": {"LTI-1p0"},
		"resource_link_id": {"1"}, "roles": {"urn:lti:role:ims/lis/Learner"}})
	if learner.Roles.IsTeacherLike() {
		t.Error("a learner URN is teacher-like")
	}

	tests := []struct {
		name    string
		mutate  func(url.Values)
		wantErr error
		want    string
	}{
		{"no message type", func(v url.Values) { v.Del("lti_message_type") }, lti11.ErrParamMissing, "A required parameter (lti_message_type) was missing"},
		{"no version", func(v url.Values) { v.Del("lti_version") }, lti11.ErrParamMissing, "A required parameter (lti_version) was missing"},
		{"no resource link", func(v url.Values) { v.Del("resource_link_id") }, lti11.ErrParamMissing, "A required parameter (resource_link_id) was missing"},
		{"bad version", func(v url.Values) { v.Set("lti_version", "LTI-3") }, lti11.ErrVersion, "Invalid lti_version"},
		{"content item", func(v url.Values) { v.Set("lti_message_type", "ContentItemSelectionRequest") }, lti11.ErrContentItem, "Invalid request"},
		{"other message", func(v url.Values) { v.Set("lti_message_type", "ConfigureLaunchRequest") }, lti11.ErrMessageType, "Invalid lti_message_type"},
		{"LTI 2.0 registration", func(v url.Values) { v.Set("lti_message_type", "ToolProxyRegistrationRequest") }, lti11.ErrMessageType, "LTI 2.0 tool registration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := base()
			tt.mutate(v)
			_, err := lti11.ParseLaunch(v)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.(*lti.Error).Description, tt.want) {
				t.Fatalf("err = %v, want %v (%q)", err, tt.wantErr, tt.want)
			}
		})
	}
	for _, ver := range []string{"LTI-1p0", "LTI-1p2", "LTI-2p0"} {
		v := base()
		v.Set("lti_version", ver)
		if _, err := lti11.ParseLaunch(v); err != nil {
			t.Errorf("%s: %v", ver, err)
		}
	}
}

func TestPlatformID(t *testing.T) {
	if lti11.PlatformID("a:b", "") == lti11.PlatformID("a", "b") {
		t.Error("two platforms share an identity")
	}
	if lti11.PlatformID("k", "g") != "lti11:k:g" || lti11.PlatformID("k", "") != "lti11:k" {
		t.Error(lti11.PlatformID("k", "g"))
	}
}

func TestBasicOutcomes(t *testing.T) {
	c := lti11test.New(t, "moodle", "s3cret")
	client := &lti11.OutcomeClient{HTTP: http.DefaultClient, Signer: &lti11.Signer{ConsumerKey: "moodle", Secret: "s3cret"}}
	ctx := t.Context()
	if err := client.ReplaceResult(ctx, c.OutcomeServiceURL(), `{"data":{"instanceid":"2","userid":"5"},"hash":"ab"}`, 0.85); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Score(`{"data":{"instanceid":"2","userid":"5"},"hash":"ab"}`); s != "0.85" {
		t.Fatalf("stored score %q", s)
	}
	if err := client.ReplaceResult(ctx, c.OutcomeServiceURL(), "s2", 1); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Score("s2"); s != "1.0" {
		t.Fatalf("stored score %q", s)
	}
	if got, err := client.ReadResult(ctx, c.OutcomeServiceURL(), "s2"); err != nil || got != "1.0" {
		t.Fatalf("read %q %v", got, err)
	}
	ids := map[string]bool{}
	for _, o := range c.Outcomes() {
		if ids[o.MessageID] || o.MessageID == "" {
			t.Errorf("message identifier %q not unique", o.MessageID)
		}
		ids[o.MessageID] = true
		if o.ContentType != "application/xml" {
			t.Errorf("content type %q", o.ContentType)
		}
	}
	if err := client.ReplaceResult(ctx, c.OutcomeServiceURL(), "s2", 1.5); err == nil {
		t.Error("a score above 1 was sent")
	}

	c.SetOutcomeMode(lti11test.OutcomeFailure, "Tool does not accept grades")
	err := client.ReplaceResult(ctx, c.OutcomeServiceURL(), "s2", 0.5)
	if !errors.Is(err, lti.ErrServiceRefused) || !strings.Contains(err.Error(), "Tool does not accept grades") || lti.Retryable(err) {
		t.Errorf("failure: %v", err)
	}
	c.SetOutcomeMode(lti11test.OutcomeGarbage, "")
	if err := client.ReplaceResult(ctx, c.OutcomeServiceURL(), "s2", 0.5); !errors.Is(err, lti.ErrServiceResponse) || !lti.Retryable(err) {
		t.Errorf("garbage: %v", err)
	}
	c.SetOutcomeMode(lti11test.OutcomeServerError, "")
	if err := client.ReplaceResult(ctx, c.OutcomeServiceURL(), "s2", 0.5); !errors.Is(err, lti.ErrServiceRetry) {
		t.Errorf("503: %v", err)
	}
	c.SetOutcomeMode(lti11test.OutcomeSuccess, "")
	bad := &lti11.OutcomeClient{HTTP: http.DefaultClient, Signer: &lti11.Signer{ConsumerKey: "moodle", Secret: "wrong"}}
	if err := bad.ReplaceResult(ctx, c.OutcomeServiceURL(), "s2", 0.5); !errors.Is(err, lti.ErrServiceRefused) {
		t.Errorf("wrong secret: %v", err)
	}
	if r := c.Rejected(); len(r) == 0 || !strings.Contains(r[len(r)-1], "signature") {
		t.Errorf("the consumer did not check the signature: %v", r)
	}
	if s, _ := c.Score("s2"); s != "1.0" {
		t.Errorf("a refused request changed the score to %q", s)
	}
}

func TestMemberships(t *testing.T) {
	c := lti11test.New(t, "moodle", "s3cret")
	c.SetRoster("m-1", []lti11.Member{{UserID: "u1", Roles: "Learner", FullName: "Ann Learner", Email: "ann@example.com"},
		{UserID: "u2", Roles: "Instructor,urn:lti:sysrole:ims/lis/Administrator", GivenName: "Tom", FamilyName: "Teacher"}})
	client := &lti11.MembershipsClient{HTTP: http.DefaultClient, Signer: &lti11.Signer{ConsumerKey: "moodle", Secret: "s3cret"}}
	ms, err := client.ReadMemberships(t.Context(), c.MembershipsURL(), "m-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].UserID != "u1" || ms[0].Email != "ann@example.com" || !ms[1].RoleList().IsTeacherLike() || ms[0].RoleList().IsTeacherLike() {
		t.Fatalf("members %+v", ms)
	}
	if _, err := client.ReadMemberships(t.Context(), c.MembershipsURL(), "nope"); !errors.Is(err, lti.ErrServiceRefused) {
		t.Errorf("unknown id: %v", err)
	}
	bad := &lti11.MembershipsClient{HTTP: http.DefaultClient, Signer: &lti11.Signer{ConsumerKey: "moodle", Secret: "x"}}
	if _, err := bad.ReadMemberships(t.Context(), c.MembershipsURL(), "m-1"); !errors.Is(err, lti.ErrServiceRefused) {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestCartridge(t *testing.T) {
	b, err := lti11.Cartridge{Title: "Quiz <1>", Description: "A & B", LaunchURL: "http://t.example/lti/legacy/x",
		SecureLaunchURL: "https://t.example/lti/legacy/x", Icon: "https://t.example/static/icon.png",
		Extensions: map[string]map[string]string{"moodle": {"icon_url": "https://t.example/static/icon.png"}},
		Vendor:     lti11.Vendor{Code: "ltipub", Name: "ltipub", Description: "Courses as LTI tools", URL: "https://t.example"}}.XML()
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`<cartridge_basiclti_link xmlns="http://www.imsglobal.org/xsd/imslticc_v1p0"`,
		`xmlns:blti="http://www.imsglobal.org/xsd/imsbasiclti_v1p0"`, `<blti:title>Quiz &lt;1&gt;</blti:title>`,
		`<blti:description>A &amp; B</blti:description>`, `<blti:launch_url>http://t.example/lti/legacy/x</blti:launch_url>`,
		`<blti:secure_launch_url>https://t.example/lti/legacy/x</blti:secure_launch_url>`, `<blti:icon>https://t.example/static/icon.png</blti:icon>`,
		`<blti:extensions platform="moodle">`, `<lticm:property name="icon_url">`, `<lticp:code>ltipub</lticp:code>`} {
		if !strings.Contains(s, want) {
			t.Errorf("cartridge lacks %s:\n%s", want, s)
		}
	}
}
