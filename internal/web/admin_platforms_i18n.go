package web

import (
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/notice"
	"github.com/ltipub/ltipub/internal/tool"
)

// Markup is a message whose catalog text carries a little inline markup (<strong>, <code>, <em>, <a href>): the
// catalogs are embedded and trusted, and the arguments, which may come from a person or a platform, are escaped.
// Sentences keep their markup whole, so that a translation can move an emphasised word where its language puts it.
func (p *Page) Markup(id string, args ...any) template.HTML {
	esc := make([]any, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok && i%2 == 1 {
			a = template.HTMLEscapeString(s)
		}
		esc[i] = a
	}
	return template.HTML(p.T(id, esc...)) // #nosec G203 -- trusted catalog text, escaped arguments
}

// AdminCrumbs is adminCrumbs in the page's language: Site administration first, then label, URL pairs and the
// page itself ({{template "breadcrumb" (.AdminCrumbs (.T "platforms.title") "/admin/platforms" .Reg.Name "")}}).
func (p *Page) AdminCrumbs(pairs ...string) []crumb {
	out := adminCrumbs(pairs...)
	if p.tr != nil {
		out[0].Label = p.tr.T("layout.site_admin")
	}
	return out
}

// copyField is a URL to read and copy on the platform pages, with the words of its Copy button in the page's
// language ("Copiar URL de la herramienta"), so that several on one page keep distinct accessible names.
type copyField struct {
	ID, Label, Name, Value string
	Copy, CopyLabel        string
	Copied, CopiedStatus   string // what the button and the status line say once copied
}

// CopyField is the template helper for one copyField.
func (p *Page) CopyField(id, label, name, value string) copyField {
	return copyField{ID: id, Label: label, Name: name, Value: value, Copy: p.T("platforms.copy"),
		CopyLabel: p.T("platforms.copy_label", "Name", name), Copied: p.T("platforms.copied"),
		CopiedStatus: p.T("platforms.copied_status", "Name", name)}
}

// RegStatus is a registration's status (tool.Registration.Status: "Active", "Pending") in the page's language.
func (p *Page) RegStatus(status string) string {
	return p.T("platforms.status." + strings.ToLower(status))
}

// CheckStepName is the name of a check step in the page's language, from its code ("token:<scope>" names the scope).
func (p *Page) CheckStepName(st tool.CheckStep) string {
	if p.tr == nil || p.tr.Tag() == i18n.Source {
		return st.Name
	}
	code, scope, _ := strings.Cut(st.Code, ":")
	key := "platforms.check.step." + code
	if !p.tr.Has(key) {
		return st.Name
	}
	if scope != "" {
		name := scope
		if k := "platforms.check.scope." + checkScopeKey(scope); p.tr.Has(k) {
			name = p.tr.T(k)
		}
		return p.tr.T(key, "Scope", name)
	}
	return p.tr.T(key)
}

// checkScopeKey is the catalog's name of a service scope: its last path segment ("score", "contextmembership.readonly"),
// with the dots a catalog key cannot carry replaced.
func checkScopeKey(scope string) string {
	if i := strings.LastIndex(scope, "/"); i >= 0 {
		scope = scope[i+1:]
	}
	return strings.ReplaceAll(scope, ".", "_")
}

// fieldErrors gives the messages the registration rules wrote beside the platform forms' fields in the request's
// language. The rules write English sentences without codes (internal/tool), so the known ones are recognised here,
// at the edge, by their words; any other message stays as written. In the source language nothing changes.
func (s *Server) fieldErrors(r *http.Request, fields map[string]string) map[string]string {
	tr := s.printer(r)
	if tr.Tag() == i18n.Source || len(fields) == 0 {
		return fields
	}
	out := make(map[string]string, len(fields))
	for f, msg := range fields {
		out[f] = localizeFieldError(tr, f, msg)
	}
	return out
}

