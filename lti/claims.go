package lti

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Claim names. Every LTI claim name is a full URL.
const (
	ClaimPrefix              = "https://purl.imsglobal.org/spec/lti/claim/"
	ClaimMessageType         = ClaimPrefix + "message_type"
	ClaimVersion             = ClaimPrefix + "version"
	ClaimDeploymentID        = ClaimPrefix + "deployment_id"
	ClaimTargetLinkURI       = ClaimPrefix + "target_link_uri"
	ClaimResourceLink        = ClaimPrefix + "resource_link"
	ClaimRoles               = ClaimPrefix + "roles"
	ClaimRoleScopeMentor     = ClaimPrefix + "role_scope_mentor"
	ClaimContext             = ClaimPrefix + "context"
	ClaimToolPlatform        = ClaimPrefix + "tool_platform"
	ClaimLaunchPresentation  = ClaimPrefix + "launch_presentation"
	ClaimCustom              = ClaimPrefix + "custom"
	ClaimLIS                 = ClaimPrefix + "lis"
	ClaimLTI1p1              = ClaimPrefix + "lti1p1"
	ClaimAGSEndpoint         = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
	ClaimNRPS                = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
	ClaimDeepLinkingSettings = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
	ClaimBasicOutcome        = "https://purl.imsglobal.org/spec/lti-bos/claim/basicoutcomesservice"
	// ClaimForUser names the user a submission review is about (LtiSubmissionReviewRequest).
	ClaimForUser = ClaimPrefix + "for_user"
	// ClaimPNS is the Platform Notification Service claim: where the tool registers its notice handlers.
	ClaimPNS = ClaimPrefix + "platformnotificationservice"
)

// Version is the only LTI version this package accepts.
const Version = "1.3.0"

// MessageType is the LTI message_type claim.
type MessageType string

// Message types.
const (
	MessageResourceLinkRequest   MessageType = "LtiResourceLinkRequest"
	MessageDeepLinkingRequest    MessageType = "LtiDeepLinkingRequest"
	MessageDeepLinkingResponse   MessageType = "LtiDeepLinkingResponse"
	MessageSubmissionReview      MessageType = "LtiSubmissionReviewRequest"
	MessageStartProctoring       MessageType = "LtiStartProctoring"
	MessageEndAssessment         MessageType = "LtiEndAssessment"
	MessageStartAssessment       MessageType = "LtiStartAssessment"
	MessageAssessmentControl     MessageType = "LtiAssessmentControlRequest"
	MessageEULARequest           MessageType = "LtiEulaRequest"
	MessageReportReviewRequest   MessageType = "LtiReportReviewRequest"
	MessageContextLaunchRequest  MessageType = "LtiContextLaunchRequest"
	MessageCaliperProfileRequest MessageType = "LtiCaliperProfileRequest"
)

// Supported reports whether Validate accepts this message type.
func (t MessageType) Supported() bool {
	return t == MessageResourceLinkRequest || t == MessageDeepLinkingRequest || t == MessageSubmissionReview
}

func (t MessageType) known() bool {
	switch t {
	case MessageResourceLinkRequest, MessageDeepLinkingRequest, MessageDeepLinkingResponse,
		MessageSubmissionReview, MessageStartProctoring, MessageEndAssessment, MessageStartAssessment,
		MessageAssessmentControl, MessageEULARequest, MessageReportReviewRequest,
		MessageContextLaunchRequest, MessageCaliperProfileRequest:
		return true
	}
	return false
}

