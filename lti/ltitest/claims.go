package ltitest

// The platform keeps its own copy of the LTI vocabulary on purpose: it must
// not share constants (and therefore typos) with the tool-side package lti.

// Claim names used in id_tokens and deep-linking responses.
const (
	claimPrefix = "https://purl.imsglobal.org/spec/lti/claim/"

	ClaimMessageType        = claimPrefix + "message_type"
	ClaimVersion            = claimPrefix + "version"
	ClaimDeploymentID       = claimPrefix + "deployment_id"
	ClaimTargetLinkURI      = claimPrefix + "target_link_uri"
	ClaimResourceLink       = claimPrefix + "resource_link"
	ClaimRoles              = claimPrefix + "roles"
	ClaimContext            = claimPrefix + "context"
	ClaimToolPlatform       = claimPrefix + "tool_platform"
	ClaimLaunchPresentation = claimPrefix + "launch_presentation"
	ClaimCustom             = claimPrefix + "custom"
	ClaimLIS                = claimPrefix + "lis"
	ClaimRoleScopeMentor    = claimPrefix + "role_scope_mentor"
	ClaimLTI1p1             = claimPrefix + "lti1p1"
	ClaimForUser            = claimPrefix + "for_user"
	ClaimPNS                = claimPrefix + "platformnotificationservice"
	ClaimNotice             = claimPrefix + "notice"
	ClaimOriginContexts     = claimPrefix + "origin_contexts"

	ClaimAGSEndpoint         = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
	ClaimNRPS                = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
	ClaimDeepLinkingSettings = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

	ClaimDLContentItems = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
	ClaimDLData         = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
	ClaimDLMsg          = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
	ClaimDLLog          = "https://purl.imsglobal.org/spec/lti-dl/claim/log"
	ClaimDLErrorMsg     = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"
	ClaimDLErrorLog     = "https://purl.imsglobal.org/spec/lti-dl/claim/errorlog"

	// claimPadding carries the filler of TamperOversize tokens.
	claimPadding = "https://ltitest.invalid/claim/padding"
)

// Message types and the LTI version.
const (
	MessageResourceLink        = "LtiResourceLinkRequest"
	MessageDeepLinkingRequest  = "LtiDeepLinkingRequest"
	MessageDeepLinkingResponse = "LtiDeepLinkingResponse"
	MessageSubmissionReview    = "LtiSubmissionReviewRequest"
	LTIVersion                 = "1.3.0"
)

// OAuth2 scopes of the LTI Advantage services.
const (
	ScopeLineItem         = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
	ScopeLineItemReadOnly = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
	ScopeResultReadOnly   = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
	ScopeScore            = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
	ScopeNRPS             = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
	// ScopeNoticeHandlers registers notice handlers (Platform Notification Service; Config.PNS).
	ScopeNoticeHandlers = "https://purl.imsglobal.org/spec/lti/scope/noticehandlers"
)

// allScopes are the service scopes a tool gets by default.
var allScopes = []string{ScopeLineItem, ScopeLineItemReadOnly, ScopeResultReadOnly, ScopeScore, ScopeNRPS}

// AllScopes returns every service scope this platform supports.
func AllScopes() []string { return append([]string(nil), allScopes...) }

// Common role URIs.
const (
	RoleLearner            = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
	RoleInstructor         = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
	RoleContentDeveloper   = "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"
	RoleMentor             = "http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor"
	RoleContextAdmin       = "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"
	RoleTeachingAssistant  = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
	RoleSystemAdmin        = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
	RoleInstitutionAdmin   = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
	RoleInstitutionStudent = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
	RoleInstitutionFaculty = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"
)

// Media types of the services.
const (
	MediaLineItem            = "application/vnd.ims.lis.v2.lineitem+json"
	MediaLineItemContainer   = "application/vnd.ims.lis.v2.lineitemcontainer+json"
	MediaScore               = "application/vnd.ims.lis.v1.score+json"
	MediaResultContainer     = "application/vnd.ims.lis.v2.resultcontainer+json"
	MediaMembershipContainer = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
)

const (
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	ltiToolConfigKey    = "https://purl.imsglobal.org/spec/lti-tool-configuration"
	ltiPlatformConfig   = "https://purl.imsglobal.org/spec/lti-platform-configuration"
)

var (
	activityProgressValues = map[string]bool{"Initialized": true, "Started": true, "InProgress": true, "Submitted": true, "Completed": true}
	gradingProgressValues  = map[string]bool{"FullyGraded": true, "Pending": true, "PendingManual": true, "Failed": true, "NotReady": true}
	deepLinkItemTypes      = map[string]bool{"ltiResourceLink": true, "link": true, "file": true, "html": true, "image": true}
)
