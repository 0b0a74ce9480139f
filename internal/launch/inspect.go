package launch

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/lti"
)

// DefaultDetailRetention is how long a launch log row keeps what came in (the decoded id_token, the LTI 1.1
// fields): long enough to debug last week's launches, short enough not to keep personal data for ever. The row
// itself (who, when, outcome, reason) stays.
const DefaultDetailRetention = 14 * 24 * time.Hour

// Detail is what the launch inspector shows of one launch: what came in, and what ltipub expected. It holds the
// decoded claims, never the raw token (a raw token could be replayed while it is valid).
type Detail struct {
	Version string `json:"version"` // "1.3" or "1.1"
	// Header is the id_token's JOSE header (alg, kid, typ).
	Header map[string]any `json:"header,omitempty"`
	// Claims are the id_token's claims, or the LTI 1.1 launch's fields without its signature.
	Claims map[string]any `json:"claims,omitempty"`
	// Expected is what the registration says: issuer, client_id, keyset URL, deployments.
	Expected map[string]string `json:"expected,omitempty"`
	// Did is what ltipub did with the launch once it was valid (nil for a launch refused before landing).
	Did *Did `json:"did,omitempty"`

	// rawHeader and rawClaims are the id_token's header and claims as they came, for a Detail made by a launch:
	// the launch log stores them as they are (see MarshalJSON) rather than decoding them into maps and encoding
	// the maps again, which cost a launch more than verifying the token's signature. A Detail read back from the
	// log has Header and Claims.
	rawHeader, rawClaims json.RawMessage
}

// MarshalJSON encodes the detail, with the id_token's header and claims as they came when it has them. Its
// output is compact, HTML-escaped JSON (what json.Marshal gives), so that the launch log can store it without
// json.Marshal validating and compacting it again.
func (d Detail) MarshalJSON() ([]byte, error) {
	type plain Detail // without this method
	if d.rawHeader == nil && d.rawClaims == nil {
		return json.Marshal(plain(d))
	}
	// The raw header and claims stand for Header and Claims (as fields of an enclosing struct would hide them),
	// and are spliced in as they are: idTokenDetail compacted and escaped them already.
	p := plain(d)
	p.Header, p.Claims = nil, nil
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	b = b[:len(b)-1] // the closing brace
	for _, f := range [...]struct {
		name string
		raw  json.RawMessage
	}{{`"header":`, d.rawHeader}, {`"claims":`, d.rawClaims}} {
		if len(f.raw) == 0 {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, f.name...)
		b = append(b, f.raw...)
	}
	return append(b, '}'), nil
}

// Did is what ltipub did with a valid launch: the account, the enrolment, the resource link and the page the
// person landed on, or that the person was sent to the account choice or content selection.
type Did struct {
	// Outcome is Landed, ChooseAccount or SelectContent.
	Outcome string `json:"outcome"`
	// UserID and Username are the account the launch signed in (0 when none: an account choice, a content
	// selection by a person not linked yet).
	UserID   int64  `json:"user_id,omitempty"`
	Username string `json:"username,omitempty"`
	// Account says how the account was found: AccountLinked, AccountChosen or AccountCreated.
	Account string `json:"account,omitempty"`
	// Enrolment is "new" or "existing"; Role the course role it has.
	Enrolment string `json:"enrolment,omitempty"`
	Role      string `json:"role,omitempty"`
	// Resource is the published resource (name and UUID) the link opens.
	Resource     string `json:"resource,omitempty"`
	ResourceUUID string `json:"resource_uuid,omitempty"`
	// ResourceLink is ltipub's resource link row, with the platform's resource link id and context.
	ResourceLinkID int64  `json:"resource_link_id,omitempty"`
	LinkID         string `json:"link_id,omitempty"`
	Context        string `json:"context,omitempty"`
	// To is where the browser was sent.
	To string `json:"to,omitempty"`
}

