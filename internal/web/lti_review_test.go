package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// TestSubmissionReview: a learner takes the quiz from the platform; the teacher opens that learner's attempt from
// the platform's gradebook (an LtiSubmissionReviewRequest from the reference platform, offered because the column's
// line item declares submissionReview) and sees it, and only it: every other page of the site, and other learners'
// reviews, are refused. A learner with no attempt gets a clear page; a learner sending the message is refused.
func TestSubmissionReview(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	ctx := context.Background()
	in := publish.NewInput(w.course.ID)
	in.ActivityID, in.TeacherMode, in.Name = w.quiz.ID, publish.ModeAuto, "Solar System quiz"
	r := w.publish(t, in)
	// The gradebook column, as ltipub declares the line items it creates (publish.SubmissionReview).
	sr := publish.SubmissionReview(r, w.quiz)
	if sr == nil || sr.Label == "" {
		t.Fatalf("a quiz's line items declare no submission review: %+v", sr)
	}
	lineItem := w.p.AddLineItem("client-1", "platform-course-1", ltitest.LineItem{Label: r.Name, ScoreMaximum: w.quiz.MaxGrade,
		ResourceID: r.UUID, Tag: "grade", SubmissionReview: &ltitest.SubmissionReview{Label: sr.Label}})

	// Learner 1 takes the quiz through the platform.
	learner := w.browser(t)
	ls := spec("learner-1", false, r)
	ls.AGS = &ltitest.AGS{LineItemURL: lineItem}
	if land := learner.launch(ls); land.StatusCode != http.StatusOK || !strings.Contains(land.Body, w.quiz.Name) {
		t.Fatalf("learner launch: %d %s", land.StatusCode, land.Body)
	}
	res := learner.post(fmt.Sprintf("/activities/%d/attempts", w.quiz.ID), url.Values{"q_closest": {"1"}, "q_giants": {"0", "2"}, "q_star": {"Sol"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit the attempt: %d %s", res.StatusCode, res.Body)
	}
	learner1, _ := w.linkedUser(t, "learner-1")
	// Learner 2 opens the quiz and leaves without an attempt.
	l2 := spec("learner-2", false, r)
	if land := w.browser(t).launch(l2); land.StatusCode != http.StatusOK {
		t.Fatalf("learner 2 launch: %d %s", land.StatusCode, land.Body)
	}
	learner2, _ := w.linkedUser(t, "learner-2")

	// The teacher reviews learner 1's attempt from the gradebook.
	teacher := w.browser(t)
	review := ltitest.ReviewSpec(spec("teacher-1", true, r), ltitest.User{Sub: "learner-1", Name: "Person learner-1"}, lineItem)
	page := teacher.launch(review)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("review launch: %d %s", page.StatusCode, page.Body)
	}
	for _, want := range []string{"Review: " + w.quiz.Name, learner1.FullName, "Attempt 1", "“Sol”", "grade 10 / 10"} {
		if !strings.Contains(page.Body, want) {
			t.Fatalf("review page lacks %q:\n%s", want, page.Body)
		}
	}
	// Contained to that attempt: the quiz itself, its attempts list, the course, another learner's review, the
	// dashboard are all refused.
	for _, path := range []string{
		fmt.Sprintf("/activities/%d", w.quiz.ID),
		fmt.Sprintf("/activities/%d/attempts", w.quiz.ID),
		fmt.Sprintf("/courses/%d", w.course.ID),
		fmt.Sprintf("/courses/%d/grades", w.course.ID),
		launch.ReviewPath(w.quiz.ID, learner2.ID),
		"/",
	} {
		if got := teacher.get(path); got.StatusCode != http.StatusForbidden || !strings.Contains(got.Body, "Not part of what you launched") {
			t.Errorf("%s from a review session: %d, want 403", path, got.StatusCode)
		}
	}
	if again := teacher.get(launch.ReviewPath(w.quiz.ID, learner1.ID)); again.StatusCode != http.StatusOK || !strings.Contains(again.Body, "Attempt 1") {
		t.Fatalf("the review page itself: %d", again.StatusCode)
	}

	// No attempt yet: learner 2 opened the quiz without answering; learner 3 never came.
	for _, tc := range []struct{ sub, want string }{
		{"learner-2", "has not submitted an attempt"},
		{"learner-3", "has not opened " + w.quiz.Name},
	} {
		page := w.browser(t).launch(ltitest.ReviewSpec(spec("teacher-1", true, r), ltitest.User{Sub: tc.sub}, lineItem))
		if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "No attempt yet") || !strings.Contains(page.Body, tc.want) {
			t.Fatalf("review of %s: %d %s", tc.sub, page.StatusCode, page.Body)
		}
	}

	// A learner cannot send a review: refused with its reason, no session.
	before := w.inst.SessionCount(t)
	bad := ltitest.ReviewSpec(spec("learner-2", false, r), ltitest.User{Sub: "learner-1"}, lineItem)
	got := w.browser(t).launch(bad)
	if got.StatusCode != http.StatusForbidden || !strings.Contains(got.Body, "not instructor or teaching assistant roles") {
		t.Fatalf("learner's review: %d %s", got.StatusCode, got.Body)
	}
	if w.inst.SessionCount(t) != before {
		t.Fatal("a refused review started a session")
	}
	log, _ := w.inst.Store.LaunchLog(ctx, launch.LogFilter{})
	var reviews, refused int
	for _, e := range log {
		if e.MessageType == "LtiSubmissionReviewRequest" && e.Outcome == launch.Accepted {
			reviews++
		}
		if e.Outcome == launch.Refused && e.Code == "role_not_allowed" {
			refused++
		}
	}
	if reviews != 3 || refused != 1 {
		t.Fatalf("launch log: %d reviews accepted, %d refused for the role; want 3 and 1", reviews, refused)
	}
}

