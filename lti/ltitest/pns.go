package ltitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Platform Notification Service, as Canvas runs it (Canvas developer docs, "Platform Notification Service" and
// the Notice Handlers API): every launch of a tool holding the noticehandlers scope carries the PNS claim with a
// notice handler service per deployment; the tool PUTs {notice_type, handler} there with a service token of that
// scope (one handler per type; "" removes it; the handler's host must be the tool's); the platform POSTs
// {"notices": [{"jwt": …}]} to the handler, each notice a JWT signed with the platform's keys, and does not retry
// a delivery that fails. Registering the hello world handler makes the platform send one hello world notice.

// Notice types this platform sends (Canvas's list).
const (
	NoticeHelloWorld                = "LtiHelloWorldNotice"
	NoticeContextCopy               = "LtiContextCopyNotice"
	NoticeAssetProcessorSubmission  = "LtiAssetProcessorSubmissionNotice"
	claimHelloWorld                 = "https://www.instructure.com/hello_world"
	helloWorldMessage               = "Congratulations! You have successfully subscribed to LtiHelloWorldNotice in Canvas."
	noticeTTL                       = time.Hour
	contextTypeCourseOffering       = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"
	maxNoticeHandlerResponseExcerpt = 2 << 10
)

// substituteHistory resolves the LTI history variables of custom parameters as Canvas does: the links and contexts a
// copied link and course came from, nearest first, comma-separated ("" when not copied). Called with p.mu held.
func (p *Platform) substituteHistoryLocked(custom map[string]string, linkID, contextID string) {
	for k, v := range custom {
		switch v {
		case "$ResourceLink.id.history":
			var h []string
			if l := p.links[linkID]; l != nil {
				h = l.History
			}
			custom[k] = strings.Join(h, ",")
		case "$Context.id.history":
			custom[k] = strings.Join(p.contextHistory[contextID], ",")
		}
	}
}

// NoticeTypes are the notice types the platform supports (notice_types_supported).
var NoticeTypes = []string{NoticeHelloWorld, NoticeAssetProcessorSubmission, NoticeContextCopy}

func (p *Platform) scopesSupported() []string {
	s := AllScopes()
	if p.cfg.PNS {
		s = append(s, ScopeNoticeHandlers)
	}
	return s
}

// NoticeServiceURL is the notice handler service of a deployment.
func (p *Platform) NoticeServiceURL(deploymentID string) string {
	return p.BaseURL() + "/pns/" + url.PathEscape(deploymentID)
}

func (p *Platform) pnsClaim(deploymentID string) map[string]any {
	return map[string]any{
		"platform_notification_service_url": p.NoticeServiceURL(deploymentID),
		"service_versions":                  []string{"1.0"},
		"scope":                             []string{ScopeNoticeHandlers},
		"notice_types_supported":            slices.Clone(NoticeTypes),
	}
}

// HandlerPut is one request to the notice handler service.
type HandlerPut struct {
	ClientID, DeploymentID string
	NoticeType, Handler    string
	// Status is what the platform answered; Error its reason when not 200.
	Status int
	Error  string
}

// HandlerPuts lists the requests to the notice handler service so far.
func (p *Platform) HandlerPuts() []HandlerPut {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.handlerPuts)
}

// NoticeHandler returns the handler registered for a deployment's notice type ("" for none).
func (p *Platform) NoticeHandler(deploymentID, noticeType string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.noticeHandlers[deploymentID][noticeType]
}

type noticeHandlerDoc struct {
	NoticeType   string `json:"notice_type"`
	Handler      string `json:"handler"`
	MaxBatchSize *int   `json:"max_batch_size,omitempty"`
}

