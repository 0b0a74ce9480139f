// Package lti2 is the LTI 2.0 tool proxy registration, as far as a tool needs it to be registered by a platform
// that still offers it (Moodle's "Publish as LTI tool" registration URL, Sakai, older Canvas): the
// ToolProxyRegistrationRequest message, the tool consumer profile the platform describes itself with, the tool
// proxy the tool proposes (resource handlers, enabled capabilities, security contract), the split secret, the
// signed POST of the tool proxy to the platform's ToolProxy service, and the way back to the platform. Launches
// after registration are LTI 1.1-shaped (basic-lti-launch-request, lti_version=LTI-2p0, OAuth 1.0a signed with
// the tool proxy GUID as consumer key): package lti11 checks them.
//
// Like packages lti and lti11 it has no storage and no HTML: callers pass an *http.Client and a signer, and every
// failure is an *lti.Error whose Description and Fix a person can read.
package lti2

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/lti11"
)

// Message types, versions, media types and JSON-LD contexts of LTI 2.0.
const (
	MessageRegistration = "ToolProxyRegistrationRequest"
	// MessageReregistration is the platform's request to change a registered tool proxy (not supported).
	MessageReregistration = "ToolProxyReregistrationRequest"
	MessageLaunch         = lti11.MessageLaunch
	Version               = lti11.Version2p0

	MediaToolProxy       = "application/vnd.ims.lti.v2.toolproxy+json"
	MediaToolProxyID     = "application/vnd.ims.lti.v2.toolproxy.id+json"
	MediaConsumerProfile = "application/vnd.ims.lti.v2.toolconsumerprofile+json"
	MediaMemberships     = "application/vnd.ims.lis.v2.membershipcontainer+json"

	ContextToolProxy       = "http://purl.imsglobal.org/ctx/lti/v2/ToolProxy"
	ContextToolProxyID     = "http://purl.imsglobal.org/ctx/lti/v2/ToolProxyId"
	ContextConsumerProfile = "http://purl.imsglobal.org/ctx/lti/v2/ToolConsumerProfile"

	// CapSplitSecret is the capability of a platform that accepts a split secret: the tool sends half of the
	// shared secret (tp_half_shared_secret), the platform answers with the other half (tc_half_shared_secret),
	// and the shared secret is the platform's half followed by the tool's.
	CapSplitSecret = "OAuth.splitSecret"
)

// Codes of the failures this package reports (as *lti.Error).
const (
	CodeMessageType        lti.Code = "lti2_message_type"
	CodeVersion            lti.Code = "lti2_version"
	CodeParamInvalid       lti.Code = "lti2_param_invalid"
	CodeProfileUnreachable lti.Code = "lti2_profile_unreachable"
	CodeProfileInvalid     lti.Code = "lti2_profile_invalid"
	CodeCapabilityMissing  lti.Code = "lti2_capability_missing"
	CodeServiceMissing     lti.Code = "lti2_service_missing"
	CodeToolProxyRefused   lti.Code = "lti2_tool_proxy_refused"
	CodeToolProxyAnswer    lti.Code = "lti2_tool_proxy_answer"
)

// Sentinels for errors.Is.
var (
	ErrMessageType        = &lti.Error{Code: CodeMessageType}
	ErrVersion            = &lti.Error{Code: CodeVersion}
	ErrParamInvalid       = &lti.Error{Code: CodeParamInvalid}
	ErrProfileUnreachable = &lti.Error{Code: CodeProfileUnreachable}
	ErrProfileInvalid     = &lti.Error{Code: CodeProfileInvalid}
	ErrCapabilityMissing  = &lti.Error{Code: CodeCapabilityMissing}
	ErrServiceMissing     = &lti.Error{Code: CodeServiceMissing}
	ErrToolProxyRefused   = &lti.Error{Code: CodeToolProxyRefused}
	ErrToolProxyAnswer    = &lti.Error{Code: CodeToolProxyAnswer}
)

// RegistrationRequest is a ToolProxyRegistrationRequest: the platform's registration credentials (reg_key and
// reg_password, with which the tool signs the tool proxy it posts), where its profile is, and where the browser
// goes back to.
type RegistrationRequest struct {
	Key        string
	Password   string
	ProfileURL string
	ReturnURL  string
	// Signed is set when the message carries an OAuth signature (some platforms, Moodle's among them, send the
	// registration request unsigned: the password travels in it anyway).
	Signed bool
}

// String describes the request for logs, without the password.
func (r *RegistrationRequest) String() string {
	return fmt.Sprintf("reg_key=%s tc_profile_url=%s return=%s signed=%v", r.Key, r.ProfileURL, r.ReturnURL, r.Signed)
}

