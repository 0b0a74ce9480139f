package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/refusal"
	"github.com/ltipub/ltipub/internal/tool"
)

// Locale is the operator's language for the command line's human output, read the POSIX way: LC_ALL, then
// LC_MESSAGES, then LANG, the first one set and not empty wins ("es_ES.UTF-8"). GNU's LANGUAGE list is not read:
// gettext itself ignores it when the locale is C.
func Locale(getenv func(string) string) string {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			return v
		}
	}
	return ""
}

// localeTag turns a POSIX locale name into a language tag: es_ES.UTF-8 and es_ES@euro are es-ES; C and POSIX
// (and their .UTF-8 forms) are the source language.
func localeTag(locale string) string {
	if i := strings.IndexAny(locale, ".@"); i >= 0 {
		locale = locale[:i]
	}
	if locale == "C" || locale == "POSIX" {
		return i18n.Source.String()
	}
	return strings.ReplaceAll(locale, "_", "-")
}

// printer is the language of env's human output. Without the embedded catalogs (they are checked by the i18n
// tests, so this cannot happen in a built binary) it is nil and messages show their keys.
func printer(locale string) *i18n.Printer {
	cat, err := i18n.Load()
	if err != nil {
		return nil
	}
	return cat.Printer(cat.Choose(localeTag(locale)))
}

// t is a message of the CLI's catalog (locales/cli.*) in the operator's language. --json output never uses it.
func (e Env) t(id string, args ...any) string {
	if e.tr == nil {
		return id
	}
	return e.tr.T(id, args...)
}

// errorText is a command's error as the operator reads it: a domain mistake that carries a catalog code is worded
// in the operator's language; any other error keeps its (English) text, which names what failed.
func (e Env) errorText(err error) string {
	if e.tr == nil || e.tr.Tag() == i18n.Source {
		return err.Error()
	}
	var cv *course.ValidationError
	var pv *publish.ValidationError
	var av *account.ValidationError
	var w *worded
	if errors.As(err, &w) {
		if text, ok := e.domainText(w.err); ok {
			return strings.Replace(err.Error(), w.text, text, 1)
		}
		return err.Error()
	}
	var te *textError
	if errors.As(err, &te) {
		args := append([]any(nil), te.args...)
		if te.err != nil {
			args = append(args, "Err", e.errorText(te.err))
		}
		return strings.Replace(err.Error(), te.Error(), e.t(te.id, args...), 1)
	}
	var fe *flagErr
	if errors.As(err, &fe) {
		return strings.Replace(err.Error(), fe.Error(), e.t("cli.error.field", "Field", fe.flag,
			"Message", e.local(fe.ve.Message, fe.ve.Code, fe.ve.Args)), 1)
	}
	var pe *passwordErr
	var inner error
	var field, msg string
	switch {
	case errors.As(err, &pe):
		return strings.Replace(err.Error(), pe.Error(), e.passwordError(pe.ve), 1)
	case errors.As(err, &cv) && cv.Code != "":
		inner, field, msg = cv, cv.Field, e.local(cv.Message, cv.Code, cv.Args)
	case errors.As(err, &pv) && pv.Code != "":
		inner, field, msg = pv, pv.Field, e.local(pv.Message, pv.Code, pv.Args)
	case errors.As(err, &av) && av.Code != "":
		inner, field, msg = av, av.Field, e.local(av.Message, av.Code, av.Args)
	default:
		return err.Error()
	}
	// The mistake is worded in the operator's language where the chain names it; what wraps it stays.
	return strings.Replace(err.Error(), inner.Error(), e.tr.T("cli.error.field", "Field", field, "Message", msg), 1)
}

func (e Env) local(english, code string, args map[string]any) string {
	if e.tr == nil || e.tr.Tag() == i18n.Source || code == "" || !e.tr.Has("validation."+code) {
		return english
	}
	pairs := make([]any, 0, 2*len(args))
	for k, v := range args {
		if p, ok := v.(course.Phrase); ok { // what a JSON error found, in words of its own
			v = e.local(p.English, p.Code, p.Args)
		}
		pairs = append(pairs, k, v)
	}
	return e.tr.T("validation."+code, pairs...)
}

// q quotes a value the way %q does, for messages whose English quotes a name.
func q(v any) string { return fmt.Sprintf("%q", v) }

// usageText is a command-line mistake in the operator's language, when it has words in the catalog (cobra's own,
// such as an unknown flag, keep cobra's English).
func (e Env) usageText(err error) string {
	var ue *usageError
	if e.tr == nil || e.tr.Tag() == i18n.Source || !errors.As(err, &ue) || ue.id == "" {
		return err.Error()
	}
	args := append([]any(nil), ue.args...)
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == "What" {
			if key, ok := argWords[args[i+1].(string)]; ok {
				args[i+1] = e.t(key)
			}
		}
	}
	return e.t(ue.id, args...)
}