func (p *Platform) handleNoticeHandlers(w http.ResponseWriter, r *http.Request) {
	if !p.cfg.PNS {
		serviceError(w, http.StatusNotFound, "this platform has no notification service")
		return
	}
	if handled, _ := p.applyFault(w, r, ServicePNS, false); handled {
		return
	}
	dep := r.PathValue("deployment")
	client, ok := p.authorize(w, r, ScopeNoticeHandlers)
	if !ok {
		return
	}
	p.mu.Lock()
	tool := p.tools[client]
	p.mu.Unlock()
	if tool == nil || !slices.Contains(tool.DeploymentIDs, dep) {
		serviceError(w, http.StatusNotFound, "deployment %q is not a deployment of client %s", dep, client)
		return
	}
	switch r.Method {
	case http.MethodGet:
		p.mu.Lock()
		var hs []noticeHandlerDoc
		for _, t := range NoticeTypes {
			hs = append(hs, noticeHandlerDoc{NoticeType: t, Handler: p.noticeHandlers[dep][t]})
		}
		p.mu.Unlock()
		writeJSON(w, http.StatusOK, "application/json", map[string]any{"client_id": client, "deployment_id": dep, "notice_handlers": hs})
	case http.MethodPut:
		rec := HandlerPut{ClientID: client, DeploymentID: dep}
		fail := func(status int, format string, args ...any) {
			rec.Status, rec.Error = status, fmt.Sprintf(format, args...)
			p.mu.Lock()
			p.handlerPuts = append(p.handlerPuts, rec)
			p.mu.Unlock()
			serviceError(w, status, "%s", rec.Error)
		}
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			fail(http.StatusUnsupportedMediaType, "Content-Type must be application/json, got %q", r.Header.Get("Content-Type"))
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			fail(http.StatusBadRequest, "read body: %v", err)
			return
		}
		var doc noticeHandlerDoc
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			fail(http.StatusBadRequest, "body must be {notice_type, handler[, max_batch_size]}: %v", err)
			return
		}
		rec.NoticeType, rec.Handler = doc.NoticeType, doc.Handler
		if !slices.Contains(NoticeTypes, doc.NoticeType) {
			fail(http.StatusBadRequest, "unsupported notice_type %q (supported: %s)", doc.NoticeType, strings.Join(NoticeTypes, ", "))
			return
		}
		if doc.Handler != "" {
			hu, err := url.Parse(doc.Handler)
			tu, _ := url.Parse(tool.TargetLinkURI)
			if err != nil || hu.Host == "" || (hu.Scheme != "https" && hu.Scheme != "http") {
				fail(http.StatusBadRequest, "handler %q is not an absolute URL", doc.Handler)
				return
			}
			if tu == nil || hu.Hostname() != tu.Hostname() {
				fail(http.StatusBadRequest, "the notice handler's domain %q must match the tool's domain", hu.Hostname())
				return
			}
		}
		p.mu.Lock()
		if p.noticeHandlers[dep] == nil {
			p.noticeHandlers[dep] = map[string]string{}
		}
		prev := p.noticeHandlers[dep][doc.NoticeType]
		p.noticeHandlers[dep][doc.NoticeType] = doc.Handler
		rec.Status = http.StatusOK
		p.handlerPuts = append(p.handlerPuts, rec)
		p.mu.Unlock()
		writeJSON(w, http.StatusOK, "application/json", noticeHandlerDoc{NoticeType: doc.NoticeType, Handler: doc.Handler})
		if doc.NoticeType == NoticeHelloWorld && doc.Handler != "" && doc.Handler != prev {
			// The platform greets a new hello world subscription, after answering the PUT (as a background job).
			go func() {
				_, _ = p.SendNotice(context.Background(), NoticeSpec{ClientID: client, DeploymentID: dep, Type: NoticeHelloWorld})
			}()
		}
	default:
		w.Header().Set("Allow", "GET, PUT")
		serviceError(w, http.StatusMethodNotAllowed, "method %s not allowed", r.Method)
	}
}

// NoticeSpec describes one notice.
type NoticeSpec struct {
	ClientID     string // default: the only registered tool
	DeploymentID string // default: the tool's first deployment
	Type         string
	// ID is the notice id (default: a fresh one); sending one ID twice is a duplicate notice.
	ID string
	// Context and Origins are a context copy's new context and the contexts it was copied from.
	Context *Context
	Origins []string
	// Extra claims are added as is.
	Extra map[string]any
	// Tamper breaks the notice (the signing and claim cases of the launch battery apply).
	Tamper Tamper
	Mutate func(claims map[string]any)
}

