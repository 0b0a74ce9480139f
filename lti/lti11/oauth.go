// Package lti11 is the legacy side of the LTI protocol: OAuth 1.0a request signing (RFC 5849, HMAC-SHA1 and
// HMAC-SHA256), basic-lti-launch-request parsing, Basic Outcomes (POX replaceResultRequest), the LTI 1.1
// memberships extension, and IMS Common Cartridge basic LTI links. Like package lti it has no storage and no
// HTML: callers pass a nonce store and an *http.Client, and failures are *lti.Error values whose Description
// and Fix can be shown to people.
package lti11

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ltipub/ltipub/lti"
)

// Signature methods.
const (
	HMACSHA1   = "HMAC-SHA1"
	HMACSHA256 = "HMAC-SHA256"
)

// DefaultWindow is how far a request's oauth_timestamp may be from the tool's clock, either way (the IMS and
// Moodle libraries use 300 seconds).
const DefaultWindow = 300 * time.Second

// Codes of the failures this package reports (as *lti.Error).
const (
	CodeParamMissing       lti.Code = "lti11_param_missing"
	CodeParamInvalid       lti.Code = "lti11_param_invalid"
	CodeSignatureMethod    lti.Code = "lti11_signature_method"
	CodeBadSignature       lti.Code = "lti11_bad_signature"
	CodeTimestampExpired   lti.Code = "lti11_timestamp_expired"
	CodeNonceReused        lti.Code = "lti11_nonce_reused"
	CodeBodyHash           lti.Code = "lti11_body_hash"
	CodeMessageType        lti.Code = "lti11_message_type"
	CodeContentItem        lti.Code = "lti11_content_item"
	CodeVersion            lti.Code = "lti11_version"
	CodeOutcomeFailure     lti.Code = "lti11_outcome_failure"
	CodeMembershipsFailure lti.Code = "lti11_memberships_failure"
)

// Sentinels for errors.Is.
var (
	ErrParamMissing     = &lti.Error{Code: CodeParamMissing}
	ErrParamInvalid     = &lti.Error{Code: CodeParamInvalid}
	ErrSignatureMethod  = &lti.Error{Code: CodeSignatureMethod}
	ErrBadSignature     = &lti.Error{Code: CodeBadSignature}
	ErrTimestampExpired = &lti.Error{Code: CodeTimestampExpired}
	ErrNonceReused      = &lti.Error{Code: CodeNonceReused}
	ErrBodyHash         = &lti.Error{Code: CodeBodyHash}
	ErrMessageType      = &lti.Error{Code: CodeMessageType}
	ErrContentItem      = &lti.Error{Code: CodeContentItem}
	ErrVersion          = &lti.Error{Code: CodeVersion}
	ErrOutcomeFailure   = &lti.Error{Code: CodeOutcomeFailure}
)

// MissingParam is the error for a required parameter that is absent or empty. The wording is the one Moodle
// admins know.
func MissingParam(name string) *lti.Error {
	return &lti.Error{Code: CodeParamMissing, Description: fmt.Sprintf("A required parameter (%s) was missing", name),
		Fix: "the platform must send " + name + " with every launch; check the external tool's settings in the platform " +
			"(launch URL, consumer key and secret), and that the link is an LTI 1.1 link"}
}

// Param is one parameter of a request. A name may repeat.
type Param struct{ Name, Value string }

// Params is the parameter list of a request, in the order found.
type Params []Param

// Pairs makes parameters from name, value, name, value… (an odd last name gets an empty value).
func Pairs(kv ...string) Params {
	ps := make(Params, 0, (len(kv)+1)/2)
	for i := 0; i < len(kv); i += 2 {
		p := Param{Name: kv[i]}
		if i+1 < len(kv) {
			p.Value = kv[i+1]
		}
		ps = append(ps, p)
	}
	return ps
}

