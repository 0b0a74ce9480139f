package lti2

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
)

// ToolProxy is the tool proxy (application/vnd.ims.lti.v2.toolproxy+json) a tool posts to the platform's
// ToolProxy service: who the tool is, what it can be launched for (resource handlers), and the security
// contract (the shared secret, or the tool's half of a split one, and the services the tool will call).
type ToolProxy struct {
	Context             []string         `json:"@context"`
	Type                string           `json:"@type"`
	ID                  string           `json:"@id,omitempty"`
	LTIVersion          string           `json:"lti_version"`
	ToolConsumerProfile string           `json:"tool_consumer_profile"`
	ToolProfile         ToolProfile      `json:"tool_profile"`
	EnabledCapability   []string         `json:"enabled_capability,omitempty"`
	SecurityContract    SecurityContract `json:"security_contract"`
}

// ToolProfile is the tool's part of a tool proxy.
type ToolProfile struct {
	LTIVersion      string            `json:"lti_version"`
	ProductInstance ProductInstance   `json:"product_instance"`
	BaseURLChoice   []BaseURLChoice   `json:"base_url_choice,omitempty"`
	ResourceHandler []ResourceHandler `json:"resource_handler"`
}

// ProductInstance names the tool's installation.
type ProductInstance struct {
	GUID        string      `json:"guid"`
	ProductInfo ProductInfo `json:"product_info"`
}

// ProductInfo names the tool's product and vendor.
type ProductInfo struct {
	ProductName    Text          `json:"product_name"`
	ProductVersion string        `json:"product_version"`
	Description    *Text         `json:"description,omitempty"`
	ProductFamily  ProductFamily `json:"product_family"`
}

// ProductFamily is the product family and its vendor.
type ProductFamily struct {
	Code   string `json:"code"`
	Vendor Vendor `json:"vendor"`
}

// Vendor is the tool's vendor.
type Vendor struct {
	Code        string `json:"code"`
	VendorName  Text   `json:"vendor_name"`
	Description *Text  `json:"description,omitempty"`
	Website     string `json:"website,omitempty"`
}

// BaseURLChoice is the URL that message paths are relative to.
type BaseURLChoice struct {
	DefaultBaseURL string `json:"default_base_url"`
	SecureBaseURL  string `json:"secure_base_url,omitempty"`
}

// ResourceHandler is one kind of resource the tool offers, with the messages that launch it.
type ResourceHandler struct {
	ResourceType struct {
		Code string `json:"code"`
	} `json:"resource_type"`
	ResourceName Text             `json:"resource_name"`
	Description  *Text            `json:"description,omitempty"`
	IconInfo     []IconInfo       `json:"icon_info,omitempty"`
	Message      []MessageHandler `json:"message"`
}

// IconInfo is a resource handler's icon, its path relative to the base URL.
type IconInfo struct {
	DefaultLocation struct {
		Path string `json:"path"`
	} `json:"default_location"`
	Key string `json:"key,omitempty"`
}

// MessageHandler is a message the platform may send to a resource handler: its type, the path (relative to the
// base URL) and the capabilities the platform is to fill in.
type MessageHandler struct {
	MessageType       string   `json:"message_type"`
	Path              string   `json:"path"`
	EnabledCapability []string `json:"enabled_capability"`
	// Parameter is always sent, empty or not: Moodle's ToolProxy service iterates it.
	Parameter []Parameter `json:"parameter"`
}

// Parameter is a custom parameter of a message: a fixed value, or a variable the platform substitutes.
type Parameter struct {
	Name     string `json:"name"`
	Fixed    string `json:"fixed,omitempty"`
	Variable string `json:"variable,omitempty"`
}

// SecurityContract is the tool proxy's security contract.
type SecurityContract struct {
	SharedSecret       string        `json:"shared_secret,omitempty"`
	TPHalfSharedSecret string        `json:"tp_half_shared_secret,omitempty"`
	ToolService        []ToolService `json:"tool_service,omitempty"`
}

// ToolService is a platform service the tool will call, with the methods it will use.
type ToolService struct {
	Type    string   `json:"@type"`
	Service string   `json:"service"`
	Action  []string `json:"action"`
}

