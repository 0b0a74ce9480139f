package ltitest

import "testing"

// TestLTI1p1SignSpecExample checks the platform's own oauth_consumer_key_sign against the migration guide's
// worked example, so that the tool's check is tested against an independent implementation.
func TestLTI1p1SignSpecExample(t *testing.T) {
	c := map[string]any{ClaimDeploymentID: "689302", "iss": "https://lmsvendor.com", "exp": int64(1551290856), "nonce": "172we8671fd8z"}
	m := &LTI1p1{UserID: "34212", ConsumerKey: "179248902", Secret: "my-lti11-secret"}
	if got := m.claim("PM48OJSfGDTAzAo", c)["oauth_consumer_key_sign"]; got != "lWd54kFo5qU7xshAna6v8BwoBm6tmUjc6GTax6+12ps=" {
		t.Fatalf("oauth_consumer_key_sign = %v", got)
	}
	m.Sign = "forged"
	if got := m.claim("PM48OJSfGDTAzAo", c)["oauth_consumer_key_sign"]; got != "forged" {
		t.Fatalf("forged sign = %v", got)
	}
}
