package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/ltipub/ltipub/internal/i18n"
)

// sessionLocale keeps the launch's locale (launch_presentation.locale, LTI 1.1 launch_presentation_locale) for
// the launched session: every page of it speaks the language the platform said the person uses.
const sessionLocale = "lti_locale"

// printer is the language of the request, first match wins: the launch's locale (the session's, or the one a
// launch being refused carries), the account's language, the browser's Accept-Language, the site default.
func (s *Server) printer(r *http.Request) *i18n.Printer {
	prefs := make([]string, 0, 5)
	if hasSession(r) {
		if v, ok := s.sessions.Get(r.Context(), sessionLocale).(string); ok {
			prefs = append(prefs, v)
		}
	}
	prefs = append(prefs, requestLaunchLocale(r))
	if u := currentUser(r); u != nil {
		prefs = append(prefs, u.Language)
	}
	prefs = append(prefs, r.Header.Get("Accept-Language"))
	if v, err := s.cfg.Site.Get(r.Context()); err == nil {
		prefs = append(prefs, v.DefaultLanguage)
	}
	return s.catalog.Printer(s.catalog.Choose(prefs...))
}

// requestLaunchLocale is the locale a launch request carries, read before it is validated: a launch refused before
// its session exists still answers in the person's language. It only picks a language, so it needs no trust.
func requestLaunchLocale(r *http.Request) string {
	if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/lti/") || r.PostForm == nil {
		return ""
	}
	if v := r.PostForm.Get("launch_presentation_locale"); v != "" {
		return v
	}
	tok := r.PostForm.Get("id_token")
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Presentation struct {
			Locale string `json:"locale"`
		} `json:"https://purl.imsglobal.org/spec/lti/claim/launch_presentation"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	return c.Presentation.Locale
}

// t is a message in the request's language, for the words handlers write (flash messages).
func (s *Server) t(r *http.Request, id string, args ...any) string {
	return s.printer(r).T(id, args...)
}

// T is a message in the page's language, for templates: {{.T "key"}}, {{$.T "key" "Name" .Value}}.
func (p *Page) T(id string, args ...any) string {
	if p.tr == nil {
		return id
	}
	return p.tr.T(id, args...)
}

// Lang is the page's language tag, for <html lang>.
func (p *Page) Lang() string {
	if p.tr == nil {
		return i18n.Source.String()
	}
	return p.tr.Lang()
}

// localizeProblem gives a problem the words of the catalog when it has them for the problem's code
// ("problem.<code>.title", ".cause", ".fix"): refusals a person reads in their language. Codes the catalog does
// not know keep the words the code wrote (in English); en.json holds the source of each translated code.
func localizeProblem(tr *i18n.Printer, p *Problem) *Problem {
	// In the source language the words the code wrote stay: they carry details (a claim, a time, a count) that the
	// catalog's general sentence leaves to the log.
	if tr.Tag() == i18n.Source {
		return p
	}
	q := *p
	if localizeDomain(tr, &q) {
		return &q
	}
	if q.Localize != nil {
		q.Title, q.Cause, q.Fix = q.Localize(tr)
	} else if q.Code != "" && tr.Has("problem."+q.Code+".title") {
		key := "problem." + q.Code
		args := make([]any, 0, 2*len(q.Args))
		for k, v := range q.Args {
			if t, ok := v.(time.Time); ok {
				v = tr.DateTime(t)
			}
			args = append(args, k, v)
		}
		q.Title = tr.T(key+".title", args...)
		if tr.Has(key + ".cause") {
			q.Cause = tr.T(key+".cause", args...)
		}
		if tr.Has(key + ".fix") {
			fix := tr.T(key+".fix", args...)
			if q.AdminFix != "" {
				q.AdminFix = fix
			} else {
				q.Fix = fix
			}
		}
	}
	switch q.Fix {
	case learnerAskFix:
		q.Fix = tr.T("problem.ask.learner")
	case teacherAskFix:
		q.Fix = tr.T("problem.ask.teacher")
	}
	switch q.AdminFixFor {
	case adminFixForTeacher:
		q.AdminFixFor = tr.T("problem.ask.for_teacher")
	case adminFixForLearner:
		q.AdminFixFor = tr.T("problem.ask.for_learner")
	}
	return &q
}
