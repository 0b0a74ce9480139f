package lti

import "strings"

// Role vocabularies.
const (
	RoleContextPrefix     = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
	RoleSubPrefix         = "http://purl.imsglobal.org/vocab/lis/v2/membership/" // + Principal#Sub
	RoleInstitutionPrefix = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
	RoleSystemPrefix      = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"
	RoleLTISystemPrefix   = "http://purl.imsglobal.org/vocab/lti/system/person#"
)

// Common full role URIs.
const (
	RoleInstructor            = RoleContextPrefix + "Instructor"
	RoleLearner               = RoleContextPrefix + "Learner"
	RoleContextAdministrator  = RoleContextPrefix + "Administrator"
	RoleContentDeveloper      = RoleContextPrefix + "ContentDeveloper"
	RoleMentor                = RoleContextPrefix + "Mentor"
	RoleTeachingAssistant     = RoleSubPrefix + "Instructor#TeachingAssistant"
	RoleInstitutionAdmin      = RoleInstitutionPrefix + "Administrator"
	RoleInstitutionStudent    = RoleInstitutionPrefix + "Student"
	RoleInstitutionInstructor = RoleInstitutionPrefix + "Instructor"
	RoleSystemAdministrator   = RoleSystemPrefix + "Administrator"
	RoleSystemSysAdmin        = RoleSystemPrefix + "SysAdmin"
	RoleTestUser              = RoleLTISystemPrefix + "TestUser"
	roleLegacyContextPrefix   = "urn:lti:role:ims/lis/"
	roleLegacyInstrolePrefix  = "urn:lti:instrole:ims/lis/"
	roleLegacySysrolePrefix   = "urn:lti:sysrole:ims/lis/"
	roleHTTPSVocabPrefix      = "https://purl.imsglobal.org/vocab/"
	roleHTTPVocabPrefix       = "http://purl.imsglobal.org/vocab/"
)

// RoleScope says what a role applies to.
type RoleScope int

// Role scopes.
const (
	ScopeContext     RoleScope = iota + 1 // membership in the launch's context
	ScopeInstitution                      // the person's role in the institution
	ScopeSystem                           // the person's role in the platform
)

// Role is a parsed role. Name is the principal role ("Instructor"), Sub the
// optional sub-role ("TeachingAssistant").
type Role struct {
	Scope RoleScope
	Name  string
	Sub   string
}

// String returns the role's full URI.
func (r Role) String() string {
	switch r.Scope {
	case ScopeContext:
		if r.Sub != "" {
			return RoleSubPrefix + r.Name + "#" + r.Sub
		}
		return RoleContextPrefix + r.Name
	case ScopeInstitution:
		return RoleInstitutionPrefix + r.Name
	case ScopeSystem:
		if r.Name == "TestUser" {
			return RoleLTISystemPrefix + r.Name
		}
		return RoleSystemPrefix + r.Name
	}
	return ""
}

// ParseRole normalises a role given as a full URI, a short context role
// ("Instructor"), or an LTI 1.1 URN (urn:lti:role|instrole|sysrole:ims/lis/X,
// with X possibly "Principal/Sub"). It reports false for anything else;
// callers ignore such roles.
func ParseRole(s string) (Role, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, roleHTTPSVocabPrefix) {
		s = roleHTTPVocabPrefix + s[len(roleHTTPSVocabPrefix):]
	}
	switch {
	case strings.HasPrefix(s, RoleContextPrefix):
		return nameRole(ScopeContext, s[len(RoleContextPrefix):])
	case strings.HasPrefix(s, RoleSubPrefix):
		p, sub, ok := strings.Cut(s[len(RoleSubPrefix):], "#")
		if !ok || !validName(p) || !validName(sub) {
			return Role{}, false
		}
		return Role{Scope: ScopeContext, Name: p, Sub: sub}, true
	case strings.HasPrefix(s, RoleInstitutionPrefix):
		return nameRole(ScopeInstitution, s[len(RoleInstitutionPrefix):])
	case strings.HasPrefix(s, RoleSystemPrefix):
		return nameRole(ScopeSystem, s[len(RoleSystemPrefix):])
	case strings.HasPrefix(s, RoleLTISystemPrefix):
		return nameRole(ScopeSystem, s[len(RoleLTISystemPrefix):])
	case strings.HasPrefix(s, roleLegacyContextPrefix):
		return urnRole(ScopeContext, s[len(roleLegacyContextPrefix):])
	case strings.HasPrefix(s, roleLegacyInstrolePrefix):
		return urnRole(ScopeInstitution, s[len(roleLegacyInstrolePrefix):])
	case strings.HasPrefix(s, roleLegacySysrolePrefix):
		return urnRole(ScopeSystem, s[len(roleLegacySysrolePrefix):])
	case strings.Contains(s, ":") || strings.Contains(s, "/") || strings.Contains(s, "#"):
		return Role{}, false // some other vocabulary: ignore
	}
	return nameRole(ScopeContext, s) // short form: a context role
}

