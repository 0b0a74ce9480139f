package lti

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"

	"errors"
	"fmt"
	jsonv2 "github.com/go-json-experiment/json"
	"math/big"
	"strings"
	"time"

	_ "crypto/sha256" // register SHA-256 for crypto.Hash
	_ "crypto/sha512" // register SHA-384/512
)

// DefaultLeeway is the clock skew allowed on exp, iat and nbf. Moodle sets
// exp = iat + 60 s, so anything much smaller breaks launches whenever the
// clocks drift.
const DefaultLeeway = 60 * time.Second

// DefaultMaxTokenAge bounds how long ago an id_token may have been issued (iat), whatever its exp says: a
// platform signs the token the moment the browser is sent to the tool, so an older one has been kept somewhere.
// The security framework allows the tool this bound (a MAY); it narrows the window for replaying a token that
// leaked with a long exp.
const DefaultMaxTokenAge = 10 * time.Minute

// DefaultMaxTokenBytes bounds an id_token. Real launches are 2–8 KiB;
// anything far larger is rejected before any decoding.
const DefaultMaxTokenBytes = 16 << 10

// NonceStore records used nonces. UseNonce marks nonce (issued for issuer)
// as used until the given time and returns an error wrapping ErrNonceReused
// when it was already used. Other errors are storage failures.
type NonceStore interface {
	UseNonce(ctx context.Context, issuer, nonce string, until time.Time) error
}

// Validator validates id_tokens from platforms. The zero value is not
// usable: Keys and Nonces are required.
type Validator struct {
	Keys   KeySet
	Nonces NonceStore
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Leeway is the allowed clock skew (default DefaultLeeway).
	Leeway time.Duration
	// MaxTokenBytes bounds the raw token (default DefaultMaxTokenBytes).
	MaxTokenBytes int
	// MaxAge bounds now - iat, beyond Leeway (default DefaultMaxTokenAge).
	MaxAge time.Duration
}

// Expect is what one launch must match, taken from the registration and
// the state record of the login that started it.
type Expect struct {
	Issuer   string // registered platform issuer, compared exactly
	ClientID string // our client ID at that platform
	JWKSURL  string // the platform's key set URL
	Nonce    string // the nonce sent in the authentication request
	// DeploymentKnown reports whether a deployment ID is registered for
	// (Issuer, ClientID). Required.
	DeploymentKnown func(id string) bool
	// TargetLinkURIAllowed reports whether the signed target_link_uri is one
	// of the tool's URLs. Optional: nil skips the check.
	TargetLinkURIAllowed func(uri string) bool
	// AllowAnonymous accepts launches without a sub claim (Message.Anonymous).
	AllowAnonymous bool
}

// Allowed signing algorithms: RS256 is mandatory in LTI; the others are
// approved by the 1EdTech Security Framework. none and HS* are never
// accepted (HS* would let anyone who knows the public key forge tokens).
var algHashes = map[string]crypto.Hash{
	"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512,
	"ES256": crypto.SHA256, "ES384": crypto.SHA384,
}

type jwsHeader struct {
	Alg  string   `json:"alg"`
	Kid  string   `json:"kid"`
	Crit []string `json:"crit"`
}

