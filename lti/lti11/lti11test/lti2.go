package lti11test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/ltipub/ltipub/lti/lti11"
	"github.com/ltipub/ltipub/lti/lti2"
)

// The LTI 2.0 side of the consumer: a tool consumer profile, the ToolProxy service, and registration requests,
// as Moodle's mod/lti (and the IMS specification) do them. The ToolProxy service is strict: it accepts a tool
// proxy only with the right content type, an OAuth 1.0a signature with the registration credentials (reg_key
// and reg_password) over an oauth_body_hash of the body, a fresh timestamp and nonce, and a complete tool proxy
// that asks only for what the profile offers. Registration credentials work once.

// LTI2Mode says how the consumer's LTI 2.0 endpoints behave.
type LTI2Mode int

const (
	// LTI2Accept serves the profile and accepts valid tool proxies.
	LTI2Accept LTI2Mode = iota
	// LTI2ProfileDown answers the profile URL with 503.
	LTI2ProfileDown
	// LTI2NoToolProxyService serves a profile that offers no ToolProxy service.
	LTI2NoToolProxyService
	// LTI2RefuseToolProxy verifies a tool proxy and then refuses it (400), as a platform whose administrator
	// turned the tool down, or whose checks failed, does.
	LTI2RefuseToolProxy
)

// ProfileCapabilities are the capabilities the consumer's profile offers (Moodle's lti_get_capabilities).
var ProfileCapabilities = []string{
	"basic-lti-launch-request", "ToolProxyRegistrationRequest",
	"Context.id", "Context.title", "Context.label", "Context.sourcedId", "CourseSection.title", "CourseSection.label",
	"CourseSection.sourcedId", "ResourceLink.id", "ResourceLink.title", "ResourceLink.description", "User.id", "User.username",
	"Person.name.full", "Person.name.given", "Person.name.family", "Person.email.primary", "Person.sourcedId",
	"Membership.role", "Result.sourcedId", "Result.autocreate", "BasicOutcome.sourcedId", "BasicOutcome.url",
}

// ToolProxyRecord is a tool proxy the consumer accepted.
type ToolProxyRecord struct {
	GUID   string
	Secret string
	Split  bool
	RegKey string
	Proxy  lti2.ToolProxy
}

type lti2State struct {
	mode    LTI2Mode
	split   bool
	pending map[string]string // reg_key → reg_password
	proxies map[string]*ToolProxyRecord
}

// SetLTI2 chooses how the LTI 2.0 endpoints behave, and whether the profile offers OAuth.splitSecret.
func (c *Consumer) SetLTI2(mode LTI2Mode, split bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lti2.mode, c.lti2.split = mode, split
}

// ProfileURL is the consumer's tc_profile_url.
func (c *Consumer) ProfileURL() string { return c.srv.URL + "/lti2/profile" }

// ToolProxyURL is the endpoint of the consumer's ToolProxy service.
func (c *Consumer) ToolProxyURL() string { return c.srv.URL + "/lti2/toolproxy" }

// ReturnURL is the consumer's launch_presentation_return_url for registrations.
func (c *Consumer) ReturnURL() string { return c.srv.URL + "/lti2/registration-return?id=7" }

// RegistrationForm is a ToolProxyRegistrationRequest for regURL with new registration credentials, signed with
// them, and the credentials.
func (c *Consumer) RegistrationForm(regURL string) (form url.Values, regKey string, err error) {
	regKey, password := randomHex(16), randomHex(16)
	c.mu.Lock()
	c.lti2.pending[regKey] = password
	c.mu.Unlock()
	ps := lti11.Pairs("lti_message_type", lti2.MessageRegistration, "lti_version", lti2.Version, "reg_key", regKey,
		"reg_password", password, "tc_profile_url", c.ProfileURL(), "launch_presentation_return_url", c.ReturnURL(),
		"launch_presentation_document_target", "iframe", "oauth_callback", "about:blank")
	s := &lti11.Signer{ConsumerKey: regKey, Secret: password, Method: c.Method, Now: c.now}
	form, err = s.SignForm(regURL, ps)
	return form, regKey, err
}

