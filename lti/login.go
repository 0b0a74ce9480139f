package lti

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
)

// LoginInitiation is the platform's OIDC third-party login request (step 1).
// All values are unsigned hints: only Issuer and ClientID select a
// registration, and TargetLinkURI must be checked against the tool's URLs.
type LoginInitiation struct {
	Issuer         string // iss
	LoginHint      string // login_hint, echoed back unchanged
	TargetLinkURI  string // target_link_uri
	LTIMessageHint string // lti_message_hint, echoed back unchanged if present
	DeploymentID   string // lti_deployment_id (optional)
	ClientID       string // client_id (optional)
	StorageTarget  string // lti_storage_target (optional, platform storage)
}

// ParseLoginInitiation reads a login initiation sent by GET (query) or POST
// (form). A missing required parameter is an *Error naming it.
func ParseLoginInitiation(r *http.Request) (LoginInitiation, error) {
	var v url.Values
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		v = r.URL.Query()
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			return LoginInitiation{}, NewError(CodeTokenMalformed, "the login initiation form could not be read", err)
		}
		v = r.Form
	default:
		return LoginInitiation{}, newErr(CodeLoginMethod, nil, "login initiation used method %s; only GET and POST are allowed", r.Method)
	}
	l := LoginInitiation{
		Issuer:         v.Get("iss"),
		LoginHint:      v.Get("login_hint"),
		TargetLinkURI:  v.Get("target_link_uri"),
		LTIMessageHint: v.Get("lti_message_hint"),
		DeploymentID:   v.Get("lti_deployment_id"),
		ClientID:       v.Get("client_id"),
		StorageTarget:  v.Get("lti_storage_target"),
	}
	// Canvas calls its storage frame post_message_forwarding in its platform configuration; accept that name
	// as a parameter too, in case a platform sends it as such.
	if l.StorageTarget == "" {
		l.StorageTarget = v.Get("post_message_forwarding")
	}
	switch {
	case l.Issuer == "":
		return l, NewError(CodeLoginIssuerMissing, "", nil)
	case l.LoginHint == "":
		return l, NewError(CodeLoginHintMissing, "", nil)
	case l.TargetLinkURI == "":
		return l, NewError(CodeLoginTargetMissing, "", nil)
	}
	return l, nil
}

// LogValue logs the login initiation without the opaque hints.
func (l LoginInitiation) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("iss", l.Issuer),
		slog.String("client_id", l.ClientID),
		slog.String("deployment_id", l.DeploymentID),
		slog.String("target_link_uri", l.TargetLinkURI),
	)
}

// AuthRequest is the tool's OIDC authentication request (step 2).
type AuthRequest struct {
	ClientID       string
	RedirectURI    string // exactly one of the redirect URIs registered at the platform
	LoginHint      string
	LTIMessageHint string // optional
	State          string // from NewState, bound to the browser
	Nonce          string // from NewNonce, stored server-side
}

// URL returns the authentication request as a GET URL on authEndpoint
// (the platform's OIDC auth endpoint; its own query parameters are kept).
func (a AuthRequest) URL(authEndpoint string) (string, error) {
	u, err := url.Parse(authEndpoint)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("lti: auth endpoint %q is not an absolute http(s) URL", authEndpoint)
	}
	switch {
	case a.ClientID == "":
		return "", errors.New("lti: AuthRequest needs ClientID")
	case a.RedirectURI == "":
		return "", errors.New("lti: AuthRequest needs RedirectURI")
	case a.LoginHint == "":
		return "", errors.New("lti: AuthRequest needs LoginHint")
	case a.State == "" || a.Nonce == "":
		return "", errors.New("lti: AuthRequest needs State and Nonce")
	}
	q := u.Query()
	q.Set("scope", "openid")
	q.Set("response_type", "id_token")
	q.Set("response_mode", "form_post")
	q.Set("prompt", "none")
	q.Set("client_id", a.ClientID)
	q.Set("redirect_uri", a.RedirectURI)
	q.Set("login_hint", a.LoginHint)
	if a.LTIMessageHint != "" {
		q.Set("lti_message_hint", a.LTIMessageHint)
	}
	q.Set("state", a.State)
	q.Set("nonce", a.Nonce)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// NewState returns a fresh random state value (256 bits, base64url).
func NewState() string { return randomToken() }

// NewNonce returns a fresh random nonce (256 bits, base64url).
func NewNonce() string { return randomToken() }

func randomToken() string {
	var b [32]byte
	// crypto/rand.Read never returns an error (it crashes the program if the
	// system's randomness fails, which is what we want here).
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// AuthResponse is the platform's form POST to the redirect URI (step 3).
type AuthResponse struct {
	IDToken          string
	State            string
	StorageTarget    string // lti_storage_target
	Error            string // error, when the platform refused
	ErrorDescription string // error_description
}

// LogValue never logs the id_token.
func (a AuthResponse) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("has_id_token", a.IDToken != ""),
		slog.String("error", a.Error),
		slog.String("error_description", a.ErrorDescription),
	)
}

// ParseAuthResponse reads the authentication response. If the platform
// posted an error, it returns the response (State may still be set) and an
// *Error matching ErrPlatformError; a missing id_token or state is also an
// *Error. Checking State against the browser is the caller's job.
func ParseAuthResponse(r *http.Request) (AuthResponse, error) {
	if err := r.ParseForm(); err != nil {
		return AuthResponse{}, NewError(CodeTokenMalformed, "the authentication response form could not be read", err)
	}
	a := AuthResponse{
		IDToken:          r.PostForm.Get("id_token"),
		State:            r.PostForm.Get("state"),
		StorageTarget:    firstNonEmpty(r.PostForm.Get("lti_storage_target"), r.PostForm.Get("post_message_forwarding")),
		Error:            r.Form.Get("error"),
		ErrorDescription: r.Form.Get("error_description"),
	}
	if a.Error != "" {
		desc := "the platform refused the login: " + truncate(a.Error)
		if a.ErrorDescription != "" {
			desc += ": " + truncate(a.ErrorDescription)
		}
		return a, NewError(CodePlatformError, desc, nil)
	}
	if a.IDToken == "" {
		return a, NewError(CodeIDTokenMissing, "", nil)
	}
	if a.State == "" {
		return a, NewError(CodeStateMissing, "", nil)
	}
	return a, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
