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
	now := v.now()
	seg, err := v.verifySigned(ctx, rawIDToken, want.JWKSURL, "id_token")
	if err != nil {
		return nil, err
	}

	// 4. Claims, now that they are known to come from the platform.
	m, err := decodeClaims(seg)
	if err != nil {
		return nil, err
	}
	reg := registered{Issuer: m.Issuer, Audience: m.Audience, AuthorizedParty: m.AuthorizedParty, ExpiresAt: m.ExpiresAt,
		IssuedAt: m.IssuedAt, NotBefore: m.NotBefore, Nonce: m.Nonce, DeploymentID: m.DeploymentID}
	if err := v.checkRegistered(ctx, reg, want, now, "id_token", true); err != nil {
		return nil, err
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

func (v *Validator) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Validator) leeway() time.Duration {
	if v.Leeway <= 0 {
		return DefaultLeeway
	}
	return v.Leeway
}

// verifySigned runs the checks of a platform-signed JWT up to its signature (size, shape, algorithm, key ID, the
// signature against the platform's key set at jwksURL) and returns its payload segment, not yet decoded. what
// names the token in messages ("id_token", "notice").
func (v *Validator) verifySigned(ctx context.Context, raw, jwksURL, what string) (string, error) {
	maxLen := v.MaxTokenBytes
	if maxLen <= 0 {
		maxLen = DefaultMaxTokenBytes
	}

	// 1. Size and shape.
	if len(raw) > maxLen {
		return "", newErr(CodeTokenTooLarge, nil, "the %s is %d bytes, more than the %d allowed", what, len(raw), maxLen)
	}
	dot1 := strings.IndexByte(raw, '.')
	dot2 := strings.LastIndexByte(raw, '.')
	// An empty signature part still makes three parts: "alg: none" tokens must reach the alg check and get its message.
	if dot1 <= 0 || dot2 == dot1 || strings.IndexByte(raw[dot1+1:dot2], '.') >= 0 {
		return "", newErr(CodeTokenMalformed, nil, "the %s is not a compact JWT (three base64url parts separated by dots)", what)
	}
	var hdr jwsHeader
	if err := decodeSegment(raw[:dot1], &hdr); err != nil {
		return "", newErr(CodeTokenMalformed, err, "the %s header is not base64url-encoded JSON", what)
	}

	// 2. Algorithm and key ID.
	hash, ok := algHashes[hdr.Alg]
	if !ok {
		return "", newErr(CodeAlgNotAllowed, nil, "the %s is signed with alg %q; allowed: RS256, RS384, RS512, ES256, ES384", what, truncate(hdr.Alg))
	}
	if len(hdr.Crit) > 0 {
		return "", newErr(CodeTokenMalformed, nil, "the %s header has critical extensions %q that the tool does not understand", what, hdr.Crit)
	}
	if hdr.Kid == "" {
		if what == "id_token" {
			return "", NewError(CodeKIDMissing, "", nil)
		}
		return "", newErr(CodeKIDMissing, nil, "the %s header has no kid (key ID)", what)
	}

	// 3. Signature, against the platform's published keys.
	key, err := v.Keys.Key(ctx, jwksURL, hdr.Kid)
	if err != nil {
		var le *Error
		if errors.As(err, &le) {
			return "", err
		}
		return "", newErr(CodeJWKSFetch, err, "looking up key %q in the platform key set %s failed", truncate(hdr.Kid), jwksURL)
	}
	sig, err := base64.RawURLEncoding.DecodeString(raw[dot2+1:])
	if err != nil {
		return "", newErr(CodeTokenMalformed, err, "the %s signature is not base64url", what)
	}
	if err := verify(hdr.Alg, hash, key, raw[:dot2], sig, what); err != nil {
		return "", err
	}
	return raw[dot1+1 : dot2], nil
}

// registered are the claims every platform-signed JWT carries (an id_token, a notice).
type registered struct {
	Issuer          string
	Audience        StringList
	AuthorizedParty string
	ExpiresAt       NumericDate
	IssuedAt        NumericDate
	NotBefore       NumericDate
	Nonce           string
	DeploymentID    string
}