// ToolProxies lists the tool proxies the consumer accepted.
func (c *Consumer) ToolProxies() []ToolProxyRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ToolProxyRecord, 0, len(c.lti2.proxies))
	for _, p := range c.lti2.proxies {
		out = append(out, *p)
	}
	return out
}

// ToolProxy returns the accepted tool proxy guid.
func (c *Consumer) ToolProxy(guid string) (ToolProxyRecord, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.lti2.proxies[guid]
	if !ok {
		return ToolProxyRecord{}, false
	}
	return *p, true
}

// secretFor is the secret of a consumer key: the consumer's own, or an accepted tool proxy's.
func (c *Consumer) secretFor(key string) (string, bool) {
	if key == c.Key {
		return c.Secret, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.lti2.proxies[key]; ok {
		return p.Secret, true
	}
	return "", false
}

// SignLTI2 signs a launch through tool proxy guid as Moodle launches an LTI 2.0 tool: only to a launch URL of one
// of its resource handlers (base URL + path), with lti_version=LTI-2p0, only the parameters of the capabilities
// the handler enabled (and the message's own: lti_*, oauth_*, launch_presentation_*, tool_consumer_*, custom_*,
// ext_lms), signed with the tool proxy GUID and the agreed secret.
func (c *Consumer) SignLTI2(guid, launchURL string, ps lti11.Params) (url.Values, error) {
	rec, ok := c.ToolProxy(guid)
	if !ok {
		return nil, fmt.Errorf("no tool proxy %q", guid)
	}
	base := ""
	if len(rec.Proxy.ToolProfile.BaseURLChoice) > 0 {
		base = rec.Proxy.ToolProfile.BaseURLChoice[0].DefaultBaseURL
	}
	var enabled []string
	for _, h := range rec.Proxy.ToolProfile.ResourceHandler {
		for _, m := range h.Message {
			if m.MessageType == lti2.MessageLaunch && base+m.Path == launchURL {
				enabled = m.EnabledCapability
			}
		}
	}
	if enabled == nil {
		return nil, fmt.Errorf("tool proxy %s has no resource handler for %s", guid, launchURL)
	}
	allowed := map[string]bool{}
	for _, cap := range enabled {
		if p, ok := lti2.CapabilityParams[cap]; ok {
			allowed[p] = true
		}
	}
	var out lti11.Params
	for _, p := range ps {
		switch {
		case p.Name == "lti_version":
			p.Value = lti2.Version
		case allowed[p.Name], p.Name == "resource_link_id", strings.HasPrefix(p.Name, "lti_"), strings.HasPrefix(p.Name, "oauth_"),
			strings.HasPrefix(p.Name, "launch_presentation_"), strings.HasPrefix(p.Name, "tool_consumer_"),
			strings.HasPrefix(p.Name, "custom_"), p.Name == "ext_lms":
		default:
			continue
		}
		out = append(out, p)
	}
	s := &lti11.Signer{ConsumerKey: rec.GUID, Secret: rec.Secret, Method: c.Method, Now: c.now}
	return s.SignForm(launchURL, out)
}

// profile serves the tool consumer profile.
func (c *Consumer) profile(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	mode, split := c.lti2.mode, c.lti2.split
	c.mu.Unlock()
	if !strings.Contains(r.Header.Get("Accept"), lti2.MediaConsumerProfile) {
		c.reject(w, http.StatusNotAcceptable, "profile: Accept "+r.Header.Get("Accept"))
		return
	}
	if mode == LTI2ProfileDown {
		http.Error(w, "Service unavailable", http.StatusServiceUnavailable)
		return
	}
	caps := append([]string(nil), ProfileCapabilities...)
	if split {
		caps = append(caps, lti2.CapSplitSecret)
	}
	services := []map[string]any{{"@type": "RestService", "@id": "tcp:ToolProxySettings", "endpoint": c.srv.URL + "/lti2/settings/{tool_proxy_id}",
		"format": []string{"application/vnd.ims.lti.v2.toolsettings+json"}, "action": []string{"GET", "PUT"}}}
	if mode != LTI2NoToolProxyService {
		services = append(services, map[string]any{"@type": "RestService", "@id": "tcp:ToolProxy.collection", "endpoint": c.ToolProxyURL(),
			"format": []string{lti2.MediaToolProxy}, "action": []string{"POST"}})
	}
	p := map[string]any{
		"@context":    []any{lti2.ContextConsumerProfile, map[string]string{"tcp": c.ProfileURL() + "#"}},
		"@type":       "ToolConsumerProfile",
		"@id":         c.ProfileURL(),
		"lti_version": lti2.Version,
		"guid":        c.InstanceGUID,
		"product_instance": map[string]any{"guid": c.InstanceGUID,
			"product_info": map[string]any{"product_name": map[string]string{"default_value": "Moodle", "key": "product.name"},
				"product_version": "4.3", "product_family": map[string]any{"code": "moodle",
					"vendor": map[string]any{"code": "moodle", "vendor_name": map[string]string{"default_value": "Moodle HQ"}}}},
			"service_owner": map[string]any{"service_owner_name": map[string]string{"default_value": c.InstanceName}}},
		"capability_offered": caps,
		"service_offered":    services,
	}
	w.Header().Set("Content-Type", lti2.MediaConsumerProfile)
	_ = json.NewEncoder(w).Encode(p)
}

var hex128 = regexp.MustCompile(`^[0-9a-fA-F]{128}$`)

// toolProxyService is the ToolProxy service: it checks the request, then the tool proxy, and issues a GUID.
func (c *Consumer) toolProxyService(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		c.reject(w, http.StatusBadRequest, "tool proxy: read body")
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != lti2.MediaToolProxy {
		c.reject(w, http.StatusUnsupportedMediaType, "tool proxy: content type "+r.Header.Get("Content-Type"))
		return
	}
	ps, err := lti11.ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil || ps == nil {
		c.reject(w, http.StatusUnauthorized, "tool proxy: no OAuth Authorization header")
		return
	}
	regKey := ps.Get("oauth_consumer_key")
	c.mu.Lock()
	password, ok := c.lti2.pending[regKey]
	mode, split := c.lti2.mode, c.lti2.split
	c.mu.Unlock()
	if !ok {
		c.reject(w, http.StatusUnauthorized, "tool proxy: unknown or used reg_key "+regKey)
		return
	}
	if err := lti11.VerifyBodyHash(ps, body); err != nil {
		c.reject(w, http.StatusUnauthorized, "tool proxy: "+err.Error())
		return
	}
	q, _ := url.ParseQuery(r.URL.RawQuery)
	if err := c.verifier().Verify(r.Context(), r.Method, c.srv.URL+r.URL.Path, append(lti11.FromValues(q), ps...), password); err != nil {
		c.reject(w, http.StatusUnauthorized, "tool proxy: "+err.Error())
		return
	}
	// The credentials are spent, whatever the tool proxy says (Moodle marks the pending tool proxy rejected).
	c.mu.Lock()
	delete(c.lti2.pending, regKey)
	c.mu.Unlock()
	var tp lti2.ToolProxy
	if err := json.Unmarshal(body, &tp); err != nil {
		c.reject(w, http.StatusBadRequest, "tool proxy: not JSON: "+err.Error())
		return
	}
	if problem := c.checkToolProxy(tp, split); problem != "" {
		c.reject(w, http.StatusBadRequest, "tool proxy: "+problem)
		return
	}
	if mode == LTI2RefuseToolProxy {
		c.reject(w, http.StatusBadRequest, "Tool proxy rejected")
		return
	}
	rec := &ToolProxyRecord{GUID: randomHex(16), RegKey: regKey, Proxy: tp, Secret: tp.SecurityContract.SharedSecret}
	answer := lti2.ToolProxyID{Context: lti2.ContextToolProxyID, Type: "ToolProxy", ID: c.ToolProxyURL() + "/" + rec.GUID, GUID: rec.GUID}
	if tp.SecurityContract.TPHalfSharedSecret != "" {
		answer.TCHalfSharedSecret = randomHex(64)
		rec.Split, rec.Secret = true, lti2.SplitSecret(answer.TCHalfSharedSecret, tp.SecurityContract.TPHalfSharedSecret)
	}
	c.mu.Lock()
	c.lti2.proxies[rec.GUID] = rec
	c.mu.Unlock()
	w.Header().Set("Content-Type", lti2.MediaToolProxyID)
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(answer)
}

// checkToolProxy says what is wrong with a tool proxy ("" when nothing is), as Moodle's ToolProxy service and
// the specification check it.
func (c *Consumer) checkToolProxy(tp lti2.ToolProxy, split bool) string {
	offered := append([]string(nil), ProfileCapabilities...)
	if split {
		offered = append(offered, lti2.CapSplitSecret)
	}
	switch {
	case !slices.Contains(tp.Context, lti2.ContextToolProxy):
		return "@context lacks " + lti2.ContextToolProxy
	case tp.Type != "ToolProxy":
		return "@type is " + tp.Type
	case tp.LTIVersion != lti2.Version:
		return "lti_version is " + tp.LTIVersion
	case tp.ToolConsumerProfile != c.ProfileURL():
		return "tool_consumer_profile is " + tp.ToolConsumerProfile
	case tp.ToolProfile.ProductInstance.ProductInfo.ProductFamily.Vendor.Code == "":
		return "no vendor code"
	case tp.ToolProfile.ProductInstance.ProductInfo.ProductName.DefaultValue == "":
		return "no product name"
	case len(tp.ToolProfile.ResourceHandler) == 0:
		return "no resource handler"
	case len(tp.ToolProfile.BaseURLChoice) == 0 || tp.ToolProfile.BaseURLChoice[0].DefaultBaseURL == "":
		return "no base_url_choice"
	}
	for _, cap := range tp.EnabledCapability {
		if !slices.Contains(offered, cap) {
			return "enabled_capability " + cap + " was not offered"
		}
	}
	launchable := false
	for _, h := range tp.ToolProfile.ResourceHandler {
		if h.ResourceType.Code == "" || h.ResourceName.DefaultValue == "" {
			return "a resource handler without resource_type code or resource_name"
		}
		for _, m := range h.Message {
			if !slices.Contains(offered, m.MessageType) {
				return "message type " + m.MessageType + " was not offered"
			}
			if m.Path == "" {
				return "a message without path"
			}
			u, err := url.Parse(tp.ToolProfile.BaseURLChoice[0].DefaultBaseURL + m.Path)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return "launch URL " + tp.ToolProfile.BaseURLChoice[0].DefaultBaseURL + m.Path + " is not absolute"
			}
			for _, cap := range m.EnabledCapability {
				if !slices.Contains(offered, cap) {
					return "capability " + cap + " was not offered"
				}
			}
			for _, prm := range m.Parameter {
				if prm.Variable != "" && !slices.Contains(offered, prm.Variable) {
					return "parameter variable " + prm.Variable + " was not offered"
				}
			}
			launchable = launchable || m.MessageType == lti2.MessageLaunch
		}
	}
	if !launchable {
		return "no basic-lti-launch-request message"
	}
	sc := tp.SecurityContract
	switch {
	case sc.SharedSecret != "" && sc.TPHalfSharedSecret != "":
		return "both shared_secret and tp_half_shared_secret"
	case sc.TPHalfSharedSecret != "" && !split:
		return "tp_half_shared_secret, but OAuth.splitSecret was not offered"
	case sc.TPHalfSharedSecret != "" && !slices.Contains(tp.EnabledCapability, lti2.CapSplitSecret):
		return "tp_half_shared_secret without OAuth.splitSecret in enabled_capability"
	case sc.TPHalfSharedSecret != "" && !hex128.MatchString(sc.TPHalfSharedSecret):
		return "tp_half_shared_secret is not 128 hexadecimal digits"
	case sc.SharedSecret == "" && sc.TPHalfSharedSecret == "":
		return "no shared_secret"
	}
	services := map[string][]string{c.ProfileURL() + "#ToolProxy.collection": {"POST"},
		c.ProfileURL() + "#ToolProxySettings": {"GET", "PUT"}}
	for _, s := range sc.ToolService {
		actions, ok := services[s.Service]
		if !ok {
			return "tool_service " + s.Service + " was not offered"
		}
		for _, a := range s.Action {
			if !slices.Contains(actions, a) {
				return "tool_service " + s.Service + " action " + a + " was not offered"
			}
		}
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Pages for a person in a browser, as an LMS administrator registers a tool and a learner follows a link: the
// registration page (a Register button that posts a signed registration request to the tool), the return page
// (what the tool said: status, tool_proxy_guid, lti_msg or lti_errormsg), and a launch page that posts a signed
// launch through a tool proxy (with the Basic Outcomes service).

var browserPage = template.Must(template.New("").Parse(`<!doctype html><html><head><title>{{.Title}}</title></head><body>
<h1>{{.Title}}</h1>
{{with .Status}}<p id="registration-status">{{.}}</p>{{end}}
{{with .GUID}}<p id="registration-guid">{{.}}</p>{{end}}
{{with .Message}}<p id="registration-message">{{.}}</p>{{end}}
{{if .Action}}<form method="post" action="{{.Action}}" id="lti-form">
{{range $k, $vs := .Form}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<button type="submit" id="{{.Button}}">{{.Label}}</button></form>{{end}}
{{if .Auto}}<script>document.getElementById("lti-form").submit()</script>{{end}}
</body></html>`))

type browserPageData struct {
	Title, Status, GUID, Message string
	Action, Button, Label        string
	Form                         url.Values
	Auto                         bool
}

// RegistrationPageURL is the consumer's page where an administrator registers the tool at regURL.
func (c *Consumer) RegistrationPageURL(regURL string) string {
	return c.srv.URL + "/lti2/register?url=" + url.QueryEscape(regURL)
}

// LaunchPageURL is a page that launches launchURL through tool proxy guid as userID, with the Basic Outcomes
// service for sourcedID.
func (c *Consumer) LaunchPageURL(guid, launchURL, resourceLinkID, userID, sourcedID string) string {
	return c.srv.URL + "/lti2/launch?" + url.Values{"guid": {guid}, "url": {launchURL}, "rl": {resourceLinkID}, "user": {userID},
		"sourcedid": {sourcedID}}.Encode()
}

func (c *Consumer) registrationPage(w http.ResponseWriter, r *http.Request) {
	form, _, err := c.RegistrationForm(r.URL.Query().Get("url"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = browserPage.Execute(w, browserPageData{Title: "Register an LTI 2.0 tool", Action: r.URL.Query().Get("url"), Form: form,
		Button: "register", Label: "Register"})
}

func (c *Consumer) registrationReturn(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	msg := q.Get("lti_msg")
	if q.Get("status") != "success" {
		msg = q.Get("lti_errormsg")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = browserPage.Execute(w, browserPageData{Title: "Tool registration", Status: q.Get("status"), GUID: q.Get("tool_proxy_guid"), Message: msg})
}

func (c *Consumer) launchPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ps := c.WithService(c.LaunchParams(q.Get("rl"), q.Get("user"), "Learner"), q.Get("sourcedid"))
	form, err := c.SignLTI2(q.Get("guid"), q.Get("url"), ps)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = browserPage.Execute(w, browserPageData{Title: "Launching", Action: q.Get("url"), Form: form, Button: "launch", Label: "Launch", Auto: true})
}