// ToolProxyID is the platform's answer to an accepted tool proxy (application/vnd.ims.lti.v2.toolproxy.id+json).
type ToolProxyID struct {
	Context            any    `json:"@context,omitempty"`
	Type               string `json:"@type,omitempty"`
	ID                 string `json:"@id,omitempty"`
	GUID               string `json:"tool_proxy_guid"`
	TCHalfSharedSecret string `json:"tc_half_shared_secret,omitempty"`
}

// Tool describes the tool for a proposal: who it is and its resource handlers.
type Tool struct {
	// BaseURL is the tool's public base URL; handler paths are relative to it.
	BaseURL string
	// GUID names the tool's installation (product_instance.guid).
	GUID                                  string
	VendorCode, VendorName, VendorSite    string
	ProductCode, ProductName, Version     string
	ProductDescription, VendorDescription string
	Handlers                              []Handler
}

// Handler is a resource handler of the tool: launched with basic-lti-launch-request at Path.
type Handler struct {
	Code, Name, Description string
	// Path is relative to Tool.BaseURL ("/lti/legacy/<uuid>").
	Path string
	// Icon is the path of the handler's icon, relative to Tool.BaseURL (optional).
	Icon string
	// Capabilities are what the handler wants in its launches; those the platform offers are enabled.
	Capabilities []string
	// Parameters are custom parameters; those whose variable the platform does not offer are left out.
	Parameters []Parameter
}

// LaunchCapabilities are what a tool that provisions accounts and sends grades wants in a launch, as the
// capability names of LTI 2.0 (the IMS tool library's list; Moodle's tool asks for the same): the person, the
// roles, the context, the resource link, and Basic Outcomes (the result sourcedid and the outcome service URL).
var LaunchCapabilities = []string{
	"User.id", "User.username", "User.image", "Person.sourcedId", "Person.name.full", "Person.name.given", "Person.name.family",
	"Person.email.primary", "Membership.role", "Context.id", "Context.type", "Context.title", "Context.label",
	"CourseSection.title", "CourseSection.label", "ResourceLink.id", "ResourceLink.title", "ResourceLink.description",
	"Result.sourcedId", "BasicOutcome.sourcedId", "BasicOutcome.url",
}

// CapabilityParams maps LTI 2.0 capabilities (variables) to the launch parameter a platform fills in for each,
// as the IMS tool library and Moodle's platform map them.
var CapabilityParams = map[string]string{
	"User.id": "user_id", "User.image": "user_image", "User.username": "ext_user_username", "Membership.role": "roles",
	"Person.sourcedId": "lis_person_sourcedid", "Person.name.full": "lis_person_name_full", "Person.name.given": "lis_person_name_given",
	"Person.name.family": "lis_person_name_family", "Person.email.primary": "lis_person_contact_email_primary",
	"Context.id": "context_id", "Context.type": "context_type", "Context.title": "context_title", "Context.label": "context_label",
	"CourseSection.title": "context_title", "CourseSection.label": "context_label",
	"ResourceLink.id": "resource_link_id", "ResourceLink.title": "resource_link_title", "ResourceLink.description": "resource_link_description",
	"Result.sourcedId": "lis_result_sourcedid", "BasicOutcome.sourcedId": "lis_result_sourcedid", "BasicOutcome.url": "lis_outcome_service_url",
}

// Proposal is a tool proxy ready to post, with the secret material only the tool keeps.
type Proposal struct {
	ToolProxy ToolProxy
	// Endpoint is the ToolProxy service's endpoint, where the proposal is posted.
	Endpoint string
	// Split is set when the contract is a split secret (the platform offers OAuth.splitSecret).
	Split bool
	// Outcomes is set when the platform offers what Basic Outcomes needs in launches (a result sourcedid and the
	// outcome service URL).
	Outcomes bool
	// Missing lists capabilities the handlers want that the platform does not offer (launches come without them).
	Missing []string
}

