package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/i18n"
)

func userMergeCmd(env Env) *cobra.Command {
	var dsn string
	var yes bool
	c := &cobra.Command{Use: "merge KEEP DROP", Short: "merge account DROP into KEEP (shows what each holds first), then delete DROP",
		Args: exactArgs(2, "the account to keep and the account to merge into it (IDs or usernames)", "ltipub user merge alice alice-lti --yes")}
	config.AddDBFlag(c.Flags(), &dsn)
	c.Flags().BoolVarP(&yes, "yes", "y", false, "merge without asking")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		a, done, err := openApp(cmd, dsn, appOptions{})
		if err != nil {
			return err
		}
		defer done()
		var ids [2]int64
		for i, ref := range args {
			u, err := a.Users.Find(ctx, ref)
			if errors.Is(err, account.ErrNotFound) {
				return errText(err, "cli.user.not_found")
			}
			if err != nil {
				return err
			}
			ids[i] = u.ID
		}
		plan, err := a.Users.PlanMerge(ctx, ids[0], ids[1])
		if err != nil {
			return userErr(err)
		}
		// What each holds and what the merge does go to standard error before the question, so that standard
		// output carries only the outcome.
		printHoldings(env, env.Stderr, env.t("cli.merge.keep"), plan.Keep)
		printHoldings(env, env.Stderr, env.t("cli.merge.drop"), plan.Drop)
		fmt.Fprintln(env.Stderr, env.t("cli.merge.plan", "Summary", env.mergeSummary(plan.Report, "cli.merge.plan_summary")))
		keep, drop := plan.Keep.User, plan.Drop.User
		if err := confirm(env, yes, env.t("cli.merge.confirm", "Drop", drop.Username, "Keep", keep.Username)); err != nil {
			return err
		}
		rep, err := a.Users.Merge(ctx, keep.ID, drop.ID, "ltipub user merge")
		if err != nil {
			return userErr(err)
		}
		a.Log.InfoContext(ctx, "users merged", "kept_user_id", keep.ID, "kept_username", keep.Username,
			"dropped_user_id", drop.ID, "dropped_username", drop.Username, "summary", rep.Summary())
		fmt.Fprintln(env.Stdout, env.t("cli.merge.done", "Drop", drop.Username, "DropID", drop.ID, "Keep", keep.Username, "KeepID", keep.ID,
			"Summary", env.mergeSummary(rep, "cli.merge.done_summary")))
		return nil
	}
	return c
}

func printHoldings(env Env, w io.Writer, title string, h account.Holdings) {
	u := h.User
	fmt.Fprintf(w, "%s: %s (id %d, %s)\n", title, u.Username, u.ID, u.DisplayName())
	var pas []string
	for _, p := range h.PlatformAccounts {
		pas = append(pas, env.t("cli.merge.platform_user", "Issuer", p.Issuer, "Subject", p.Subject))
	}
	var es []string
	for _, e := range h.Enrolments {
		es = append(es, fmt.Sprintf("%s (%s, %s, %s)", e.CourseName, env.word("cli.role.", string(e.Role)),
			env.word("cli.enrolment_status.", string(e.Status)), env.word("cli.method.", string(e.Method))))
	}
	fmt.Fprintf(w, "  %s: %d %s\n", env.t("cli.merge.platform_accounts"), len(h.PlatformAccounts), strings.Join(pas, ", "))
	fmt.Fprintf(w, "  %s: %d %s\n", env.t("cli.merge.enrolments"), len(h.Enrolments), strings.Join(es, ", "))
	fmt.Fprintln(w, "  "+env.t("cli.merge.counts", "Attempts", h.Dependents.QuizAttempts, "Submissions", h.Dependents.Submissions,
		"Grades", h.Dependents.Grades, "Launches", h.Launches))
}

// mergeSummary is what a merge moves, in the operator's language: the English is the report's own Summary (the
// line the log writes); other languages count what both accounts held (the store words each in English), as the
// web page's flash does.
func (e Env) mergeSummary(rep account.MergeReport, id string) string {
	if e.tr == nil || e.tr.Tag() == i18n.Source {
		return rep.Summary()
	}
	m := rep.Moved
	s := e.t(id, "PlatformAccounts", m.PlatformAccounts, "Enrolments", m.Enrolments, "Grades", m.Grades,
		"Submissions", m.Submissions, "Attempts", m.QuizAttempts)
	if len(rep.Resolved) > 0 {
		s += e.t("cli.merge.resolved", "Count", len(rep.Resolved))
	}
	return s
}
