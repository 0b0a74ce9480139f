package lti

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"
)

// specExample is the migration guide's worked example (recomputed: the guide's printed value is of an older
// draft, see LTI-DIGEST §10).
var specExample = MigrationSignInput{ConsumerKey: "179248902", DeploymentID: "689302", Issuer: "https://lmsvendor.com",
	ClientID: "PM48OJSfGDTAzAo", ExpiresAt: 1551290856, Nonce: "172we8671fd8z"}

func TestConsumerKeySignSpecExample(t *testing.T) {
	const want = "lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps="
	if got := ConsumerKeySign("my-lti11-secret", specExample); got != want {
		t.Fatalf("ConsumerKeySign = %s, want %s", got, want)
	}
}

func TestConsumerKeySignValid(t *testing.T) {
	mac := hmac.New(sha256.New, []byte("my-lti11-secret"))
	mac.Write([]byte("179248902&689302&https://lmsvendor.com&PM48OJSfGDTAzAo&1551290856&172we8671fd8z"))
	moodle := base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(mac.Sum(nil))))
	other := specExample
	other.Nonce = "another-nonce"
	tests := []struct {
		name, secret string
		in           MigrationSignInput
		sign         string
		want         bool
	}{
		{"guide form", "my-lti11-secret", specExample, "lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps=", true},
		{"Moodle form (base64 of the hex digest)", "my-lti11-secret", specExample, moodle, true},
		{"wrong secret", "not-the-secret", specExample, "lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps=", false},
		{"another id_token (replayed sign)", "my-lti11-secret", other, "lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps=", false},
		{"not base64", "my-lti11-secret", specExample, "%%%", false},
		{"empty sign", "my-lti11-secret", specExample, "", false},
		{"empty secret", "", specExample, ConsumerKeySign("", specExample), false},
		{"truncated", "my-lti11-secret", specExample, "lWd54kFo5qU7xshAna6v8Bwo", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ConsumerKeySignValid(tt.secret, tt.in, tt.sign); got != tt.want {
				t.Fatalf("ConsumerKeySignValid = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMigrationClaim(t *testing.T) {
	m := &Message{Issuer: "https://lmsvendor.com", DeploymentID: "689302", ExpiresAt: 1551290856, Nonce: "172we8671fd8z",
		LTI1p1: &LTI1p1{UserID: "34212", OAuthConsumerKey: "179248902", OAuthConsumerKeySign: "x"}}
	if Migration(m) == nil {
		t.Fatal("a claim with user_id and oauth_consumer_key asks for migration")
	}
	if in := MigrationSignInputOf(m, "PM48OJSfGDTAzAo"); in != specExample {
		t.Fatalf("signed input %+v, want %+v", in, specExample)
	}
	for _, c := range []*LTI1p1{nil, {UserID: "34212"}, {OAuthConsumerKey: "179248902"}} {
		if Migration(&Message{LTI1p1: c}) != nil {
			t.Errorf("claim %+v: no migration without both user_id and oauth_consumer_key", c)
		}
	}
}