// TestSubmissionReviewOnlyWhereDeclared: the reference platform, like a real gradebook, offers no review of a
// column whose line item does not declare submissionReview.
func TestSubmissionReviewOnlyWhereDeclared(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	plain := w.p.AddLineItem("client-1", "platform-course-1", ltitest.LineItem{Label: "No review", ScoreMaximum: 10})
	_, err := w.p.LoginInitiation(ltitest.ReviewSpec(spec("teacher-1", true, w.quizR), ltitest.User{Sub: "learner-1"}, plain))
	if err == nil || !strings.Contains(err.Error(), "declares no submissionReview") {
		t.Fatalf("review of a plain column: %v", err)
	}
}

// TestSubmissionReviewOfAssignment: the reviewer of an assignment first chooses an account (the resource's teacher
// provisioning prompts), then lands on the learner's submission, whose text and file links are there; the file is
// reachable from the review session, other pages are not.
func TestSubmissionReviewOfAssignment(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	assignment := apptestActivity(t, w, "assignment")
	in := publish.NewInput(w.course.ID)
	in.ActivityID, in.Name = assignment.ID, "Observation report" // teachers: prompt (the default)
	r := w.publish(t, in)
	lineItem := w.p.AddLineItem("client-1", "platform-course-1", ltitest.LineItem{Label: r.Name, ScoreMaximum: 20,
		SubmissionReview: &ltitest.SubmissionReview{Label: publish.SubmissionReview(r, assignment).Label}})

	learner := w.browser(t)
	if land := learner.launch(spec("learner-9", false, r)); land.StatusCode != http.StatusOK {
		t.Fatalf("learner launch: %d", land.StatusCode)
	}
	if res := learner.post(fmt.Sprintf("/activities/%d/submission", assignment.ID), url.Values{"text": {"The Moon waxed from a crescent to half."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("submit: %d %s", res.StatusCode, res.Body)
	}

	reviewer := w.browser(t)
	page := reviewer.launch(ltitest.ReviewSpec(spec("teacher-9", true, r), ltitest.User{Sub: "learner-9"}, lineItem))
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "Your account") {
		t.Fatalf("the prompting mode should ask the reviewer first: %d %s", page.StatusCode, page.Body)
	}
	res := reviewer.post("/launch/account/new", nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/review/") {
		t.Fatalf("after the account choice: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	review := reviewer.get(res.Header.Get("Location"))
	if review.StatusCode != http.StatusOK || !strings.Contains(review.Body, "The Moon waxed from a crescent to half.") {
		t.Fatalf("review of the submission: %d %s", review.StatusCode, review.Body)
	}
	if got := reviewer.get(fmt.Sprintf("/activities/%d", assignment.ID)); got.StatusCode != http.StatusForbidden {
		t.Fatalf("the assignment page from a review session: %d", got.StatusCode)
	}
}

func apptestActivity(t *testing.T, w *world, typ string) course.Activity {
	t.Helper()
	acts, err := w.inst.Store.ListActivities(context.Background(), w.course.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range acts {
		if string(a.Type) == typ {
			return a
		}
	}
	t.Fatalf("the example course has no %s", typ)
	return course.Activity{}
}
