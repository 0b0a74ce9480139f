package ltitest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// User is the launching user. A nil *User or an empty Sub makes an
// anonymous launch (no sub claim).
type User struct {
	Sub, Name, GivenName, FamilyName, MiddleName, Email, Picture, Locale string
}

// Context is the course (or other context) of a launch.
type Context struct {
	ID, Label, Title string
	Type             []string
}

// ResourceLink is the placement being launched.
type ResourceLink struct {
	ID, Title, Description string
}

// Presentation is the launch_presentation claim.
type Presentation struct {
	DocumentTarget string // frame, iframe or window
	// ReturnURL defaults to the platform's /return page, which records visits.
	ReturnURL     string
	Locale        string
	Width, Height int
}

// ToolPlatform is the tool_platform claim (defaults to this platform).
type ToolPlatform struct {
	GUID, Name, Version, ProductFamilyCode, ContactEmail, Description, URL string
}

// AGS asks for the AGS endpoint claim; the lineitems URL points at this
// platform's container for the launch context.
type AGS struct {
	// Scopes default to the AGS scopes the tool is allowed.
	Scopes []string
	// LineItemURL is the coupled line item, if any.
	LineItemURL string
}

// DeepLinking configures deep_linking_settings of an LtiDeepLinkingRequest.
type DeepLinking struct {
	AcceptTypes    []string // default ["ltiResourceLink"]
	Targets        []string // accept_presentation_document_targets, default ["iframe","window"]
	MediaTypes     string   // accept_media_types
	Multiple       *bool    // accept_multiple (default true)
	LineItem       *bool    // accept_lineitem (default true)
	AutoCreate     *bool
	Title, Text    string
	Data           string // default: a random opaque value
	OmitData       bool   // send no data
	StringBooleans bool   // send booleans as "true"/"false" (Moodle quirk)
}

// LaunchSpec describes one launch: who, where, and how to break it.
type LaunchSpec struct {
	ClientID      string // default: the only registered tool
	DeploymentID  string // default: the tool's first deployment
	MessageType   string // default LtiResourceLinkRequest
	TargetLinkURI string // default: the tool's TargetLinkURI (DeepLinkURL for deep linking)
	User          *User
	Roles         []string // sent as [] when nil
	Context       *Context
	ResourceLink  *ResourceLink // default {ID: "rl-1"} for resource link launches
	Custom        map[string]string
	Presentation  *Presentation
	ToolPlatform  *ToolPlatform
	AGS           *AGS
	NRPS          bool
	DeepLinking   *DeepLinking
	// LTI1p1 sends the lti1p1 migration claim of a user and link the tool knew over LTI 1.1 (migration.go).
	LTI1p1 *LTI1p1
	// ForUser is the learner of an LtiSubmissionReviewRequest (see ReviewSpec).
	ForUser *User
	// AudienceArray sends aud as [client_id, another] with azp = client_id
	// (a launch that must succeed).
	AudienceArray bool
	// Extra claims are added as is (unknown claims a tool must ignore).
	Extra map[string]any

	// LoginMethod is GET (default) or POST for the initiation request.
	LoginMethod string
	// StorageTarget is sent as lti_storage_target.
	StorageTarget string
	// Storage gives the course page (CoursePageURL) a platform storage frame named StorageFrameName, answering
	// lti.capabilities, lti.put_data and lti.get_data to the tool's origin only, and sends its name as
	// lti_storage_target (unless StorageTarget is set). The other modes break it for negative tests.
	Storage StorageMode
	// OmitDeploymentHint and OmitClientIDHint drop the optional
	// lti_deployment_id / client_id login parameters.
	OmitDeploymentHint, OmitClientIDHint bool

	// Tamper breaks the id_token for negative tests.
	Tamper Tamper
	// Mutate, if set, edits the claims after all defaults and Tamper.
	Mutate func(claims map[string]any)
}

// Tamper is a way to break an id_token.
type Tamper int

