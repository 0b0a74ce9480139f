package ltitest

import (
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
)

type accessToken struct {
	clientID string
	scopes   []string
	expires  time.Time
}

// TokenRequest is one request to the token endpoint.
type TokenRequest struct {
	Time     time.Time
	ClientID string // from the assertion, when readable
	Scope    string
	// Error is the OAuth error answered ("" when a token was issued).
	Error, ErrorDescription string
}

// TokenRequests returns the token requests received so far.
func (p *Platform) TokenRequests() []TokenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.tokenReqs)
}

// ExpireTokens makes every access token issued so far invalid.
func (p *Platform) ExpireTokens() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range p.tokens {
		t.expires = time.Time{}
	}
}

// IssueAccessToken mints a bearer token directly (bypassing the token
// endpoint), for tests of the services alone.
func (p *Platform) IssueAccessToken(clientID string, scopes ...string) string {
	tok := "at-" + randomID(24)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tokens[tok] = &accessToken{clientID: clientID, scopes: slices.Clone(scopes), expires: p.now().Add(p.cfg.AccessTokenTTL)}
	return tok
}

type oauthError struct {
	status     int
	code, desc string
	clientID   string
	scopeAsked string
}

func (p *Platform) handleToken(w http.ResponseWriter, r *http.Request) {
	if handled, _ := p.applyFault(w, r, ServiceToken, false); handled {
		return
	}
	rec := TokenRequest{Time: p.now()}
	tok, scopes, oe := p.issueToken(r)
	if oe != nil {
		rec.ClientID, rec.Scope, rec.Error, rec.ErrorDescription = oe.clientID, oe.scopeAsked, oe.code, oe.desc
		p.mu.Lock()
		p.tokenReqs = append(p.tokenReqs, rec)
		p.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, oe.status, "application/json", map[string]string{"error": oe.code, "error_description": oe.desc})
		return
	}
	p.mu.Lock()
	rec.ClientID, rec.Scope = tok.clientID, strings.Join(scopes, " ")
	p.tokenReqs = append(p.tokenReqs, rec)
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"access_token": tok.token,
		"token_type":   "Bearer",
		"expires_in":   int(p.cfg.AccessTokenTTL / time.Second),
		"scope":        strings.Join(scopes, " "),
	})
}

type issued struct {
	token    string
	clientID string
}

