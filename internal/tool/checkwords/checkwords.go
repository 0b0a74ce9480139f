// Package checkwords words a registration check's steps (tool.CheckStep) in a person's language, the same for the
// registration page and `ltipub platform check`: the words are the platforms catalog's (locales/platforms.*).
// The source language, steps recorded before they carried ids, and ids the catalog lacks keep the words the step
// was recorded with, which are the English.
package checkwords

import (
	"strings"

	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/tool"
)

// StepName is a step's name, from its code ("token:<scope>" names the scope; "token" alone is the token request
// itself, before any scope is asked for).
func StepName(tr *i18n.Printer, st tool.CheckStep) string {
	if tr == nil || tr.Tag() == i18n.Source {
		return st.Name
	}
	code, scope, _ := strings.Cut(st.Code, ":")
	key := "platforms.check.step." + code
	if code == "token" && scope == "" {
		key = "platforms.check.step.token_request"
	}
	if !tr.Has(key) {
		return st.Name
	}
	if scope != "" {
		return tr.T(key, "Scope", scopeName(tr, scope))
	}
	return tr.T(key)
}

// Detail is what a step found.
func Detail(tr *i18n.Printer, st tool.CheckStep) string {
	return words(tr, st.DetailID, st.Args, "platforms.check.detail.", st.Detail)
}

// Fix is a step's fix.
func Fix(tr *i18n.Printer, st tool.CheckStep) string {
	return words(tr, st.FixID, st.Args, "platforms.check.fix.", st.Fix)
}

func words(tr *i18n.Printer, id string, args tool.CheckArgs, prefix, recorded string) string {
	if id == "" || tr == nil || tr.Tag() == i18n.Source || !tr.Has(prefix+id) {
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
				labels = append(labels, tr.T("platforms.details."+f))
			}
			v = strings.Join(labels, ", ")
		case k == "Algs": // "kid: RS256, kid2: any RSA algorithm"
			v = strings.NewReplacer(": any RSA algorithm", ": "+tr.T("platforms.check.any_rsa"),
				": any EC algorithm", ": "+tr.T("platforms.check.any_ec")).Replace(v)
		case k == "Scope":
			v = scopeName(tr, v)
		}
		a = append(a, k, v)
	}
	return tr.T(prefix+id, a...)
}

// scopeName is a service scope's name in the catalog (by its last path segment, "score",
// "contextmembership.readonly", dots replaced), or the scope itself.
func scopeName(tr *i18n.Printer, scope string) string {
	seg := scope
	if i := strings.LastIndex(seg, "/"); i >= 0 {
		seg = seg[i+1:]
	}
	if key := "platforms.check.scope." + strings.ReplaceAll(seg, ".", "_"); tr.Has(key) {
		return tr.T(key)
	}
	return scope
}