// Tampering cases of the negative battery.
const (
	TamperNone                Tamper = iota
	TamperForeignKey                 // signed by a foreign key, header carries the platform kid
	TamperUnknownKID                 // signed by a foreign key with its own (unknown) kid
	TamperNoKID                      // no kid header
	TamperAlgNone                    // alg none, empty signature
	TamperHS256PublicKey             // HS256 with the platform public key (PEM) as secret
	TamperBadSignature               // one signature byte flipped
	TamperModifiedPayload            // payload changed after signing
	TamperExpired                    // exp 10 minutes ago
	TamperIssuedInFuture             // iat 10 minutes ahead
	TamperWrongIssuer                // iss of another platform
	TamperWrongAudience              // aud another client
	TamperAudArrayNoAzp              // aud [client, other] without azp
	TamperAudArrayWrongAzp           // aud [client, other] with azp = other
	TamperNonceMissing               // no nonce
	TamperNonceReplaced              // nonce not the one the tool sent
	TamperDeploymentUnknown          // deployment_id the tool never saw
	TamperDeploymentMissing          // no deployment_id
	TamperMessageTypeUnknown         // message_type "LtiUnknownRequest"
	TamperMessageTypeMissing         // no message_type
	TamperVersionWrong               // version "1.2.0"
	TamperVersionMissing             // no version
	TamperResourceLinkMissing        // no resource_link
	TamperResourceLinkEmptyID        // resource_link without id
	TamperRolesMissing               // no roles claim
	TamperTargetLinkMissing          // no target_link_uri claim
	TamperEmptySub                   // sub ""
	TamperContextNoID                // context without id
	TamperGarbage                    // not a JWT at all
	TamperOversize                   // a valid token padded to over 1 MiB
)

var tamperNames = map[Tamper]string{
	TamperNone: "none", TamperForeignKey: "foreign_key", TamperUnknownKID: "unknown_kid", TamperNoKID: "no_kid",
	TamperAlgNone: "alg_none", TamperHS256PublicKey: "hs256_public_key", TamperBadSignature: "bad_signature",
	TamperModifiedPayload: "modified_payload", TamperExpired: "expired", TamperIssuedInFuture: "iat_future",
	TamperWrongIssuer: "wrong_iss", TamperWrongAudience: "wrong_aud", TamperAudArrayNoAzp: "aud_array_no_azp",
	TamperAudArrayWrongAzp: "aud_array_wrong_azp", TamperNonceMissing: "nonce_missing",
	TamperNonceReplaced: "nonce_replaced", TamperDeploymentUnknown: "deployment_unknown",
	TamperDeploymentMissing: "deployment_missing", TamperMessageTypeUnknown: "message_type_unknown",
	TamperMessageTypeMissing: "message_type_missing", TamperVersionWrong: "version_wrong",
	TamperVersionMissing: "version_missing", TamperResourceLinkMissing: "resource_link_missing",
	TamperResourceLinkEmptyID: "resource_link_empty_id", TamperRolesMissing: "roles_missing",
	TamperTargetLinkMissing: "target_link_missing", TamperEmptySub: "empty_sub", TamperContextNoID: "context_no_id",
	TamperGarbage: "garbage", TamperOversize: "oversize",
}

func (t Tamper) String() string {
	if s, ok := tamperNames[t]; ok {
		return s
	}
	return fmt.Sprintf("Tamper(%d)", int(t))
}

// AllTampers lists every tampering case, for table tests.
func AllTampers() []Tamper {
	var ts []Tamper
	for t := TamperForeignKey; t <= TamperOversize; t++ {
		ts = append(ts, t)
	}
	return ts
}

// pendingLaunch is a launch waiting for its authentication request.
type pendingLaunch struct {
	spec        LaunchSpec
	messageHint string
	init        Initiation
}

// Initiation is the third-party initiated login request a browser sends to
// the tool.
type Initiation struct {
	Method string // GET or POST
	// URL is the tool's login URL; for GET it already carries the query.
	URL         string
	Form        url.Values
	LoginHint   string
	MessageHint string // lti_message_hint
}

