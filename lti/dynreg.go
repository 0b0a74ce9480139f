package lti

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// LTI Dynamic Registration 1.0: the tool's half. The tool fetches the platform's OpenID configuration
// (FetchPlatformConfiguration), checks it (PlatformConfiguration.Check), and posts a client registration
// (Register). Storage and pages are the caller's.

// Dynamic registration failure codes.
const (
	CodeDRConfigURL       Code = "dr_openid_configuration_url_invalid"
	CodeDRConfigFetch     Code = "dr_openid_configuration_unreachable"
	CodeDRConfigInvalid   Code = "dr_openid_configuration_invalid"
	CodeDRIssuerMismatch  Code = "dr_issuer_mismatch"
	CodeDRUnsupported     Code = "dr_platform_unsupported"
	CodeDRRejected        Code = "dr_registration_rejected"
	CodeDRResponseInvalid Code = "dr_registration_response_invalid"
)

// Claim and configuration keys of dynamic registration.
const (
	ToolConfigurationKey     = "https://purl.imsglobal.org/spec/lti-tool-configuration"
	PlatformConfigurationKey = "https://purl.imsglobal.org/spec/lti-platform-configuration"
)

// ToolScopes are the service scopes ltipub asks for: AGS (line items, results, scores) and NRPS (memberships).
var ToolScopes = []string{
	"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
	"https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
	"https://purl.imsglobal.org/spec/lti-ags/scope/score",
	"https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
}

// PlatformConfiguration is a platform's OpenID configuration, as far as dynamic registration reads it.
type PlatformConfiguration struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	RegistrationEndpoint                       string   `json:"registration_endpoint"`
	AuthorizationServer                        string   `json:"authorization_server,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ClaimsSupported                            []string `json:"claims_supported,omitempty"`

	LTI PlatformLTIConfiguration `json:"https://purl.imsglobal.org/spec/lti-platform-configuration"`
}

// PlatformLTIConfiguration is the LTI part of the platform configuration.
type PlatformLTIConfiguration struct {
	ProductFamilyCode string             `json:"product_family_code"`
	Version           string             `json:"version"`
	MessagesSupported []SupportedMessage `json:"messages_supported"`
	Variables         []string           `json:"variables,omitempty"`
}

// SupportedMessage is one message type the platform supports, with its placements.
type SupportedMessage struct {
	Type       string   `json:"type"`
	Placements []string `json:"placements,omitempty"`
}

// UnmarshalJSON accepts both shapes of messages_supported: the spec's objects, and Moodle's plain strings (with
// its placements at the top level of the LTI configuration).
func (c *PlatformLTIConfiguration) UnmarshalJSON(b []byte) error {
	var raw struct {
		ProductFamilyCode string            `json:"product_family_code"`
		Version           string            `json:"version"`
		MessagesSupported []json.RawMessage `json:"messages_supported"`
		Variables         []string          `json:"variables"`
		Placements        []string          `json:"placements"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	c.ProductFamilyCode, c.Version, c.Variables = raw.ProductFamilyCode, raw.Version, raw.Variables
	c.MessagesSupported = nil
	for _, m := range raw.MessagesSupported {
		var s string
		if err := json.Unmarshal(m, &s); err == nil {
			c.MessagesSupported = append(c.MessagesSupported, SupportedMessage{Type: s, Placements: raw.Placements})
			continue
		}
		var sm SupportedMessage
		if err := json.Unmarshal(m, &sm); err != nil {
			return fmt.Errorf("messages_supported: %w", err)
		}
		c.MessagesSupported = append(c.MessagesSupported, sm)
	}
	return nil
}

// SupportsMessage reports whether the platform lists the message type. A platform that lists none is taken to
// support the core launch only.
func (c *PlatformConfiguration) SupportsMessage(typ string) bool {
	if len(c.LTI.MessagesSupported) == 0 {
		return typ == string(MessageResourceLinkRequest)
	}
	return slices.ContainsFunc(c.LTI.MessagesSupported, func(m SupportedMessage) bool { return m.Type == typ })
}

