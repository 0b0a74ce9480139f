package lti11

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/ltipub/ltipub/lti"
)

// Message types and versions.
const (
	MessageLaunch = "basic-lti-launch-request"
	// MessageContentItem is the LTI 1.1 content selection request (Content-Item Message), not supported.
	MessageContentItem = "ContentItemSelectionRequest"

	Version1p0 = "LTI-1p0"
	Version1p2 = "LTI-1p2"
	Version2p0 = "LTI-2p0"
)

// Launch is a basic-lti-launch-request's parameters (after the signature was verified).
type Launch struct {
	MessageType     string
	Version         string
	ConsumerKey     string
	ResourceLink    struct{ ID, Title, Description string }
	UserID          string
	Roles           lti.Roles
	GivenName       string
	FamilyName      string
	FullName        string
	Email           string
	PersonSourcedID string
	UserImage       string
	Context         struct{ ID, Type, Title, Label string }
	// Presentation.
	DocumentTarget string
	ReturnURL      string
	Locale         string
	// The platform.
	InstanceGUID  string
	InstanceName  string
	InstanceURL   string
	ProductFamily string
	// Services.
	OutcomeServiceURL string
	ResultSourcedID   string
	MembershipsURL    string
	MembershipsID     string
	// Custom holds the custom_* parameters without the prefix; Ext the ext_* ones, also without it.
	Custom map[string]string
	Ext    map[string]string
}

// ParseLaunch reads and checks a launch's LTI parameters (the OAuth ones are Verifier's): message type, version,
// resource link. Each problem has its own error, naming the parameter.
func ParseLaunch(v url.Values) (*Launch, error) {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	l := &Launch{MessageType: get("lti_message_type"), Version: get("lti_version"), ConsumerKey: get("oauth_consumer_key"),
		Custom: map[string]string{}, Ext: map[string]string{}}
	switch l.MessageType {
	case MessageLaunch:
	case "":
		return nil, MissingParam("lti_message_type")
	case MessageContentItem, "ContentItemSelection", "LtiDeepLinkingRequest":
		return nil, &lti.Error{Code: CodeContentItem,
			Description: "Invalid request: the platform sent a content selection request (" + l.MessageType + "), which this tool does not support over LTI 1.1",
			Fix: "in the platform's external tool settings, turn off \"Supports Deep Linking (Content-Item Message)\" for this LTI 1.1 tool, " +
				"and add the link with the launch URL of the resource's Legacy (LTI 1.1) details; for content selection, register the tool over LTI 1.3"}
	case "ToolProxyRegistrationRequest":
		return nil, &lti.Error{Code: CodeMessageType, Description: "The platform sent an LTI 2.0 tool registration (ToolProxyRegistrationRequest) to the launch URL",
			Fix: "register with the Registration URL (LTI 2.0) of the resource's Legacy details, not its launch URL"}
	default:
		return nil, &lti.Error{Code: CodeMessageType, Description: fmt.Sprintf("Invalid lti_message_type parameter %q", l.MessageType),
			Fix: "the launch URL only accepts basic-lti-launch-request"}
	}
	switch l.Version {
	case Version1p0, Version1p2, Version2p0:
	case "":
		return nil, MissingParam("lti_version")
	default:
		return nil, &lti.Error{Code: CodeVersion, Description: fmt.Sprintf("Invalid lti_version parameter %q", l.Version),
			Fix: "the tool accepts LTI-1p0 (and LTI-1p2, LTI-2p0 launches of the same shape)"}
	}
	l.ResourceLink.ID = get("resource_link_id")
	if l.ResourceLink.ID == "" {
		return nil, MissingParam("resource_link_id")
	}
	l.ResourceLink.Title, l.ResourceLink.Description = get("resource_link_title"), get("resource_link_description")
	l.UserID = get("user_id")
	for _, r := range strings.Split(v.Get("roles"), ",") {
		if r = strings.TrimSpace(r); r != "" {
			l.Roles = append(l.Roles, r)
		}
	}
	l.GivenName, l.FamilyName, l.FullName = get("lis_person_name_given"), get("lis_person_name_family"), get("lis_person_name_full")
	l.Email, l.PersonSourcedID, l.UserImage = get("lis_person_contact_email_primary"), get("lis_person_sourcedid"), get("user_image")
	l.Context.ID, l.Context.Type, l.Context.Title, l.Context.Label = get("context_id"), get("context_type"), get("context_title"), get("context_label")
	l.DocumentTarget, l.ReturnURL, l.Locale = get("launch_presentation_document_target"), get("launch_presentation_return_url"), get("launch_presentation_locale")
	l.InstanceGUID, l.InstanceName, l.InstanceURL = get("tool_consumer_instance_guid"), get("tool_consumer_instance_name"), get("tool_consumer_instance_url")
	l.ProductFamily = get("tool_consumer_info_product_family_code")
	l.OutcomeServiceURL, l.ResultSourcedID = get("lis_outcome_service_url"), v.Get("lis_result_sourcedid") // verbatim (Moodle: JSON)
	l.MembershipsURL, l.MembershipsID = get("ext_ims_lis_memberships_url"), v.Get("ext_ims_lis_memberships_id")
	for k, vals := range v {
		if len(vals) == 0 {
			continue
		}
		switch {
		case strings.HasPrefix(k, "custom_"):
			l.Custom[strings.TrimPrefix(k, "custom_")] = vals[0]
		case strings.HasPrefix(k, "ext_"):
			l.Ext[strings.TrimPrefix(k, "ext_")] = vals[0]
		}
	}
	return l, nil
}

