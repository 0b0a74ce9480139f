package lti

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Service scopes (LTI AGS 2.0 and NRPS 2.0).
const (
	ScopeLineItem         = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
	ScopeLineItemReadOnly = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
	ScopeResultReadOnly   = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
	ScopeScore            = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
	ScopeMembership       = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
)

// ClientAssertionType is the client_assertion_type of a private_key_jwt assertion.
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Codes of service failures (token endpoint, AGS, NRPS). They are not in the
// launch table: their descriptions always carry the platform's own words.
const (
	// CodeTokenRefused: the token endpoint refused the client assertion or
	// the scopes (invalid_client, invalid_scope, …). Not retried.
	CodeTokenRefused Code = "service_token_refused"
	// CodeServiceRetry: the platform is down, slow, rate limiting (429) or
	// failing (5xx). Retry later, after RetryAfter when it says.
	CodeServiceRetry Code = "service_retry"
	// CodeServiceRefused: the platform refused the request (a 4xx other than
	// 401, 404 and 429). Not retried; Description has the platform's message.
	CodeServiceRefused Code = "service_refused"
	// CodeServiceNotFound: 404, e.g. a deleted line item.
	CodeServiceNotFound Code = "service_not_found"
	// CodeServiceUnauthorized: 401 even with a fresh token.
	CodeServiceUnauthorized Code = "service_unauthorized"
	// CodeServiceResponse: the answer is not what the service promises
	// (garbage JSON, wrong shape). Retried: platforms recover.
	CodeServiceResponse Code = "service_bad_response"
	// CodeServiceTooLarge: an answer exceeded the size limit.
	CodeServiceTooLarge Code = "service_response_too_large"
	// CodePagingLoop: a paged answer links back to a page already read, or
	// has more pages than the limit.
	CodePagingLoop Code = "service_paging_loop"
)

// Sentinels of the service codes, for errors.Is.
var (
	ErrTokenRefused         = &Error{Code: CodeTokenRefused}
	ErrServiceRetry         = &Error{Code: CodeServiceRetry}
	ErrServiceRefused       = &Error{Code: CodeServiceRefused}
	ErrServiceNotFound      = &Error{Code: CodeServiceNotFound}
	ErrServiceUnauthorized  = &Error{Code: CodeServiceUnauthorized}
	ErrServiceResponse      = &Error{Code: CodeServiceResponse}
	ErrServiceTooLarge      = &Error{Code: CodeServiceTooLarge}
	ErrPagingLoop           = &Error{Code: CodePagingLoop}
	errServiceFixPlatform   = "check the platform's status and the registration's service URLs; the sync retries on its own"
	errServiceFixToken      = "check the registration: client ID, token URL, token audience, and that the platform has the tool's JWKS URL"
	errServiceFixPermission = "check the tool's service settings in the platform (grade and roster services must be allowed)"
)

// ServiceError is the HTTP detail of a failed service call, the cause
// (Err) of the *Error returned.
type ServiceError struct {
	Method     string
	URL        string
	Status     int           // 0 when no answer came
	RetryAfter time.Duration // from a Retry-After header, 0 when absent
	// Message is the platform's error text (OAuth error_description, or the
	// start of the body).
	Message string
}

func (e *ServiceError) Error() string {
	s := e.Method + " " + redactURL(e.URL)
	if e.Status != 0 {
		s += ": HTTP " + strconv.Itoa(e.Status)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Retryable reports whether err is worth retrying later: the platform was
// unreachable, slow, rate limiting, failing or garbled.
func Retryable(err error) bool {
	return errors.Is(err, ErrServiceRetry) || errors.Is(err, ErrServiceResponse)
}

// RetryAfter returns the wait the platform asked for (Retry-After), if any.
func RetryAfter(err error) (time.Duration, bool) {
	var se *ServiceError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter, true
	}
	return 0, false
}

func serviceErr(code Code, se *ServiceError, desc, fix string) *Error {
	return &Error{Code: code, Description: desc, Fix: fix, Err: se}
}

// redactURL drops the query of u for messages: some platforms put secrets
// there.
func redactURL(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}

// ServiceToken is an OAuth 2 access token for LTI services.
type ServiceToken struct {
	AccessToken string
	// Scopes are the scopes granted (the requested ones when the platform
	// does not say).
	Scopes []string
	Expiry time.Time
}

// LogValue logs the scopes and expiry, never the token.
func (t ServiceToken) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("scopes", t.Scopes), slog.Time("expiry", t.Expiry))
}

