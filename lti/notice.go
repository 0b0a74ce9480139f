package lti

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
)

// Platform Notification Service (1EdTech LTI PNS 1.0; Canvas "Platform Notification Service"): the tool registers
// one handler URL per notice type with the platform (a PUT to the platform_notification_service_url of the PNS
// claim, with a service token of scope ScopeNoticeHandlers), and the platform POSTs batches of notices there, each
// a JWT signed with the platform's keys and checked like an id_token.

// ScopeNoticeHandlers is the service scope for registering notice handlers.
const ScopeNoticeHandlers = "https://purl.imsglobal.org/spec/lti/scope/noticehandlers"

// Notice claim names.
const (
	ClaimNotice         = ClaimPrefix + "notice"
	ClaimOriginContexts = ClaimPrefix + "origin_contexts"
)

// Notice types ltipub acts on.
const (
	// NoticeHelloWorld is sent once a handler is registered, to show the path works (Canvas).
	NoticeHelloWorld = "LtiHelloWorldNotice"
	// NoticeContextCopy says a context (course) was copied from one or more origin contexts.
	NoticeContextCopy = "LtiContextCopyNotice"
)

// NoticeTypesHandled are the notice types the tool registers handlers for (when the platform supports them).
var NoticeTypesHandled = []string{NoticeHelloWorld, NoticeContextCopy}

// MediaJSON is the media type of the notice handler API and of notice batches.
const MediaJSON = "application/json"

// NoticeHandler is a notice handler registration: the body of the PUT and the platform's answer.
type NoticeHandler struct {
	NoticeType   string `json:"notice_type"`
	Handler      string `json:"handler"`
	MaxBatchSize *int   `json:"max_batch_size,omitempty"`
}

