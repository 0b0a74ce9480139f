package web

import (
	"net/url"
	"strings"
)

// localRedirect returns next when it is a path on this site, and fallback otherwise, so that ?next= (or any other
// redirect target a request carries) cannot send people to another site. It is the one redirect-target check.
//
// Browsers do not take a Location header literally: they drop tabs and newlines anywhere, trim control characters
// and spaces at the ends, read a backslash as a slash, and take "//host" or "/\host" as another site. Rather than
// predict every such rewrite, the check accepts only what needs none: printable ASCII without backslashes, one
// leading slash followed by something other than a slash, and no scheme, host or user once Go has parsed it.
// Everything ltipub itself puts into ?next= (a request URI, percent-encoded) passes.
func localRedirect(next, fallback string) string {
	if !isLocalPath(next) {
		return fallback
	}
	return next
}

// maxRedirectLength bounds a redirect target: longer is not a path ltipub made.
const maxRedirectLength = 2048

func isLocalPath(next string) bool {
	if next == "" || len(next) > maxRedirectLength || next[0] != '/' {
		return false
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return false
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	// A percent-encoded slash or backslash right after the first slash is harmless to browsers, but a server or
	// proxy in front of ltipub might decode it before answering; refuse it rather than depend on that.
	return !strings.HasPrefix(u.Path, "//") && !strings.HasPrefix(u.Path, "/\\")
}