// Message is a validated LTI 1.3 launch (LtiResourceLinkRequest or
// LtiDeepLinkingRequest). Optional claims the platform did not send are nil
// or empty. Unknown claims are ignored.
type Message struct {
	// OIDC claims.
	Issuer          string      `json:"iss"`
	Subject         string      `json:"sub"` // empty for anonymous launches
	Audience        StringList  `json:"aud"`
	AuthorizedParty string      `json:"azp,omitempty"`
	ExpiresAt       NumericDate `json:"exp"`
	IssuedAt        NumericDate `json:"iat"`
	NotBefore       NumericDate `json:"nbf,omitempty"`
	Nonce           string      `json:"nonce"`

	// OIDC identity claims; any may be absent.
	Name       string `json:"name,omitempty"`
	GivenName  string `json:"given_name,omitempty"`
	FamilyName string `json:"family_name,omitempty"`
	MiddleName string `json:"middle_name,omitempty"`
	Email      string `json:"email,omitempty"`
	Picture    string `json:"picture,omitempty"`
	Locale     string `json:"locale,omitempty"`

	MessageType     MessageType `json:"https://purl.imsglobal.org/spec/lti/claim/message_type"`
	Version         string      `json:"https://purl.imsglobal.org/spec/lti/claim/version"`
	DeploymentID    string      `json:"https://purl.imsglobal.org/spec/lti/claim/deployment_id"`
	TargetLinkURI   string      `json:"https://purl.imsglobal.org/spec/lti/claim/target_link_uri"`
	Roles           Roles       `json:"https://purl.imsglobal.org/spec/lti/claim/roles"`
	RoleScopeMentor StringList  `json:"https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor,omitempty"`

	ResourceLink       *ResourceLink       `json:"https://purl.imsglobal.org/spec/lti/claim/resource_link,omitempty"`
	Context            *Context            `json:"https://purl.imsglobal.org/spec/lti/claim/context,omitempty"`
	ToolPlatform       *ToolPlatform       `json:"https://purl.imsglobal.org/spec/lti/claim/tool_platform,omitempty"`
	LaunchPresentation *LaunchPresentation `json:"https://purl.imsglobal.org/spec/lti/claim/launch_presentation,omitempty"`
	// CustomParams holds the custom claim with every value as a string (see
	// Custom for substitution variables the platform left unresolved).
	CustomParams CustomParams `json:"https://purl.imsglobal.org/spec/lti/claim/custom,omitempty"`
	LIS          *LIS         `json:"https://purl.imsglobal.org/spec/lti/claim/lis,omitempty"`
	LTI1p1       *LTI1p1      `json:"https://purl.imsglobal.org/spec/lti/claim/lti1p1,omitempty"`

	AGS                 *AGSEndpoint         `json:"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint,omitempty"`
	NRPS                *NRPSService         `json:"https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice,omitempty"`
	DeepLinkingSettings *DeepLinkingSettings `json:"https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings,omitempty"`
	BasicOutcome        *BasicOutcome        `json:"https://purl.imsglobal.org/spec/lti-bos/claim/basicoutcomesservice,omitempty"`

	// ForUser is the learner a submission review (LtiSubmissionReviewRequest) is about.
	ForUser *ForUser `json:"https://purl.imsglobal.org/spec/lti/claim/for_user,omitempty"`
	// PNS is where the platform takes notice handler registrations (Platform Notification Service).
	PNS *PNSService `json:"https://purl.imsglobal.org/spec/lti/claim/platformnotificationservice,omitempty"`

	anonymous bool
}

// Anonymous reports whether the launch carries no sub claim (an anonymous
// launch, only accepted with Expect.AllowAnonymous).
func (m *Message) Anonymous() bool { return m.anonymous }

// Custom returns the custom parameter key. A value that still starts with
// "$" is a substitution variable the platform did not resolve, and is
// reported as not provided.
func (m *Message) Custom(key string) (string, bool) {
	v, ok := m.CustomParams[key]
	if !ok || strings.HasPrefix(v, "$") {
		return "", false
	}
	return v, true
}

