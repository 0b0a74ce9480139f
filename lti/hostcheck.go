package lti

import (
	"net/netip"
	"strings"
)

// NonCanonicalIPv4 reports whether host is an IPv4 address spelled in a way other than four decimal numbers:
// 127.1, 0x7f000001, 2130706433, 0177.0.0.1, 127.0.0.01. Browsers (the WHATWG URL parser) and the C resolver
// (inet_aton) read all of these as IPv4 addresses, while a plain string check sees a host name, so such a host
// hides where a URL really points. A host whose last label is a number is read as IPv4 by browsers, so any such
// host that is not a canonical dotted quad counts, even one that is not a valid address at all.
func NonCanonicalIPv4(host string) bool {
	h := strings.TrimSuffix(strings.TrimSpace(host), ".")
	if h == "" || strings.HasPrefix(h, "[") {
		return false
	}
	last := h[strings.LastIndexByte(h, '.')+1:]
	if !numericLabel(last) {
		return false
	}
	a, err := netip.ParseAddr(h)
	return err != nil || !a.Is4() || a.String() != h
}

// numericLabel reports whether a host label is a number to the WHATWG URL parser: decimal digits, or 0x followed
// by hex digits (or nothing).
func numericLabel(l string) bool {
	if l == "" {
		return false
	}
	if rest, ok := strings.CutPrefix(strings.ToLower(l), "0x"); ok {
		return strings.Trim(rest, "0123456789abcdef") == ""
	}
	return strings.Trim(l, "0123456789") == ""
}
