package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/internal/store"
)

func syncCmd(env Env) *cobra.Command {
	return group("sync", "send grades to the platforms, or read their rosters",
		syncKindCmd(env, jobs.KindGrades, "send changed grades to the platforms' gradebooks (AGS)"),
		syncKindCmd(env, jobs.KindMembers, "read the platforms' rosters and enrol or unenrol (NRPS)"))
}

// SyncOptions are the flags of `ltipub sync grades|members`.
type SyncOptions struct {
	Kind         jobs.Kind
	DB           string
	Resource     string // a published resource's UUID ("": every resource)
	Wait         bool   // run here and print the outcome, instead of queueing for the server
	Force        bool   // members: apply unenrolments the safety valve holds
	JSON         bool   // one JSON result object
	AllowPrivate bool
	// MaxUnenrol is --member-sync-max-unenrol in percent (0: the default).
	MaxUnenrol float64
	// Log receives warnings (nil: discarded).
	Log io.Writer

	tr *i18n.Printer // the operator's language (nil: English)
}

func syncKindCmd(env Env, kind jobs.Kind, summary string) *cobra.Command {
	o := SyncOptions{Kind: kind, Log: env.Stderr, tr: env.tr}
	c := &cobra.Command{Use: string(kind), Short: summary, Args: noArgs}
	fs := c.Flags()
	config.AddDBFlag(fs, &o.DB)
	fs.StringVar(&o.Resource, "resource", "", "only the published resource with this `UUID` (default: every resource)")
	fs.BoolVar(&o.Wait, "wait", false, "run the sync here and now and print its progress and outcome, instead of queueing it for the server; "+
		"a member sync already running for a link is waited for, and its counts printed")
	fs.BoolVar(&o.JSON, "json", false, "print the outcome as one JSON object")
	fs.BoolVar(&o.AllowPrivate, "allow-private-urls", false, "with --wait: allow platform URLs on loopback and private addresses (development only)")
	if kind == jobs.KindMembers {
		fs.BoolVar(&o.Force, "force", false, "apply unenrolments that the safety valve would hold (more than --member-sync-max-unenrol of a link's members)")
		config.AddMemberSyncFlags(fs, &o.MaxUnenrol)
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		return RunSync(cmd.Context(), o, env.Stdout)
	}
	return c
}

// RunSync queues a sync for the server or, with Wait, runs it here, and prints the outcome to w.
func RunSync(ctx context.Context, o SyncOptions, w io.Writer) error {
	ss, err := OpenSync(ctx, o)
	if err != nil {
		return err
	}
	defer ss.Close()
	return ss.Run(ctx, w)
}

// SyncSession is the services one sync command works with; Run may be called more than once (tests repeat the
// command's work without reopening everything).
type SyncSession struct {
	o          SyncOptions
	a          *app.App
	done       func()
	resourceID int64
}

// OpenSync opens the database (which must exist) and builds the services for o, as every command does.
func OpenSync(ctx context.Context, o SyncOptions) (*SyncSession, error) {
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	a, done, err := openAppAt(ctx, o.DB, config.DefaultBaseURL, false, appOptions{allowPrivate: o.AllowPrivate,
		log: logging.New(logw, "warn", "text"), configure: func(c *config.Config) { c.MemberSyncMaxUnenrol = o.MaxUnenrol }})
	if err != nil {
		return nil, err
	}
	ss := &SyncSession{o: o, a: a, done: done}
	if o.Resource != "" {
		r, err := a.Store.ResourceByUUID(ctx, strings.TrimSpace(o.Resource))
		if err != nil {
			done()
			if errors.Is(err, store.ErrNotFound) {
				return nil, errText(nil, "cli.sync.no_resource", "Resource", q(o.Resource))
			}
			return nil, err
		}
		ss.resourceID = r.ID
	}
	return ss, nil
}

// Close releases the session's services and database.
func (ss *SyncSession) Close() { ss.done() }

// Run does the command's work once and prints the outcome to w.
func (ss *SyncSession) Run(ctx context.Context, w io.Writer) error {
	o, a, resourceID := ss.o, ss.a, ss.resourceID
	if o.tr == nil {
		o.tr = printer("")
	}
	t := Env{tr: o.tr}.t
	var err error
	if !o.Wait {
		if err := a.Jobs.Migrate(ctx); err != nil {
			return err
		}
		var id int64
		if o.Kind == jobs.KindMembers && o.Force {
			id, err = a.Jobs.QueueMemberSync(ctx, jobs.MemberSyncArgs{ResourceID: resourceID, Force: true, Cause: jobs.CauseManual})
		} else {
			id, err = a.Jobs.RunNow(ctx, o.Kind, resourceID)
		}
		if err != nil {
			return err
		}
		if o.JSON {
			return writeJSON(w, map[string]any{"queued": true, "kind": o.Kind, "job_id": id})
		}
		fmt.Fprintln(w, t("cli.sync.queued", "Kind", t("cli.sync.kind."+string(o.Kind)), "ID", id))
		return nil
	}
	if err := a.Prepare(ctx); err != nil {
		return err
	}
	var progress func(jobs.Run)
	if !o.JSON {
		progress = newProgress(w, t)
	}
	var run jobs.Run
	if o.Kind == jobs.KindGrades {
		run, err = a.Jobs.SyncGradesProgress(ctx, jobs.CauseManual, resourceID, progress)
	} else {
		run, err = a.Jobs.SyncMembersWith(ctx, jobs.MemberSyncOptions{Cause: jobs.CauseManual, ResourceID: resourceID, Wait: true,
			Force: o.Force, Progress: progress})
	}
	if run.ID == 0 && err != nil {
		return err
	}
	if progress != nil {
		progress(jobs.Run{}) // ends a progress line
	}
	if o.JSON {
		if err := writeJSON(w, syncResult(run)); err != nil {
			return err
		}
	} else {
		printRun(w, run, t)
		for _, other := range run.Waited {
			fmt.Fprintln(w, t("cli.sync.waited", "Kind", t("cli.sync.kind."+string(other.Kind)), "ID", other.ID, "Cause", t("cli.sync.cause."+string(other.Cause))))
			printRun(w, other, t)
		}
	}
	if run.Status == jobs.StatusFailed {
		return errors.New(t("cli.sync.failed", "Kind", t("cli.sync.kind."+string(o.Kind)), "ID", run.ID))
	}
	return nil
}

