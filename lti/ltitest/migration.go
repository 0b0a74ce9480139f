package ltitest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// LTI1p1 is the lti1p1 claim of a platform that moved a tool from LTI 1.1 to 1.3 (1EdTech LTI 1.3 Migration
// Guide): the user's 1.1 user_id, the 1.1 consumer key, and oauth_consumer_key_sign, which proves the platform
// holds that key's secret. The platform computes the signature itself, from the id_token it mints.
type LTI1p1 struct {
	UserID      string
	ConsumerKey string
	// Secret is the 1.1 shared secret of ConsumerKey, which signs oauth_consumer_key_sign.
	Secret string
	// ResourceLinkID is the link's 1.1 resource_link_id, sent when it differs from the 1.3 resource link ID.
	ResourceLinkID string
	// MoodleHex signs as Moodle does: base64 of the hexadecimal HMAC digest instead of the raw one.
	MoodleHex bool
	// Sign, when set, is sent as oauth_consumer_key_sign instead of the computed value (a forged claim).
	Sign string
	// OmitSign sends no oauth_consumer_key_sign (a platform that does not sign the claim).
	OmitSign bool
}

// claim is the claim for the id_token claims c (minted for clientID): the signature covers
// oauth_consumer_key & deployment_id & iss & client_id & exp & nonce.
func (m *LTI1p1) claim(clientID string, c map[string]any) map[string]any {
	out := map[string]any{"user_id": m.UserID, "oauth_consumer_key": m.ConsumerKey}
	if m.ResourceLinkID != "" {
		out["resource_link_id"] = m.ResourceLinkID
	}
	switch {
	case m.Sign != "":
		out["oauth_consumer_key_sign"] = m.Sign
	case !m.OmitSign:
		base := fmt.Sprintf("%s&%v&%v&%s&%v&%v", m.ConsumerKey, c[ClaimDeploymentID], c["iss"], clientID, c["exp"], c["nonce"])
		mac := hmac.New(sha256.New, []byte(m.Secret))
		mac.Write([]byte(base))
		sum := mac.Sum(nil)
		if m.MoodleHex {
			sum = []byte(hex.EncodeToString(sum))
		}
		out["oauth_consumer_key_sign"] = base64.StdEncoding.EncodeToString(sum)
	}
	return out
}
