package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/internal/store"
)

func syncCmd(env Env) *cobra.Command {
	return group("sync", "send grades to the platforms, or read their rosters",
		syncKindCmd(env, jobs.KindGrades, "send changed grades to the platforms' gradebooks (AGS)"),
		syncKindCmd(env, jobs.KindMembers, "read the platforms' rosters and enrol or unenrol (NRPS)"))
}

func syncKindCmd(env Env, kind jobs.Kind, summary string) *cobra.Command {
	var dsn, resource string
	var wait, allowPrivate bool
	c := &cobra.Command{Use: string(kind), Short: summary, Args: noArgs}
	fs := c.Flags()
	config.AddDBFlag(fs, &dsn)
	fs.StringVar(&resource, "resource", "", "only the published resource with this `UUID` (default: every resource)")
	fs.BoolVar(&wait, "wait", false, "run the sync here and now and print its outcome, instead of queueing it for the server")
	fs.BoolVar(&allowPrivate, "allow-private-urls", false, "with --wait: allow platform URLs on loopback and private addresses (development only)")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		log := logging.New(env.Stderr, "warn", "text")
		a, done, err := openApp(cmd, dsn, appOptions{allowPrivate: allowPrivate, log: log})
		if err != nil {
			return err
		}
		defer done()
		st := a.Store
		var resourceID int64
		if resource != "" {
			r, err := st.ResourceByUUID(ctx, strings.TrimSpace(resource))
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("there is no published resource %q (see ltipub published list)", resource)
			}
			if err != nil {
				return err
			}
			resourceID = r.ID
		}
		if !wait {
			if err := a.Jobs.Migrate(ctx); err != nil {
				return err
			}
			id, err := a.Jobs.RunNow(ctx, kind, resourceID)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "queued the %s sync as job %d; a running `ltipub serve` picks it up (see /admin/sync)\n", kind, id)
			return nil
		}
		if err := a.Prepare(ctx); err != nil {
			return err
		}
		var run jobs.Run
		if kind == jobs.KindGrades {
			run, err = a.Jobs.SyncGrades(ctx, jobs.CauseManual, resourceID, 0)
		} else {
			run, err = a.Jobs.SyncMembers(ctx, jobs.CauseManual, resourceID, 0)
		}
		if run.ID == 0 && err != nil {
			return err
		}
		printRun(env, run)
		if run.Status == jobs.StatusFailed {
			return fmt.Errorf("the %s sync failed (run %d)", kind, run.ID)
		}
		return nil
	}
	return c
}

func printRun(env Env, r jobs.Run) {
	fmt.Fprintf(env.Stdout, "%s sync run %d: %s in %v, %d resource links\n", r.Kind, r.ID, r.Status, r.Duration(), r.Links)
	if r.Kind == jobs.KindGrades {
		fmt.Fprintf(env.Stdout, "  sent %d, unchanged %d, failed %d\n", r.Sent, r.Unchanged, r.Failed)
	} else {
		fmt.Fprintf(env.Stdout, "  accounts created %d, updated %d; enrolled %d, unenrolled %d; skipped %d\n",
			r.Created, r.Updated, r.Enrolled, r.Unenrolled, r.Skipped)
	}
	if r.Error != "" {
		fmt.Fprintf(env.Stdout, "  errors:\n    %s\n", strings.ReplaceAll(r.Error, "\n", "\n    "))
	}
}