// maxConfigBytes bounds the configuration and registration documents.
const maxConfigBytes = 256 << 10

// FetchPlatformConfiguration GETs the platform's OpenID configuration with client (the guarded client: it
// enforces timeouts, size limits and the address guard) and decodes it. It does not check the contents: call
// Check.
func FetchPlatformConfiguration(ctx context.Context, client *http.Client, configURL string, allowHTTP bool) (*PlatformConfiguration, error) {
	if err := checkURL(configURL, allowHTTP); err != nil {
		return nil, &Error{Code: CodeDRConfigURL, Err: err,
			Description: fmt.Sprintf("the openid_configuration URL %q is not usable: %v", configURL, err),
			Fix:         "start the registration again from the platform; it must send an absolute https openid_configuration URL"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, configURL, nil)
	if err != nil {
		return nil, &Error{Code: CodeDRConfigURL, Err: err, Description: fmt.Sprintf("the openid_configuration URL %q is not usable", configURL),
			Fix: "start the registration again from the platform"}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, &Error{Code: CodeDRConfigFetch, Err: err,
			Description: fmt.Sprintf("the platform's OpenID configuration at %s could not be fetched: %s", configURL, publicNetCause(err)),
			Fix:         "check that the platform is reachable from the tool's server (DNS, firewall, TLS certificate), then start the registration again"}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxConfigBytes+1))
	if err != nil {
		return nil, &Error{Code: CodeDRConfigFetch, Err: err,
			Description: fmt.Sprintf("the platform's OpenID configuration at %s could not be read: %s", configURL, publicNetCause(err)),
			Fix:         "start the registration again; if it keeps failing, ask the platform administrator"}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &Error{Code: CodeDRConfigFetch,
			Description: fmt.Sprintf("the platform's OpenID configuration at %s answered HTTP %d%s", configURL, resp.StatusCode, bodyExcerpt(body)),
			Fix:         "start the registration again from the platform (its link may have expired); if it keeps failing, ask the platform administrator"}
	}
	if len(body) > maxConfigBytes {
		return nil, &Error{Code: CodeDRConfigInvalid, Description: "the platform's OpenID configuration is larger than 256 KiB",
			Fix: "ask the platform administrator; a configuration document is a few kilobytes"}
	}
	var cfg PlatformConfiguration
	if err := json.Unmarshal(body, &cfg); err != nil {
		return nil, &Error{Code: CodeDRConfigInvalid, Err: err,
			Description: fmt.Sprintf("the platform's OpenID configuration at %s is not valid JSON: %v", configURL, err),
			Fix:         "check that the openid_configuration URL is the platform's configuration endpoint"}
	}
	return &cfg, nil
}