// checkRegistered checks issuer, audience, times, nonce and deployment, in the order of the security framework.
// With matchNonce the nonce must be want.Nonce (the one issued for a login); without, it need only be unused.
// Either way it is then burned in the nonce store.
func (v *Validator) checkRegistered(ctx context.Context, m registered, want Expect, now time.Time, what string, matchNonce bool) error {
	leeway := v.leeway()
	if m.Issuer != want.Issuer {
		return newErr(CodeIssuerMismatch, nil, "the %s issuer is %q but the registration expects %q", what, truncate(m.Issuer), want.Issuer)
	}
	if !m.Audience.Contains(want.ClientID) {
		return newErr(CodeAudienceMismatch, nil, "the %s audience %q does not contain client ID %q", what, truncateList(m.Audience), want.ClientID)
	}
	if len(m.Audience) > 1 && m.AuthorizedParty == "" {
		return newErr(CodeAZPMissing, nil, "the %s has %d audiences but no azp claim", what, len(m.Audience))
	}
	if m.AuthorizedParty != "" && m.AuthorizedParty != want.ClientID {
		return newErr(CodeAZPMismatch, nil, "the %s azp is %q, not client ID %q", what, truncate(m.AuthorizedParty), want.ClientID)
	}

	// 5. Time.
	if m.ExpiresAt == 0 {
		return newErr(CodeClaimMissing, nil, "the %s has no exp claim", what)
	}
	if exp := m.ExpiresAt.Time(); !now.Before(exp.Add(leeway)) {
		return newErr(CodeExpired, nil, "the %s expired at %s, %s ago (leeway %s)",
			what, exp.UTC().Format(time.RFC3339), now.Sub(exp).Round(time.Second), leeway)
	}
	if m.IssuedAt == 0 {
		return newErr(CodeClaimMissing, nil, "the %s has no iat claim", what)
	}
	if iat := m.IssuedAt.Time(); iat.After(now.Add(leeway)) {
		return newErr(CodeIssuedInFuture, nil, "the %s was issued at %s, %s in the future (leeway %s)",
			what, iat.UTC().Format(time.RFC3339), iat.Sub(now).Round(time.Second), leeway)
	}
	maxAge := v.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxTokenAge
	}
	if iat := m.IssuedAt.Time(); now.Sub(iat) > maxAge+leeway {
		return newErr(CodeIssuedTooLongAgo, nil, "the %s was issued at %s, %s ago, more than the %s allowed (leeway %s)",
			what, iat.UTC().Format(time.RFC3339), now.Sub(iat).Round(time.Second), maxAge, leeway)
	}
	if m.NotBefore != 0 {
		if nbf := m.NotBefore.Time(); nbf.After(now.Add(leeway)) {
			return newErr(CodeNotYetValid, nil, "the %s is not valid before %s, %s from now (leeway %s)",
				what, nbf.UTC().Format(time.RFC3339), nbf.Sub(now).Round(time.Second), leeway)
		}
	}

	// 6. Nonce: single use; for a launch, the one issued for this login.
	if m.Nonce == "" {
		if what == "id_token" {
			return NewError(CodeNonceMissing, "", nil)
		}
		return newErr(CodeNonceMissing, nil, "the %s has no nonce", what)
	}
	if matchNonce && (want.Nonce == "" || subtle.ConstantTimeCompare([]byte(m.Nonce), []byte(want.Nonce)) != 1) {
		return NewError(CodeNonceMismatch, "the id_token nonce is not the one issued for this login (a launch from another login, or a replay)", nil)
	}
	if err := v.Nonces.UseNonce(ctx, m.Issuer, m.Nonce, m.ExpiresAt.Time().Add(leeway)); err != nil {
		if errors.Is(err, ErrNonceReused) {
			if what == "id_token" {
				return NewError(CodeNonceReused, "", err)
			}
			return newErr(CodeNonceReused, err, "the %s was already received (its nonce is used): a replay", what)
		}
		return fmt.Errorf("lti: record nonce: %w", err)
	}

	// 7. Deployment.
	if m.DeploymentID == "" {
		if what == "id_token" {
			return NewError(CodeDeploymentMissing, "", nil)
		}
		return newErr(CodeDeploymentMissing, nil, "the %s has no deployment_id claim", what)
	}
	if !want.DeploymentKnown(m.DeploymentID) {
		return newErr(CodeDeploymentUnknown, nil, "deployment ID %q is not registered for platform %s", truncate(m.DeploymentID), want.Issuer)
	}
	return nil
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
	case MessageSubmissionReview:
		// Submission review (AGS 2.0 §6): the link, the learner it is about, and the line item under review.
		switch {
		case m.ResourceLink == nil || m.ResourceLink.ID == "":
			return missing(ClaimResourceLink + " id")
		case m.ForUser == nil || m.ForUser.UserID == "":
			return missing(ClaimForUser + " user_id")
		case m.AGS == nil || m.AGS.LineItem == "":
			return missing(ClaimAGSEndpoint + " lineitem")
		case !m.Roles.CanReviewSubmissions():
			return newErr(CodeRoleNotAllowed, nil, "a submission review opens another person's work, and the launching user's roles (%s) are not instructor or teaching assistant roles", truncateList(m.Roles))
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

func verify(alg string, hash crypto.Hash, key *PublicKey, signingInput string, sig []byte, what string) error {
	if key.Alg != "" && key.Alg != alg {
		return newErr(CodeKeyMismatch, nil, "key %q is published for %s but the %s uses %s", key.KID, key.Alg, what, alg)
	}
	h := hash.New()
	h.Write([]byte(signingInput))
	digest := h.Sum(nil)
	switch alg[0] {
	case 'R':
		pub, ok := key.Key.(*rsa.PublicKey)
		if !ok {
			return newErr(CodeKeyMismatch, nil, "key %q is not an RSA key but the %s uses %s", key.KID, what, alg)
		}
		if pub.N.BitLen() < 2048 {
			return newErr(CodeKeyMismatch, nil, "key %q is a %d-bit RSA key; at least 2048 bits are required", key.KID, pub.N.BitLen())
		}
		if err := rsa.VerifyPKCS1v15(pub, hash, digest, sig); err != nil {
			return newErr(CodeBadSignature, nil, "the %s signature does not verify with key %q", what, key.KID)
		}
	case 'E':
		pub, ok := key.Key.(*ecdsa.PublicKey)
		want := elliptic.P256()
		if alg == "ES384" {
			want = elliptic.P384()
		}
		if !ok || pub.Curve != want {
			return newErr(CodeKeyMismatch, nil, "key %q is not a %s key but the %s uses %s", key.KID, want.Params().Name, what, alg)
		}
		size := (want.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return newErr(CodeBadSignature, nil, "the %s %s signature has %d bytes, want %d", what, alg, len(sig), 2*size)
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		if !ecdsa.Verify(pub, digest, r, s) {
			return newErr(CodeBadSignature, nil, "the %s signature does not verify with key %q", what, key.KID)
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
