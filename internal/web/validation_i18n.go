package web

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/tool"
)

// The domain's validation errors carry a code and args (course.ValidationError, publish, account, tool) besides
// their English Message; their words in other languages are the catalog's "validation.<code>" (locales/domain.*).
// In the source language a page shows the Message as the domain wrote it, so English reads exactly as it always
// has, as localizeProblem does for refusals.

// validationMessage is a mistake's words in tr's language: the catalog's "validation.<code>" filled with args, or
// english when tr is the source language or the code has no message.
func validationMessage(tr *i18n.Printer, english, code string, args map[string]any) string {
	if tr == nil || tr.Tag() == i18n.Source || code == "" || !tr.Has("validation."+code) {
		return english
	}
	return tr.T("validation."+code, argPairs(localArgs(tr, args))...)
}

// localArgs words the args that are phrases of their own (what a JSON error found) in tr's language.
func localArgs(tr *i18n.Printer, args map[string]any) map[string]any {
	var out map[string]any
	for k, v := range args {
		p, ok := v.(course.Phrase)
		if !ok {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(args))
			for k2, v2 := range args {
				out[k2] = v2
			}
		}
		out[k] = validationMessage(tr, p.English, p.Code, p.Args)
	}
	if out == nil {
		return args
	}
	return out
}

// argPairs turns args into the name, value pairs Printer.T takes, in a stable order.
func argPairs(args map[string]any) []any {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]any, 0, 2*len(keys))
	for _, k := range keys {
		out = append(out, k, args[k])
	}
	return out
}

// localValidationText is validationText in tr's language.
func localValidationText(tr *i18n.Printer, verr *course.ValidationError) string {
	if tr == nil || tr.Tag() == i18n.Source {
		return validationText(verr)
	}
	msg := strings.TrimSuffix(validationMessage(tr, verr.Message, verr.Code, verr.Args), ".")
	pos := fmt.Sprintf("line %d, column %d", verr.Line, verr.Column)
	switch {
	case verr.Line > 0 && strings.HasSuffix(verr.Field, pos):
		where := tr.T("validation.where.position", "Line", verr.Line, "Column", verr.Column)
		if f := strings.TrimSuffix(strings.TrimSuffix(verr.Field, pos), ", "); f != "" {
			where = tr.T("validation.where.field_position", "Field", f, "Line", verr.Line, "Column", verr.Column)
		}
		return tr.T("validation.where.at", "Where", capitalize(where), "Message", msg)
	case verr.Line > 0:
		return tr.T("validation.where.line_field", "Line", verr.Line, "Column", verr.Column, "Field", verr.Field, "Message", msg)
	}
	return tr.T("validation.where.field", "Field", verr.Field, "Message", msg)
}

// formError gives the message to show beside a form for mistakes the person can fix there, in the request's
// language, or "".
func (s *Server) formError(r *http.Request, err error) string {
	tr := s.printer(r)
	if tr.Tag() == i18n.Source {
		return formError(err)
	}
	var verr *course.ValidationError
	if errors.As(err, &verr) {
		return localValidationText(tr, verr)
	}
	if errors.Is(err, course.ErrShortNameTaken) {
		return tr.T("validation.course.short_name_taken")
	}
	return ""
}

// publishFieldLabels are the catalog keys of the publish form's labels, for validation messages.
var publishFieldLabels = map[string]string{
	"course":           "validation.publish_field.course",
	"activity":         "validation.publish_field.activity",
	"name":             "validation.publish_field.name",
	"member_sync_mode": "publish_form.member_sync_mode",
	"student_mode":     "publish_form.student_mode",
	"teacher_mode":     "publish_form.teacher_mode",
	"enrol_start":      "publish_form.enrol_start",
	"enrol_end":        "publish_form.enrol_end",
	"max_enrolled":     "publish_form.max_enrolled",
	"learner_role":     "publish_form.learner_role",
	"instructor_role":  "publish_form.instructor_role",
	"lang":             "publish_form.lang",
	"timezone":         "publish_form.timezone",
	"institution":      "publish_form.institution",
	"country":          "publish_form.country",
}

// localFieldMessage is fieldMessage in tr's language.
func localFieldMessage(tr *i18n.Printer, verr *publish.ValidationError) string {
	if tr == nil || tr.Tag() == i18n.Source {
		return fieldMessage(verr)
	}
	label := verr.Field
	if key, ok := publishFieldLabels[verr.Field]; ok {
		label = tr.T(key)
	}
	return tr.T("validation.where.label", "Label", label, "Message", validationMessage(tr, verr.Message, verr.Code, verr.Args))
}