// ResourceLink is the resource_link claim.
type ResourceLink struct {
	ID          string `json:"id"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
}

// Context is the context claim (course, section, group).
type Context struct {
	ID    string     `json:"id"`
	Label string     `json:"label,omitempty"`
	Title string     `json:"title,omitempty"`
	Type  StringList `json:"type,omitempty"` // full URIs, or short names (Moodle)
}

// ToolPlatform is the tool_platform claim.
type ToolPlatform struct {
	GUID              string `json:"guid"`
	Name              string `json:"name,omitempty"`
	Version           string `json:"version,omitempty"`
	ProductFamilyCode string `json:"product_family_code,omitempty"`
	// FamilyCode is Moodle's name for product_family_code; see Family.
	FamilyCode   string `json:"family_code,omitempty"`
	ContactEmail string `json:"contact_email,omitempty"`
	Description  string `json:"description,omitempty"`
	URL          string `json:"url,omitempty"`
}

// Family returns the product family code under either of its names.
func (p *ToolPlatform) Family() string {
	if p.ProductFamilyCode != "" {
		return p.ProductFamilyCode
	}
	return p.FamilyCode
}

// LaunchPresentation is the launch_presentation claim.
type LaunchPresentation struct {
	DocumentTarget string     `json:"document_target,omitempty"` // frame, iframe or window
	ReturnURL      string     `json:"return_url,omitempty"`
	Locale         string     `json:"locale,omitempty"`
	Width          FlexString `json:"width,omitempty"`  // number or string
	Height         FlexString `json:"height,omitempty"` // number or string
	CSSURL         string     `json:"css_url,omitempty"`
}

// LIS is the lis claim.
type LIS struct {
	PersonSourcedID         string `json:"person_sourcedid,omitempty"`
	CourseOfferingSourcedID string `json:"course_offering_sourcedid,omitempty"`
	CourseSectionSourcedID  string `json:"course_section_sourcedid,omitempty"`
}

// LTI1p1 is the lti1p1 migration claim.
type LTI1p1 struct {
	UserID                   string `json:"user_id,omitempty"`
	OAuthConsumerKey         string `json:"oauth_consumer_key,omitempty"`
	OAuthConsumerKeySign     string `json:"oauth_consumer_key_sign,omitempty"`
	ResourceLinkID           string `json:"resource_link_id,omitempty"`
	ContextID                string `json:"context_id,omitempty"`
	ToolConsumerInstanceGUID string `json:"tool_consumer_instance_guid,omitempty"`
}

// AGSEndpoint is the Assignment and Grade Services endpoint claim.
type AGSEndpoint struct {
	Scope     StringList `json:"scope"`
	LineItems string     `json:"lineitems,omitempty"`
	LineItem  string     `json:"lineitem,omitempty"`
}

// HasScope reports whether the platform granted scope (a full scope URL).
func (a *AGSEndpoint) HasScope(scope string) bool {
	if a == nil {
		return false
	}
	for _, s := range a.Scope {
		if s == scope {
			return true
		}
	}
	return false
}

// NRPSService is the Names and Role Provisioning Services claim.
type NRPSService struct {
	ContextMembershipsURL string     `json:"context_memberships_url"`
	ServiceVersions       StringList `json:"service_versions,omitempty"`
}

// ForUser is the for_user claim of a submission review: the learner whose work the reviewer opens. UserID is
// that learner's sub at the platform.
type ForUser struct {
	UserID     string     `json:"user_id"`
	PersonSID  string     `json:"person_sourcedid,omitempty"`
	Name       string     `json:"name,omitempty"`
	GivenName  string     `json:"given_name,omitempty"`
	FamilyName string     `json:"family_name,omitempty"`
	Email      string     `json:"email,omitempty"`
	Roles      StringList `json:"roles,omitempty"`
}

// PNSService is the Platform Notification Service claim.
type PNSService struct {
	ServiceURL           string     `json:"platform_notification_service_url"`
	ServiceVersions      StringList `json:"service_versions,omitempty"`
	Scope                StringList `json:"scope,omitempty"`
	NoticeTypesSupported StringList `json:"notice_types_supported,omitempty"`
}

// Supports reports whether the platform says it sends notices of type t.
func (p *PNSService) Supports(t string) bool { return p != nil && p.NoticeTypesSupported.Contains(t) }

// BasicOutcome is the LTI 1.1 Basic Outcomes claim some platforms (Moodle)
// still send.
type BasicOutcome struct {
	LISResultSourcedID   string `json:"lis_result_sourcedid,omitempty"`
	LISOutcomeServiceURL string `json:"lis_outcome_service_url,omitempty"`
}

// DeepLinkingSettings is the deep_linking_settings claim.
type DeepLinkingSettings struct {
	DeepLinkReturnURL                 string     `json:"deep_link_return_url"`
	AcceptTypes                       StringList `json:"accept_types"`
	AcceptPresentationDocumentTargets StringList `json:"accept_presentation_document_targets"`
	AcceptMediaTypes                  string     `json:"accept_media_types,omitempty"` // comma-separated
	AcceptMultiple                    *FlexBool  `json:"accept_multiple,omitempty"`
	// AcceptLineItem nil means absent, which means true; use AcceptsLineItem.
	AcceptLineItem *FlexBool `json:"accept_lineitem,omitempty"`
	AutoCreate     *FlexBool `json:"auto_create,omitempty"`
	Title          string    `json:"title,omitempty"`
	Text           string    `json:"text,omitempty"`
	// Data is opaque and must be echoed verbatim in the response.
	Data json.RawMessage `json:"data,omitempty"`
}

// AcceptsType reports whether the platform accepts content items of type t
// (e.g. ContentItemResourceLink).
func (s *DeepLinkingSettings) AcceptsType(t string) bool {
	for _, a := range s.AcceptTypes {
		if a == t {
			return true
		}
	}
	return false
}

// AcceptsMultiple reports accept_multiple (absent means false).
func (s *DeepLinkingSettings) AcceptsMultiple() bool {
	return s.AcceptMultiple != nil && bool(*s.AcceptMultiple)
}

// AcceptsLineItem reports accept_lineitem (absent means true).
func (s *DeepLinkingSettings) AcceptsLineItem() bool {
	return s.AcceptLineItem == nil || bool(*s.AcceptLineItem)
}

// AutoCreates reports auto_create (absent means false).
func (s *DeepLinkingSettings) AutoCreates() bool {
	return s.AutoCreate != nil && bool(*s.AutoCreate)
}

// FlexBool decodes JSON true/false and also the strings "true"/"false"
// (Moodle sends deep-linking booleans as strings).
type FlexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (b *FlexBool) UnmarshalJSON(data []byte) error {
	s := string(bytes.Trim(data, `"`))
	switch strings.ToLower(s) {
	case "true", "1":
		*b = true
	case "false", "0", "", "null":
		*b = false
	default:
		return &json.UnmarshalTypeError{Value: "value " + truncate(string(data)), Type: reflect.TypeFor[FlexBool]()}
	}
	return nil
}

