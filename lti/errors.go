package lti

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
)

// Code identifies one protocol check that failed. Codes are stable strings,
// safe to log and to show in an error page.
type Code string

// Codes, one per check. The state codes are reported by the tool's own state
// store check (see NewError), so that every launch failure looks the same.
const (
	// Login initiation and authentication response.
	CodeLoginIssuerMissing   Code = "login_iss_missing"
	CodeLoginHintMissing     Code = "login_hint_missing"
	CodeLoginTargetMissing   Code = "login_target_link_uri_missing"
	CodeLoginMethod          Code = "login_method_not_allowed"
	CodePlatformError        Code = "platform_error"
	CodeIDTokenMissing       Code = "id_token_missing"
	CodeStateMissing         Code = "state_missing"
	CodeStateUnknown         Code = "state_unknown"
	CodeStateExpired         Code = "state_expired"
	CodeStateCookieMissing   Code = "state_cookie_missing"
	CodeStateCookieMismatch  Code = "state_cookie_mismatch"
	CodeStateUsed            Code = "state_used"
	CodeTokenTooLarge        Code = "token_too_large"
	CodeTokenMalformed       Code = "token_malformed"
	CodeAlgNotAllowed        Code = "alg_not_allowed"
	CodeKIDMissing           Code = "kid_missing"
	CodeUnknownKID           Code = "kid_unknown"
	CodeKeyMismatch          Code = "key_mismatch"
	CodeBadSignature         Code = "bad_signature"
	CodeJWKSFetch            Code = "jwks_fetch_failed"
	CodeIssuerMismatch       Code = "iss_mismatch"
	CodeAudienceMismatch     Code = "aud_mismatch"
	CodeAZPMissing           Code = "azp_missing"
	CodeAZPMismatch          Code = "azp_mismatch"
	CodeExpired              Code = "token_expired"
	CodeIssuedInFuture       Code = "iat_in_future"
	CodeIssuedTooLongAgo     Code = "iat_too_old"
	CodeNotYetValid          Code = "nbf_in_future"
	CodeNonceMissing         Code = "nonce_missing"
	CodeNonceMismatch        Code = "nonce_mismatch"
	CodeNonceReused          Code = "nonce_reused"
	CodeDeploymentMissing    Code = "deployment_id_missing"
	CodeDeploymentUnknown    Code = "deployment_id_unknown"
	CodeMessageTypeUnknown   Code = "message_type_unknown"
	CodeMessageTypeUnsupport Code = "message_type_unsupported"
	CodeVersionWrong         Code = "version_wrong"
	CodeClaimMissing         Code = "claim_missing"
	CodeClaimInvalid         Code = "claim_invalid"
	CodeTargetLinkURI        Code = "target_link_uri_not_ours"
	CodeRoleNotAllowed       Code = "role_not_allowed"
	// Notices (Platform Notification Service).
	CodeNoticeMalformed Code = "notice_malformed"
)

// Sentinels for errors.Is: errors.Is(err, lti.ErrExpired) is true for every
// *Error with CodeExpired, whatever its Description.
var (
	ErrLoginIssuerMissing     = &Error{Code: CodeLoginIssuerMissing}
	ErrLoginHintMissing       = &Error{Code: CodeLoginHintMissing}
	ErrLoginTargetMissing     = &Error{Code: CodeLoginTargetMissing}
	ErrLoginMethod            = &Error{Code: CodeLoginMethod}
	ErrPlatformError          = &Error{Code: CodePlatformError}
	ErrIDTokenMissing         = &Error{Code: CodeIDTokenMissing}
	ErrStateMissing           = &Error{Code: CodeStateMissing}
	ErrStateUnknown           = &Error{Code: CodeStateUnknown}
	ErrStateExpired           = &Error{Code: CodeStateExpired}
	ErrStateCookieMissing     = &Error{Code: CodeStateCookieMissing}
	ErrStateCookieMismatch    = &Error{Code: CodeStateCookieMismatch}
	ErrStateUsed              = &Error{Code: CodeStateUsed}
	ErrTokenTooLarge          = &Error{Code: CodeTokenTooLarge}
	ErrTokenMalformed         = &Error{Code: CodeTokenMalformed}
	ErrAlgNotAllowed          = &Error{Code: CodeAlgNotAllowed}
	ErrKIDMissing             = &Error{Code: CodeKIDMissing}
	ErrUnknownKID             = &Error{Code: CodeUnknownKID}
	ErrKeyMismatch            = &Error{Code: CodeKeyMismatch}
	ErrBadSignature           = &Error{Code: CodeBadSignature}
	ErrJWKSFetch              = &Error{Code: CodeJWKSFetch}
	ErrIssuerMismatch         = &Error{Code: CodeIssuerMismatch}
	ErrAudienceMismatch       = &Error{Code: CodeAudienceMismatch}
	ErrAZPMissing             = &Error{Code: CodeAZPMissing}
	ErrAZPMismatch            = &Error{Code: CodeAZPMismatch}
	ErrExpired                = &Error{Code: CodeExpired}
	ErrIssuedInFuture         = &Error{Code: CodeIssuedInFuture}
	ErrIssuedTooLongAgo       = &Error{Code: CodeIssuedTooLongAgo}
	ErrNotYetValid            = &Error{Code: CodeNotYetValid}
	ErrNonceMissing           = &Error{Code: CodeNonceMissing}
	ErrNonceMismatch          = &Error{Code: CodeNonceMismatch}
	ErrNonceReused            = &Error{Code: CodeNonceReused}
	ErrDeploymentMissing      = &Error{Code: CodeDeploymentMissing}
	ErrDeploymentUnknown      = &Error{Code: CodeDeploymentUnknown}
	ErrMessageTypeUnknown     = &Error{Code: CodeMessageTypeUnknown}
	ErrMessageTypeUnsupported = &Error{Code: CodeMessageTypeUnsupport}
	ErrVersionWrong           = &Error{Code: CodeVersionWrong}
	ErrClaimMissing           = &Error{Code: CodeClaimMissing}
	ErrClaimInvalid           = &Error{Code: CodeClaimInvalid}
	ErrTargetLinkURI          = &Error{Code: CodeTargetLinkURI}
	ErrRoleNotAllowed         = &Error{Code: CodeRoleNotAllowed}
	ErrNoticeMalformed        = &Error{Code: CodeNoticeMalformed}
)