// Propose builds the tool proxy for a profile: the platform must offer basic-lti-launch-request and a ToolProxy
// service that takes POST; each handler enables the capabilities it wants that the profile offers; the contract
// is a split secret when the profile offers OAuth.splitSecret, a shared secret made here otherwise.
func Propose(p *ConsumerProfile, t Tool) (*Proposal, error) {
	if !p.Offers(MessageLaunch) {
		return nil, &lti.Error{Code: CodeCapabilityMissing,
			Description: "The platform's tool consumer profile does not offer the capability basic-lti-launch-request, so it could never launch this tool",
			Fix:         "enable LTI 1.x-style launches (basic-lti-launch-request) for LTI 2.0 tools in the platform, then register again"}
	}
	tps, ok := p.FindService(MediaToolProxy, http.MethodPost)
	if !ok || tps.Endpoint == "" {
		return nil, &lti.Error{Code: CodeServiceMissing,
			Description: "The platform's tool consumer profile offers no ToolProxy service (" + MediaToolProxy + " with POST), so the tool cannot hand it a tool proxy",
			Fix:         "enable the Tool Proxy service (ltiservice_toolproxy in Moodle) for LTI 2.0 registrations in the platform, then register again"}
	}
	if !httpURL(tps.Endpoint) {
		return nil, &lti.Error{Code: CodeProfileInvalid,
			Description: fmt.Sprintf("The platform's ToolProxy service endpoint %q is not an absolute http or https URL", tps.Endpoint),
			Fix:         "check the platform's site address (wwwroot) setting"}
	}
	prop := &Proposal{Endpoint: tps.Endpoint, Split: p.Offers(CapSplitSecret),
		Outcomes: (p.Offers("Result.sourcedId") || p.Offers("BasicOutcome.sourcedId")) && p.Offers("BasicOutcome.url")}
	tp := ToolProxy{Context: []string{ContextToolProxy}, Type: "ToolProxy", ID: tps.Endpoint, LTIVersion: Version,
		ToolConsumerProfile: p.ID,
		ToolProfile: ToolProfile{LTIVersion: Version,
			ProductInstance: ProductInstance{GUID: t.GUID, ProductInfo: ProductInfo{
				ProductName: Text{DefaultValue: t.ProductName, Key: "tool.name"}, ProductVersion: t.Version,
				ProductFamily: ProductFamily{Code: t.ProductCode, Vendor: Vendor{Code: t.VendorCode,
					VendorName: Text{DefaultValue: t.VendorName, Key: "tool.vendor.name"}, Website: t.VendorSite}}}},
			BaseURLChoice: []BaseURLChoice{{DefaultBaseURL: t.BaseURL}}},
		SecurityContract: SecurityContract{ToolService: []ToolService{{Type: "RestServiceProfile", Service: p.ServiceID(tps), Action: []string{http.MethodPost}}}}}
	if strings.HasPrefix(t.BaseURL, "https://") {
		tp.ToolProfile.BaseURLChoice[0].SecureBaseURL = t.BaseURL
	}
	if t.ProductDescription != "" {
		tp.ToolProfile.ProductInstance.ProductInfo.Description = &Text{DefaultValue: t.ProductDescription, Key: "tool.description"}
	}
	if t.VendorDescription != "" {
		tp.ToolProfile.ProductInstance.ProductInfo.ProductFamily.Vendor.Description = &Text{DefaultValue: t.VendorDescription, Key: "tool.vendor.description"}
	}
	missing := map[string]bool{}
	for _, h := range t.Handlers {
		rh := ResourceHandler{ResourceName: Text{DefaultValue: h.Name, Key: h.Code + ".resource.name"}}
		rh.ResourceType.Code = h.Code
		if h.Description != "" {
			rh.Description = &Text{DefaultValue: h.Description, Key: h.Code + ".resource.description"}
		}
		if h.Icon != "" {
			ic := IconInfo{Key: h.Code + ".icon.path"}
			ic.DefaultLocation.Path = h.Icon
			rh.IconInfo = []IconInfo{ic}
		}
		m := MessageHandler{MessageType: MessageLaunch, Path: h.Path, EnabledCapability: []string{}, Parameter: []Parameter{}}
		for _, c := range h.Capabilities {
			if p.Offers(c) {
				m.EnabledCapability = append(m.EnabledCapability, c)
			} else {
				missing[c] = true
			}
		}
		for _, prm := range h.Parameters {
			if prm.Variable == "" || p.Offers(prm.Variable) {
				m.Parameter = append(m.Parameter, prm)
			}
		}
		rh.Message = []MessageHandler{m}
		tp.ToolProfile.ResourceHandler = append(tp.ToolProfile.ResourceHandler, rh)
	}
	for c := range missing {
		prop.Missing = append(prop.Missing, c)
	}
	slices.Sort(prop.Missing)
	if prop.Split {
		tp.EnabledCapability = []string{CapSplitSecret}
		tp.SecurityContract.TPHalfSharedSecret = NewHalfSecret()
	} else {
		tp.SecurityContract.SharedSecret = lti11.NewSecret()
	}
	prop.ToolProxy = tp
	return prop, nil
}

