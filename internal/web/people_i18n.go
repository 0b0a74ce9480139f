package web

import (
	"errors"
	"fmt"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/jobs"
)

// The words of the people and grades pages (users, enrolments, grader report, published list, review) that are
// not plain messages: values stored in English (a role, a status, how an enrolment was made) shown in the page's
// language, and the account errors the admin pages show. Their messages are in locales/people.<lang>.json.

// RoleName is a course role (student, teacher) in the page's language.
func (p *Page) RoleName(role any) string { return p.valueName("role.", role) }

// StatusName is an enrolment's or account's status (active, suspended) in the page's language.
func (p *Page) StatusName(status any) string { return p.valueName("people.value.status.", status) }

// MethodName says how an enrolment was made (manual, lti) in the page's language.
func (p *Page) MethodName(method any) string { return p.valueName("people.value.method.", method) }

// valueName is the message prefix+v, or v itself when the catalog does not know it (a value added later).
func (p *Page) valueName(prefix string, v any) string {
	s := fmt.Sprint(v)
	if p.tr == nil || s == "" || !p.tr.Has(prefix+s) {
		return s
	}
	return p.tr.T(prefix + s)
}

// movedList names what a merge moves, counted: "1 platform account(s), 2 enrolment(s), … and 0 quiz attempt(s)".
func movedList(tr *i18n.Printer, key string, d account.Dependents) string {
	return tr.T(key, "PlatformAccounts", tr.T("people.count.platform_accounts", "Count", d.PlatformAccounts),
		"Enrolments", tr.T("people.count.enrolments", "Count", d.Enrolments), "Grades", tr.T("people.count.grades", "Count", d.Grades),
		"Submissions", tr.T("people.count.submissions", "Count", d.Submissions), "Attempts", tr.T("people.count.attempts", "Count", d.QuizAttempts))
}

// Moved is what the merge moves, for the merge page.
func (p *userMergePage) Moved(d account.Dependents) string {
	if p.Page.tr == nil {
		return ""
	}
	return movedList(p.Page.tr, "people.merge.moved_list", d)
}

// accountError is an account refusal the admin can act on (the last administrator, the same account twice, no
// such account), in the request's language; "" for other errors. The account's validation errors (a short
// password) carry their own words (validation codes, h-i18n-domain).
func accountError(tr *i18n.Printer, err error) string {
	switch {
	case errors.Is(err, account.ErrLastAdmin):
		return tr.T("people.error.last_admin")
	case errors.Is(err, account.ErrMergeSame):
		return tr.T("people.error.merge_same")
	case errors.Is(err, account.ErrNotFound):
		return tr.T("people.error.no_account")
	}
	return ""
}

// bulkChangeLabel says what a bulk change does ("suspend", "make teacher"), for the confirmation and the message
// after it.
func bulkChangeLabel(tr *i18n.Printer, ch course.BulkChange) string {
	key := "people.bulk.change." + string(ch.Action)
	if ch.Action == course.BulkRole {
		key += "_" + string(ch.Role)
	}
	if !tr.Has(key) {
		return ch.Label()
	}
	return tr.T(key)
}

// sentNote is the note beside a grade sent to a platform: "sent to <platform> at <time>", in the page's language
// (render gives the notes of a page its printer: localizeNotes).
type sentNote struct {
	jobs.SentNote
	tr *i18n.Printer
}

func (n sentNote) String() string {
	if n.tr == nil || n.tr.Tag() == i18n.Source {
		return n.Text()
	}
	return n.tr.T("people.grades.sent", "Platform", n.Platform, "Date", fmtHelpers{n.tr}.When(n.At))
}

// localizeNotes gives every note the page's printer.
func (n sentNotes) localizeNotes(tr *i18n.Printer) {
	for _, byActivity := range n {
		for _, note := range byActivity {
			note.tr = tr
		}
	}
}
