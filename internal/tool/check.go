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
	"strconv"
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
	// DetailID and FixID name Detail and Fix for their translations (internal/web's catalogs), and Args are the
	// details they carry. Detail and Fix stay the English words, for the CLI and for reports recorded before the ids.
	DetailID string    `json:"detail_id,omitempty"`
	FixID    string    `json:"fix_id,omitempty"`
	Args     CheckArgs `json:"args,omitzero"`
}

// CheckArgs are the details a check step's words name, by the placeholder names of their translations. A struct,
// not a map, so that steps stay comparable values. MissingFields and DiffFields list field codes ("issuer,jwks_url").
type CheckArgs struct {
	URL, Status, Bytes, Error, Message      string `json:",omitempty"`
	Keys, Weak, Algs, Refused               string `json:",omitempty"`
	Scope, Granted, Issuer, ClientID, Count string `json:",omitempty"`
	JWKS, Audience, Base, Problems          string `json:",omitempty"`
	MissingFields, DiffFields               string `json:",omitempty"`
}

// Pairs lists the set args as name, value pairs, for a message's placeholders.
func (a CheckArgs) Pairs() []string {
	var out []string
	for _, kv := range [][2]string{{"URL", a.URL}, {"Status", a.Status}, {"Bytes", a.Bytes}, {"Error", a.Error}, {"Message", a.Message},
		{"Keys", a.Keys}, {"Weak", a.Weak}, {"Algs", a.Algs}, {"Refused", a.Refused}, {"Scope", a.Scope}, {"Granted", a.Granted},
		{"Issuer", a.Issuer}, {"ClientID", a.ClientID}, {"Count", a.Count}, {"JWKS", a.JWKS}, {"Audience", a.Audience},
		{"Base", a.Base}, {"Problems", a.Problems}, {"MissingFields", a.MissingFields}, {"DiffFields", a.DiffFields}} {
		if kv[1] != "" {
			out = append(out, kv[0], kv[1])
		}
	}
	return out
}

// set records arg name; a name CheckArgs does not have is a programming error.
func (a *CheckArgs) set(name, v string) {
	p := map[string]*string{"URL": &a.URL, "Status": &a.Status, "Bytes": &a.Bytes, "Error": &a.Error, "Message": &a.Message,
		"Keys": &a.Keys, "Weak": &a.Weak, "Algs": &a.Algs, "Refused": &a.Refused, "Scope": &a.Scope, "Granted": &a.Granted,
		"Issuer": &a.Issuer, "ClientID": &a.ClientID, "Count": &a.Count, "JWKS": &a.JWKS, "Audience": &a.Audience,
		"Base": &a.Base, "Problems": &a.Problems, "MissingFields": &a.MissingFields, "DiffFields": &a.DiffFields}[name]
	if p == nil {
		panic("tool: no check arg " + name)
	}
	*p = v
}

// says sets the step's outcome, its words and their id for a translation; args are name, value pairs.
func (st *CheckStep) says(status, detailID, detail string, args ...string) {
	st.Status, st.DetailID, st.Detail = status, detailID, detail
	for i := 0; i+1 < len(args); i += 2 {
		st.Args.set(args[i], args[i+1])
	}
}

