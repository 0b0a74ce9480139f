package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestEssayGradeReachesPlatformPendingThenGraded: a learner launched from the reference platform answers a quiz
// with an essay; the platform holds Submitted / Pending without a score (the partial score is not the grade).
// The teacher marks the essay on the attempts page and the platform then holds Completed / FullyGraded with the
// final score: both sent by the grade hook within seconds, without a manual sync.
func TestEssayGradeReachesPlatformPendingThenGraded(t *testing.T) {
	t.Parallel()
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) { t.Parallel(); essayPendingThenGraded(t, e) })
	}
}

func essayPendingThenGraded(t *testing.T, engine sqlstore.Engine) {
	ctx := context.Background()
	inst := apptest.Start(t, apptest.Options{Jobs: true, Engine: engine})
	p := ltitest.NewServer(t, ltitest.Config{})
	inst.Platform(t, p, "client-1")
	teacher := inst.EnsureUser(t, account.NewUser{Username: "teacher", FullName: "Tess Teacher", Password: pw, IsCourseCreator: true})
	data, err := os.ReadFile("../../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	imported, err := inst.App.Courses.Import(ctx, &teacher, data)
	if err != nil {
		t.Fatal(err)
	}
	quiz, err := inst.App.Courses.CreateActivity(ctx, &teacher, imported.Course.ID, course.ActivityInput{Type: course.TypeQuiz,
		Name: "Laws of motion", Visible: true, MaxGrade: 10, Quiz: course.QuizSettings{Questions: []course.Question{
			{ID: "mc", Type: course.MultiChoice, Text: "Unit of force?", Choices: []course.Choice{{Text: "newton", Correct: true}, {Text: "joule"}}},
			{ID: "essay", Type: course.Essay, Text: "Explain the third law", Points: 4},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	in := publish.NewInput(imported.Course.ID)
	in.ActivityID, in.GradeSync = quiz.ID, true
	res := inst.Publish(t, in)
	li := p.AddLineItem("client-1", "course-1", ltitest.LineItem{Label: quiz.Name, ScoreMaximum: 10, ResourceLinkID: "rl-1"})

	learner := newLaunchClient()
	launched, err := p.Launch(ctx, learner, ltitest.LaunchSpec{
		User:    &ltitest.User{Sub: "student-1", Name: "Stu Dent", Email: "stu@example.edu"},
		Roles:   []string{ltitest.RoleLearner},
		Context: &ltitest.Context{ID: "course-1", Title: "Physics"},
		Custom:  map[string]string{"id": res.UUID},
		AGS:     &ltitest.AGS{LineItemURL: li},
	})
	if err != nil || launched.Response.StatusCode != http.StatusOK {
		t.Fatalf("launch: %v %+v", err, launched)
	}
	r := inst.PostForm(t, learner, fmt.Sprintf("/activities/%d/attempts", quiz.ID), url.Values{
		"q_mc": {"0"}, "q_essay": {"Whatever I push pushes me back as hard."}})
	if r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusOK { // framed launches get the page itself
		t.Fatalf("attempt: %d %s", r.StatusCode, r.Body)
	}
	latest := func() (ltitest.ScoreRecord, bool) { return p.LatestScore(li, "student-1") }
	waitFor(t, "the pending score on the platform", func() bool { rec, ok := latest(); return ok && !rec.Ignored })
	rec, _ := latest()
	if rec.ActivityProgress != lti.ActivitySubmitted || rec.GradingProgress != lti.GradingPending || rec.ScoreGiven != nil {
		t.Fatalf("while the essay waits the platform holds %s / %s, score %v; want Submitted / Pending without a score",
			rec.ActivityProgress, rec.GradingProgress, rec.ScoreGiven)
	}

	// The teacher marks the essay: (1 point for the choice + 3 of 4) of 5 points is 8 of 10.
	tc := inst.Client(t)
	inst.Login(t, tc, "teacher", pw)
	var uid int64
	if gs, err := inst.Store.CourseGrades(ctx, imported.Course.ID); err != nil || len(gs) != 1 || !gs[0].Pending || gs[0].Grade != 2 {
		t.Fatalf("grades after the attempt: %+v %v", gs, err)
	} else {
		uid = gs[0].UserID
	}
	mark := inst.PostForm(t, tc, fmt.Sprintf("/activities/%d/attempts/%d/1/marks", quiz.ID, uid), url.Values{"mark_essay": {"3"}})
	if mark.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark: %d %s", mark.StatusCode, mark.Body)
	}
	waitFor(t, "the final grade on the platform", func() bool {
		rec, ok := latest()
		return ok && rec.GradingProgress == lti.GradingFullyGraded
	})
	rec, _ = latest()
	if rec.ActivityProgress != lti.ActivityCompleted || rec.ScoreGiven == nil || *rec.ScoreGiven != 8 || rec.ScoreMaximum == nil ||
		*rec.ScoreMaximum != 10 {
		t.Fatalf("after marking the platform holds %+v, want Completed / FullyGraded 8 / 10", rec.Score)
	}
	scores := p.Scores(li)
	if len(scores) != 2 || scores[0].GradingProgress != lti.GradingPending || !scores[1].Timestamp.After(scores[0].Timestamp) {
		t.Fatalf("scores posted: %+v; want Pending, then FullyGraded with a later timestamp", scores)
	}
}