// Get returns the first value of name.
func (ps Params) Get(name string) string {
	for _, p := range ps {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// Has reports whether name is present with a non-empty value.
func (ps Params) Has(name string) bool { return ps.Get(name) != "" }

// Values turns the parameters into url.Values (repeated names keep every value, in order).
func (ps Params) Values() url.Values {
	v := url.Values{}
	for _, p := range ps {
		v.Add(p.Name, p.Value)
	}
	return v
}

// FromValues lists url.Values as parameters (names sorted; values in order).
func FromValues(v url.Values) Params {
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names)
	var ps Params
	for _, k := range names {
		for _, val := range v[k] {
			ps = append(ps, Param{k, val})
		}
	}
	return ps
}

// Encode percent-encodes s as RFC 5849 §3.6 asks (RFC 3986 unreserved characters kept, every other byte of its
// UTF-8 form as %XX in upper case; a space is %20, never +).
func Encode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// BaseURI is the base string URI of RFC 5849 §3.4.1.2: scheme and host in lower case, the port only when it is
// not the scheme's default, the path as sent ("/" when empty), no query and no fragment.
func BaseURI(rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("base URI: %w", err)
	}
	if u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("base URI: %q is not an absolute URL", rawURL)
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(scheme == "http" && p == "80") && !(scheme == "https" && p == "443") {
		host += ":" + p
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// NormalizeParams is the parameter string of RFC 5849 §3.4.1.3.2: every parameter except oauth_signature (and
// realm, which only the Authorization header carries), names and values encoded, sorted by name then value,
// joined with "&".
func NormalizeParams(ps Params) string {
	enc := make([][2]string, 0, len(ps))
	for _, p := range ps {
		if p.Name == "oauth_signature" || p.Name == "realm" {
			continue
		}
		enc = append(enc, [2]string{Encode(p.Name), Encode(p.Value)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i][0] != enc[j][0] {
			return enc[i][0] < enc[j][0]
		}
		return enc[i][1] < enc[j][1]
	})
	parts := make([]string, len(enc))
	for i, kv := range enc {
		parts[i] = kv[0] + "=" + kv[1]
	}
	return strings.Join(parts, "&")
}

// BaseString is the signature base string of RFC 5849 §3.4.1: method, base URI and parameters, each encoded,
// joined with "&". rawURL may carry a query; its parameters must then be in ps too (RequestParams does that).
func BaseString(method, rawURL string, ps Params) (string, error) {
	base, err := BaseURI(rawURL)
	if err != nil {
		return "", err
	}
	return strings.ToUpper(method) + "&" + Encode(base) + "&" + Encode(NormalizeParams(ps)), nil
}

// Signature computes the signature of a base string: base64 of the HMAC keyed by the encoded consumer secret
// and token secret joined with "&" (LTI has no token, so the key ends with "&").
func Signature(method, baseString, consumerSecret, tokenSecret string) (string, error) {
	var h func() hash.Hash
	switch method {
	case HMACSHA1:
		h = sha1.New
	case HMACSHA256:
		h = sha256.New
	default:
		return "", &lti.Error{Code: CodeSignatureMethod, Description: fmt.Sprintf("The signature method %q is not supported", method),
			Fix: "configure the platform to sign with HMAC-SHA1 (or HMAC-SHA256)"}
	}
	mac := hmac.New(h, []byte(Encode(consumerSecret)+"&"+Encode(tokenSecret)))
	mac.Write([]byte(baseString))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// BodyHash is oauth_body_hash for a body signed with method (RFC draft "OAuth Request Body Hash"): base64 of
// its SHA-1 (SHA-256 for HMAC-SHA256).
func BodyHash(method string, body []byte) string {
	if method == HMACSHA256 {
		s := sha256.Sum256(body)
		return base64.StdEncoding.EncodeToString(s[:])
	}
	s := sha1.Sum(body)
	return base64.StdEncoding.EncodeToString(s[:])
}

// ParseAuthorization reads the oauth_* parameters of an "Authorization: OAuth …" header (realm left out). It
// returns nil when the header is not an OAuth one.
func ParseAuthorization(h string) (Params, error) {
	scheme, rest, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "OAuth") {
		return nil, nil
	}
	var ps Params
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("authorization header: %q has no value", part)
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		name, err1 := url.PathUnescape(strings.TrimSpace(k))
		val, err2 := url.PathUnescape(v)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("authorization header: %w", err)
		}
		if name == "realm" {
			continue
		}
		ps = append(ps, Param{name, val})
	}
	return ps, nil
}

// AuthorizationHeader formats oauth parameters as an "Authorization: OAuth …" value.
func AuthorizationHeader(ps Params) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		if strings.HasPrefix(p.Name, "oauth_") {
			parts = append(parts, Encode(p.Name)+`="`+Encode(p.Value)+`"`)
		}
	}
	return "OAuth " + strings.Join(parts, ", ")
}

