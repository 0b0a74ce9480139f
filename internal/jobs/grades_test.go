package jobs_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/ltitest"
)

func TestGradeSyncCoupled(t *testing.T) {
	t.Parallel()
	for _, engine := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOpts{engine: engine})
			li := e.p.AddLineItem("client-1", "ctx-1", ltitest.LineItem{Label: "Essay", ScoreMaximum: 20, ResourceLinkID: "rl-1"})
			l := e.link(e.activity, "rl-1", "ctx-1", li, true)
			ada, bob := e.student("sub-ada", e.activity, l), e.student("sub-bob", e.activity, l)
			gAda := e.grade(ada, e.act, 17.5, "Clear argument")
			e.grade(bob, e.act, 9, "")

			run := e.syncGrades(e.activity.ID)
			if run.Sent != 2 || run.Failed != 0 || run.Status != "ok" || run.Links != 1 {
				t.Fatalf("run %+v", run)
			}
			rec, ok := e.p.LatestScore(li, "sub-ada")
			if !ok {
				t.Fatal("no score for ada")
			}
			// Field by field, as the platform parsed them.
			if *rec.ScoreGiven != 17.5 || *rec.ScoreMaximum != 20 || rec.Comment != "Clear argument" ||
				rec.ActivityProgress != "Completed" || rec.GradingProgress != "FullyGraded" || rec.UserID != "sub-ada" ||
				!rec.Timestamp.Equal(gAda.ModifiedAt) {
				t.Fatalf("score %+v (grade time %v)", rec, gAda.ModifiedAt)
			}
			var raw map[string]any
			if err := json.Unmarshal(rec.Raw, &raw); err != nil || len(raw) != 7 {
				t.Fatalf("raw score %s", rec.Raw)
			}
			if rec, _ := e.p.LatestScore(li, "sub-bob"); *rec.ScoreGiven != 9 || rec.Comment != "" {
				t.Fatalf("bob %+v", rec)
			}

			// Idempotent: nothing changed, nothing sent.
			if run := e.syncGrades(0); run.Sent != 0 {
				t.Fatalf("second run sent %d", run.Sent)
			}
			if n := len(e.p.Scores(li)); n != 2 {
				t.Fatalf("platform got %d scores, want 2", n)
			}

			// An updated grade is sent again, with a later timestamp.
			time.Sleep(5 * time.Millisecond)
			e.grade(ada, e.act, 19, "Better")
			if run := e.syncGrades(0); run.Sent != 1 {
				t.Fatalf("after update sent %d", run.Sent)
			}
			rec2, _ := e.p.LatestScore(li, "sub-ada")
			if *rec2.ScoreGiven != 19 || rec2.Comment != "Better" || !rec2.Timestamp.After(rec.Timestamp) {
				t.Fatalf("updated %+v", rec2)
			}

			// An ungraded submission is Submitted / Pending, without a score.
			cy := e.student("sub-cy", e.activity, l)
			if _, err := e.inst.App.Courses.SubmitAssignment(e.ctx, &cy, e.act.ID, "my essay"); err != nil {
				t.Fatal(err)
			}
			if run := e.syncGrades(0); run.Sent != 1 {
				t.Fatalf("submission: sent %d", run.Sent)
			}
			if rec, _ := e.p.LatestScore(li, "sub-cy"); rec.ScoreGiven != nil || rec.GradingProgress != "Pending" || rec.ActivityProgress != "Submitted" {
				t.Fatalf("pending %+v", rec)
			}
			if run := e.syncGrades(0); run.Sent != 0 {
				t.Fatalf("pending re-sent: %d", run.Sent)
			}
		})
	}
}

