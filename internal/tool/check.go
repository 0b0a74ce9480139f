package tool

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ltipub/ltipub/lti"
)

// CheckStore keeps registration checks: the only thing a check writes.
type CheckStore interface {
	SaveRegistrationCheck(ctx context.Context, c *CheckReport) error
	// LatestRegistrationCheck returns store.ErrNotFound when the registration was never checked.
	LatestRegistrationCheck(ctx context.Context, registrationID int64) (CheckReport, error)
}

// Step outcomes.
const (
	CheckPassed  = "passed"
	CheckFailed  = "failed"
	CheckSkipped = "skipped"
)

// CheckStep is one thing "Check this registration" tried, with what it found and, when it failed, the fix.
type CheckStep struct {
	Code   string `json:"code"` // stable: platform_details, jwks_fetch, jwks_keys, jwks_algorithms, openid_configuration, token:<scope>, tool_https, tool_reachable
	Name   string `json:"name"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"`
}

// CheckReport is the outcome of one registration check.
type CheckReport struct {
	ID             int64       `json:"id"`
	RegistrationID int64       `json:"registration_id"`
	CheckedAt      time.Time   `json:"checked_at"`
	CheckedBy      string      `json:"checked_by"`
	Steps          []CheckStep `json:"steps"`
}

// Passed reports whether no step failed.
func (c CheckReport) Passed() bool {
	return !slices.ContainsFunc(c.Steps, func(s CheckStep) bool { return s.Status == CheckFailed })
}

// Step returns the step with code, or a zero step.
func (c CheckReport) Step(code string) CheckStep {
	for _, s := range c.Steps {
		if s.Code == code {
			return s
		}
	}
	return CheckStep{}
}

// scopeNames names the service scopes for people.
var scopeNames = map[string]string{
	"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem":                    "line items (grades: columns)",
	"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly":           "line items, read only",
	"https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly":             "results (grades: reading)",
	"https://purl.imsglobal.org/spec/lti-ags/scope/score":                       "scores (grades: sending)",
	"https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly": "memberships (rosters)",
}

func scopeName(scope string) string {
	if n := scopeNames[scope]; n != "" {
		return n
	}
	return scope
}

// checkTimeout bounds each request of a check, so that one dead URL cannot hold the admin's page for long.
const checkTimeout = 10 * time.Second

// Check runs every step ltipub can test on its own for registration id and records the report (nothing else is
// written: service tokens obtained are dropped, not cached). by names who asked (a username, or "cli").
func (s *Service) Check(ctx context.Context, id int64, by string) (CheckReport, error) {
	if s.Checks == nil || s.SigningKey == nil {
		return CheckReport{}, errors.New("tool: registration checks need Service.Checks and Service.SigningKey")
	}
	reg, err := s.Store.Registration(ctx, id)
	if err != nil {
		return CheckReport{}, err
	}
	rep := CheckReport{RegistrationID: reg.ID, CheckedAt: s.now(), CheckedBy: by}
	add := func(st CheckStep) { rep.Steps = append(rep.Steps, st) }

	add(checkDetails(reg))
	if reg.JWKSURL != "" {
		for _, st := range s.checkJWKS(ctx, reg.JWKSURL) {
			add(st)
		}
	}
	add(s.checkOpenIDConfiguration(ctx, reg))
	if reg.TokenURL != "" && reg.ClientID != "" {
		refused := ""
		for _, scope := range lti.ToolScopes {
			if refused != "" {
				// The endpoint refused the assertion itself, not a scope: asking again per scope only repeats it.
				add(CheckStep{Code: "token:" + scope, Name: "Service token: " + scopeName(scope), Status: CheckSkipped,
					Detail: "Not tried: the token endpoint refused ltipub's assertion itself (see " + refused + ")."})
				continue
			}
			st := s.checkToken(ctx, reg, scope)
			add(st)
			if st.Status == CheckFailed && !strings.Contains(st.Detail, "invalid_scope") {
				refused = st.Name
			}
		}
	} else {
		add(CheckStep{Code: "token", Name: "Service token request", Status: CheckSkipped,
			Detail: "The registration has no access token URL or client ID yet.", Fix: "Fill in Platform details first."})
	}
	for _, st := range s.checkToolURLs(ctx) {
		add(st)
	}
	if err := s.Checks.SaveRegistrationCheck(ctx, &rep); err != nil {
		return CheckReport{}, fmt.Errorf("record the check of registration %d: %w", id, err)
	}
	return rep, nil
}

