package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/course/moodle"
	"github.com/ltipub/ltipub/internal/logging"
)

// quizCmd is `ltipub quiz import`: GIFT and Moodle XML question files into a quiz. The work is in
// internal/course/moodle; this only reads flags and prints.
func quizCmd() *Command {
	c := &Command{Name: "import", Summary: "add the questions of a GIFT or Moodle XML file to a quiz (a new one without --quiz)"}
	c.Run = func(ctx context.Context, env Env, args []string) error {
		var dsn string
		var courseID, quizID int64
		var asJSON bool
		fs := newFlags(env, "ltipub quiz import", c.Summary, "FILE")
		config.AddDBFlag(fs, &dsn)
		fs.Int64Var(&courseID, "course", 0, "the course `ID` (required)")
		fs.Int64Var(&quizID, "quiz", 0, "add to the quiz of this activity `ID` instead of making a new quiz")
		fs.BoolVar(&asJSON, "json", false, `print {"quiz_id", "format", "questions"} as JSON`)
		if err := parse(fs, args, 1); err != nil {
			return err
		}
		if fs.NArg() != 1 || courseID == 0 {
			fmt.Fprintln(env.Stderr, "ltipub quiz import: give --course ID and the question file, e.g. ltipub quiz import --course 3 questions.gift.txt")
			return errUsage
		}
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return fmt.Errorf("read question file: %w", err)
		}
		data, err := moodle.ReadUpload(f, moodle.DefaultLimits.Entry)
		f.Close()
		if err != nil {
			return err
		}
		st, err := app.OpenStore(ctx, dsn, logging.Discard())
		if err != nil {
			return err
		}
		defer st.Close()
		// The command line is a trusted operator: it acts as a site administrator would.
		svc := &course.Service{Store: st, Users: st}
		op := operator()
		act, kind, err := moodle.ImportQuestions(ctx, svc, op, courseID, quizID, "", data, moodle.DefaultLimits)
		if err != nil {
			var verr *course.ValidationError
			var merr *moodle.Error
			if errors.As(err, &verr) || errors.As(err, &merr) {
				return fmt.Errorf("%s (%s) cannot be imported, nothing was changed: %w", fs.Arg(0), kind, err)
			}
			return err
		}
		if asJSON {
			return json.NewEncoder(env.Stdout).Encode(struct {
				QuizID    int64  `json:"quiz_id"`
				Format    string `json:"format"`
				Questions int    `json:"questions"`
			}{act.ID, string(kind), len(act.Quiz.Questions)})
		}
		fmt.Fprintf(env.Stdout, "quiz %q (id %d) now has %d question(s), from %s\n", act.Name, act.ID, len(act.Quiz.Questions), kind)
		return nil
	}
	return &Command{Name: "quiz", Summary: "import questions into quizzes", Sub: []*Command{c}}
}

// operator is the command line's user: a site administrator that is no account (ID 0).
func operator() *account.User { return &account.User{Username: "(command line)", IsAdmin: true} }
