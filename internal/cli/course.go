package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/course/moodle"
	"github.com/ltipub/ltipub/internal/logging"
	"github.com/ltipub/ltipub/internal/store"
)

func courseCmd() *Command {
	return &Command{Name: "course", Summary: "import and export courses", Sub: []*Command{courseImportCmd(), courseExportCmd()}}
}

func courseImportCmd() *Command {
	c := &Command{Name: "import", Summary: "create a course from a course file (docs/course-format.md)"}
	c.Run = func(ctx context.Context, env Env, args []string) error {
		var dsn, teacher string
		var asJSON bool
		fs := newFlags(env, "ltipub course import", c.Summary, "FILE")
		config.AddDBFlag(fs, &dsn)
		fs.StringVar(&teacher, "teacher", "", "enrol the account `username` as the course's teacher")
		fs.BoolVar(&asJSON, "json", false, `print {"course_id": …, "activities": [{"id", "type", "name"}]} as JSON`)
		if err := parse(fs, args, 1); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(env.Stderr, "ltipub course import: give the course file, e.g. ltipub course import examples/course.json")
			return errUsage
		}
		data, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return fmt.Errorf("read course file: %w", err)
		}
		st, err := app.OpenStore(ctx, dsn, logging.Discard())
		if err != nil {
			return err
		}
		defer st.Close()
		var u *account.User
		if teacher != "" {
			t, err := st.UserByUsername(ctx, teacher)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("--teacher: there is no account %q (create it with ltipub user create)", teacher)
			}
			if err != nil {
				return err
			}
			u = &t
			// The operator running the command vouches for the teacher, whatever the account's flags say.
			u.IsCourseCreator = true
		}
		svc := &course.Service{Store: st, Users: st}
		rep, err := moodle.ImportCourse(ctx, svc, u, data, moodle.DefaultLimits) // a course file or a Moodle backup
		res := rep.Result
		if err != nil {
			var verr *course.ValidationError
			var merr *moodle.Error
			if errors.As(err, &verr) || errors.As(err, &merr) {
				return fmt.Errorf("%s cannot be imported, nothing was imported: %w", fs.Arg(0), err)
			}
			return err
		}
		if asJSON {
			type act struct {
				ID   int64  `json:"id"`
				Type string `json:"type"`
				Name string `json:"name"`
			}
			out := struct {
				CourseID   int64            `json:"course_id"`
				Activities []act            `json:"activities"`
				Skipped    []moodle.Skipped `json:"skipped"`
				Notes      []string         `json:"notes,omitempty"`
			}{CourseID: res.Course.ID, Activities: []act{}, Skipped: rep.Skipped, Notes: rep.Notes}
			for _, a := range res.Activities {
				out.Activities = append(out.Activities, act{ID: a.ID, Type: string(a.Type), Name: a.Name})
			}
			return json.NewEncoder(env.Stdout).Encode(out)
		}
		fmt.Fprintf(env.Stdout, "imported course %q (id %d)\n", res.Course.FullName, res.Course.ID)
		for _, a := range res.Activities {
			fmt.Fprintf(env.Stdout, "  %-10s id %-6d %s\n", a.Type, a.ID, a.Name)
		}
		for _, sk := range rep.Skipped {
			fmt.Fprintf(env.Stdout, "  skipped %-8s %s\n", sk.Type, sk.Name)
		}
		for _, n := range rep.Notes {
			fmt.Fprintf(env.Stdout, "  note: %s\n", n)
		}
		return nil
	}
	return c
}

func courseExportCmd() *Command {
	c := &Command{Name: "export", Summary: "print a course as a course file (JSON)"}
	c.Run = func(ctx context.Context, env Env, args []string) error {
		var dsn string
		fs := newFlags(env, "ltipub course export", c.Summary, "ID")
		config.AddDBFlag(fs, &dsn)
		if err := parse(fs, args, 1); err != nil {
			return err
		}
		id, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if fs.NArg() != 1 || err != nil {
			fmt.Fprintln(env.Stderr, "ltipub course export: give the course id, e.g. ltipub course export 1")
			return errUsage
		}
		st, err := app.OpenStore(ctx, dsn, logging.Discard())
		if err != nil {
			return err
		}
		defer st.Close()
		svc := &course.Service{Store: st, Users: st}
		f, err := svc.Export(ctx, nil, id)
		if errors.Is(err, course.ErrNotFound) {
			return fmt.Errorf("there is no course with id %d", id)
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