// fix sets the step's fix and its id; args as in says.
func (st *CheckStep) fix(fixID, fix string, args ...string) {
	st.FixID, st.Fix = fixID, fix
	for i := 0; i+1 < len(args); i += 2 {
		st.Args.set(args[i], args[i+1])
	}
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
		refused, refusedScope := "", ""
		for _, scope := range lti.ToolScopes {
			if refused != "" {
				// The endpoint refused the assertion itself, not a scope: asking again per scope only repeats it.
				st := CheckStep{Code: "token:" + scope, Name: "Service token: " + scopeName(scope)}
				st.says(CheckSkipped, "token_not_tried", "Not tried: the token endpoint refused ltipub's assertion itself (see "+refused+").",
					"Scope", refusedScope)
				add(st)
				continue
			}
			st := s.checkToken(ctx, reg, scope)
			add(st)
			if st.Status == CheckFailed && !strings.Contains(st.Detail, "invalid_scope") {
				refused, refusedScope = st.Name, scope
			}
		}
	} else {
		st := CheckStep{Code: "token", Name: "Service token request"}
		st.says(CheckSkipped, "token_no_url", "The registration has no access token URL or client ID yet.")
		st.fix("fill_details", "Fill in Platform details first.")
		add(st)
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
	var missing, fields []string
	for _, f := range []struct{ field, label, v string }{{"issuer", "Platform ID (issuer)", reg.Issuer}, {"client_id", "Client ID", reg.ClientID},
		{"jwks_url", "Public keyset URL", reg.JWKSURL}, {"token_url", "Access token URL", reg.TokenURL},
		{"auth_url", "Authentication request URL", reg.AuthURL}} {
		if f.v == "" {
			missing, fields = append(missing, f.label), append(fields, f.field)
		}
	}
	switch {
	case len(missing) > 0:
		st.says(CheckFailed, "details_missing", "Missing: "+strings.Join(missing, ", ")+".", "MissingFields", strings.Join(fields, ","))
		st.fix("details_missing", "Copy them from the platform's page for the tool into Platform details (Moodle: View configuration details), or register dynamically.")
	case len(reg.Deployments) == 0:
		st.says(CheckFailed, "no_deployment", "No deployment ID: every launch would be refused as coming from an unknown deployment.")
		st.fix("no_deployment", "Add the deployment ID the platform shows for the tool under Deployments.")
	default:
		st.says(CheckPassed, "details_ok", fmt.Sprintf("Issuer %s, client ID %s, %d deployment(s).", reg.Issuer, reg.ClientID, len(reg.Deployments)),
			"Issuer", reg.Issuer, "ClientID", reg.ClientID, "Count", strconv.Itoa(len(reg.Deployments)))
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
		fetch.says(CheckFailed, "jwks_unreachable", "ltipub could not fetch "+jwksURL+": "+err.Error()+".", "URL", jwksURL, "Error", err.Error())
		fetch.fix("jwks_url", fixURL)
		return []CheckStep{fetch}
	case resp.StatusCode != http.StatusOK:
		fetch.says(CheckFailed, "jwks_status", fmt.Sprintf("%s answered HTTP %d.", jwksURL, resp.StatusCode), "URL", jwksURL,
			"Status", strconv.Itoa(resp.StatusCode))
		fetch.fix("jwks_url", fixURL)
		return []CheckStep{fetch}
	}
	fetch.says(CheckPassed, "jwks_ok", fmt.Sprintf("%s answered HTTP 200 (%d bytes).", jwksURL, len(body)), "URL", jwksURL, "Bytes", strconv.Itoa(len(body)))

	usable := CheckStep{Code: "jwks_keys", Name: "Platform keyset: keys usable"}
	keys, err := lti.ParseJWKS(body)
	if err != nil {
		usable.says(CheckFailed, "jwks_not_keyset", "The answer is not a JSON Web Key Set: "+err.Error()+".", "Error", err.Error())
		usable.fix("jwks_not_keyset", "The Public keyset URL points at something else than the platform's keyset. "+fixURL)
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
		none := "The keyset holds no usable signing key: ltipub needs RSA (2048 bits or more) or EC keys with a kid and use \"sig\"."
		if len(weak) > 0 {
			usable.says(CheckFailed, "keys_none_weak", none+" Too weak: "+strings.Join(weak, ", ")+".", "Weak", strings.Join(weak, ", "))
		} else {
			usable.says(CheckFailed, "keys_none", none)
		}
		usable.fix("keys_regenerate", "Check the Public keyset URL is the platform's LTI keyset (Moodle: /mod/lti/certs.php); if it is, the platform's "+
			"LTI key needs regenerating by its admin.")
		return []CheckStep{fetch, usable}
	}
	if len(weak) > 0 {
		usable.says(CheckPassed, "keys_ok_weak", "Usable keys: "+strings.Join(good, ", ")+". Ignored as too weak: "+strings.Join(weak, ", ")+".",
			"Keys", strings.Join(good, ", "), "Weak", strings.Join(weak, ", "))
	} else {
		usable.says(CheckPassed, "keys_ok", "Usable keys: "+strings.Join(good, ", ")+".", "Keys", strings.Join(good, ", "))
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
		all := strings.Join(append(declared, refused...), ", ")
		algs.says(CheckFailed, "algs_no_rs256", "No key is usable with RS256, the algorithm LTI requires platforms to support ("+all+").", "Algs", all)
		algs.fix("algs_rs256", "Platforms sign LTI messages with RS256: the keyset URL is probably not the platform's LTI keyset. "+fixURL)
	case len(refused) > 0:
		algs.says(CheckPassed, "algs_ok_refused", strings.Join(declared, ", ")+". Not accepted by ltipub: "+strings.Join(refused, ", ")+".",
			"Algs", strings.Join(declared, ", "), "Refused", strings.Join(refused, ", "))
	default:
		algs.says(CheckPassed, "algs_ok", strings.Join(declared, ", ")+".", "Algs", strings.Join(declared, ", "))
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
		st.says(CheckSkipped, "no_issuer", "No issuer yet.")
		return st
	}
	u := strings.TrimSuffix(reg.Issuer, "/") + "/.well-known/openid-configuration"
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	cfg, err := lti.FetchPlatformConfiguration(ctx, s.HTTP, u, s.AllowPrivateURLs)
	if err != nil {
		st.says(CheckSkipped, "openid_none", "The platform publishes no OpenID configuration at "+u+" (many do not outside dynamic registration): nothing to compare.",
			"URL", u)
		return st
	}
	var diffs, fields []string
	cmp := func(field, label, published, ours string) {
		if published != "" && ours != "" && published != ours {
			diffs = append(diffs, fmt.Sprintf("%s is %s at the platform, %s here", label, published, ours))
			fields = append(fields, field)
		}
	}
	cmp("issuer", "the issuer", cfg.Issuer, reg.Issuer)
	cmp("jwks_url", "the public keyset URL", cfg.JWKSURI, reg.JWKSURL)
	cmp("token_url", "the access token URL", cfg.TokenEndpoint, reg.TokenURL)
	cmp("auth_url", "the authentication request URL", cfg.AuthorizationEndpoint, reg.AuthURL)
	if len(diffs) > 0 {
		st.says(CheckFailed, "openid_differs", "The platform's configuration ("+u+") differs: "+strings.Join(diffs, "; ")+".",
			"URL", u, "DiffFields", strings.Join(fields, ","))
		st.fix("update_details", "Update Platform details with the platform's values.")
		return st
	}
	st.says(CheckPassed, "openid_agrees", "Published at "+u+"; it agrees with Platform details.", "URL", u)
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
		if len(tok.Scopes) > 0 && !slices.Contains(tok.Scopes, scope) {
			st.says(CheckFailed, "token_without_scope", "The token endpoint issued a token without "+scope+" (granted: "+strings.Join(tok.Scopes, " ")+").",
				"Scope", scope, "Granted", strings.Join(tok.Scopes, " "))
			st.fix(serviceFixID(scope), serviceFix(scope))
			return st
		}
		st.says(CheckPassed, "token_ok", "The token endpoint accepted ltipub's signed assertion and granted "+scope+".", "Scope", scope)
		return st
	}
	var se *lti.ServiceError
	msg := err.Error()
	if errors.As(err, &se) {
		msg = se.Message
		if se.Status != 0 {
			msg = fmt.Sprintf("HTTP %d: %s", se.Status, se.Message)
		}
	}
	st.says(CheckFailed, "token_refused", "The token endpoint ("+reg.TokenURL+") refused: "+msg+".", "URL", reg.TokenURL, "Message", msg)
	low := strings.ToLower(msg)
	jwks := strings.TrimSuffix(s.BaseURL, "/") + "/lti/jwks"
	aud := reg.TokenAudience
	if aud == "" {
		aud = reg.TokenURL
	}
	switch {
	case se == nil || se.Status == 0 || se.Status >= 500 || se.Status == http.StatusTooManyRequests:
		st.fix("token_unreachable", "The token endpoint did not answer properly. Check the Access token URL in Platform details, and that the platform is up and reachable from this server.")
	case strings.Contains(low, "invalid_scope"):
		st.fix(serviceFixID(scope), serviceFix(scope))
	case strings.Contains(low, "unknown client") || strings.Contains(low, "client_id") || strings.Contains(low, "client not found") ||
		strings.Contains(low, "no client"):
		st.fix("unknown_client", "The platform does not know client ID "+reg.ClientID+": copy the Client ID again from the platform's page for the tool into Platform details.",
			"ClientID", reg.ClientID)
	case strings.Contains(low, "signature") || strings.Contains(low, "jwks") || strings.Contains(low, "key"):
		st.fix("signature", "The platform cannot verify ltipub's signature: set the tool's public keyset (Moodle: Public keyset; Canvas: Public JWK URL) to "+jwks+
			" at the platform, with Public key type \"Keyset URL\".", "JWKS", jwks)
	case strings.Contains(low, "aud"):
		st.fix("audience", "The platform wants another audience than "+aud+" in ltipub's assertion: set Token audience in Platform details to the value the platform shows (Brightspace: Brightspace OAuth2 Audience).",
			"Audience", aud)
	default:
		st.fix("token_refused", "The platform refused ltipub's signed assertion. In the order they usually go wrong: the Client ID in Platform details, "+
			"the tool's keyset URL at the platform ("+jwks+"), the Access token URL, the Token audience ("+aud+").", "JWKS", jwks, "Audience", aud)
	}
	return st
}

