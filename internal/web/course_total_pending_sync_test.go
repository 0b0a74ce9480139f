package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestCourseTotalPendingWhileEssayUnmarked: the whole course is published with grade sync, and a learner launched
// from the reference platform has a marked quiz, then answers a quiz with an essay. While the essay waits for the
// teacher the platform's course line item holds Pending without a score (the total of what is marked so far is
// not the grade): InProgress while an activity has no grade yet, Submitted once every one has. The grader report
// and My grades say "pending" beside the total. Once the teacher marks the essay the platform holds Completed /
// FullyGraded with the full total, and the pages no longer say pending. All sent by the grade hook.
func TestCourseTotalPendingWhileEssayUnmarked(t *testing.T) {
	t.Parallel()
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) { t.Parallel(); courseTotalPending(t, e) })
	}
}

func courseTotalPending(t *testing.T, engine sqlstore.Engine) {
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
	cid := imported.Course.ID
	solar, report := apptest.Activity(imported, course.TypeQuiz), apptest.Activity(imported, course.TypeAssignment)
	essayQuiz, err := inst.App.Courses.CreateActivity(ctx, &teacher, cid, course.ActivityInput{Type: course.TypeQuiz,
		Name: "Laws of motion", Visible: true, MaxGrade: 10, Quiz: course.QuizSettings{Questions: []course.Question{
			{ID: "mc", Type: course.MultiChoice, Text: "Unit of force?", Choices: []course.Choice{{Text: "newton", Correct: true}, {Text: "joule"}}},
			{ID: "essay", Type: course.Essay, Text: "Explain the third law", Points: 4},
		}}})
	if err != nil {
		t.Fatal(err)
	}
	in := publish.NewInput(cid) // no activity: the whole course, its total out of 100
	in.GradeSync = true
	res := inst.Publish(t, in)
	li := p.AddLineItem("client-1", "course-1", ltitest.LineItem{Label: imported.Course.FullName, ScoreMaximum: 100, ResourceLinkID: "rl-1"})

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
	attempt := func(act course.Activity, form url.Values) {
		t.Helper()
		r := inst.PostForm(t, learner, fmt.Sprintf("/activities/%d/attempts", act.ID), form)
		if r.StatusCode != http.StatusSeeOther && r.StatusCode != http.StatusOK { // framed launches get the page itself
			t.Fatalf("attempt at %s: %d %s", act.Name, r.StatusCode, r.Body)
		}
	}
	latest := func() ltitest.Score {
		rec, ok := p.LatestScore(li, "student-1")
		if !ok {
			return ltitest.Score{}
		}
		return rec.Score
	}
	tc := inst.Client(t)
	inst.Login(t, tc, "teacher", pw)
	// totals reads the course total as the grader report and the learner's My grades show it.
	totals := func() (grader, mine string) {
		t.Helper()
		g := inst.Get(t, tc, fmt.Sprintf("/courses/%d/grades", cid))
		m := inst.Get(t, learner, fmt.Sprintf("/courses/%d/mygrades", cid))
		if g.StatusCode != http.StatusOK || m.StatusCode != http.StatusOK {
			t.Fatalf("grader report %d, my grades %d", g.StatusCode, m.StatusCode)
		}
		cell := func(body, start string) string {
			i := strings.Index(body, start)
			if i < 0 {
				t.Fatalf("no %q in\n%s", start, body)
			}
			j := strings.Index(body[i:], "</t")
			return body[i : i+j]
		}
		return cell(g.Body, `<td class="total"`), cell(m.Body, `id="course-total"`)
	}

	// The Solar System quiz marked at once: 1 + 1 of 2 + 0 of 1 points, 5 of 10, a 50 % total so far.
	attempt(solar, url.Values{"q_closest": {"1"}, "q_giants": {"0"}})
	waitFor(t, "the first total on the platform", func() bool { return latest().GradingProgress == lti.GradingFullyGraded })
	if sc := latest(); sc.ScoreGiven == nil || *sc.ScoreGiven != 50 || sc.ScoreMaximum == nil || *sc.ScoreMaximum != 100 ||
		sc.ActivityProgress != lti.ActivityInProgress {
		t.Fatalf("after the first quiz the platform holds %+v, want InProgress / FullyGraded 50 / 100", sc)
	}

	// The essay quiz: its grade waits for the teacher, so the course total does too.
	attempt(essayQuiz, url.Values{"q_mc": {"0"}, "q_essay": {"Whatever I push pushes me back as hard."}})
	waitFor(t, "the pending total on the platform", func() bool { return latest().GradingProgress == lti.GradingPending })
	if sc := latest(); sc.ActivityProgress != lti.ActivityInProgress || sc.ScoreGiven != nil {
		t.Fatalf("while the essay waits (the report not graded) the platform holds %s / %s, score %v; want InProgress / Pending without a score",
			sc.ActivityProgress, sc.GradingProgress, sc.ScoreGiven)
	}
	if g, m := totals(); !strings.Contains(g, "(pending)") || !strings.Contains(m, "(pending") {
		t.Fatalf("while the essay waits the totals do not say pending:\ngrader report: %s\nmy grades: %s", g, m)
	}

	// The report graded (18 of 20): every activity has a grade, one still waits: Submitted, still Pending.
	var uid int64
	if gs, err := inst.Store.CourseGrades(ctx, cid); err != nil || len(gs) != 2 {
		t.Fatalf("grades after the attempts: %+v %v", gs, err)
	} else {
		uid = gs[0].UserID
	}
	if r := inst.PostForm(t, tc, fmt.Sprintf("/activities/%d/grades/%d", report.ID, uid), url.Values{"grade": {"18"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("grade the report: %d %s", r.StatusCode, r.Body)
	}
	waitFor(t, "the pending total, all submitted, on the platform", func() bool { return latest().ActivityProgress == lti.ActivitySubmitted })
	if sc := latest(); sc.GradingProgress != lti.GradingPending || sc.ScoreGiven != nil {
		t.Fatalf("with every activity graded but the essay the platform holds %s / %s, score %v; want Submitted / Pending without a score",
			sc.ActivityProgress, sc.GradingProgress, sc.ScoreGiven)
	}

	// The teacher marks the essay: (1 + 3 of 4) of 5 points is 8 of 10, 80 %; the total is (50 + 90 + 80) / 3.
	if r := inst.PostForm(t, tc, fmt.Sprintf("/activities/%d/attempts/%d/1/marks", essayQuiz.ID, uid), url.Values{"mark_essay": {"3"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark: %d %s", r.StatusCode, r.Body)
	}
	waitFor(t, "the final total on the platform", func() bool { return latest().GradingProgress == lti.GradingFullyGraded })
	if sc := latest(); sc.ActivityProgress != lti.ActivityCompleted || sc.ScoreGiven == nil || *sc.ScoreGiven != 73.33 ||
		sc.ScoreMaximum == nil || *sc.ScoreMaximum != 100 {
		t.Fatalf("after marking the platform holds %+v, want Completed / FullyGraded 73.33 / 100", sc)
	}
	if g, m := totals(); strings.Contains(g, "pending") || strings.Contains(m, "pending") || !strings.Contains(g, "73.33") ||
		!strings.Contains(m, "73.33 / 100") {
		t.Fatalf("after marking the totals are not 73.33 without pending:\ngrader report: %s\nmy grades: %s", g, m)
	}
	// Every score the platform took for the course line item, in order, and each later than the one before.
	scores := p.Scores(li)
	var seq []string
	for i, s := range scores {
		seq = append(seq, s.ActivityProgress+"/"+s.GradingProgress)
		if i > 0 && !s.Timestamp.After(scores[i-1].Timestamp) {
			t.Fatalf("score %d is not later than the one before: %+v", i, scores)
		}
	}
	if got := strings.Join(seq, " "); got != "InProgress/FullyGraded InProgress/Pending Submitted/Pending Completed/FullyGraded" {
		t.Fatalf("scores posted: %s", got)
	}
}
