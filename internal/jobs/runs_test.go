package jobs_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// holdScore lets the first `pass` AGS requests through and holds the next one until release is called (at the
// latest when the test ends, so that a failed test does not leave the request held).
func holdScore(t *testing.T, p *ltitest.Platform, pass int) (release func(), arrived chan struct{}) {
	held := make(chan struct{})
	arrived = make(chan struct{}, 1)
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	t.Cleanup(release)
	if pass > 0 { // a Count of 0 means 1
		p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultSlow, Delay: time.Nanosecond, Count: pass})
	}
	p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultSlow, Until: held, Arrived: arrived})
	return release, arrived
}

// runningGrades is the grade run the Sync page shows running, if any.
func runningGrades(t *testing.T, st statusJSON) (id int64, sent int, ok bool) {
	t.Helper()
	for _, r := range st.Runs[string(jobs.KindGrades)] {
		if r.Status == jobs.StatusRunning {
			return r.ID, r.Sent, true
		}
	}
	return 0, 0, false
}

// A grade run held by the platform mid-sync shows the scores it already sent on the Sync page's status, and the
// final counts once it is let go.
func TestGradeSyncShowsLiveProgress(t *testing.T) {
	t.Parallel()
	const n = 12
	e := newEnv(t, envOpts{})
	svc := e.newService(func(c *jobs.Config) { patientHTTP(c); c.RunHeartbeat = 100 * time.Millisecond })
	li := e.p.AddLineItem("client-1", "ctx-1", ltitest.LineItem{Label: "Essay", ScoreMaximum: 20, ResourceLinkID: "rl-1"})
	l := e.link(e.activity, "rl-1", "ctx-1", li, true)
	for i := range n {
		e.grade(e.student(fmt.Sprintf("sub-%02d", i), e.activity, l), e.act, float64(i), "")
	}
	release, arrived := holdScore(t, e.p, 3)
	type result struct {
		run jobs.Run
		err error
	}
	done := make(chan result, 1)
	// The CLI's --wait prints what the progress callback gets.
	var mu sync.Mutex
	var told jobs.Run
	go func() {
		run, err := svc.SyncGradesProgress(e.ctx, jobs.CauseManual, e.activity.ID, func(r jobs.Run) {
			mu.Lock()
			told = r
			mu.Unlock()
		})
		done <- result{run, err}
	}()
	waitChan(t, arrived, "the held score request")
	c := e.inst.Client(t)
	e.inst.Login(t, c, "admin", apptest.AdminPassword)
	// Every score but the held one goes through (the other senders go on); the run waits for the held one.
	var sent int
	eventually(t, 30*time.Second, "status.json to show the scores sent so far", func() bool {
		st := syncStatus(t, e, c)
		_, s, ok := runningGrades(t, st)
		sent = s
		return ok && st.Running && s == n-1
	})
	eventually(t, 10*time.Second, "the progress callback to get the same counts", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return told.Sent == n-1 && told.Status == jobs.StatusRunning && told.Links == 1
	})
	if got := len(e.p.Scores(li)); got != sent {
		t.Fatalf("status shows %d sent, the platform holds %d", sent, got)
	}
	select {
	case r := <-done:
		t.Fatalf("the run ended while a request was held: %+v %v", r.run, r.err)
	default:
	}
	release()
	r := <-done
	if r.err != nil || r.run.Status != jobs.StatusOK || r.run.Sent != n {
		t.Fatalf("run %+v %v", r.run, r.err)
	}
	st := syncStatus(t, e, c)
	if _, _, ok := runningGrades(t, st); ok {
		t.Fatalf("still running after the end: %+v", st)
	}
}