// PutNoticeHandler registers (or replaces, or with Handler "" removes) the handler of one notice type at the
// platform's notice handler service and returns what the platform holds now.
func (c *ServiceClient) PutNoticeHandler(ctx context.Context, serviceURL string, h NoticeHandler) (NoticeHandler, error) {
	if h.NoticeType == "" {
		return NoticeHandler{}, errors.New("lti: a notice handler needs a notice_type")
	}
	body, err := json.Marshal(h)
	if err != nil {
		return NoticeHandler{}, err
	}
	resp, err := c.do(ctx, http.MethodPut, serviceURL, MediaJSON, MediaJSON, body)
	if err != nil {
		return NoticeHandler{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(limitReader(resp.Body, c.maxBody()))
	var out NoticeHandler
	if len(bytes.TrimSpace(b)) == 0 {
		return h, nil // a 2xx without a body (204): the platform holds what was sent
	}
	if err := json.Unmarshal(b, &out); err != nil || out.NoticeType == "" {
		// Canvas answers the handler; some platforms answer the whole catalogue. Either way the PUT succeeded.
		return h, nil
	}
	return out, nil
}

// NoticeInfo is the notice claim.
type NoticeInfo struct {
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
}

// Notice is a validated notice. Claims it does not model are kept in Claims (the whole payload).
type Notice struct {
	Issuer          string      `json:"iss"`
	Audience        StringList  `json:"aud"`
	AuthorizedParty string      `json:"azp,omitempty"`
	ExpiresAt       NumericDate `json:"exp"`
	IssuedAt        NumericDate `json:"iat"`
	NotBefore       NumericDate `json:"nbf,omitempty"`
	Nonce           string      `json:"nonce"`

	Version      string         `json:"https://purl.imsglobal.org/spec/lti/claim/version"`
	DeploymentID string         `json:"https://purl.imsglobal.org/spec/lti/claim/deployment_id"`
	Notice       NoticeInfo     `json:"https://purl.imsglobal.org/spec/lti/claim/notice"`
	Context      *Context       `json:"https://purl.imsglobal.org/spec/lti/claim/context,omitempty"`
	Origins      OriginContexts `json:"https://purl.imsglobal.org/spec/lti/claim/origin_contexts,omitempty"`

	// Claims is the decoded payload as it came.
	Claims json.RawMessage `json:"-"`
}

// OriginContexts is the origin_contexts claim of a context copy: the IDs of the contexts copied from. Canvas
// sends a list of ID strings; the 1EdTech draft an object {"contexts": [{"id": …}]}, or a list of such objects.
// All three decode to the IDs.
type OriginContexts []string

// UnmarshalJSON implements json.Unmarshaler.
func (o *OriginContexts) UnmarshalJSON(data []byte) error {
	type ctx struct {
		ID string `json:"id"`
	}
	var ids []string
	switch {
	case string(data) == "null":
	case len(data) > 0 && data[0] == '{':
		var obj struct {
			Contexts []ctx `json:"contexts"`
		}
		if err := json.Unmarshal(data, &obj); err != nil {
			return err
		}
		for _, c := range obj.Contexts {
			ids = append(ids, c.ID)
		}
	default:
		var raw []json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			return err
		}
		for _, r := range raw {
			var s string
			if json.Unmarshal(r, &s) == nil {
				ids = append(ids, s)
				continue
			}
			var c ctx
			if err := json.Unmarshal(r, &c); err != nil {
				return fmt.Errorf("origin_contexts entry is neither an ID nor an object with an id")
			}
			ids = append(ids, c.ID)
		}
	}
	out := ids[:0]
	for _, id := range ids {
		if id != "" {
			out = append(out, id)
		}
	}
	*o = out
	return nil
}

// ValidateNotice verifies one notice JWT as the security framework asks of an id_token: the platform's signature
// (want.JWKSURL), issuer, audience (want.ClientID), azp, exp, iat, a nonce used once (the nonce store; there is no
// login to match it against), and a known deployment; then the LTI version and the notice claim. want.Nonce is
// ignored. Every failure is an *Error, except storage failures of the nonce store.
func (v *Validator) ValidateNotice(ctx context.Context, raw string, want Expect) (*Notice, error) {
	if v.Keys == nil || v.Nonces == nil {
		return nil, errors.New("lti: Validator needs Keys and Nonces")
	}
	if want.Issuer == "" || want.ClientID == "" || want.JWKSURL == "" || want.DeploymentKnown == nil {
		return nil, errors.New("lti: Expect needs Issuer, ClientID, JWKSURL and DeploymentKnown")
	}
	now := v.now()
	seg, err := v.verifySigned(ctx, raw, want.JWKSURL, "notice")
	if err != nil {
		return nil, err
	}
	payload, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, NewError(CodeTokenMalformed, "the notice payload is not base64url", err)
	}
	n := new(Notice)
	if err := jsonv2.Unmarshal(payload, n); err != nil {
		var se *jsonv2.SemanticError
		if errors.As(err, &se) && se.JSONPointer != "" {
			return nil, newErr(CodeClaimInvalid, err, "the notice claim %s has an invalid value", truncate(string(se.JSONPointer)))
		}
		return nil, NewError(CodeTokenMalformed, "the notice payload is not a JSON object of claims", err)
	}
	n.Claims = payload
	reg := registered{Issuer: n.Issuer, Audience: n.Audience, AuthorizedParty: n.AuthorizedParty, ExpiresAt: n.ExpiresAt,
		IssuedAt: n.IssuedAt, NotBefore: n.NotBefore, Nonce: n.Nonce, DeploymentID: n.DeploymentID}
	if err := v.checkRegistered(ctx, reg, want, now, "notice", false); err != nil {
		return n, err
	}
	if n.Version != Version {
		return n, newErr(CodeVersionWrong, nil, "the notice is LTI version %q; only %s is supported", truncate(n.Version), Version)
	}
	switch {
	case n.Notice.Type == "":
		return n, missingIn("notice", ClaimNotice+" type")
	case n.Notice.ID == "":
		return n, missingIn("notice", ClaimNotice+" id")
	}
	if n.Notice.Type == NoticeContextCopy {
		switch {
		case n.Context == nil || n.Context.ID == "":
			return n, missingIn("notice", ClaimContext+" id")
		case len(n.Origins) == 0:
			return n, missingIn("notice", ClaimOriginContexts)
		}
	}
	return n, nil
}

func missingIn(what, claim string) *Error {
	return newErr(CodeClaimMissing, nil, "the %s has no %s claim", what, claim)
}

// DefaultMaxNoticeBatchBytes bounds a notice batch request body.
const DefaultMaxNoticeBatchBytes = 1 << 20

// ParseNoticeBatch reads a notice batch, {"notices": [{"jwt": "…"}, …]}, and returns the JWTs. The body is read up
// to max bytes (DefaultMaxNoticeBatchBytes when max <= 0).
func ParseNoticeBatch(r io.Reader, max int64) ([]string, error) {
	if max <= 0 {
		max = DefaultMaxNoticeBatchBytes
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, NewError(CodeNoticeMalformed, "the notice request could not be read", err)
	}
	if int64(len(b)) > max {
		return nil, newErr(CodeNoticeMalformed, nil, "the notice request is larger than %d bytes", max)
	}
	var batch struct {
		Notices []struct {
			JWT string `json:"jwt"`
		} `json:"notices"`
	}
	if err := jsonv2.Unmarshal(b, &batch); err != nil {
		return nil, NewError(CodeNoticeMalformed, "", err)
	}
	if len(batch.Notices) == 0 {
		return nil, NewError(CodeNoticeMalformed, "the notice request has no notices", nil)
	}
	out := make([]string, 0, len(batch.Notices))
	for i, n := range batch.Notices {
		if strings.TrimSpace(n.JWT) == "" {
			return nil, newErr(CodeNoticeMalformed, nil, "notice %d of the request has no jwt", i+1)
		}
		out = append(out, n.JWT)
	}
	return out, nil
}
