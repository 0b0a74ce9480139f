package lti

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
)

// LTI 1.1 → 1.3 migration (1EdTech LTI 1.3 Migration Guide, "lti1p1 claim"). A platform moving a tool from 1.1
// to 1.3 sends, in the id_token, the identifiers the tool knew the user and link by in 1.1, and proves that it
// is the platform that held the 1.1 consumer key: oauth_consumer_key_sign is an HMAC-SHA256, keyed with the 1.1
// shared secret, over values of this very id_token. The tool checks it with the secret it keeps for the key.

// Migration returns the launch's lti1p1 claim when it asks the tool to carry a 1.1 identity over: it names a
// consumer key and a 1.1 user_id. nil when the launch has no such claim.
func Migration(m *Message) *LTI1p1 {
	if m == nil || m.LTI1p1 == nil || m.LTI1p1.OAuthConsumerKey == "" || m.LTI1p1.UserID == "" {
		return nil
	}
	return m.LTI1p1
}

// MigrationSignInput is what oauth_consumer_key_sign signs, in the guide's order.
type MigrationSignInput struct {
	ConsumerKey  string
	DeploymentID string
	Issuer       string
	ClientID     string
	ExpiresAt    int64
	Nonce        string
}

// MigrationSignInputOf is the signed input of a launch: the claim's consumer key and the id_token's
// deployment_id, iss, exp and nonce, with clientID the tool's client ID (the validated aud or azp).
func MigrationSignInputOf(m *Message, clientID string) MigrationSignInput {
	in := MigrationSignInput{DeploymentID: m.DeploymentID, Issuer: m.Issuer, ClientID: clientID,
		ExpiresAt: int64(m.ExpiresAt), Nonce: m.Nonce}
	if m.LTI1p1 != nil {
		in.ConsumerKey = m.LTI1p1.OAuthConsumerKey
	}
	return in
}

// base is the guide's base string: oauth_consumer_key & deployment_id & iss & client_id & exp & nonce, the
// values as they are (no encoding), exp in decimal seconds.
func (in MigrationSignInput) base() string {
	return in.ConsumerKey + "&" + in.DeploymentID + "&" + in.Issuer + "&" + in.ClientID + "&" +
		strconv.FormatInt(in.ExpiresAt, 10) + "&" + in.Nonce
}

// ConsumerKeySign computes oauth_consumer_key_sign as the migration guide specifies: base64 of the raw
// HMAC-SHA256 digest of the base string, keyed with the LTI 1.1 secret.
func ConsumerKeySign(secret string, in MigrationSignInput) string {
	return base64.StdEncoding.EncodeToString(migrationMAC(secret, in))
}

func migrationMAC(secret string, in MigrationSignInput) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(in.base()))
	return mac.Sum(nil)
}

// ConsumerKeySignValid reports whether sign is the oauth_consumer_key_sign of in under secret, compared in
// constant time. Besides the guide's form it accepts base64 of the hexadecimal digest: Moodle computes the value
// with PHP's hash_hmac without raw output (its platform sends it, its tool checks it), and a Moodle site moving
// to 1.3 is the case migration is for. Both forms need the secret; neither weakens the check.
func ConsumerKeySignValid(secret string, in MigrationSignInput, sign string) bool {
	if secret == "" || sign == "" {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(sign)
	if err != nil {
		return false
	}
	sum := migrationMAC(secret, in)
	if len(got) == len(sum) {
		return hmac.Equal(got, sum)
	}
	return hmac.Equal(got, []byte(hex.EncodeToString(sum)))
}
