package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/tool"
	"github.com/ltipub/ltipub/internal/tool/checkwords"
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

// printCheck prints the steps, worded in the operator's language as the registration page words them (checkwords).
func printCheck(env Env, w io.Writer, rep tool.CheckReport) {
	width := 7 // the English layout
	for _, s := range rep.Steps {
		width = max(width, utf8.RuneCountInString(env.t("cli.check.status."+s.Status)))
	}
	indent := strings.Repeat(" ", width+2)
	for _, s := range rep.Steps {
		status := env.t("cli.check.status." + s.Status)
		fmt.Fprintf(w, "%s%s  %s\n%s%s\n", status, strings.Repeat(" ", width-utf8.RuneCountInString(status)), checkwords.StepName(env.tr, s), indent,
			checkwords.Detail(env.tr, s))
		if s.Status == tool.CheckFailed && s.Fix != "" {
			fmt.Fprintf(w, "%s%s\n", indent, env.t("cli.check.fix", "Fix", checkwords.Fix(env.tr, s)))
		}
	}
}
