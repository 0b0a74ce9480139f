package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr names the client a request comes from, for sign-in throttling: its IP address, or its /64 network
// for IPv6 (one host usually holds a whole /64). Behind a reverse proxy listed in Config.TrustedProxies the address
// is the right-most X-Forwarded-For entry that is not itself a trusted proxy; a client cannot forge its way past
// that, since only the proxies' own entries are skipped.
func (s *Server) clientAddr(r *http.Request) string {
	addr := remoteIP(r.RemoteAddr)
	if addr.IsValid() && s.trustedProxy(addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break
			}
			addr = hop.Unmap()
			if !s.trustedProxy(addr) {
				break
			}
		}
	}
	if !addr.IsValid() {
		return r.RemoteAddr
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

func remoteIP(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
