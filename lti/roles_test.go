package lti

import "testing"

func TestParseRole(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor", RoleInstructor, true},
		{"https://purl.imsglobal.org/vocab/lis/v2/membership#Learner", RoleLearner, true},
		{"Instructor", RoleInstructor, true},
		{"Learner", RoleLearner, true},
		{"urn:lti:role:ims/lis/Instructor", RoleInstructor, true},
		{"urn:lti:role:ims/lis/Learner/Learner", RoleLearner, true},
		{"urn:lti:role:ims/lis/Instructor/TeachingAssistant", RoleTeachingAssistant, true},
		{"urn:lti:instrole:ims/lis/Administrator", RoleInstitutionAdmin, true},
		{"urn:lti:sysrole:ims/lis/SysAdmin", RoleSystemSysAdmin, true},
		{"http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant", RoleTeachingAssistant, true},
		{"http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student", RoleInstitutionStudent, true},
		{"http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator", RoleSystemAdministrator, true},
		{"http://purl.imsglobal.org/vocab/lti/system/person#TestUser", RoleTestUser, true},
		{"http://example.com/roles#Boss", "", false},
		{"urn:something:else", "", false},
		{"", "", false},
		{"http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor", "", false},
		{"Bad Role", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, ok := ParseRole(tt.in)
			if ok != tt.wantOK || (ok && r.String() != tt.want) {
				t.Errorf("ParseRole(%q) = %q, %v; want %q, %v", tt.in, r.String(), ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRoleHelpers(t *testing.T) {
	tests := []struct {
		name                                   string
		roles                                  Roles
		instructor, learner, admin, teacherish bool
	}{
		{"empty", Roles{}, false, false, false, false},
		{"learner", Roles{RoleLearner}, false, true, false, false},
		{"short instructor", Roles{"Instructor"}, true, false, false, true},
		{"TA sub-role only", Roles{RoleTeachingAssistant}, true, false, false, true},
		{"legacy TA principal", Roles{"urn:lti:role:ims/lis/TeachingAssistant"}, false, false, false, true},
		{"content developer", Roles{RoleContentDeveloper}, false, false, false, true},
		{"mentor", Roles{RoleMentor}, false, false, false, true},
		{"context admin", Roles{RoleContextAdministrator}, false, false, true, true},
		{"institution instructor", Roles{RoleInstitutionInstructor}, true, false, false, true},
		{"institution student", Roles{RoleInstitutionStudent}, false, true, false, false},
		{"system admin only", Roles{RoleSystemAdministrator}, false, false, true, false},
		{"sysadmin only", Roles{"urn:lti:sysrole:ims/lis/SysAdmin"}, false, false, true, false},
		{"moodle admin", Roles{RoleInstructor, RoleInstitutionAdmin, RoleSystemAdministrator}, true, false, true, true},
		{"unknown ignored", Roles{"http://example.com/x#Instructor", "Nonsense Role"}, false, false, false, false},
		{"learner sub-role", Roles{RoleSubPrefix + "Learner#NonCreditLearner"}, false, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := [4]bool{tt.roles.IsInstructor(), tt.roles.IsLearner(), tt.roles.IsAdmin(), tt.roles.IsTeacherLike()}
			want := [4]bool{tt.instructor, tt.learner, tt.admin, tt.teacherish}
			if got != want {
				t.Errorf("instructor/learner/admin/teacher = %v, want %v", got, want)
			}
		})
	}
	if n := (Roles{"Instructor", "junk/x", "urn:lti:instrole:ims/lis/Staff"}).Normalized(); len(n) != 2 ||
		n[0] != RoleInstructor || n[1] != RoleInstitutionPrefix+"Staff" {
		t.Errorf("Normalized = %v", n)
	}
}