// Validate verifies rawIDToken and returns its claims. The checks run in
// the order of the LTI security framework, and the signature is verified
// before any claim is looked at. Every failure is an *Error matching one of
// the Err* sentinels, except storage failures of the NonceStore.
func (v *Validator) Validate(ctx context.Context, rawIDToken string, want Expect) (*Message, error) {
	if v.Keys == nil || v.Nonces == nil {
		return nil, errors.New("lti: Validator needs Keys and Nonces")
	}
	if want.Issuer == "" || want.ClientID == "" || want.JWKSURL == "" || want.DeploymentKnown == nil {
		return nil, errors.New("lti: Expect needs Issuer, ClientID, JWKSURL and DeploymentKnown")
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	leeway := v.Leeway
	if leeway <= 0 {
		leeway = DefaultLeeway
	}
	maxLen := v.MaxTokenBytes
	if maxLen <= 0 {
		maxLen = DefaultMaxTokenBytes
	}

	// 1. Size and shape.
	if len(rawIDToken) > maxLen {
		return nil, newErr(CodeTokenTooLarge, nil, "the id_token is %d bytes, more than the %d allowed", len(rawIDToken), maxLen)
	}
	dot1 := strings.IndexByte(rawIDToken, '.')
	dot2 := strings.LastIndexByte(rawIDToken, '.')
	// An empty signature part still makes three parts: "alg: none" tokens must reach the alg check and get its message.
	if dot1 <= 0 || dot2 == dot1 || strings.IndexByte(rawIDToken[dot1+1:dot2], '.') >= 0 {
		return nil, NewError(CodeTokenMalformed, "the id_token is not a compact JWT (three base64url parts separated by dots)", nil)
	}
	var hdr jwsHeader
	if err := decodeSegment(rawIDToken[:dot1], &hdr); err != nil {
		return nil, NewError(CodeTokenMalformed, "the id_token header is not base64url-encoded JSON", err)
	}

	// 2. Algorithm and key ID.
	hash, ok := algHashes[hdr.Alg]
	if !ok {
		return nil, newErr(CodeAlgNotAllowed, nil, "the id_token is signed with alg %q; allowed: RS256, RS384, RS512, ES256, ES384", truncate(hdr.Alg))
	}
	if len(hdr.Crit) > 0 {
		return nil, newErr(CodeTokenMalformed, nil, "the id_token header has critical extensions %q that the tool does not understand", hdr.Crit)
	}
	if hdr.Kid == "" {
		return nil, NewError(CodeKIDMissing, "", nil)
	}

	// 3. Signature, against the platform's published keys.
	key, err := v.Keys.Key(ctx, want.JWKSURL, hdr.Kid)
	if err != nil {
		var le *Error
		if errors.As(err, &le) {
			return nil, err
		}
		return nil, newErr(CodeJWKSFetch, err, "looking up key %q in the platform key set %s failed", truncate(hdr.Kid), want.JWKSURL)
	}
	sig, err := base64.RawURLEncoding.DecodeString(rawIDToken[dot2+1:])
	if err != nil {
		return nil, NewError(CodeTokenMalformed, "the id_token signature is not base64url", err)
	}
	if err := verify(hdr.Alg, hash, key, rawIDToken[:dot2], sig); err != nil {
		return nil, err
	}

	// 4. Claims, now that they are known to come from the platform.
	m, err := decodeClaims(rawIDToken[dot1+1 : dot2])
	if err != nil {
		return nil, err
	}
	if m.Issuer != want.Issuer {
		return nil, newErr(CodeIssuerMismatch, nil, "the id_token issuer is %q but the registration expects %q", truncate(m.Issuer), want.Issuer)
	}
	if !m.Audience.Contains(want.ClientID) {
		return nil, newErr(CodeAudienceMismatch, nil, "the id_token audience %q does not contain client ID %q", truncateList(m.Audience), want.ClientID)
	}
	if len(m.Audience) > 1 && m.AuthorizedParty == "" {
		return nil, newErr(CodeAZPMissing, nil, "the id_token has %d audiences but no azp claim", len(m.Audience))
	}
	if m.AuthorizedParty != "" && m.AuthorizedParty != want.ClientID {
		return nil, newErr(CodeAZPMismatch, nil, "the id_token azp is %q, not client ID %q", truncate(m.AuthorizedParty), want.ClientID)
	}

	// 5. Time.
	if m.ExpiresAt == 0 {
		return nil, missing("exp")
	}
	if exp := m.ExpiresAt.Time(); !now.Before(exp.Add(leeway)) {
		return nil, newErr(CodeExpired, nil, "the id_token expired at %s, %s ago (leeway %s)",
			exp.UTC().Format(time.RFC3339), now.Sub(exp).Round(time.Second), leeway)
	}
	if m.IssuedAt == 0 {
		return nil, missing("iat")
	}
	if iat := m.IssuedAt.Time(); iat.After(now.Add(leeway)) {
		return nil, newErr(CodeIssuedInFuture, nil, "the id_token was issued at %s, %s in the future (leeway %s)",
			iat.UTC().Format(time.RFC3339), iat.Sub(now).Round(time.Second), leeway)
	}
	maxAge := v.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxTokenAge
	}
	if iat := m.IssuedAt.Time(); now.Sub(iat) > maxAge+leeway {
		return nil, newErr(CodeIssuedTooLongAgo, nil, "the id_token was issued at %s, %s ago, more than the %s allowed (leeway %s)",
			iat.UTC().Format(time.RFC3339), now.Sub(iat).Round(time.Second), maxAge, leeway)
	}
	if m.NotBefore != 0 {
		if nbf := m.NotBefore.Time(); nbf.After(now.Add(leeway)) {
			return nil, newErr(CodeNotYetValid, nil, "the id_token is not valid before %s, %s from now (leeway %s)",
				nbf.UTC().Format(time.RFC3339), nbf.Sub(now).Round(time.Second), leeway)
		}
	}

	// 6. Nonce: the one issued for this login, then burned.
	if m.Nonce == "" {
		return nil, NewError(CodeNonceMissing, "", nil)
	}
	if want.Nonce == "" || subtle.ConstantTimeCompare([]byte(m.Nonce), []byte(want.Nonce)) != 1 {
		return nil, NewError(CodeNonceMismatch, "the id_token nonce is not the one issued for this login (a launch from another login, or a replay)", nil)
	}
	if err := v.Nonces.UseNonce(ctx, m.Issuer, m.Nonce, m.ExpiresAt.Time().Add(leeway)); err != nil {
		if errors.Is(err, ErrNonceReused) {
			return nil, NewError(CodeNonceReused, "", err)
		}
		return nil, fmt.Errorf("lti: record nonce: %w", err)
	}

	// 7. Deployment.
	if m.DeploymentID == "" {
		return nil, NewError(CodeDeploymentMissing, "", nil)
	}
	if !want.DeploymentKnown(m.DeploymentID) {
		return nil, newErr(CodeDeploymentUnknown, nil, "deployment ID %q is not registered for platform %s", truncate(m.DeploymentID), want.Issuer)
	}

	// 8. LTI version, message type and the claims each type requires.
	if m.Version != Version {
		if m.Version == "" {
			return nil, NewError(CodeVersionWrong, "the id_token has no LTI version claim", nil)
		}
		return nil, newErr(CodeVersionWrong, nil, "the id_token is LTI version %q; only %s is supported", truncate(m.Version), Version)
	}
	switch {
	case m.MessageType == "":
		return nil, NewError(CodeMessageTypeUnknown, "the id_token has no message_type claim", nil)
	case !m.MessageType.known():
		return nil, newErr(CodeMessageTypeUnknown, nil, "message type %q is not an LTI message type", truncate(string(m.MessageType)))
	case !m.MessageType.Supported():
		return nil, newErr(CodeMessageTypeUnsupport, nil, "message type %s is not supported by this tool", m.MessageType)
	}
	if err := checkRequired(m, want); err != nil {
		return nil, err
	}
	return m, nil
}