// How a landed launch found its account.
const (
	// AccountLinked: the platform user was linked to an account by an earlier launch.
	AccountLinked = "existing linked account"
	// AccountChosen: the person signed in to an existing account on the account choice page, now linked.
	AccountChosen = "existing account chosen by the person"
	// AccountMigrated: a first LTI 1.3 launch joined the account of the person's LTI 1.1 identity, named by its
	// verified lti1p1 migration claim.
	AccountMigrated = "account of the LTI 1.1 identity (lti1p1 migration claim)"
	// AccountCreated: ltipub made a new account (provisioning, or the person asked for one).
	AccountCreated = "new account"
)

// did says what ltipub did for outcome o, landed with choice.
func did(o *Outcome, choice publish.Choice) *Did {
	if o == nil || o.Kind == "" {
		return nil
	}
	d := &Did{Outcome: o.Kind, To: o.To, UserID: o.Session.UserID}
	if o.Kind != Landed || o.Landing == nil {
		return d
	}
	l := o.Landing
	d.Username, d.Account = l.User.Username, AccountLinked
	switch {
	case l.NewAccount:
		d.Account = AccountCreated
	case l.MigratedFrom != "":
		d.Account = AccountMigrated + " (" + l.MigratedFrom + ")"
	case choice.Existing != nil:
		d.Account = AccountChosen
	}
	d.Enrolment, d.Role = "existing", string(l.Role)
	if l.NewEnrolment {
		d.Enrolment = "new"
	}
	d.Resource, d.ResourceUUID = l.Resource.Name, l.Resource.UUID
	d.ResourceLinkID, d.LinkID, d.Context = l.ResourceLink.ID, l.ResourceLink.LinkID, l.ResourceLink.ContextTitle
	return d
}

// idTokenDetail decodes rawIDToken without verifying it (the validator does that; a refused token must be
// explained too), with what registration reg expects.
func idTokenDetail(rawIDToken string, reg tool.Registration) *Detail {
	d := &Detail{Version: "1.3", Expected: map[string]string{"iss": reg.Issuer, "client_id": reg.ClientID, "jwks_url": reg.JWKSURL}}
	if reg.ID != 0 {
		var deps []string
		for _, dep := range reg.Deployments {
			deps = append(deps, dep.DeploymentID)
		}
		d.Expected["deployment_ids"] = strings.Join(deps, " ")
	}
	parts := strings.Split(rawIDToken, ".")
	if len(parts) != 3 || len(rawIDToken) > 256<<10 {
		return d
	}
	// Only a JSON object is kept: what json.Unmarshal into a map would have accepted.
	object := func(s string) json.RawMessage {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return nil
		}
		if b = bytes.TrimSpace(b); len(b) == 0 || b[0] != '{' {
			return nil
		}
		// Compacted and escaped as json.Marshal writes it (MarshalJSON splices it in as it is); Compact also checks
		// that it is valid JSON.
		var c bytes.Buffer
		c.Grow(len(b))
		if err := json.Compact(&c, b); err != nil {
			return nil
		}
		if bytes.ContainsAny(c.Bytes(), "<>&\u2028\u2029") {
			var e bytes.Buffer
			json.HTMLEscape(&e, c.Bytes())
			return e.Bytes()
		}
		return c.Bytes()
	}
	d.rawHeader, d.rawClaims = object(parts[0]), object(parts[1])
	return d
}

// legacyDetail keeps an LTI 1.1 launch's fields, without its OAuth signature and nonce.
func legacyDetail(ps interface{ Get(string) string }, keys []string) *Detail {
	d := &Detail{Version: "1.1", Claims: map[string]any{}}
	for _, k := range keys {
		if k == "oauth_signature" || k == "oauth_nonce" {
			continue
		}
		if v := ps.Get(k); v != "" {
			d.Claims[k] = v
		}
	}
	return d
}

// Inspection is a launch log row explained: the row, what came in, the validation as far as it went, the
// services the platform offered, and warnings in plain words.
type Inspection struct {
	Entry    LogEntry
	Detail   *Detail // nil when not kept (older than the retention, or never recorded)
	Steps    []InspectStep
	Services []string
	Warnings []string
}