// NewRequest builds the initiation request.
func (in Initiation) NewRequest(ctx context.Context) (*http.Request, error) {
	if in.Method == http.MethodPost {
		u := in.URL
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(in.Form.Encode()))
		if err != nil {
			return nil, fmt.Errorf("build login initiation: %w", err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("build login initiation: %w", err)
	}
	return req, nil
}

// resolve fills the defaults of spec. Called with p.mu held.
func (p *Platform) resolveLocked(spec LaunchSpec) (LaunchSpec, *ToolConfig, error) {
	tool, err := p.toolLocked(spec.ClientID)
	if err != nil {
		return spec, nil, err
	}
	spec.ClientID = tool.ClientID
	if spec.DeploymentID == "" {
		spec.DeploymentID = tool.DeploymentIDs[0]
	}
	if spec.MessageType == "" {
		spec.MessageType = MessageResourceLink
	}
	if spec.TargetLinkURI == "" {
		spec.TargetLinkURI = tool.TargetLinkURI
		if spec.MessageType == MessageDeepLinkingRequest {
			spec.TargetLinkURI = tool.DeepLinkURL
		}
	}
	if spec.MessageType == MessageResourceLink && spec.ResourceLink == nil {
		spec.ResourceLink = &ResourceLink{ID: "rl-1", Title: "Resource 1"}
	}
	if spec.MessageType == MessageDeepLinkingRequest && spec.DeepLinking == nil {
		spec.DeepLinking = &DeepLinking{}
	}
	if spec.DeepLinking != nil {
		dl := *spec.DeepLinking
		if dl.Data == "" && !dl.OmitData {
			dl.Data = "dl-" + randomID(12)
		}
		spec.DeepLinking = &dl
	}
	if spec.Context != nil && spec.Context.ID != "" {
		c := *spec.Context
		p.contexts[c.ID] = &c
	}
	if (spec.AGS != nil || spec.NRPS) && (spec.Context == nil || spec.Context.ID == "") {
		return spec, nil, fmt.Errorf("ltitest: AGS and NRPS claims need a Context with an ID")
	}
	if spec.MessageType == MessageSubmissionReview {
		if err := p.resolveReviewLocked(&spec, tool); err != nil {
			return spec, nil, err
		}
	}
	if spec.LoginMethod == "" {
		spec.LoginMethod = http.MethodGet
	}
	return spec, tool, nil
}

// LoginInitiation registers spec under a fresh login_hint and returns the
// initiation request for the tool's login URL.
func (p *Platform) LoginInitiation(spec LaunchSpec) (Initiation, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	spec, tool, err := p.resolveLocked(spec)
	if err != nil {
		return Initiation{}, err
	}
	hint := "lh-" + randomID(12)
	msgHint := "mh-" + randomID(9)
	v := url.Values{}
	v.Set("iss", p.issuerLocked())
	v.Set("login_hint", hint)
	v.Set("target_link_uri", spec.TargetLinkURI)
	v.Set("lti_message_hint", msgHint)
	if !spec.OmitDeploymentHint {
		v.Set("lti_deployment_id", spec.DeploymentID)
	}
	if !spec.OmitClientIDHint {
		v.Set("client_id", spec.ClientID)
	}
	if spec.StorageTarget == "" && spec.Storage != StorageNone {
		spec.StorageTarget = StorageFrameName
	}
	if spec.StorageTarget != "" {
		v.Set("lti_storage_target", spec.StorageTarget)
	}
	in := Initiation{Method: spec.LoginMethod, URL: tool.LoginURL, Form: v, LoginHint: hint, MessageHint: msgHint}
	if in.Method != http.MethodPost {
		in.Method = http.MethodGet
		u, err := url.Parse(tool.LoginURL)
		if err != nil {
			return Initiation{}, fmt.Errorf("ltitest: tool login URL: %w", err)
		}
		q := u.Query()
		for k, vs := range v {
			q[k] = vs
		}
		u.RawQuery = q.Encode()
		in.URL = u.String()
	}
	p.hints[hint] = &pendingLaunch{spec: spec, messageHint: msgHint, init: in}
	return in, nil
}

// LaunchPageURL registers spec and returns the URL of a platform page that
// auto-posts the login initiation into the current frame.
func (p *Platform) LaunchPageURL(spec LaunchSpec) (string, error) {
	in, err := p.LoginInitiation(spec)
	if err != nil {
		return "", err
	}
	return p.BaseURL() + "/launch?hint=" + url.QueryEscape(in.LoginHint), nil
}

// CoursePageURL registers spec and returns the URL of a course page that
// holds the launch in an iframe named "ltitool".
func (p *Platform) CoursePageURL(spec LaunchSpec) (string, error) {
	in, err := p.LoginInitiation(spec)
	if err != nil {
		return "", err
	}
	return p.BaseURL() + "/course?hint=" + url.QueryEscape(in.LoginHint), nil
}

// MintIDToken returns an id_token for spec and nonce, applying spec.Tamper.
func (p *Platform) MintIDToken(spec LaunchSpec, nonce string) (string, error) {
	p.mu.Lock()
	spec, _, err := p.resolveLocked(spec)
	p.mu.Unlock()
	if err != nil {
		return "", err
	}
	return p.mint(spec, nonce), nil
}

func boolClaim(b *bool, def, asString bool) any {
	v := def
	if b != nil {
		v = *b
	}
	if asString {
		return fmt.Sprint(v)
	}
	return v
}

// claims builds the id_token claims of a resolved spec.
func (p *Platform) claims(spec LaunchSpec, nonce string, now time.Time) map[string]any {
	p.mu.Lock()
	base, iss := p.baseURL, p.issuerLocked()
	tool := *p.tools[spec.ClientID]
	p.mu.Unlock()
	c := map[string]any{
		"iss":              iss,
		"aud":              spec.ClientID,
		"azp":              spec.ClientID,
		"iat":              now.Unix(),
		"exp":              now.Add(p.cfg.IDTokenTTL).Unix(),
		"nonce":            nonce,
		ClaimMessageType:   spec.MessageType,
		ClaimVersion:       LTIVersion,
		ClaimDeploymentID:  spec.DeploymentID,
		ClaimTargetLinkURI: spec.TargetLinkURI,
		ClaimRoles:         append([]string{}, spec.Roles...),
	}
	if spec.AudienceArray {
		c["aud"] = []string{spec.ClientID, "https://other-audience.invalid"}
	}
	if u := spec.User; u != nil && u.Sub != "" {
		c["sub"] = u.Sub
		for k, v := range map[string]string{"name": u.Name, "given_name": u.GivenName, "family_name": u.FamilyName,
			"middle_name": u.MiddleName, "email": u.Email, "picture": u.Picture, "locale": u.Locale} {
			if v != "" {
				c[k] = v
			}
		}
	}
	if rl := spec.ResourceLink; rl != nil && spec.MessageType != MessageDeepLinkingRequest {
		m := map[string]any{"id": rl.ID}
		if rl.Title != "" {
			m["title"] = rl.Title
		}
		if rl.Description != "" {
			m["description"] = rl.Description
		}
		c[ClaimResourceLink] = m
	}
	if cx := spec.Context; cx != nil {
		m := map[string]any{"id": cx.ID}
		if cx.Label != "" {
			m["label"] = cx.Label
		}
		if cx.Title != "" {
			m["title"] = cx.Title
		}
		if len(cx.Type) > 0 {
			m["type"] = cx.Type
		}
		c[ClaimContext] = m
	}
	tp := ToolPlatform{GUID: "ltitest-" + base, Name: "ltitest platform", Version: "1.0", ProductFamilyCode: p.cfg.ProductFamilyCode, URL: base}
	if spec.ToolPlatform != nil {
		tp = *spec.ToolPlatform
	}
	tpm := map[string]any{"guid": tp.GUID}
	for k, v := range map[string]string{"name": tp.Name, "version": tp.Version, "product_family_code": tp.ProductFamilyCode,
		"contact_email": tp.ContactEmail, "description": tp.Description, "url": tp.URL} {
		if v != "" {
			tpm[k] = v
		}
	}
	c[ClaimToolPlatform] = tpm
	custom := map[string]string{}
	maps.Copy(custom, tool.Custom)
	maps.Copy(custom, spec.Custom)
	if len(custom) > 0 {
		linkID, ctxID := "", ""
		if spec.ResourceLink != nil {
			linkID = spec.ResourceLink.ID
		}
		if spec.Context != nil {
			ctxID = spec.Context.ID
		}
		p.mu.Lock()
		p.substituteHistoryLocked(custom, linkID, ctxID)
		p.mu.Unlock()
	}
	if len(custom) > 0 {
		c[ClaimCustom] = custom
	}
	if pr := spec.Presentation; pr != nil {
		m := map[string]any{}
		if pr.DocumentTarget != "" {
			m["document_target"] = pr.DocumentTarget
		}
		ret := pr.ReturnURL
		if ret == "" {
			ret = base + "/return"
		}
		m["return_url"] = ret
		if pr.Locale != "" {
			m["locale"] = pr.Locale
		}
		if pr.Width > 0 {
			m["width"] = pr.Width
		}
		if pr.Height > 0 {
			m["height"] = pr.Height
		}
		c[ClaimLaunchPresentation] = m
	}
	if a := spec.AGS; a != nil {
		scopes := a.Scopes
		if scopes == nil {
			for _, s := range tool.Scopes {
				if strings.HasPrefix(s, "https://purl.imsglobal.org/spec/lti-ags/") {
					scopes = append(scopes, s)
				}
			}
		}
		m := map[string]any{"scope": append([]string{}, scopes...), "lineitems": p.lineItemsURL(spec.Context.ID)}
		if a.LineItemURL != "" {
			m["lineitem"] = a.LineItemURL
		}
		c[ClaimAGSEndpoint] = m
	}
	if spec.NRPS {
		c[ClaimNRPS] = map[string]any{"context_memberships_url": p.membershipsURL(spec.Context.ID), "service_versions": []string{"2.0"}}
	}
	if u := spec.ForUser; u != nil && spec.MessageType == MessageSubmissionReview {
		c[ClaimForUser] = forUserClaim(u)
	}
	if p.cfg.PNS && slices.Contains(tool.Scopes, ScopeNoticeHandlers) {
		c[ClaimPNS] = p.pnsClaim(spec.DeploymentID)
	}
	if dl := spec.DeepLinking; dl != nil && spec.MessageType == MessageDeepLinkingRequest {
		types := dl.AcceptTypes
		if types == nil {
			types = []string{"ltiResourceLink"}
		}
		targets := dl.Targets
		if targets == nil {
			targets = []string{"iframe", "window"}
		}
		sessID := p.newDLSession(spec, dl)
		m := map[string]any{
			"deep_link_return_url":                 base + "/deeplink/return?session=" + url.QueryEscape(sessID),
			"accept_types":                         types,
			"accept_presentation_document_targets": targets,
			"accept_multiple":                      boolClaim(dl.Multiple, true, dl.StringBooleans),
			"accept_lineitem":                      boolClaim(dl.LineItem, true, dl.StringBooleans),
		}
		if dl.AutoCreate != nil {
			m["auto_create"] = boolClaim(dl.AutoCreate, false, dl.StringBooleans)
		}
		if dl.MediaTypes != "" {
			m["accept_media_types"] = dl.MediaTypes
		}
		if dl.Title != "" {
			m["title"] = dl.Title
		}
		if dl.Text != "" {
			m["text"] = dl.Text
		}
		if !dl.OmitData {
			m["data"] = dl.Data
		}
		c[ClaimDeepLinkingSettings] = m
	}
	if m := spec.LTI1p1; m != nil {
		c[ClaimLTI1p1] = m.claim(spec.ClientID, c)
	}
	maps.Copy(c, spec.Extra)
	return c
}

// mint signs the claims of a resolved spec, applying its Tamper.
func (p *Platform) mint(spec LaunchSpec, nonce string) string {
	now := p.now()
	c := p.claims(spec, nonce, now)
	key := p.signer()
	kid := key.kid
	switch spec.Tamper {
	case TamperExpired:
		c["iat"] = now.Add(-10*time.Minute - p.cfg.IDTokenTTL).Unix()
		c["exp"] = now.Add(-10 * time.Minute).Unix()
	case TamperIssuedInFuture:
		c["iat"] = now.Add(10 * time.Minute).Unix()
		c["exp"] = now.Add(10*time.Minute + p.cfg.IDTokenTTL).Unix()
	case TamperWrongIssuer:
		c["iss"] = "https://other-platform.invalid"
	case TamperWrongAudience:
		c["aud"] = "other-client-id"
		c["azp"] = "other-client-id"
	case TamperAudArrayNoAzp:
		c["aud"] = []string{spec.ClientID, "other-client-id"}
		delete(c, "azp")
	case TamperAudArrayWrongAzp:
		c["aud"] = []string{spec.ClientID, "other-client-id"}
		c["azp"] = "other-client-id"
	case TamperNonceMissing:
		delete(c, "nonce")
	case TamperNonceReplaced:
		c["nonce"] = "replaced-" + randomID(12)
	case TamperDeploymentUnknown:
		c[ClaimDeploymentID] = "unknown-deployment-" + randomID(6)
	case TamperDeploymentMissing:
		delete(c, ClaimDeploymentID)
	case TamperMessageTypeUnknown:
		c[ClaimMessageType] = "LtiUnknownRequest"
	case TamperMessageTypeMissing:
		delete(c, ClaimMessageType)
	case TamperVersionWrong:
		c[ClaimVersion] = "1.2.0"
	case TamperVersionMissing:
		delete(c, ClaimVersion)
	case TamperResourceLinkMissing:
		delete(c, ClaimResourceLink)
	case TamperResourceLinkEmptyID:
		c[ClaimResourceLink] = map[string]any{"title": "no id"}
	case TamperRolesMissing:
		delete(c, ClaimRoles)
	case TamperTargetLinkMissing:
		delete(c, ClaimTargetLinkURI)
	case TamperEmptySub:
		c["sub"] = ""
	case TamperContextNoID:
		c[ClaimContext] = map[string]any{"label": "no id", "title": "Context without id"}
	case TamperOversize:
		c[claimPadding] = strings.Repeat("x", 1<<20+1024)
	}
	if spec.Mutate != nil {
		spec.Mutate(c)
	}
	switch spec.Tamper {
	case TamperGarbage:
		return "this-is-not-a-jwt." + randomID(30)
	case TamperForeignKey:
		return signRS256(p.foreignKey(), kid, c)
	case TamperUnknownKID:
		f := p.foreignKey()
		return signRS256(f, f.kid, c)
	case TamperNoKID:
		return signRS256(key, "", c)
	case TamperAlgNone:
		return signNone(kid, c)
	case TamperHS256PublicKey:
		der, _ := x509.MarshalPKIXPublicKey(&key.priv.PublicKey)
		return signHS256(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), kid, c)
	case TamperBadSignature:
		tok := signRS256(key, kid, c)
		i := strings.LastIndexByte(tok, '.')
		sig, _ := b64.DecodeString(tok[i+1:])
		sig[len(sig)/2] ^= 0x01
		return tok[:i+1] + b64.EncodeToString(sig)
	case TamperModifiedPayload:
		tok := signRS256(key, kid, c)
		parts := strings.Split(tok, ".")
		c["sub"] = "someone-else"
		c[ClaimRoles] = []string{RoleContextAdmin, RoleSystemAdmin}
		parts[1] = encodeSegment(c)
		return strings.Join(parts, ".")
	}
	return signRS256(key, kid, c)
}