// Check verifies that the configuration fetched from configURL names a consistent issuer and offers what ltipub
// needs: the endpoints, id_token responses, RS256 and private_key_jwt. allowHTTP accepts http URLs
// (development).
//
// The issuer must have the configuration URL's origin (the spec wants it to be a prefix; Moodle's is its
// wwwroot and the configuration lives under it). Hosted Canvas is the documented exception: every instance uses
// the issuer https://canvas.instructure.com (or its beta and test twins) while serving the configuration on
// the school's own *.instructure.com host.
func (c *PlatformConfiguration) Check(configURL string, allowHTTP bool) error {
	invalid := func(format string, args ...any) error {
		return &Error{Code: CodeDRConfigInvalid, Description: "the platform's OpenID configuration " + fmt.Sprintf(format, args...),
			Fix: "ask the platform administrator: LTI Dynamic Registration needs a complete configuration"}
	}
	for _, f := range []struct{ name, value string }{
		{"issuer", c.Issuer}, {"authorization_endpoint", c.AuthorizationEndpoint}, {"token_endpoint", c.TokenEndpoint},
		{"jwks_uri", c.JWKSURI}, {"registration_endpoint", c.RegistrationEndpoint},
	} {
		if f.value == "" {
			return invalid("has no %s", f.name)
		}
		if err := checkURL(f.value, allowHTTP); err != nil {
			return invalid("has an unusable %s %q: %v", f.name, f.value, err)
		}
	}
	if u, _ := url.Parse(c.Issuer); u.RawQuery != "" || u.Fragment != "" {
		return invalid("has an issuer with a query or fragment (%q)", c.Issuer)
	}
	if !issuerConsistent(c.Issuer, configURL, c.LTI.ProductFamilyCode) {
		return &Error{Code: CodeDRIssuerMismatch,
			Description: fmt.Sprintf("the platform's configuration names issuer %q, which does not match where it was fetched from (%s)", c.Issuer, configURL),
			Fix:         "start the registration from the platform whose issuer this is; a configuration must come from its issuer's own site"}
	}
	unsupported := func(what string) error {
		return &Error{Code: CodeDRUnsupported, Description: "the platform does not support " + what + ", which ltipub needs",
			Fix: "use manual registration, or ask the platform administrator to enable LTI 1.3 Advantage with " + what}
	}
	if len(c.ResponseTypesSupported) > 0 && !slices.Contains(c.ResponseTypesSupported, "id_token") {
		return unsupported("the id_token response type")
	}
	if len(c.IDTokenSigningAlgValuesSupported) > 0 && !slices.Contains(c.IDTokenSigningAlgValuesSupported, "RS256") {
		return unsupported("RS256-signed id_tokens")
	}
	if len(c.TokenEndpointAuthMethodsSupported) > 0 && !slices.Contains(c.TokenEndpointAuthMethodsSupported, "private_key_jwt") {
		return unsupported("private_key_jwt client authentication")
	}
	if len(c.TokenEndpointAuthSigningAlgValuesSupported) > 0 && !slices.Contains(c.TokenEndpointAuthSigningAlgValuesSupported, "RS256") {
		return unsupported("RS256 client assertions")
	}
	if !c.SupportsMessage(string(MessageResourceLinkRequest)) {
		return unsupported("LtiResourceLinkRequest launches")
	}
	return nil
}

var hostedCanvasIssuers = []string{"https://canvas.instructure.com", "https://canvas.beta.instructure.com", "https://canvas.test.instructure.com"}

func issuerConsistent(issuer, configURL, family string) bool {
	iu, err1 := url.Parse(issuer)
	cu, err2 := url.Parse(configURL)
	if err1 != nil || err2 != nil {
		return false
	}
	if strings.EqualFold(iu.Scheme, cu.Scheme) && strings.EqualFold(iu.Host, cu.Host) {
		// Same origin; when the issuer has a path (a platform under a sub-folder), the configuration lives under it.
		p := strings.TrimSuffix(iu.Path, "/")
		return p == "" || cu.Path == p || strings.HasPrefix(cu.Path, p+"/")
	}
	return strings.EqualFold(family, "canvas") && slices.Contains(hostedCanvasIssuers, strings.TrimSuffix(issuer, "/")) &&
		cu.Scheme == "https" && strings.HasSuffix(strings.ToLower(cu.Hostname()), ".instructure.com")
}

// checkURL accepts an absolute https URL (http too when allowHTTP) without a fragment.
func checkURL(s string, allowHTTP bool) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme == "" || u.Host == "":
		return errors.New("not an absolute URL")
	case u.Scheme != "https" && !(allowHTTP && u.Scheme == "http"):
		return errors.New("not https")
	case u.Fragment != "":
		return errors.New("has a fragment")
	case NonCanonicalIPv4(u.Hostname()):
		return fmt.Errorf("its host %q is an IPv4 address in an unusual spelling; use a host name or four decimal numbers", u.Hostname())
	}
	return nil
}

// ToolRegistration is what a tool tells the platform about itself.
type ToolRegistration struct {
	Name          string
	LogoURL       string
	LoginURL      string // initiate_login_uri
	LaunchURL     string // the resource link target and redirect URI
	DeepLinkURL   string // the deep linking target and redirect URI
	JWKSURL       string
	Description   string
	Claims        []string
	Scopes        []string
	CustomParams  map[string]string
	DeepLinkLabel string

	// OptionalScopes are asked for only when the platform lists them in scopes_supported (a platform that lists
	// none gets Scopes only): services not every platform has, such as ScopeNoticeHandlers.
	OptionalScopes []string
}