// InspectStep is one validation step and how it went.
type InspectStep struct {
	Name, Status, Note string // Status: passed, failed, not reached
}

// validationOrder is the order lti.Validator checks an id_token in (lti/validate.go), each with the refusal
// codes it gives: a refusal at one step means the steps before it passed and those after were not reached.
var validationOrder = []struct {
	name  string
	codes []lti.Code
}{
	{"state and browser (cookie or platform storage)", []lti.Code{lti.CodeStateMissing, lti.CodeStateUnknown, lti.CodeStateExpired,
		lti.CodeStateUsed, lti.CodeStateCookieMissing, lti.CodeStateCookieMismatch, lti.CodeIDTokenMissing, lti.CodePlatformError}},
	{"token format and size", []lti.Code{lti.CodeTokenTooLarge, lti.CodeTokenMalformed}},
	{"signing algorithm", []lti.Code{lti.CodeAlgNotAllowed}},
	{"platform key (kid)", []lti.Code{lti.CodeKIDMissing, lti.CodeUnknownKID, lti.CodeJWKSFetch, lti.CodeKeyMismatch}},
	{"signature", []lti.Code{lti.CodeBadSignature}},
	{"issuer", []lti.Code{lti.CodeIssuerMismatch}},
	{"audience (client ID)", []lti.Code{lti.CodeAudienceMismatch, lti.CodeAZPMissing, lti.CodeAZPMismatch}},
	{"times (exp, iat, nbf)", []lti.Code{lti.CodeExpired, lti.CodeIssuedInFuture, lti.CodeNotYetValid}},
	{"nonce", []lti.Code{lti.CodeNonceMissing, lti.CodeNonceMismatch, lti.CodeNonceReused}},
	{"deployment", []lti.Code{lti.CodeDeploymentMissing, lti.CodeDeploymentUnknown}},
	{"message type and version", []lti.Code{lti.CodeMessageTypeUnknown, lti.CodeMessageTypeUnsupport, lti.CodeVersionWrong}},
	{"required claims", []lti.Code{lti.CodeClaimMissing, lti.CodeClaimInvalid, lti.CodeTargetLinkURI}},
}

