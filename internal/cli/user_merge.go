package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/config"
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
				return fmt.Errorf("%w (ltipub user list shows them)", err)
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
		printHoldings(env.Stderr, "Keep", plan.Keep)
		printHoldings(env.Stderr, "Merge into it, then delete", plan.Drop)
		fmt.Fprintf(env.Stderr, "The merge moves %s.\n", plan.Report.Summary())
		keep, drop := plan.Keep.User, plan.Drop.User
		if err := confirm(env, yes, fmt.Sprintf("Merge %s into %s and delete %s?", drop.Username, keep.Username, drop.Username)); err != nil {
			return err
		}
		rep, err := a.Users.Merge(ctx, keep.ID, drop.ID, "ltipub user merge")
		if err != nil {
			return userErr(err)
		}
		a.Log.InfoContext(ctx, "users merged", "kept_user_id", keep.ID, "kept_username", keep.Username,
			"dropped_user_id", drop.ID, "dropped_username", drop.Username, "summary", rep.Summary())
		fmt.Fprintf(env.Stdout, "merged %s (id %d) into %s (id %d): %s\n", drop.Username, drop.ID, keep.Username, keep.ID, rep.Summary())
		return nil
	}
	return c
}

func printHoldings(w io.Writer, title string, h account.Holdings) {
	u := h.User
	fmt.Fprintf(w, "%s: %s (id %d, %s)\n", title, u.Username, u.ID, u.DisplayName())
	var pas []string
	for _, p := range h.PlatformAccounts {
		pas = append(pas, p.Issuer+" user "+p.Subject)
	}
	var es []string
	for _, e := range h.Enrolments {
		es = append(es, fmt.Sprintf("%s (%s, %s, %s)", e.CourseName, e.Role, e.Status, e.Method))
	}
	fmt.Fprintf(w, "  platform accounts: %d %s\n", len(h.PlatformAccounts), strings.Join(pas, ", "))
	fmt.Fprintf(w, "  enrolments: %d %s\n", len(h.Enrolments), strings.Join(es, ", "))
	fmt.Fprintf(w, "  quiz attempts: %d, submissions: %d, grades: %d, launches: %d\n", h.Dependents.QuizAttempts,
		h.Dependents.Submissions, h.Dependents.Grades, h.Launches)
}
