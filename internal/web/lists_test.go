package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/jobs"
	"github.com/ltipub/ltipub/internal/launch"
	"github.com/ltipub/ltipub/internal/publish"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
	"github.com/ltipub/ltipub/internal/tool"
)

// Paged lists through HTTP (issue 18): thousands of rows, one page at a time, every row exactly once in a stable
// order, counts, filters that match nothing, and links that keep the filters.

// seedPeople adds n accounts "p00000"… named "Person 00000"… through the store, in one transaction.
func seedPeople(t testing.TB, st *sqlstore.Store, n int) []account.User {
	t.Helper()
	out := make([]account.User, n)
	now := time.Now()
	err := st.Tx(context.Background(), func(tx *sqlstore.Store) error {
		for i := range out {
			u := account.User{Username: fmt.Sprintf("p%05d", i), FullName: fmt.Sprintf("Person %05d", i),
				Email: fmt.Sprintf("p%05d@school.example", i), Auth: account.AuthLTI, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateUser(context.Background(), &u); err != nil {
				return err
			}
			out[i] = u
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// seedEnrolments enrols the people in a course through the store, in one transaction; each gets what kind says.
func seedEnrolments(t testing.TB, st *sqlstore.Store, courseID int64, people []account.User,
	kind func(i int) (course.Role, course.Status, course.Method)) {
	t.Helper()
	now := time.Now()
	err := st.Tx(context.Background(), func(tx *sqlstore.Store) error {
		for i, u := range people {
			role, status, method := kind(i)
			e := course.Enrolment{CourseID: courseID, UserID: u.ID, Role: role, Status: status, Method: method, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateEnrolment(context.Background(), &e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// enrolmentKind: every 100th a teacher, every 7th suspended, every 3rd made by a launch.
func enrolmentKind(i int) (course.Role, course.Status, course.Method) {
	role, status, method := course.RoleStudent, course.StatusActive, course.MethodManual
	if i%100 == 0 {
		role = course.RoleTeacher
	}
	if i%7 == 0 {
		status = course.StatusSuspended
	}
	if i%3 == 0 {
		method = course.MethodLTI
	}
	return role, status, method
}

var (
	enrolmentRowRe = regexp.MustCompile(`<tr data-id="(\d+)" data-user="([^"]+)">`)
	nextRe         = regexp.MustCompile(`<a href="([^"]*)" id="next-page"`)
	prevRe         = regexp.MustCompile(`<a href="([^"]*)" id="prev-page"`)
)

func linkOf(re *regexp.Regexp, body string) string {
	m := re.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// walk follows Next links from path and gives every row the pattern's group 2 finds, in order, checking on each
// page that the Next link still holds keep.
func walk(t *testing.T, inst *apptest.Instance, c *http.Client, path string, row *regexp.Regexp, keep ...string) []string {
	t.Helper()
	var out []string
	for pages := 0; path != ""; pages++ {
		if pages > 1000 {
			t.Fatal("more than 1000 pages")
		}
		resp := inst.Get(t, c, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Body)
		}
		for _, m := range row.FindAllStringSubmatch(resp.Body, -1) {
			out = append(out, m[len(m)-1])
		}
		path = linkOf(nextRe, resp.Body)
		plain, _ := url.QueryUnescape(path)
		for _, k := range keep {
			if path != "" && !strings.Contains(plain, strings.ReplaceAll(k, "+", " ")) {
				t.Fatalf("the Next link %q lost %q", path, k)
			}
		}
	}
	return out
}

// assertOnceInOrder checks that got holds want exactly, in the same order: no row twice, none missing.
func assertOnceInOrder(t *testing.T, got, want []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, g := range got {
		if seen[g] {
			t.Fatalf("%s shown twice", g)
		}
		seen[g] = true
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows shown, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d is %s, want %s", i, got[i], want[i])
		}
	}
}

type listFixture struct {
	inst    *apptest.Instance
	course  course.ImportResult
	teacher *http.Client
	people  []account.User
}

// newListFixture: a teacher's course with n people enrolled (enrolmentKind) and the teacher's own enrolment.
func newListFixture(t testing.TB, n int, kind func(int) (course.Role, course.Status, course.Method)) *listFixture {
	inst := apptest.Start(t, apptest.Options{})
	teacher := inst.EnsureUser(t, account.NewUser{Username: "teacher", FullName: "Tess Teacher", Password: pw, IsCourseCreator: true})
	res, err := inst.App.Courses.Import(context.Background(), &teacher, exampleCourse(t))
	if err != nil {
		t.Fatal(err)
	}
	f := &listFixture{inst: inst, course: res, teacher: inst.Client(t)}
	f.people = seedPeople(t, inst.Store, n)
	seedEnrolments(t, inst.Store, res.Course.ID, f.people, kind)
	inst.Login(t, f.teacher, "teacher", pw)
	return f
}

func TestEnrolmentsPaging5000(t *testing.T) {
	t.Parallel()
	const n = 5000
	f := newListFixture(t, n, enrolmentKind)
	inst, c := f.inst, f.teacher
	base := fmt.Sprintf("/courses/%d/enrolments", f.course.Course.ID)

	first := inst.Get(t, c, base)
	if first.StatusCode != http.StatusOK {
		t.Fatalf("first page: %d %s", first.StatusCode, first.Body)
	}
	rows := enrolmentRowRe.FindAllStringSubmatch(first.Body, -1)
	if len(rows) != 50 || rows[0][2] != "p00000" || rows[49][2] != "p00049" || !strings.Contains(first.Body, "Showing 1–50 of 5,001 enrolments.") {
		t.Fatalf("first page: %d rows, count %q", len(rows), regexp.MustCompile(`id="list-count"[^>]*>[^<]*`).FindString(first.Body))
	}
	if strings.Count(first.Body, "<form") > 4 || linkOf(prevRe, first.Body) != "" || linkOf(nextRe, first.Body) != base+"?page=2" {
		t.Fatalf("first page: %d forms, prev %q, next %q", strings.Count(first.Body, "<form"), linkOf(prevRe, first.Body), linkOf(nextRe, first.Body))
	}
	if !strings.Contains(first.Body, `aria-label="Next page of enrolments"`) || !strings.Contains(first.Body, `<label for="select-`) {
		t.Fatal("the pager links or the row checkboxes have no accessible names")
	}
	second := inst.Get(t, c, base+"?page=2")
	if m := enrolmentRowRe.FindStringSubmatch(second.Body); m == nil || m[2] != "p00050" || !strings.Contains(second.Body, "Showing 51–100 of 5,001 enrolments.") ||
		linkOf(prevRe, second.Body) != base {
		t.Fatalf("second page starts at %v, prev %q", m, linkOf(prevRe, second.Body))
	}

	// Every enrolment once, by name (the teacher, "Tess", after the "Person"s), at the largest page size.
	want := make([]string, 0, n+1)
	for _, p := range f.people {
		want = append(want, p.Username)
	}
	want = append(want, "teacher")
	assertOnceInOrder(t, walk(t, inst, c, base+"?size=200", enrolmentRowRe, "size=200"), want)
	if big := inst.Get(t, c, base+"?size=200"); len(big.Body) > 200<<10 {
		t.Fatalf("a page of 200 enrolments is %d bytes", len(big.Body))
	}
	if capped := inst.Get(t, c, base+"?size=5000"); len(enrolmentRowRe.FindAllString(capped.Body, -1)) != 200 {
		t.Fatal("size=5000 was not held to 200 rows")
	}

	// Filters: role, status and method together, through pages that keep them.
	var wantFiltered []string
	for i, p := range f.people {
		if _, s, m := enrolmentKind(i); s == course.StatusSuspended && m == course.MethodLTI {
			wantFiltered = append(wantFiltered, p.Username)
		}
	}
	filtered := base + "?status=suspended&method=lti&size=25"
	page := inst.Get(t, c, filtered)
	if !strings.Contains(page.Body, fmt.Sprintf("Showing 1–25 of %d enrolments that match.", len(wantFiltered))) {
		t.Fatalf("filtered count: %s", regexp.MustCompile(`id="list-count"[^>]*>[^<]*`).FindString(page.Body))
	}
	assertOnceInOrder(t, walk(t, inst, c, filtered, enrolmentRowRe, "status=suspended", "method=lti", "size=25"), wantFiltered)
	teachers := walk(t, inst, c, base+"?role=teacher", enrolmentRowRe, "role=teacher")
	if len(teachers) != n/100+1 || teachers[0] != "p00000" || teachers[len(teachers)-1] != "teacher" {
		t.Fatalf("teachers: %d %v", len(teachers), teachers)
	}
	if sel := inst.Get(t, c, base+"?role=teacher"); !strings.Contains(sel.Body, `<option value="teacher" selected>`) {
		t.Fatal("the role menu does not show the filter in use")
	}

	// Search by a part of the name, the username or the email, in any case.
	for _, q := range []string{"person 0432", "P0432"} {
		got := walk(t, inst, c, base+"?q="+url.QueryEscape(q), enrolmentRowRe)
		if len(got) != 10 || got[0] != "p04320" || got[9] != "p04329" {
			t.Fatalf("search %q: %v", q, got)
		}
	}
	found := inst.Get(t, c, base+"?q=04321%40SCHOOL")
	if !strings.Contains(found.Body, "Showing 1–1 of 1 enrolments that match.") || !strings.Contains(found.Body, `data-user="p04321"`) || !strings.Contains(found.Body, `value="04321@SCHOOL"`) {
		t.Fatalf("search p04321: %s", regexp.MustCompile(`id="list-count"[^>]*>[^<]*`).FindString(found.Body))
	}
	// Nothing matches; past the end; a filter that is not one.
	if none := inst.Get(t, c, base+"?q=nobody-here&role=student"); !strings.Contains(none.Body, "No enrolments match these filters.") ||
		!strings.Contains(none.Body, `id="clear-filters"`) || enrolmentRowRe.MatchString(none.Body) {
		t.Fatalf("no match: %s", none.Body)
	}
	if past := inst.Get(t, c, base+"?page=999"); past.StatusCode != http.StatusOK || !strings.Contains(past.Body, "Page 999 is past the end") {
		t.Fatalf("past the end: %d", past.StatusCode)
	}
	for _, bad := range []string{"?role=boss", "?page=two", "?status=gone"} {
		if r := inst.Get(t, c, base+bad); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "is not") {
			t.Fatalf("%s: %d %s", bad, r.StatusCode, r.Body)
		}
	}
}

func TestEnrolmentsBulkActions(t *testing.T) {
	t.Parallel()
	f := newListFixture(t, 120, enrolmentKind)
	inst, c, ctx := f.inst, f.teacher, context.Background()
	cid := f.course.Course.ID
	base := fmt.Sprintf("/courses/%d/enrolments", cid)
	page := inst.Get(t, c, base+"?q=person+0000&status=active")
	rows := enrolmentRowRe.FindAllStringSubmatch(page.Body, -1)
	if len(rows) != 8 { // 00001…00009 without 00007
		t.Fatalf("%d rows", len(rows))
	}
	back := html.UnescapeString(regexp.MustCompile(`name="back" value="([^"]*)"`).FindStringSubmatch(page.Body)[1])
	form := url.Values{"action": {"suspend"}, "back": {back}, "id": {rows[0][1], rows[1][1], rows[2][1]}}

	// First the confirmation: it names the three, and nothing has changed yet.
	confirm := inst.PostForm(t, c, base+"/bulk", form)
	if confirm.StatusCode != http.StatusOK || !strings.Contains(confirm.Body, "Change 3 enrolment(s)?") ||
		!strings.Contains(confirm.Body, "Person 00001") || !strings.Contains(confirm.Body, "Person 00003") || !strings.Contains(confirm.Body, `id="bulk-do"`) {
		t.Fatalf("confirmation: %d %s", confirm.StatusCode, confirm.Body)
	}
	statusOf := func(username string) course.Status {
		es, _, err := inst.Store.EnrolmentsPage(ctx, cid, course.EnrolmentFilter{Query: username})
		if err != nil || len(es) != 1 {
			t.Fatalf("%s: %v %v", username, es, err)
		}
		return es[0].Status
	}
	if statusOf("p00001") != course.StatusActive {
		t.Fatal("the confirmation step changed the enrolment")
	}
	// A cross-site form post is refused before anything happens.
	req, _ := http.NewRequest(http.MethodPost, inst.URL+base+"/bulk", strings.NewReader(form.Encode()+"&confirm=yes"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := inst.Do(t, noRedirect(c), req); r.StatusCode != http.StatusForbidden || statusOf("p00001") != course.StatusActive {
		t.Fatalf("cross-site bulk post: %d", r.StatusCode)
	}
	// Confirmed: all three, and back to the same filtered list.
	form.Set("confirm", "yes")
	done := inst.PostForm(t, noRedirect(c), base+"/bulk", form)
	if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != base+"?q=person+0000&status=active" {
		t.Fatalf("apply: %d %q", done.StatusCode, done.Header.Get("Location"))
	}
	for _, u := range []string{"p00001", "p00002", "p00003"} {
		if statusOf(u) != course.StatusSuspended {
			t.Fatalf("%s is not suspended", u)
		}
	}
	if statusOf("p00004") != course.StatusActive {
		t.Fatal("an enrolment that was not selected changed")
	}
	if after := inst.Get(t, c, done.Header.Get("Location")); !strings.Contains(after.Body, "Done: suspend for 3 enrolment(s).") ||
		len(enrolmentRowRe.FindAllString(after.Body, -1)) != 5 {
		t.Fatalf("the list after: %s", after.Body)
	}

	// Role and unenrol; an id of another course's enrolment is not touched.
	other, err := inst.App.Courses.CreateCourse(ctx, &inst.Admin, course.CourseInput{FullName: "Other", ShortName: "other", Visible: true})
	if err != nil {
		t.Fatal(err)
	}
	oe := course.Enrolment{CourseID: other.ID, UserID: f.people[5].ID, Role: course.RoleStudent, Status: course.StatusActive, Method: course.MethodManual,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := inst.Store.CreateEnrolment(ctx, &oe); err != nil {
		t.Fatal(err)
	}
	if r := inst.PostForm(t, noRedirect(c), base+"/bulk", url.Values{"action": {"role:teacher"}, "confirm": {"yes"}, "id": {rows[3][1]}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("make teacher: %d %s", r.StatusCode, r.Body)
	}
	if es, _, _ := inst.Store.EnrolmentsPage(ctx, cid, course.EnrolmentFilter{Query: "p00004"}); es[0].Role != course.RoleTeacher {
		t.Fatalf("p00004 is %s", es[0].Role)
	}
	r := inst.PostForm(t, noRedirect(c), base+"/bulk", url.Values{"action": {"unenrol"}, "confirm": {"yes"},
		"id": {rows[4][1], strconv.FormatInt(oe.ID, 10)}})
	if r.StatusCode != http.StatusSeeOther {
		t.Fatalf("unenrol: %d %s", r.StatusCode, r.Body)
	}
	if _, n, _ := inst.Store.EnrolmentsPage(ctx, cid, course.EnrolmentFilter{}); n != 120 {
		t.Fatalf("%d enrolments left, want 120 (121 less one)", n)
	}
	if _, n, _ := inst.Store.EnrolmentsPage(ctx, other.ID, course.EnrolmentFilter{}); n != 2 {
		t.Fatalf("the other course's enrolment was removed (%d left)", n)
	}

	// Refusals the teacher can act on: nothing selected, an unknown action, their own teacher enrolment.
	mine, _, _ := inst.Store.EnrolmentsPage(ctx, cid, course.EnrolmentFilter{Query: "teacher", Role: course.RoleTeacher, Method: course.MethodManual})
	for _, tt := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"action": {"suspend"}}, "tick the enrolments"},
		{url.Values{"action": {"explode"}, "id": {rows[5][1]}}, "is not one of"},
		{url.Values{"action": {"unenrol"}, "confirm": {"yes"}, "id": {strconv.FormatInt(mine[0].ID, 10)}}, "your own teacher enrolment"},
	} {
		if r := inst.PostForm(t, c, base+"/bulk", tt.form); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, tt.want) {
			t.Fatalf("%v: %d %s", tt.form, r.StatusCode, r.Body)
		}
	}
	// A student of the course cannot use it.
	student := inst.Client(t)
	inst.EnsureUser(t, account.NewUser{Username: "learner", Password: pw})
	if _, err := inst.App.Courses.Enrol(ctx, &inst.Admin, cid, course.EnrolInput{Username: "learner", Role: course.RoleStudent}); err != nil {
		t.Fatal(err)
	}
	inst.Login(t, student, "learner", pw)
	if r := inst.PostForm(t, student, base+"/bulk", url.Values{"action": {"unenrol"}, "confirm": {"yes"}, "id": {rows[5][1]}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("a student's bulk post: %d", r.StatusCode)
	}

	// One enrolment's own page saves and comes back to the list it was opened from.
	edit := inst.Get(t, c, fmt.Sprintf("%s/%s?back=%s", base, rows[5][1], url.QueryEscape("q=person&page=2")))
	if edit.StatusCode != http.StatusOK || !strings.Contains(edit.Body, `id="save-enrolment"`) {
		t.Fatalf("edit page: %d", edit.StatusCode)
	}
	saved := inst.PostForm(t, noRedirect(c), base+"/"+rows[5][1], url.Values{"role": {"student"}, "status": {"suspended"}, "back": {"q=person&page=2"}})
	if saved.StatusCode != http.StatusSeeOther || saved.Header.Get("Location") != base+"?page=2&q=person" {
		t.Fatalf("save: %d %q", saved.StatusCode, saved.Header.Get("Location"))
	}
}

var studentRowRe = regexp.MustCompile(`<tr data-user="(\d+)"><th scope="row">([^<]+)</th>`)

func TestGraderReportPaging5000(t *testing.T) {
	t.Parallel()
	const n = 5000
	f := newListFixture(t, n, func(int) (course.Role, course.Status, course.Method) {
		return course.RoleStudent, course.StatusActive, course.MethodManual
	})
	inst, c := f.inst, f.teacher
	quiz := apptest.Activity(f.course, course.TypeQuiz)
	seedGrades(t, inst.Store, quiz, f.people, func(i int) float64 { return float64(i % 11) })
	base := fmt.Sprintf("/courses/%d/grades", f.course.Course.ID)

	first := inst.Get(t, c, base)
	rows := studentRowRe.FindAllStringSubmatch(first.Body, -1)
	if first.StatusCode != http.StatusOK || len(rows) != 50 || rows[0][2] != "Person 00000" || !strings.Contains(first.Body, "Showing 1–50 of 5,000 students.") {
		t.Fatalf("first page: %d, %d rows", first.StatusCode, len(rows))
	}
	if !strings.Contains(first.Body, `aria-label="Next page of students"`) || linkOf(nextRe, first.Body) != base+"?page=2" {
		t.Fatal("no link to the next page of students")
	}
	want := make([]string, n)
	for i, p := range f.people {
		want[i] = p.FullName
	}
	assertOnceInOrder(t, walk(t, inst, c, base+"?size=200", studentRowRe, "size=200"), want)
	got := walk(t, inst, c, base+"?q=person+0432&size=3", studentRowRe, "q=person+0432", "size=3")
	if len(got) != 10 || got[0] != "Person 04320" {
		t.Fatalf("search: %v", got)
	}
	// A row shows its grade: Person 04321 has 4321 % 11 = 9.
	if one := inst.Get(t, c, base+"?q=p04321"); !strings.Contains(one.Body, "Showing 1–1 of 1 students that match.") || !regexp.MustCompile(`Person 04321</th><td>9<`).MatchString(one.Body) {
		t.Fatalf("one student: %s", one.Body)
	}
	if none := inst.Get(t, c, base+"?q=nobody"); !strings.Contains(none.Body, "No students match these filters.") || studentRowRe.MatchString(none.Body) {
		t.Fatal("no match")
	}

	// The CSV has every student, in the same order, with their grades.
	resp := inst.Get(t, c, base+".csv")
	lines, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("csv: %d %v", resp.StatusCode, err)
	}
	if len(lines) != n+1 || lines[1][0] != "p00000" || lines[n][0] != "p04999" {
		t.Fatalf("csv: %d lines, first %v", len(lines), lines[1])
	}
	col := -1
	for i, h := range lines[0] {
		if strings.HasPrefix(h, quiz.Name) {
			col = i
		}
	}
	if col < 0 || lines[4322][col] != "9" || lines[4322][0] != "p04321" {
		t.Fatalf("csv: header %v, line %v", lines[0], lines[4322])
	}
}

func exampleCourse(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("../../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// seedGrades gives each person a grade in the activity through the store, in one transaction.
func seedGrades(t testing.TB, st *sqlstore.Store, a course.Activity, people []account.User, grade func(i int) float64) {
	t.Helper()
	err := st.Tx(context.Background(), func(tx *sqlstore.Store) error {
		for i, p := range people {
			if _, err := tx.PutGrade(context.Background(), course.GradeChange{ActivityID: a.ID, UserID: p.ID, Grade: grade(i),
				MaxGrade: a.MaxGrade, At: time.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var launchRowRe = regexp.MustCompile(`<a href="/admin/launches/(\d+)" class="inspect"`)

// The launch log past its first page: 5,000 entries over two registrations, filtered by registration, outcome,
// code, user and time, newest first.
func TestLaunchLogPaging5000(t *testing.T) {
	t.Parallel()
	const n = 5000
	inst := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	regA := tool.Registration{Name: "Moodle A", Issuer: "https://a.example", ClientID: "a"}
	regB := tool.Registration{Name: "Canvas B", Issuer: "https://b.example", ClientID: "b"}
	for _, r := range []*tool.Registration{&regA, &regB} {
		if err := inst.Store.CreateRegistration(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	entries := make([]launch.LogEntry, n)
	err := inst.Store.Tx(ctx, func(tx *sqlstore.Store) error {
		for i := range entries {
			e := launch.LogEntry{At: start.Add(time.Duration(i) * time.Minute), Stage: launch.StageLaunch, Outcome: launch.Accepted,
				RegistrationID: regA.ID, Issuer: regA.Issuer, Subject: fmt.Sprintf("sub-%05d", i%500), RequestID: fmt.Sprintf("req-%05d", i)}
			if i%2 == 1 {
				e.RegistrationID, e.Issuer = regB.ID, regB.Issuer
			}
			if i%4 == 0 {
				e.Outcome, e.Code, e.Reason = launch.Refused, "unknown_deployment", "not a deployment"
				if i%8 == 0 {
					e.Code = "bad_signature"
				}
			}
			if err := tx.RecordLaunch(ctx, &e); err != nil {
				return err
			}
			entries[i] = e
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A platform user linked to an account is found by the account's username too.
	who := inst.EnsureUser(t, account.NewUser{Username: "maria", Password: pw})
	if _, err := inst.Store.LinkLTIUser(ctx, publish.LTIUser{Issuer: regB.Issuer, Subject: "sub-00001", RegistrationID: regB.ID, UserID: who.ID, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	admin := adminClient(t, inst)
	ids := func(match func(i int, e launch.LogEntry) bool) []string {
		var out []string
		for i := n - 1; i >= 0; i-- {
			if match(i, entries[i]) {
				out = append(out, strconv.FormatInt(entries[i].ID, 10))
			}
		}
		return out
	}

	first := inst.Get(t, admin, "/admin/launches")
	if got := launchRowRe.FindAllStringSubmatch(first.Body, -1); len(got) != 50 || got[0][1] != strconv.FormatInt(entries[n-1].ID, 10) ||
		!strings.Contains(first.Body, "Showing 1–50 of 5,000 launches.") {
		t.Fatalf("first page: %d rows", len(got))
	}
	if !strings.Contains(first.Body, `aria-label="Next page of launches"`) || !strings.Contains(first.Body, `<option value="bad_signature">`) {
		t.Fatal("no pager link or no code filter")
	}
	assertOnceInOrder(t, walk(t, inst, admin, "/admin/launches?size=200", launchRowRe), ids(func(int, launch.LogEntry) bool { return true }))

	// Each filter, alone and together, through pages that keep every one of them.
	reg := strconv.FormatInt(regB.ID, 10)
	for _, tt := range []struct {
		query string
		match func(i int, e launch.LogEntry) bool
	}{
		{"registration=" + reg, func(i int, _ launch.LogEntry) bool { return i%2 == 1 }},
		{"outcome=refused", func(i int, _ launch.LogEntry) bool { return i%4 == 0 }},
		{"code=bad_signature&outcome=refused", func(i int, _ launch.LogEntry) bool { return i%8 == 0 }},
		{"user=sub-00001", func(i int, _ launch.LogEntry) bool { return i%500 == 1 }},
		{"user=maria", func(i int, e launch.LogEntry) bool { return i%500 == 1 && e.RegistrationID == regB.ID }},
		{"from=2026-03-02T00:00&to=2026-03-02T12:00", func(i int, _ launch.LogEntry) bool { return i >= 1440 && i < 2160 }},
		{"registration=" + reg + "&outcome=accepted&from=2026-03-02T00:00", func(i int, _ launch.LogEntry) bool { return i%2 == 1 && i >= 1440 }},
	} {
		keep := strings.Split(tt.query, "&")
		want := ids(tt.match)
		got := walk(t, inst, admin, "/admin/launches?size=100&"+tt.query, launchRowRe, append(keep, "size=100")...)
		assertOnceInOrder(t, got, want)
		page := inst.Get(t, admin, "/admin/launches?"+tt.query)
		if !strings.Contains(page.Body, fmt.Sprintf("of %s launches that match.", thousands(len(want)))) {
			t.Fatalf("%s: count line %s", tt.query, regexp.MustCompile(`id="list-count"[^>]*>[^<]*`).FindString(page.Body))
		}
	}
	if none := inst.Get(t, admin, "/admin/launches?user=nobody"); !strings.Contains(none.Body, "No launches match these filters.") {
		t.Fatal("no match")
	}
	for _, bad := range []string{"?outcome=maybe", "?from=yesterday", "?from=2026-03-02T00:00&to=2026-03-01T00:00", "?registration=x"} {
		if r := inst.Get(t, admin, "/admin/launches"+bad); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: %d", bad, r.StatusCode)
		}
	}
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

var userRowRe = regexp.MustCompile(`<tr data-id="\d+">\s*<td><a href="/admin/users/\d+">([^<]+)</a>`)

// The users list: 5,000 accounts by username, searched by a part of the name or email.
func TestUserListPaging5000(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	people := seedPeople(t, inst.Store, 5000)
	admin := adminClient(t, inst)
	want := []string{"admin"}
	for _, p := range people {
		want = append(want, p.Username)
	}
	first := inst.Get(t, admin, "/admin/users")
	if !strings.Contains(first.Body, "Showing 1–50 of 5,001 accounts.") || !strings.Contains(first.Body, `aria-label="Next page of accounts"`) {
		t.Fatalf("first page: %s", first.Body)
	}
	assertOnceInOrder(t, walk(t, inst, admin, "/admin/users?size=200", userRowRe, "size=200"), want)
	got := walk(t, inst, admin, "/admin/users?q=PERSON+012&size=20", userRowRe, "q=PERSON 012", "size=20")
	assertOnceInOrder(t, got, want[1201:1301])
	if one := inst.Get(t, admin, "/admin/users?q=p01234%40school"); !strings.Contains(one.Body, "Showing 1–1 of 1 accounts that match.") {
		t.Fatal("search by email")
	}
	if none := inst.Get(t, admin, "/admin/users?q=nobody"); !strings.Contains(none.Body, "No accounts match these filters.") || userRowRe.MatchString(none.Body) {
		t.Fatal("no match")
	}
}

var runRowRe = regexp.MustCompile(`<tr data-run="(\d+)">`)

// The sync run history: 5,000 runs of both kinds recorded, filtered by kind, status and cause.
func TestSyncRunsPaging5000(t *testing.T) {
	t.Parallel()
	const n = 5000
	inst := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	runs := make([]jobs.Run, n)
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	err := inst.Store.Tx(ctx, func(tx *sqlstore.Store) error {
		for i := range runs {
			r := jobs.Run{Kind: jobs.KindGrades, Cause: jobs.CausePeriodic, Status: jobs.StatusRunning, StartedAt: start.Add(time.Duration(i) * time.Minute)}
			if i%2 == 1 {
				r.Kind = jobs.KindMembers
			}
			if i%5 == 0 {
				r.Cause = jobs.CauseManual
			}
			if err := tx.StartRun(ctx, &r); err != nil {
				return err
			}
			r.Status, r.FinishedAt, r.Sent = jobs.StatusOK, r.StartedAt.Add(time.Second), i
			if i%3 == 0 {
				r.Status, r.Error = jobs.StatusFailed, "the platform refused the token"
			}
			if err := tx.FinishRun(ctx, r); err != nil {
				return err
			}
			runs[i] = r
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// StartRun keeps about the latest 1,000 runs of each kind: the history pages through what it keeps.
	kept, err := inst.Store.Runs(ctx, "", 10*n)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) < 2000 || len(kept) >= n {
		t.Fatalf("%d runs kept of %d", len(kept), n)
	}
	index := map[int64]int{}
	for i, r := range runs {
		index[r.ID] = i
	}
	admin := adminClient(t, inst)
	ids := func(match func(i int) bool) []string {
		var out []string
		for _, r := range kept {
			if match(index[r.ID]) {
				out = append(out, strconv.FormatInt(r.ID, 10))
			}
		}
		return out
	}
	first := inst.Get(t, admin, "/admin/sync/runs")
	if first.StatusCode != http.StatusOK || !strings.Contains(first.Body, "Showing 1–50 of "+thousands(len(kept))+" sync runs.") ||
		!strings.Contains(first.Body, `aria-label="Next page of sync runs"`) {
		t.Fatalf("first page: %d %s", first.StatusCode, first.Body)
	}
	if sync := inst.Get(t, admin, "/admin/sync"); !strings.Contains(sync.Body, `href="/admin/sync/runs?kind=grades"`) {
		t.Fatal("the Sync page does not link to the run history")
	}
	assertOnceInOrder(t, walk(t, inst, admin, "/admin/sync/runs?size=200", runRowRe, "size=200"), ids(func(int) bool { return true }))
	assertOnceInOrder(t, walk(t, inst, admin, "/admin/sync/runs?kind=members&status=failed&cause=manual&size=20", runRowRe,
		"kind=members", "status=failed", "cause=manual", "size=20"), ids(func(i int) bool { return i%2 == 1 && i%3 == 0 && i%5 == 0 }))
	if none := inst.Get(t, admin, "/admin/sync/runs?status=held"); !strings.Contains(none.Body, "No sync runs match these filters.") {
		t.Fatal("no match")
	}
	if bad := inst.Get(t, admin, "/admin/sync/runs?kind=coffee"); bad.StatusCode != http.StatusBadRequest || !strings.Contains(bad.Body, "grades or members") {
		t.Fatalf("bad kind: %d", bad.StatusCode)
	}
}

var (
	resourceRowRe     = regexp.MustCompile(`<tr id="resource-(\d+)" data-uuid="[^"]+">`)
	registrationRowRe = regexp.MustCompile(`<tr data-id="(\d+)">\s*<td><a href="/admin/platforms/\d+">`)
)

// A course's published resources: 5,000 of them, by name, searched and filtered by status.
func TestPublishedPaging5000(t *testing.T) {
	t.Parallel()
	const n = 5000
	f := newListFixture(t, 0, enrolmentKind)
	inst, ctx := f.inst, context.Background()
	cid := f.course.Course.ID
	res := make([]publish.Resource, n)
	err := inst.Store.Tx(ctx, func(tx *sqlstore.Store) error {
		for i := range res {
			// Names repeat in pairs: the id breaks the tie, so a page boundary between two equal names loses neither.
			r := publish.Resource{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), CourseID: cid, Name: fmt.Sprintf("Unit %04d", i/2),
				Enabled: i%3 != 0, StudentMode: publish.ModeAuto, TeacherMode: publish.ModeAuto, LearnerRole: course.RoleStudent,
				InstructorRole: course.RoleTeacher, CreatedAt: time.Now(), UpdatedAt: time.Now()}
			if err := tx.CreateResource(ctx, &r); err != nil {
				return err
			}
			res[i] = r
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/courses/%d/published", cid)
	ids := func(match func(i int) bool) []string {
		var out []string
		for i, r := range res {
			if match(i) {
				out = append(out, strconv.FormatInt(r.ID, 10))
			}
		}
		return out
	}
	first := inst.Get(t, f.teacher, base)
	if first.StatusCode != http.StatusOK || !strings.Contains(first.Body, "Showing 1–50 of 5,000 published resources.") ||
		len(resourceRowRe.FindAllString(first.Body, -1)) != 50 || !strings.Contains(first.Body, `aria-label="Next page of published resources"`) {
		t.Fatalf("first page: %d", first.StatusCode)
	}
	if len(first.Body) > 200<<10 {
		t.Fatalf("a page of 50 published resources is %d bytes", len(first.Body))
	}
	assertOnceInOrder(t, walk(t, inst, f.teacher, base+"?size=25", resourceRowRe, "size=25"), ids(func(int) bool { return true }))
	assertOnceInOrder(t, walk(t, inst, f.teacher, base+"?enabled=no&q=unit+01", resourceRowRe, "enabled=no", "q=unit 01"),
		ids(func(i int) bool { return i%3 == 0 && i/2 >= 100 && i/2 < 200 }))
	if none := inst.Get(t, f.teacher, base+"?q=nothing"); !strings.Contains(none.Body, "No published resources match these filters.") {
		t.Fatal("no match")
	}
}

// The platforms list: 5,000 registrations, by name, searched by name, issuer or client ID, filtered by status.
func TestPlatformsPaging5000(t *testing.T) {
	t.Parallel()
	const n = 5000
	inst := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	regs := make([]tool.Registration, n)
	err := inst.Store.Tx(ctx, func(tx *sqlstore.Store) error {
		for i := range regs {
			r := tool.Registration{Name: fmt.Sprintf("College %04d", i/2), Issuer: fmt.Sprintf("https://lms%05d.example", i), ClientID: fmt.Sprintf("client-%05d", i)}
			if i%4 == 0 { // active: platform details and a deployment
				r.JWKSURL, r.AuthURL = r.Issuer+"/jwks", r.Issuer+"/auth"
			}
			if err := tx.CreateRegistration(ctx, &r); err != nil {
				return err
			}
			if i%4 == 0 {
				if err := tx.AddDeployment(ctx, &tool.Deployment{RegistrationID: r.ID, DeploymentID: "1"}); err != nil {
					return err
				}
			}
			regs[i] = r
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	admin := adminClient(t, inst)
	ids := func(match func(i int) bool) []string {
		var out []string
		for i, r := range regs {
			if match(i) {
				out = append(out, strconv.FormatInt(r.ID, 10))
			}
		}
		return out
	}
	first := inst.Get(t, admin, "/admin/platforms")
	if !strings.Contains(first.Body, "Showing 1–50 of 5,000 registrations.") || !strings.Contains(first.Body, `aria-label="Next page of registrations"`) {
		t.Fatalf("first page: %s", first.Body)
	}
	assertOnceInOrder(t, walk(t, inst, admin, "/admin/platforms?size=200", registrationRowRe, "size=200"), ids(func(int) bool { return true }))
	assertOnceInOrder(t, walk(t, inst, admin, "/admin/platforms?status=Active&size=30", registrationRowRe, "status=Active", "size=30"),
		ids(func(i int) bool { return i%4 == 0 }))
	assertOnceInOrder(t, walk(t, inst, admin, "/admin/platforms?q=CLIENT-012&status=Pending", registrationRowRe, "q=CLIENT-012", "status=Pending"),
		ids(func(i int) bool { return i >= 1200 && i < 1300 && i%4 != 0 }))
	if none := inst.Get(t, admin, "/admin/platforms?q=nowhere"); !strings.Contains(none.Body, "No registrations match these filters.") ||
		strings.Contains(none.Body, "No platform is registered yet") {
		t.Fatal("no match")
	}
}
