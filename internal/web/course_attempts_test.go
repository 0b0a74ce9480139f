package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
)

// TestQuizTypesAndEssayMarkingPages takes a quiz with every question type through the pages: a student answers,
// the essay waits for a teacher, the teacher marks it on the attempts page and the grade stops waiting.
func TestQuizTypesAndEssayMarkingPages(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	ctx := context.Background()
	teacher, _ := f.inst.Store.UserByUsername(ctx, "teacher")
	yes := true
	quiz, err := f.inst.App.Courses.CreateActivity(ctx, &teacher, f.res.Course.ID, course.ActivityInput{Type: course.TypeQuiz,
		Name: "Every type", Visible: true, MaxGrade: 10, Quiz: course.QuizSettings{ShowAnswers: true, Questions: []course.Question{
			{ID: "mc", Type: course.MultiChoice, Text: "**Unit** of force?", Format: course.FormatMarkdown, GeneralFeedback: "Named after *Newton*.",
				Choices: []course.Choice{{Text: "newton", Correct: true, Feedback: "Yes: 1 N = 1 kg·m/s²"}, {Text: "joule"}}},
			{ID: "tf", Type: course.TrueFalse, Text: "g is about 9.8", CorrectAnswer: &yes},
			{ID: "sa", Type: course.ShortAnswer, Text: "Opposes sliding?", Answers: []course.Answer{{Text: "fric*"}}},
			{ID: "num", Type: course.Numerical, Text: "150 km in 2 h?", Answers: []course.Answer{{Text: "75", Tolerance: 0.5}}},
			{ID: "match", Type: course.Matching, Text: "Match", Pairs: []course.Pair{{Item: "Momentum", Answer: "m v"}, {Item: "Weight", Answer: "m g"}}},
			{ID: "essay", Type: course.Essay, Text: "Explain the third law", Points: 5, GraderInfo: "An example is needed"},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	page := f.inst.Get(t, f.student, fmt.Sprintf("/activities/%d", quiz.ID))
	for _, want := range []string{"<strong>Unit</strong> of force?", `id="q_tf_true"`, `<select name="q_match" id="q_match_1"`, `<textarea name="q_essay"`} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("quiz form lacks %q:\n%s", want, page.Body)
		}
	}
	r := f.inst.PostForm(t, f.student, fmt.Sprintf("/activities/%d/attempts", quiz.ID), url.Values{
		"q_mc": {"0"}, "q_tf": {"true"}, "q_sa": {"Friction"}, "q_num": {"75.2"}, "q_match": {"m v", "m g"}, "q_essay": {"When I push a wall it pushes me."}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d %s", r.StatusCode, r.Body)
	}
	g, err := f.inst.Store.GradeOf(ctx, quiz.ID, f.studentID)
	if err != nil || !g.Pending || g.Grade != 5 { // 5 of 10 points, essay pending
		t.Fatalf("grade after the attempt: %+v %v", g, err)
	}
	page = f.inst.Get(t, f.student, fmt.Sprintf("/activities/%d", quiz.ID))
	for _, want := range []string{"Waiting for a teacher to grade it", "Yes: 1 N = 1 kg·m/s²", "Named after <em>Newton</em>."} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("result lacks %q:\n%s", want, page.Body)
		}
	}
	if r := f.inst.Get(t, f.student, fmt.Sprintf("/activities/%d/attempts", quiz.ID)); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a student opened the attempts page: %d", r.StatusCode)
	}
	list := f.inst.Get(t, f.teacher, fmt.Sprintf("/activities/%d/attempts", quiz.ID))
	if !strings.Contains(list.Body, "When I push a wall it pushes me.") || !strings.Contains(list.Body, "waiting for marks") ||
		!strings.Contains(list.Body, "An example is needed") {
		t.Fatalf("attempts page:\n%s", list.Body)
	}
	markPath := fmt.Sprintf("/activities/%d/attempts/%d/1/marks", quiz.ID, f.studentID)
	if r := f.inst.PostForm(t, f.teacher, markPath, url.Values{"mark_essay": {"9"}}); r.StatusCode != http.StatusBadRequest {
		t.Fatalf("a mark above the points: %d %s", r.StatusCode, r.Body)
	}
	if r := f.inst.PostForm(t, f.teacher, markPath, url.Values{"mark_essay": {"4"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark: %d %s", r.StatusCode, r.Body)
	}
	if g, _ := f.inst.Store.GradeOf(ctx, quiz.ID, f.studentID); g.Pending || g.Grade != 9 {
		t.Fatalf("grade after marking: %+v", g)
	}
	if r := f.inst.PostForm(t, f.teacher, fmt.Sprintf("/activities/%d/regrade", quiz.ID), nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("regrade: %d %s", r.StatusCode, r.Body)
	}
	r = f.inst.PostForm(t, f.teacher, fmt.Sprintf("/activities/%d/grades/%d", quiz.ID, f.studentID), url.Values{"grade": {"9.5"},
		"feedback": {"Good example"}, "return": {"attempts"}})
	if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != fmt.Sprintf("/activities/%d/attempts", quiz.ID) {
		t.Fatalf("override: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
	if g, _ := f.inst.Store.GradeOf(ctx, quiz.ID, f.studentID); g.Grade != 9.5 || g.Feedback != "Good example" || g.Pending {
		t.Fatalf("grade after override: %+v", g)
	}
}

// TestShuffleAndHiddenFeedback: with shuffle on, a student sees the choices in an order of their own that a
// reload keeps, and grading still goes by the choice; with feedback hidden, the result shows none.
func TestShuffleAndHiddenFeedback(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	ctx := context.Background()
	teacher, _ := f.inst.Store.UserByUsername(ctx, "teacher")
	var choices []course.Choice
	for _, c := range []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"} {
		choices = append(choices, course.Choice{Text: c, Correct: c == "golf", Feedback: "about " + c})
	}
	quiz, err := f.inst.App.Courses.CreateActivity(ctx, &teacher, f.res.Course.ID, course.ActivityInput{Type: course.TypeQuiz,
		Name: "Shuffled", Visible: true, MaxGrade: 1, Quiz: course.QuizSettings{ShuffleAnswers: true, HideFeedback: true,
			Questions: []course.Question{{ID: "pick", Type: course.MultiChoice, Text: "Pick golf", GeneralFeedback: "secret", Choices: choices}}}})
	if err != nil {
		t.Fatal(err)
	}
	order := func() string {
		body := f.inst.Get(t, f.student, fmt.Sprintf("/activities/%d", quiz.ID)).Body
		var out []string
		for _, c := range choices {
			out = append(out, fmt.Sprint(strings.Index(body, "> "+c.Text+"</label>")))
		}
		return strings.Join(out, ",")
	}
	first := order()
	if first != order() {
		t.Fatal("a reload reshuffled the choices")
	}
	positions := strings.Split(first, ",")
	sorted := true
	for i := 1; i < len(positions); i++ {
		a, _ := strconv.Atoi(positions[i-1])
		b, _ := strconv.Atoi(positions[i])
		sorted = sorted && a < b
	}
	if sorted {
		t.Fatalf("the choices are in their original order: %s", first)
	}
	r := f.inst.PostForm(t, f.student, fmt.Sprintf("/activities/%d/attempts", quiz.ID), url.Values{"q_pick": {"6"}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d", r.StatusCode)
	}
	if g, _ := f.inst.Store.GradeOf(ctx, quiz.ID, f.studentID); g.Grade != 1 {
		t.Fatalf("grade %+v: shuffling changed the grading", g)
	}
	page := f.inst.Get(t, f.student, fmt.Sprintf("/activities/%d", quiz.ID)).Body
	if strings.Contains(page, "about golf") || strings.Contains(page, "secret") {
		t.Fatalf("hidden feedback shown:\n%s", page)
	}
}

func TestTimedQuizShowsDeadline(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	ctx := context.Background()
	teacher, _ := f.inst.Store.UserByUsername(ctx, "teacher")
	quiz, err := f.inst.App.Courses.CreateActivity(ctx, &teacher, f.res.Course.ID, course.ActivityInput{Type: course.TypeQuiz,
		Name: "Timed", Visible: true, MaxGrade: 1, Quiz: course.QuizSettings{TimeLimitMinutes: 15,
			Questions: []course.Question{{ID: "a", Type: course.ShortAnswer, Text: "2+2", Answers: []course.Answer{{Text: "4"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	page := f.inst.Get(t, f.student, fmt.Sprintf("/activities/%d", quiz.ID)).Body
	if !strings.Contains(page, `id="deadline"`) || !strings.Contains(page, "Time limit 15 minutes") {
		t.Fatalf("timed quiz page:\n%s", page)
	}
	if r := f.inst.PostForm(t, f.student, fmt.Sprintf("/activities/%d/attempts", quiz.ID), url.Values{"q_a": {"4"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d", r.StatusCode)
	}
	if g, _ := f.inst.Store.GradeOf(ctx, quiz.ID, f.studentID); g.Grade != 1 {
		t.Fatalf("grade %+v", g)
	}
}
