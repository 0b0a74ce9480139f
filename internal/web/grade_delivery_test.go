package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/web"
	"github.com/ltipub/ltipub/lti"
	"github.com/ltipub/ltipub/lti/ltitest"
)

var _ web.GradeDelivery = (*jobs.Service)(nil)

// A launch without AGS or NRPS claims, of a resource with grade and member sync on: the published resource's
// entry, that launch's launch log line and the Sync page say so, with the fix in Moodle's words.
func TestSyncWarningsWhereGradesCannotLeave(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	in := publish.NewInput(w.course.ID)
	in.ActivityID, in.GradeSync, in.MemberSync = w.quiz.ID, true, true
	res := w.publish(t, in)
	s := spec("sub-nosvc", false, res)
	s.AGS, s.NRPS = nil, false
	if got := w.browser(t).launch(s); got.StatusCode != http.StatusOK {
		t.Fatalf("launch: %d %s", got.StatusCode, got.Body)
	}
	// A second resource launched with both services offered: no warning for it.
	in = publish.NewInput(w.course.ID)
	in.Name, in.GradeSync, in.MemberSync = "Served", true, true
	served := w.publish(t, in)
	if got := w.browser(t).launch(spec("sub-svc", false, served)); got.StatusCode != http.StatusOK {
		t.Fatalf("launch: %d %s", got.StatusCode, got.Body)
	}

	admin := w.inst.Client(t)
	w.inst.Login(t, admin, "admin", apptest.AdminPassword)
	gradeFix := `&#34;IMS LTI Assignment and Grade Services&#34; to &#34;Use this service for grade sync and column management&#34;`
	memberFix := `&#34;Share launcher&#39;s name with tool&#34; and &#34;Share launcher&#39;s email with tool&#34; to &#34;Always&#34;`
	check := func(page, body string, want int) {
		t.Helper()
		if n := strings.Count(body, gradeFix); n != want {
			t.Errorf("%s: the grade service fix appears %d times, want %d", page, n, want)
		}
		if n := strings.Count(body, memberFix); n != want {
			t.Errorf("%s: the roster service fix appears %d times, want %d", page, n, want)
		}
	}
	list := w.inst.Get(t, admin, fmt.Sprintf("/courses/%d/published", w.course.ID))
	check("published list", list.Body, 1)
	if !strings.Contains(list.Body, "no grade service (no Assignment and Grade Services claim)") {
		t.Errorf("published list without the problem: %s", list.Body)
	}
	delivery := w.inst.Get(t, admin, fmt.Sprintf("/courses/%d/published/%d/grades", w.course.ID, res.ID))
	check("grade delivery", delivery.Body, 1)
	check("grade delivery of the served resource", w.inst.Get(t, admin, fmt.Sprintf("/courses/%d/published/%d/grades", w.course.ID, served.ID)).Body, 0)
	check("sync page", w.inst.Get(t, admin, "/admin/sync").Body, 1)
	launches := w.inst.Get(t, admin, "/admin/launches")
	check("launch log", launches.Body, 1)
	// The warning sits on the launch of sub-nosvc, not on the other one.
	rows := regexp.MustCompile(`(?s)<tr class="accepted".*?</tr>`).FindAllString(launches.Body, -1)
	if len(rows) < 2 {
		t.Fatalf("%d accepted launches in the log, want 2", len(rows))
	}
	for _, row := range rows {
		warned := strings.Contains(row, "launch-warning")
		if strings.Contains(row, "sub-nosvc") != warned {
			t.Errorf("launch log row (warned %v): %s", warned, row)
		}
	}
}

// deliveryEnv is an instance with jobs running, the reference platform, and an activity published with grade
// sync, reached through one resource link with a coupled line item.
type deliveryEnv struct {
	inst    *apptest.Instance
	p       *ltitest.Platform
	reg     int64
	regName string
	act     course.Activity
	res     publish.Resource
	link    publish.ResourceLink
	li      string
}