// fieldMessages are the registration rules' fixed messages and their keys.
var fieldMessages = map[string]string{
	`Give the platform a name, such as "Moodle (production)".`:                                                                              "platforms.error.name_required",
	"Keep the name under 200 characters.":                                                                                                   "platforms.error.name_long",
	"Token audience is at most 1024 characters; copy it again from the platform (or leave it empty).":                                       "platforms.error.token_audience_long",
	"Client ID is required: the platform shows it after you add the tool.":                                                                  "platforms.error.client_id_required",
	"Client ID must be at most 255 printable ASCII characters without spaces; copy it again from the platform.":                             "platforms.error.client_id_invalid",
	"Deployment ID must be at most 255 printable ASCII characters.":                                                                         "platforms.error.deployment_id_invalid",
	"Deployment ID is required: the platform shows it for the tool (Moodle: the tool's deployment ID; Canvas: in the app's configuration).": "platforms.error.deployment_id_required",
}

// urlFieldLabels are the labels the rules start a URL field's message with, and the keys of the form's labels.
var urlFieldLabels = map[string]struct{ label, key string }{
	"issuer":    {"Platform ID (issuer)", "platforms.details.issuer"},
	"jwks_url":  {"Public keyset URL", "platforms.details.jwks_url"},
	"token_url": {"Access token URL", "platforms.details.token_url"},
	"auth_url":  {"Authentication request URL", "platforms.details.auth_url"},
}

// urlMessages are the endings of the rules' messages about a URL field (after its label).
var urlMessages = map[string]string{
	" is required.": "platforms.error.url_required",
	" must be an absolute URL such as https://lms.example.edu.":                                                "platforms.error.url_absolute",
	" must be an absolute URL such as https://lms.example.edu/path.":                                           "platforms.error.url_absolute_path",
	" must use https (http is accepted only when the server runs with --allow-private-urls, for development).": "platforms.error.url_http",
	" must be an https URL.":              "platforms.error.url_https",
	" must not have a query or fragment.": "platforms.error.url_query",
	" must not have a fragment.":          "platforms.error.url_fragment",
	" points to a loopback or private address, which the tool will not contact (allowed only with --allow-private-urls, for development).": "platforms.error.url_private",
}

const urlIPv4Message = ", which is an IP address written in an unusual way (browsers and resolvers read it as an IPv4 address). " +
	"Use the platform's host name, or write the address as four decimal numbers such as 192.0.2.10."

func localizeFieldError(tr *i18n.Printer, field, msg string) string {
	if key, ok := fieldMessages[msg]; ok {
		return tr.T(key)
	}
	if id, ok := strings.CutPrefix(msg, `Deployment ID `); ok {
		if q, ok := strings.CutSuffix(id, " is already listed."); ok {
			if v, err := strconv.Unquote(q); err == nil {
				return tr.T("platforms.error.deployment_duplicate", "ID", v)
			}
		}
	}
	l, ok := urlFieldLabels[field]
	if !ok {
		return msg
	}
	rest, ok := strings.CutPrefix(msg, l.label)
	if !ok {
		return msg
	}
	label := tr.T(l.key)
	if key, ok := urlMessages[rest]; ok {
		return tr.T(key, "Label", label)
	}
	if h, ok := strings.CutPrefix(rest, " has the host "); ok {
		if q, ok := strings.CutSuffix(h, urlIPv4Message); ok {
			if host, err := strconv.Unquote(q); err == nil {
				return tr.T("platforms.error.url_ipv4", "Label", label, "Host", host)
			}
		}
	}
	return msg
}

// lastDeploymentReason says why removing the last deployment needs confirming: the refusal's words in the source
// language, the catalog's otherwise (with the count of accepted launches the refusal's words carry).
func (s *Server) lastDeploymentReason(r *http.Request, reg tool.Registration, depID string, rf *tool.Refusal) string {
	tr := s.printer(r)
	reason := ""
	if rf != nil {
		reason = rf.Description
	}
	if tr.Tag() == i18n.Source {
		return reason
	}
	_, deps, err := s.cfg.Platforms.Dependents(r.Context(), reg.ID)
	if err != nil {
		return reason
	}
	return tr.T("platforms.remove.reason", "ID", depID, "Name", reg.Name, "Count", deps.AcceptedLaunches)
}

