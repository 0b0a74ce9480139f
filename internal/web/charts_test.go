package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/tool"
)

// figure is the chart figure with id in a page ("" when there is none).
func figure(body, id string) string {
	start := strings.Index(body, `<figure class="chart" data-chart="`+id+`">`)
	if start < 0 {
		return ""
	}
	end := strings.Index(body[start:], "</figure>")
	return body[start : start+end]
}

var cellRE = regexp.MustCompile(`<td>([^<]*)</td>`)

// numbers is the row of the figure's table labelled label: its cells, nil when there is no such row.
func numbers(fig, label string) []string {
	i := strings.Index(fig, `<tr><th scope="row">`+html.EscapeString(label)+`</th>`)
	if i < 0 {
		return nil
	}
	row := fig[i : i+strings.Index(fig[i:], "</tr>")]
	var out []string
	for _, m := range cellRE.FindAllStringSubmatch(row, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// svgValues are the values the figure's SVG draws for a series (its bars or points, in order).
func svgValues(fig, series string) []string {
	i := strings.Index(fig, `<g class="series" data-series="`+html.EscapeString(series)+`"`)
	if i < 0 {
		return nil
	}
	g := fig[i : i+strings.Index(fig[i:], "</g>")]
	var out []string
	for _, m := range regexp.MustCompile(`data-value="([^"]*)"`).FindAllStringSubmatch(g, -1) {
		out = append(out, m[1])
	}
	return out
}

// checkPicture: the figure holds an SVG image named by its title and description, and "Show the numbers".
func checkPicture(t *testing.T, fig, title string) {
	t.Helper()
	if !strings.Contains(fig, `role="img"`) || !strings.Contains(fig, "<title id=") || !strings.Contains(fig, "<desc id=") ||
		!strings.Contains(fig, `<figcaption>`+html.EscapeString(title)+`</figcaption>`) || !strings.Contains(fig, "<summary>Show the numbers") {
		t.Errorf("figure %q is not an accessible picture with its numbers:\n%s", title, fig)
	}
}

func createRegistration(t *testing.T, inst *apptest.Instance, name, issuer string) tool.Registration {
	t.Helper()
	r := tool.Registration{Name: name, Issuer: issuer, ClientID: "client-1", JWKSURL: issuer + "/jwks", TokenURL: issuer + "/token", AuthURL: issuer + "/auth"}
	if err := inst.Store.CreateRegistration(context.Background(), &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestLaunchLogCharts: launches per hour and per day, accepted and refused, and the top refusal codes, as the
// seeded launch log holds them, with and without the registration filter.
func TestLaunchLogCharts(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	c := inst.Client(t)
	inst.Login(t, c, "admin", apptest.AdminPassword)
	if res := inst.Get(t, c, "/admin/launches"); !strings.Contains(res.Body, "No launches in the last 30 days.") || figure(res.Body, "launches-hourly") != "" {
		t.Fatalf("an empty launch log draws charts: %s", res.Body)
	}
	ctx := context.Background()
	moodle := createRegistration(t, inst, "Moodle", "https://moodle.example")
	canvas := createRegistration(t, inst, "Canvas", "https://canvas.example")
	now := time.Now().UTC()
	t1, t2 := now.Add(-2*time.Hour), now.Add(-5*24*time.Hour)
	add := func(n int, at time.Time, regID int64, stage, outcome, code string) {
		for range n {
			if err := inst.Store.RecordLaunch(ctx, &launch.LogEntry{At: at, RegistrationID: regID, Stage: stage, Outcome: outcome, Code: code}); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(3, t1, moodle.ID, launch.StageLaunch, launch.Accepted, "")
	add(1, t1, moodle.ID, launch.StageLaunch, launch.Refused, "state_expired")
	add(1, t1, moodle.ID, launch.StageLogin, launch.Accepted, "") // a login without its launch: not counted
	add(2, t1, canvas.ID, launch.StageLogin, launch.Refused, "deployment_unknown")
	add(1, t2, moodle.ID, launch.StageLaunch, launch.Accepted, "")

	res := inst.Get(t, c, "/admin/launches")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("launch log: %d", res.StatusCode)
	}
	hour, day, oldDay := t1.Truncate(time.Hour).Format("2 Jan 15:04"), t1.Format("2 Jan"), t2.Format("2 Jan")
	hourly := figure(res.Body, "launches-hourly")
	checkPicture(t, hourly, "Launches per hour, last 48 hours")
	if got := numbers(hourly, hour); !reflect.DeepEqual(got, []string{"3", "3", "6"}) {
		t.Errorf("hour %s: %v, want accepted 3, refused 3, total 6", hour, got)
	}
	if got := strings.Count(hourly, `<tr><th scope="row">`); got != 48 {
		t.Errorf("%d hourly rows, want 48", got)
	}
	if got := svgValues(hourly, "Accepted"); !reflect.DeepEqual(got, []string{"3"}) {
		t.Errorf("accepted bars %v", got)
	}
	if !strings.Contains(hourly, "Accepted: 3 launches in all") || !strings.Contains(hourly, "Refused: 3 launches in all") {
		t.Errorf("the description does not sum up: %s", hourly)
	}
	daily := figure(res.Body, "launches-daily")
	checkPicture(t, daily, "Launches per day, last 30 days")
	if got := numbers(daily, day); !reflect.DeepEqual(got, []string{"3", "3", "6"}) {
		t.Errorf("day %s: %v", day, got)
	}
	if got := numbers(daily, oldDay); !reflect.DeepEqual(got, []string{"1", "0", "1"}) {
		t.Errorf("day %s: %v", oldDay, got)
	}
	codes := figure(res.Body, "refusal-codes")
	checkPicture(t, codes, "Most frequent refusals, last 30 days")
	if a, b := numbers(codes, "deployment_unknown"), numbers(codes, "state_expired"); !reflect.DeepEqual(a, []string{"2"}) || !reflect.DeepEqual(b, []string{"1"}) ||
		strings.Index(codes, "deployment_unknown") > strings.Index(codes, "state_expired") {
		t.Errorf("codes: %v %v\n%s", a, b, codes)
	}
	// The legend names both series beside their swatches.
	if !strings.Contains(hourly, `class="chart-legend"`) || !strings.Contains(hourly, "</svg> Refused</li>") {
		t.Errorf("no legend: %s", hourly)
	}

	res = inst.Get(t, c, "/admin/launches?registration="+strconv.FormatInt(moodle.ID, 10))
	hourly = figure(res.Body, "launches-hourly")
	if got := numbers(hourly, hour); !reflect.DeepEqual(got, []string{"3", "1", "4"}) {
		t.Errorf("one registration, hour %s: %v", hour, got)
	}
	if codes := figure(res.Body, "refusal-codes"); numbers(codes, "deployment_unknown") != nil {
		t.Errorf("another registration's refusals are charted: %s", codes)
	}
}

// TestGraderReportCharts: each graded activity's grades over tenths of its maximum.
func TestGraderReportCharts(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	admin := inst.Admin
	a := inst.App
	co, err := a.Courses.CreateCourse(ctx, &admin, course.CourseInput{FullName: "Charts", ShortName: "CHARTS", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	essay, err := a.Courses.CreateActivity(ctx, &admin, co.ID, course.ActivityInput{Type: course.TypeAssignment, Name: "Essay", Visible: true, MaxGrade: 20})
	if err != nil {
		t.Fatal(err)
	}
	ungraded, err := a.Courses.CreateActivity(ctx, &admin, co.ID, course.ActivityInput{Type: course.TypeAssignment, Name: "Poster", Visible: true, MaxGrade: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range []float64{19, 20, 10, 3} {
		name := fmt.Sprintf("learner%d", i)
		u := inst.EnsureUser(t, account.NewUser{Username: name, Password: "a long password 1"})
		if _, err := a.Courses.Enrol(ctx, &admin, co.ID, course.EnrolInput{Username: name, Role: course.RoleStudent, Status: course.StatusActive}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Courses.GradeSubmission(ctx, &admin, essay.ID, u.ID, g, ""); err != nil {
			t.Fatal(err)
		}
	}
	// Four more graded activities: four charts are shown, the fifth folds under "Show 1 more chart".
	var extra []course.Activity
	for i := range 4 {
		a, err := a.Courses.CreateActivity(ctx, &admin, co.ID, course.ActivityInput{Type: course.TypeAssignment, Name: fmt.Sprintf("Task %d", i+1), Visible: true, MaxGrade: 10})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := inst.App.Store.UserByUsername(ctx, "learner0")
		if _, err := inst.App.Courses.GradeSubmission(ctx, &admin, a.ID, u.ID, float64(i), ""); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, a)
	}
	c := inst.Client(t)
	inst.Login(t, c, "admin", apptest.AdminPassword)
	res := inst.Get(t, c, fmt.Sprintf("/courses/%d/grades", co.ID))
	more := strings.Index(res.Body, "<summary>Show 1 more chart</summary>")
	if last := strings.Index(res.Body, fmt.Sprintf(`data-chart="grades-%d"`, extra[3].ID)); more < 0 || last < more ||
		strings.Index(res.Body, fmt.Sprintf(`data-chart="grades-%d"`, extra[2].ID)) > more {
		t.Errorf("the fifth chart is not folded (fold at %d, fifth chart at %d)", more, last)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("grader report: %d", res.StatusCode)
	}
	fig := figure(res.Body, fmt.Sprintf("grades-%d", essay.ID))
	checkPicture(t, fig, "Essay: 4 grades")
	for band, want := range map[string]string{"90–100%": "2", "50–59%": "1", "10–19%": "1", "0–9%": "0", "80–89%": "0"} {
		if got := numbers(fig, band); !reflect.DeepEqual(got, []string{want}) {
			t.Errorf("band %s: %v, want %s", band, got, want)
		}
	}
	if got := svgValues(fig, "Grades"); !reflect.DeepEqual(got, []string{"1", "1", "2"}) {
		t.Errorf("bars %v, want 1 (10–19%%), 1 (50–59%%), 2 (90–100%%)", got)
	}
	if figure(res.Body, fmt.Sprintf("grades-%d", ungraded.ID)) != "" {
		t.Errorf("an activity without grades has a chart")
	}
}

// TestSyncPageCharts: per platform the scores sent and failed per day, and the roster sizes per resource link.
func TestSyncPageCharts(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	c := inst.Client(t)
	inst.Login(t, c, "admin", apptest.AdminPassword)
	if res := inst.Get(t, c, "/admin/sync"); !strings.Contains(res.Body, "Nothing sent or listed in the last 30 days.") {
		t.Fatalf("empty sync charts: %s", res.Body)
	}
	moodle := createRegistration(t, inst, "Moodle", "https://moodle.example")
	ex := inst.ExampleCourse(t, "")
	res1 := inst.Publish(t, publish.Input{CourseID: ex.Course.ID, Name: "Astronomy", Enabled: true, GradeSync: true, MemberSync: true,
		MemberSyncMode: publish.SyncEnrolAndUnenrol, StudentMode: publish.ModeAuto, TeacherMode: publish.ModeAuto,
		LearnerRole: course.RoleStudent, InstructorRole: course.RoleTeacher})
	link := func(id, ctxTitle string) publish.ResourceLink {
		l := publish.ResourceLink{RegistrationID: moodle.ID, DeploymentID: "d1", LinkID: id, PublishedResourceID: res1.ID,
			ContextID: "ctx-" + id, ContextTitle: ctxTitle, CreatedAt: time.Now(), UpdatedAt: time.Now()}
		if err := inst.Store.SaveResourceLink(ctx, &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	l1, l2 := link("rl-1", "Year 1"), link("rl-2", "Year 2")
	now := time.Now().UTC()
	yesterday := now.Add(-24 * time.Hour)
	var confirmed []jobs.Confirmed
	for i := range 3 {
		u := inst.EnsureUser(t, account.NewUser{Username: "s" + uuid.NewString()[:8], Password: "a long password 1"})
		confirmed = append(confirmed, jobs.Confirmed{Target: "t", Sent: jobs.SentScore{LinkID: l1.ID, UserID: u.ID, LineItemURL: "https://moodle.example/li", SentAt: yesterday}})
		if i == 0 {
			if err := inst.Store.RecordDeliveries(ctx, nil, []jobs.Failure{{LinkID: l1.ID, UserID: u.ID, Error: "refused", At: now}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := inst.Store.RecordDeliveries(ctx, confirmed, nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		l       publish.ResourceLink
		at      time.Time
		members int
	}{{l1, yesterday, 40}, {l1, now, 42}, {l2, now, 7}} {
		if err := inst.Store.RecordRosterSize(ctx, s.l.ID, 1, s.members, s.at); err != nil {
			t.Fatal(err)
		}
	}

	res := inst.Get(t, c, "/admin/sync")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("sync page: %d", res.StatusCode)
	}
	scores := figure(res.Body, "scores-1")
	checkPicture(t, scores, "Scores sent to Moodle, last 30 days")
	if got := numbers(scores, yesterday.Format("2 Jan")); !reflect.DeepEqual(got, []string{"3", "0", "3"}) {
		t.Errorf("yesterday: %v, want 3 sent", got)
	}
	if got := numbers(scores, now.Format("2 Jan")); !reflect.DeepEqual(got, []string{"0", "1", "1"}) {
		t.Errorf("today: %v, want 1 failed", got)
	}
	if got := svgValues(scores, "Failed"); !reflect.DeepEqual(got, []string{"1"}) {
		t.Errorf("failed bars %v", got)
	}
	if dump := os.Getenv("CHART_DUMP"); dump != "" {
		_ = os.WriteFile(dump, []byte(res.Body), 0o644)
	}
	rosters := figure(res.Body, "rosters")
	checkPicture(t, rosters, "Roster size per resource link, last 30 days")
	if !strings.Contains(rosters, "<th scope=\"col\">Astronomy in Year 1 (Moodle)</th><th scope=\"col\">Astronomy in Year 2 (Moodle)</th>") {
		t.Errorf("links not named, largest first: %s", rosters)
	}
	if got := numbers(rosters, now.Format("2 Jan")); !reflect.DeepEqual(got, []string{"42", "7"}) {
		t.Errorf("today's rosters %v", got)
	}
	if got := numbers(rosters, yesterday.Format("2 Jan")); !reflect.DeepEqual(got, []string{"40", "—"}) {
		t.Errorf("yesterday's rosters %v", got)
	}
	if got := svgValues(rosters, "Astronomy in Year 1 (Moodle)"); !reflect.DeepEqual(got, []string{"40", "42"}) {
		t.Errorf("roster points %v", got)
	}
}