// Registered is an accepted tool proxy: its GUID (the consumer key of later launches) and the shared secret.
type Registered struct {
	GUID         string
	SharedSecret string
	// Body is the tool proxy as posted (JSON), for the record.
	Body []byte
}

// Post signs the proposal with the registration credentials (reg_key and reg_password, OAuth 1.0a with
// oauth_body_hash, in the Authorization header) and posts it to the ToolProxy service. The platform must accept
// it (a 2xx answer with a tool_proxy_guid, and tc_half_shared_secret for a split secret); the shared secret is
// then the contract's, or the platform's half followed by the tool's.
func (p *Proposal) Post(ctx context.Context, client *http.Client, s *lti11.Signer) (*Registered, error) {
	body, err := json.Marshal(p.ToolProxy)
	if err != nil {
		return nil, fmt.Errorf("encode tool proxy: %w", err)
	}
	auth, err := s.SignBody(http.MethodPost, p.Endpoint, body)
	if err != nil {
		return nil, fmt.Errorf("sign tool proxy: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("tool proxy request: %w", err)
	}
	req.Header.Set("Content-Type", MediaToolProxy)
	req.Header.Set("Accept", MediaToolProxyID+", application/json")
	req.Header.Set("Authorization", auth)
	resp, err := client.Do(req)
	if err != nil {
		return nil, &lti.Error{Code: CodeToolProxyRefused, Err: err,
			Description: fmt.Sprintf("The platform's ToolProxy service at %s could not be reached: %s", p.Endpoint, lti.PublicNetCause(err)),
			Fix:         "check that the tool's server can reach the platform (firewall, DNS, certificate), then register again"}
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxProfile))
	if err != nil {
		return nil, &lti.Error{Code: CodeToolProxyRefused, Err: err,
			Description: fmt.Sprintf("The platform's answer to the tool proxy could not be read: %s", lti.PublicNetCause(err)),
			Fix:         "register again; if it keeps failing, ask the platform's administrator to look at its log"}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fix := "the platform's administrator finds why in the platform's log (Moodle: with debugging on); register again once it is fixed"
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			fix = "the platform did not accept the registration credentials (reg_key and reg_password): they are valid for one registration, " +
				"shortly after the platform started it; start the registration again from the platform"
		}
		return nil, &lti.Error{Code: CodeToolProxyRefused, Err: fmt.Errorf("status %d: %s", resp.StatusCode, excerpt(answer)),
			Description: fmt.Sprintf("The platform refused the tool proxy: its ToolProxy service answered HTTP %d%s", resp.StatusCode, answerNote(answer)),
			Fix:         fix}
	}
	var id ToolProxyID
	if err := json.Unmarshal(answer, &id); err != nil || strings.TrimSpace(id.GUID) == "" {
		return nil, &lti.Error{Code: CodeToolProxyAnswer, Err: fmt.Errorf("answer %q: %v", excerpt(answer), err),
			Description: "The platform accepted the tool proxy but its answer names no tool_proxy_guid",
			Fix:         "the platform must answer with " + MediaToolProxyID + " carrying tool_proxy_guid; ask its administrator to look at its log"}
	}
	reg := &Registered{GUID: strings.TrimSpace(id.GUID), Body: body, SharedSecret: p.ToolProxy.SecurityContract.SharedSecret}
	if p.Split {
		if id.TCHalfSharedSecret == "" {
			return nil, &lti.Error{Code: CodeToolProxyAnswer,
				Description: "The platform accepted a split-secret tool proxy but sent no tc_half_shared_secret, so the shared secret is not known",
				Fix:         "the platform must answer a tool proxy with tp_half_shared_secret with its own half; ask its administrator to look at its log"}
		}
		reg.SharedSecret = SplitSecret(id.TCHalfSharedSecret, p.ToolProxy.SecurityContract.TPHalfSharedSecret)
	}
	return reg, nil
}

// answerNote quotes a short plain-text answer; HTML error pages and long bodies are left to the log.
func answerNote(b []byte) string {
	s := excerpt(b)
	if s == "" || strings.HasPrefix(s, "<") || len(s) > 160 {
		return ""
	}
	return " (" + s + ")"
}
