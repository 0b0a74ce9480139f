package ltitest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OpenIDConfiguration returns the platform's openid-configuration document.
func (p *Platform) OpenIDConfiguration() map[string]any {
	base := p.BaseURL()
	cfg := map[string]any{
		"issuer":                                p.Issuer(),
		"authorization_endpoint":                base + "/auth",
		"token_endpoint":                        base + "/token",
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256"},
		"jwks_uri":                              base + "/jwks",
		"registration_endpoint":                 base + "/register",
		"scopes_supported":                      append([]string{"openid"}, p.scopesSupported()...),
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public", "pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"iss", "aud", "sub", "iat", "exp", "nonce", "name", "given_name", "family_name", "middle_name", "email", "picture", "locale"},
		ltiPlatformConfig: map[string]any{
			"product_family_code": p.cfg.ProductFamilyCode,
			"version":             "1.0",
			"messages_supported": []map[string]any{
				{"type": MessageResourceLink},
				{"type": MessageDeepLinkingRequest, "placements": []string{"ContentArea"}},
			},
			"variables": []string{"User.id", "Person.name.given", "Person.name.family", "Person.name.full", "Person.email.primary",
				"Context.id", "Context.title", "Context.label", "ResourceLink.id", "ResourceLink.title"},
		},
	}
	if p.cfg.TokenAudience != "" {
		cfg["authorization_server"] = p.cfg.TokenAudience
	}
	return cfg
}

func (p *Platform) handleOpenIDConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, "application/json", p.OpenIDConfiguration())
}

// StartRegistration issues a single-use registration token and returns the
// URL a browser (or iframe) opens to start dynamic registration at the tool.
func (p *Platform) StartRegistration(toolRegistrationURL string) (string, error) {
	u, err := url.Parse(toolRegistrationURL)
	if err != nil {
		return "", fmt.Errorf("ltitest: registration URL: %w", err)
	}
	tok := "rt-" + randomID(18)
	p.mu.Lock()
	p.regTokens[tok] = false
	p.mu.Unlock()
	q := u.Query()
	q.Set("openid_configuration", p.OpenIDConfigURL())
	q.Set("registration_token", tok)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// RegistrationRecord is one request to the registration endpoint.
type RegistrationRecord struct {
	Time         time.Time
	Token        string
	Request      map[string]any
	ClientID     string
	DeploymentID string
	Status       int
	Err          string
}

// Registrations lists the registration requests received.
func (p *Platform) Registrations() []RegistrationRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.registrations)
}

type regError struct {
	status     int
	code, desc string
}

func (e *regError) Error() string { return e.code + ": " + e.desc }

func (p *Platform) handleRegister(w http.ResponseWriter, r *http.Request) {
	if handled, _ := p.applyFault(w, r, ServiceRegister, false); handled {
		return
	}
	rec := RegistrationRecord{Time: p.now()}
	resp, err := p.register(r, &rec)
	if err != nil {
		var re *regError
		if !errors.As(err, &re) {
			re = &regError{http.StatusBadRequest, "invalid_client_metadata", err.Error()}
		}
		rec.Status, rec.Err = re.status, re.Error()
		p.recordRegistration(rec)
		writeJSON(w, re.status, "application/json", map[string]string{"error": re.code, "error_description": re.desc})
		return
	}
	rec.Status = http.StatusOK
	p.recordRegistration(rec)
	writeJSON(w, http.StatusOK, "application/json", resp)
}

func (p *Platform) recordRegistration(rec RegistrationRecord) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.registrations = append(p.registrations, rec)
}

func absURL(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
		return "", false
	}
	return s, true
}

