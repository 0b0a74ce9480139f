package lti2

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/ltipub/ltipub/lti"
)

// maxProfile bounds what is read of a tool consumer profile or a tool proxy answer.
const maxProfile = 1 << 20

// Text is a localizable string of LTI 2.0 JSON-LD (default_value, and a key for translations).
type Text struct {
	DefaultValue string `json:"default_value"`
	Key          string `json:"key,omitempty"`
}

// ConsumerProfile is a tool consumer profile (application/vnd.ims.lti.v2.toolconsumerprofile+json): who the
// platform is, which capabilities (message types and variables) it offers, and which services.
type ConsumerProfile struct {
	Context         json.RawMessage `json:"@context"`
	Type            string          `json:"@type"`
	ID              string          `json:"@id"`
	LTIVersion      lti.StringList  `json:"lti_version"`
	GUID            string          `json:"guid,omitempty"`
	ProductInstance struct {
		GUID        string `json:"guid"`
		ProductInfo struct {
			ProductName    Text   `json:"product_name"`
			ProductVersion string `json:"product_version"`
			ProductFamily  struct {
				Code   string `json:"code"`
				Vendor struct {
					Code       string `json:"code"`
					VendorName Text   `json:"vendor_name"`
				} `json:"vendor"`
			} `json:"product_family"`
		} `json:"product_info"`
		ServiceOwner struct {
			ServiceOwnerName Text `json:"service_owner_name"`
		} `json:"service_owner"`
	} `json:"product_instance"`
	CapabilityOffered []string  `json:"capability_offered"`
	ServiceOffered    []Service `json:"service_offered"`
}

// Service is one service_offered entry: a REST endpoint with the media types and methods it takes.
type Service struct {
	Type     string         `json:"@type"`
	ID       string         `json:"@id"`
	Endpoint string         `json:"endpoint"`
	Format   lti.StringList `json:"format"`
	Action   lti.StringList `json:"action"`
}

// Offers reports whether the platform offers a capability (a message type such as basic-lti-launch-request, or
// a variable such as User.id).
func (p *ConsumerProfile) Offers(capability string) bool {
	return slices.Contains(p.CapabilityOffered, capability)
}

// FindService returns the offered service that takes format with every one of actions.
func (p *ConsumerProfile) FindService(format string, actions ...string) (Service, bool) {
	for _, s := range p.ServiceOffered {
		if !slices.Contains(s.Format, format) {
			continue
		}
		all := true
		for _, a := range actions {
			all = all && slices.ContainsFunc(s.Action, func(x string) bool { return strings.EqualFold(x, a) })
		}
		if all {
			return s, true
		}
	}
	return Service{}, false
}

// ServiceID is s's @id as an absolute IRI: a compact IRI ("tcp:ToolProxy.collection") is expanded with the
// profile's @context prefixes, a fragment ("#ToolProxy.collection") is resolved against the profile's @id.
func (p *ConsumerProfile) ServiceID(s Service) string {
	id := s.ID
	if strings.HasPrefix(id, "#") {
		return strings.SplitN(p.ID, "#", 2)[0] + id
	}
	prefix, rest, ok := strings.Cut(id, ":")
	if !ok || strings.HasPrefix(rest, "//") {
		return id
	}
	if iri, ok := p.prefixes()[prefix]; ok {
		return iri + rest
	}
	return id
}

// prefixes are the term definitions of the profile's @context (a string, an object, or a list of both).
func (p *ConsumerProfile) prefixes() map[string]string {
	out := map[string]string{}
	var list []json.RawMessage
	if err := json.Unmarshal(p.Context, &list); err != nil {
		list = []json.RawMessage{p.Context}
	}
	for _, raw := range list {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			continue
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
	}
	return out
}

// FetchProfile reads a tool consumer profile (GET with Accept: the profile media type). client should be the
// tool's guarded client: the URL comes from whoever posted the registration request.
func FetchProfile(ctx context.Context, client *http.Client, profileURL string) (*ConsumerProfile, error) {
	unreachable := func(cause string, err error) error {
		return &lti.Error{Code: CodeProfileUnreachable, Err: err,
			Description: fmt.Sprintf("The platform's tool consumer profile at %s could not be fetched: %s", profileURL, cause),
			Fix: "the platform must serve its profile at the tc_profile_url it sent, reachable from the tool's server; " +
				"check the platform's site address (wwwroot) and that the tool's server can reach it (firewall, DNS, certificate)"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, profileURL, nil)
	if err != nil {
		return nil, unreachable("the URL is not valid", err)
	}
	req.Header.Set("Accept", MediaConsumerProfile)
	resp, err := client.Do(req)
	if err != nil {
		return nil, unreachable(lti.PublicNetCause(err), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProfile+1))
	if err != nil {
		return nil, unreachable(lti.PublicNetCause(err), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, unreachable(fmt.Sprintf("it answered HTTP %d", resp.StatusCode), fmt.Errorf("status %d: %s", resp.StatusCode, excerpt(body)))
	}
	return ParseProfile(body, profileURL)
}

// ParseProfile reads a tool consumer profile fetched from profileURL.
func ParseProfile(body []byte, profileURL string) (*ConsumerProfile, error) {
	invalid := func(what string, err error) error {
		return &lti.Error{Code: CodeProfileInvalid, Err: err,
			Description: fmt.Sprintf("The platform's tool consumer profile at %s is not usable: %s", profileURL, what),
			Fix:         "the platform must answer with an LTI 2.0 tool consumer profile (" + MediaConsumerProfile + "); check that the tc_profile_url is the platform's profile"}
	}
	if len(body) > maxProfile {
		return nil, invalid("it is larger than 1 MiB", nil)
	}
	var p ConsumerProfile
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, invalid("it is not JSON", err)
	}
	if p.Type != "" && p.Type != "ToolConsumerProfile" {
		return nil, invalid(fmt.Sprintf("its @type is %q, not ToolConsumerProfile", p.Type), nil)
	}
	if len(p.CapabilityOffered) == 0 && len(p.ServiceOffered) == 0 {
		return nil, invalid("it offers no capabilities and no services", nil)
	}
	if p.ID == "" {
		p.ID = profileURL
	}
	return &p, nil
}

// excerpt is the start of a platform's answer, for logs and refusals.
func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
