package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/lti/ltitest"
)

// BenchmarkLandingPage is the page a launch lands on (the quiz of the example course, for the student the launch
// signed in), viewed again and again in the launch's session, on SQLite through real HTTP: its reads, the page
// template and the HTTP server, without the launch's writes. With -benchmem it gives the bytes and allocations of
// one view, and cpu_µs/op the process's CPU time per view (the client's included).
//
//	go test -run XXX -bench BenchmarkLandingPage -benchmem ./internal/web/
func BenchmarkLandingPage(b *testing.B) {
	inst := apptest.Start(b, apptest.Options{Engine: sqlstore.SQLite})
	p := ltitest.NewServer(b, ltitest.Config{})
	inst.Platform(b, p, "client-1")
	imported := inst.ExampleCourse(b, "")
	in := publish.NewInput(imported.Course.ID)
	in.ActivityID = apptest.Activity(imported, course.TypeQuiz).ID
	r := inst.Publish(b, in)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := p.Launch(context.Background(), c, ltitest.LaunchSpec{
		User:         &ltitest.User{Sub: "bench-landing", Name: "Bench User", Email: "bl@example.edu"},
		Roles:        []string{ltitest.RoleLearner},
		Context:      &ltitest.Context{ID: "ctx-1"},
		ResourceLink: &ltitest.ResourceLink{ID: "rl-1"},
		Custom:       map[string]string{"id": r.UUID},
		AGS:          &ltitest.AGS{}, NRPS: true,
	})
	if err != nil || res.Response.StatusCode != http.StatusOK {
		b.Fatalf("launch: %v", err)
	}
	landing := res.Response.Request.URL.String()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		resp, err := c.Get(landing)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Solar System quiz") {
			b.Fatalf("landing page: %d", resp.StatusCode)
		}
	}
	// CPU time per view (server and client, in this process) is the figure to compare on a shared machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu_µs/op")
}