// Inspect explains a launch log row.
func Inspect(e LogEntry) Inspection {
	in := Inspection{Entry: e, Detail: e.Detail}
	if e.Detail == nil || e.Detail.Version == "1.3" {
		failedAt := -1
		for i, st := range validationOrder {
			for _, c := range st.codes {
				if e.Outcome == Refused && string(c) == e.Code {
					failedAt = i
				}
			}
		}
		for i, st := range validationOrder {
			s := InspectStep{Name: st.name, Status: "passed"}
			switch {
			case e.Outcome == Refused && failedAt < 0:
				s.Status = "passed" // refused after validation (landing: resource, enrolment, account)
			case failedAt >= 0 && i == failedAt:
				s.Status, s.Note = "failed", e.Reason
			case failedAt >= 0 && i > failedAt:
				s.Status = "not reached"
			}
			in.Steps = append(in.Steps, s)
		}
		if e.Outcome == Refused && failedAt < 0 {
			in.Steps = append(in.Steps, InspectStep{Name: "landing (resource, account, enrolment)", Status: "failed", Note: e.Reason})
		} else if e.Outcome == Accepted {
			in.Steps = append(in.Steps, InspectStep{Name: "landing (resource, account, enrolment)", Status: "passed"})
		}
	}
	if e.Detail == nil || e.Detail.Claims == nil {
		return in
	}
	c := e.Detail.Claims
	if e.Detail.Version == "1.1" {
		if u, _ := c["lis_outcome_service_url"].(string); u != "" {
			in.Services = append(in.Services, "Basic Outcomes (grades): "+u)
		} else {
			in.Warnings = append(in.Warnings, "No grade service in this launch (no lis_outcome_service_url): grades for this link will stay in ltipub. "+
				"Moodle: set the tool's Accept grades from the tool to Always.")
		}
		if u, _ := c["ext_ims_lis_memberships_url"].(string); u != "" {
			in.Services = append(in.Services, "Memberships (roster): "+u)
		}
		return in
	}
	if ags, ok := c["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"].(map[string]any); ok {
		var scopes []string
		if sc, ok := ags["scope"].([]any); ok {
			for _, s := range sc {
				if str, ok := s.(string); ok {
					scopes = append(scopes, str[strings.LastIndex(str, "/")+1:])
				}
			}
		}
		line := "Assignment and Grade Services: scopes " + strings.Join(scopes, ", ")
		if li, _ := ags["lineitem"].(string); li != "" {
			line += "; line item " + li
		} else if lis, _ := ags["lineitems"].(string); lis != "" {
			line += "; line items " + lis + " (no line item for this link: ltipub finds or creates one)"
		}
		in.Services = append(in.Services, line)
	} else {
		in.Warnings = append(in.Warnings, "No grade service in this launch: grades for this link will stay in ltipub. "+
			"Moodle: IMS LTI Assignment and Grade Services = \"Use this service for grade sync and column management\"; Canvas: the key's AGS scopes.")
	}
	if nrps, ok := c["https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"].(map[string]any); ok {
		u, _ := nrps["context_memberships_url"].(string)
		in.Services = append(in.Services, "Names and Role Provisioning: "+u)
	} else {
		in.Warnings = append(in.Warnings, "No roster service in this launch: member sync cannot run for this link. "+
			"Moodle: IMS LTI Names and Role Provisioning = \"Use this service to retrieve members' information as per privacy settings\".")
	}
	if dl, ok := c["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"].(map[string]any); ok {
		b, _ := json.Marshal(dl)
		in.Services = append(in.Services, "Deep linking settings: "+string(b))
	}
	_, hasName := c["name"]
	_, hasGiven := c["given_name"]
	if _, hasEmail := c["email"]; !hasEmail || (!hasName && !hasGiven) {
		in.Warnings = append(in.Warnings, "The platform did not share the person's name and email: accounts are made without them. "+
			"Moodle: Privacy → Share launcher's name with tool and Share launcher's email with tool = Always; Canvas: privacy level public.")
	}
	return in
}

// sortedKeys lists a map's keys in order, for the page.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ClaimRows gives the detail's claims as sorted key / JSON value pairs.
func (d *Detail) ClaimRows() [][2]string {
	if d == nil {
		return nil
	}
	var out [][2]string
	for _, k := range sortedKeys(d.Claims) {
		b, _ := json.Marshal(d.Claims[k])
		out = append(out, [2]string{k, string(b)})
	}
	return out
}

// HeaderRows gives the JOSE header as sorted pairs.
func (d *Detail) HeaderRows() [][2]string {
	if d == nil {
		return nil
	}
	var out [][2]string
	for _, k := range sortedKeys(d.Header) {
		b, _ := json.Marshal(d.Header[k])
		out = append(out, [2]string{k, string(b)})
	}
	return out
}

// LaunchEntry returns one launch log row with its detail, as the inspector shows it.
func (s *Service) LaunchEntry(ctx context.Context, id int64) (LogEntry, error) {
	return s.store.LaunchLogEntry(ctx, id, s.now().Add(-s.detailRetention()))
}

func (s *Service) detailRetention() time.Duration {
	if s.retention > 0 {
		return s.retention
	}
	return DefaultDetailRetention
}

// recordDid adds to the launch log row e what ltipub did with the launch (outcome out, err), in the row's own
// statement, and hands the detail to a pending launch so that its resumption can record what it did in turn.
func (s *Service) recordDid(e *LogEntry, out *Outcome, err error) {
	if e.Detail == nil || err != nil || out == nil {
		return
	}
	e.Detail.Did = did(out, publish.Choice{})
	if out.Pending != nil {
		out.Pending.Detail = e.Detail
	}
}
