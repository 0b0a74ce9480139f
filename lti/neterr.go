package lti

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"syscall"
)

// PublicNetCause is publicNetCause for the protocol's other packages (lti/lti2).
func PublicNetCause(err error) string { return publicNetCause(err) }

// publicNetCause says in a few words why a request to a platform failed, without the details a network error
// carries (resolver addresses, resolved internal addresses, local ports). Registration pages are open to anyone
// who holds a registration URL, so they show this; the whole error goes to the log through Error.Err.
func publicNetCause(err error) string {
	var pc interface{ PublicCause() string }
	var dns *net.DNSError
	var ne net.Error
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr x509.CertificateInvalidError
	var certVerify *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &pc):
		return pc.PublicCause()
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "its host name does not exist in DNS"
		}
		return "its host name could not be looked up"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "it did not answer in time"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "it refused the connection"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "it closed the connection"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "it cannot be reached from the tool's server"
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &certErr), errors.As(err, &certVerify):
		return "its TLS certificate is not valid for its host name or not signed by a trusted authority"
	case errors.As(err, &recordErr):
		return "it does not speak TLS on that port"
	}
	return "the connection failed"
}
