package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/config"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/lti/ltitest"
)

const metricsToken = "a-metrics-token-for-tests"

// scrape reads /metrics into "name{labels}" → value.
func scrape(t *testing.T, h http.Handler, token string) (int, map[string]float64) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out := map[string]float64{}
	if rec.Code != http.StatusOK {
		return rec.Code, out
	}
	sc := bufio.NewScanner(rec.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return rec.Code, out
}

// TestMetrics: after launches, a refused launch, a grade sync and a member sync, the counters hold what the
// launch log, the platform and the sync runs say happened; /metrics needs the token.
func TestMetrics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inst := apptest.Start(t, apptest.Options{Configure: func(c *config.Config) { c.MetricsToken = metricsToken }})
	p := ltitest.NewServer(t, ltitest.Config{})
	inst.Platform(t, p, "client-1")
	imported := inst.ExampleCourse(t, "")
	assignment := apptest.Activity(imported, course.TypeAssignment)
	in := publish.NewInput(imported.Course.ID)
	in.ActivityID, in.GradeSync, in.MemberSync = assignment.ID, true, true
	res := inst.Publish(t, in)
	w := &world{inst: inst, p: p, course: imported.Course}
	if err := inst.App.Jobs.Migrate(ctx); err != nil { // the queue's tables, for its depth
		t.Fatal(err)
	}

	// Three students launch and hand in; the third is then suspended and launches again (refused).
	var users []int64
	for i := 1; i <= 3; i++ {
		sub := fmt.Sprintf("m-student-%d", i)
		if resp := w.browser(t).launch(spec(sub, false, res)); resp.StatusCode != http.StatusOK {
			t.Fatalf("launch %s: %d %s", sub, resp.StatusCode, resp.Body)
		}
		u, _ := w.linkedUser(t, sub)
		users = append(users, u.ID)
		if _, err := inst.App.Courses.SubmitAssignment(ctx, &u, assignment.ID, "my report"); err != nil {
			t.Fatal(err)
		}
		if _, err := inst.App.Courses.GradeSubmission(ctx, &inst.Admin, assignment.ID, u.ID, float64(5+i), "ok"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := inst.App.Users.Suspend(ctx, users[2]); err != nil {
		t.Fatal(err)
	}
	if resp := w.browser(t).launch(spec("m-student-3", false, res)); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("suspended launch: %d", resp.StatusCode)
	}
	gradeRun, err := inst.App.Jobs.SyncGrades(ctx, jobs.CauseManual, res.ID, 0)
	if err != nil || gradeRun.Sent != 3 {
		t.Fatalf("grade sync: %+v %v", gradeRun, err)
	}
	p.SetMembers("platform-course-1", []ltitest.Member{
		{UserID: "m-student-1", Roles: []string{ltitest.RoleLearner}}, {UserID: "m-student-2", Roles: []string{ltitest.RoleLearner}},
		{UserID: "m-new-4", Name: "New Four", Roles: []string{ltitest.RoleLearner}},
	})
	memberRun, err := inst.App.Jobs.SyncMembers(ctx, jobs.CauseManual, res.ID, 0)
	if err != nil || memberRun.Created != 1 {
		t.Fatalf("member sync: %+v %v", memberRun, err)
	}
	admin := inst.Client(t)
	inst.Login(t, admin, "admin", apptest.AdminPassword)
	inst.Get(t, admin, "/admin/users/"+strconv.FormatInt(users[0], 10))
	inst.Get(t, admin, "/admin/users/"+strconv.FormatInt(users[1], 10))

	h := inst.App.Web
	if code, _ := scrape(t, h, ""); code != http.StatusUnauthorized {
		t.Fatalf("scrape without the token: %d", code)
	}
	if code, _ := scrape(t, h, "not-the-token-at-all"); code != http.StatusUnauthorized {
		t.Fatalf("scrape with a wrong token: %d", code)
	}
	code, m := scrape(t, h, metricsToken)
	if code != http.StatusOK {
		t.Fatalf("scrape: %d", code)
	}
	for name := range m {
		if !strings.HasPrefix(name, "ltipub_") {
			t.Errorf("metric %s does not start with ltipub_", name)
		}
	}

	// Launches: exactly the launch log's lines, by stage, outcome and code.
	entries, err := inst.Store.LaunchLog(ctx, launch.LogFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{}
	for _, e := range entries {
		want[fmt.Sprintf(`ltipub_launches_total{code=%q,outcome=%q,stage=%q}`, e.Code, e.Outcome, e.Stage)]++
	}
	if want[`ltipub_launches_total{code="account_suspended",outcome="refused",stage="launch"}`] != 1 ||
		want[`ltipub_launches_total{code="",outcome="accepted",stage="launch"}`] != 3 { // one row per launch: the suspended one is refused, not also accepted
		t.Fatalf("launch log: %v", want)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, the launch log has %v", k, m[k], v)
		}
	}
	// Grade sync: the scores the platform received, per platform host.
	host := strings.TrimPrefix(p.BaseURL(), "http://")
	if got := m[fmt.Sprintf(`ltipub_grade_scores_total{platform=%q,result="sent"}`, host)]; got != 3 {
		t.Errorf("grade scores sent to %s: %v, want 3", host, got)
	}
	if got := m[`ltipub_grade_sync_grades_total{result="sent"}`]; got != float64(gradeRun.Sent) {
		t.Errorf("grade sync sent: %v, the run says %d", got, gradeRun.Sent)
	}
	for outcome, n := range map[string]int{"created": memberRun.Created, "enrolled": memberRun.Enrolled, "unenrolled": memberRun.Unenrolled} {
		if got := m[fmt.Sprintf(`ltipub_member_sync_members_total{outcome=%q}`, outcome)]; got != float64(n) {
			t.Errorf("member sync %s: %v, the run says %d", outcome, got, n)
		}
	}
	if m[`ltipub_job_duration_seconds_count{kind="grades",status="ok"}`] != 1 || m[fmt.Sprintf(`ltipub_job_duration_seconds_count{kind="members",status=%q}`, memberRun.Status)] != 1 {
		t.Errorf("job durations: %v", pick(m, "ltipub_job_duration_seconds_count"))
	}
	// Requests under their route pattern, never their path.
	if got := m[`ltipub_http_request_duration_seconds_count{code="200",method="GET",route="GET /admin/users/{id}"}`]; got != 2 {
		t.Errorf("user pages: %v (%v)", got, pick(m, "ltipub_http_request_duration_seconds_count"))
	}
	if got := m[`ltipub_http_request_duration_seconds_count{code="403",method="POST",route="POST /lti/launch"}`]; got != 1 {
		t.Errorf("refused launches: %v (%v)", got, pick(m, "ltipub_http_request_duration_seconds_count"))
	}
	for k := range pick(m, "ltipub_http_request_duration_seconds_count") {
		if strings.Contains(k, "/admin/users/"+strconv.FormatInt(users[0], 10)) {
			t.Errorf("a raw path became a label: %s", k)
		}
	}
	// Outgoing requests per platform host, the pool, the queue.
	if len(pick(m, fmt.Sprintf(`ltipub_outgoing_request_duration_seconds_count{code="200",host=%q`, host))) == 0 {
		t.Errorf("no outgoing requests to %s: %v", host, pick(m, "ltipub_outgoing_request_duration_seconds_count"))
	}
	for _, k := range []string{`ltipub_db_connections{state="idle"}`, `ltipub_job_queue_jobs{state="available"}`, `ltipub_job_queue_up`, `ltipub_go_goroutines`} {
		if _, ok := m[k]; !ok {
			t.Errorf("%s missing", k)
		}
	}
	if m[`ltipub_job_queue_up`] != 1 {
		t.Error("the job queue could not be read")
	}
}

func pick(m map[string]float64, prefix string) map[string]float64 {
	out := map[string]float64{}
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// Without a token /metrics is not on the main listener; the separate listener has it and the profiler, which the
// main listener never has.
func TestMetricsListeners(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{NoAdmin: true})
	if code, _ := scrape(t, inst.App.Web, ""); code != http.StatusNotFound {
		t.Fatalf("/metrics on the main listener without a token: %d", code)
	}
	c := inst.Client(t)
	if resp := inst.Get(t, c, "/debug/pprof/"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("pprof on the main listener: %d", resp.StatusCode)
	}
	side := httptest.NewServer(inst.App.MetricsHandler())
	t.Cleanup(side.Close)
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/goroutine?debug=1"} {
		resp, err := http.Get(side.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s on the metrics listener: %d", path, resp.StatusCode)
		}
	}
}