// RequestParams gathers the parameters a request was signed with: the query, a form-encoded body (r.PostForm
// must be parsed), and the oauth_* parameters of the Authorization header. Repeated names are kept.
func RequestParams(r *http.Request) (Params, error) {
	var ps Params
	q, err := parseOrdered(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	ps = append(ps, q...)
	ps = append(ps, FromValues(r.PostForm)...)
	hp, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	return append(ps, hp...), nil
}

// parseOrdered parses a query string keeping repeated names and their order.
func parseOrdered(raw string) (Params, error) {
	var ps Params
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		name, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err := errors.Join(err1, err2); err != nil {
			return nil, err
		}
		ps = append(ps, Param{name, val})
	}
	return ps, nil
}

// NonceStore remembers nonces. UseNonce records (consumerKey, nonce) until the given time, and returns an error
// matching lti.ErrNonceReused (or ErrNonceReused) when it was recorded already.
type NonceStore interface {
	UseNonce(ctx context.Context, consumerKey, nonce string, until time.Time) error
}

// Verifier checks OAuth 1.0a signed requests.
type Verifier struct {
	// Nonces records nonces; required.
	Nonces NonceStore
	// Window is the largest difference allowed between oauth_timestamp and the clock (default DefaultWindow).
	Window time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Verify checks the oauth parameters among ps, the signature of (method, signedURL, ps) with secret, the
// timestamp window and, last, the nonce. signedURL is the URL the platform posted to as the tool's public base
// URL says it (behind a proxy, not the URL the server saw). The consumer key is not checked: whatever the
// platform admin typed is accepted, the secret decides.
func (v *Verifier) Verify(ctx context.Context, method, signedURL string, ps Params, secret string) error {
	if err := CheckOAuthParams(ps); err != nil {
		return err
	}
	if ver := ps.Get("oauth_version"); ver != "" && ver != "1.0" {
		return &lti.Error{Code: CodeParamInvalid, Description: fmt.Sprintf("The OAuth version %q is not supported", ver),
			Fix: "LTI 1.1 uses OAuth 1.0a: oauth_version must be 1.0 or absent"}
	}
	sm := ps.Get("oauth_signature_method")
	if sm != HMACSHA1 && sm != HMACSHA256 {
		return &lti.Error{Code: CodeSignatureMethod, Description: fmt.Sprintf("The signature method %q is not supported", sm),
			Fix: "configure the platform to sign with HMAC-SHA1 (or HMAC-SHA256)"}
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	window := v.Window
	if window <= 0 {
		window = DefaultWindow
	}
	ts, err := strconv.ParseInt(ps.Get("oauth_timestamp"), 10, 64)
	if err != nil {
		return &lti.Error{Code: CodeParamInvalid, Description: fmt.Sprintf("The oauth_timestamp %q is not a number of seconds", ps.Get("oauth_timestamp")),
			Fix: "the platform must send the Unix time in seconds"}
	}
	base, err := BaseString(method, signedURL, ps)
	if err != nil {
		return err
	}
	want, err := Signature(sm, base, secret, "")
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(ps.Get("oauth_signature"))) != 1 {
		uri, _ := BaseURI(signedURL)
		return &lti.Error{Code: CodeBadSignature, Description: "Invalid signature",
			Fix: "either the secret is wrong — copy it again from the resource's Legacy (LTI 1.1) details, where a teacher may have " +
				"regenerated it — or the platform signed another URL than the one the tool checked: the tool checked " + uri +
				"; if the tool runs behind a proxy, its base URL setting must be the public URL the platform uses"}
	}
	ours := now().Unix()
	if d := ours - ts; d > int64(window/time.Second) || -d > int64(window/time.Second) {
		return &lti.Error{Code: CodeTimestampExpired, Description: fmt.Sprintf("Expired timestamp, yours %d, ours %d", ts, ours),
			Fix: fmt.Sprintf("the platform's clock and the tool's differ by %s, more than the %s allowed; synchronise both clocks (NTP), then launch again",
				time.Duration(abs(ours-ts))*time.Second, window)}
	}
	until := time.Unix(ts, 0).Add(window)
	if err := v.Nonces.UseNonce(ctx, ps.Get("oauth_consumer_key"), ps.Get("oauth_nonce"), until); err != nil {
		if errors.Is(err, lti.ErrNonceReused) || errors.Is(err, ErrNonceReused) {
			return &lti.Error{Code: CodeNonceReused, Description: "Nonce already used: " + ps.Get("oauth_nonce"),
				Fix: "this launch was sent before (a replay, or the browser re-posted the form); go back to the platform and open the link again"}
		}
		return fmt.Errorf("record nonce: %w", err)
	}
	return nil
}

// CheckOAuthParams reports the first required OAuth parameter missing from ps, by name.
func CheckOAuthParams(ps Params) error {
	for _, name := range []string{"oauth_consumer_key", "oauth_signature_method", "oauth_timestamp", "oauth_nonce", "oauth_signature"} {
		if !ps.Has(name) {
			return MissingParam(name)
		}
	}
	return nil
}

// SignatureMatches reports whether ps carries a valid signature of (method, signedURL) with secret; it checks
// nothing else (no timestamp, no nonce). It serves hints: which URL a platform signed.
func SignatureMatches(method, signedURL string, ps Params, secret string) bool {
	base, err := BaseString(method, signedURL, ps)
	if err != nil {
		return false
	}
	want, err := Signature(ps.Get("oauth_signature_method"), base, secret, "")
	return err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(ps.Get("oauth_signature"))) == 1
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// Signer signs outgoing requests (Basic Outcomes, memberships) as a consumer key and secret.
type Signer struct {
	ConsumerKey string
	Secret      string
	// Method is HMACSHA1 unless set.
	Method string
	// Now and Nonce may be replaced in tests.
	Now   func() time.Time
	Nonce func() string
}

// OAuthParams returns the oauth_* parameters of a new request (without the signature).
func (s *Signer) OAuthParams() Params {
	now, nonce := time.Now, NewNonce
	if s.Now != nil {
		now = s.Now
	}
	if s.Nonce != nil {
		nonce = s.Nonce
	}
	return Params{{"oauth_consumer_key", s.ConsumerKey}, {"oauth_signature_method", s.method()},
		{"oauth_timestamp", strconv.FormatInt(now().Unix(), 10)}, {"oauth_nonce", nonce()}, {"oauth_version", "1.0"}}
}

func (s *Signer) method() string {
	if s.Method == "" {
		return HMACSHA1
	}
	return s.Method
}

// Sign adds oauth parameters and the signature to extra (the request's own parameters: query and form body),
// and returns the oauth parameters including oauth_signature.
func (s *Signer) Sign(method, rawURL string, extra Params, oauth Params) (Params, error) {
	all := append(append(Params{}, extra...), oauth...)
	if u, err := url.Parse(rawURL); err == nil && u.RawQuery != "" {
		q, err := parseOrdered(u.RawQuery)
		if err != nil {
			return nil, err
		}
		all = append(all, q...)
	}
	base, err := BaseString(method, rawURL, all)
	if err != nil {
		return nil, err
	}
	sig, err := Signature(s.method(), base, s.Secret, "")
	if err != nil {
		return nil, err
	}
	return append(append(Params{}, oauth...), Param{"oauth_signature", sig}), nil
}

// SignForm signs a form POST: it returns the form (form parameters plus oauth_* and oauth_signature).
func (s *Signer) SignForm(rawURL string, form Params) (url.Values, error) {
	oauth, err := s.Sign(http.MethodPost, rawURL, form, s.OAuthParams())
	if err != nil {
		return nil, err
	}
	v := form.Values()
	for _, p := range oauth {
		v.Set(p.Name, p.Value)
	}
	return v, nil
}

// SignBody signs a request with a non-form body (POX) the way Basic Outcomes does: oauth_body_hash among the
// signed parameters, everything in the Authorization header. It returns the header value.
func (s *Signer) SignBody(method, rawURL string, body []byte) (string, error) {
	oauth := append(s.OAuthParams(), Param{"oauth_body_hash", BodyHash(s.method(), body)})
	signed, err := s.Sign(method, rawURL, nil, oauth)
	if err != nil {
		return "", err
	}
	return AuthorizationHeader(signed), nil
}

// VerifyBodyHash checks oauth_body_hash among ps against body.
func VerifyBodyHash(ps Params, body []byte) error {
	got := ps.Get("oauth_body_hash")
	if got == "" {
		return MissingParam("oauth_body_hash")
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(BodyHash(ps.Get("oauth_signature_method"), body))) != 1 {
		return &lti.Error{Code: CodeBodyHash, Description: "The oauth_body_hash does not match the body",
			Fix: "the body was changed after signing, or hashed with another algorithm"}
	}
	return nil
}

// NewNonce returns a random nonce.
func NewNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NewSecret returns a new random shared secret (32 characters, URL- and form-safe).
func NewSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
