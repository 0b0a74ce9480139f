package web

import (
	"html/template"
	"net/http"
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
	if code == "token" && scope == "" { // the token request itself, before any scope is asked for
		key = "platforms.check.step.token_request"
	}
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
func (p *Page) checkWords(id string, args tool.CheckArgs, prefix, recorded string) string {
	if id == "" || p.tr == nil || p.tr.Tag() == i18n.Source || !p.tr.Has(prefix+id) {
		return recorded
	}
	pairs := args.Pairs()
	a := make([]any, 0, len(pairs))
	for i := 0; i+1 < len(pairs); i += 2 {
		k, v := pairs[i], pairs[i+1]
		switch {
		case strings.HasSuffix(k, "Fields"): // field codes, named as the Platform details form names them
			var labels []string
			for _, f := range strings.Split(v, ",") {
				labels = append(labels, p.tr.T("platforms.details."+f))
			}
			v = strings.Join(labels, ", ")
		case k == "Algs": // "kid: RS256, kid2: any RSA algorithm"
			v = strings.NewReplacer(": any RSA algorithm", ": "+p.tr.T("platforms.check.any_rsa"),
				": any EC algorithm", ": "+p.tr.T("platforms.check.any_ec")).Replace(v)
		case k == "Scope":
			if key := "platforms.check.scope." + checkScopeKey(v); p.tr.Has(key) {
				v = p.tr.T(key)
			}
		}
		a = append(a, k, v)
	}
	return p.tr.T(prefix+id, a...)
}
