package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/browsertest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestQuizEditorRegradeReachesPlatform: a teacher builds a quiz with three question types in the browser (a
// multiple-choice question in the quiz form, then a true/false and a numerical one in the question editor); a
// student launched from the reference platform takes it and gets one wrong; the teacher fixes that question's
// answer and regrades; the new grade reaches the platform's gradebook.
func TestQuizEditorRegradeReachesPlatform(t *testing.T) {
	t.Parallel()
	start := time.Now()
	inst := apptest.Start(t, apptest.Options{Jobs: true})
	p := ltitest.NewServer(t, ltitest.Config{})
	inst.Platform(t, p, "client-1")
	const pw = "a long enough password"
	teacher := inst.EnsureUser(t, account.NewUser{Username: "teacher", FullName: "Tess Teacher", Password: pw, IsCourseCreator: true})
	c, err := inst.App.Courses.CreateCourse(context.Background(), &teacher, course.CourseInput{FullName: "Physics", ShortName: "PHY", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t, browsertest.Options{Timeout: 120 * time.Second})
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			browsertest.Screenshot(t, ctx, "authoring-"+name+"-failed")
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			t.Fatalf("%s: %v\npage shows: %s", name, err, body)
		}
	}
	signIn := func() {
		t.Helper()
		step("sign in", chromedp.Navigate(inst.URL+"/login"), chromedp.WaitVisible(chromedp.ID("username")),
			chromedp.SendKeys(chromedp.ID("username"), "teacher"), chromedp.SendKeys(chromedp.ID("password"), pw),
			chromedp.Click(chromedp.ID("sign-in")), chromedp.WaitVisible(chromedp.ID("courses-heading")))
	}

	signIn()
	step("create the quiz",
		chromedp.Navigate(fmt.Sprintf("%s/courses/%d/activities/new?type=quiz", inst.URL, c.ID)),
		chromedp.WaitVisible(chromedp.ID("questions")),
		chromedp.SendKeys(chromedp.ID("name"), "Forces check"),
		chromedp.SetValue(chromedp.ID("max_grade"), "3"),
		chromedp.SetValue(chromedp.ID("questions"), `[{"id": "unit", "type": "multichoice", "text": "SI unit of force?",
			"choices": [{"text": "newton", "correct": true}, {"text": "joule", "correct": false}]}]`),
		chromedp.Click(chromedp.ID("save-activity")),
		chromedp.WaitVisible(chromedp.ID("activities")),
	)
	acts, err := inst.Store.ListActivities(context.Background(), c.ID)
	if err != nil || len(acts) != 1 {
		t.Fatalf("the quiz was not created: %+v %v", acts, err)
	}
	quiz := acts[0]
	base := fmt.Sprintf("%s/activities/%d/questions", inst.URL, quiz.ID)
	step("add a true/false question",
		chromedp.Navigate(base+"/new?type=truefalse"), chromedp.WaitVisible(chromedp.ID("question-form")),
		chromedp.SetValue(chromedp.ID("qid"), "g"),
		chromedp.SendKeys(chromedp.ID("qtext"), "g is about 9.8 m/s² near the Earth."),
		chromedp.Click(chromedp.ID("correct-true")),
		chromedp.Click(chromedp.ID("save-question")), chromedp.WaitVisible(chromedp.ID("question-list")),
	)
	step("add a numerical question",
		chromedp.Navigate(base+"/new?type=numerical"), chromedp.WaitVisible(chromedp.ID("question-form")),
		chromedp.SetValue(chromedp.ID("qid"), "speed"),
		chromedp.SendKeys(chromedp.ID("qtext"), "150 km in 2 hours: the average speed in km/h?"),
		chromedp.SendKeys(chromedp.ID("row-text-0"), "70"), // the teacher's slip: it is 75
		chromedp.SendKeys(chromedp.ID("row-tolerance-0"), "0.5"),
		chromedp.Click(chromedp.ID("save-question")), chromedp.WaitVisible(chromedp.ID("question-list")),
	)
	quiz, _ = inst.Store.ActivityByID(context.Background(), quiz.ID)
	if n := len(quiz.Quiz.Questions); n != 3 || quiz.Quiz.Questions[2].Type != course.Numerical {
		t.Fatalf("the quiz has %d questions: %+v", n, quiz.Quiz.Questions)
	}
	step("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("username")))

	in := publish.NewInput(c.ID)
	in.ActivityID = quiz.ID
	res := inst.Publish(t, in)
	spec := ltitest.LaunchSpec{
		User:         &ltitest.User{Sub: "stella", Name: "Stella Student", Email: "stella@school.example"},
		Roles:        []string{ltitest.RoleLearner},
		Context:      &ltitest.Context{ID: "platform-physics", Title: "Physics at the platform"},
		ResourceLink: &ltitest.ResourceLink{ID: "forces-link"},
		Custom:       map[string]string{"id": res.UUID},
		AGS:          &ltitest.AGS{},
	}
	launch, err := p.LaunchPageURL(spec)
	if err != nil {
		t.Fatal(err)
	}
	step("the student takes the quiz",
		chromedp.Navigate(launch), chromedp.WaitVisible(chromedp.ID("quiz-form")),
		chromedp.Click(chromedp.ID("q_unit_0")),
		chromedp.Click(chromedp.ID("q_g_true")),
		chromedp.SendKeys(chromedp.ID("q_speed"), "75"),
		chromedp.Click(chromedp.ID("submit-quiz")), chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash"))); !strings.Contains(flash, "2 / 3") {
		t.Fatalf("after the attempt: %q", flash)
	}
	waitScore := func(want float64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			for _, li := range p.LineItems("platform-physics") {
				if s, ok := p.LatestScore(li.ID, "stella"); ok && s.ScoreGiven != nil && *s.ScoreGiven == want && s.GradingProgress == "FullyGraded" {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the platform never received %v: line items %+v", want, p.LineItems("platform-physics"))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitScore(2)
	// The student's launch left their session in this browser: start afresh as the teacher.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatalf("clear the student's cookies: %v", err)
	}

	signIn()
	step("fix the numerical answer",
		chromedp.Navigate(base+"/speed/edit"), chromedp.WaitVisible(chromedp.ID("question-form")),
		chromedp.SetValue(chromedp.ID("row-text-0"), "75"),
		chromedp.Click(chromedp.ID("save-question")), chromedp.WaitVisible(chromedp.ID("question-list")),
	)
	step("regrade",
		chromedp.Navigate(fmt.Sprintf("%s/activities/%d/attempts", inst.URL, quiz.ID)), chromedp.WaitVisible(chromedp.ID("regrade")),
		chromedp.Click(chromedp.ID("regrade")), chromedp.WaitVisible(chromedp.CSS(".flash")),
	)
	if flash, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".flash"))); !strings.Contains(flash, "1 attempt and 1 grade changed") {
		t.Fatalf("after the regrade: %q", flash)
	}
	waitScore(3)
	browsertest.Screenshot(t, ctx, "authoring-regraded")
	t.Logf("editor, attempt, regrade and sync took %s", time.Since(start).Round(time.Millisecond))
}
