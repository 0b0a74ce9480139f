package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/ltipub/ltipub/internal/account"
	"github.com/ltipub/ltipub/internal/app/apptest"
	"github.com/ltipub/ltipub/internal/course"
	"github.com/ltipub/ltipub/internal/store/sqlstore"
)

// submit posts an assignment submission as multipart: fields, then files (name → content) in the "files" field.
func submit(t *testing.T, inst *apptest.Instance, c *http.Client, path string, fields url.Values, files ...[2]string) apptest.Response {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	for _, f := range files {
		fw, _ := mw.CreateFormFile("files", f[0])
		_, _ = io.WriteString(fw, f[1])
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, inst.URL+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", inst.URL)
	return inst.Do(t, c, req)
}

// TestAssignmentFileSubmissions, on both engines, through HTTP: a teacher makes an assignment taking online text
// and files (2 files of at most 10 KiB); a student submits text and two files; a third file, an oversized file
// and a 51 MiB upload are refused with their limits named and nothing changed; the files download for the
// student and the teacher only (another student and an outsider get 404); a file is removed; the teacher's
// grade and feedback show with the submission.
func TestAssignmentFileSubmissions(t *testing.T) {
	t.Parallel()
	for _, e := range []sqlstore.Engine{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(e), func(t *testing.T) { t.Parallel(); assignmentFileSubmissions(t, e) })
	}
}