// ClientRegistration is the body of the registration request (RFC 7591 plus the LTI tool configuration).
type ClientRegistration struct {
	ApplicationType         string            `json:"application_type"`
	ResponseTypes           []string          `json:"response_types"`
	GrantTypes              []string          `json:"grant_types"`
	InitiateLoginURI        string            `json:"initiate_login_uri"`
	RedirectURIs            []string          `json:"redirect_uris"`
	ClientName              string            `json:"client_name"`
	JWKSURI                 string            `json:"jwks_uri"`
	LogoURI                 string            `json:"logo_uri,omitempty"`
	TokenEndpointAuthMethod string            `json:"token_endpoint_auth_method"`
	Scope                   string            `json:"scope"`
	ToolConfiguration       ToolConfiguration `json:"https://purl.imsglobal.org/spec/lti-tool-configuration"`
}

// ToolConfiguration is the LTI part of the client registration.
type ToolConfiguration struct {
	Domain           string            `json:"domain"`
	TargetLinkURI    string            `json:"target_link_uri"`
	Description      string            `json:"description,omitempty"`
	CustomParameters map[string]string `json:"custom_parameters"`
	Claims           []string          `json:"claims"`
	Messages         []ToolMessage     `json:"messages"`
	DeploymentID     string            `json:"deployment_id,omitempty"`
}

// ToolMessage is one message the tool accepts.
type ToolMessage struct {
	Type          string   `json:"type"`
	TargetLinkURI string   `json:"target_link_uri,omitempty"`
	Label         string   `json:"label,omitempty"`
	Placements    []string `json:"placements,omitempty"`
}