// serviceFixID names serviceFix's words for a translation.
func serviceFixID(scope string) string {
	if strings.Contains(scope, "nrps") {
		return "service_nrps"
	}
	return "service_ags"
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
		tlsStep.says(CheckFailed, "base_not_absolute", "The base URL "+s.BaseURL+" is not an absolute URL.", "Base", s.BaseURL)
		tlsStep.fix("set_base_url", "Set --base-url (LTIPUB_BASE_URL) to ltipub's public https address.")
	case base.Scheme != "https":
		tlsStep.says(CheckFailed, "base_not_https", "The base URL is "+s.BaseURL+": platforms refuse tool URLs without https, and browsers block "+
			"ltipub's cookies inside a platform's https page.", "Base", s.BaseURL)
		tlsStep.fix("serve_https", "Serve ltipub over https (behind a TLS proxy) and set --base-url to the https address.")
	default:
		tlsStep.says(CheckPassed, "base_ok", "Base URL "+s.BaseURL+".", "Base", s.BaseURL)
	}

	reach := CheckStep{Code: "tool_reachable", Name: "ltipub's URLs answer through the base URL"}
	hc := &http.Client{Timeout: checkTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var bad, good []string
	keys := 0
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
			good, keys = append(good, fmt.Sprintf("JWKS URL (%d key(s))", len(set.Keys))), len(set.Keys)
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
		reach.says(CheckFailed, "tool_unreachable", strings.Join(bad, "; ")+".", "Problems", strings.Join(bad, "; "))
		reach.fix("proxy", "Check --base-url is the address platforms use, and that the proxy in front of ltipub forwards /lti/ to it "+
			"(when LTI publishing is switched off in Site settings, /lti/ answers 503).")
		return []CheckStep{tlsStep, reach}
	}
	reach.says(CheckPassed, "tool_answering", "Answering: "+strings.Join(good, ", ")+".", "Count", strconv.Itoa(keys))
	return []CheckStep{tlsStep, reach}
}
