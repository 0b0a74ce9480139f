package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/course/moodle"
)

// quizCmd is `ltipub quiz import`: GIFT and Moodle XML question files into a quiz. The work is in
// internal/course/moodle; this only reads flags and prints.
func quizCmd(env Env) *cobra.Command {
	return group("quiz", "import questions into quizzes", quizImportCmd(env))
}

func quizImportCmd(env Env) *cobra.Command {
	var dsn string
	var courseID, quizID int64
	var asJSON bool
	c := &cobra.Command{Use: "import FILE", Short: "add the questions of a GIFT or Moodle XML file to a quiz (a new one without --quiz)",
		Args: exactArgs(1, "the question file", "ltipub quiz import --course 3 questions.gift.txt")}
	fs := c.Flags()
	config.AddDBFlag(fs, &dsn)
	fs.Int64Var(&courseID, "course", 0, "the course `ID` (required)")
	fs.Int64Var(&quizID, "quiz", 0, "add to the quiz of this activity `ID` instead of making a new quiz")
	fs.BoolVar(&asJSON, "json", false, `print {"quiz_id", "format", "questions"} as JSON`)
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if courseID == 0 {
			return usageMsg("cli.quiz.course_required", "File", args[0])
		}
		f, err := os.Open(args[0])
		if err != nil {
			return errText(err, "cli.quiz.read_file")
		}
		data, err := moodle.ReadUpload(f, moodle.DefaultLimits.Entry)
		f.Close()
		if err != nil {
			return err
		}
		a, done, err := openApp(cmd, dsn, appOptions{})
		if err != nil {
			return err
		}
		defer done()
		// The command line is a trusted operator: it acts as a site administrator would.
		act, kind, err := moodle.ImportQuestions(cmd.Context(), a.Courses, operator(), courseID, quizID, "", data, moodle.DefaultLimits)
		if err != nil {
			var verr *course.ValidationError
			var merr *moodle.Error
			if errors.As(err, &verr) || errors.As(err, &merr) {
				return errText(err, "cli.quiz.cannot_import", "File", args[0], "Format", kind)
			}
			return err
		}
		if asJSON {
			return writeJSON(env.Stdout, struct {
				QuizID    int64  `json:"quiz_id"`
				Format    string `json:"format"`
				Questions int    `json:"questions"`
			}{act.ID, string(kind), len(act.Quiz.Questions)})
		}
		fmt.Fprintln(env.Stdout, env.t("cli.quiz.imported", "Name", q(act.Name), "ID", act.ID, "Count", len(act.Quiz.Questions), "Format", kind))
		return nil
	}
	return c
}

// operator is the command line's user: a site administrator that is no account (ID 0).
func operator() *account.User { return &account.User{Username: "(command line)", IsAdmin: true} }
