package lti

import "testing"

func TestNonCanonicalIPv4(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"127.1", true}, {"0x7f000001", true}, {"2130706433", true}, {"0177.0.0.1", true}, {"127.0.0.01", true},
		{"0x7f.0.0.1", true}, {"127.0.1", true}, {"1.2.3.4.5", true}, {"999.1.1.1", true}, {"127.0.0.1.", false},
		{"0X7F000001", true}, {"example.0x10", true}, {"evil.example.123", true},
		{"127.0.0.1", false}, {"10.0.0.1", false}, {"lms.example.edu", false}, {"localhost", false}, {"[::1]", false},
		{"moodle4.example", false}, {"123.example", false}, {"0xcafe.example", false}, {"", false},
	}
	for _, tt := range tests {
		if got := NonCanonicalIPv4(tt.host); got != tt.want {
			t.Errorf("NonCanonicalIPv4(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}