// LatestCheck returns the registration's last check; store.ErrNotFound when there is none.
func (s *Service) LatestCheck(ctx context.Context, id int64) (CheckReport, error) {
	if s.Checks == nil {
		return CheckReport{}, errors.New("tool: Service.Checks is not set")
	}
	return s.Checks.LatestRegistrationCheck(ctx, id)
}

func checkDetails(reg Registration) CheckStep {
	st := CheckStep{Code: "platform_details", Name: "Platform details and deployments"}
	var missing []string
	for _, f := range []struct{ label, v string }{{"Platform ID (issuer)", reg.Issuer}, {"Client ID", reg.ClientID},
		{"Public keyset URL", reg.JWKSURL}, {"Access token URL", reg.TokenURL}, {"Authentication request URL", reg.AuthURL}} {
		if f.v == "" {
			missing = append(missing, f.label)
		}
	}
	switch {
	case len(missing) > 0:
		st.Status, st.Detail = CheckFailed, "Missing: "+strings.Join(missing, ", ")+"."
		st.Fix = "Copy them from the platform's page for the tool into Platform details (Moodle: View configuration details), or register dynamically."
	case len(reg.Deployments) == 0:
		st.Status, st.Detail = CheckFailed, "No deployment ID: every launch would be refused as coming from an unknown deployment."
		st.Fix = "Add the deployment ID the platform shows for the tool under Deployments."
	default:
		st.Status = CheckPassed
		st.Detail = fmt.Sprintf("Issuer %s, client ID %s, %d deployment(s).", reg.Issuer, reg.ClientID, len(reg.Deployments))
	}
	return st
}

