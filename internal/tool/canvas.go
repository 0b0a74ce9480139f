package tool

import (
	"net/url"

	"github.com/ltipub/ltipub/lti"
)

// CanvasConfiguration is Canvas's LTI 1.3 JSON configuration for a developer key ("Method: Enter URL"), in the
// shape Canvas documents under "Anatomy of a JSON configuration" (developerdocs.instructure.com, external tools,
// LTI, file.lti_dev_key_config). Canvas reads redirect URIs from the key's own field, not from this document.
type CanvasConfiguration struct {
	Title             string            `json:"title"`
	Description       string            `json:"description"`
	OIDCInitiationURL string            `json:"oidc_initiation_url"`
	TargetLinkURI     string            `json:"target_link_uri"`
	PublicJWKURL      string            `json:"public_jwk_url"`
	Scopes            []string          `json:"scopes"`
	Extensions        []CanvasExtension `json:"extensions"`
	CustomFields      map[string]string `json:"custom_fields"`
}

// CanvasExtension is the canvas.instructure.com block of a configuration.
type CanvasExtension struct {
	Domain       string         `json:"domain"`
	ToolID       string         `json:"tool_id"`
	Platform     string         `json:"platform"`
	PrivacyLevel string         `json:"privacy_level"`
	Settings     CanvasSettings `json:"settings"`
}

// CanvasSettings are the extension's settings: the tool's label and icon, and its placements.
type CanvasSettings struct {
	Text       string            `json:"text"`
	IconURL    string            `json:"icon_url"`
	Placements []CanvasPlacement `json:"placements"`
}

// CanvasPlacement is one place in Canvas's interface the tool appears in.
type CanvasPlacement struct {
	Placement       string `json:"placement"`
	MessageType     string `json:"message_type"`
	TargetLinkURI   string `json:"target_link_uri"`
	Text            string `json:"text"`
	Enabled         bool   `json:"enabled"`
	Default         string `json:"default,omitempty"`
	SelectionWidth  int    `json:"selection_width,omitempty"`
	SelectionHeight int    `json:"selection_height,omitempty"`
}

// CanvasConfiguration builds the configuration for this ltipub: content selection (deep linking) from modules
// (link_selection) and from assignments (assignment_selection, which gives the assignment a line item), and a
// course navigation entry. Privacy level "public" makes Canvas send names and email addresses, which ltipub needs
// to create and match accounts; with anything less NRPS also returns no names.
func (s *Service) CanvasConfiguration() CanvasConfiguration {
	name := s.ToolName
	if name == "" {
		name = "ltipub"
	}
	u := s.URLs("")
	domain := s.BaseURL
	if p, err := url.Parse(s.BaseURL); err == nil && p.Host != "" {
		domain = p.Host
	}
	selection := func(placement, text string) CanvasPlacement {
		return CanvasPlacement{Placement: placement, MessageType: "LtiDeepLinkingRequest", TargetLinkURI: u.DeepLinking,
			Text: text, Enabled: true, SelectionWidth: 800, SelectionHeight: 600}
	}
	return CanvasConfiguration{
		Title:             name,
		Description:       "Courses and activities published by " + name,
		OIDCInitiationURL: u.Login,
		TargetLinkURI:     u.Tool,
		PublicJWKURL:      u.JWKS,
		// Canvas offers the Platform Notification Service to keys with the noticehandlers scope (course copies).
		Scopes: append(append([]string(nil), lti.ToolScopes...), lti.ScopeNoticeHandlers),
		Extensions: []CanvasExtension{{
			Domain: domain, ToolID: name, Platform: "canvas.instructure.com", PrivacyLevel: "public",
			Settings: CanvasSettings{Text: name, IconURL: s.BaseURL + "/static/logo.png", Placements: []CanvasPlacement{
				selection("link_selection", name+": add a course or activity"),
				selection("assignment_selection", name+": add a graded activity"),
				// Off until a teacher turns it on (Settings → Navigation): a launch from the course menu carries no
				// published resource, so ltipub can only show the teacher what to do next.
				{Placement: "course_navigation", MessageType: "LtiResourceLinkRequest", TargetLinkURI: u.Tool, Text: name,
					Enabled: true, Default: "disabled"},
			}},
		}},
		// The LTI standard history variables (Canvas substitutes them): after a course copy they name the links and
		// course the copy came from, which is what lets a copied link be traced to its published resource.
		CustomFields: map[string]string{
			"context_id_history":       "$Context.id.history",
			"resource_link_id_history": "$ResourceLink.id.history",
		},
	}
}