func stringList(v any) ([]string, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for _, a := range arr {
		s, ok := a.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func (p *Platform) register(r *http.Request, rec *RegistrationRecord) (map[string]any, error) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		return nil, &regError{http.StatusUnauthorized, "missing_registration_token", "Authorization: Bearer <registration_token> required"}
	}
	rec.Token = tok
	p.mu.Lock()
	used, known := p.regTokens[tok]
	p.mu.Unlock()
	switch {
	case !known:
		return nil, &regError{http.StatusUnauthorized, "invalid_token", "unknown registration token"}
	case used:
		return nil, &regError{http.StatusUnauthorized, "token_already_used", "registration token already used"}
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, fmt.Errorf("Content-Type must be application/json, got %q", r.Header.Get("Content-Type"))
	}
	var body map[string]any
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 256<<10))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return nil, fmt.Errorf("registration JSON: %w", err)
	}
	rec.Request = body
	if v, ok := body["application_type"]; !ok || v != "web" {
		return nil, fmt.Errorf("application_type must be \"web\", got %v", v)
	}
	rts, ok := stringList(body["response_types"])
	if !ok || !slices.Contains(rts, "id_token") {
		return nil, errors.New("response_types must be an array containing id_token")
	}
	gts, ok := stringList(body["grant_types"])
	if !ok || !slices.Contains(gts, "implicit") || !slices.Contains(gts, "client_credentials") {
		return nil, errors.New("grant_types must contain implicit and client_credentials")
	}
	login, ok := absURL(body["initiate_login_uri"])
	if !ok {
		return nil, errors.New("initiate_login_uri must be an absolute http(s) URL")
	}
	redirects, ok := stringList(body["redirect_uris"])
	if !ok || len(redirects) == 0 {
		return nil, errors.New("redirect_uris must be a non-empty array of URLs")
	}
	for _, ru := range redirects {
		if _, ok := absURL(ru); !ok {
			return nil, fmt.Errorf("redirect_uris: %q is not an absolute http(s) URL", ru)
		}
	}
	jwks, ok := absURL(body["jwks_uri"])
	if !ok {
		return nil, errors.New("jwks_uri must be an absolute http(s) URL")
	}
	if body["token_endpoint_auth_method"] != "private_key_jwt" {
		return nil, fmt.Errorf("token_endpoint_auth_method must be private_key_jwt, got %v", body["token_endpoint_auth_method"])
	}
	name, _ := body["client_name"].(string)
	if name == "" {
		return nil, errors.New("client_name is required")
	}
	var scopes []string
	if v, ok := body["scope"]; ok {
		s, isStr := v.(string)
		if !isStr {
			return nil, errors.New("scope must be a space-separated string")
		}
		for _, sc := range strings.Fields(s) {
			if slices.Contains(p.scopesSupported(), sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	tc, ok := body[ltiToolConfigKey].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s object is required", ltiToolConfigKey)
	}
	domain, _ := tc["domain"].(string)
	if domain == "" {
		return nil, errors.New("tool configuration domain is required")
	}
	target, ok := absURL(tc["target_link_uri"])
	if !ok {
		return nil, errors.New("tool configuration target_link_uri must be an absolute http(s) URL")
	}
	domains := []string{domain}
	if sd, ok := tc["secondary_domains"]; ok {
		l, isList := stringList(sd)
		if !isList {
			return nil, errors.New("secondary_domains must be an array of strings")
		}
		domains = append(domains, l...)
	}
	if tu, _ := url.Parse(target); !slices.Contains(domains, tu.Host) && !slices.Contains(domains, tu.Hostname()) {
		return nil, fmt.Errorf("target_link_uri host %q is not the tool domain %q", tu.Host, domain)
	}
	if _, ok := stringList(tc["claims"]); !ok {
		return nil, errors.New("tool configuration claims must be an array of strings")
	}
	custom := map[string]string{}
	if v, ok := tc["custom_parameters"]; ok {
		cm, isObj := v.(map[string]any)
		if !isObj {
			return nil, errors.New("custom_parameters must be an object")
		}
		for k, val := range cm {
			s, isStr := val.(string)
			if !isStr {
				return nil, fmt.Errorf("custom_parameters.%s must be a string", k)
			}
			custom[k] = s
		}
	}
	msgs, ok := tc["messages"].([]any)
	if !ok {
		return nil, errors.New("tool configuration messages must be an array")
	}
	deepLinkURL := ""
	for i, m := range msgs {
		mm, isObj := m.(map[string]any)
		if !isObj {
			return nil, fmt.Errorf("messages[%d] must be an object", i)
		}
		typ, _ := mm["type"].(string)
		if typ != MessageResourceLink && typ != MessageDeepLinkingRequest {
			return nil, fmt.Errorf("messages[%d]: unsupported type %q", i, typ)
		}
		if v, ok := mm["target_link_uri"]; ok {
			u, isURL := absURL(v)
			if !isURL {
				return nil, fmt.Errorf("messages[%d].target_link_uri must be an absolute URL", i)
			}
			if typ == MessageDeepLinkingRequest {
				deepLinkURL = u
			}
		}
		if v, ok := mm["placements"]; ok {
			if _, isList := stringList(v); !isList {
				return nil, fmt.Errorf("messages[%d].placements must be an array of strings", i)
			}
		}
	}

	p.mu.Lock()
	if p.regTokens[tok] {
		p.mu.Unlock()
		return nil, &regError{http.StatusUnauthorized, "token_already_used", "registration token already used"}
	}
	p.regTokens[tok] = true
	clientID := p.nextIDLocked("client-") + "-" + randomID(6)
	deployment := p.nextIDLocked("deployment-")
	p.mu.Unlock()
	if scopes == nil {
		scopes = []string{}
	}
	if err := p.RegisterTool(ToolConfig{
		ClientID: clientID, DeploymentIDs: []string{deployment}, LoginURL: login, RedirectURIs: redirects,
		JWKSURL: jwks, TargetLinkURI: target, DeepLinkURL: deepLinkURL, Scopes: scopes, Custom: custom, Name: name,
	}); err != nil {
		return nil, err
	}
	rec.ClientID, rec.DeploymentID = clientID, deployment
	resp := maps.Clone(body)
	resp["client_id"] = clientID
	resp["scope"] = strings.Join(scopes, " ")
	rtc := maps.Clone(tc)
	rtc["deployment_id"] = deployment
	resp[ltiToolConfigKey] = rtc
	return resp, nil
}

// CloseMessage is an org.imsglobal.lti.close postMessage seen by the
// registration host page.
type CloseMessage struct {
	Time   time.Time
	Origin string
	Data   map[string]any
}

// CloseMessages lists the close messages the registration host received.
func (p *Platform) CloseMessages() []CloseMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.closeMessages)
}

