// Package safehttp builds the one HTTP client ltipub uses for every URL that
// a registration (that is, a platform administrator or a dynamic registration
// request) supplies: JWKS URLs, token endpoints, AGS and NRPS endpoints.
//
// Such URLs are attacker-influenced, so the client refuses to connect to
// loopback, private, link-local, CGNAT, multicast and unspecified addresses
// (server-side request forgery), bounds every request in time, follows only a
// few redirects and caps response bodies.
//
// The address check runs at dial time, on the IP address actually dialled
// after DNS resolution, so DNS rebinding and redirects to internal hosts are
// caught too: every new connection, including one opened for a redirect, goes
// through the same check.
package safehttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Defaults used when the corresponding Options field is zero.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBody      = 1 << 20 // 1 MiB
	DefaultMaxRedirects = 5
)

// Options configures New.
type Options struct {
	// AllowPrivate permits connections to loopback, private, link-local and
	// CGNAT addresses. Set it only for development and tests
	// (--allow-private-urls).
	AllowPrivate bool
	// Timeout bounds a whole request, redirects and body read included.
	// Zero means DefaultTimeout.
	Timeout time.Duration
	// MaxBody caps every response body the client returns; reading past it
	// fails with ErrBodyTooLarge. Zero means DefaultMaxBody.
	MaxBody int64
}

// ErrBlockedAddress is matched (errors.Is) by every *BlockedAddressError.
var ErrBlockedAddress = errors.New("address not allowed")

// ErrBodyTooLarge reports a response body over the configured limit.
var ErrBodyTooLarge = errors.New("response body too large")

// BlockedAddressError reports a refused connection to a non-public address.
type BlockedAddressError struct {
	Host string     // host name as written in the URL
	Addr netip.Addr // the resolved address that was refused
}

func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("refusing to connect to %s (%s): %s addresses are not allowed for registration URLs; "+
		"start ltipub with --allow-private-urls to allow them (development only)", e.Host, e.Addr, classify(e.Addr))
}

// PublicCause says why without the address the host resolved to: pages that anyone may see show it (the whole
// error, with the address, goes to the log).
func (e *BlockedAddressError) PublicCause() string {
	return "its host name points to a loopback, private or otherwise non-public address, which ltipub does not call " +
		"(the server's log has the address; --allow-private-urls allows them in development)"
}

// Is makes errors.Is(err, ErrBlockedAddress) true.
func (e *BlockedAddressError) Is(target error) bool { return target == ErrBlockedAddress }

// New returns an *http.Client guarded as described in the package comment.
// It ignores HTTP_PROXY and friends: with a proxy the dial-time check would
// only see the proxy's address, not the target's.
func New(opts Options) *http.Client {
	allow := Public
	if opts.AllowPrivate {
		allow = func(netip.Addr) bool { return true }
	}
	return newClient(opts, allow)
}

func newClient(opts Options, allow func(netip.Addr) bool) *http.Client {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	maxBody := opts.MaxBody
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		d := net.Dialer{
			Timeout:   timeout,
			KeepAlive: 30 * time.Second,
			// Control runs after resolution, once per address tried, so it
			// sees the IP really dialled.
			Control: func(_, address string, _ syscall.RawConn) error {
				ap, err := netip.ParseAddrPort(address)
				if err != nil {
					return fmt.Errorf("safehttp: unexpected dial address %q: %w", address, err)
				}
				if a := ap.Addr().Unmap(); !allow(a) {
					return &BlockedAddressError{Host: host, Addr: a}
				}
				return nil
			},
		}
		return d.DialContext(ctx, network, addr)
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: &limitTransport{next: tr, max: maxBody},
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= DefaultMaxRedirects {
				return fmt.Errorf("safehttp: stopped after %d redirects (last to %s)", len(via), req.URL.Redacted())
			}
			if req.URL.Scheme != "https" && req.URL.Scheme != "http" {
				return fmt.Errorf("safehttp: refusing redirect to scheme %q", req.URL.Scheme)
			}
			return nil
		},
	}
}

// Public reports whether a is an address registration URLs may reach: not
// loopback, private (RFC 1918, fc00::/7), link-local, unspecified,
// multicast, CGNAT (100.64.0.0/10) or otherwise reserved.
func Public(a netip.Addr) bool { return classify(a) == "" }

var (
	cgnat     = netip.MustParsePrefix("100.64.0.0/10")
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	reserved4 = netip.MustParsePrefix("240.0.0.0/4") // includes broadcast
	ietf4     = netip.MustParsePrefix("192.0.0.0/24")
	bench4    = netip.MustParsePrefix("198.18.0.0/15")
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	nat64loc  = netip.MustParsePrefix("64:ff9b:1::/48")
	sixto4    = netip.MustParsePrefix("2002::/16")
)

// classify returns why a is not public, or "" when it is.
func classify(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "invalid"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "link-local"
	case a.IsUnspecified():
		return "unspecified"
	case a.IsMulticast(), a.IsInterfaceLocalMulticast():
		return "multicast"
	case cgnat.Contains(a):
		return "CGNAT"
	case thisNet.Contains(a), reserved4.Contains(a), ietf4.Contains(a), bench4.Contains(a), nat64loc.Contains(a):
		return "reserved"
	case nat64.Contains(a):
		// NAT64 embeds an IPv4 address in the last 32 bits.
		b := a.As16()
		return classify(netip.AddrFrom4([4]byte(b[12:16])))
	case sixto4.Contains(a):
		// 6to4 embeds an IPv4 address in bits 16-47.
		b := a.As16()
		return classify(netip.AddrFrom4([4]byte(b[2:6])))
	}
	return ""
}

// ReadLimited reads resp.Body up to max bytes (DefaultMaxBody when max <= 0)
// and closes it. A longer body fails with an error wrapping ErrBodyTooLarge.
func ReadLimited(resp *http.Response, max int64) ([]byte, error) {
	defer resp.Body.Close()
	if max <= 0 {
		max = DefaultMaxBody
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("read response body: %w", err)
	}
	if int64(len(b)) > max {
		return nil, tooLarge(resp, max)
	}
	return b, nil
}

func tooLarge(resp *http.Response, max int64) error {
	where := "response"
	if resp.Request != nil && resp.Request.URL != nil {
		where = resp.Request.URL.Redacted()
	}
	return fmt.Errorf("%w: %s returned more than %d bytes", ErrBodyTooLarge, where, max)
}

// limitTransport caps every response body, so callers that forget
// ReadLimited still cannot be made to buffer unbounded data.
type limitTransport struct {
	next http.RoundTripper
	max  int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max, resp: resp, max: t.max}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
	max  int64
	resp *http.Response
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe one byte to tell "exactly max" from "more than max".
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, tooLarge(b.resp, b.max)
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
