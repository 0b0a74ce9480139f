package jobs_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/store/sqlstore"
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
