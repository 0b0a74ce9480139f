package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/tool"
)

// platformCheckCmd runs "Check this registration" from the command line, as the button on the registration page
// does. The report is the result, so a check that ran exits 0 whatever it found; --strict exits 1 when a step
// failed, for scripts (a deployment's smoke test) that must stop on it.
func platformCheckCmd(env Env) *cobra.Command {
	var f platformFlags
	var strict bool
	c := &cobra.Command{Use: "check ID", Short: "check a registration: platform keyset, OpenID configuration, service tokens per scope, the tool's URLs",
		Args: exactArgs(1, "the registration ID", "ltipub platform check 1")}
	f.add(c.Flags())
	c.Flags().BoolVar(&strict, "strict", false, "exit 1 when a step failed")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		id, done, svc, err := f.openRegistration(cmd, args)
		if err != nil {
			return err
		}
		defer done()
		rep, err := svc.Check(cmd.Context(), id, "cli")
		if err != nil {
			return cliError(err, id)
		}
		if f.asJSON {
			if err := writeJSON(env.Stdout, checkJSON{CheckReport: rep, Passed: rep.Passed()}); err != nil {
				return err
			}
		} else {
			printCheck(env, env.Stdout, rep)
		}
		if strict && !rep.Passed() {
			n := 0
			for _, s := range rep.Steps {
				if s.Status == tool.CheckFailed {
					n++
				}
			}
			return errors.New(env.t("cli.platform.check_failed", "ID", id, "Failed", n, "Total", len(rep.Steps)))
		}
		return nil
	}
	return c
}

// checkJSON is the --json shape: the report and its verdict.
type checkJSON struct {
	tool.CheckReport
	Passed bool `json:"passed"`
}

// printCheck prints the steps, worded in the operator's language as the registration page words them.
func printCheck(env Env, w io.Writer, rep tool.CheckReport) {
	width := 7 // the English layout
	for _, s := range rep.Steps {
		width = max(width, utf8.RuneCountInString(env.t("cli.check.status."+s.Status)))
	}
	indent := strings.Repeat(" ", width+2)
	for _, s := range rep.Steps {
		status := env.t("cli.check.status." + s.Status)
		fmt.Fprintf(w, "%s%s  %s\n%s%s\n", status, strings.Repeat(" ", width-utf8.RuneCountInString(status)), env.checkStepName(s), indent,
			env.checkWords(s.DetailID, s.Args, "platforms.check.detail.", s.Detail))
		if s.Status == tool.CheckFailed && s.Fix != "" {
			fmt.Fprintf(w, "%s%s\n", indent, env.t("cli.check.fix", "Fix", env.checkWords(s.FixID, s.Args, "platforms.check.fix.", s.Fix)))
		}
	}
}

// The words of a check step come from the registration page's catalog (locales/platforms.*), so that the command
// and the page say the same; checkStepName and checkWords follow internal/web's CheckStepName and checkWords.

// checkStepName is a step's name in the operator's language, from its code ("token:<scope>" names the scope).
func (e Env) checkStepName(st tool.CheckStep) string {
	if e.tr == nil || e.tr.Tag() == i18n.Source {
		return st.Name
	}
	code, scope, hasScope := strings.Cut(st.Code, ":")
	if !hasScope && e.tr.Has("cli.check.step."+code) { // the page's key names a scope this step has not got
		return e.tr.T("cli.check.step." + code)
	}
	key := "platforms.check.step." + code
	if !e.tr.Has(key) {
		return st.Name
	}
	if scope != "" {
		name := scope
		if k := "platforms.check.scope." + checkScopeKey(scope); e.tr.Has(k) {
			name = e.tr.T(k)
		}
		return e.tr.T(key, "Scope", name)
	}
	return e.tr.T(key)
}

// checkScopeKey is the catalog's name of a service scope: its last path segment, dots replaced.
func checkScopeKey(scope string) string {
	if i := strings.LastIndex(scope, "/"); i >= 0 {
		scope = scope[i+1:]
	}
	return strings.ReplaceAll(scope, ".", "_")
}

// checkWords is one of a step's sentences in the operator's language; the source language, steps without ids and
// ids the catalog lacks keep the recorded words.
func (e Env) checkWords(id string, args tool.CheckArgs, prefix, recorded string) string {
	if id == "" || e.tr == nil || e.tr.Tag() == i18n.Source || !e.tr.Has(prefix+id) {
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
				labels = append(labels, e.tr.T("platforms.details."+f))
			}
			v = strings.Join(labels, ", ")
		case k == "Algs": // "kid: RS256, kid2: any RSA algorithm"
			v = strings.NewReplacer(": any RSA algorithm", ": "+e.tr.T("platforms.check.any_rsa"),
				": any EC algorithm", ": "+e.tr.T("platforms.check.any_ec")).Replace(v)
		case k == "Scope":
			if key := "platforms.check.scope." + checkScopeKey(v); e.tr.Has(key) {
				v = e.tr.T(key)
			}
		}
		a = append(a, k, v)
	}
	return e.tr.T(prefix+id, a...)
}
