package ltitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

type dlSession struct {
	id           string
	clientID     string
	deploymentID string
	contextID    string
	data         string
	dataSent     bool
	acceptTypes  []string
	multiple     bool
	lineItem     bool
	used         bool
}

func (p *Platform) newDLSession(spec LaunchSpec, dl *DeepLinking) string {
	s := &dlSession{
		id: "dls-" + randomID(12), clientID: spec.ClientID, deploymentID: spec.DeploymentID,
		data: dl.Data, dataSent: !dl.OmitData, acceptTypes: dl.AcceptTypes,
		multiple: dl.Multiple == nil || *dl.Multiple, lineItem: dl.LineItem == nil || *dl.LineItem,
	}
	if s.acceptTypes == nil {
		s.acceptTypes = []string{"ltiResourceLink"}
	}
	if spec.Context != nil {
		s.contextID = spec.Context.ID
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dlSessions[s.id] = s
	return s.id
}

// DeepLinkReturn is one request received at the deep-linking return URL.
type DeepLinkReturn struct {
	Time         time.Time
	ClientID     string
	DeploymentID string
	ContextID    string
	// Claims are the verified JWT claims (nil when verification failed
	// before decoding).
	Claims                       map[string]any
	ContentItems                 []map[string]any
	Msg, Log, ErrorMsg, ErrorLog string
	// Links are the resource links created from ltiResourceLink items.
	Links []StoredLink
	// Err is why the platform refused the response ("" if accepted).
	Err string
}

// DeepLinkReturns lists the deep-linking responses received.
func (p *Platform) DeepLinkReturns() []DeepLinkReturn {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.dlReturns)
}

// StoredLink is a resource link created through deep linking.
type StoredLink struct {
	ID           string // resource link id
	ClientID     string
	DeploymentID string
	ContextID    string
	URL          string // "" = the tool's target_link_uri
	Title, Text  string
	Custom       map[string]string
	// LineItemURL is the coupled line item, if the item asked for one.
	LineItemURL string
	Item        map[string]any

	// History lists the links this one was copied from, nearest first ($ResourceLink.id.history).
	History []string
}

// Links returns the stored links of a context.
func (p *Platform) Links(contextID string) []StoredLink {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []StoredLink
	for _, id := range p.linkOrder {
		if l := p.links[id]; l.ContextID == contextID {
			out = append(out, *l)
		}
	}
	return out
}

// LaunchSpecForLink returns a resource link launch of a stored link for
// user, with the link's custom parameters and, when it has a coupled line
// item, an AGS claim pointing at it.
func (p *Platform) LaunchSpecForLink(linkID string, user *User, roles ...string) (LaunchSpec, error) {
	p.mu.Lock()
	l := p.links[linkID]
	var cx *Context
	if l != nil && p.contexts[l.ContextID] != nil {
		c := *p.contexts[l.ContextID]
		cx = &c
	}
	p.mu.Unlock()
	if l == nil {
		return LaunchSpec{}, fmt.Errorf("ltitest: no stored link %q", linkID)
	}
	if cx == nil && l.ContextID != "" {
		cx = &Context{ID: l.ContextID}
	}
	spec := LaunchSpec{
		ClientID: l.ClientID, DeploymentID: l.DeploymentID, MessageType: MessageResourceLink,
		TargetLinkURI: l.URL, User: user, Roles: roles, Context: cx,
		ResourceLink: &ResourceLink{ID: l.ID, Title: l.Title, Description: l.Text},
		Custom:       l.Custom,
	}
	if cx != nil {
		spec.AGS = &AGS{LineItemURL: l.LineItemURL}
		spec.NRPS = true
	}
	return spec, nil
}

var errMissingJWT = errors.New("a required parameter (oauth_consumer_key) was missing: post the response in a form field named JWT")

func (p *Platform) handleDeepLinkReturn(w http.ResponseWriter, r *http.Request) {
	rec := DeepLinkReturn{Time: p.now()}
	err := p.deepLinkReturn(r, &rec)
	if err != nil {
		rec.Err = err.Error()
	}
	p.mu.Lock()
	p.dlReturns = append(p.dlReturns, rec)
	p.mu.Unlock()
	if err != nil {
		p.errorPage(w, http.StatusBadRequest, "Deep linking response refused", err.Error())
		return
	}
	p.render(w, http.StatusOK, "deeplinkdone", rec)
}