func TestGradeSyncDecoupledAndCourseTotal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	ctx := e.ctx
	// No coupled line item: the tool creates one in the container, by resourceId, once.
	l := e.link(e.activity, "rl-2", "ctx-2", "", true)
	ada := e.student("sub-ada", e.activity, l)
	e.grade(ada, e.act, 15, "")
	if run := e.syncGrades(0); run.Sent != 1 {
		t.Fatalf("run %+v", run)
	}
	items := e.p.LineItems("ctx-2")
	if len(items) != 1 || items[0].ResourceID != e.activity.UUID || items[0].ScoreMaximum != 20 || items[0].Label != "Essay" ||
		items[0].ResourceLinkID != "rl-2" || items[0].Tag != "grade" {
		t.Fatalf("line items %+v", items)
	}
	// An assignment's column lets the gradebook open the submission in ltipub (LtiSubmissionReviewRequest).
	if sr := items[0].SubmissionReview; sr == nil || sr.Label != "Open the submission in ltipub" {
		t.Fatalf("the created line item declares no submission review: %+v", items[0].SubmissionReview)
	}
	if rec, ok := e.p.LatestScore(items[0].ID, "sub-ada"); !ok || *rec.ScoreGiven != 15 {
		t.Fatalf("score %+v", rec)
	}

	// A line item the platform already has for the resource is found, not duplicated.
	found := e.p.AddLineItem("client-1", "ctx-3", ltitest.LineItem{Label: "Made by hand", ScoreMaximum: 20, ResourceID: e.activity.UUID})
	l3 := e.link(e.activity, "rl-3", "ctx-3", "", true)
	bo := e.student("sub-bo", e.activity, l3)
	e.grade(bo, e.act, 12, "")
	e.syncGrades(0)
	if n := len(e.p.LineItems("ctx-3")); n != 1 {
		t.Fatalf("ctx-3 has %d line items", n)
	}
	if _, ok := e.p.LatestScore(found, "sub-bo"); !ok {
		t.Fatal("score not in the found line item")
	}

	// The line item is deleted in the platform's gradebook: the next change re-creates it and sends everything again.
	tok := e.p.IssueAccessToken("client-1", lti.ScopeLineItem)
	req, _ := http.NewRequest(http.MethodDelete, items[0].ID, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete line item: %v %v", resp, err)
	}
	time.Sleep(2 * time.Millisecond)
	e.grade(ada, e.act, 16, "")
	if run := e.syncGrades(0); run.Sent != 1 || run.Failed != 0 {
		t.Fatalf("after delete: %+v", run)
	}
	items = e.p.LineItems("ctx-2")
	if len(items) != 1 {
		t.Fatalf("re-created line items %+v", items)
	}
	if rec, ok := e.p.LatestScore(items[0].ID, "sub-ada"); !ok || *rec.ScoreGiven != 16 {
		t.Fatalf("score after re-creation %+v", rec)
	}

	// The whole course published: the course total out of 100, over the visible graded activities.
	quiz, err := e.inst.App.Courses.CreateActivity(ctx, &e.admin, e.course.ID, course.ActivityInput{Type: course.TypeAssignment, Name: "Lab", Visible: true, MaxGrade: 10})
	if err != nil {
		t.Fatal(err)
	}
	lc := e.link(e.whole, "rl-course", "ctx-4", "", true)
	cy := e.student("sub-cy", e.whole, lc)
	e.grade(cy, e.act, 10, "half")
	run := e.syncGrades(e.whole.ID)
	li := e.p.LineItems("ctx-4")
	if run.Sent != 1 || len(li) != 1 || li[0].ScoreMaximum != 100 || li[0].Label != "Physics" {
		t.Fatalf("course run %+v, items %+v", run, li)
	}
	rec, _ := e.p.LatestScore(li[0].ID, "sub-cy")
	if *rec.ScoreGiven != 50 || *rec.ScoreMaximum != 100 || rec.ActivityProgress != "InProgress" || rec.Comment != "" {
		t.Fatalf("course total %+v", rec)
	}
	time.Sleep(2 * time.Millisecond)
	e.grade(cy, quiz, 10, "")
	e.syncGrades(e.whole.ID)
	rec, _ = e.p.LatestScore(li[0].ID, "sub-cy")
	if *rec.ScoreGiven != 75 || rec.ActivityProgress != "Completed" {
		t.Fatalf("course total after second grade %+v", rec)
	}
	if run := e.syncGrades(e.whole.ID); run.Sent != 0 {
		t.Fatalf("course total re-sent: %+v", run)
	}
}

func TestGradeSyncFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	li := e.p.AddLineItem("client-1", "ctx-1", ltitest.LineItem{Label: "Essay", ScoreMaximum: 20})
	l := e.link(e.activity, "rl-1", "ctx-1", li, true)
	var users []account.User
	for i := range 3 {
		users = append(users, e.student(fmt.Sprintf("sub-%d", i), e.activity, l))
	}
	change := func(u account.User, v float64) {
		time.Sleep(2 * time.Millisecond)
		e.grade(u, e.act, v, "")
	}
	change(users[0], 1)
	e.syncGrades(0)
	tokens := len(e.p.TokenRequests())
	if tokens != 1 {
		t.Fatalf("%d token requests", tokens)
	}

	// The platform expired the token: one 401, one new token, the score goes through.
	e.p.ExpireTokens()
	change(users[0], 2)
	if run := e.syncGrades(0); run.Sent != 1 || len(e.p.TokenRequests()) != 2 {
		t.Fatalf("after expiry: %+v, %d token requests", run, len(e.p.TokenRequests()))
	}
	// The token lives in the database: another service (instance) reuses it.
	other := e.newService(nil)
	change(users[0], 3)
	if run, err := other.SyncGrades(e.ctx, jobs.CauseManual, 0, 0); err != nil || run.Sent != 1 || len(e.p.TokenRequests()) != 2 {
		t.Fatalf("other instance: %+v %v, %d token requests", run, err, len(e.p.TokenRequests()))
	}

	// 429 with Retry-After, then 500: retried in place, and sent.
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultTooManyRequests, RetryAfter: 1})
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultServerError})
	change(users[1], 5)
	start := time.Now()
	if run := e.syncGrades(0); run.Sent != 1 || time.Since(start) < time.Second {
		t.Fatalf("429/500: %+v after %v", run, time.Since(start))
	}
	if rec, _ := e.p.LatestScore(li, "sub-1"); *rec.ScoreGiven != 5 {
		t.Fatalf("score %+v", rec)
	}

	// A long Retry-After: the job gives up for now with a retryable error carrying the wait (River snoozes it).
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultTooManyRequests, RetryAfter: 120, Count: -1})
	change(users[2], 7)
	run, err := e.svc.SyncGrades(e.ctx, jobs.CauseManual, 0, 0)
	if d, ok := lti.RetryAfter(err); !lti.Retryable(err) || !ok || d != 120*time.Second || run.Status != "failed" {
		t.Fatalf("long 429: %v, run %+v", err, run)
	}
	e.p.ClearFaults()
	if run := e.syncGrades(0); run.Sent != 1 {
		t.Fatalf("after the outage: %+v", run)
	}

	// The platform refuses a score (400): recorded with its message, the others still go.
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultStatus, Status: 400, Body: `{"error":"Incorrect score received","error_description":"user not enrolled"}`})
	change(users[0], 8)
	change(users[1], 8)
	run = e.syncGrades(0)
	if run.Sent != 1 || run.Failed != 1 || run.Status != "partial" || !strings.Contains(run.Error, "user not enrolled") {
		t.Fatalf("400: %+v", run)
	}
	// The refused one is pending still, and goes when the platform accepts it.
	if run := e.syncGrades(0); run.Sent != 1 {
		t.Fatalf("retry of the refused score: %+v", run)
	}

	// The token endpoint refuses (the platform no longer allows the score scope): the run says why.
	if err := e.p.RegisterTool(ltitest.ToolConfig{ClientID: "client-1", DeploymentIDs: []string{"deployment-1"}, LoginURL: e.inst.URL + "/lti/login",
		RedirectURIs: []string{e.inst.URL + "/lti/launch"}, JWKSURL: e.inst.URL + "/lti/jwks", Scopes: []string{lti.ScopeMembership}}); err != nil {
		t.Fatal(err)
	}
	e.p.ExpireTokens()
	change(users[2], 9)
	run, _ = e.svc.SyncGrades(e.ctx, jobs.CauseManual, 0, 0)
	if run.Status != "failed" || !strings.Contains(run.Error, "invalid_scope") {
		t.Fatalf("token refused: %+v", run)
	}
	runs, err := e.svc.Runs(e.ctx, jobs.KindGrades, 1)
	if err != nil || len(runs) != 1 || runs[0].ID != run.ID || !strings.Contains(runs[0].Error, "invalid_scope") {
		t.Fatalf("recorded runs %+v, %v", runs, err)
	}

	// The registration is deleted while a sync is queued: its links go with it, and the run has nothing to do.
	if err := e.inst.Store.DeleteRegistration(e.ctx, e.reg.ID); err != nil {
		t.Fatal(err)
	}
	if run := e.syncGrades(0); run.Links != 0 || run.Status != "ok" {
		t.Fatalf("after the registration went: %+v", run)
	}
}
