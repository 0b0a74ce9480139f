package course_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/store/sqlstore/sqltest"
)

// question decodes one question in the course file format and validates it in a one-question quiz.
func question(t *testing.T, src string) course.Question {
	t.Helper()
	var q course.Question
	if err := json.Unmarshal([]byte(src), &q); err != nil {
		t.Fatalf("decode %s: %v", src, err)
	}
	in := course.ActivityInput{Type: course.TypeQuiz, Name: "Q", MaxGrade: 10, Quiz: course.QuizSettings{Questions: []course.Question{q}}}
	if err := in.Validate(); err != nil {
		t.Fatalf("validate %s: %v", src, err)
	}
	return in.Quiz.Questions[0]
}

func TestQuestionTypesGrade(t *testing.T) {
	t.Parallel()
	// Moodle's own numbers, from PHYS101 (shared/testdata/moodle/MANIFEST.md).
	vectors := question(t, `{"type":"multichoice","text":"Vectors?","choices":[
		{"text":"Velocity","fraction":0.5,"feedback":"Yes"},{"text":"Force","fraction":0.5},
		{"text":"Mass","fraction":-0.5,"feedback":"No: scalar"},{"text":"Temperature","fraction":-0.5}]}`)
	partial := question(t, `{"type":"multichoice","text":"Best?","choices":[
		{"text":"best","fraction":1},{"text":"good","fraction":0.5},{"text":"bad","fraction":-0.25}]}`)
	tf := question(t, `{"type":"truefalse","text":"g is 9.8","correct_answer":true,"true_feedback":"Right","false_feedback":"No"}`)
	short := question(t, `{"type":"shortanswer","text":"Force?","answers":[
		{"text":"friction","fraction":1,"feedback":"Correct."},{"text":"fric*","fraction":0.5,"feedback":"Nearly"},
		{"text":"a\\*b","fraction":1}]}`)
	cased := question(t, `{"type":"shortanswer","text":"Symbol of sodium?","case_sensitive":true,"answers":["Na"]}`)
	num := question(t, `{"type":"numerical","text":"Speed?","answers":[
		{"text":"75","tolerance":0.5,"feedback":"Correct"},{"text":"7.5","fraction":0.5},{"text":"*","fraction":0,"feedback":"Divide"}]}`)
	units := question(t, `{"type":"numerical","text":"Length?","answers":[{"text":"1.5","tolerance":0.01}],
		"units":[{"unit":"m","multiplier":1},{"unit":"cm","multiplier":100}]}`)
	match := question(t, `{"type":"matching","text":"Match","pairs":[
		{"item":"Kinetic energy","answer":"½ m v²"},{"item":"Momentum","answer":"m v"},{"item":"Weight","answer":"m g"},
		{"answer":"m a²"}]}`)
	essay := question(t, `{"type":"essay","text":"Explain","grader_info":"Full marks for an example"}`)

	tests := []struct {
		name  string
		q     course.Question
		given []string
		want  float64
	}{
		{"multi both right", vectors, []string{"0", "1"}, 1},
		{"multi one right", vectors, []string{"1"}, 0.5},
		{"multi right and wrong", vectors, []string{"0", "2"}, 0},
		{"multi everything", vectors, []string{"0", "1", "2", "3"}, 0},
		{"multi only wrong is not negative", vectors, []string{"2"}, 0},
		{"single full", partial, []string{"0"}, 1},
		{"single partial credit", partial, []string{"1"}, 0.5},
		{"single negative is 0", partial, []string{"2"}, 0},
		{"single two chosen", partial, []string{"0", "1"}, 0},
		{"true right", tf, []string{"true"}, 1},
		{"true wrong", tf, []string{"false"}, 0},
		{"true nothing", tf, nil, 0},
		{"short exact", short, []string{"friction"}, 1},
		{"short case ignored", short, []string{" FRICTION "}, 1},
		{"short wildcard partial", short, []string{"frictional force"}, 0.5},
		{"short wildcard needs its prefix", short, []string{"traction"}, 0},
		{"short escaped star is literal", short, []string{"a*b"}, 1},
		{"short escaped star no wildcard", short, []string{"axxb"}, 0},
		{"short case sensitive right", cased, []string{"Na"}, 1},
		{"short case sensitive wrong", cased, []string{"NA"}, 0},
		{"num exact", num, []string{"75"}, 1},
		{"num within tolerance", num, []string{"75.5"}, 1},
		{"num within tolerance below", num, []string{"74.6"}, 1},
		{"num decimal comma", num, []string{"74,8"}, 1},
		{"num second answer partial", num, []string{"7.5"}, 0.5},
		{"num any other number", num, []string{"12"}, 0},
		{"num not a number", num, []string{"fast"}, 0},
		{"num outside tolerance", num, []string{"75.6"}, 0},
		{"unit base", units, []string{"1.5 m"}, 1},
		{"unit converted", units, []string{"150 cm"}, 1},
		{"unit omitted", units, []string{"1.5"}, 1},
		{"unit unknown", units, []string{"1.5 km"}, 0},
		{"unit wrong value", units, []string{"15 cm"}, 0},
		{"match all", match, []string{"½ m v²", "m v", "m g"}, 1},
		{"match two of three", match, []string{"½ m v²", "m v", "m a²"}, 2.0 / 3},
		{"match none", match, []string{"m g", "m a²", "m v"}, 0},
		{"match short", match, []string{"½ m v²"}, 1.0 / 3},
		{"essay is not auto-graded", essay, []string{"An answer"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.q.Fraction(tt.given); got != tt.want {
				t.Fatalf("Fraction(%q) = %v, want %v", tt.given, got, tt.want)
			}
		})
	}
	if fb := vectors.Feedback([]string{"0", "2"}); len(fb) != 2 || fb[0] != "Yes" || fb[1] != "No: scalar" {
		t.Fatalf("multichoice feedback: %q", fb)
	}
	if fb := tf.Feedback([]string{"false"}); len(fb) != 1 || fb[0] != "No" {
		t.Fatalf("truefalse feedback: %q", fb)
	}
	if fb := short.Feedback([]string{"fricative"}); len(fb) != 1 || fb[0] != "Nearly" {
		t.Fatalf("shortanswer feedback: %q", fb)
	}
	if fb := num.Feedback([]string{"3"}); len(fb) != 1 || fb[0] != "Divide" {
		t.Fatalf("numerical feedback: %q", fb)
	}
	if !vectors.IsMultiple() || partial.IsMultiple() {
		t.Fatal("multiple answers: fractions on several choices make check boxes, one full choice radio buttons")
	}
	if got := match.RightAnswer(); got != "Kinetic energy → ½ m v²; Momentum → m v; Weight → m g" {
		t.Fatalf("matching right answer %q", got)
	}
	if got := len(match.AnswerOptions()); got != 4 {
		t.Fatalf("matching offers %d answers, want 4 (3 and a distractor)", got)
	}
}

func TestQuestionValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, field string
	}{
		{"unknown type", `{"type":"cloze","text":"x"}`, "questions[0].type"},
		{"single without full fraction", `{"type":"multichoice","text":"x","choices":[{"text":"a","fraction":0.5},{"text":"b"}]}`, "questions[0].choices"},
		{"several not adding up", `{"type":"multichoice","text":"x","multiple":true,"choices":[{"text":"a","fraction":0.5},{"text":"b","fraction":0.4}]}`, "questions[0].choices"},
		{"fraction out of range", `{"type":"multichoice","text":"x","choices":[{"text":"a","fraction":2},{"text":"b"}]}`, "questions[0].choices[0].fraction"},
		{"truefalse without answer", `{"type":"truefalse","text":"x"}`, "questions[0].correct_answer"},
		{"short without answers", `{"type":"shortanswer","text":"x","answers":[" "]}`, "questions[0].answers"},
		{"short without a full answer", `{"type":"shortanswer","text":"x","answers":[{"text":"a","fraction":0.5}]}`, "questions[0].answers"},
		{"numerical not a number", `{"type":"numerical","text":"x","answers":["seven"]}`, "questions[0].answers[0].text"},
		{"negative tolerance", `{"type":"numerical","text":"x","answers":[{"text":"7","tolerance":-1}]}`, "questions[0].answers[0].tolerance"},
		{"unit with digits", `{"type":"numerical","text":"x","answers":["7"],"units":[{"unit":"m2","multiplier":1}]}`, "questions[0].units[0].unit"},
		{"unit multiplier", `{"type":"numerical","text":"x","answers":["7"],"units":[{"unit":"m","multiplier":0}]}`, "questions[0].units[0].multiplier"},
		{"matching one item", `{"type":"matching","text":"x","pairs":[{"item":"a","answer":"b"}]}`, "questions[0].pairs"},
		{"matching without answer", `{"type":"matching","text":"x","pairs":[{"item":"a","answer":""},{"item":"c","answer":"d"}]}`, "questions[0].pairs[0].answer"},
		{"bad format", `{"type":"essay","text":"x","format":"html"}`, "questions[0].format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q course.Question
			if err := json.Unmarshal([]byte(tt.src), &q); err != nil {
				t.Fatal(err)
			}
			in := course.ActivityInput{Type: course.TypeQuiz, Name: "Q", MaxGrade: 10, Quiz: course.QuizSettings{Questions: []course.Question{q}}}
			var verr *course.ValidationError
			if err := in.Validate(); !errors.As(err, &verr) || verr.Field != tt.field {
				t.Fatalf("got %v, want a mistake in %s", err, tt.field)
			}
		})
	}
	// Fields of another type are dropped, not kept to confuse grading.
	q := question(t, `{"type":"truefalse","text":"x","correct_answer":false,"choices":[{"text":"a","correct":true},{"text":"b"}],"answers":["a"]}`)
	if q.Choices != nil || q.Answers != nil {
		t.Fatalf("fields of other types kept: %+v", q)
	}
}