// Message is the launch in LTI 1.3's shape, so that the code that lands launches serves both versions. issuer
// identifies the platform (for example PlatformID's value); the subject is user_id.
func (l *Launch) Message(issuer string) *lti.Message {
	m := &lti.Message{Issuer: issuer, Subject: l.UserID, Name: l.FullName, GivenName: l.GivenName, FamilyName: l.FamilyName,
		Email: l.Email, Picture: l.UserImage, Locale: l.Locale, MessageType: lti.MessageResourceLinkRequest, Version: l.Version,
		DeploymentID: issuer, Roles: l.Roles,
		ResourceLink: &lti.ResourceLink{ID: l.ResourceLink.ID, Title: l.ResourceLink.Title, Description: l.ResourceLink.Description},
		CustomParams: lti.CustomParams{},
		LTI1p1: &lti.LTI1p1{UserID: l.UserID, OAuthConsumerKey: l.ConsumerKey, ResourceLinkID: l.ResourceLink.ID,
			ContextID: l.Context.ID, ToolConsumerInstanceGUID: l.InstanceGUID}}
	if m.Roles == nil {
		m.Roles = lti.Roles{}
	}
	for k, v := range l.Custom {
		m.CustomParams[k] = v
	}
	if l.Context.ID != "" {
		m.Context = &lti.Context{ID: l.Context.ID, Title: l.Context.Title, Label: l.Context.Label}
		if l.Context.Type != "" {
			m.Context.Type = lti.StringList(strings.Split(l.Context.Type, ","))
		}
	}
	if l.DocumentTarget != "" || l.ReturnURL != "" || l.Locale != "" {
		m.LaunchPresentation = &lti.LaunchPresentation{DocumentTarget: l.DocumentTarget, ReturnURL: l.ReturnURL, Locale: l.Locale}
	}
	if l.InstanceGUID != "" || l.InstanceName != "" || l.ProductFamily != "" {
		m.ToolPlatform = &lti.ToolPlatform{GUID: l.InstanceGUID, Name: l.InstanceName, URL: l.InstanceURL, ProductFamilyCode: l.ProductFamily}
	}
	if l.PersonSourcedID != "" {
		m.LIS = &lti.LIS{PersonSourcedID: l.PersonSourcedID}
	}
	if l.OutcomeServiceURL != "" || l.ResultSourcedID != "" {
		m.BasicOutcome = &lti.BasicOutcome{LISOutcomeServiceURL: l.OutcomeServiceURL, LISResultSourcedID: l.ResultSourcedID}
	}
	return m
}

// PlatformID is the identity of an LTI 1.1 platform among ltipub's platforms: the consumer key, and the
// instance GUID when the platform sends one. It stands where an LTI 1.3 issuer stands (platform users are
// (PlatformID, user_id)). Both parts are escaped so that no two pairs give the same string.
func PlatformID(consumerKey, instanceGUID string) string {
	id := "lti11:" + url.QueryEscape(consumerKey)
	if instanceGUID != "" {
		id += ":" + url.QueryEscape(instanceGUID)
	}
	return id
}