// ParseRegistration reads and checks a registration request's parameters (the OAuth ones are VerifyRegistration's):
// message type, version, the four required parameters, absolute http(s) URLs.
func ParseRegistration(v url.Values) (*RegistrationRequest, error) {
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	switch mt := get("lti_message_type"); mt {
	case MessageRegistration:
	case "":
		return nil, lti11.MissingParam("lti_message_type")
	case MessageReregistration:
		return nil, &lti.Error{Code: CodeMessageType, Description: "The platform asked to change an existing tool proxy (ToolProxyReregistrationRequest), which this tool does not support",
			Fix: "delete the tool proxy in the platform and register the tool again with its registration URL"}
	default:
		return nil, &lti.Error{Code: CodeMessageType, Description: fmt.Sprintf("Invalid lti_message_type parameter %q: this registration URL only accepts ToolProxyRegistrationRequest", mt),
			Fix: "use the registration URL in the platform's LTI 2.0 tool registration (tool proxy) settings; launches go to the launch URL"}
	}
	switch ver := get("lti_version"); ver {
	case Version:
	case "":
		return nil, lti11.MissingParam("lti_version")
	default:
		return nil, &lti.Error{Code: CodeVersion, Description: fmt.Sprintf("Invalid lti_version parameter %q: tool proxy registration is LTI-2p0", ver),
			Fix: "register the tool from the platform's LTI 2.0 registration; for LTI 1.1 use the launch URL, consumer key and secret"}
	}
	r := &RegistrationRequest{Key: get("reg_key"), Password: v.Get("reg_password"), ProfileURL: get("tc_profile_url"),
		ReturnURL: get("launch_presentation_return_url"), Signed: v.Get("oauth_signature") != ""}
	for _, p := range [][2]string{{"reg_key", r.Key}, {"reg_password", r.Password}, {"tc_profile_url", r.ProfileURL},
		{"launch_presentation_return_url", r.ReturnURL}} {
		if strings.TrimSpace(p[1]) == "" {
			return nil, &lti.Error{Code: lti11.CodeParamMissing, Description: fmt.Sprintf("A required parameter (%s) was missing", p[0]),
				Fix: "the platform must send reg_key, reg_password, tc_profile_url and launch_presentation_return_url with a tool proxy registration request"}
		}
	}
	for _, p := range [][2]string{{"tc_profile_url", r.ProfileURL}, {"launch_presentation_return_url", r.ReturnURL}} {
		if !httpURL(p[1]) {
			return nil, &lti.Error{Code: CodeParamInvalid, Description: fmt.Sprintf("The %s parameter %q is not an absolute http or https URL", p[0], p[1]),
				Fix: "the platform must send absolute URLs; check its site address (wwwroot) setting"}
		}
	}
	return r, nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// VerifyRegistration checks a signed registration request: oauth_consumer_key must be reg_key, and the signature,
// timestamp and nonce must pass v with reg_password as the secret. signedURL is the registration URL as the
// tool's public base URL says it. An unsigned request is the caller's to accept or refuse.
func VerifyRegistration(ctx context.Context, r *RegistrationRequest, v *lti11.Verifier, method, signedURL string, ps lti11.Params) error {
	if err := lti11.CheckOAuthParams(ps); err != nil {
		return err
	}
	if k := ps.Get("oauth_consumer_key"); k != r.Key {
		return &lti.Error{Code: lti11.CodeBadSignature, Description: fmt.Sprintf("The registration request is signed as %q, not as its reg_key %q", k, r.Key),
			Fix: "the platform must sign the registration request with reg_key as the consumer key and reg_password as the secret"}
	}
	return v.Verify(ctx, method, signedURL, ps, r.Password)
}

// NewHalfSecret returns the tool's half of a split secret: 128 hexadecimal digits (512 random bits), as the
// LTI 2.0 security contract asks.
func NewHalfSecret() string {
	b := make([]byte, 64)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// SplitSecret is the shared secret of a split-secret contract: the platform's half followed by the tool's.
func SplitSecret(tcHalf, tpHalf string) string { return tcHalf + tpHalf }

// ReturnURL is where the browser goes back to after a registration: the platform's
// launch_presentation_return_url with status=success and tool_proxy_guid (and lti_msg), or status=failure with
// lti_errormsg. Parameters the URL already has are kept.
func ReturnURL(returnURL string, success bool, guid, msg string) (string, error) {
	u, err := url.Parse(returnURL)
	if err != nil || !httpURL(returnURL) {
		return "", fmt.Errorf("return URL %q is not an absolute http(s) URL", returnURL)
	}
	q := u.Query()
	if success {
		q.Set("status", "success")
		q.Set("tool_proxy_guid", guid)
		if msg != "" {
			q.Set("lti_msg", msg)
		}
	} else {
		q.Set("status", "failure")
		if msg != "" {
			q.Set("lti_errormsg", msg)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