// accountFieldError is an account mistake (a password, a user name) as a sentence in the request's language:
// "The new password must be at least 8 characters long." for field "new password" in English.
func (s *Server) accountFieldError(r *http.Request, ve *account.ValidationError) string {
	tr := s.printer(r)
	if tr.Tag() == i18n.Source {
		return "The new password " + ve.Message + "."
	}
	return tr.T("validation.where.new_password", "Message", validationMessage(tr, ve.Message, ve.Code, ve.Args))
}

// toolFieldErrors are a platform form's mistakes, by field, in the request's language. A "Label" arg names the
// field whose form label the message starts with (validation.platform_field.<field>).
func (s *Server) toolFieldErrors(r *http.Request, ve *tool.ValidationError) map[string]string {
	tr := s.printer(r)
	if tr.Tag() == i18n.Source || len(ve.Codes) == 0 {
		return ve.Fields
	}
	out := make(map[string]string, len(ve.Fields))
	for field, msg := range ve.Fields {
		args := ve.Args[field]
		if l, ok := args["Label"].(string); ok {
			a := make(map[string]any, len(args))
			for k, v := range args {
				a[k] = v
			}
			a["Label"] = tr.T("validation.platform_field." + l)
			args = a
		}
		out[field] = validationMessage(tr, msg, ve.Codes[field], args)
	}
	return out
}

// domainProblems name the catalog words ("domain_problem.<key>.title", ".cause", ".fix") of the problems
// courseProblem and publishProblem make of the domain's errors, matched in the same order by the problem's code
// and the error it wraps. The English keeps the cause the error states; other languages say it in general words.
var domainProblems = []struct {
	code string
	err  error
	key  string
}{
	{"forbidden", publish.ErrForbidden, "publish_forbidden"},
	{"not_found", publish.ErrNotFound, "publish_not_found"},
	{"not_found", course.ErrNotFound, "not_found"},
	{"not_enrolled", course.ErrNotEnrolled, "not_enrolled"},
	{"forbidden", course.ErrForbidden, "forbidden"},
	{"forbidden", course.ErrCannotCreate, "cannot_create"},
	{"no_attempts_left", course.ErrNoAttemptsLeft, "no_attempts_left"},
	{"past_due", course.ErrPastDue, "past_due"},
	{"conflict", course.ErrShortNameTaken, "short_name_taken"},
	{"conflict", course.ErrAlreadyEnrolled, "already_enrolled"},
	{"conflict", course.ErrConcurrentAttempt, "concurrent_attempt"},
	{"published", course.ErrPublished, "published"},
	{"too_large", course.ErrFileTooLarge, "too_large"},
	{"too_many_files", course.ErrTooManyFiles, "too_many_files"},
	{"file_refused", course.ErrFileRefused, "file_refused"},
	{"wrong_type", course.ErrWrongType, "wrong_type"},
}

// localizeDomain gives the problems courseProblem and publishProblem make the words of tr's language: a
// validation error's field and mistake, or a domain error's general words; it reports whether it did.
func localizeDomain(tr *i18n.Printer, q *Problem) bool {
	if localizeValidation(tr, q) {
		return true
	}
	for _, d := range domainProblems {
		if q.Code != d.code || q.Err == nil || !errors.Is(q.Err, d.err) {
			continue
		}
		key := "domain_problem." + d.key
		q.Title, q.Cause, q.Fix = tr.T(key+".title"), tr.T(key+".cause"), tr.T(key+".fix")
		return true
	}
	return false
}

// localizeValidation gives a "That was not accepted" problem (courseProblem, publishProblem) the words of tr's
// language when its cause is a validation error; it reports whether it did.
func localizeValidation(tr *i18n.Printer, q *Problem) bool {
	if q.Code != "" || q.Title != validationProblemTitle {
		return false
	}
	var cv *course.ValidationError
	var pv *publish.ValidationError
	switch {
	case errors.As(q.Err, &cv):
		q.Cause = localValidationText(tr, cv)
	case errors.As(q.Err, &pv):
		q.Cause = localFieldMessage(tr, pv)
	default:
		return false
	}
	q.Title, q.Fix = tr.T("validation.problem.title"), tr.T("validation.problem.fix")
	return true
}

// validationProblemTitle is the English title of a problem whose cause is a validation error.
const validationProblemTitle = "That was not accepted"
