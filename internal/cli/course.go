package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/course/moodle"
	"github.com/ltipub/ltipub/internal/store"
)

func courseCmd(env Env) *cobra.Command {
	return group("course", "import and export courses", courseImportCmd(env), courseExportCmd(env))
}

func courseImportCmd(env Env) *cobra.Command {
	var dsn, teacher string
	var asJSON bool
	c := &cobra.Command{Use: "import FILE", Short: "create a course from a course file (docs/course-format.md) or a Moodle backup (.mbz)",
		Args: exactArgs(1, "the course file", "ltipub course import examples/course.json")}
	fs := c.Flags()
	config.AddDBFlag(fs, &dsn)
	fs.StringVar(&teacher, "teacher", "", "enrol the account `username` as the course's teacher")
	fs.BoolVar(&asJSON, "json", false, "print the course and its activities as JSON (docs/cli-json.md)")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		data, err := os.ReadFile(args[0])
		if err != nil {
			return errText(err, "cli.course.read_file")
		}
		a, done, err := openApp(cmd, dsn, appOptions{})
		if err != nil {
			return err
		}
		defer done()
		st := a.Store
		var u *account.User
		if teacher != "" {
			t, err := st.UserByUsername(ctx, teacher)
			if errors.Is(err, store.ErrNotFound) {
				return errText(nil, "cli.course.no_teacher", "Name", q(teacher))
			}
			if err != nil {
				return err
			}
			u = &t
			// The operator running the command vouches for the teacher, whatever the account's flags say.
			u.IsCourseCreator = true
		}
		rep, err := moodle.ImportCourse(ctx, a.Courses, u, data, moodle.DefaultLimits) // a course file or a Moodle backup
		res := rep.Result
		if err != nil {
			var verr *course.ValidationError
			var merr *moodle.Error
			if errors.As(err, &verr) || errors.As(err, &merr) {
				return errText(err, "cli.course.cannot_import", "File", args[0])
			}
			if m := shortNameTaken.FindStringSubmatch(err.Error()); m != nil && errors.Is(err, course.ErrShortNameTaken) {
				return &textError{text: err.Error(), id: "cli.course.short_name_taken", args: []any{"Name", m[1]}, err: err}
			}
			return err
		}
		if asJSON {
			skipped := rep.Skipped
			if skipped == nil {
				skipped = []moodle.Skipped{}
			}
			return writeJSON(env.Stdout, courseImportJSON{courseJSON: toCourseJSON(res.Course, res.Activities), Skipped: skipped, Notes: rep.Notes})
		}
		fmt.Fprintln(env.Stdout, env.t("cli.course.imported", "Name", q(res.Course.FullName), "ID", res.Course.ID))
		tw := 10 // the type column: the English layout, wider for a language's longer words
		for _, a := range res.Activities {
			tw = max(tw, utf8.RuneCountInString(env.word("cli.activity_type.", string(a.Type))))
		}
		for _, a := range res.Activities {
			typ := env.word("cli.activity_type.", string(a.Type))
			fmt.Fprintf(env.Stdout, "  %s%s id %-6d %s\n", typ, strings.Repeat(" ", tw-utf8.RuneCountInString(typ)), a.ID, a.Name)
		}
		for _, sk := range rep.Skipped {
			fmt.Fprintf(env.Stdout, "  %s %-8s %s\n", env.t("cli.course.skipped"), sk.Type, sk.Name)
		}
		for _, n := range rep.Notes {
			fmt.Fprintf(env.Stdout, "  %s %s\n", env.t("cli.course.note"), n)
		}
		return nil
	}
	return c
}

// shortNameTaken is how a course file's import words course.ErrShortNameTaken, with the short name quoted.
var shortNameTaken = regexp.MustCompile(`^another course already has that short name: ("(?:[^"\\]|\\.)*") \(change course\.short_name in the file\)$`)

func courseExportCmd(env Env) *cobra.Command {
	var dsn string
	c := &cobra.Command{Use: "export ID", Short: "print a course as a course file (JSON)",
		Args: exactArgs(1, "the course id", "ltipub course export 1")}
	config.AddDBFlag(c.Flags(), &dsn)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || id <= 0 {
			return usageMsg("cli.course.bad_id", "Arg", q(args[0]))
		}
		a, done, err := openApp(cmd, dsn, appOptions{})
		if err != nil {
			return err
		}
		defer done()
		f, err := a.Courses.Export(ctx, nil, id)
		if errors.Is(err, course.ErrNotFound) {
			return errors.New(env.t("cli.course.none", "ID", id))
		}
		if err != nil {
			return err
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(f)
	}
	return c
}