func assignmentFileSubmissions(t *testing.T, engine sqlstore.Engine) {
	ctx := context.Background()
	inst := apptest.Start(t, apptest.Options{Engine: engine})
	teacher := inst.EnsureUser(t, account.NewUser{Username: "teacher", FullName: "Tess Teacher", Password: pw, IsCourseCreator: true})
	student := inst.EnsureUser(t, account.NewUser{Username: "student", FullName: "Sam Student", Password: pw})
	inst.EnsureUser(t, account.NewUser{Username: "other", FullName: "Olive Other", Password: pw})
	inst.EnsureUser(t, account.NewUser{Username: "outsider", Password: pw})
	data, err := os.ReadFile("../../examples/course.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := inst.App.Courses.Import(ctx, &teacher, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"student", "other"} {
		if _, err := inst.App.Courses.Enrol(ctx, &teacher, res.Course.ID, course.EnrolInput{Username: name, Role: course.RoleStudent}); err != nil {
			t.Fatal(err)
		}
	}
	clients := map[string]*http.Client{}
	for _, name := range []string{"teacher", "student", "other", "outsider"} {
		clients[name] = inst.Client(t)
		inst.Login(t, clients[name], name, pw)
	}
	tc, sc := clients["teacher"], clients["student"]

	// The teacher's form: no type ticked is refused; text and files with limits are kept.
	form := url.Values{"type": {"assignment"}, "name": {"Lab report"}, "visible": {"on"}, "max_grade": {"10"},
		"submission_types_shown": {"1"}, "max_files": {"2"}, "max_file_mib": {"0.009765625"}} // 10 KiB
	if r := inst.PostForm(t, tc, fmt.Sprintf("/courses/%d/activities/new", res.Course.ID), form); r.StatusCode != http.StatusBadRequest ||
		!strings.Contains(r.Body, "submission_types") {
		t.Fatalf("an assignment without a submission type: %d %s", r.StatusCode, r.Body)
	}
	form["submission_types"] = []string{"online_text", "file"}
	if r := inst.PostForm(t, tc, fmt.Sprintf("/courses/%d/activities/new", res.Course.ID), form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("new assignment: %d %s", r.StatusCode, r.Body)
	}
	acts, err := inst.Store.ListActivities(ctx, res.Course.ID)
	if err != nil {
		t.Fatal(err)
	}
	a := acts[len(acts)-1]
	if a.Name != "Lab report" || !a.Assignment.Text() || !a.Assignment.Files() || a.Assignment.FileLimit() != 2 || a.Assignment.ByteLimit() != 10<<10 {
		t.Fatalf("stored assignment %+v", a)
	}
	edit := inst.Get(t, tc, fmt.Sprintf("/activities/%d/edit", a.ID))
	for _, want := range []string{`id="submit-online-text" checked`, `id="submit-file" checked`, `name="max_files" type="number" min="1" max="20" step="1" value="2"`,
		`value="0.009765625"`} {
		if !strings.Contains(edit.Body, want) {
			t.Fatalf("edit form lacks %q:\n%s", want, edit.Body)
		}
	}

	path := fmt.Sprintf("/activities/%d/submission", a.ID)
	csv, pdf := strings.Repeat("1.0,0.31\n", 100), "%PDF-1.4 "+strings.Repeat("x", 3000)
	if r := submit(t, inst, sc, path, url.Values{"text": {"Friction grows with the normal force."}},
		[2]string{"data.csv", csv}, [2]string{`C:\Users\sam\report.pdf`, pdf}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("submission: %d %s", r.StatusCode, r.Body)
	}
	page := inst.Get(t, sc, fmt.Sprintf("/activities/%d", a.ID))
	links := regexp.MustCompile(`<a href="(/submission-files/\d+)" download>([^<]+)</a>`).FindAllStringSubmatch(page.Body, -1)
	if len(links) != 2 || links[0][2] != "data.csv" || links[1][2] != "report.pdf" || !strings.Contains(page.Body, "Friction grows") ||
		!strings.Contains(page.Body, "up to 2 files of at most 10 KiB each") {
		t.Fatalf("the student's page after submitting (links %q):\n%s", links, page.Body)
	}

	// Refusals, each naming the limit, and nothing changed.
	refusals := []struct {
		name  string
		files [][2]string
		code  int
		want  string
	}{
		{"a third file", [][2]string{{"photo.jpg", "jpeg"}}, http.StatusBadRequest, "at most 2 file(s) and the submission would hold 3"},
		{"a file over 10 KiB", [][2]string{{"big.csv", strings.Repeat("y", 10<<10+1)}}, http.StatusRequestEntityTooLarge, "takes files up to 10 KiB each"},
		{"an empty file", [][2]string{{"empty.txt", ""}}, http.StatusBadRequest, "is empty"},
	}
	for _, rf := range refusals {
		r := submit(t, inst, sc, path, url.Values{"text": {"changed"}}, rf.files...)
		if r.StatusCode != rf.code || !strings.Contains(r.Body, rf.want) {
			t.Fatalf("%s: %d, want %d with %q:\n%s", rf.name, r.StatusCode, rf.code, rf.want, r.Body)
		}
	}
	huge := upload(t, inst, sc, path, "huge.bin", io.LimitReader(zeros{}, 51<<20), nil)
	if huge.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(huge.Body, "over the 50 MiB one submission may hold") {
		t.Fatalf("a 51 MiB upload: %d %s", huge.StatusCode, huge.Body)
	}
	if sub, err := inst.App.Courses.SubmissionOf(ctx, &student, a.ID); err != nil || sub.Text != "Friction grows with the normal force." || len(sub.Files) != 2 {
		t.Fatalf("after the refusals: %+v %v", sub, err)
	}

	// Downloads: the student and the teacher get the bytes as an attachment; anyone else a 404.
	for _, who := range []string{"student", "teacher"} {
		r := inst.Get(t, clients[who], links[1][1])
		if r.StatusCode != http.StatusOK || r.Body != pdf || r.Header.Get("Content-Type") != "application/octet-stream" ||
			r.Header.Get("Content-Disposition") != "attachment; filename*=UTF-8''report.pdf" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("%s's download: %d %v (%d bytes)", who, r.StatusCode, r.Header, len(r.Body))
		}
	}
	for _, who := range []string{"other", "outsider"} {
		if r := inst.Get(t, clients[who], links[1][1]); r.StatusCode != http.StatusNotFound || strings.Contains(r.Body, "%PDF") {
			t.Fatalf("%s downloaded another student's file: %d", who, r.StatusCode)
		}
	}
	if r := inst.Get(t, clients["teacher"], "/submission-files/999999"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("a missing file: %d", r.StatusCode)
	}

	// Another student cannot remove the file with its id; its student can.
	fileID := strings.TrimPrefix(links[0][1], "/submission-files/")
	if r := submit(t, inst, clients["other"], path, url.Values{"text": {"mine"}, "remove": {fileID}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("other's submission: %d %s", r.StatusCode, r.Body)
	}
	if r := submit(t, inst, sc, path, url.Values{"text": {"Friction grows with the normal force."}, "remove": {fileID}},
		[2]string{"report.pdf", pdf + "v2"}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("removing a file: %d %s", r.StatusCode, r.Body)
	}
	sub, err := inst.App.Courses.SubmissionOf(ctx, &student, a.ID)
	if err != nil || len(sub.Files) != 1 || sub.Files[0].Name != "report.pdf" || sub.Files[0].Size != int64(len(pdf)+2) {
		t.Fatalf("after removing data.csv and replacing report.pdf: %+v %v", sub.Files, err)
	}

	// The teacher sees the files, grades with feedback; the student sees both with the submission.
	list := inst.Get(t, tc, fmt.Sprintf("/activities/%d", a.ID))
	if !strings.Contains(list.Body, `<ul class="submission-files"><li><a href="/submission-files/`) || !strings.Contains(list.Body, ">report.pdf</a>") {
		t.Fatalf("the teacher's submissions table lacks the file:\n%s", list.Body)
	}
	if r := inst.PostForm(t, tc, fmt.Sprintf("/activities/%d/grades/%d", a.ID, student.ID), url.Values{"grade": {"8"},
		"feedback": {"Good data; the conclusion needs the coefficient."}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("grade: %d %s", r.StatusCode, r.Body)
	}
	page = inst.Get(t, sc, fmt.Sprintf("/activities/%d", a.ID))
	m := regexp.MustCompile(`(?s)<div class="feedback" id="submission-feedback">(.*?)</div>`).FindStringSubmatch(page.Body)
	if m == nil || !strings.Contains(m[1], "8 / 10") || !strings.Contains(m[1], "Good data; the conclusion needs the coefficient.") ||
		strings.Contains(page.Body, `id="my-grade"`) {
		t.Fatalf("the student's page lacks the feedback with the submission:\n%s", page.Body)
	}
}