// AuthRequest is one request received by the authentication endpoint.
type AuthRequest struct {
	Time   time.Time
	Method string
	Params url.Values
	// Error is the OAuth error answered ("" on success); BadRequest reports
	// a 400 page instead of a post-back.
	Error, ErrorDescription string
	BadRequest              bool
	IDToken                 string
}

// AuthRequests returns the authentication requests received so far.
func (p *Platform) AuthRequests() []AuthRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.authRequests)
}

// LastIDToken returns the last id_token posted to a tool (for replay tests).
func (p *Platform) LastIDToken() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lastIDToken
}

func (p *Platform) handleAuth(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, http.StatusBadRequest, "Bad request", err.Error())
		return
	}
	rec := AuthRequest{Time: p.now(), Method: r.Method, Params: r.Form}
	q := r.Form
	get := func(k string) string {
		if len(q[k]) > 1 {
			return "\x00duplicate"
		}
		return q.Get(k)
	}
	clientID := get("client_id")
	redirect := get("redirect_uri")
	state := get("state")

	p.mu.Lock()
	tool, known := p.tools[clientID]
	var redirectOK bool
	if known {
		redirectOK = slices.Contains(tool.RedirectURIs, redirect)
	}
	pending := p.hints[get("login_hint")]
	p.mu.Unlock()

	fail := func(code, desc string) {
		rec.Error, rec.ErrorDescription = code, desc
		p.recordAuth(rec)
		v := url.Values{"error": {code}, "error_description": {desc}}
		if state != "" {
			v.Set("state", state)
		}
		p.autoPost(w, redirect, v)
	}
	switch {
	case !known:
		rec.Error, rec.ErrorDescription, rec.BadRequest = "unauthorized_client", fmt.Sprintf("unknown client_id %q", clientID), true
		p.recordAuth(rec)
		p.errorPage(w, http.StatusBadRequest, "Unknown tool", rec.ErrorDescription)
		return
	case !redirectOK:
		rec.Error, rec.ErrorDescription, rec.BadRequest = "invalid_request", fmt.Sprintf("redirect_uri %q is not registered for this tool", redirect), true
		p.recordAuth(rec)
		p.errorPage(w, http.StatusBadRequest, "Invalid redirect_uri", rec.ErrorDescription)
		return
	case get("scope") != "openid":
		fail("invalid_scope", fmt.Sprintf("scope must be openid, got %q", get("scope")))
	case get("response_type") != "id_token":
		fail("unsupported_response_type", fmt.Sprintf("response_type must be id_token, got %q", get("response_type")))
	case get("response_mode") != "form_post":
		fail("invalid_request", fmt.Sprintf("response_mode must be form_post, got %q", get("response_mode")))
	case get("prompt") != "none":
		fail("invalid_request", fmt.Sprintf("prompt must be none, got %q", get("prompt")))
	case state == "" || strings.HasPrefix(state, "\x00"):
		state = ""
		fail("invalid_request", "state is required (exactly once)")
	case get("nonce") == "" || strings.HasPrefix(get("nonce"), "\x00"):
		fail("invalid_request", "nonce is required (exactly once)")
	case pending == nil:
		fail("login_required", fmt.Sprintf("unknown login_hint %q", get("login_hint")))
	case pending.spec.ClientID != clientID:
		fail("unauthorized_client", "login_hint was issued for another client_id")
	case get("lti_message_hint") != pending.messageHint:
		fail("invalid_request", "lti_message_hint not echoed unchanged")
	default:
		tok := p.mint(pending.spec, get("nonce"))
		rec.IDToken = tok
		p.mu.Lock()
		p.lastIDToken = tok
		p.mu.Unlock()
		p.recordAuth(rec)
		v := url.Values{"id_token": {tok}, "state": {state}}
		if pending.spec.StorageTarget != "" {
			// Platforms with storage echo the target in the launch (Canvas does).
			v.Set("lti_storage_target", pending.spec.StorageTarget)
		}
		p.autoPost(w, redirect, v)
	}
}

func (p *Platform) recordAuth(rec AuthRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.authRequests = append(p.authRequests, rec)
}