// Runs a dead instance left "running" are marked interrupted once their heartbeat is older than the bound, and
// a member run gets a catch-up member sync; a run alive on another instance, held by the platform for longer
// than the bound, keeps running, because its heartbeat goes on.
func TestStaleRunsAreMarkedInterrupted(t *testing.T) {
	t.Parallel()
	for _, engine := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envOpts{engine: engine})
			// The bound is ten heartbeats (5 s): room for a heartbeat write that a loaded machine delays by
			// seconds (CI's race step on SQLite, where writes queue on the one writer connection, missed 2.5 s).
			const beat = 500 * time.Millisecond
			live := e.newService(func(c *jobs.Config) { patientHTTP(c); c.RunHeartbeat = beat })
			li := e.p.AddLineItem("client-1", "ctx-1", ltitest.LineItem{Label: "Essay", ScoreMaximum: 20, ResourceLinkID: "rl-1"})
			l := e.link(e.activity, "rl-1", "ctx-1", li, true)
			e.grade(e.student("sub-ada", e.activity, l), e.act, 12, "")
			release, arrived := holdScore(t, e.p, 0)
			done := make(chan error, 1)
			go func() {
				_, err := live.SyncGrades(e.ctx, jobs.CauseManual, e.activity.ID, 0)
				done <- err
			}()
			waitChan(t, arrived, "the held score request")

			// What a killed instance leaves: runs "running", their last heartbeat an hour ago (they end there).
			old := time.Now().Add(-time.Hour).UTC()
			deadGrades := jobs.Run{Kind: jobs.KindGrades, Cause: jobs.CausePeriodic, Status: jobs.StatusRunning, StartedAt: old}
			deadMembers := jobs.Run{Kind: jobs.KindMembers, Cause: jobs.CauseManual, ResourceID: e.whole.ID, Status: jobs.StatusRunning, StartedAt: old}
			for _, r := range []*jobs.Run{&deadGrades, &deadMembers} {
				if err := e.inst.Store.StartRun(e.ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			var liveRun jobs.Run
			eventually(t, 30*time.Second, "the live run to outlast the bound", func() bool {
				runs, err := e.inst.Store.Runs(e.ctx, jobs.KindGrades, 5)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range runs {
					if r.ID != deadGrades.ID && r.Status == jobs.StatusRunning {
						liveRun = r
						// Held longer than the bound, with a heartbeat saved since.
						return time.Since(r.StartedAt) > 20*beat && r.UpdatedAt.Sub(r.StartedAt) > 12*beat
					}
				}
				return false
			})

			// Another instance sweeps (as it does at start and every other heartbeat).
			other := e.newService(func(c *jobs.Config) { c.RunHeartbeat = beat })
			if err := other.Migrate(e.ctx); err != nil {
				t.Fatal(err)
			}
			if err := other.InterruptStaleRuns(e.ctx); err != nil {
				t.Fatal(err)
			}
			for _, dead := range []jobs.Run{deadGrades, deadMembers} {
				got, err := e.inst.Store.Run(e.ctx, dead.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != jobs.StatusInterrupted || !strings.Contains(got.Note, "stopped mid-run") ||
					!strings.Contains(got.Note, "catch-up") || !got.FinishedAt.Equal(old.Truncate(time.Microsecond)) {
					t.Fatalf("dead %s run: %+v", dead.Kind, got)
				}
			}
			if got, err := e.inst.Store.Run(e.ctx, liveRun.ID); err != nil || got.Status != jobs.StatusRunning {
				t.Fatalf("the live run was touched: %+v %v", got, err)
			}
			// The Sync page says so.
			c := e.inst.Client(t)
			e.inst.Login(t, c, "admin", apptest.AdminPassword)
			if page := e.inst.Get(t, c, "/admin/sync"); strings.Count(page.Body, `<td class="status-interrupted">interrupted</td>`) != 2 ||
				!strings.Contains(page.Body, "stopped mid-run") || !strings.Contains(page.Body, `class="status-running">running`) {
				t.Fatalf("Sync page: %s", page.Body)
			}
			// The interrupted member run's resource gets a catch-up member sync.
			var queued int
			if err := e.inst.Store.DB().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'member_sync'
				AND state = 'available'`).Scan(&queued); err != nil || queued != 1 {
				t.Fatalf("catch-up member syncs queued: %d %v", queued, err)
			}
			// Sweeping again changes nothing and queues nothing more.
			if err := other.InterruptStaleRuns(e.ctx); err != nil {
				t.Fatal(err)
			}
			if err := e.inst.Store.DB().QueryRowContext(e.ctx, `SELECT COUNT(*) FROM river_job WHERE kind = 'member_sync'`).Scan(&queued); err != nil || queued != 1 {
				t.Fatalf("member syncs queued after a second sweep: %d %v", queued, err)
			}

			release()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if got, err := e.inst.Store.Run(e.ctx, liveRun.ID); err != nil || got.Status != jobs.StatusOK || got.Sent != 1 {
				t.Fatalf("the live run: %+v %v", got, err)
			}
		})
	}
}

// A job River rescued marks the runs its earlier attempt left running, and only those; a run that finished
// keeps its record.
func TestRescuedJobMarksItsRuns(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOpts{})
	now := time.Now().UTC()
	mine := jobs.Run{Kind: jobs.KindGrades, Cause: jobs.CausePeriodic, JobID: 42, Status: jobs.StatusRunning, StartedAt: now}
	other := jobs.Run{Kind: jobs.KindGrades, Cause: jobs.CausePeriodic, JobID: 43, Status: jobs.StatusRunning, StartedAt: now}
	done := jobs.Run{Kind: jobs.KindGrades, Cause: jobs.CausePeriodic, JobID: 42, Status: jobs.StatusRunning, StartedAt: now}
	for _, r := range []*jobs.Run{&mine, &other, &done} {
		if err := e.inst.Store.StartRun(e.ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	done.Status, done.FinishedAt = jobs.StatusOK, now
	if err := e.inst.Store.FinishRun(e.ctx, done); err != nil {
		t.Fatal(err)
	}
	got, err := e.inst.Store.InterruptRuns(e.ctx, jobs.KindGrades, 42, now, now, "rescued")
	if err != nil || len(got) != 1 || got[0].ID != mine.ID || got[0].Status != jobs.StatusInterrupted || got[0].Note != "rescued" {
		t.Fatalf("interrupted %+v %v", got, err)
	}
	for id, want := range map[int64]string{other.ID: jobs.StatusRunning, done.ID: jobs.StatusOK} {
		if r, err := e.inst.Store.Run(e.ctx, id); err != nil || r.Status != want {
			t.Fatalf("run %d: %+v %v, want %s", id, r, err, want)
		}
	}
	// A run wrongly taken for dead keeps its own final record when it finishes.
	mine.Status, mine.FinishedAt, mine.Sent = jobs.StatusOK, now, 3
	if err := e.inst.Store.FinishRun(e.ctx, mine); err != nil {
		t.Fatal(err)
	}
	if r, err := e.inst.Store.Run(e.ctx, mine.ID); err != nil || r.Status != jobs.StatusOK || r.Sent != 3 {
		t.Fatalf("finished after the mark: %+v %v", r, err)
	}
}