// NoticeOutcome is a received notice's outcome (handled, acknowledged, duplicate) in the page's language.
func (p *Page) NoticeOutcome(outcome string) string {
	if key := "platforms.notices.outcome." + outcome; p.tr != nil && p.tr.Has(key) {
		return p.tr.T(key)
	}
	return outcome
}

// Fixed summaries internal/notice writes for a notice (what a platform said itself stays as it said it).
const (
	noticeSummaryAcknowledged = "A notice of a type ltipub does not act on; acknowledged."
	noticeSummaryHello        = "Hello world: the platform's notices reach ltipub."
	noticeCopyPrefix          = "Course "
	noticeCopyFrom            = " copied from "
	noticeCopySuffix          = ": its links reach the same published resources."
)

// NoticeSummary is what a notice said, in the page's language where ltipub wrote the words.
func (p *Page) NoticeSummary(rec notice.Record) string {
	if p.tr == nil || p.tr.Tag() == i18n.Source {
		return rec.Summary
	}
	switch rec.Summary {
	case noticeSummaryAcknowledged:
		return p.tr.T("platforms.notices.summary.acknowledged")
	case noticeSummaryHello:
		return p.tr.T("platforms.notices.summary.hello")
	}
	if rest, ok := strings.CutPrefix(rec.Summary, noticeCopyPrefix); ok {
		if rest, ok := strings.CutSuffix(rest, noticeCopySuffix); ok {
			if i := strings.LastIndex(rest, noticeCopyFrom); i > 0 {
				return p.tr.T("platforms.notices.summary.copy", "Course", rest[:i], "Origins", rest[i+len(noticeCopyFrom):])
			}
		}
	}
	return rec.Summary
}

// mixedWarning is a launch's mixed http/https warning in the request's language.
func (s *Server) mixedWarning(r *http.Request, w string) string {
	switch w {
	case mixedToolHTTP:
		return s.t(r, "platforms.mixed.tool_http")
	case mixedPlatformHTTP:
		return s.t(r, "platforms.mixed.platform_http")
	}
	return w
}

// CheckDetail is what a check step found, in the page's language where the step says it again for a translation.
func (p *Page) CheckDetail(st tool.CheckStep) string {
	return p.checkWords(st.DetailID, st.Args, "platforms.check.detail.", st.Detail)
}

// CheckFix is a check step's fix, in the page's language where the step says it again for a translation.
func (p *Page) CheckFix(st tool.CheckStep) string {
	return p.checkWords(st.FixID, st.Args, "platforms.check.fix.", st.Fix)
}

// checkWords translates one of a step's sentences. Steps recorded before they carried ids, and ids the catalog
// lacks, keep the words they were recorded with; so does the source language, whose words are the recorded ones.
func (p *Page) checkWords(id string, args map[string]string, prefix, recorded string) string {
	if id == "" || p.tr == nil || p.tr.Tag() == i18n.Source || !p.tr.Has(prefix+id) {
		return recorded
	}
	a := make([]any, 0, 2*len(args))
	for k, v := range args {
		switch {
		case strings.HasSuffix(k, "Fields"): // field codes, named as the Platform details form names them
			var labels []string
			for _, f := range strings.Split(v, ",") {
				labels = append(labels, p.tr.T("platforms.details."+f))
			}
			v = strings.Join(labels, ", ")
		case k == "Scope":
			if key := "platforms.check.scope." + checkScopeKey(v); p.tr.Has(key) {
				v = p.tr.T(key)
			}
		}
		a = append(a, k, v)
	}
	return p.tr.T(prefix+id, a...)
}