func newDeliveryEnv(t *testing.T) *deliveryEnv {
	t.Helper()
	inst := apptest.Start(t, apptest.Options{Jobs: true})
	p := ltitest.NewServer(t, ltitest.Config{})
	reg := inst.Platform(t, p, "client-1")
	imported := inst.ExampleCourse(t, "")
	act := apptest.Activity(imported, course.TypeQuiz)
	in := publish.NewInput(imported.Course.ID)
	in.ActivityID, in.GradeSync = act.ID, true
	res := inst.Publish(t, in)
	li := p.AddLineItem("client-1", "ctx-1", ltitest.LineItem{Label: act.Name, ScoreMaximum: act.MaxGrade})
	l := publish.ResourceLink{RegistrationID: reg.ID, DeploymentID: "deployment-1", LinkID: "rl-1", PublishedResourceID: res.ID,
		ContextID: "ctx-1", ContextTitle: "Platform course", LineItemURL: li, AGSScopes: []string{lti.ScopeLineItem, lti.ScopeScore},
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := inst.Store.SaveResourceLink(context.Background(), &l); err != nil {
		t.Fatal(err)
	}
	return &deliveryEnv{inst: inst, p: p, reg: reg.ID, regName: reg.Name, act: act, res: res, link: l, li: li}
}

// learners makes n LTI accounts launched through the link, named "Learner 00000"… (sub "sub-00000"…).
func (e *deliveryEnv) learners(t *testing.T, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	ids := make([]int64, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failed.Load() {
					return
				}
				sub := fmt.Sprintf("sub-%05d", i)
				u, err := e.inst.App.Accounts.Create(ctx, account.NewUser{Username: "u_" + sub, FullName: fmt.Sprintf("Learner %05d", i), Auth: account.AuthLTI})
				if err == nil {
					var lu publish.LTIUser
					lu, err = e.inst.Store.LinkLTIUser(ctx, publish.LTIUser{Issuer: e.p.Issuer(), Subject: sub, RegistrationID: e.reg, UserID: u.ID,
						CreatedAt: time.Now(), LastLaunchAt: time.Now()})
					if err == nil {
						err = e.inst.Store.LinkUserToResourceLink(ctx, lu.ID, e.link.ID, time.Now())
					}
					if err == nil {
						err = e.inst.Store.CreateEnrolment(ctx, &course.Enrolment{CourseID: e.res.CourseID, UserID: u.ID, Role: course.RoleStudent,
							Status: course.StatusActive, Method: course.MethodLTI, PublishedResourceID: e.res.ID, CreatedAt: time.Now(), UpdatedAt: time.Now()})
					}
				}
				if err != nil {
					t.Error(err)
					failed.Store(true)
					return
				}
				ids[i] = u.ID
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return ids
}

func (e *deliveryEnv) grade(t *testing.T, userID int64, v float64) {
	t.Helper()
	// Straight to the store: no debounced job, so that the test decides when grades are sent.
	if _, err := e.inst.Store.PutGrade(context.Background(), course.GradeChange{ActivityID: e.act.ID, UserID: userID, Grade: v,
		MaxGrade: e.act.MaxGrade, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func (e *deliveryEnv) sync(t *testing.T, userID int64) {
	t.Helper()
	var err error
	if userID != 0 {
		_, err = e.inst.App.Jobs.SyncUserGrades(context.Background(), e.act.ID, userID, 0)
	} else {
		_, err = e.inst.App.Jobs.SyncGrades(context.Background(), jobs.CauseManual, e.res.ID, 0)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (e *deliveryEnv) page(t *testing.T, c *http.Client, query string) string {
	t.Helper()
	got := e.inst.Get(t, c, fmt.Sprintf("/courses/%d/published/%d/grades%s", e.res.CourseID, e.res.ID, query))
	if got.StatusCode != http.StatusOK {
		t.Fatalf("delivery page: %d %s", got.StatusCode, got.Body)
	}
	return got.Body
}

// row returns a learner's row of the delivery table ("" when absent).
func (e *deliveryEnv) row(body string, userID int64) string {
	re := regexp.MustCompile(fmt.Sprintf(`(?s)<tr id="delivery-%d-%d" class="state-\w+">.*?</tr>`, e.link.ID, userID))
	return re.FindString(body)
}

// The delivery table through HTTP: a sent, a failed and a pending grade, each shown as such; Retry of the failed
// row sends it, Retry all sends the rest.
func TestGradeDeliveryStatesAndRetry(t *testing.T) {
	t.Parallel()
	e := newDeliveryEnv(t)
	ids := e.learners(t, 3)
	ada, bob, cy := ids[0], ids[1], ids[2]
	e.grade(t, ada, 7)
	e.sync(t, 0)
	e.grade(t, bob, 5)
	// Bob's score is refused with a message and the platform's stack trace after it.
	e.p.InjectFault(ltitest.Fault{Service: ltitest.ServiceAGS, Kind: ltitest.FaultStatus, Status: 400,
		Body: `{"error":"invalid_request","error_description":"User sub-00001 is not enrolled in this course. ` +
			strings.Repeat("Very long explanation ", 20) + `\n#0 /var/www/moodle/mod/lti/service.php(123): throw\n#1 {main}"}`})
	e.sync(t, bob)
	e.grade(t, cy, 9)

	c := e.inst.Client(t)
	e.inst.Login(t, c, "admin", apptest.AdminPassword)
	body := e.page(t, c, "")
	rowAda, rowBob, rowCy := e.row(body, ada), e.row(body, bob), e.row(body, cy)
	if !strings.Contains(rowAda, `class="state-sent"`) || !strings.Contains(rowAda, "Learner 00000") ||
		!strings.Contains(rowAda, "sent to ") || !strings.Contains(rowAda, ": 7 / ") {
		t.Errorf("ada's row: %s", rowAda)
	}
	if !strings.Contains(rowBob, `class="state-failed"`) || !strings.Contains(rowBob, "is not enrolled in this course") ||
		strings.Contains(rowBob, "/var/www") || strings.Contains(rowBob, "#0") || !strings.Contains(rowBob, "HTTP 400") {
		t.Errorf("bob's row: %s", rowBob)
	}
	if !strings.Contains(rowCy, `class="state-pending"`) || !strings.Contains(rowCy, "pending since") || !strings.Contains(rowCy, "next attempt: ") {
		t.Errorf("cy's row: %s", rowCy)
	}
	// The teacher's grader report says where ada's grade went, and nothing beside bob's.
	report := e.inst.Get(t, c, fmt.Sprintf("/courses/%d/grades", e.res.CourseID)).Body
	if n := strings.Count(report, "sent to "+e.regName+" at "); n != 1 {
		t.Errorf("grader report: %d sent notes, want 1 (ada's): %s", n, report)
	}
	// Failed only.
	failed := e.page(t, c, "?failed=1")
	if e.row(failed, bob) == "" || e.row(failed, ada) != "" || e.row(failed, cy) != "" {
		t.Errorf("failed only: %s", failed)
	}
	// The Sync page's run names bob, not the platform's id for him.
	if sp := e.inst.Get(t, c, "/admin/sync").Body; !strings.Contains(sp, "score for Learner 00001: the platform refused it") {
		t.Errorf("sync page errors do not name the learner: %s", sp)
	}

	// Retry bob's row: his grade goes out; cy's stays pending.
	if got := e.inst.PostForm(t, noRedirect(c), fmt.Sprintf("/courses/%d/published/%d/grades/retry", e.res.CourseID, e.res.ID),
		url.Values{"user_id": {fmt.Sprint(bob)}}); got.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry: %d %s", got.StatusCode, got.Body)
	}
	waitFor(t, "bob's grade to be sent", func() bool { return strings.Contains(e.row(e.page(t, c, ""), bob), "state-sent") })
	if rec, ok := e.p.LatestScore(e.li, "sub-00001"); !ok || *rec.ScoreGiven != 5 {
		t.Fatalf("bob on the platform: %+v %v", rec, ok)
	}
	if !strings.Contains(e.row(e.page(t, c, ""), cy), "state-pending") {
		t.Fatalf("retrying bob sent cy's grade too")
	}
	// Retry all.
	if got := e.inst.PostForm(t, noRedirect(c), fmt.Sprintf("/courses/%d/published/%d/grades/retry", e.res.CourseID, e.res.ID),
		nil); got.StatusCode != http.StatusSeeOther {
		t.Fatalf("retry all: %d %s", got.StatusCode, got.Body)
	}
	waitFor(t, "cy's grade to be sent", func() bool { return strings.Contains(e.row(e.page(t, c, ""), cy), "state-sent") })
	if n := len(e.p.Scores(e.li)); n != 3 {
		t.Fatalf("the platform received %d scores, want 3 (one each)", n)
	}

	// Another teacher's course: not theirs to see.
	e.inst.EnsureUser(t, account.NewUser{Username: "mallory", Password: "a long password 1"})
	m := e.inst.Client(t)
	e.inst.Login(t, m, "mallory", "a long password 1")
	if got := e.inst.Get(t, m, fmt.Sprintf("/courses/%d/published/%d/grades", e.res.CourseID, e.res.ID)); got.StatusCode == http.StatusOK {
		t.Fatalf("another user sees the delivery page")
	}
}

// Paging and search happen in the database: 5,000 learners, 50 a page.
func TestGradeDeliveryPaging5000(t *testing.T) {
	t.Parallel()
	const n = 5000
	e := newDeliveryEnv(t)
	ids := e.learners(t, n)
	for i, id := range ids {
		e.grade(t, id, float64(i%11))
	}
	c := e.inst.Client(t)
	e.inst.Login(t, c, "admin", apptest.AdminPassword)
	rowRe := regexp.MustCompile(`<tr id="delivery-`)
	start := time.Now()
	first := e.page(t, c, "")
	took := time.Since(start)
	if got := len(rowRe.FindAllString(first, -1)); got != 50 || !strings.Contains(first, "1–50 of 5000") ||
		!strings.Contains(first, "Learner 00000") || strings.Contains(first, "Learner 00050") {
		t.Fatalf("first page: %d rows: %s", got, first)
	}
	if !strings.Contains(first, `id="next-page"`) || strings.Contains(first, `id="prev-page"`) {
		t.Fatalf("first page links")
	}
	last := e.page(t, c, "?offset=4950")
	if got := len(rowRe.FindAllString(last, -1)); got != 50 || !strings.Contains(last, "4951–5000 of 5000") ||
		!strings.Contains(last, "Learner 04999") || strings.Contains(last, `id="next-page"`) {
		t.Fatalf("last page: %d rows", got)
	}
	found := e.page(t, c, "?q=learner+04321")
	if got := len(rowRe.FindAllString(found, -1)); got != 1 || !strings.Contains(found, "Learner 04321") || !strings.Contains(found, "1–1 of 1") {
		t.Fatalf("search: %d rows", got)
	}
	if got := len(rowRe.FindAllString(e.page(t, c, "?q=sub-0432"), -1)); got != 10 {
		t.Fatalf("search by platform id: %d rows, want 10", got)
	}
	t.Logf("first page of %d rows in %v", n, took.Round(time.Millisecond))
}

func noRedirect(c *http.Client) *http.Client {
	nc := *c
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &nc
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// An LTI 1.1 launch without an outcome service URL, of a resource with grade sync on: its launch log line says
// grades cannot leave; one with the outcome service does not.
func TestLegacyLaunchWithoutOutcomeServiceWarns(t *testing.T) {
	t.Parallel()
	w := newLegacyWorld(t, apptest.Options{})
	in := publish.NewInput(w.course.ID)
	in.ActivityID, in.GradeSync = w.quiz.ID, true
	res := w.inst.Publish(t, in)
	if got := w.browser(t).launch(res, w.c.LaunchParams("rl-none", "s-none", rolesLearner), nil); got.StatusCode != http.StatusOK {
		t.Fatalf("launch: %d", got.StatusCode)
	}
	if got := w.browser(t).launch(res, w.c.WithService(w.c.LaunchParams("rl-svc", "s-svc", rolesLearner), "sourced-1"), nil); got.StatusCode != http.StatusOK {
		t.Fatalf("launch: %d", got.StatusCode)
	}
	entries, err := w.inst.Store.LaunchLog(context.Background(), launch.LogFilter{})
	if err != nil {
		t.Fatal(err)
	}
	warned := map[string]bool{}
	for _, e := range entries {
		warned[e.Subject] = strings.Contains(e.Warning, "no outcome service URL")
	}
	if len(warned) != 2 || !warned["s-none"] || warned["s-svc"] {
		t.Fatalf("warnings by subject: %v (entries %+v)", warned, entries)
	}
}