// String hides the token from fmt's %v.
func (t ServiceToken) String() string {
	return "ServiceToken(expiry=" + t.Expiry.Format(time.RFC3339) + ")"
}

// ServiceCredentials is the tool's client at one platform.
type ServiceCredentials struct {
	ClientID string
	TokenURL string
	// Audience is the aud of client assertions when the platform declares
	// one; empty means TokenURL.
	Audience string
	// Key returns the tool's active signing key (it may rotate).
	Key func(ctx context.Context) (SigningKey, error)
}

// TokenCache keeps service tokens between requests, and between instances
// when it is backed by a shared database. Keys come from TokenCacheKey.
type TokenCache interface {
	// CachedToken returns the token stored under key; ok is false when none is.
	CachedToken(ctx context.Context, key string) (tok ServiceToken, ok bool, err error)
	StoreToken(ctx context.Context, key string, tok ServiceToken) error
	DropToken(ctx context.Context, key string) error
}

// TokenCacheKey names the token of a client for a set of scopes: a hash of
// the token URL, the client ID and the sorted scopes.
func TokenCacheKey(tokenURL, clientID string, scopes []string) string {
	s := slices.Clone(scopes)
	slices.Sort(s)
	s = slices.Compact(s)
	sum := sha256.Sum256([]byte(tokenURL + "\x00" + clientID + "\x00" + strings.Join(s, " ")))
	return hex.EncodeToString(sum[:16])
}

// TokenSource obtains service tokens with the client credentials grant and a
// private_key_jwt client assertion, caching them until shortly before they
// expire.
type TokenSource struct {
	HTTP        *http.Client
	Credentials ServiceCredentials
	// Cache stores tokens; nil keeps them in this TokenSource only.
	Cache TokenCache
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Margin is how long before expiry a token is replaced (default 60 s).
	Margin time.Duration
	// AssertionTTL is exp-iat of client assertions (default 5 minutes).
	AssertionTTL time.Duration

	mu    sync.Mutex
	local map[string]ServiceToken
}

func (ts *TokenSource) now() time.Time {
	if ts.Now != nil {
		return ts.Now()
	}
	return time.Now()
}

func (ts *TokenSource) key(scopes []string) string {
	return TokenCacheKey(ts.Credentials.TokenURL, ts.Credentials.ClientID, scopes)
}

// Token returns a valid token for scopes, from the cache or the token endpoint.
func (ts *TokenSource) Token(ctx context.Context, scopes []string) (ServiceToken, error) {
	margin := ts.Margin
	if margin <= 0 {
		margin = 60 * time.Second
	}
	key := ts.key(scopes)
	// One request at a time per source: concurrent senders share the token the first one fetches.
	ts.mu.Lock()
	defer ts.mu.Unlock()
	fresh := func(t ServiceToken) bool { return t.AccessToken != "" && ts.now().Add(margin).Before(t.Expiry) }
	if t, ok := ts.local[key]; ok && fresh(t) {
		return t, nil
	}
	if ts.Cache != nil {
		t, ok, err := ts.Cache.CachedToken(ctx, key)
		if err != nil {
			return ServiceToken{}, fmt.Errorf("read cached service token: %w", err)
		}
		if ok && fresh(t) {
			ts.remember(key, t)
			return t, nil
		}
	}
	t, err := RequestServiceToken(ctx, ts.HTTP, ts.Credentials, scopes, ts.now(), ts.AssertionTTL)
	if err != nil {
		return ServiceToken{}, err
	}
	ts.remember(key, t)
	if ts.Cache != nil {
		if err := ts.Cache.StoreToken(ctx, key, t); err != nil {
			return ServiceToken{}, fmt.Errorf("cache service token: %w", err)
		}
	}
	return t, nil
}

