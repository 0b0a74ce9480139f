package web

import (
	"strings"

	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
)

// The launch log's and the inspector's words for what a launch log row records as values (outcome, stage, path,
// validation steps) and for its refusal codes, in the page's language. The row keeps the values in English, as
// the JSON and the logs have them; the pages say them in the reader's language where the catalog has them.

// Word says a recorded value of kind (outcome, stage, path, step, status…) in the page's language:
// ops.launch.<kind>.<value with _ for spaces and dots>, or the value itself when the catalog has no word for it.
func (f fmtHelpers) Word(kind, value string) string {
	return recordedWord(f.tr, kind, value)
}

func recordedWord(tr *i18n.Printer, kind, value string) string {
	if tr == nil || value == "" {
		return value
	}
	k := "ops.launch." + kind + "." + strings.NewReplacer(" ", "_", ".", "_", "(", "", ")", "", ",", "").Replace(value)
	if tr.Has(k) {
		return tr.T(k)
	}
	return value
}

// AccountWord says how a landed launch found its account (launch.Did.Account) in the page's language; the migrated
// account carries its LTI 1.1 identity after the words.
func (f fmtHelpers) AccountWord(value string) string {
	if rest, ok := strings.CutPrefix(value, launch.AccountMigrated+" "); ok && f.tr != nil && f.tr.Tag() != i18n.Source {
		return f.tr.T("ops.launch.account.migrated") + " " + rest
	}
	return recordedWord(f.tr, "account", value)
}

// Refusal explains a refusal code to the admin in the page's language: the launch log's words for the code
// (ops.refusal.<code>), else the cause a person refused with it reads (problem.<code>.cause, when it needs no
// detail the log does not keep), else the reason as recorded. In English the recorded reason stays: it carries the
// details (the claim, the time, the value) the general sentence leaves out.
func (f fmtHelpers) Refusal(code, reason string) string {
	return refusalText(f.tr, code, reason)
}

func refusalText(tr *i18n.Printer, code, reason string) string {
	if tr == nil || code == "" || tr.Tag() == i18n.Source {
		return reason
	}
	if k := "ops.refusal." + code; tr.Has(k) {
		return tr.T(k)
	}
	if k := "problem." + code + ".cause"; tr.Has(k) {
		if s := tr.T(k); !strings.Contains(s, "<no value>") {
			return s
		}
	}
	return reason
}

// inspectStepKeys name the inspector's validation steps (launch.Inspect's English names) in the catalog.
var inspectStepKeys = map[string]string{
	"state and browser (cookie or platform storage)": "ops.inspect.steps.state",
	"token format and size":                          "ops.inspect.steps.format",
	"signing algorithm":                              "ops.inspect.steps.alg",
	"platform key (kid)":                             "ops.inspect.steps.kid",
	"signature":                                      "ops.inspect.steps.signature",
	"issuer":                                         "ops.inspect.steps.issuer",
	"audience (client ID)":                           "ops.inspect.steps.audience",
	"times (exp, iat, nbf)":                          "ops.inspect.steps.times",
	"nonce":                                          "ops.inspect.steps.nonce",
	"deployment":                                     "ops.inspect.steps.deployment",
	"message type and version":                       "ops.inspect.steps.message",
	"required claims":                                "ops.inspect.steps.claims",
	"landing (resource, account, enrolment)":         "ops.inspect.steps.landing",
}

// inspectWarnings and inspectServices are the starts of launch.Inspect's English warnings and service lines, with
// the catalog's words for them: a warning is replaced whole, a service line keeps what follows its name (a URL,
// scopes, JSON).
var inspectWarnings = []struct{ prefix, key string }{
	{"No grade service in this launch (no lis_outcome_service_url)", "ops.inspect.warn.no_outcome"},
	{"No grade service in this launch:", "ops.inspect.warn.no_ags"},
	{"No roster service in this launch", "ops.inspect.warn.no_nrps"},
	{"The platform did not share the person's name and email", "ops.inspect.warn.no_pii"},
}

var inspectServices = []struct{ prefix, key string }{
	{"Basic Outcomes (grades): ", "ops.inspect.service.outcomes"},
	{"Memberships (roster): ", "ops.inspect.service.memberships"},
	{"Assignment and Grade Services: ", "ops.inspect.service.ags"},
	{"Names and Role Provisioning: ", "ops.inspect.service.nrps"},
	{"Deep linking settings: ", "ops.inspect.service.deep_linking"},
}

// localizeInspection says an inspection's warnings and services in tr's language; English keeps launch.Inspect's
// own words.
func localizeInspection(tr *i18n.Printer, in launch.Inspection) launch.Inspection {
	if tr.Tag() == i18n.Source {
		return in
	}
	ws := make([]string, 0, len(in.Warnings))
	for _, w := range in.Warnings {
		for _, m := range inspectWarnings {
			if strings.HasPrefix(w, m.prefix) {
				w = tr.T(m.key)
				break
			}
		}
		ws = append(ws, w)
	}
	in.Warnings = ws
	ss := make([]string, 0, len(in.Services))
	for _, s := range in.Services {
		for _, m := range inspectServices {
			if rest, ok := strings.CutPrefix(s, m.prefix); ok {
				rest = strings.NewReplacer("scopes ", tr.T("ops.inspect.service.scopes")+" ",
					"; line items ", "; "+tr.T("ops.inspect.service.line_items")+" ",
					"; line item ", "; "+tr.T("ops.inspect.service.line_item")+" ",
					" (no line item for this link: ltipub finds or creates one)", " "+tr.T("ops.inspect.service.no_line_item")).Replace(rest)
				s = tr.T(m.key) + ": " + rest
				break
			}
		}
		ss = append(ss, s)
	}
	in.Services = ss
	return in
}

// LaunchWarning says a launch log row's warning (jobs.LaunchWarning: one line per sync the link cannot do, its
// problem then its fix) in the page's language; lines the catalog does not know stay as recorded.
func (f fmtHelpers) LaunchWarning(text string) string {
	if f.tr == nil || f.tr.Tag() == i18n.Source {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		for _, fix := range []string{jobs.FixGrades, jobs.FixMembers, jobs.FixLegacyGrades} {
			if problem, ok := strings.CutSuffix(line, " "+fix); ok {
				w := localizeWarning(f.tr, jobs.Warning{Problem: problem, Fix: fix})
				lines[i] = w.Problem + " " + w.Fix
				break
			}
		}
	}
	return strings.Join(lines, "\n")
}