// FlexString decodes a JSON string, number or boolean as its text, for
// fields platforms send either way.
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexString) UnmarshalJSON(data []byte) error {
	switch {
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*f = FlexString(s)
	case string(data) == "null":
		*f = ""
	case len(data) > 0 && (data[0] == '{' || data[0] == '['):
		return &json.UnmarshalTypeError{Value: "object or array", Type: reflect.TypeFor[FlexString]()}
	default:
		*f = FlexString(data)
	}
	return nil
}

// StringList decodes a JSON array of strings or a single string (aud may be
// either; some platforms send one-element lists as plain strings).
type StringList []string

// UnmarshalJSON implements json.Unmarshaler.
func (l *StringList) UnmarshalJSON(data []byte) error {
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*l = StringList{s}
		return nil
	}
	if string(data) == "null" {
		*l = nil
		return nil
	}
	var ss []string
	if err := json.Unmarshal(data, &ss); err != nil {
		return err
	}
	if ss == nil {
		ss = []string{}
	}
	*l = ss
	return nil
}

// Contains reports whether s is in l.
func (l StringList) Contains(s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}

// NumericDate is a JWT time: seconds since the Unix epoch. Zero means absent.
type NumericDate int64

// UnmarshalJSON accepts integer and fractional seconds.
func (d *NumericDate) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*d = 0
		return nil
	}
	if i, err := strconv.ParseInt(string(data), 10, 64); err == nil {
		*d = NumericDate(i)
		return nil
	}
	f, err := strconv.ParseFloat(string(data), 64)
	if err != nil || f < 0 || f > 1<<53 {
		return &json.UnmarshalTypeError{Value: "value " + truncate(string(data)), Type: reflect.TypeFor[NumericDate]()}
	}
	*d = NumericDate(int64(f))
	return nil
}

// Time returns d as a time.Time (the zero Time when d is 0).
func (d NumericDate) Time() time.Time {
	if d == 0 {
		return time.Time{}
	}
	return time.Unix(int64(d), 0)
}

// CustomParams is the custom claim with every value turned into a string:
// strings as they are, numbers and booleans in their JSON form, null as "",
// objects and arrays as compact JSON.
type CustomParams map[string]string

// UnmarshalJSON implements json.Unmarshaler.
func (c *CustomParams) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	if raw == nil {
		*c = nil
		return nil
	}
	out := make(CustomParams, len(raw))
	for k, v := range raw {
		switch {
		case len(v) > 0 && v[0] == '"':
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			out[k] = s
		case string(v) == "null":
			out[k] = ""
		case len(v) > 0 && (v[0] == '{' || v[0] == '['):
			var buf bytes.Buffer
			if err := json.Compact(&buf, v); err != nil {
				return err
			}
			out[k] = buf.String()
		default: // number, true, false
			out[k] = string(v)
		}
	}
	*c = out
	return nil
}