// ClientRegistration builds the registration request for the platform configured by c: the scopes are those the
// platform supports (all of t.Scopes when it lists none), and deep linking is offered with the placements the
// platform names for it.
func (c *PlatformConfiguration) ClientRegistration(t ToolRegistration) (ClientRegistration, error) {
	lu, err := url.Parse(t.LaunchURL)
	if err != nil || lu.Host == "" {
		return ClientRegistration{}, fmt.Errorf("tool launch URL %q is not absolute", t.LaunchURL)
	}
	var scopes []string
	for _, s := range t.Scopes {
		if len(c.ScopesSupported) == 0 || slices.Contains(c.ScopesSupported, s) {
			scopes = append(scopes, s)
		}
	}
	for _, s := range t.OptionalScopes {
		if slices.Contains(c.ScopesSupported, s) && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	custom := t.CustomParams
	if custom == nil {
		custom = map[string]string{} // an object, never null: Moodle and others insist
	}
	msgs := []ToolMessage{{Type: string(MessageResourceLinkRequest), TargetLinkURI: t.LaunchURL}}
	if t.DeepLinkURL != "" && c.SupportsMessage(string(MessageDeepLinkingRequest)) {
		placements := []string{"ContentArea"}
		for _, m := range c.LTI.MessagesSupported {
			if m.Type == string(MessageDeepLinkingRequest) && len(m.Placements) > 0 {
				placements = m.Placements
			}
		}
		label := t.DeepLinkLabel
		if label == "" {
			label = t.Name
		}
		msgs = append(msgs, ToolMessage{Type: string(MessageDeepLinkingRequest), TargetLinkURI: t.DeepLinkURL, Label: label, Placements: placements})
	}
	if c.SupportsMessage(string(MessageSubmissionReview)) {
		// Reviews go to the launch URL, as the line items' submissionReview leaves url empty.
		msgs = append(msgs, ToolMessage{Type: string(MessageSubmissionReview), TargetLinkURI: t.LaunchURL})
	}
	redirects := []string{t.LaunchURL}
	if t.DeepLinkURL != "" {
		redirects = append(redirects, t.DeepLinkURL)
	}
	return ClientRegistration{
		ApplicationType: "web", ResponseTypes: []string{"id_token"}, GrantTypes: []string{"implicit", "client_credentials"},
		InitiateLoginURI: t.LoginURL, RedirectURIs: redirects, ClientName: t.Name, JWKSURI: t.JWKSURL, LogoURI: t.LogoURL,
		TokenEndpointAuthMethod: "private_key_jwt", Scope: strings.Join(scopes, " "),
		ToolConfiguration: ToolConfiguration{Domain: lu.Host, TargetLinkURI: t.LaunchURL, Description: t.Description,
			CustomParameters: custom, Claims: t.Claims, Messages: msgs},
	}, nil
}

// RegistrationResult is what the platform answered: the client ID it assigned and, when it says, the
// deployment ID.
type RegistrationResult struct {
	ClientID     string
	DeploymentID string
	Scope        string
}

// Register POSTs reg to the platform's registration endpoint with the registration token (when the platform gave
// one) as bearer, and reads the client ID and deployment ID it assigns. A refusal carries the platform's status
// and error body in its description.
func Register(ctx context.Context, client *http.Client, endpoint, registrationToken string, reg ClientRegistration) (*RegistrationResult, error) {
	body, err := json.Marshal(reg)
	if err != nil {
		return nil, fmt.Errorf("encode client registration: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, &Error{Code: CodeDRConfigInvalid, Err: err, Description: fmt.Sprintf("the registration endpoint %q is not usable", endpoint),
			Fix: "ask the platform administrator to check its OpenID configuration"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if registrationToken != "" {
		req.Header.Set("Authorization", "Bearer "+registrationToken)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &Error{Code: CodeDRRejected, Err: err,
			Description: fmt.Sprintf("the platform's registration endpoint %s could not be reached: %s", endpoint, publicNetCause(err)),
			Fix:         "check that the platform is reachable from the tool's server, then start the registration again from the platform"}
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, maxConfigBytes+1))
	if err != nil {
		return nil, &Error{Code: CodeDRRejected, Err: err, Description: fmt.Sprintf("the platform's registration answer could not be read: %s", publicNetCause(err)),
			Fix: "start the registration again from the platform"}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &Error{Code: CodeDRRejected,
			Description: fmt.Sprintf("the platform refused the registration with HTTP %d%s", resp.StatusCode, bodyExcerpt(rb)),
			Fix:         "read the platform's message; registration tokens are single-use, so start the registration again from the platform after fixing the cause"}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil, &Error{Code: CodeDRResponseInvalid, Description: fmt.Sprintf("the platform answered the registration with %s instead of JSON%s", mt, bodyExcerpt(rb)),
			Fix: "ask the platform administrator; the registration endpoint must answer application/json"}
	}
	// Decode loosely: Moodle answers application_type as an array, and other fields vary.
	var out struct {
		ClientID json.RawMessage `json:"client_id"`
		Scope    any             `json:"scope"`
		Tool     struct {
			DeploymentID json.RawMessage `json:"deployment_id"`
		} `json:"https://purl.imsglobal.org/spec/lti-tool-configuration"`
	}
	if err := json.Unmarshal(rb, &out); err != nil {
		return nil, &Error{Code: CodeDRResponseInvalid, Err: err, Description: fmt.Sprintf("the platform's registration answer is not valid JSON: %v", err),
			Fix: "ask the platform administrator"}
	}
	res := &RegistrationResult{ClientID: scalarString(out.ClientID), DeploymentID: scalarString(out.Tool.DeploymentID)}
	if s, ok := out.Scope.(string); ok {
		res.Scope = s
	}
	if res.ClientID == "" {
		return nil, &Error{Code: CodeDRResponseInvalid, Description: "the platform's registration answer has no client_id",
			Fix: "ask the platform administrator; without a client ID the tool cannot recognise the platform's launches"}
	}
	return res, nil
}

// scalarString reads a JSON string or number (some platforms send numeric IDs) as a string.
func scalarString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// bodyExcerpt quotes a short, printable part of an error body for a person to read.
func bodyExcerpt(b []byte) string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
	if s == "" {
		return ""
	}
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return ": " + s
}
