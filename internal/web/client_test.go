package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientAddr(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}}}
	tests := []struct {
		name, remote, xff, want string
	}{
		{"direct", "192.0.2.7:5000", "", "192.0.2.7"},
		{"direct ignores a forged header", "192.0.2.7:5000", "198.51.100.1", "192.0.2.7"},
		{"behind a proxy", "10.1.2.3:5000", "198.51.100.1", "198.51.100.1"},
		{"two proxies", "127.0.0.1:5000", "198.51.100.1, 10.9.9.9", "198.51.100.1"},
		{"a forged entry before the real client", "10.1.2.3:5000", "203.0.113.66, 198.51.100.1", "198.51.100.1"},
		{"garbage stops the walk", "10.1.2.3:5000", "198.51.100.1, nonsense", "10.1.2.3"},
		{"IPv6 counts per /64", "[2001:db8:1:2:3:4:5:6]:443", "", "2001:db8:1:2::/64"},
		{"mapped IPv4", "[::ffff:192.0.2.7]:443", "", "192.0.2.7"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := s.clientAddr(r); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