// argWords are the catalog keys of the positional arguments exactArgs names.
var argWords = map[string]string{
	"the course file":                           "cli.arg.course_file",
	"the course id":                             "cli.arg.course_id",
	"the registration ID":                       "cli.arg.registration_id",
	"the resource's UUID":                       "cli.arg.resource_uuid",
	"the question file":                         "cli.arg.question_file",
	"the account's ID or username":              "cli.arg.account",
	"the registration ID and the deployment ID": "cli.arg.registration_deployment",
	"the account to keep and the account to merge into it (IDs or usernames)": "cli.arg.merge_accounts",
}

// passwordError is a password the account rules refuse, in the operator's language.
func (e Env) passwordError(ve *account.ValidationError) string {
	return e.t("cli.user.password_error", "Message", e.local(ve.Message, ve.Code, ve.Args))
}

// passwordErr is a password the account rules refuse: "the password must be at least 10 characters long".
type passwordErr struct{ ve *account.ValidationError }

func (p *passwordErr) Error() string { return "the password " + p.ve.Message }
func (p *passwordErr) Unwrap() error { return p.ve }

// worded is a domain error given a line of its own for the operator (cliError): the line is the English, err the
// domain's error, which errorText words in the operator's language.
type worded struct {
	text string
	err  error
}

func (w *worded) Error() string { return w.text }
func (w *worded) Unwrap() error { return w.err }

// domainText words a platform form's mistakes or a refusal in the operator's language, when the catalog has them.
func (e Env) domainText(err error) (string, bool) {
	var tv *tool.ValidationError
	var rf *refusal.Refusal
	switch {
	case errors.As(err, &tv) && len(tv.Codes) > 0:
		fields := make([]string, 0, len(tv.Fields))
		for f := range tv.Fields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		parts := make([]string, len(fields))
		for i, f := range fields {
			args := map[string]any{}
			for k, v := range tv.Args[f] {
				args[k] = v
			}
			if l, ok := args["Label"].(string); ok {
				args["Label"] = e.t("validation.platform_field." + l)
			}
			parts[i] = f + ": " + e.local(tv.Fields[f], tv.Codes[f], args)
		}
		return strings.Join(parts, "; "), true
	case errors.As(err, &rf) && rf.Code != "" && e.tr.Has("problem."+rf.Code+".cause"):
		args := make([]any, 0, 2*len(rf.Args))
		for k, v := range rf.Args {
			if t, ok := v.(time.Time); ok {
				v = e.tr.DateTime(t)
			}
			args = append(args, k, v)
		}
		return e.t("problem."+rf.Code+".cause", args...) + " " + e.t("problem."+rf.Code+".fix", args...), true
	}
	return "", false
}

// table is a human listing of label, value rows, the values aligned past the longest label (at least width, the
// English layout).
type table struct {
	width int
	rows  [][2]string
}

func (t *table) add(label, value string) { t.rows = append(t.rows, [2]string{label, value}) }

func (t *table) print(w io.Writer) {
	width := t.width
	for _, r := range t.rows {
		width = max(width, utf8.RuneCountInString(r[0]))
	}
	for _, r := range t.rows {
		fmt.Fprintf(w, "  %s%s %s\n", r[0], strings.Repeat(" ", width-utf8.RuneCountInString(r[0])), r[1])
	}
}

// textError is a command's own error line: text is the English, id and args word it in the CLI's catalog, and err
// (when set) is what it wraps, given to the message as {{.Err}} in the operator's language.
type textError struct {
	text string
	id   string
	args []any
	err  error
}

func (t *textError) Error() string { return t.text }
func (t *textError) Unwrap() error { return t.err }

// errText is a textError whose English is the catalog's English message: id with args, then err as {{.Err}}.
func errText(err error, id string, args ...any) error {
	all := append([]any(nil), args...)
	if err != nil {
		all = append(all, "Err", err.Error())
	}
	return &textError{text: englishT(id, all...), id: id, args: args, err: err}
}

// usageMsg is a usage error worded by the CLI's catalog, its English from the source catalog.
func usageMsg(id string, args ...any) error {
	return &usageError{msg: englishT(id, args...), id: id, args: args}
}

var english = sync.OnceValue(func() *i18n.Printer { return printer(i18n.Source.String()) })

// englishT is a message in the source language, for the English text of errors made where the operator's
// language is not at hand (errorText words them in it).
func englishT(id string, args ...any) string {
	if p := english(); p != nil {
		return p.T(id, args...)
	}
	return id
}

// flagErr is a publish form's mistake named by its flag: "--max-enrolled: must be …".
type flagErr struct {
	flag string
	ve   *publish.ValidationError
}

func (f *flagErr) Error() string { return f.flag + ": " + f.ve.Message }
func (f *flagErr) Unwrap() error { return f.ve }

// word is a stored value (a role, a status) in the operator's language, when the catalog has prefix+value; any
// other value shows as stored.
func (e Env) word(prefix, value string) string {
	if e.tr == nil || !e.tr.Has(prefix+value) {
		return value
	}
	return e.tr.T(prefix + value)
}