func (p *Platform) deepLinkReturn(r *http.Request, rec *DeepLinkReturn) error {
	r.Body = http.MaxBytesReader(nil, r.Body, 2<<20)
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("parse form: %w", err)
	}
	tok := r.PostForm.Get("JWT")
	if tok == "" {
		return errMissingJWT
	}
	p.mu.Lock()
	sess := p.dlSessions[r.URL.Query().Get("session")]
	var s dlSession
	if sess != nil {
		s = *sess
	}
	p.mu.Unlock()
	if sess == nil {
		return errors.New("unknown deep linking session")
	}
	if s.used {
		return errors.New("deep linking session already used")
	}
	rec.ClientID, rec.DeploymentID, rec.ContextID = s.clientID, s.deploymentID, s.contextID
	parts, err := splitJWT(tok)
	if err != nil {
		return fmt.Errorf("JWT: %w", err)
	}
	c := parts.claims
	if iss, _ := c["iss"].(string); iss != s.clientID {
		return fmt.Errorf("iss must be the client_id %q, got %q", s.clientID, iss)
	}
	tool, ok := p.Tool(s.clientID)
	if !ok || tool.JWKSURL == "" {
		return fmt.Errorf("tool %q has no JWKS URL", s.clientID)
	}
	if err := p.toolKey.verify(r.Context(), tool.JWKSURL, parts); err != nil {
		return fmt.Errorf("JWT signature: %w", err)
	}
	rec.Claims = c
	if ok, n := audContains(c["aud"], p.Issuer()); !ok {
		return fmt.Errorf("aud must be the platform issuer %q", p.Issuer())
	} else if n > 1 {
		if azp, _ := c["azp"].(string); azp != p.Issuer() {
			return fmt.Errorf("aud has %d entries: azp must be %q", n, p.Issuer())
		}
	}
	now := p.now().Unix()
	iat, ok := numericClaim(c, "iat")
	if !ok {
		return errors.New("iat missing")
	}
	exp, ok := numericClaim(c, "exp")
	if !ok {
		return errors.New("exp missing")
	}
	switch {
	case iat > now+60:
		return errors.New("iat is in the future")
	case exp <= now-30:
		return errors.New("JWT expired")
	case exp <= iat:
		return errors.New("exp is not after iat")
	case exp-iat > 3600:
		return fmt.Errorf("exp-iat of %d s is more than 1 h", exp-iat)
	}
	if n, _ := c["nonce"].(string); n == "" {
		return errors.New("nonce missing")
	}
	if d, _ := c[ClaimDeploymentID].(string); d != s.deploymentID {
		return fmt.Errorf("deployment_id must be %q, got %q", s.deploymentID, d)
	}
	if mt, _ := c[ClaimMessageType].(string); mt != MessageDeepLinkingResponse {
		return fmt.Errorf("message_type must be %s, got %q", MessageDeepLinkingResponse, mt)
	}
	if v, _ := c[ClaimVersion].(string); v != LTIVersion {
		return fmt.Errorf("version must be %s, got %q", LTIVersion, v)
	}
	data, hasData := c[ClaimDLData]
	switch {
	case s.dataSent && !hasData:
		return errors.New("data claim missing: the request's data must be echoed")
	case s.dataSent && data != s.data:
		return fmt.Errorf("data claim %v is not the %q that was sent", data, s.data)
	case !s.dataSent && hasData:
		return errors.New("data claim present although the request sent none")
	}
	for claim, dst := range map[string]*string{ClaimDLMsg: &rec.Msg, ClaimDLLog: &rec.Log, ClaimDLErrorMsg: &rec.ErrorMsg, ClaimDLErrorLog: &rec.ErrorLog} {
		if v, ok := c[claim]; ok {
			s, isStr := v.(string)
			if !isStr {
				return fmt.Errorf("%s must be a string", claim)
			}
			*dst = s
		}
	}
	var items []map[string]any
	if raw, ok := c[ClaimDLContentItems]; ok {
		arr, isArr := raw.([]any)
		if !isArr {
			return errors.New("content_items must be an array")
		}
		for i, it := range arr {
			m, isObj := it.(map[string]any)
			if !isObj {
				return fmt.Errorf("content_items[%d] is not an object", i)
			}
			typ, _ := m["type"].(string)
			if !deepLinkItemTypes[typ] {
				return fmt.Errorf("content_items[%d]: unknown type %q", i, typ)
			}
			if !slices.Contains(s.acceptTypes, typ) {
				return fmt.Errorf("content_items[%d]: type %q not in accept_types %v", i, typ, s.acceptTypes)
			}
			items = append(items, m)
		}
	}
	if len(items) > 1 && !s.multiple {
		return fmt.Errorf("%d content items but accept_multiple is false", len(items))
	}
	rec.ContentItems = items
	var links []*StoredLink
	for i, m := range items {
		if m["type"] != "ltiResourceLink" {
			continue
		}
		l, err := linkFromItem(m, &s)
		if err != nil {
			return fmt.Errorf("content_items[%d]: %w", i, err)
		}
		links = append(links, l)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dlSessions[s.id].used {
		return errors.New("deep linking session already used")
	}
	p.dlSessions[s.id].used = true
	for _, l := range links {
		l.ID = p.nextIDLocked("rl-")
		if l.Item["lineItem"] != nil && s.lineItem {
			li := l.Item["lineItem"].(map[string]any)
			item := LineItem{ResourceLinkID: l.ID, Label: l.Title}
			item.ScoreMaximum, _ = li["scoreMaximum"].(float64)
			if lbl, _ := li["label"].(string); lbl != "" {
				item.Label = lbl
			}
			if item.Label == "" {
				item.Label = "Line item " + l.ID
			}
			item.ResourceID, _ = li["resourceId"].(string)
			item.Tag, _ = li["tag"].(string)
			if sr, ok := li["submissionReview"]; ok {
				b, _ := json.Marshal(sr)
				item.SubmissionReview = new(SubmissionReview)
				_ = json.Unmarshal(b, item.SubmissionReview)
			}
			l.LineItemURL = p.addLineItemLocked(s.clientID, s.contextID, item)
		}
		p.links[l.ID] = l
		p.linkOrder = append(p.linkOrder, l.ID)
		rec.Links = append(rec.Links, *l)
	}
	return nil
}

