package jobs_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// Run with: go test ./internal/jobs -run '^$' -bench . -benchtime 1x
// (LTIPUB_TEST_POSTGRES_DSN or the local server for the postgres halves.)

// BenchmarkGradeSync10k sends 10,000 changed grades to the reference platform per iteration.
func BenchmarkGradeSync10k(b *testing.B) {
	for _, engine := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			const n = 10000
			e := newEnv(b, envOpts{engine: engine})
			li := e.p.AddLineItem("client-1", "ctx-1", ltitest.LineItem{Label: "Essay", ScoreMaximum: 20})
			l := e.link(e.activity, "rl-1", "ctx-1", li, true)
			users := bulkStudents(b, e, l, n)
			st := e.inst.Store
			round := 0
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				round++
				at := time.Now()
				for i, u := range users {
					if _, err := st.PutGrade(e.ctx, course.GradeChange{ActivityID: e.act.ID, UserID: u, Grade: float64((i + round) % 21),
						MaxGrade: 20, At: at}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				start := time.Now()
				run, err := e.svc.SyncGrades(e.ctx, jobs.CausePeriodic, 0, 0)
				total += time.Since(start)
				if err != nil || run.Sent != n {
					b.Fatalf("run %+v, %v", run, err)
				}
			}
			b.ReportMetric(float64(n*round)/total.Seconds(), "scores/s")
		})
	}
}

// bulkStudents makes n launched students of link l quickly (no password hashing: LTI accounts).
func bulkStudents(b testing.TB, e *env, l publish.ResourceLink, n int) []int64 {
	st := e.inst.Store
	ids := make([]int64, n)
	now := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				sub := fmt.Sprintf("bench-%06d", i)
				u, err := e.inst.App.Accounts.Create(e.ctx, account.NewUser{Username: "u_" + sub, Auth: account.AuthLTI})
				if err != nil {
					b.Error(err)
					return
				}
				lu, err := st.LinkLTIUser(e.ctx, publish.LTIUser{Issuer: e.p.Issuer(), Subject: sub, RegistrationID: e.reg.ID, UserID: u.ID, CreatedAt: now, LastLaunchAt: now})
				if err == nil {
					err = st.LinkUserToResourceLink(e.ctx, lu.ID, l.ID, now)
				}
				if err != nil {
					b.Error(err)
					return
				}
				ids[i] = u.ID
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return ids
}

// BenchmarkMemberSync50k reads a 50,000-member roster (every 50th Inactive) and creates, links and enrols the
// members: time per full sync, and the peak heap in use while it runs.
func BenchmarkMemberSync50k(b *testing.B) {
	for _, engine := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			const n = 50000
			e := newEnv(b, envOpts{engine: engine})
			e.link(e.whole, "rl-big", "ctx-big", "", false)
			e.p.SetGeneratedRoster("ctx-big", n)
			var peak atomic.Uint64
			stop := make(chan struct{})
			go func() {
				var ms runtime.MemStats
				t := time.NewTicker(10 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						runtime.ReadMemStats(&ms)
						if ms.HeapInuse > peak.Load() {
							peak.Store(ms.HeapInuse)
						}
					}
				}
			}()
			runtime.GC()
			var base runtime.MemStats
			runtime.ReadMemStats(&base)
			for b.Loop() {
				run, err := e.svc.SyncMembers(context.Background(), jobs.CausePeriodic, e.whole.ID, 0)
				if err != nil || run.Status != "ok" {
					b.Fatalf("run %+v, %v", run, err)
				}
				b.Logf("run: created %d, enrolled %d, unenrolled %d, took %v", run.Created, run.Enrolled, run.Unenrolled, run.Duration())
			}
			close(stop)
			b.ReportMetric(float64(base.HeapInuse)/(1<<20), "base-heap-MiB")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		})
	}
}