func (ts *TokenSource) remember(key string, t ServiceToken) {
	if ts.local == nil {
		ts.local = map[string]ServiceToken{}
	}
	ts.local[key] = t
}

// Invalidate forgets the token for scopes (after a 401), here and in the cache.
func (ts *TokenSource) Invalidate(ctx context.Context, scopes []string) error {
	key := ts.key(scopes)
	ts.mu.Lock()
	delete(ts.local, key)
	ts.mu.Unlock()
	if ts.Cache != nil {
		return ts.Cache.DropToken(ctx, key)
	}
	return nil
}

// RequestServiceToken asks the token endpoint for a token (LTI Security
// Framework §4.1: client_credentials with a JWT client assertion). now is the
// assertion's iat; ttl its lifetime (default 5 minutes).
func RequestServiceToken(ctx context.Context, hc *http.Client, cr ServiceCredentials, scopes []string, now time.Time, ttl time.Duration) (ServiceToken, error) {
	if cr.TokenURL == "" || cr.ClientID == "" || cr.Key == nil {
		return ServiceToken{}, &Error{Code: CodeTokenRefused, Description: "the registration has no token URL or client ID",
			Fix: "fill in the platform's access token URL and the client ID in the registration"}
	}
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	key, err := cr.Key(ctx)
	if err != nil {
		return ServiceToken{}, fmt.Errorf("load the tool's signing key: %w", err)
	}
	aud := cr.Audience
	if aud == "" {
		aud = cr.TokenURL
	}
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	assertion, err := Sign(key, map[string]any{
		"iss": cr.ClientID, "sub": cr.ClientID, "aud": aud,
		"iat": now.Unix(), "exp": now.Add(ttl).Unix(), "jti": hex.EncodeToString(jti),
	})
	if err != nil {
		return ServiceToken{}, err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"client_assertion_type": {ClientAssertionType},
		"client_assertion":      {assertion},
		"scope":                 {strings.Join(scopes, " ")},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cr.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return ServiceToken{}, &Error{Code: CodeTokenRefused, Description: "the registration's token URL is not a URL", Fix: errServiceFixToken, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	se := &ServiceError{Method: http.MethodPost, URL: cr.TokenURL}
	resp, err := hc.Do(req)
	if err != nil {
		se.Message = err.Error()
		return ServiceToken{}, serviceErr(CodeServiceRetry, se, "the platform's token endpoint did not answer", errServiceFixPlatform)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	se.Status = resp.StatusCode
	if err != nil {
		se.Message = err.Error()
		return ServiceToken{}, serviceErr(CodeServiceRetry, se, "reading the token endpoint's answer failed", errServiceFixPlatform)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		se.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		se.Message = excerpt(body)
		return ServiceToken{}, serviceErr(CodeServiceRetry, se, "the platform's token endpoint is busy or failing", errServiceFixPlatform)
	}
	if resp.StatusCode != http.StatusOK {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &oe)
		se.Message = strings.TrimSpace(oe.Error + ": " + oe.Description)
		if oe.Error == "" {
			se.Message = excerpt(body)
		}
		return ServiceToken{}, serviceErr(CodeTokenRefused, se, "the platform refused the tool's access token request: "+se.Message, errServiceFixToken)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		se.Message = "no access_token in " + excerpt(body)
		return ServiceToken{}, serviceErr(CodeServiceResponse, se, "the token endpoint's answer is not a token", errServiceFixPlatform)
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		se.Message = "token_type " + tr.TokenType
		return ServiceToken{}, serviceErr(CodeServiceResponse, se, "the token endpoint issued a token that is not a Bearer token", errServiceFixPlatform)
	}
	if tr.ExpiresIn <= 0 {
		tr.ExpiresIn = 3600 // RFC 6749 makes it optional; Moodle's lifetime.
	}
	t := ServiceToken{AccessToken: tr.AccessToken, Scopes: strings.Fields(tr.Scope), Expiry: now.Add(time.Duration(tr.ExpiresIn) * time.Second)}
	if len(t.Scopes) == 0 {
		t.Scopes = slices.Clone(scopes)
	}
	return t, nil
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// excerpt is the start of a body, for messages.
func excerpt(b []byte) string {
	s := strings.TrimSpace(string(b))
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' && r != '\t' {
			return -1
		}
		return r
	}, s)
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// Tokens is what service clients need from a token source.
type Tokens interface {
	Token(ctx context.Context, scopes []string) (ServiceToken, error)
	Invalidate(ctx context.Context, scopes []string) error
}

// ServiceClient calls a platform's AGS and NRPS endpoints with bearer tokens
// for Scopes. It retries once with a fresh token after a 401 and maps every
// other failure to an *Error: CodeServiceRetry (429, 5xx, no answer; carrying
// Retry-After), CodeServiceNotFound (404), CodeServiceRefused (other 4xx,
// with the platform's message) or CodeServiceResponse (garbage).
type ServiceClient struct {
	HTTP   *http.Client
	Tokens Tokens
	// Scopes are requested for every token of this client; ask for all the
	// scopes the work needs at once, so one token serves it all.
	Scopes []string
	// MaxBody limits a JSON answer (default 4 MiB; membership pages are
	// streamed and limited by MaxPageBytes instead).
	MaxBody int64
	// MaxPageBytes limits one membership page (default 64 MiB).
	MaxPageBytes int64
	// MaxPages limits how many pages a listing follows (default 10,000).
	MaxPages int
}

func (c *ServiceClient) maxBody() int64 {
	if c.MaxBody > 0 {
		return c.MaxBody
	}
	return 4 << 20
}

func (c *ServiceClient) maxPages() int {
	if c.MaxPages > 0 {
		return c.MaxPages
	}
	return 10000
}

// do sends one request and returns a 2xx response, whose body the caller
// closes. body is re-sent on the retry after a 401.
func (c *ServiceClient) do(ctx context.Context, method, u, accept, contentType string, body []byte) (*http.Response, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.Tokens.Token(ctx, c.Scopes)
		if err != nil {
			return nil, err
		}
		var rd io.Reader
		if body != nil {
			rd = strings.NewReader(string(body))
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, serviceErr(CodeServiceRefused, &ServiceError{Method: method, URL: u, Message: err.Error()},
				"the service URL is not a URL", errServiceFixPermission)
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		se := &ServiceError{Method: method, URL: u}
		resp, err := c.HTTP.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			se.Message = err.Error()
			return nil, serviceErr(CodeServiceRetry, se, "the platform did not answer in time", errServiceFixPlatform)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<10))
		resp.Body.Close()
		se.Status, se.Message = resp.StatusCode, platformMessage(msg)
		switch {
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			// The token expired or was revoked early: drop it and try once with a new one.
			if err := c.Tokens.Invalidate(ctx, c.Scopes); err != nil {
				return nil, err
			}
			continue
		case resp.StatusCode == http.StatusUnauthorized:
			return nil, serviceErr(CodeServiceUnauthorized, se, "the platform refused a fresh access token: "+se.Message, errServiceFixPermission)
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
			se.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
			return nil, serviceErr(CodeServiceRetry, se, fmt.Sprintf("the platform answered %d", resp.StatusCode), errServiceFixPlatform)
		case resp.StatusCode == http.StatusNotFound:
			return nil, serviceErr(CodeServiceNotFound, se, "the platform does not know "+redactURL(u), errServiceFixPermission)
		default:
			return nil, serviceErr(CodeServiceRefused, se, fmt.Sprintf("the platform refused the request (%d): %s", resp.StatusCode, se.Message), errServiceFixPermission)
		}
	}
}