// get fetches u with the guarded client, within checkTimeout, and reads at most max bytes.
func (s *Service) get(ctx context.Context, hc *http.Client, u string, max int64) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json, */*;q=0.5")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, max))
	return resp, b, err
}

func (s *Service) checkJWKS(ctx context.Context, jwksURL string) []CheckStep {
	fetch := CheckStep{Code: "jwks_fetch", Name: "Platform keyset: reachable"}
	fixURL := "Copy the Public keyset URL again from the platform into Platform details; it must be reachable from this server " +
		"(a firewall or proxy in between shows up here too)."
	resp, body, err := s.get(ctx, s.HTTP, jwksURL, 1<<20)
	switch {
	case err != nil:
		fetch.Status, fetch.Detail, fetch.Fix = CheckFailed, "ltipub could not fetch "+jwksURL+": "+err.Error()+".", fixURL
		return []CheckStep{fetch}
	case resp.StatusCode != http.StatusOK:
		fetch.Status, fetch.Detail, fetch.Fix = CheckFailed, fmt.Sprintf("%s answered HTTP %d.", jwksURL, resp.StatusCode), fixURL
		return []CheckStep{fetch}
	}
	fetch.Status, fetch.Detail = CheckPassed, fmt.Sprintf("%s answered HTTP 200 (%d bytes).", jwksURL, len(body))

	usable := CheckStep{Code: "jwks_keys", Name: "Platform keyset: keys usable"}
	keys, err := lti.ParseJWKS(body)
	if err != nil {
		usable.Status, usable.Detail = CheckFailed, "The answer is not a JSON Web Key Set: "+err.Error()+"."
		usable.Fix = "The Public keyset URL points at something else than the platform's keyset. " + fixURL
		return []CheckStep{fetch, usable}
	}
	var good, weak []string
	for kid, k := range keys {
		switch pk := k.Key.(type) {
		case *rsa.PublicKey:
			if pk.N.BitLen() < 2048 {
				weak = append(weak, fmt.Sprintf("%s (RSA %d bits)", kid, pk.N.BitLen()))
				continue
			}
			good = append(good, fmt.Sprintf("%s (RSA %d)", kid, pk.N.BitLen()))
		case *ecdsa.PublicKey:
			good = append(good, fmt.Sprintf("%s (EC %s)", kid, pk.Curve.Params().Name))
		}
	}
	sort.Strings(good)
	sort.Strings(weak)
	if len(good) == 0 {
		usable.Status = CheckFailed
		usable.Detail = "The keyset holds no usable signing key: ltipub needs RSA (2048 bits or more) or EC keys with a kid and use \"sig\"."
		if len(weak) > 0 {
			usable.Detail += " Too weak: " + strings.Join(weak, ", ") + "."
		}
		usable.Fix = "Check the Public keyset URL is the platform's LTI keyset (Moodle: /mod/lti/certs.php); if it is, the platform's " +
			"LTI key needs regenerating by its admin."
		return []CheckStep{fetch, usable}
	}
	usable.Status, usable.Detail = CheckPassed, "Usable keys: "+strings.Join(good, ", ")+"."
	if len(weak) > 0 {
		usable.Detail += " Ignored as too weak: " + strings.Join(weak, ", ") + "."
	}

	algs := CheckStep{Code: "jwks_algorithms", Name: "Platform keyset: algorithms"}
	allowed := []string{"RS256", "RS384", "RS512", "ES256", "ES384"}
	var declared, refused []string
	rs256 := false
	for kid, k := range keys {
		_, isRSA := k.Key.(*rsa.PublicKey)
		switch {
		case k.Alg == "" && isRSA:
			rs256 = true
			declared = append(declared, kid+": any RSA algorithm")
		case slices.Contains(allowed, k.Alg):
			rs256 = rs256 || k.Alg == "RS256"
			declared = append(declared, kid+": "+k.Alg)
		case k.Alg != "":
			refused = append(refused, kid+": "+k.Alg)
		default:
			declared = append(declared, kid+": any EC algorithm")
		}
	}
	sort.Strings(declared)
	sort.Strings(refused)
	switch {
	case !rs256:
		algs.Status = CheckFailed
		algs.Detail = "No key is usable with RS256, the algorithm LTI requires platforms to support (" + strings.Join(append(declared, refused...), ", ") + ")."
		algs.Fix = "Platforms sign LTI messages with RS256: the keyset URL is probably not the platform's LTI keyset. " + fixURL
	default:
		algs.Status, algs.Detail = CheckPassed, strings.Join(declared, ", ")+"."
		if len(refused) > 0 {
			algs.Detail += " Not accepted by ltipub: " + strings.Join(refused, ", ") + "."
		}
	}
	return []CheckStep{fetch, usable, algs}
}

// checkOpenIDConfiguration compares the platform's published configuration with the registration, when the
// platform publishes one where ltipub can find it (the issuer's /.well-known/openid-configuration). Moodle keeps
// its configuration behind the registration token, so for it, as for manual registrations elsewhere, the step
// is skipped rather than failed: nothing is wrong.
func (s *Service) checkOpenIDConfiguration(ctx context.Context, reg Registration) CheckStep {
	st := CheckStep{Code: "openid_configuration", Name: "Platform OpenID configuration"}
	if reg.Issuer == "" {
		st.Status, st.Detail = CheckSkipped, "No issuer yet."
		return st
	}
	u := strings.TrimSuffix(reg.Issuer, "/") + "/.well-known/openid-configuration"
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	cfg, err := lti.FetchPlatformConfiguration(ctx, s.HTTP, u, s.AllowPrivateURLs)
	if err != nil {
		st.Status = CheckSkipped
		st.Detail = "The platform publishes no OpenID configuration at " + u + " (many do not outside dynamic registration): nothing to compare."
		return st
	}
	var diffs []string
	cmp := func(label, published, ours string) {
		if published != "" && ours != "" && published != ours {
			diffs = append(diffs, fmt.Sprintf("%s is %s at the platform, %s here", label, published, ours))
		}
	}
	cmp("the issuer", cfg.Issuer, reg.Issuer)
	cmp("the public keyset URL", cfg.JWKSURI, reg.JWKSURL)
	cmp("the access token URL", cfg.TokenEndpoint, reg.TokenURL)
	cmp("the authentication request URL", cfg.AuthorizationEndpoint, reg.AuthURL)
	if len(diffs) > 0 {
		st.Status, st.Detail = CheckFailed, "The platform's configuration ("+u+") differs: "+strings.Join(diffs, "; ")+"."
		st.Fix = "Update Platform details with the platform's values."
		return st
	}
	st.Status, st.Detail = CheckPassed, "Published at "+u+"; it agrees with Platform details."
	return st
}

// checkToken asks the token endpoint for a token with one scope: the check that the platform accepts ltipub's
// signed assertion (the most common misconfiguration) and grants the service. The token is not kept.
func (s *Service) checkToken(ctx context.Context, reg Registration, scope string) CheckStep {
	st := CheckStep{Code: "token:" + scope, Name: "Service token: " + scopeName(scope)}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	cr := lti.ServiceCredentials{ClientID: reg.ClientID, TokenURL: reg.TokenURL, Audience: reg.TokenAudience, Key: s.SigningKey}
	tok, err := lti.RequestServiceToken(ctx, s.HTTP, cr, []string{scope}, s.now(), 0)
	if err == nil {
		st.Status = CheckPassed
		st.Detail = "The token endpoint accepted ltipub's signed assertion and granted " + scope + "."
		if len(tok.Scopes) > 0 && !slices.Contains(tok.Scopes, scope) {
			st.Status = CheckFailed
			st.Detail = "The token endpoint issued a token without " + scope + " (granted: " + strings.Join(tok.Scopes, " ") + ")."
			st.Fix = serviceFix(scope)
		}
		return st
	}
	st.Status = CheckFailed
	var se *lti.ServiceError
	msg := err.Error()
	if errors.As(err, &se) {
		msg = se.Message
		if se.Status != 0 {
			msg = fmt.Sprintf("HTTP %d: %s", se.Status, se.Message)
		}
	}
	st.Detail = "The token endpoint (" + reg.TokenURL + ") refused: " + msg + "."
	low := strings.ToLower(msg)
	jwks := strings.TrimSuffix(s.BaseURL, "/") + "/lti/jwks"
	aud := reg.TokenAudience
	if aud == "" {
		aud = reg.TokenURL
	}
	switch {
	case se == nil || se.Status == 0 || se.Status >= 500 || se.Status == http.StatusTooManyRequests:
		st.Fix = "The token endpoint did not answer properly. Check the Access token URL in Platform details, and that the platform is up and reachable from this server."
	case strings.Contains(low, "invalid_scope"):
		st.Fix = serviceFix(scope)
	case strings.Contains(low, "unknown client") || strings.Contains(low, "client_id") || strings.Contains(low, "client not found") ||
		strings.Contains(low, "no client"):
		st.Fix = "The platform does not know client ID " + reg.ClientID + ": copy the Client ID again from the platform's page for the tool into Platform details."
	case strings.Contains(low, "signature") || strings.Contains(low, "jwks") || strings.Contains(low, "key"):
		st.Fix = "The platform cannot verify ltipub's signature: set the tool's public keyset (Moodle: Public keyset; Canvas: Public JWK URL) to " + jwks +
			" at the platform, with Public key type \"Keyset URL\"."
	case strings.Contains(low, "aud"):
		st.Fix = "The platform wants another audience than " + aud + " in ltipub's assertion: set Token audience in Platform details to the value the platform shows (Brightspace: Brightspace OAuth2 Audience)."
	default:
		st.Fix = "The platform refused ltipub's signed assertion. In the order they usually go wrong: the Client ID in Platform details, " +
			"the tool's keyset URL at the platform (" + jwks + "), the Access token URL, the Token audience (" + aud + ")."
	}
	return st
}

func serviceFix(scope string) string {
	if strings.Contains(scope, "nrps") {
		return "Turn on the roster service for the tool at the platform (Moodle: IMS LTI Names and Role Provisioning = \"Use this service to retrieve members' information as per privacy settings\"; " +
			"see the platform's guide on Tool details)."
	}
	return "Turn on the grade service for the tool at the platform (Moodle: IMS LTI Assignment and Grade Services = \"Use this service for grade sync and column management\"; " +
		"Canvas: the developer key's LTI Advantage scopes; see the platform's guide on Tool details)."
}

// checkToolURLs checks ltipub's own URLs as a platform will use them: https, and answering through the public
// base URL (fetched from this server, so a firewall in front of it that blocks the platform is not seen).
func (s *Service) checkToolURLs(ctx context.Context) []CheckStep {
	u := s.URLs("")
	tlsStep := CheckStep{Code: "tool_https", Name: "ltipub's URLs use https"}
	base, err := url.Parse(s.BaseURL)
	switch {
	case err != nil || base.Host == "":
		tlsStep.Status, tlsStep.Detail = CheckFailed, "The base URL "+s.BaseURL+" is not an absolute URL."
		tlsStep.Fix = "Set --base-url (LTIPUB_BASE_URL) to ltipub's public https address."
	case base.Scheme != "https":
		tlsStep.Status, tlsStep.Detail = CheckFailed, "The base URL is "+s.BaseURL+": platforms refuse tool URLs without https, and browsers block "+
			"ltipub's cookies inside a platform's https page."
		tlsStep.Fix = "Serve ltipub over https (behind a TLS proxy) and set --base-url to the https address."
	default:
		tlsStep.Status, tlsStep.Detail = CheckPassed, "Base URL "+s.BaseURL+"."
	}

	reach := CheckStep{Code: "tool_reachable", Name: "ltipub's URLs answer through the base URL"}
	hc := &http.Client{Timeout: checkTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var bad, good []string
	resp, body, err := s.get(ctx, hc, u.JWKS, 1<<20)
	switch {
	case err != nil:
		bad = append(bad, "JWKS URL "+u.JWKS+": "+err.Error())
	case resp.StatusCode != http.StatusOK:
		bad = append(bad, fmt.Sprintf("JWKS URL %s: HTTP %d", u.JWKS, resp.StatusCode))
	default:
		var set struct {
			Keys []json.RawMessage `json:"keys"`
		}
		if json.Unmarshal(body, &set) != nil || len(set.Keys) == 0 {
			bad = append(bad, "JWKS URL "+u.JWKS+": no keys in the answer")
		} else {
			good = append(good, fmt.Sprintf("JWKS URL (%d key(s))", len(set.Keys)))
		}
	}
	// The launch and deep linking URLs take POST; a GET gets 405 with Allow: POST from ltipub itself. Anything
	// else means something between the base URL and ltipub (a proxy, another site) answers instead.
	for _, e := range []struct{ label, u string }{{"Tool URL", u.Tool}, {"Deep linking URL", u.DeepLinking}} {
		resp, _, err := s.get(ctx, hc, e.u, 64<<10)
		switch {
		case err != nil:
			bad = append(bad, e.label+" "+e.u+": "+err.Error())
		case resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST":
			bad = append(bad, fmt.Sprintf("%s %s: HTTP %d, not ltipub's answer (405, Allow: POST)", e.label, e.u, resp.StatusCode))
		default:
			good = append(good, e.label)
		}
	}
	if len(bad) > 0 {
		reach.Status, reach.Detail = CheckFailed, strings.Join(bad, "; ")+"."
		reach.Fix = "Check --base-url is the address platforms use, and that the proxy in front of ltipub forwards /lti/ to it " +
			"(when LTI publishing is switched off in Site settings, /lti/ answers 503)."
		return []CheckStep{tlsStep, reach}
	}
	reach.Status, reach.Detail = CheckPassed, "Answering: "+strings.Join(good, ", ")+"."
	return []CheckStep{tlsStep, reach}
}