// MintNotice returns a signed notice JWT for spec.
func (p *Platform) MintNotice(spec NoticeSpec) (string, error) {
	p.mu.Lock()
	tool, err := p.toolLocked(spec.ClientID)
	iss := p.issuerLocked()
	p.mu.Unlock()
	if err != nil {
		return "", err
	}
	if spec.DeploymentID == "" {
		spec.DeploymentID = tool.DeploymentIDs[0]
	}
	if spec.Type == "" {
		return "", errors.New("ltitest: a notice needs a Type")
	}
	if spec.ID == "" {
		spec.ID = newUUID()
	}
	now := p.now()
	c := map[string]any{
		"iss":             iss,
		"aud":             tool.ClientID,
		"azp":             tool.ClientID,
		"iat":             now.Unix(),
		"exp":             now.Add(noticeTTL).Unix(),
		"nonce":           newUUID(),
		ClaimVersion:      LTIVersion,
		ClaimDeploymentID: spec.DeploymentID,
		ClaimNotice:       map[string]any{"id": spec.ID, "timestamp": now.UTC().Format(time.RFC3339), "type": spec.Type},
	}
	if spec.Context != nil {
		cx := map[string]any{"id": spec.Context.ID}
		if spec.Context.Label != "" {
			cx["label"] = spec.Context.Label
		}
		if spec.Context.Title != "" {
			cx["title"] = spec.Context.Title
		}
		typ := spec.Context.Type
		if typ == nil {
			typ = []string{contextTypeCourseOffering}
		}
		cx["type"] = typ
		c[ClaimContext] = cx
	}
	switch spec.Type {
	case NoticeHelloWorld:
		c[claimHelloWorld] = map[string]any{"title": "Hello World!", "message": helloWorldMessage}
	case NoticeContextCopy:
		// Canvas: origin_contexts is a list of context ids; the notice has no sub.
		c[ClaimOriginContexts] = slices.Clone(spec.Origins)
	}
	for k, v := range spec.Extra {
		c[k] = v
	}
	key := p.signer()
	kid := key.kid
	switch spec.Tamper {
	case TamperExpired:
		c["iat"] = now.Add(-2 * noticeTTL).Unix()
		c["exp"] = now.Add(-noticeTTL).Unix()
	case TamperIssuedInFuture:
		c["iat"] = now.Add(10 * time.Minute).Unix()
	case TamperWrongIssuer:
		c["iss"] = "https://other-platform.invalid"
	case TamperWrongAudience:
		c["aud"], c["azp"] = "other-client-id", "other-client-id"
	case TamperNonceMissing:
		delete(c, "nonce")
	case TamperDeploymentUnknown:
		c[ClaimDeploymentID] = "unknown-deployment-" + randomID(6)
	case TamperDeploymentMissing:
		delete(c, ClaimDeploymentID)
	case TamperVersionWrong:
		c[ClaimVersion] = "1.2.0"
	}
	if spec.Mutate != nil {
		spec.Mutate(c)
	}
	switch spec.Tamper {
	case TamperGarbage:
		return "this-is-not-a-jwt." + randomID(30), nil
	case TamperForeignKey:
		return signRS256(p.foreignKey(), kid, c), nil
	case TamperUnknownKID:
		f := p.foreignKey()
		return signRS256(f, f.kid, c), nil
	case TamperNoKID:
		return signRS256(key, "", c), nil
	case TamperAlgNone:
		return signNone(kid, c), nil
	case TamperBadSignature:
		tok := signRS256(key, kid, c)
		i := strings.LastIndexByte(tok, '.')
		sig, _ := b64.DecodeString(tok[i+1:])
		sig[len(sig)/2] ^= 0x01
		return tok[:i+1] + b64.EncodeToString(sig), nil
	case TamperModifiedPayload:
		tok := signRS256(key, kid, c)
		parts := strings.Split(tok, ".")
		c[ClaimOriginContexts] = []string{"someone-elses-course"}
		parts[1] = encodeSegment(c)
		return strings.Join(parts, "."), nil
	}
	return signRS256(key, kid, c), nil
}

// NoticeDelivery is one POST of notices to a handler, with the tool's answer.
type NoticeDelivery struct {
	URL    string
	Types  []string
	Status int
	Body   string
	Error  string // the request failed before an answer
	At     time.Time
}

// NoticeDeliveries lists the deliveries so far.
func (p *Platform) NoticeDeliveries() []NoticeDelivery {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.noticeDeliveries)
}

// SendNotice signs a notice and delivers it to the handler the tool registered for its type at the deployment.
// Without a registered handler nothing is sent and an error says so.
func (p *Platform) SendNotice(ctx context.Context, spec NoticeSpec) (NoticeDelivery, error) {
	p.mu.Lock()
	tool, err := p.toolLocked(spec.ClientID)
	if err == nil && spec.DeploymentID == "" {
		spec.DeploymentID = tool.DeploymentIDs[0]
	}
	handler := p.noticeHandlers[spec.DeploymentID][spec.Type]
	p.mu.Unlock()
	if err != nil {
		return NoticeDelivery{}, err
	}
	if handler == "" {
		return NoticeDelivery{}, fmt.Errorf("ltitest: no handler registered for %s at deployment %s", spec.Type, spec.DeploymentID)
	}
	jwt, err := p.MintNotice(spec)
	if err != nil {
		return NoticeDelivery{}, err
	}
	return p.PostNotices(ctx, handler, []string{spec.Type}, jwt)
}

