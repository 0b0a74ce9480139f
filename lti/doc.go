// Package lti implements the tool side of LTI 1.3 / LTI Advantage: OIDC
// third-party login, id_token validation, the launch message model, the
// tool's signing keys and public JWKS, and Deep Linking responses.
//
// The package is protocol only. It stores nothing, renders no HTML, logs
// nothing and makes no HTTP request except through the *http.Client it is
// given (use internal/safehttp's client: platform URLs come from
// registrations). Where it needs a lookup it declares a small interface:
// KeySet for platform keys, NonceStore for replay protection, and the
// callbacks in Expect for deployments and target URLs.
//
// A launch has three steps:
//
//  1. Login initiation: ParseLoginInitiation reads the platform's GET or
//     POST. The tool finds the registration from Issuer (and ClientID),
//     creates NewState and NewNonce, stores them with the registration and
//     binds the state to the browser (cookie or platform storage), then
//     redirects to AuthRequest.URL.
//  2. Authentication response: ParseAuthResponse reads the form POST. The
//     tool checks and consumes the state (reporting failures with
//     NewError(CodeState…) so users see the same kind of message).
//  3. Validator.Validate checks the id_token in the order of the 1EdTech
//     Security Framework — shape, algorithm, kid, signature against the
//     platform JWKS (refetched once on an unknown kid, rate-limited), iss,
//     aud/azp, exp/iat/nbf, nonce (then burned), deployment, version,
//     message type and required claims — and returns the typed *Message.
//
// Every failure is an *Error with a Code, a Description of what failed and
// a Fix saying what to do, safe to show and to log; errors.Is matches the
// Err* sentinels by code. Error.Status suggests the HTTP status.
//
// For deep linking, NewDeepLinkingResponse builds the reply to an
// LtiDeepLinkingRequest and DeepLinkingResponse.Sign signs it with the
// tool's SigningKey; PublicJWKS publishes the matching public keys.
package lti