// RegisterHostURL returns the URL of the page that holds the tool's
// registration URL in an iframe and records the close message.
func (p *Platform) RegisterHostURL(toolRegistrationURL string) string {
	return p.BaseURL() + "/register-host?url=" + url.QueryEscape(toolRegistrationURL)
}

func (p *Platform) handleRegisterHost(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("url")
	u, err := url.Parse(target)
	if err != nil || target == "" {
		p.errorPage(w, http.StatusBadRequest, "Bad registration URL", "url parameter required")
		return
	}
	if u.Query().Get("openid_configuration") == "" {
		if target, err = p.StartRegistration(target); err != nil {
			p.errorPage(w, http.StatusBadRequest, "Bad registration URL", err.Error())
			return
		}
	}
	p.render(w, http.StatusOK, "registerhost", struct{ Src, Closed string }{target, "/register-host/closed"})
}

func (p *Platform) handleRegisterClosed(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Origin string         `json:"origin"`
		Data   map[string]any `json:"data"`
	}
	b := new(bytes.Buffer)
	if _, err := b.ReadFrom(http.MaxBytesReader(w, r.Body, 64<<10)); err != nil || json.Unmarshal(b.Bytes(), &m) != nil {
		http.Error(w, "bad close record", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.closeMessages = append(p.closeMessages, CloseMessage{Time: p.now(), Origin: m.Origin, Data: m.Data})
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