func checkRequired(m *Message, want Expect) error {
	if m.anonymous {
		if !want.AllowAnonymous {
			return NewError(CodeClaimMissing, "the id_token has no sub claim (an anonymous launch), which this tool does not accept", nil)
		}
	} else if m.Subject == "" {
		return NewError(CodeClaimInvalid, "the id_token sub claim (user ID) is empty", nil)
	}
	if m.Roles == nil {
		return missing(ClaimRoles)
	}
	if m.TargetLinkURI == "" {
		return missing(ClaimTargetLinkURI)
	}
	if want.TargetLinkURIAllowed != nil && !want.TargetLinkURIAllowed(m.TargetLinkURI) {
		return newErr(CodeTargetLinkURI, nil, "target_link_uri %q is not a URL of this tool", truncate(m.TargetLinkURI))
	}
	if m.Context != nil && m.Context.ID == "" {
		return missing(ClaimContext + " id")
	}
	switch m.MessageType {
	case MessageResourceLinkRequest:
		if m.ResourceLink == nil || m.ResourceLink.ID == "" {
			return missing(ClaimResourceLink + " id")
		}
	case MessageDeepLinkingRequest:
		s := m.DeepLinkingSettings
		switch {
		case s == nil:
			return missing(ClaimDeepLinkingSettings)
		case s.DeepLinkReturnURL == "":
			return missing("deep_link_return_url")
		case len(s.AcceptTypes) == 0:
			return missing("deep_linking_settings accept_types")
		case len(s.AcceptPresentationDocumentTargets) == 0:
			return missing("deep_linking_settings accept_presentation_document_targets")
		}
	}
	return nil
}