func (p *Platform) issueToken(r *http.Request) (*issued, []string, *oauthError) {
	bad := func(status int, code, format string, args ...any) *oauthError {
		return &oauthError{status: status, code: code, desc: fmt.Sprintf(format, args...)}
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, nil, bad(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded, got %q", r.Header.Get("Content-Type"))
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return nil, nil, bad(400, "invalid_request", "parse form: %v", err)
	}
	f := r.PostForm
	for _, k := range []string{"grant_type", "client_assertion_type", "client_assertion", "scope"} {
		if len(f[k]) > 1 {
			return nil, nil, bad(400, "invalid_request", "%s given more than once", k)
		}
	}
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			return nil, nil, bad(400, "invalid_request", "grant_type missing")
		}
		return nil, nil, bad(400, "unsupported_grant_type", "grant_type %q is not supported", gt)
	}
	if f.Get("client_assertion_type") != clientAssertionType {
		return nil, nil, bad(401, "invalid_client", "client_assertion_type must be %s", clientAssertionType)
	}
	assertion := f.Get("client_assertion")
	if assertion == "" {
		return nil, nil, bad(401, "invalid_client", "client_assertion missing")
	}
	parts, err := splitJWT(assertion)
	if err != nil {
		return nil, nil, bad(401, "invalid_client", "client_assertion: %v", err)
	}
	sub, _ := parts.claims["sub"].(string)
	iss, _ := parts.claims["iss"].(string)
	p.mu.Lock()
	tool := p.tools[sub]
	var toolCopy ToolConfig
	if tool != nil {
		toolCopy = *tool
	}
	p.mu.Unlock()
	if tool == nil {
		return nil, nil, bad(401, "invalid_client", "unknown client (sub %q)", sub)
	}
	withClient := func(oe *oauthError) *oauthError {
		oe.clientID, oe.scopeAsked = sub, f.Get("scope")
		return oe
	}
	if cid := f.Get("client_id"); cid != "" && cid != sub {
		return nil, nil, withClient(bad(401, "invalid_client", "client_id %q does not match assertion sub", cid))
	}
	if iss != sub {
		return nil, nil, withClient(bad(401, "invalid_client", "assertion iss %q must equal sub %q", iss, sub))
	}
	if toolCopy.JWKSURL == "" {
		return nil, nil, withClient(bad(401, "invalid_client", "tool has no JWKS URL"))
	}
	if err := p.toolKey.verify(r.Context(), toolCopy.JWKSURL, parts); err != nil {
		return nil, nil, withClient(bad(401, "invalid_client", "client_assertion signature: %v", err))
	}
	now := p.now()
	tokenURL := p.TokenURL()
	if p.cfg.TokenAudience != "" {
		tokenURL = p.cfg.TokenAudience // the platform names its own audience, and accepts no other
	}
	if ok, _ := audContains(parts.claims["aud"], tokenURL); !ok {
		return nil, nil, withClient(bad(401, "invalid_client", "assertion aud must contain %s", tokenURL))
	}
	exp, ok := numericClaim(parts.claims, "exp")
	if !ok {
		return nil, nil, withClient(bad(401, "invalid_client", "assertion exp missing"))
	}
	const leeway = 30
	if exp <= now.Unix()-leeway {
		return nil, nil, withClient(bad(401, "invalid_client", "assertion expired"))
	}
	if exp > now.Add(time.Hour).Unix()+leeway {
		return nil, nil, withClient(bad(401, "invalid_client", "assertion exp more than 1 h ahead"))
	}
	if iat, ok := numericClaim(parts.claims, "iat"); ok && iat > now.Unix()+leeway {
		return nil, nil, withClient(bad(401, "invalid_client", "assertion iat in the future"))
	}
	if nbf, ok := numericClaim(parts.claims, "nbf"); ok && nbf > now.Unix()+leeway {
		return nil, nil, withClient(bad(401, "invalid_client", "assertion not yet valid (nbf)"))
	}
	jti, _ := parts.claims["jti"].(string)
	if jti == "" {
		return nil, nil, withClient(bad(401, "invalid_client", "assertion jti missing"))
	}
	scopeParam := f.Get("scope")
	requested := strings.Fields(scopeParam)
	if len(requested) == 0 {
		return nil, nil, withClient(bad(400, "invalid_scope", "scope missing"))
	}
	for _, s := range requested {
		if !slices.Contains(toolCopy.Scopes, s) {
			return nil, nil, withClient(bad(400, "invalid_scope", "scope %q not allowed for this tool", s))
		}
	}
	tok := "at-" + randomID(24)
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, until := range p.jtis {
		if now.After(until) {
			delete(p.jtis, k)
		}
	}
	key := sub + "\x00" + jti
	if _, seen := p.jtis[key]; seen {
		return nil, nil, withClient(bad(401, "invalid_client", "assertion jti %q already used", jti))
	}
	p.jtis[key] = time.Unix(exp+leeway, 0)
	p.tokens[tok] = &accessToken{clientID: sub, scopes: requested, expires: now.Add(p.cfg.AccessTokenTTL)}
	return &issued{token: tok, clientID: sub}, requested, nil
}

// authorize checks the bearer token of r for any of scopes. It writes a 401
// and returns "" when the token is missing, unknown, expired or lacks scope.
func (p *Platform) authorize(w http.ResponseWriter, r *http.Request, scopes ...string) (clientID string, ok bool) {
	h := r.Header.Get("Authorization")
	tok, found := strings.CutPrefix(h, "Bearer ")
	if !found {
		tok, found = strings.CutPrefix(h, "bearer ")
	}
	deny := func(code, desc string, status int) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="ltitest", error=%q, error_description=%q`, code, desc))
		writeJSON(w, status, "application/json", map[string]string{"error": code, "error_description": desc})
	}
	if !found || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ltitest"`)
		writeJSON(w, http.StatusUnauthorized, "application/json", map[string]string{"error": "invalid_request", "error_description": "bearer token required"})
		return "", false
	}
	p.mu.Lock()
	at := p.tokens[strings.TrimSpace(tok)]
	var c accessToken
	if at != nil {
		c = *at
	}
	p.mu.Unlock()
	if at == nil || !p.now().Before(c.expires) {
		deny("invalid_token", "token unknown or expired", http.StatusUnauthorized)
		return "", false
	}
	for _, s := range scopes {
		if slices.Contains(c.scopes, s) {
			return c.clientID, true
		}
	}
	deny("insufficient_scope", "token lacks scope "+strings.Join(scopes, " or "), http.StatusUnauthorized)
	return "", false
}
