package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// A grade recorded in ltipub reaches the platform within seconds, through the debounced job.
func TestGradeChangeReachesPlatformSoon(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{startJobs: true})
	li := e.p.AddLineItem("client-1", "ctx-1", ltitest.LineItem{Label: "Essay", ScoreMaximum: 20})
	l := e.link(e.activity, "rl-1", "ctx-1", li, true)
	ada := e.student("sub-ada", e.activity, l)
	start := time.Now()
	e.grade(ada, e.act, 11, "ok")
	time.Sleep(10 * time.Millisecond)
	e.grade(ada, e.act, 12, "better") // same debounce window: one job
	eventually(t, 15*time.Second, "the score on the platform", func() bool {
		rec, ok := e.p.LatestScore(li, "sub-ada")
		return ok && *rec.ScoreGiven == 12
	})
	t.Logf("grade reached the platform after %v", time.Since(start).Round(time.Millisecond))
	// The platform has the score a moment before the run that sent it records its end; the start-up catch-up
	// run may be listed beside it.
	var runs []jobs.Run
	var change jobs.Run
	eventually(t, 15*time.Second, "the grade change's run to record its end", func() bool {
		var err error
		if runs, err = e.inst.App.Jobs.Runs(e.ctx, jobs.KindGrades, 10); err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Cause == jobs.CauseChange && r.Status != jobs.StatusRunning {
				change = r
				return true
			}
		}
		return false
	})
	if change.Sent != 1 {
		t.Fatalf("the grade change's run sent %d: runs %+v", change.Sent, runs)
	}
	if n := len(e.p.Scores(li)); n != 1 {
		t.Fatalf("%d scores posted, want 1 (debounced)", n)
	}
	// Run now from the queue (the admin button and the CLI use this).
	e.p.SetMembers("ctx-1", nil)
	id, err := e.inst.App.Jobs.RunNow(e.ctx, jobs.KindGrades, 0)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the queued run to complete", func() bool {
		st, err := e.inst.App.Jobs.JobState(e.ctx, id)
		return err == nil && st == "completed"
	})
}

// Two instances on one PostgreSQL database: each period's sync runs once, on whichever instance leads, and a
// grade change on either instance is sent by whichever picks the job up.
func TestTwoInstancesPeriodicRunsOnce(t *testing.T) {
	t.Parallel()
	const every = 2 * time.Second
	configure := func(c *config.Config) { c.GradeSyncInterval = every; c.JobPollInterval = 100 * time.Millisecond }
	e := newEnv(t, envOpts{engine: sqlstore.Postgres, startJobs: true, configure: configure})
	second := apptest.Start(t, apptest.Options{DSN: e.inst.DSN, Jobs: true, Configure: configure})
	li := e.p.AddLineItem("client-1", "ctx-1", ltitest.LineItem{Label: "Essay", ScoreMaximum: 20})
	l := e.link(e.activity, "rl-1", "ctx-1", li, true)
	ada := e.student("sub-ada", e.activity, l)

	periodic := func() []jobs.Run {
		runs, err := e.inst.App.Jobs.Runs(e.ctx, jobs.KindGrades, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []jobs.Run
		for _, r := range runs {
			if r.Cause == jobs.CausePeriodic {
				out = append(out, r)
			}
		}
		return out
	}
	// Leader election takes 3–6 s, then a run every 2 s.
	eventually(t, 40*time.Second, "three periodic runs", func() bool { return len(periodic()) >= 3 })
	runs := periodic()
	for i := 1; i < len(runs); i++ {
		newer, older := runs[i-1], runs[i]
		if gap := newer.StartedAt.Sub(older.StartedAt); gap < every*3/4 {
			t.Fatalf("two periodic runs %v apart (want one per %v): %+v and %+v", gap, every, older, newer)
		}
	}
	// A grade change on the second instance reaches the platform.
	if _, err := second.App.Courses.GradeSubmission(context.Background(), &second.Admin, e.act.ID, ada.ID, 14, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the score", func() bool {
		rec, ok := e.p.LatestScore(li, "sub-ada")
		return ok && *rec.ScoreGiven == 14
	})
}

// A restart in the middle of a grade sync loses nothing: scores the platform confirmed are marked, the rest are
// sent by the next run on the new process, and every grade ends on the platform exactly as it is.
func TestRestartMidGradeSyncLosesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	li := e.p.AddLineItem("client-1", "ctx-1", ltitest.LineItem{Label: "Essay", ScoreMaximum: 20})
	l := e.link(e.activity, "rl-1", "ctx-1", li, true)
	const n = 300
	want := map[string]float64{}
	for i := range n {
		sub := fmt.Sprintf("sub-%03d", i)
		u := e.student(sub, e.activity, l)
		v := float64(i % 21)
		e.grade(u, e.act, v, "")
		want[sub] = v
	}
	// Slow the platform down so that the stop lands in the middle of the run.
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultSlow, Delay: 5 * time.Millisecond, Count: -1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan jobs.Run)
	go func() {
		run, _ := e.svc.SyncGrades(ctx, jobs.CausePeriodic, 0, 0)
		done <- run
	}()
	eventually(t, 20*time.Second, "some scores", func() bool { return len(e.p.Scores(li)) >= n/3 })
	cancel()
	first := <-done
	e.svc.Close()
	e.inst.Close() // the server stops between two runs
	got := len(e.p.Scores(li))
	if got >= n {
		t.Fatalf("the run finished before the stop (%d scores); slow the platform more", got)
	}
	t.Logf("first run confirmed %d scores before the stop, the platform had %d", first.Sent, got)
	e.p.ClearFaults()

	again := apptest.Start(t, apptest.Options{DSN: e.inst.DSN})
	e2 := *e
	e2.inst = again
	svc := e2.newService(nil)
	run, err := svc.SyncGrades(context.Background(), jobs.CausePeriodic, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if run.Sent+first.Sent < n {
		t.Fatalf("sent %d + %d < %d", first.Sent, run.Sent, n)
	}
	for sub, v := range want {
		rec, ok := e.p.LatestScore(li, sub)
		if !ok || *rec.ScoreGiven != v {
			t.Fatalf("%s: platform has %+v, want %v", sub, rec, v)
		}
	}
	if run, _ := svc.SyncGrades(context.Background(), jobs.CausePeriodic, 0, 0); run.Sent != 0 {
		t.Fatalf("third run sent %d", run.Sent)
	}
}