// platformMessage extracts a readable message from an error body.
func platformMessage(b []byte) string {
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		var parts []string
		for _, k := range []string{"error", "error_description", "message", "reason", "detail"} {
			if s, ok := m[k].(string); ok && s != "" {
				parts = append(parts, s)
			}
		}
		if len(parts) > 0 {
			return excerpt([]byte(strings.Join(parts, ": ")))
		}
	}
	return excerpt(b)
}

// getJSON GETs u and decodes the JSON answer into v; it returns the next
// page's URL from the Link header.
func (c *ServiceClient) getJSON(ctx context.Context, u, accept string, v any) (next string, err error) {
	resp, err := c.do(ctx, http.MethodGet, u, accept, "", nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody()+1))
	se := &ServiceError{Method: http.MethodGet, URL: u, Status: resp.StatusCode}
	if err != nil {
		se.Message = err.Error()
		return "", serviceErr(CodeServiceRetry, se, "reading the platform's answer failed", errServiceFixPlatform)
	}
	if int64(len(b)) > c.maxBody() {
		se.Message = fmt.Sprintf("more than %d bytes", c.maxBody())
		return "", serviceErr(CodeServiceTooLarge, se, "the platform's answer is too large", errServiceFixPlatform)
	}
	if err := json.Unmarshal(b, v); err != nil {
		se.Message = err.Error() + ": " + excerpt(b)
		return "", serviceErr(CodeServiceResponse, se, "the platform's answer is not the JSON the service promises", errServiceFixPlatform)
	}
	return NextLink(resp.Header, u), nil
}

