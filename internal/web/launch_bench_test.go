package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// BenchmarkLaunch runs complete launches — login initiation, the platform's authentication, the id_token post,
// provisioning of a new account, enrolment, and the landing page — by distinct users, through real HTTP, on
// each engine. It reports launches per second, latency percentiles, and the process's CPU per launch; the
// reference platform runs in the same process, and its RS256 signing is measured apart (platform_sign_ms) so
// that the tool's own share can be read off.
//
//	go test -run XXX -bench BenchmarkLaunch -benchtime 2000x ./internal/web/
//	LTIPUB_BENCH_PARALLELISM=1 go test -run XXX -bench BenchmarkLaunch -benchtime 1000x ./internal/web/
func BenchmarkLaunch(b *testing.B) {
	for _, engine := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			inst := apptest.Start(b, apptest.Options{Engine: engine})
			p := ltitest.NewServer(b, ltitest.Config{})
			inst.Platform(b, p, "client-1")
			imported := inst.ExampleCourse(b, "")
			in := publish.NewInput(imported.Course.ID)
			in.ActivityID = apptest.Activity(imported, course.TypeQuiz).ID
			r := inst.Publish(b, in)
			transport := &http.Transport{MaxIdleConnsPerHost: 64}
			var seq atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			start := time.Now()
			// LTIPUB_BENCH_PARALLELISM launches per core at once (default 4: 8 on this 2-core machine).
			par := 4
			if v, err := strconv.Atoi(os.Getenv("LTIPUB_BENCH_PARALLELISM")); err == nil && v > 0 {
				par = v
			}
			b.SetParallelism(par)
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					n := seq.Add(1)
					jar, _ := cookiejar.New(nil)
					c := &http.Client{Jar: jar, Transport: transport}
					s := ltitest.LaunchSpec{
						User:         &ltitest.User{Sub: fmt.Sprintf("bench-%d", n), Name: "Bench User", Email: fmt.Sprintf("b%d@example.edu", n)},
						Roles:        []string{ltitest.RoleLearner},
						Context:      &ltitest.Context{ID: "ctx-1"},
						ResourceLink: &ltitest.ResourceLink{ID: "rl-1"},
						Custom:       map[string]string{"id": r.UUID},
						AGS:          &ltitest.AGS{}, NRPS: true,
					}
					t0 := time.Now()
					res, err := p.Launch(context.Background(), c, s)
					d := time.Since(t0)
					if err != nil || res.Response.StatusCode != http.StatusOK || !strings.Contains(string(res.Body), "Solar System quiz") {
						b.Errorf("launch %d: %v %d", n, err, res.Response.StatusCode)
						return
					}
					mine = append(mine, d)
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			elapsed := time.Since(start)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			if len(lat) == 0 {
				return
			}
			slices.Sort(lat)
			pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
			b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "launches/s")
			b.ReportMetric(pct(0.50), "p50_ms")
			b.ReportMetric(pct(0.99), "p99_ms")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(lat)), "cpu_ms/launch")
			b.ReportMetric(platformSignMillis(b, p), "platform_sign_ms")
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.Sys)/(1<<20), "sys_MB")
		})
	}
}

// platformSignMillis is what the reference platform spends minting one id_token (an RS256 signature).
func platformSignMillis(b *testing.B, p *ltitest.Platform) float64 {
	const n = 50
	s := ltitest.LaunchSpec{User: &ltitest.User{Sub: "x"}, Roles: []string{ltitest.RoleLearner}}
	t0 := cpuTime()
	for range n {
		if _, err := p.MintIDToken(s, "nonce"); err != nil {
			b.Fatal(err)
		}
	}
	return float64((cpuTime() - t0).Microseconds()) / 1000 / n
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