// linkFromItem validates an ltiResourceLink item.
func linkFromItem(m map[string]any, s *dlSession) (*StoredLink, error) {
	l := &StoredLink{ClientID: s.clientID, DeploymentID: s.deploymentID, ContextID: s.contextID, Item: m}
	for k, dst := range map[string]*string{"url": &l.URL, "title": &l.Title, "text": &l.Text} {
		if v, ok := m[k]; ok {
			str, isStr := v.(string)
			if !isStr {
				return nil, fmt.Errorf("%s must be a string", k)
			}
			*dst = str
		}
	}
	if l.URL != "" {
		u, err := url.Parse(l.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("url %q is not an absolute http(s) URL", l.URL)
		}
	}
	if v, ok := m["custom"]; ok {
		cm, isObj := v.(map[string]any)
		if !isObj {
			return nil, errors.New("custom must be an object")
		}
		l.Custom = map[string]string{}
		for k, val := range cm {
			str, isStr := val.(string)
			if !isStr {
				return nil, fmt.Errorf("custom.%s must be a string", k)
			}
			l.Custom[k] = str
		}
	}
	if v, ok := m["lineItem"]; ok {
		obj, isObj := v.(map[string]any)
		if !isObj {
			return nil, errors.New("lineItem must be an object")
		}
		// Claims were decoded with UseNumber; normalise scoreMaximum.
		sm, err := toFloat(obj["scoreMaximum"])
		if err != nil || !(sm > 0) {
			return nil, fmt.Errorf("lineItem.scoreMaximum must be a number > 0, got %v", obj["scoreMaximum"])
		}
		obj["scoreMaximum"] = sm
		for _, k := range []string{"label", "resourceId", "tag"} {
			if v, ok := obj[k]; ok {
				if _, isStr := v.(string); !isStr {
					return nil, fmt.Errorf("lineItem.%s must be a string", k)
				}
			}
		}
		if v, ok := obj["submissionReview"]; ok {
			b, _ := json.Marshal(v)
			var sr SubmissionReview
			if _, isObj := v.(map[string]any); !isObj || json.Unmarshal(b, &sr) != nil {
				return nil, errors.New("lineItem.submissionReview must be an object of reviewableStatus, label, url and custom")
			}
			if err := sr.validate(); err != nil {
				return nil, fmt.Errorf("lineItem.%v", err)
			}
		}
	}
	return l, nil
}

func toFloat(v any) (float64, error) {
	switch n := v.(type) {
	case json.Number:
		return n.Float64()
	case float64:
		return n, nil
	}
	return 0, fmt.Errorf("not a number: %v", v)
}