// NextLink returns the rel="next" URL of Link headers, resolved against
// base, or "". It accepts Moodle's curly quotes around rel values.
func NextLink(h http.Header, base string) string { return linkRel(h, base, "next") }

// linkRel returns the URL of the Link with relation want, resolved against base.
func linkRel(h http.Header, base, want string) string {
	for _, v := range h.Values("Link") {
		for _, part := range splitLinks(v) {
			start, end := strings.IndexByte(part, '<'), strings.IndexByte(part, '>')
			if start < 0 || end < start {
				continue
			}
			target := strings.TrimSpace(part[start+1 : end])
			for _, p := range strings.Split(part[end+1:], ";") {
				name, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(name), "rel") {
					continue
				}
				val = strings.Trim(strings.TrimSpace(val), "\"“”'")
				for _, rel := range strings.Fields(val) {
					if strings.EqualFold(rel, want) {
						return resolveURL(base, target)
					}
				}
			}
		}
	}
	return ""
}

// splitLinks splits a Link header value at the commas between links (not
// inside <…>).
func splitLinks(v string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range v {
		switch r {
		case '<':
			depth++
		case '>':
			if depth > 0 {
				depth--
			}
		case ',':
			if depth == 0 {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

func resolveURL(base, ref string) string {
	b, err := url.Parse(base)
	if err != nil {
		return ref
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	return b.ResolveReference(r).String()
}

// pageGuard detects paging loops and runaway listings.
type pageGuard struct {
	seen map[string]bool
	max  int
}

func (g *pageGuard) visit(u string) error {
	if g.seen == nil {
		g.seen = map[string]bool{}
	}
	if g.seen[u] {
		return serviceErr(CodePagingLoop, &ServiceError{Method: http.MethodGet, URL: u, Message: "rel=\"next\" points to a page already read"},
			"the platform's paging loops back to a page already read", "report it to the platform's administrator; the sync stops rather than loop")
	}
	if len(g.seen) >= g.max {
		return serviceErr(CodePagingLoop, &ServiceError{Method: http.MethodGet, URL: u, Message: fmt.Sprintf("more than %d pages", g.max)},
			"the platform's listing has too many pages", "report it to the platform's administrator")
	}
	g.seen[u] = true
	return nil
}