// newProgress prints a run's counts as they change: one line rewritten in place on a terminal, else a plain
// line per update (at most one a second). Called with a zero Run, it ends the line.
func newProgress(w io.Writer, t func(string, ...any) string) func(jobs.Run) {
	tty := isTerminalWriter(w)
	var mu sync.Mutex // the run calls it from its page handler and from its saver
	var last time.Time
	var open bool
	var note string
	return func(r jobs.Run) {
		mu.Lock()
		defer mu.Unlock()
		if r.ID == 0 {
			if open {
				fmt.Fprintln(w)
				open = false
			}
			return
		}
		if r.Note != note { // "waiting for run N, already running since …"
			if open {
				fmt.Fprintln(w)
				open = false
			}
			for _, line := range strings.Split(strings.TrimPrefix(r.Note, note), "\n") {
				if line = strings.TrimSpace(line); line != "" {
					fmt.Fprintln(w, line)
				}
			}
			note = r.Note
		}
		took := time.Since(r.StartedAt).Round(100 * time.Millisecond).String()
		counts := t("cli.sync.progress_members", "Kind", t("cli.sync.kind."+string(r.Kind)), "ID", r.ID, "Took", took, "Created", r.Created,
			"Updated", r.Updated, "Enrolled", r.Enrolled, "Unenrolled", r.Unenrolled, "Skipped", r.Skipped)
		if r.Kind == jobs.KindGrades {
			counts = t("cli.sync.progress_grades", "Kind", t("cli.sync.kind."+string(r.Kind)), "ID", r.ID, "Took", took, "Links", r.Links,
				"Sent", r.Sent, "Unchanged", r.Unchanged, "Failed", r.Failed)
		}
		if tty {
			fmt.Fprintf(w, "\r\033[K%s", counts)
			open = true
			return
		}
		if time.Since(last) >= time.Second {
			fmt.Fprintln(w, counts)
			last = time.Now()
		}
	}
}

func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// runJSON is a run as --json prints it.
type runJSON struct {
	ID         int64      `json:"id"`
	Kind       jobs.Kind  `json:"kind"`
	Cause      jobs.Cause `json:"cause"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	DurationMS int64      `json:"duration_ms"`
	Links      int        `json:"links"`
	Sent       int        `json:"sent"`
	Unchanged  int        `json:"unchanged"`
	Failed     int        `json:"failed"`
	Created    int        `json:"created"`
	Enrolled   int        `json:"enrolled"`
	Unenrolled int        `json:"unenrolled"`
	Updated    int        `json:"updated"`
	Skipped    int        `json:"skipped"`
	Held       int        `json:"held"`
	Error      string     `json:"error,omitempty"`
	Note       string     `json:"note,omitempty"`
	WaitedFor  []runJSON  `json:"waited_for,omitempty"`
}

func syncResult(r jobs.Run) runJSON {
	out := runJSON{ID: r.ID, Kind: r.Kind, Cause: r.Cause, Status: r.Status, StartedAt: r.StartedAt, DurationMS: r.Duration().Milliseconds(),
		Links: r.Links, Sent: r.Sent, Unchanged: r.Unchanged, Failed: r.Failed, Created: r.Created, Enrolled: r.Enrolled,
		Unenrolled: r.Unenrolled, Updated: r.Updated, Skipped: r.Skipped, Held: r.Held, Error: r.Error, Note: r.Note}
	if !r.FinishedAt.IsZero() {
		f := r.FinishedAt
		out.FinishedAt = &f
	}
	for _, o := range r.Waited {
		out.WaitedFor = append(out.WaitedFor, syncResult(o))
	}
	return out
}

func printRun(w io.Writer, r jobs.Run, t func(string, ...any) string) {
	fmt.Fprintln(w, t("cli.sync.run", "Kind", t("cli.sync.kind."+string(r.Kind)), "ID", r.ID, "Status", t("cli.sync.status."+string(r.Status)),
		"Took", r.Duration().String(), "Links", r.Links))
	if r.Kind == jobs.KindGrades {
		fmt.Fprintln(w, "  "+t("cli.sync.grades", "Sent", r.Sent, "Unchanged", r.Unchanged, "Failed", r.Failed))
	} else {
		fmt.Fprintln(w, "  "+t("cli.sync.members", "Created", r.Created, "Updated", r.Updated, "Enrolled", r.Enrolled,
			"Unenrolled", r.Unenrolled, "Skipped", r.Skipped))
		if r.Held > 0 {
			fmt.Fprintln(w, "  "+t("cli.sync.held", "Held", r.Held))
		}
	}
	// The notes and errors are the run's own record (the platform's answers), kept as written.
	if r.Note != "" {
		fmt.Fprintf(w, "  %s\n    %s\n", t("cli.sync.notes"), strings.ReplaceAll(r.Note, "\n", "\n    "))
	}
	if r.Error != "" {
		fmt.Fprintf(w, "  %s\n    %s\n", t("cli.sync.errors"), strings.ReplaceAll(r.Error, "\n", "\n    "))
	}
}
