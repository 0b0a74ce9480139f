package launch

import (
	"strings"
	"unicode"

	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

// PlatformName names the platform of a launch for people, the same way wherever ltipub shows it (the return
// link, the launch log), whichever way it was registered: "Moodle 4.3", not "Moodle 4.3 (Build: 20231009)"
// after dynamic registration, "the course" after a manual one and "moodle43" (the instance's short name) for
// LTI 1.1, as it used to. In order: what dynamic registration recorded, the product the launch names, the
// registration's own name, the instance name; "" when nothing names it.
func PlatformName(m *lti.Message, reg tool.Registration) string {
	if reg.ID != 0 && reg.ProductFamily != "" {
		if n := cleanVersion(reg.PlatformName); n != "" {
			return n
		}
	}
	if m != nil && m.ToolPlatform != nil {
		if fam := m.ToolPlatform.Family(); fam != "" {
			n := tool.ProductName(fam)
			if v := cleanVersion(m.ToolPlatform.Version); v != "" {
				n += " " + v
			}
			return n
		}
	}
	if reg.ID != 0 && reg.Name != "" {
		return reg.Name
	}
	if m != nil && m.ToolPlatform != nil && m.ToolPlatform.Name != "" {
		return m.ToolPlatform.Name
	}
	return reg.PlatformName
}

// cleanVersion drops build details: a parenthesised suffix ("4.3 (Build: 20231009)" is 4.3) and a bare build
// number (Moodle sends its internal version, 2023100900, in tool_platform.version).
func cleanVersion(v string) string {
	if i := strings.Index(v, " ("); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimSpace(v)
	if len(v) >= 8 && strings.IndexFunc(v, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' }) < 0 && !strings.Contains(v, ".") {
		return ""
	}
	return v
}