func nameRole(scope RoleScope, name string) (Role, bool) {
	if !validName(name) {
		return Role{}, false
	}
	return Role{Scope: scope, Name: name}, true
}

func urnRole(scope RoleScope, rest string) (Role, bool) {
	p, sub, _ := strings.Cut(rest, "/")
	if !validName(p) || (sub != "" && !validName(sub)) {
		return Role{}, false
	}
	if sub == p { // LIS v1 "Learner/Learner" is the principal itself
		sub = ""
	}
	if scope != ScopeContext {
		sub = "" // sub-roles exist only for context roles
	}
	return Role{Scope: scope, Name: p, Sub: sub}, true
}

func validName(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// Roles is the roles claim as the platform sent it. It decodes from an
// array or a single string. Use Parsed or the Is* helpers to interpret it;
// unknown roles are ignored.
type Roles []string

// UnmarshalJSON implements json.Unmarshaler; a missing claim stays nil, an
// empty array becomes an empty non-nil slice.
func (r *Roles) UnmarshalJSON(data []byte) error {
	var l StringList
	if err := l.UnmarshalJSON(data); err != nil {
		return err
	}
	*r = Roles(l)
	return nil
}

// Parsed returns the recognised roles, normalised; unknown ones are dropped.
func (r Roles) Parsed() []Role {
	out := make([]Role, 0, len(r))
	for _, s := range r {
		if role, ok := ParseRole(s); ok {
			out = append(out, role)
		}
	}
	return out
}

// Normalized returns the recognised roles as full URIs.
func (r Roles) Normalized() []string {
	p := r.Parsed()
	out := make([]string, len(p))
	for i, role := range p {
		out[i] = role.String()
	}
	return out
}

func (r Roles) any(f func(Role) bool) bool {
	for _, s := range r {
		if role, ok := ParseRole(s); ok && f(role) {
			return true
		}
	}
	return false
}

func contextOrInstitution(r Role) bool { return r.Scope == ScopeContext || r.Scope == ScopeInstitution }

// IsInstructor reports an Instructor role (context or institution) or any
// Instructor sub-role such as Instructor#TeachingAssistant.
func (r Roles) IsInstructor() bool {
	return r.any(func(role Role) bool {
		return contextOrInstitution(role) && role.Name == "Instructor"
	})
}

// IsLearner reports a Learner role (context or institution, sub-roles
// included) or the institution Student role.
func (r Roles) IsLearner() bool {
	return r.any(func(role Role) bool {
		return contextOrInstitution(role) && role.Name == "Learner" ||
			role.Scope == ScopeInstitution && role.Name == "Student"
	})
}

// IsAdmin reports an Administrator role in any scope, or the system
// SysAdmin or AccountAdmin roles.
func (r Roles) IsAdmin() bool {
	return r.any(func(role Role) bool {
		return role.Name == "Administrator" ||
			role.Scope == ScopeSystem && (role.Name == "SysAdmin" || role.Name == "AccountAdmin")
	})
}

// IsTeacherLike is ltipub's rule for who manages content: Instructor,
// Administrator, ContentDeveloper, Mentor or TeachingAssistant, as a context
// or institution role, principal or sub-role. Everyone else is a learner.
// System roles alone do not count: a site admin launching into a course
// gets a context role from the platform if they teach it.
func (r Roles) IsTeacherLike() bool {
	return r.any(func(role Role) bool {
		return contextOrInstitution(role) && (teacherName(role.Name) || teacherName(role.Sub))
	})
}

// CanReviewSubmissions reports whether these roles may open another person's submission (an
// LtiSubmissionReviewRequest): Instructor, its sub-roles (TeachingAssistant among them), or TeachingAssistant,
// as a context or institution role, or a context Administrator.
func (r Roles) CanReviewSubmissions() bool {
	return r.any(func(role Role) bool {
		if !contextOrInstitution(role) {
			return false
		}
		return role.Name == "Instructor" || strings.HasPrefix(role.Name, "TeachingAssistant") ||
			role.Scope == ScopeContext && role.Name == "Administrator"
	})
}

func teacherName(n string) bool {
	switch n {
	case "Instructor", "Administrator", "ContentDeveloper", "Mentor":
		return true
	}
	return strings.HasPrefix(n, "TeachingAssistant")
}
