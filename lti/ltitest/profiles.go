package ltitest

// Profile is a platform's way of doing LTI where it differs from the specification or from other platforms: the
// reference platform configured to behave like it, and how its launches look. Tests run the same flows against
// every profile, so that a tool that only works with one platform's habits fails here first. Each quirk names
// its source.
type Profile struct {
	Name string
	// Configure sets the platform's quirks on a Config before NewServer.
	Configure func(*Config)
	// DeploymentID is a deployment ID in the platform's form.
	DeploymentID string
	// LearnerRoles and InstructorRoles are the roles claim of a student's and a teacher's launch.
	LearnerRoles, InstructorRoles []string
	// Custom are custom parameters the platform adds to every launch, as it sends them.
	Custom map[string]string
	// Storage is whether the platform offers LTI platform storage (lti_storage_target) to launches.
	Storage bool
	// StaleScore409 is whether a score not newer than the stored one is refused with 409 (else ignored).
	StaleScore409 bool
	// Dynamic is whether the platform registers tools by LTI Dynamic Registration.
	Dynamic bool
	// SharedIssuer, when set, is the issuer every instance of the platform uses (Config.Issuer): its
	// registrations are told apart by client_id alone, and its endpoints are not under the issuer.
	SharedIssuer string
}

// CanvasIssuer is the issuer of every Instructure-hosted Canvas (production).
const CanvasIssuer = "https://canvas.instructure.com"

// Role URIs platforms send besides the context role.
const (
	RoleSystemUser = "http://purl.imsglobal.org/vocab/lis/v2/system/person#User"
	// RoleShortLearner is the short form LTI 1.1 used and the LTI 1.3 core specification still lists as
	// deprecated-but-seen (LTI 1.3 §A.2.2, "simple names").
	RoleShortLearner    = "Learner"
	RoleShortInstructor = "Instructor"
)

// Profiles are the platforms ltipub meets most. Each is a reading of the platform's documentation or code, as
// cited; where a behaviour is only reported, the comment says so.
func Profiles() []Profile {
	return []Profile{
		{
			Name: "moodle",
			Configure: func(c *Config) {
				c.ProductFamilyCode = "moodle"
				// Moodle appends type_id to every service URL it hands out (mod/lti/locallib.php,
				// lti_get_launch_data: ?type_id=N on the AGS and NRPS endpoints).
				c.ServiceQuery = "type_id=4"
				// A score not newer than the stored one: 409 (mod/lti/service/gradebookservices/classes/local/
				// resources/scores.php, "Refusing score with an earlier timestamp").
				c.RejectStaleScores = true
				// Link headers with typographic quotes (mod/lti/service/memberships; seen in the field and handled
				// by ltijs and pylti1.3).
				c.Links = LinkCurly
			},
			// Numeric deployment IDs: the tool type's id (mod/lti/locallib.php, 'deployment_id' => $typeid).
			DeploymentID: "4",
			// Context role plus institution role (mod/lti/locallib.php lti_get_ims_role with LTI 1.3 URIs).
			LearnerRoles:    []string{RoleLearner, RoleInstitutionStudent},
			InstructorRoles: []string{RoleInstructor, RoleInstitutionFaculty},
			StaleScore409:   true,
			Dynamic:         true, // Moodle 3.10 and later
		},
		{
			Name: "canvas",
			Configure: func(c *Config) {
				c.ProductFamilyCode = "canvas"
				// Canvas records scoreGiven for the gradebook only with gradingProgress FullyGraded (Canvas
				// developer docs, Score API: a score in another state leaves the submission ungraded).
				c.ScoresOnlyWhenFullyGraded = true
			},
			// "<id>:<context hash>" deployment IDs (Canvas developer docs, LTI launch overview, deployment_id).
			DeploymentID:    "12653:8865aa05b4b79b64a91a86042e43af5ea8ae79eb",
			LearnerRoles:    []string{RoleLearner, RoleInstitutionStudent, RoleSystemUser},
			InstructorRoles: []string{RoleInstructor, RoleInstitutionFaculty, RoleSystemUser},
			// Custom fields whose variable Canvas cannot expand are sent unexpanded (Canvas developer docs,
			// variable substitutions: "if a variable is not available, the literal is sent").
			Custom: map[string]string{"canvas_sis_id": "$Canvas.user.sisid", "canvas_course_id": "$Canvas.course.id"},
			// Platform storage: documented (Canvas developer docs, "Launching without cookies").
			Storage: true,
			Dynamic: true, // Canvas developer docs, "LTI Registration" (dynamic registration)
			// One issuer for every Instructure-hosted Canvas, whatever the instance's domain; the instance's
			// developer key (client_id) tells registrations apart (Canvas developer docs, LTI Launch Overview,
			// step 1: "Instructure-hosted Canvas instances all use the following, regardless of the specific
			// account domain(s)"). Its endpoints are not under the issuer: the OIDC auth endpoint
			// https://sso.canvaslms.com/api/lti/authorize_redirect and the keys at
			// https://sso.canvaslms.com/api/lti/security/jwks, "environment-specific, but not domain-specific"
			// (Canvas developer docs, Configuring LTI Advantage Tools). Not set in Configure: this server
			// serves its configuration from 127.0.0.1, where a tool must refuse Canvas's issuer in dynamic
			// registration (ltipub accepts it from https://*.instructure.com only, lti.issuerConsistent); the
			// launch tests of the shared issuer (internal/web TestCanvasSharedIssuer) set it.
			SharedIssuer: CanvasIssuer,
		},
		{
			Name:      "blackboard",
			Configure: func(c *Config) { c.ProductFamilyCode = "BlackboardLearn" },
			// UUID-like deployment IDs (Anthology developer docs, LTI 1.3 registration: a deployment per site).
			DeploymentID:    "c0f2a3b4-5d6e-4f70-8192-a3b4c5d6e7f8",
			LearnerRoles:    []string{RoleLearner, RoleInstitutionStudent},
			InstructorRoles: []string{RoleInstructor, RoleInstitutionFaculty},
		},
		{
			Name: "brightspace",
			Configure: func(c *Config) {
				c.ProductFamilyCode = "desire2learn"
				// The token endpoint wants its own audience in client assertions, not its URL (Brightspace
				// documentation, LTI Advantage registration: "Brightspace OAuth2 Audience").
				c.TokenAudience = "https://api.brightspace.com/auth/token"
			},
			DeploymentID:    "2f0c6d3e-7c5a-4a1e-9a44-5d1c0e6b8f21",
			LearnerRoles:    []string{RoleLearner, RoleSystemUser},
			InstructorRoles: []string{RoleInstructor, RoleSystemUser},
			Dynamic:         true, // Brightspace documentation: Register Tool → Dynamic
		},
		{
			Name: "sakai",
			Configure: func(c *Config) {
				c.ProductFamilyCode = "sakai"
				// Reported: no paging of memberships, the whole roster at once without a Link header.
				c.Links = LinkNone
			},
			// Small numeric deployment IDs ("1" on a fresh Sakai).
			DeploymentID: "1",
			// Short role names besides the URIs (reported for older Sakai releases).
			LearnerRoles:    []string{RoleLearner, RoleShortLearner},
			InstructorRoles: []string{RoleInstructor, RoleShortInstructor},
			// Sakai sends lti_storage_target=_parent (its LTI 1.3 login, documented in the 1EdTech platform
			// storage implementation guide's list of platforms).
			Storage: true,
			Dynamic: true, // Sakai 22 and later
		},
	}
}
