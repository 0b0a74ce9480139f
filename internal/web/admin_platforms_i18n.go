package web

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/notice"
	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/internal/tool/checkwords"
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

// CheckStepName is the name of a check step in the page's language.
func (p *Page) CheckStepName(st tool.CheckStep) string { return checkwords.StepName(p.tr, st) }

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

// CheckDetail is what a check step found, in the page's language.
func (p *Page) CheckDetail(st tool.CheckStep) string { return checkwords.Detail(p.tr, st) }

// CheckFix is a check step's fix, in the page's language.
func (p *Page) CheckFix(st tool.CheckStep) string { return checkwords.Fix(p.tr, st) }
