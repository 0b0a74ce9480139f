package launch

import (
	"testing"

	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

// One name per platform, whichever way it came in (issue 16: "Return to Moodle 4.3 (Build: 20231009)", "Return to
// the course" and "Return to moodle43" for one Moodle).
func TestPlatformName(t *testing.T) {
	moodle13 := &lti.Message{ToolPlatform: &lti.ToolPlatform{ProductFamilyCode: "moodle", Version: "2023100900", Name: "moodle43"}}
	moodle11 := &lti.Message{ToolPlatform: &lti.ToolPlatform{ProductFamilyCode: "moodle", Name: "moodle43"}}
	tests := []struct {
		name string
		m    *lti.Message
		reg  tool.Registration
		want string
	}{
		{"dynamic registration", moodle13, tool.Registration{ID: 1, Name: "Moodle", PlatformName: "Moodle 4.3 (Build: 20231009)", ProductFamily: "moodle"}, "Moodle 4.3"},
		{"manual registration", moodle13, tool.Registration{ID: 2, Name: "Our Moodle"}, "Moodle"},
		{"LTI 1.1", moodle11, tool.Registration{Issuer: "key", PlatformName: "moodle43"}, "Moodle"},
		{"a version with dots", &lti.Message{ToolPlatform: &lti.ToolPlatform{ProductFamilyCode: "canvas", Version: "cloud"}}, tool.Registration{ID: 3}, "Canvas cloud"},
		{"no product: the registration's name", &lti.Message{}, tool.Registration{ID: 4, Name: "Campus LMS"}, "Campus LMS"},
		{"LTI 1.1 without a product: the instance", &lti.Message{ToolPlatform: &lti.ToolPlatform{Name: "lms1"}}, tool.Registration{}, "lms1"},
		{"nothing", &lti.Message{}, tool.Registration{}, ""},
	}
	for _, tt := range tests {
		if got := PlatformName(tt.m, tt.reg); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
