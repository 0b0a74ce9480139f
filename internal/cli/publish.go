package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/publish"
)

// publishFlags maps the domain's field names to the flags that set them, for error messages.
var publishFlags = map[string]string{
	"course": "--course", "activity": "--activity", "name": "--name",
	"student_mode": "--student-mode", "teacher_mode": "--teacher-mode",
}

func publishCmd(env Env) *cobra.Command {
	var dsn, baseURL, name, studentMode, teacherMode string
	var courseID, activityID int64
	var gradeSync, memberSync, asJSON bool
	c := &cobra.Command{Use: "publish --course ID", Short: "publish a course or one of its activities as an LTI tool", Args: noArgs}
	fs := c.Flags()
	config.AddDBFlag(fs, &dsn)
	config.AddBaseURLFlag(fs, &baseURL)
	fs.Int64Var(&courseID, "course", 0, "the course `ID` to publish (required)")
	fs.Int64Var(&activityID, "activity", 0, "publish only this activity `ID` of the course (default: the whole course)")
	fs.StringVar(&name, "name", "", "the resource's `name` (default: the course's or activity's name)")
	fs.BoolVar(&gradeSync, "grade-sync", false, "send grades back to the platform (off unless given; the web form defaults to on)")
	fs.BoolVar(&memberSync, "member-sync", false, "enrol new and unenrol missing platform members (off unless given)")
	fs.StringVar(&studentMode, "student-mode", string(publish.ModeAuto), "students' first launch provisioning `mode`: auto, prompt or existing")
	fs.StringVar(&teacherMode, "teacher-mode", string(publish.ModePrompt), "teachers' first launch provisioning `mode`: auto, prompt or existing")
	fs.BoolVar(&asJSON, "json", false, "print the published resource as JSON (docs/cli-json.md)")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if courseID <= 0 {
			return &usageError{msg: "give the course, e.g. ltipub publish --course 1", id: "cli.publish.course_required"}
		}
		a, done, err := openApp(cmd, dsn, appOptions{})
		if err != nil {
			return err
		}
		defer done()
		in := publish.NewInput(courseID)
		in.ActivityID, in.Name = activityID, name
		in.GradeSync, in.MemberSync = gradeSync, memberSync
		in.StudentMode, in.TeacherMode = publish.Mode(studentMode), publish.Mode(teacherMode)
		// The command line acts as no user: it may publish anything.
		res, err := a.Publish.Publish(ctx, nil, in)
		if err != nil {
			return flagError(err)
		}
		base := a.Config.BaseURL
		if asJSON {
			return writeJSON(env.Stdout, toResourceJSON(res, base))
		}
		fmt.Fprintln(env.Stdout, env.t("cli.publish.published", "Name", q(res.Name), "ID", res.ID))
		rows := &table{width: 18}
		rows.add(env.t("cli.publish.row.uuid"), res.UUID)
		rows.add(env.t("cli.publish.row.launch_url"), publish.LaunchURL(base))
		rows.add(env.t("cli.publish.row.custom"), res.CustomProperties())
		rows.print(env.Stdout)
		fmt.Fprintln(env.Stdout, env.t("cli.publish.manual_note"))
		return nil
	}
	return c
}

func publishedCmd(env Env) *cobra.Command {
	return group("published", "list published LTI resources", publishedListCmd(env), publishedShowCmd(env))
}

func publishedListCmd(env Env) *cobra.Command {
	var dsn, baseURL string
	var courseID int64
	var asJSON bool
	c := &cobra.Command{Use: "list", Short: "list the published resources of one course or of all", Args: noArgs}
	fs := c.Flags()
	config.AddDBFlag(fs, &dsn)
	config.AddBaseURLFlag(fs, &baseURL)
	fs.Int64Var(&courseID, "course", 0, "only this course `ID` (default: every course)")
	fs.BoolVar(&asJSON, "json", false, "print a JSON array of the resources")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		a, done, err := openApp(cmd, dsn, appOptions{})
		if err != nil {
			return err
		}
		defer done()
		list, err := a.Publish.List(ctx, nil, courseID)
		if err != nil {
			return flagError(err)
		}
		launchURL := publish.LaunchURL(a.Config.BaseURL)
		if asJSON {
			out := []resourceJSON{}
			for _, r := range list {
				out = append(out, toResourceJSON(r, a.Config.BaseURL))
			}
			return json.NewEncoder(env.Stdout).Encode(out)
		}
		if len(list) == 0 {
			fmt.Fprintln(env.Stdout, env.t("cli.publish.none"))
			return nil
		}
		fmt.Fprintln(env.Stdout, env.t("cli.published.launch_url", "URL", launchURL))
		sw := 8 // the status column: the English layout, wider for longer words
		for _, w := range []string{"enabled", "disabled"} {
			sw = max(sw, utf8.RuneCountInString(env.t("cli.published."+w)))
		}
		for _, r := range list {
			what := env.t("cli.published.course", "ID", r.CourseID)
			if r.ActivityID != 0 {
				what += " " + env.t("cli.published.activity", "ID", r.ActivityID)
			}
			status := env.t("cli.published.enabled")
			if !r.Enabled {
				status = env.t("cli.published.disabled")
			}
			status += strings.Repeat(" ", max(0, sw-utf8.RuneCountInString(status)))
			fmt.Fprintf(env.Stdout, "%-6d %s  %s %-22s %s  %s\n", r.ID, r.CustomProperties(), status, what, r.Name,
				env.t("cli.published.modes", "Students", string(r.StudentMode), "Teachers", string(r.TeacherMode)))
		}
		return nil
	}
	return c
}

// flagError says which flag a validation error is about.
func flagError(err error) error {
	var verr *publish.ValidationError
	if errors.As(err, &verr) {
		if f, ok := publishFlags[verr.Field]; ok {
			return &flagErr{flag: f, ve: verr}
		}
	}
	return err
}