// Error is a protocol failure. Description says what failed and Fix what a
// person can do about it; both are safe to show to users and to log (they
// never contain tokens). Err is the underlying cause, for logs.
type Error struct {
	Code        Code
	Description string
	Fix         string
	Err         error
}

// NewError returns an *Error for code. An empty description or fix is
// replaced by the code's default text.
func NewError(code Code, description string, err error) *Error {
	e := &Error{Code: code, Description: description, Err: err}
	info := codeInfos[code]
	if e.Description == "" {
		e.Description = info.desc
	}
	e.Fix = info.fix
	return e
}

func newErr(code Code, err error, format string, args ...any) *Error {
	return NewError(code, fmt.Sprintf(format, args...), err)
}

func (e *Error) Error() string {
	desc := e.Description
	if desc == "" {
		desc = codeInfos[e.Code].desc
	}
	s := "lti: " + string(e.Code) + ": " + desc
	// A bare sentinel as cause (a store returning ErrNonceReused) would
	// only repeat the description.
	if e.Err != nil && !(isSentinel(e.Err) && errors.Is(e.Err, e)) {
		s += ": " + e.Err.Error()
	}
	return s
}

func isSentinel(err error) bool {
	le, ok := err.(*Error)
	return ok && le.Description == "" && le.Err == nil
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same Code, so sentinel
// values such as ErrExpired match any error with that code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Status is the HTTP status the tool should answer with: 400 for malformed
// requests, 401 for authentication failures, 403 for an unknown deployment,
// 502 when the platform's key set cannot be fetched.
func (e *Error) Status() int {
	if s := codeInfos[e.Code].status; s != 0 {
		return s
	}
	return http.StatusBadRequest
}

// LogValue logs code, description, fix and cause.
func (e *Error) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("code", string(e.Code)),
		slog.String("description", e.Description),
	}
	if e.Fix != "" {
		attrs = append(attrs, slog.String("fix", e.Fix))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("cause", e.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

type codeInfo struct {
	status int
	desc   string
	fix    string
}

const (
	fixPlatformAdmin = "ask the platform administrator to check the LTI tool registration"
	fixRelaunch      = "go back to the course and open the activity again"
	fixCookies       = "your browser probably blocked the tool's cookie because the tool runs inside the LMS page " +
		"(third-party cookies); open the activity in a new window, or allow cookies for this site"
	fixClock = "make sure the platform's and the tool's clocks are synchronised (NTP); " +
		"then open the activity again"
)

var codeInfos = map[Code]codeInfo{
	CodeLoginIssuerMissing: {400, "login initiation has no iss parameter",
		"the platform must send iss with the OIDC login initiation; check the tool's login URL in the platform"},
	CodeLoginHintMissing: {400, "login initiation has no login_hint parameter",
		"the platform must send login_hint with the OIDC login initiation; " + fixPlatformAdmin},
	CodeLoginTargetMissing: {400, "login initiation has no target_link_uri parameter",
		"the platform must send target_link_uri with the OIDC login initiation; " + fixPlatformAdmin},
	CodeLoginMethod: {405, "login initiation must use GET or POST", "configure the platform to use GET or POST"},
	CodePlatformError: {400, "the platform refused the login",
		"read the platform's error above; usually the redirect URI or the client ID registered in the platform " +
			"does not match the tool, or the user is not logged in to the platform"},
	CodeIDTokenMissing: {400, "the authentication response has no id_token",
		"the platform must POST id_token to the tool's launch URL (response_mode=form_post)"},
	CodeStateMissing: {401, "the authentication response has no state parameter",
		"start the launch from the platform again; " + fixRelaunch},
	CodeStateUnknown: {401, "the launch's state is unknown to the tool",
		"the launch was not started by this tool or its login record was lost; " + fixRelaunch},
	CodeStateExpired: {401, "the launch took too long: its state expired",
		fixRelaunch + "; if this keeps happening, check the server clock"},
	CodeStateCookieMissing: {401, "the state cookie set at login did not come back with the launch",
		fixCookies},
	CodeStateCookieMismatch: {401, "the state in the launch does not match the state cookie of this browser",
		fixCookies + "; if you have several launches open at once, retry one at a time"},
	CodeStateUsed: {401, "this launch was already used (page reloaded or form re-posted)",
		fixRelaunch + " instead of reloading the page"},
	CodeTokenTooLarge: {400, "the id_token is too large", fixPlatformAdmin},
	CodeTokenMalformed: {400, "the id_token is not a well-formed JWT",
		"the platform must post a signed JWT (three base64url parts) as id_token; " + fixPlatformAdmin},
	CodeAlgNotAllowed: {401, "the id_token's signing algorithm is not allowed",
		"configure the platform to sign with RS256 (required by LTI 1.3)"},
	CodeKIDMissing: {401, "the id_token header has no kid (key ID)",
		"the platform must name its signing key with kid; " + fixPlatformAdmin},
	CodeUnknownKID: {401, "the id_token was signed with a key that is not in the platform's key set",
		"check the registration's public keyset URL; if the platform just rotated its keys, retry in a minute"},
	CodeKeyMismatch: {401, "the platform's key cannot be used with the id_token's algorithm",
		"check that the platform's JWKS publishes its signing key with the matching kty and alg"},
	CodeBadSignature: {401, "the id_token signature is invalid",
		"the token was altered or signed with another key; check the registration's public keyset URL"},
	CodeJWKSFetch: {502, "the platform's public key set could not be fetched",
		"check the registration's public keyset URL and that the platform is reachable from the tool"},
	CodeIssuerMismatch: {401, "the id_token issuer does not match the registration",
		"compare the platform ID (issuer) in the tool's registration with what the platform sends"},
	CodeAudienceMismatch: {401, "the id_token audience does not contain this tool's client ID",
		"compare the client ID in the tool's registration with the one the platform assigned"},
	CodeAZPMissing: {401, "the id_token has several audiences but no azp",
		"the platform must send azp equal to the tool's client ID when aud has several values"},
	CodeAZPMismatch: {401, "the id_token azp is not this tool's client ID",
		"compare the client ID in the tool's registration with the one the platform assigned"},
	CodeExpired:        {401, "the id_token has expired", fixClock},
	CodeIssuedInFuture: {401, "the id_token was issued in the future", fixClock},
	CodeIssuedTooLongAgo: {401, "the id_token was issued too long ago",
		"open the activity again from the platform (a launch must reach the tool within minutes); if it keeps happening, " + fixClock},
	CodeNotYetValid: {401, "the id_token is not valid yet (nbf)", fixClock},
	CodeNonceMissing: {401, "the id_token has no nonce",
		"the platform must echo the login's nonce in the id_token; " + fixPlatformAdmin},
	CodeNonceMismatch: {401, "the id_token nonce is not the one issued for this login", fixRelaunch},
	CodeNonceReused: {401, "the id_token was already used (replayed nonce)",
		fixRelaunch + " instead of reloading the page"},
	CodeDeploymentMissing: {400, "the id_token has no deployment_id claim",
		"the platform must send https://purl.imsglobal.org/spec/lti/claim/deployment_id; " + fixPlatformAdmin},
	CodeDeploymentUnknown: {403, "the deployment is not registered",
		"add it under the registration's Deployments tab (or ltipub deployment add)"},
	CodeMessageTypeUnknown: {400, "the id_token has no known LTI message_type",
		"the platform must send an LTI 1.3 message type such as LtiResourceLinkRequest"},
	CodeMessageTypeUnsupport: {400, "this LTI message type is not supported by the tool",
		"use a resource link or deep linking placement for this tool"},
	CodeVersionWrong: {400, "the id_token is not an LTI 1.3.0 message",
		"configure the tool as an LTI 1.3 tool in the platform"},
	CodeClaimMissing: {400, "a required claim is missing from the id_token", fixPlatformAdmin},
	CodeClaimInvalid: {400, "a claim in the id_token has an invalid value", fixPlatformAdmin},
	CodeTargetLinkURI: {400, "the launch's target_link_uri is not a URL of this tool",
		"set the tool's launch URL in the platform to one of the tool's URLs"},
	CodeRoleNotAllowed: {403, "this message type is not allowed with the launching user's roles",
		"only instructors and teaching assistants may open a learner's submission from the gradebook"},
	CodeNoticeMalformed: {400, "the notice request is not a JSON object with a notices list of signed JWTs",
		"the platform must POST {\"notices\": [{\"jwt\": \"…\"}]} to the notice handler URL"},
}
