package web_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
)

const pw = "a long enough password"

// courseFixture starts an instance with the example course, a teacher, a student and an outsider, and a hidden
// page.
type courseFixture struct {
	inst                       *apptest.Instance
	res                        course.ImportResult
	hidden                     course.Activity
	teacher, student, outsider *http.Client
	studentID                  int64
}

func newCourseFixture(t *testing.T) *courseFixture {
	t.Helper()
	inst := apptest.Start(t, apptest.Options{})
	ctx := context.Background()
	teacher := inst.EnsureUser(t, account.NewUser{Username: "teacher", FullName: "Tess Teacher", Password: pw, IsCourseCreator: true})
	student := inst.EnsureUser(t, account.NewUser{Username: "student", FullName: "Sam Student", Password: pw})
	inst.EnsureUser(t, account.NewUser{Username: "outsider", Password: pw})
	data, err := os.ReadFile("../../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	svc := inst.App.Courses
	res, err := svc.Import(ctx, &teacher, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Enrol(ctx, &teacher, res.Course.ID, course.EnrolInput{Username: "student", Role: course.RoleStudent}); err != nil {
		t.Fatal(err)
	}
	hidden, err := svc.CreateActivity(ctx, &teacher, res.Course.ID, course.ActivityInput{Type: course.TypePage,
		Name: "Answer key (secret)", Body: "The secret answer is 42.", Visible: false})
	if err != nil {
		t.Fatal(err)
	}
	f := &courseFixture{inst: inst, res: res, hidden: hidden, studentID: student.ID}
	f.teacher, f.student, f.outsider = inst.Client(t), inst.Client(t), inst.Client(t)
	inst.Login(t, f.teacher, "teacher", pw)
	inst.Login(t, f.student, "student", pw)
	inst.Login(t, f.outsider, "outsider", pw)
	return f
}

func TestCoursePagePermissions(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	cid, page, quiz, asg := f.res.Course.ID, f.res.Activities[0].ID, f.res.Activities[1].ID, f.res.Activities[2].ID
	anon := f.inst.Client(t)
	tests := []struct {
		name       string
		client     *http.Client
		path       string
		wantStatus int
		want       string
		notWant    string
	}{
		{"anonymous is sent to sign in", anon, fmt.Sprintf("/courses/%d", cid), http.StatusSeeOther, "", ""},
		{"outsider cannot see the course", f.outsider, fmt.Sprintf("/courses/%d", cid), http.StatusForbidden, "You are not enrolled in this course", "Solar System quiz"},
		{"outsider cannot open an activity", f.outsider, fmt.Sprintf("/activities/%d", quiz), http.StatusForbidden, "not enrolled", "closest to the Sun"},
		{"outsider's dashboard lists nothing", f.outsider, "/", http.StatusOK, "not enrolled in any course", "Introduction to Astronomy"},
		{"student sees the course without the hidden page", f.student, fmt.Sprintf("/courses/%d", cid), http.StatusOK, "Solar System quiz", "Answer key"},
		{"student cannot open the hidden page", f.student, fmt.Sprintf("/activities/%d", f.hidden.ID), http.StatusNotFound, "not available to you", "secret answer"},
		{"student cannot open the grader report", f.student, fmt.Sprintf("/courses/%d/grades", cid), http.StatusForbidden, "Not allowed", ""},
		{"student cannot download the grades", f.student, fmt.Sprintf("/courses/%d/grades.csv", cid), http.StatusForbidden, "", ""},
		{"student cannot manage enrolments", f.student, fmt.Sprintf("/courses/%d/enrolments", cid), http.StatusForbidden, "", ""},
		{"student cannot edit the course", f.student, fmt.Sprintf("/courses/%d/edit", cid), http.StatusForbidden, "", ""},
		{"student cannot edit an activity", f.student, fmt.Sprintf("/activities/%d/edit", page), http.StatusForbidden, "", ""},
		{"student cannot export", f.student, fmt.Sprintf("/courses/%d/export", cid), http.StatusForbidden, "", ""},
		{"student cannot create courses", f.student, "/courses/new", http.StatusForbidden, "You cannot create courses", ""},
		{"student sees My grades", f.student, fmt.Sprintf("/courses/%d/mygrades", cid), http.StatusOK, "no grades yet", ""},
		{"student's dashboard lists the course", f.student, "/", http.StatusOK, "Introduction to Astronomy", ""},
		{"student sees the quiz form, not the answer key", f.student, fmt.Sprintf("/activities/%d", quiz), http.StatusOK, `id="quiz-form"`, "Right answer:"},
		{"student sees the assignment form", f.student, fmt.Sprintf("/activities/%d", asg), http.StatusOK, `id="submit-assignment"`, "Submissions"},
		{"teacher sees the hidden page", f.teacher, fmt.Sprintf("/courses/%d", cid), http.StatusOK, "Answer key (secret)", ""},
		{"teacher opens the grader report", f.teacher, fmt.Sprintf("/courses/%d/grades", cid), http.StatusOK, "Sam Student", ""},
		{"teacher manages enrolments", f.teacher, fmt.Sprintf("/courses/%d/enrolments", cid), http.StatusOK, "Sam Student", ""},
		{"teacher previews the quiz", f.teacher, fmt.Sprintf("/activities/%d", quiz), http.StatusOK, "Right answer: Mercury", `id="quiz-form"`},
		{"embedded layout has no navigation", f.student, fmt.Sprintf("/courses/%d?embed=1", cid), http.StatusOK, `class="embedded"`, `nav aria-label="Main"`},
		{"unknown course", f.teacher, "/courses/999999", http.StatusNotFound, "Not found", ""},
		{"malformed id", f.teacher, "/courses/abc", http.StatusNotFound, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.inst.Get(t, tt.client, tt.path)
			if r.StatusCode != tt.wantStatus || !strings.Contains(r.Body, tt.want) || (tt.notWant != "" && strings.Contains(r.Body, tt.notWant)) {
				t.Fatalf("GET %s: %d, want %d containing %q and not %q:\n%s", tt.path, r.StatusCode, tt.wantStatus, tt.want, tt.notWant, r.Body)
			}
		})
	}
	if r := f.inst.Get(t, f.teacher, fmt.Sprintf("/courses/%d/grades.csv", cid)); r.StatusCode != http.StatusOK ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || !strings.Contains(r.Body, "student,Sam Student") {
		t.Fatalf("teacher CSV: %d %s %q", r.StatusCode, r.Header.Get("Content-Type"), r.Body)
	}
}

func TestCourseBadInput(t *testing.T) {
	t.Parallel()
	f := newCourseFixture(t)
	quiz, asg := f.res.Activities[1].ID, f.res.Activities[2].ID
	post := func(c *http.Client, path string, form url.Values) apptest.Response {
		t.Helper()
		return f.inst.PostForm(t, c, path, form)
	}
	gradePath := fmt.Sprintf("/activities/%d/grades/%d", asg, f.studentID)
	if r := post(f.student, gradePath, url.Values{"grade": {"20"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("student grading: %d", r.StatusCode)
	}
	for _, g := range []string{"25", "-1", "many"} {
		if r := post(f.teacher, gradePath, url.Values{"grade": {g}}); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "grade") {
			t.Fatalf("grade %s: %d %s", g, r.StatusCode, r.Body)
		}
	}
	if r := post(f.outsider, fmt.Sprintf("/activities/%d/submission", asg), url.Values{"text": {"hi"}}); r.StatusCode != http.StatusForbidden {
		t.Fatalf("outsider submitting: %d", r.StatusCode)
	}
	if r := post(f.student, fmt.Sprintf("/activities/%d/submission", f.hidden.ID), url.Values{"text": {"hi"}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("submitting to a hidden activity: %d", r.StatusCode)
	}
	for i := 1; i <= 3; i++ {
		r := post(f.student, fmt.Sprintf("/activities/%d/attempts", quiz), url.Values{"q_closest": {"1"}})
		want := http.StatusSeeOther
		if i == 3 {
			want = http.StatusConflict
		}
		if r.StatusCode != want || (i == 3 && !strings.Contains(r.Body, "No attempts left")) {
			t.Fatalf("attempt %d: %d, want %d: %s", i, r.StatusCode, want, r.Body)
		}
	}
	r := f.inst.Get(t, f.student, fmt.Sprintf("/activities/%d", quiz))
	if !strings.Contains(r.Body, "You have used all your attempts") || !strings.Contains(r.Body, "(right answer)") {
		t.Fatalf("quiz page after the last attempt:\n%s", r.Body)
	}

	// Past the due date.
	ctx := context.Background()
	teacher, _ := f.inst.Store.UserByUsername(ctx, "teacher")
	a := f.res.Activities[2]
	in := course.ActivityInput{Name: a.Name, Visible: true, MaxGrade: a.MaxGrade, DueAt: a.CreatedAt.Add(-1)}
	if _, err := f.inst.App.Courses.UpdateActivity(ctx, &teacher, a.ID, in); err != nil {
		t.Fatal(err)
	}
	if r := post(f.student, fmt.Sprintf("/activities/%d/submission", asg), url.Values{"text": {"late"}}); r.StatusCode != http.StatusConflict ||
		!strings.Contains(r.Body, "The due date has passed") {
		t.Fatalf("late submission: %d %s", r.StatusCode, r.Body)
	}

	// Markdown is rendered without scripts.
	p, err := f.inst.App.Courses.CreateActivity(ctx, &teacher, f.res.Course.ID, course.ActivityInput{Type: course.TypePage, Name: "XSS",
		Visible: true, Body: "<script>alert(1)</script>\n\n[x](javascript:alert(2)) **bold**"})
	if err != nil {
		t.Fatal(err)
	}
	r = f.inst.Get(t, f.student, fmt.Sprintf("/activities/%d", p.ID))
	if strings.Contains(r.Body, "alert(") || !strings.Contains(r.Body, "<strong>bold</strong>") {
		t.Fatalf("page body:\n%s", r.Body)
	}
}

func TestCourseImportForm(t *testing.T) {
	t.Parallel()
	inst := apptest.Start(t, apptest.Options{})
	c := inst.Client(t)
	inst.Login(t, c, "admin", apptest.AdminPassword)
	data, _ := os.ReadFile("../../examples/course.json")
	upload := func(content []byte) apptest.Response {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "course.json")
		_, _ = fw.Write(content)
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, inst.URL+"/courses/import", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", inst.URL)
		return inst.Do(t, c, req)
	}
	bad := bytes.Replace(data, []byte(`"max_grade": 20,`), []byte(`"max_grade": -3,`), 1)
	if r := upload(bad); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "Nothing was imported") ||
		!strings.Contains(r.Body, "activities[2].max_grade") {
		t.Fatalf("bad file: %d %s", r.StatusCode, r.Body)
	}
	// A syntax mistake says the line and column, and what was expected there, in words; the page ties the message
	// to the fields (aria-describedby) and marks them invalid.
	broken := bytes.Replace(data, []byte(`"short_name": "ASTRO101",`), []byte(`"short_name": "ASTRO101"`), 1)
	if r := upload(broken); r.StatusCode != http.StatusBadRequest ||
		!strings.Contains(r.Body, "Nothing was imported. Line 6, column 5: expected a comma or a closing brace } after the field&#39;s value, found a double quote") ||
		strings.Contains(r.Body, "invalid character") || !strings.Contains(r.Body, `aria-describedby="import-error"`) {
		t.Fatalf("syntax mistake: %d %s", r.StatusCode, r.Body)
	}
	r := upload(data)
	if r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/courses/") {
		t.Fatalf("good file: %d %s", r.StatusCode, r.Body)
	}
	page := inst.Get(t, c, r.Header.Get("Location"))
	if !strings.Contains(page.Body, "Imported &#34;Introduction to Astronomy&#34; with 3 activities") || !strings.Contains(page.Body, "Observation report") {
		t.Fatalf("course page after import:\n%s", page.Body)
	}
	if r := upload(data); r.StatusCode != http.StatusBadRequest || !strings.Contains(r.Body, "already has that short name") {
		t.Fatalf("second import: %d %s", r.StatusCode, r.Body)
	}
	if home := inst.Get(t, c, "/"); !strings.Contains(home.Body, "Introduction to Astronomy") {
		t.Fatalf("dashboard: %s", home.Body)
	}
}