// PostNotices POSTs a batch of notice JWTs to url as the platform does (forged ones included: see MintNotice's
// Tamper) and records the delivery.
func (p *Platform) PostNotices(ctx context.Context, handlerURL string, types []string, jwts ...string) (NoticeDelivery, error) {
	type item struct {
		JWT string `json:"jwt"`
	}
	batch := struct {
		Notices []item `json:"notices"`
	}{}
	for _, j := range jwts {
		batch.Notices = append(batch.Notices, item{JWT: j})
	}
	body, _ := json.Marshal(batch)
	d := NoticeDelivery{URL: handlerURL, Types: types, At: p.now()}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, handlerURL, bytes.NewReader(body))
	if err != nil {
		return d, err
	}
	req.Header.Set("Content-Type", "application/json")
	hc := p.cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		d.Error = err.Error()
	} else {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxNoticeHandlerResponseExcerpt))
		resp.Body.Close()
		d.Status, d.Body = resp.StatusCode, string(b)
	}
	p.mu.Lock()
	p.noticeDeliveries = append(p.noticeDeliveries, d)
	p.mu.Unlock()
	return d, err
}

// PlaceLink stores a link placed by hand (a teacher pasting the tool's URL and custom parameters into the
// course) and returns its resource link id. A deep-linked link is stored by the deep linking return instead.
func (p *Platform) PlaceLink(l StoredLink) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tool, err := p.toolLocked(l.ClientID)
	if err != nil {
		return "", err
	}
	l.ClientID = tool.ClientID
	if l.DeploymentID == "" {
		l.DeploymentID = tool.DeploymentIDs[0]
	}
	if l.ID == "" {
		l.ID = p.nextIDLocked("rl-")
	}
	if _, ok := p.contexts[l.ContextID]; !ok && l.ContextID != "" {
		p.contexts[l.ContextID] = &Context{ID: l.ContextID}
	}
	p.links[l.ID] = &l
	p.linkOrder = append(p.linkOrder, l.ID)
	return l.ID, nil
}

// CopyOptions tune CopyContext.
type CopyOptions struct {
	// DropCustom copies links without their custom parameters: a copy that keeps the placements but not what was
	// typed into them. Canvas keeps them, hence the default.
	DropCustom bool
	// NoNotice copies without notifying: a notice that never arrived (Canvas does not retry a failed delivery).
	NoNotice bool
}

// CopyContext copies a course as the platform's course copy does: every stored link of context from is copied into
// the new context to, with a new resource link id (the same title and URL), and a context copy notice goes to the
// handler the tool registered for it at each deployment of the copied links (if any). It returns the new links
// and the deliveries.
func (p *Platform) CopyContext(ctx context.Context, from string, to Context, opts CopyOptions) ([]StoredLink, []NoticeDelivery, error) {
	p.mu.Lock()
	if _, ok := p.contexts[from]; !ok {
		p.mu.Unlock()
		return nil, nil, fmt.Errorf("ltitest: no context %q", from)
	}
	c := to
	p.contexts[to.ID] = &c
	p.contextHistory[to.ID] = append([]string{from}, p.contextHistory[from]...)
	var copied []StoredLink
	deployments := map[[2]string]bool{}
	var order [][2]string
	for _, id := range slices.Clone(p.linkOrder) {
		l := p.links[id]
		if l.ContextID != from {
			continue
		}
		n := *l
		n.ID, n.ContextID, n.LineItemURL = p.nextIDLocked("rl-"), to.ID, ""
		n.History = append([]string{l.ID}, l.History...)
		if opts.DropCustom {
			n.Custom = nil
		}
		p.links[n.ID] = &n
		p.linkOrder = append(p.linkOrder, n.ID)
		copied = append(copied, n)
		k := [2]string{n.ClientID, n.DeploymentID}
		if !deployments[k] {
			deployments[k] = true
			order = append(order, k)
		}
	}
	p.mu.Unlock()
	var out []NoticeDelivery
	for _, k := range order {
		if opts.NoNotice || p.NoticeHandler(k[1], NoticeContextCopy) == "" {
			continue // the tool did not subscribe: Canvas sends nothing
		}
		d, err := p.SendNotice(ctx, NoticeSpec{ClientID: k[0], DeploymentID: k[1], Type: NoticeContextCopy, Context: &to, Origins: []string{from}})
		out = append(out, d)
		if err != nil {
			return copied, out, err
		}
	}
	return copied, out, nil
}

// newUUID is a random UUID (version 4) in its usual text form, as Canvas's notice ids and nonces are.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