func TestEssayPendingThenGraded(t *testing.T) {
	t.Parallel()
	sqltest.Each(t, func(t *testing.T, s *sqlstore.Store) {
		t.Parallel()
		ctx := context.Background()
		f := newFixture(t, s)
		teacher, student := f.user(t, "teacher", true), f.user(t, "student", false)
		c, err := f.svc.CreateCourse(ctx, teacher, course.CourseInput{FullName: "Physics", ShortName: "PHY", Visible: true})
		if err != nil {
			t.Fatal(err)
		}
		f.enrol(t, teacher, c.ID, student, course.RoleStudent)
		quiz, err := f.svc.CreateActivity(ctx, teacher, c.ID, course.ActivityInput{Type: course.TypeQuiz, Name: "Check", Visible: true,
			MaxGrade: 10, Quiz: course.QuizSettings{Questions: []course.Question{
				{ID: "tf", Type: course.TrueFalse, Text: "g is 9.8", Points: 2, CorrectAnswer: boolPtr(true)},
				{ID: "num", Type: course.Numerical, Text: "75?", Points: 1, Answers: []course.Answer{{Text: "75", Tolerance: 0.5}}},
				{ID: "essay", Type: course.Essay, Text: "Explain", Points: 2},
			}}})
		if err != nil {
			t.Fatal(err)
		}
		at, err := f.svc.SubmitQuiz(ctx, student, quiz.ID, course.Answers{"tf": {"true"}, "num": {"80"}, "essay": {"Because."}})
		if err != nil {
			t.Fatal(err)
		}
		if !at.Pending || at.Score != 4 { // 2 of 5 points marked so far, out of 10
			t.Fatalf("attempt with an unmarked essay: pending %v score %v, want pending 4", at.Pending, at.Score)
		}
		g, err := s.GradeOf(ctx, quiz.ID, student.ID)
		if err != nil || !g.Pending || g.Grade != 4 {
			t.Fatalf("grade before marking: %+v %v, want pending 4/10", g, err)
		}
		rev := g.Revision
		// The attempts page's state filter follows the mark: needs marking now, finished after.
		listed := func(state course.SubmissionState) int {
			t.Helper()
			_, rows, n, err := f.svc.AttemptsPage(ctx, teacher, quiz.ID, course.StudentFilter{State: state, Limit: 50})
			if err != nil || n != len(rows) {
				t.Fatalf("the attempts page (%s): %v, %d counted, %d listed", state, err, n, len(rows))
			}
			return n
		}
		if listed(course.StateNeedsMarking) != 1 || listed(course.StateFinished) != 0 || listed(course.StateAttempted) != 1 || listed(course.StateNotAttempted) != 0 {
			t.Fatal("an unmarked essay: not listed as needing marking alone")
		}

		var verr *course.ValidationError
		if _, err := f.svc.MarkAttempt(ctx, teacher, quiz.ID, student.ID, 1, map[string]float64{"essay": 3}); !errors.As(err, &verr) {
			t.Fatalf("a mark above the question's points: %v", err)
		}
		if _, err := f.svc.MarkAttempt(ctx, teacher, quiz.ID, student.ID, 1, map[string]float64{"tf": 1}); !errors.As(err, &verr) {
			t.Fatalf("a mark on an automatic question: %v", err)
		}
		if _, err := f.svc.MarkAttempt(ctx, student, quiz.ID, student.ID, 1, map[string]float64{"essay": 2}); !errors.Is(err, course.ErrForbidden) {
			t.Fatalf("a student marked: %v", err)
		}
		if _, err := f.svc.MarkAttempt(ctx, teacher, quiz.ID, student.ID, 1, map[string]float64{"essay": 1.5}); err != nil {
			t.Fatal(err)
		}
		g, err = s.GradeOf(ctx, quiz.ID, student.ID)
		if err != nil || g.Pending || g.Grade != 7 || g.Revision <= rev { // (2 + 1.5) / 5 × 10
			t.Fatalf("grade after marking: %+v %v, want 7/10, not pending, a new revision", g, err)
		}
		if listed(course.StateNeedsMarking) != 0 || listed(course.StateFinished) != 1 {
			t.Fatal("the marked attempt is not listed as finished")
		}
		toSync, err := s.GradesToSync(ctx, "test-target", c.ID, 10)
		if err != nil || len(toSync) != 1 || toSync[0].Pending {
			t.Fatalf("the marked grade waits for sync as fully graded: %+v %v", toSync, err)
		}

		// The teacher fixes the numerical question (80 was right after all) and regrades.
		quiz.Quiz.Questions[1].Answers = []course.Answer{{Text: "80", Tolerance: 0.5}}
		if _, err := f.svc.UpdateActivity(ctx, teacher, quiz.ID, course.ActivityInput{Name: quiz.Name, Visible: true,
			MaxGrade: 10, Quiz: quiz.Quiz}); err != nil {
			t.Fatal(err)
		}
		res, err := f.svc.Regrade(ctx, teacher, quiz.ID)
		if err != nil || res.Attempts != 1 || res.Grades != 1 {
			t.Fatalf("regrade: %+v %v", res, err)
		}
		g, _ = s.GradeOf(ctx, quiz.ID, student.ID)
		if g.Grade != 9 || g.Pending {
			t.Fatalf("grade after regrade: %+v, want 9", g)
		}
		if res, err := f.svc.Regrade(ctx, teacher, quiz.ID); err != nil || res.Grades != 0 || res.Attempts != 0 {
			t.Fatalf("a second regrade changed things: %+v %v", res, err)
		}
		_, rows, _, err := f.svc.AttemptsPage(ctx, teacher, quiz.ID, course.StudentFilter{Limit: 50})
		if err != nil || len(rows) != 1 || len(rows[0].Attempts) != 1 || rows[0].Attempts[0].Marks["essay"] != 1.5 || rows[0].Grade.Grade != 9 {
			t.Fatalf("teacher's attempts view: %+v %v", rows, err)
		}
	})
}

func boolPtr(b bool) *bool { return &b }

func TestOldQuestionsStillDecode(t *testing.T) {
	t.Parallel()
	// What ltipub stored and exported before the new types: answers as strings, choices with "correct".
	var qs course.QuizSettings
	old := `{"attempts_allowed":0,"grading_method":"highest","show_answers":false,"questions":[
		{"id":"a","type":"shortanswer","text":"Star?","points":1,"answers":["Sun","Sol"]},
		{"id":"b","type":"multichoice","text":"Giants?","points":2,"choices":[{"text":"Jupiter","correct":true},{"text":"Mars","correct":false},{"text":"Saturn","correct":true}]}]}`
	if err := json.Unmarshal([]byte(old), &qs); err != nil {
		t.Fatal(err)
	}
	score, pending := qs.Score(course.Answers{"a": {"sol"}, "b": {"0"}}, nil, 10)
	if pending || strings.TrimSpace(course.FormatNumber(score)) != "6.67" {
		t.Fatalf("old quiz scores %v (pending %v), want 6.67", score, pending)
	}
}