func missing(claim string) *Error {
	return newErr(CodeClaimMissing, nil, "the id_token has no %s claim", claim)
}

func decodeSegment(seg string, v any) error {
	// Decode into a stack buffer for the common small header.
	var small [256]byte
	var buf []byte
	if n := base64.RawURLEncoding.DecodedLen(len(seg)); n <= len(small) {
		buf = small[:n]
	} else {
		buf = make([]byte, n)
	}
	n, err := base64.RawURLEncoding.Decode(buf, []byte(seg))
	if err != nil {
		return err
	}
	return json.Unmarshal(buf[:n], v)
}

// messageJSON decodes a Message and tells an absent sub from an empty one:
// the outer Sub shadows Message's sub field.
type messageAlias Message

type messageJSON struct {
	*messageAlias
	Sub *string `json:"sub"`
}

// decodeClaims uses github.com/go-json-experiment/json (encoding/json/v2):
// it decodes a launch about 1.5x faster than encoding/json, matches claim
// names case-sensitively and rejects duplicate claim names and invalid
// UTF-8, all of which we want for signed input.
func decodeClaims(seg string) (*Message, error) {
	payload, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, NewError(CodeTokenMalformed, "the id_token payload is not base64url", err)
	}
	m := new(Message)
	w := messageJSON{messageAlias: (*messageAlias)(m)}
	if err := jsonv2.Unmarshal(payload, &w); err != nil {
		// Semantic errors (a claim of the wrong type) name the claim by JSON
		// pointer; anything else means the payload is not a claims object.
		var se *jsonv2.SemanticError
		if errors.As(err, &se) && se.JSONPointer != "" {
			return nil, newErr(CodeClaimInvalid, err, "the id_token claim %s has an invalid value", truncate(string(se.JSONPointer)))
		}
		return nil, NewError(CodeTokenMalformed, "the id_token payload is not a JSON object of claims", err)
	}
	if w.Sub == nil {
		m.anonymous = true
	} else {
		m.Subject = *w.Sub
	}
	return m, nil
}

func verify(alg string, hash crypto.Hash, key *PublicKey, signingInput string, sig []byte) error {
	if key.Alg != "" && key.Alg != alg {
		return newErr(CodeKeyMismatch, nil, "key %q is published for %s but the id_token uses %s", key.KID, key.Alg, alg)
	}
	h := hash.New()
	h.Write([]byte(signingInput))
	digest := h.Sum(nil)
	switch alg[0] {
	case 'R':
		pub, ok := key.Key.(*rsa.PublicKey)
		if !ok {
			return newErr(CodeKeyMismatch, nil, "key %q is not an RSA key but the id_token uses %s", key.KID, alg)
		}
		if pub.N.BitLen() < 2048 {
			return newErr(CodeKeyMismatch, nil, "key %q is a %d-bit RSA key; at least 2048 bits are required", key.KID, pub.N.BitLen())
		}
		if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
			return newErr(CodeBadSignature, nil, "the id_token signature does not verify with key %q", key.KID)
		}
	case 'E':
		pub, ok := key.Key.(*ecdsa.PublicKey)
		want := elliptic.P256()
		if alg == "ES384" {
			want = elliptic.P384()
		}
		if !ok || pub.Curve != want {
			return newErr(CodeKeyMismatch, nil, "key %q is not a %s key but the id_token uses %s", key.KID, want.Params().Name, alg)
		}
		size := (want.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return newErr(CodeBadSignature, nil, "the id_token %s signature has %d bytes, want %d", alg, len(sig), 2*size)
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(pub, digest, r, s) {
			return newErr(CodeBadSignature, nil, "the id_token signature does not verify with key %q", key.KID)
		}
	default:
		return newErr(CodeAlgNotAllowed, nil, "alg %q", alg)
	}
	return nil
}

// truncate keeps attacker-controlled values short in error texts.
func truncate(s string) string {
	const max = 100
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

func truncateList(l []string) string {
	return truncate(strings.Join(l, ", "))
}
